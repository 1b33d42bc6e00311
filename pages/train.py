"""Train: pick a model and hyperparameters in the sidebar, press Train, watch the curves arrive.
Pause the run to step it one batch or one epoch at a time and watch the curves and the weights move."""

import pandas as pd
import streamlit as st

from mnist_core import RunStatus
from mnist_core.config import (
    OVERFITTING_CURES,
    OVERFITTING_CURES_MEASURED,
    OVERFITTING_LOOK_FOR,
    OVERFITTING_RUN_NAME,
    cure_config,
    is_augmented,
)
from mnist_core.pausing import MOST_BATCH_STEPS_ASKED
from mnist_core.pictures import weight_change, weight_picture
from mnist_core.precision import machine_precision
from mnist_core.results import overshooting_advice
from ui.charts import before_and_after, by_iteration_switch, iteration_curves, learning_curves, show_chart
from ui.class_board import post_panel
from ui.code_behind import code_behind_panel
from ui.dataset import dataset_or_stop
from ui.failures import guarded_fragment
from ui.i18n import N_, _, number, run_name, say
from ui.jobs import (
    POLL_SECONDS,
    current_activity,
    current_job,
    duration_words,
    is_training,
    show_progress,
    start_job,
    status_text,
    time_estimate,
)
from ui.layout import wrapping_columns
from ui.navigation import require_navigation
from ui.plain import plain
from ui.settings import (
    apply_settings,
    arithmetic_sentence,
    current_config,
    describe,
    model_name,
    setting_text,
    settings,
    settings_sidebar,
)
from ui.workspace import workspace_runs

RUN_NAME_LENGTH = 60


BEST_EPOCH_HELP = N_("The best epoch is the one with the lowest validation loss: the one early stopping keeps. It is "
                   "not always the one with the highest validation accuracy, because the loss also counts how sure "
                   "the model was of its right and wrong answers.")


def pause_and_show_iterations(job) -> None:
    """The Pause button's action: pause the run, and show the curves per iteration, where a step shows."""
    job.pause()
    st.session_state["curve_view"] = "iterations"


def pause_or_resume_button(job, where) -> bool:
    """Pause beside Stop while the run trains, Resume in its place while it is paused. Returns whether it is paused."""
    paused = job.snapshot().paused
    if paused:
        where.button(_("Resume"), icon=":material/play_arrow:", on_click=job.resume,
                     help=_("Train on freely. The run first queues for a free training slot, like any run."))
    else:
        where.button(_("Pause"), icon=":material/pause:", on_click=pause_and_show_iterations, args=(job,),
                     help=_("Pause between two steps, then step it one batch or one epoch at a time, or resume."))
    return paused


def step_one_batch(job) -> None:
    if not job.step_batch():
        st.toast(_("{count} steps are already waiting to be taken: each click is one more once they are done.",
                   count=MOST_BATCH_STEPS_ASKED), icon=":material/hourglass_top:")


def step_buttons(job, where) -> None:
    """While paused: a step of one batch, or of the rest of the epoch, side by side in `where`."""
    row = where.container(horizontal=True)
    row.button(_("Step one batch"), icon=":material/skip_next:", on_click=lambda: step_one_batch(job),
               help=_("One iteration: one batch, one gradient step. Then it pauses again."))
    row.button(_("Step one epoch"), icon=":material/fast_forward:", on_click=job.step_epoch,
               help=_("Train to the end of this epoch, measure it on the validation set and save it. Then it pauses again."))


def last_step_change(snapshot, iterations_done: int):
    """What the weights moved by in the last step this page saw the run take while paused (the weights
    now minus those at the page's previous look), or None before a step. Kept in the session, as each
    student sees their own steps."""
    before = st.session_state.get("paused_weights_before")  # (iterations done, weights)
    if before is None or before[0] != iterations_done:
        if before is not None and before[0] < iterations_done:
            st.session_state.last_step_change = weight_change(snapshot.paused_weights, before[1])
        else:
            st.session_state.pop("last_step_change", None)  # another run, or the first look at this pause
        st.session_state.paused_weights_before = (iterations_done, snapshot.paused_weights)
    return st.session_state.get("last_step_change")


def paused_panel(job, snapshot, where) -> None:
    """Beside the curves while paused: the first layer's weights as the run has left them and what the
    last step changed in them (a step moves each weight by a hair: drawn on its own scale, the
    change shows what the batch taught), and the rule for paused runs in words."""
    where.image(weight_picture(job.config, snapshot.paused_weights), width="stretch")
    where.caption(_("The first layer's weights now (orange positive, blue negative)."))
    change = last_step_change(snapshot, (snapshot.epoch - 1) * snapshot.steps_per_epoch + snapshot.step)
    if change is not None:
        where.image(weight_picture(job.config, change), width="stretch")
        where.caption(_("What the last step changed in them: each weight moved a tiny amount, drawn here on its own "
                        "scale (orange up, blue down)."))
    else:
        where.caption(_("Step one batch to see what a single step changes in them."))
    if snapshot.pause_seconds_left is not None:  # it rests
        where.caption(_("Paused: this run has given its training slot to others, so it holds up no one; a step or Resume "
                        "queues for a slot again. Left paused, it stops by itself in {duration}, keeping its finished "
                        "epochs.", duration=duration_words(snapshot.pause_seconds_left)))
    else:
        where.caption(_("Taking the step; the run pauses again after it."))


def cure_buttons(job, snapshot) -> None:
    """The comparison a teacher makes anyway, in one click: this run again with one change against
    overfitting, then the two runs' accuracy before and after on one chart (no trip to Compare)."""
    cures = {cure: config for cure in OVERFITTING_CURES if (config := cure_config(job.config, cure)) is not None}
    if not cures:
        return
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption(_("Train it again with one change:"))
    before_name = run_name(job.name) if job.name else _("the run")
    for cure, config in cures.items():
        label = _(OVERFITTING_CURES[cure][0])
        if row.button(label, key=f"cure_{cure}", icon=":material/healing:", disabled=not snapshot.finished):
            name = _("{name}, again with {change}", name=before_name, change=label)[:RUN_NAME_LENGTH]
            started = start_job(config, name=name)  # None, with a message, if refused
            if started is not None:
                st.session_state["before_and_after"] = {"after": started.run_id, "before": snapshot.history,
                                                        "before_name": before_name, "change": label}
                st.rerun()
    if job.name == OVERFITTING_RUN_NAME or "before_and_after" in st.session_state:
        st.caption(_(OVERFITTING_CURES_MEASURED[job.config.dataset]))


def before_and_after_chart(job, snapshot) -> None:
    """After a cure's one click: the run it started, drawn over the run it changed."""
    pair = st.session_state.get("before_and_after")
    if pair is None or pair["after"] != job.run_id:
        return
    show_chart(before_and_after(pair["before"], snapshot.history, pair["before_name"],
                                _("with {change}", change=pair["change"])), key="before_and_after_chart")


def show_job(job, rendered_while_running: bool, rendered_paused: bool) -> None:
    """What this session's current run is, its progress, its learning curves, then its numbers:
    the charts come first, so a projector at 1280x720 shows them without scrolling. While the run
    is paused, its step buttons, and its weights beside the curves."""
    snapshot = job.snapshot()
    # After a refresh the sidebar may show other settings: say what is (or was) training.
    about_column, view_column = st.columns([3, 1], vertical_alignment="center")
    settings_line = describe(job.config, job.precision)
    # The arithmetic in two words, what it means in the help: at 1280x720 a sentence more pushed the charts down.
    about_column.caption(plain(_("Run {name}: {settings}.", name=run_name(job.name), settings=settings_line) if job.name
                               else _("Run without a name: {settings}.", settings=settings_line)),
                         help=arithmetic_sentence(job.precision, job.kernels))
    by_iteration = by_iteration_switch(view_column, key="curve_view")
    # Paused (and come to rest), the step buttons share the progress bar's line and the weights the
    # curves' row: at 1280x720 everything a step moves stays in sight.
    paused_view = snapshot.paused_weights is not None
    if paused_view:
        progress_column, steps_column = wrapping_columns([3, 2], key="paused_progress", least_width_rem=18,
                                                         vertical_alignment="bottom")
        show_progress(job, snapshot, progress_column)
        step_buttons(job, steps_column)
    else:
        show_progress(job, snapshot)
    message = plain(say(snapshot.message))
    if snapshot.status == RunStatus.COMPLETED:
        st.success(message)
    elif snapshot.status in (RunStatus.STOPPED, RunStatus.EARLY_STOPPED):
        st.info(message)
    elif snapshot.status == RunStatus.DIVERGED:
        st.error(_("**The run diverged.** {message}", message=message))
    elif snapshot.status == RunStatus.FAILED:
        st.error(message)

    advice = overshooting_advice(job.config, snapshot.history) if snapshot.history and snapshot.status != RunStatus.DIVERGED else None
    if advice:
        st.warning(_("**The learning rate is too high.** {advice}", advice=plain(say(advice))))
    if by_iteration and snapshot.iterations:  # from the first chunk of the first epoch on
        # Paused, the charts share their row with the weights, and zoom in on the steps taken so far.
        loss_figure, accuracy_figure = iteration_curves(snapshot.iterations, snapshot.history, snapshot.steps_per_epoch,
                                                        job.config.epochs, epoch_labels=3 if paused_view else 5,
                                                        zoomed=paused_view)
    elif not by_iteration and snapshot.history:
        loss_figure, accuracy_figure = learning_curves(snapshot.history, snapshot.best_epoch)
    else:
        loss_figure = accuracy_figure = None
    if paused_view:
        loss_column, accuracy_column, paused_column = wrapping_columns(3, key="paused_view", least_width_rem=15)
        paused_panel(job, snapshot, paused_column)
    elif loss_figure is not None:
        loss_column, accuracy_column = wrapping_columns(2, key="learning_curves", least_width_rem=22)
    if loss_figure is not None:
        show_chart(loss_figure, key="loss_chart", where=loss_column)
        show_chart(accuracy_figure, key="accuracy_chart", where=accuracy_column)
    elif snapshot.status == RunStatus.RUNNING:
        (loss_column if paused_view else st).caption(_("The charts appear when the first epoch ends.") if not by_iteration
                   else _("The curves appear with the first iterations."))
    if snapshot.history:
        last = snapshot.history[-1]
        best = snapshot.best_result
        columns = wrapping_columns(4, key="run_metrics", least_width_rem=10)
        columns[0].metric(_("Training accuracy, epoch {epoch}", epoch=last.epoch), number(last.train_acc, ".2%"))
        columns[1].metric(_("Validation accuracy, epoch {epoch}", epoch=last.epoch), number(last.val_acc, ".2%"))
        # In accuracy points, beside the two accuracies it is the difference of: "+0.049", a loss
        # difference between two percentages, read as 0.049%.
        columns[2].metric(_("Generalization gap"), _("{points:.1f} points", points=(last.train_acc - last.val_acc) * 100),
                          help=_("Training accuracy minus validation accuracy, in percentage points. It grows as the model "
                                 "memorizes the training set; the loss chart shades the same gap in loss."))
        columns[3].metric(_("Best epoch"), str(best.epoch) if best else "-",
                          delta=_("validation accuracy {accuracy:.2%}", accuracy=best.val_acc) if best else None,
                          delta_color="off", help=_(BEST_EPOCH_HELP))
    # The run's lesson under its charts, not above them: at 1280x720 the notes pushed the charts off screen.
    if job.name == OVERFITTING_RUN_NAME:  # the preset opens here: its lesson comes along
        st.caption(_("**What to look for:** {look_for}", look_for=_(OVERFITTING_LOOK_FOR)))
    if is_augmented(job.config):
        st.caption(_("**Augmented:** its training digits are varied at random, so it learns more slowly but the "
                     "gap between its training and validation curves stays smaller. Augmentation regularises."))
    if snapshot.finished and snapshot.history:  # the Replay page opens on the newest run: this one
        st.page_link(page="pages/replay.py", label=_("Replay this run epoch by epoch: its weights, digits and mistakes"),
                     icon=":material/slow_motion_video:")
        before_and_after_chart(job, snapshot)
        cure_buttons(job, snapshot)

    if rendered_while_running and (snapshot.finished or snapshot.paused != rendered_paused):
        st.rerun()  # refresh the buttons (and the run history): the run has ended, or another tab paused or resumed it


# A workspace may hold thousands of runs: a table of them all, made on every rerun of the page, takes seconds.
MOST_RUNS_LISTED = 200


def run_history(runs, damaged) -> None:
    st.subheader(_("Run history"))
    for message in damaged:
        st.warning(_("A damaged run folder was skipped: {message}", message=plain(say(message))))
    if not runs:
        st.caption(_("No runs yet. Finished and stopped runs are saved here, so a browser refresh loses nothing."))
        return
    for run in runs:
        if run.status == RunStatus.INTERRUPTED:
            st.warning(_("Run {name}: {message}", name=plain(run_name(run.name)), message=plain(say(run.message))))
    rows = []
    for run in runs[:MOST_RUNS_LISTED]:
        best = run.best_result
        rows.append({_("run"): run_name(run.name), _("status"): status_text(run.status), _("epochs"): len(run.history),
                     _("best epoch"): str(best.epoch) if best else "-",  # a waiting run has none: a dash, not "None"
                     _("validation accuracy at the best epoch"): number(best.val_acc, ".2%") if best else _("no epoch finished"),
                     _("dataset"): setting_text("dataset", run.config.dataset),
                     _("model"): model_name(run.config.model), _("optimizer"): setting_text("optimizer", run.config.optimizer),
                     _("learning rate"): f"{run.config.learning_rate:g}", _("batch"): run.config.batch_size,
                     _("training examples"): setting_text("train_subset_size", run.config.train_subset_size),
                     _("label noise"): setting_text("label_noise", run.config.label_noise)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        _("best epoch"): st.column_config.TextColumn(help=_(BEST_EPOCH_HELP)),
        _("validation accuracy at the best epoch"): st.column_config.TextColumn(help=_(BEST_EPOCH_HELP)),
        # Sized by hand: the grid measures a column before the Chinese font has loaded, and would clip 多层感知机.
        _("model"): st.column_config.TextColumn(width="medium"), _("optimizer"): st.column_config.TextColumn(width="medium")})
    st.caption(_("The best epoch is the one with the lowest validation loss; a run still training is listed with the "
                 "epochs it has finished."))
    if len(runs) > MOST_RUNS_LISTED:
        st.caption(_("The newest {shown} of this workspace's {count:,} runs are listed; every one of them can still be "
                     "chosen on the other pages.", shown=MOST_RUNS_LISTED, count=len(runs)))


def train_page() -> None:
    st.title(_("Train a model"))
    st.caption(_("Choose a model and its hyperparameters in the sidebar, then press **Train**. Loss and accuracy on the "
                 "training and validation sets arrive after every epoch."))
    job = current_job()  # None while the workspace runs a race
    if "settings" not in st.session_state and job is not None:
        apply_settings(job.config.to_dict())  # a refresh mid-run: the sidebar shows the run's settings, not the defaults
    settings_sidebar()
    # After the sidebar, so a switch to a dataset not on this server yet shows its provisioning beneath the choice.
    dataset_or_stop(settings()["dataset"])
    try:
        config = current_config()
    except ValueError as error:
        st.error(_("These settings cannot be trained: {error}", error=plain(say(error))))
        st.stop()

    activity, running = current_activity(), is_training()
    # The last column holds the time estimate, or while a run trains its Pause (or Resume) button: one
    # button's width, so that it stays beside Stop at 1280 px.
    name_column, train_column, stop_column, side_column = wrapping_columns(
        [3, 1, 1, 1 if running else 2], key="train_controls", least_width_rem=7, vertical_alignment="bottom")
    run_name = name_column.text_input(_("Run name (optional)"), max_chars=RUN_NAME_LENGTH, key="run_name",
                                      placeholder=_("e.g. adam-small-batch"), help=_("A label for the run history and the "
                                      "charts. Any text will do: the run's folder name is made up by the app."))
    if train_column.button(_("Train"), type="primary", disabled=running, icon=":material/play_arrow:"):
        if start_job(config, name=run_name.strip() or None) is not None:  # None, with a message, if refused
            st.rerun()  # draw the page again as it is now: Train greyed out, Stop live, the progress
    if stop_column.button(_("Stop"), disabled=not running, icon=":material/stop:"):
        activity.stop()
        st.toast(_("Stopping after the current step: finished epochs are kept."))
    paused = False
    if not running:
        with side_column:  # beside the buttons, not a line of its own: the charts need the height
            time_estimate(config)
    elif job is not None:  # a single run pauses; a race does not
        paused = pause_or_resume_button(job, side_column)

    if running and job is None:
        st.info(_("This workspace is running the optimizer race: its curves are on the Compare page. Stop stops it."))
    runs, damaged = workspace_runs()
    if job is None and not running:
        # No single run of this workspace on the server's board (a race came last, or the server
        # restarted): say so only where the history below is empty too.
        if runs:
            st.info(_("Press **Train** to start a new run. This workspace's earlier runs are in the run history below; "
                      "Replay, Compare and Exam open them."))
        else:
            st.info(_("Nothing trained yet in this workspace. The defaults train a linear model to about 92% within a few "
                      "seconds."))
    elif job is not None:
        guarded_fragment(show_job, run_every=POLL_SECONDS if running else None)(job, running, paused)
    if job is not None:  # its saved run once it has ended: its history and model file go into the take-home program
        finished_run = None if running else next((run for run in runs if run.run_id == job.run_id), None)
        code_behind_panel(job.config, finished_run, key="train_code", precision=job.precision)
    elif not running:
        code_behind_panel(config, key="train_code", next_run=True, precision=machine_precision(config.model))
    if not running:
        post_panel(runs)
    run_history(runs, damaged)


require_navigation()
train_page()
