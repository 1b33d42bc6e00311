"""Train: pick a model and hyperparameters in the sidebar, press Train, watch the curves arrive."""

import pandas as pd
import streamlit as st

from mnist_core.jobs import FAILED
from mnist_core.runs import list_runs
from mnist_core.training import COMPLETED, DIVERGED, EARLY_STOPPED, RUNNING, STOPPED
from pages.charts import learning_curves
from pages.common import (POLL_SECONDS, current_config, current_job, dataset_or_stop, require_navigation, settings_sidebar,
                          show_progress, start_job)


def show_job(job, rendered_while_running: bool) -> None:
    """Status, progress and learning curves of this session's current run."""
    snapshot = job.snapshot()
    show_progress(job, snapshot)
    if snapshot.status == COMPLETED:
        st.success(snapshot.message)
    elif snapshot.status in (STOPPED, EARLY_STOPPED):
        st.info(snapshot.message)
    elif snapshot.status == DIVERGED:
        st.error(f"**The run diverged.** {snapshot.message}")
    elif snapshot.status == FAILED:
        st.error(snapshot.message)

    if snapshot.history:
        last = snapshot.history[-1]
        columns = st.columns(4)
        columns[0].metric("Training accuracy", f"{last.train_acc:.2%}")
        columns[1].metric("Validation accuracy", f"{last.val_acc:.2%}")
        columns[2].metric("Generalisation gap", f"{last.generalisation_gap:+.3f}",
                          help="Validation loss minus training loss. It grows as the model memorises the training set.")
        columns[3].metric("Best validation epoch", str(snapshot.best_epoch or "-"))
        loss_figure, accuracy_figure = learning_curves(snapshot.history, snapshot.best_epoch)
        left, right = st.columns(2)
        left.plotly_chart(loss_figure, key="loss_chart")
        right.plotly_chart(accuracy_figure, key="accuracy_chart")
    elif snapshot.status == RUNNING:
        st.caption("The charts appear when the first epoch ends.")

    if rendered_while_running and snapshot.finished:
        st.rerun()  # refresh the buttons and the run history now that the run has ended


def run_history() -> None:
    st.subheader("Run history")
    runs, damaged = list_runs()
    for message in damaged:
        st.warning(f"A damaged run folder was skipped: {message}")
    if not runs:
        st.caption("No runs yet. Finished and stopped runs are saved here, so a browser refresh loses nothing.")
        return
    rows = []
    for run in runs:
        best = run.best_result
        rows.append({"run": run.name, "model": run.config.model, "status": run.status, "epochs": len(run.history),
                     "best val acc": best.val_acc if best else None, "optimizer": run.config.optimizer,
                     "learning rate": run.config.learning_rate, "batch": run.config.batch_size,
                     "training examples": f"{run.config.train_subset_size:,}" if run.config.train_subset_size else "all",
                     "label noise": run.config.label_noise})
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "best val acc": st.column_config.NumberColumn(format="percent")})


def train_page() -> None:
    st.title("Train a model")
    st.write("Choose a model and its hyperparameters in the sidebar, then press **Train**. Loss and accuracy on the "
             "training and validation sets arrive after every epoch.")
    dataset_or_stop()
    settings_sidebar()
    try:
        config = current_config()
    except ValueError as error:
        st.error(f"These settings cannot be trained: {error}")
        st.stop()

    job = current_job()
    running = job is not None and not job.snapshot().finished
    train_column, stop_column, _ = st.columns([1, 1, 3])
    if train_column.button("Train", type="primary", disabled=running, icon=":material/play_arrow:"):
        if running:  # a second click that arrived before the button greyed out
            st.toast("A run is already training: stop it first.")
        else:
            job = start_job(config)
            running = True
    if stop_column.button("Stop", disabled=not running, icon=":material/stop:"):
        job.stop()
        st.toast("Stopping after the current step: finished epochs are kept.")

    if job is None:
        st.info("Nothing trained yet in this session. The defaults train a linear model to about 92% in a few seconds.")
    else:
        st.fragment(show_job, run_every=POLL_SECONDS if running else None)(job, running)
    run_history()


require_navigation()
train_page()
