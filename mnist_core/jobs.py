"""Training in the background, so a page can rerun, switch or close while a run goes on.

A Streamlit page reruns its script on every click. A training loop inside the script would be cut
off by the rerun, so each run trains in a `TrainingJob`: a thread that iterates `train()` and keeps
what it learns (epochs, progress, status) where the page can read it on every rerun.

A laptop has few cores. Two trainings at once each get half the machine and both take twice as
long, plus the cost of fighting over caches; forty would crawl. So jobs wait for one of a fixed
number of *training slots* (`MNIST_LAB_TRAINING_SLOTS`, by default one per two cores) and show
their place in the queue while they wait.

One workspace runs one thing at a time (`JobBoard.start`): one run, or the runs of an optimizer
race, which queue one after another. So a workspace has at most one run in the queue, a second
start gets a message instead of a hidden job, and Stop reaches everything the workspace runs. A new
browser tab is a new workspace, so the board also bounds the workspaces waiting at once, all
together (`MNIST_LAB_MAX_QUEUED_RUNS`): past it, a start is refused before its run is saved.
Each run is saved from the moment it is asked for (runs/writer.py), and limited in size and time as
fair_share.py says.

Where a run trains is its executor's business (executors.py): a thread of this server by default, or a
Dask cluster's worker. The job, the board and the queue in front of them are the same for both.

A run can be paused and stepped (pausing.PauseControl). A paused run gives its training slot to
the queue, so it never holds up anyone else's run; a step or Resume queues for a slot again, first
come, first served, like any run. Left paused too long, it stops by itself (fair_share.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path
from typing import Callable, Sequence

from .config import TrainConfig
from .executor_api import RunRequest, TrainingExecutor, TrainingUnavailableError
from .executors import local_executor, training_executor
from .fair_share import check_model_size, max_queued_runs, pause_limit_seconds, run_time_limit_seconds, server_pace
from .i18n import Message, carried_message
from .kernels import choose_kernel_library
from .precision import machine_precision
from .queueing import FirstComeFirstServed
from .results import EpochResult, IterationPoint, RunStatus, best_result
from .runs import SHARED_WORKSPACE, start_run

logger = logging.getLogger(__name__)


# A first-come, first-served queue in front of a fixed number of concurrent trainings: a job waits with
# `acquire(job, cancelled)` (False, without a slot, if stopped first), the page reads its
# `position(job)`, and `release()` lets the next one train. The same queue as heavy page work's turns.
TrainingSlots = FirstComeFirstServed

# The local executor's queue: one for the whole server process, since every browser tab shares the same
# cores. A Dask executor has its own, as long as the cluster's training slots (executors.py).
training_slots = local_executor.slots


class WorkspaceBusyError(RuntimeError):
    """The workspace is already training something; the message says what to do."""


class QueueFullError(ValueError):
    """As many runs as the server lets wait are waiting for a training slot; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Activity:
    """What one workspace is running: `kind` names it for the pages ("run", "race"), `jobs` its runs."""

    kind: str
    jobs: tuple["TrainingJob", ...]

    @property
    def finished(self) -> bool:
        return all(job.snapshot().finished for job in self.jobs)

    def stop(self) -> None:
        for job in self.jobs:
            job.stop()


class JobBoard:
    """The current activity of each workspace, so a browser tab that was refreshed (a new session
    with the same workspace) finds its runs again: their progress, their Stop button, their charts.

    One entry per workspace, replaced by the next activity once this one has finished, and a
    finished job holds no training data: forty students cost forty small models.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._current: dict[str, Activity] = {}

    def start(self, workspace: str, kind: str, make_jobs: Callable[[], Sequence["TrainingJob"]]) -> Activity:
        """Make the jobs with `make_jobs()` and start them as the workspace's activity, unless it is
        still running one (WorkspaceBusyError) or the server's queue is full (QueueFullError): both
        refused before a run is saved. Checked and posted under one lock, so two quick clicks in two
        tabs cannot both start."""
        with self._lock:
            current = self._current.get(workspace)
            if current is not None and not current.finished:
                raise WorkspaceBusyError(Message(
                    "This workspace is already training (see the Train page, or the race on Compare). "
                    "Stop it or wait for it to finish, then start the next one."))
            limit, waiting = max_queued_runs(), self._waiting_activities()
            if limit is not None and waiting >= limit:
                raise QueueFullError(Message(
                    "{waiting:,} runs are already waiting for a training slot on this shared server, the most it lets wait "
                    "at once ({limit:,}), so this one was not started. Try again in a few minutes, when some of them have "
                    "started.", waiting=waiting, limit=limit))
            activity = Activity(kind, tuple(make_jobs()))
            self._current[workspace] = activity
        for job in activity.jobs:
            job.start()
        return activity

    def current(self, workspace: str) -> Activity | None:
        with self._lock:
            return self._current.get(workspace)

    def _waiting_activities(self) -> int:
        """How many workspaces wait for a training slot: their activity is unfinished and none of its
        runs is training (a race whose next run queues counts once, like a single run). A run paused
        after it started is not waiting: it started, and it stops by itself if left paused too long."""
        return sum(1 for activity in self._current.values()
                   if not activity.finished and not any(job.snapshot().status == RunStatus.RUNNING for job in activity.jobs))


job_board = JobBoard()


@dataclasses.dataclass(frozen=True)
class JobSnapshot:
    """A consistent view of a job at one moment, for a page to render."""

    status: RunStatus
    message: str | Message  # what the page says of the run, in the reader's language
    history: tuple[EpochResult, ...]  # a view of the training's own list, as it stood at that moment
    iterations: tuple[IterationPoint, ...]  # the iteration curve so far (results.IterationLog)
    epoch: int               # the epoch in progress (or last finished)
    step: int                # steps done in that epoch
    steps_per_epoch: int
    queue_position: int      # 0 unless waiting for a slot (to start, or to go on after a pause)
    best_epoch: int | None
    run_id: str
    waiting_for: str | None  # the run this one waits for before it queues (the race's runs go one by one)
    paused: bool             # paused by its student and not finished: it rests, or takes a step it was asked for
    paused_weights: dict | None  # while paused, the weights reached so far (models.get_weights), once it has rested
    pause_seconds_left: float | None  # while it rests paused, how long until it stops by itself

    @property
    def finished(self) -> bool:
        return self.status.finished

    @property
    def best_result(self) -> EpochResult | None:
        return best_result(self.history, self.best_epoch)


class TrainingJob:
    """One training run on a background thread. Start it, poll `snapshot()`, `stop()` it any time;
    `pause()`, step it (`step_batch()`, `step_epoch()`) and `resume()` it while it trains.

    The job adds only what the training cannot know: its wait in the queue, how it failed, and the
    progress inside an epoch. Epochs, best epoch and status are read from the training itself.
    """

    def __init__(self, config: TrainConfig, dataset, runs_root: Path | None = None, name: str | None = None,
                 slots: TrainingSlots | None = None, workspace: str = SHARED_WORKSPACE, after: "TrainingJob | None" = None,
                 executor: TrainingExecutor | None = None):
        """Reserve the run on disk now (RunSaveError if the runs folder cannot be written; ValueError
        for a model too big to share the server; executors.TrainingUnavailableError if the cluster the
        server trains on cannot be reached). `after`: a job this one waits for before it queues.
        `executor`: where it trains (executors.py); by default, where this server is set up to."""
        config.validate()
        check_model_size(config)
        self._executor = executor or training_executor()
        self.config = config
        # The arithmetic and kernels it will train with, for its page to say: this machine's guess until the worker that
        # trains it says (a Dask worker may be another kind of computer).
        self.precision = machine_precision(config.model)
        self.kernels = choose_kernel_library()
        self.name = name
        self._dataset = dataset
        self._recorder = start_run(config, runs_root, name, workspace, within_disk_quotas=True)
        self._after = after
        self._slots = slots or self._executor.slots
        self._stop = threading.Event()
        self._holds_slot = False  # read and written by the job's own thread only
        self._pause_control = self._executor.pause_control(pause_limit_seconds(), give_way=self._give_up_slot,
                                                           take_turn=self._queue_for_slot)
        self._lock = threading.Lock()
        self._training = None    # the Training, once it has a slot and has started
        self._progress = (0, 0, 0)
        self._status, self._message = RunStatus.WAITING, ""  # until the training starts, or if it never could
        self._thread = threading.Thread(target=self._work, name=f"training-{config.model}", daemon=True)

    @property
    def run_id(self) -> str:
        return self._recorder.run_id

    @property
    def model(self):
        """The trained model (weights of the last finished epoch), once training started."""
        return self._training.model if self._training is not None else None

    def discard(self) -> None:
        """Remove the run reserved for this job, which will never start (its race could not be set up)."""
        self._recorder.discard()

    def start(self) -> "TrainingJob":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to stop between steps, paused or not; finished epochs and their weights are kept."""
        self._stop.set()

    def pause(self) -> None:
        """Pause between two steps: the run gives up its training slot and rests, its weights on show."""
        self._pause_control.pause()

    def resume(self) -> None:
        """Train on: the run queues for a training slot, then trains freely."""
        self._pause_control.resume()

    def step_batch(self) -> bool:
        """While paused: queue for a slot, train one batch, rest again. False, and nothing asked, while
        pausing.MOST_BATCH_STEPS_ASKED steps are still to take."""
        return self._pause_control.step_batch()

    def step_epoch(self) -> None:
        """While paused: queue for a slot, train to the end of the current epoch, save it, rest again."""
        self._pause_control.step_epoch()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True if it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            epoch, step, steps_per_epoch = self._progress
            training = self._training
            if training is None or self._status == RunStatus.FAILED:
                status, message, history, iterations, best_epoch = self._status, self._message, (), (), None
            else:
                # The training thread appends to its history and then sets best_epoch and status;
                # reading them in the other order could pair a new status with an older history.
                status, message, best_epoch = training.status, training.message, training.best_epoch
                history = tuple(training.history)
                iterations = tuple(training.iterations.points_so_far)
            paused = not status.finished and self._pause_control.paused  # a run paused in the queue rests once it starts
            return JobSnapshot(status=status, message=message, history=history, iterations=iterations,
                               epoch=epoch, step=step, steps_per_epoch=steps_per_epoch,
                               queue_position=self._slots.position(self), best_epoch=best_epoch, run_id=self.run_id,
                               waiting_for=self._after.name if self._after is not None else None, paused=paused,
                               paused_weights=training.paused_weights if paused and training is not None else None,
                               pause_seconds_left=self._pause_control.seconds_left() if paused else None)

    def _set(self, **fields) -> None:
        with self._lock:
            for name, value in fields.items():
                setattr(self, name, value)

    def _on_progress(self, epoch: int, step: int, steps_per_epoch: int) -> None:
        self._set(_progress=(epoch, step, steps_per_epoch))

    def _wait_for_turn(self) -> bool:
        """Wait for the job before this one, then for a training slot. False if stopped meanwhile."""
        while self._after is not None and not self._after.join(timeout=0.2):
            if self._stop.is_set():
                return False
        self._after = None  # it has finished: let go of it and its model (and stop saying it waits for it)
        return self._queue_for_slot()

    def _queue_for_slot(self) -> bool:
        """Wait for a training slot, first come, first served. False, without one, if stopped meanwhile."""
        self._holds_slot = self._slots.acquire(self, self._stop.is_set)
        return self._holds_slot

    def _give_up_slot(self) -> None:
        """Let the next run in the queue train: this one has paused, or ended."""
        if self._holds_slot:
            self._holds_slot = False
            self._slots.release()

    def _started(self, training) -> None:
        """The executor has started the run: from now on the snapshot reads `training` (a Training, or the
        worker's run as last reported)."""
        self.precision, self.kernels = training.precision, training.kernels
        self._set(_training=training, _progress=(1, 0, training.steps_per_epoch))

    def _work(self) -> None:
        if not self._wait_for_turn():
            message = Message("Stopped before it started: no epoch was trained.")
            self._set(_status=RunStatus.STOPPED, _message=message)
            try:
                self._recorder.finish(RunStatus.STOPPED, message, None)
            except OSError:
                logger.exception("could not record that run %s was stopped", self.run_id)
            return
        try:
            request = RunRequest(self.config, self._dataset, self._recorder, stop_requested=self._stop.is_set,
                                 on_progress=self._on_progress, time_limit_seconds=run_time_limit_seconds(),
                                 controls=self._pause_control)
            training = self._executor.train(request, started=self._started)
            if not self._pause_control.ever_paused and training.history:  # a pause is no measure of speed
                server_pace.record(self.config, len(self._dataset[0][0]), len(training.history),
                                   sum(result.seconds for result in training.history))
        except ValueError as error:  # a setting that makes no sense for this data: say which
            self._set(_status=RunStatus.FAILED, _message=carried_message(error))
        except TrainingUnavailableError as error:  # the cluster went away after the run was admitted: say so, and save it
            self._set(_status=RunStatus.FAILED, _message=carried_message(error))
            try:
                self._recorder.finish(RunStatus.FAILED, carried_message(error), None)
            except OSError:
                logger.exception("could not record that run %s failed", self.run_id)
        except Exception as error:  # a page must show this, not lose it in a thread
            logger.exception("training job failed")
            self._set(_status=RunStatus.FAILED, _message=Message("Training failed unexpectedly: {error}",
                                                                 error=f"{type(error).__name__}: {error}"))
        finally:
            # A finished job keeps its metrics and model, not the 50 MB of training data (the
            # Training drops its own split when its loop ends).
            self._dataset = None
            self._give_up_slot()
