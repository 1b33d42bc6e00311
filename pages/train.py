"""Train: pick a model and hyperparameters in the sidebar, press Train, watch the curves arrive."""

import pandas as pd
import streamlit as st

from mnist_core import RunStatus
from mnist_core.config import gentler_learning_rate
from mnist_core.results import CHANCE_LOSS
from ui.charts import learning_curves
from ui.dataset import dataset_or_stop
from ui.jobs import POLL_SECONDS, current_activity, current_job, is_training, show_progress, start_job, time_estimate
from ui.navigation import require_navigation
from ui.plain import plain
from ui.settings import current_config, settings_sidebar
from ui.workspace import workspace_runs

RUN_NAME_LENGTH = 60


def show_job(job, rendered_while_running: bool) -> None:
    """Status, progress and learning curves of this session's current run."""
    snapshot = job.snapshot()
    show_progress(job, snapshot)
    message = plain(snapshot.message)
    if snapshot.status == RunStatus.COMPLETED:
        st.success(message)
    elif snapshot.status in (RunStatus.STOPPED, RunStatus.EARLY_STOPPED):
        st.info(message)
    elif snapshot.status == RunStatus.DIVERGED:
        st.error(f"**The run diverged.** {message}")
    elif snapshot.status == RunStatus.FAILED:
        st.error(message)

    if snapshot.history:
        last = snapshot.history[-1]
        if last.loss_exploded and snapshot.status != RunStatus.DIVERGED:
            st.warning(f"**The loss exploded** to {last.train_loss:.3g} (guessing at random scores {CHANCE_LOSS:.2f}). "
                       f"The learning rate {job.config.learning_rate:g} is too high for {job.config.optimizer}: the steps "
                       f"overshoot. Try {gentler_learning_rate(job.config):g}.")
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
    elif snapshot.status == RunStatus.RUNNING:
        st.caption("The charts appear when the first epoch ends.")

    if rendered_while_running and snapshot.finished:
        st.rerun()  # refresh the buttons and the run history now that the run has ended


def run_history() -> None:
    st.subheader("Run history")
    runs, damaged = workspace_runs()
    for message in damaged:
        st.warning(f"A damaged run folder was skipped: {plain(message)}")
    if not runs:
        st.caption("No runs yet. Finished and stopped runs are saved here, so a browser refresh loses nothing.")
        return
    for run in runs:
        if run.status == RunStatus.INTERRUPTED:
            st.warning(f"Run {plain(run.name)}: {plain(run.message)}")
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
        st.error(f"These settings cannot be trained: {plain(error)}")
        st.stop()

    activity, running = current_activity(), is_training()
    job = current_job()  # None while the workspace runs a race
    name_column, train_column, stop_column = st.columns([3, 1, 1], vertical_alignment="bottom")
    run_name = name_column.text_input("Run name (optional)", max_chars=RUN_NAME_LENGTH, key="run_name",
                                      placeholder="e.g. adam-small-batch", help="A label for the run history and the "
                                      "charts. Any text will do: the run's folder name is made up by the app.")
    if train_column.button("Train", type="primary", disabled=running, icon=":material/play_arrow:"):
        if start_job(config, name=run_name.strip() or None) is not None:  # None, with a message, if refused
            st.rerun()  # draw the page again as it is now: Train greyed out, Stop live, the progress
    if stop_column.button("Stop", disabled=not running, icon=":material/stop:"):
        activity.stop()
        st.toast("Stopping after the current step: finished epochs are kept.")
    if not running:
        time_estimate(config)

    if running and job is None:
        st.info("This workspace is running the optimizer race: its curves are on the Compare page. Stop stops it.")
    elif job is None:
        st.info("Nothing trained yet in this session. The defaults train a linear model to about 92% in a few seconds.")
    else:
        st.fragment(show_job, run_every=POLL_SECONDS if running else None)(job, running)
    run_history()


require_navigation()
train_page()
