"""This session's training: starting it in its workspace, finding it again, showing its progress.

A workspace runs one activity at a time (a run, or an optimizer race): see mnist_core.jobs. Every
start goes through `start_activity`, which shows why a start was refused instead of starting a
hidden second job.
"""

from typing import Callable, Sequence

import streamlit as st

from mnist_core import RunStatus, TrainConfig
from mnist_core.executor_api import TrainingUnavailableError
from mnist_core.fair_share import SHORTER_RUN_ADVICE, run_time_limit_seconds, server_pace
from mnist_core.jobs import Activity, TrainingJob, WorkspaceBusyError, job_board
from mnist_core.runs import SHARED_WORKSPACE, RunSaveError
from ui.dataset import dataset_or_stop
from ui.i18n import N_, _, say
from ui.workspace import workspace

# Where a run stands, in words (the run history's status column, the race's lines on Compare).
STATUS_LABELS = {RunStatus.WAITING: N_("waiting"), RunStatus.RUNNING: N_("running"), RunStatus.COMPLETED: N_("completed"),
                 RunStatus.EARLY_STOPPED: N_("early stopped"), RunStatus.STOPPED: N_("stopped"),
                 RunStatus.DIVERGED: N_("diverged"), RunStatus.FAILED: N_("failed"), RunStatus.INTERRUPTED: N_("interrupted")}
POLL_SECONDS = 2.0  # how often a page looks at running jobs: often enough to feel live, rare enough to cost little


def status_text(status: RunStatus) -> str:
    return _(STATUS_LABELS[status])


def current_activity() -> Activity | None:
    """What the workspace runs (or ran last): still there after a refresh, which starts a new session."""
    return job_board.current(workspace())


def current_job() -> TrainingJob | None:
    """The workspace's latest single run (not a race's runs)."""
    activity = current_activity()
    return activity.jobs[0] if activity is not None and activity.kind == "run" else None


def is_training() -> bool:
    activity = current_activity()
    return activity is not None and not activity.finished


def waiting_place(snapshot) -> str:
    """Where a waiting run stands, in a few words: behind its race's previous run, in the queue, or starting."""
    if snapshot.waiting_for:
        return _("waiting for its turn in the race")
    if snapshot.queue_position:
        return _("waiting for a free training slot: number {position} in the queue", position=snapshot.queue_position)
    return _("starting")  # it has just left the queue


def show_progress(job: TrainingJob, snapshot, where=st) -> None:
    """A waiting job's place in the queue, or a running job's progress over all its iterations (and its
    place in the queue again, after a pause), in `where` (a column, say)."""
    if snapshot.status == RunStatus.WAITING:
        # Only a place in the queue means other runs hold the slots; a run that has just left the
        # queue, or waits for its own race's previous run, holds up on no one else.
        if snapshot.waiting_for:
            where.info(_("Waiting for its turn in the race: the race trains its runs one after another."))
        elif snapshot.queue_position:
            where.info(_("Waiting for a free training slot: number {position} in the queue. Other runs on this computer "
                         "are training; this one starts as soon as its turn comes.", position=snapshot.queue_position))
        else:
            where.info(_("Starting..."))
    elif snapshot.status == RunStatus.RUNNING:
        epochs = job.config.epochs
        done = (snapshot.epoch - 1) * snapshot.steps_per_epoch + snapshot.step
        where.progress(min(done / max(epochs * snapshot.steps_per_epoch, 1), 1.0),
                       text=_("Epoch {epoch} of {epochs}: iteration {step:,} of {steps:,}", epoch=snapshot.epoch,
                              epochs=epochs, step=snapshot.step, steps=snapshot.steps_per_epoch))
        if snapshot.queue_position:  # it gave its slot away while paused, and queues for one to go on
            where.caption(_("Waiting for a free training slot to go on: number {position} in the queue.",
                            position=snapshot.queue_position))


def start_activity(kind: str, make_jobs: Callable[[], Sequence[TrainingJob]]) -> Activity | None:
    """Start the workspace's next activity, or say in the page why not and return None."""
    if workspace() == SHARED_WORKSPACE:
        st.warning(_("The shared workspace holds the runs trained from the command line; it is read-only in the browser. "
                     "Open the app without ?workspace=shared in the address to train in a workspace of your own."))
        return None
    try:
        return job_board.start(workspace(), kind, make_jobs)
    except WorkspaceBusyError as error:
        st.warning(say(error))
    except TrainingUnavailableError as error:  # the cluster this server trains on is down: no hang, no traceback
        st.error(say(error))
    except RunSaveError as error:
        st.error(_("Nothing was trained: the run cannot be saved. {error}", error=say(error)))
    except ValueError as error:  # a model too big for a shared server
        st.error(say(error))
    return None


def new_job(config: TrainConfig, name: str | None = None, after: TrainingJob | None = None) -> TrainingJob:
    """A run of `config` in this session's workspace, saved from now on; started by `start_activity`."""
    return TrainingJob(config, dataset_or_stop(config.dataset), name=name, workspace=workspace(), after=after)


def start_job(config: TrainConfig, name: str | None = None) -> TrainingJob | None:
    """Start training `config` in the background as the workspace's activity (None if refused, with a message)."""
    dataset_or_stop(config.dataset)  # before the board's lock: it may stop the page
    activity = start_activity("run", lambda: [new_job(config, name)])
    return activity.jobs[0] if activity is not None else None


def start_race(named_configs: dict[str, TrainConfig]) -> Activity | None:
    """Train each config, one after another (a workspace queues one run at a time), as the workspace's race."""
    for dataset in {config.dataset for config in named_configs.values()}:
        dataset_or_stop(dataset)  # before the board's lock: it may stop the page

    def make_jobs():
        jobs = []
        try:
            for name, config in named_configs.items():
                jobs.append(new_job(config, name, after=jobs[-1] if jobs else None))
        except Exception:
            for job in jobs:  # no half-made race: the runs reserved so far would wait for ever
                job.discard()
            raise
        return jobs

    return start_activity("race", make_jobs)


def duration_words(seconds: float) -> str:
    if seconds < 1.5:
        return _("about a second")
    if seconds < 90:
        return _("about {seconds:.0f} seconds", seconds=seconds)
    if seconds < 2 * 3600:
        return _("about {minutes:.0f} minutes", minutes=seconds / 60)
    return _("about {hours:.0f} hours", hours=seconds / 3600)


def time_estimate(config: TrainConfig) -> None:
    """Before training: how long it will take, and a warning if the server's time limit would cut it."""
    (train_images, _labels), _test = dataset_or_stop(config.dataset)
    seconds, slowest, recent_runs = server_pace.estimate(config, len(train_images))
    limit = run_time_limit_seconds()
    if limit is not None and seconds > limit:
        st.warning(_("This run would train for {duration}, but a run may train for at most {minutes:g} minutes on this shared "
                     "server: it would be stopped then, keeping its finished epochs. {advice}", duration=duration_words(seconds),
                     minutes=limit / 60, advice=say(SHORTER_RUN_ADVICE)))
    else:
        duration, longest = duration_words(seconds), duration_words(slowest)
        # A range only where the paces differ: "about 5 seconds, up to about 5 seconds" says nothing.
        text = (_("Estimated training time: {duration}, up to {longest}.", duration=duration, longest=longest)
                if longest != duration else _("Estimated training time: {duration}.", duration=duration))
        st.caption(text, help=_("From how fast this server trained its last {runs} runs: the more students train at once, "
                                "the longer each run takes. The longer time is its slowest pace lately.", runs=recent_runs)
                   if recent_runs else _("No run has finished on this server yet, so this is a quiet computer's time; a "
                                         "busy classroom server can take twice as long."))
