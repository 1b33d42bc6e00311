"""Where a run trains: in a thread of this server (the default), or on a Dask cluster's workers.

A page asks the same of every run (jobs.TrainingJob): start it, read its snapshot, pause it, step one
batch or one epoch, resume it, stop it. The job keeps what only the app can keep (the queue for a
training slot, one activity per workspace, the fair-share limits) and hands the training itself to an
*executor*, chosen once per server:

- `LocalExecutor`, the default: the run trains in the job's own thread, as it always has. Nothing to
  install; `dask` is never imported.
- `dask_executor.DaskExecutor`, when `MNIST_LAB_DASK_SCHEDULER` names a Dask scheduler
  (`tcp://host:8786`): the run trains on one of the cluster's workers, which writes the run's folder
  (shared with this server) as a local run does, and the page's buttons reach it within a second.
  Its training slots are the cluster's (`--resources training_slot=1` on each worker).

An executor (executor_api.TrainingExecutor) gives a run two things: its *controls* (a pausing.PauseControl, or one that forwards to the
worker), which the page's buttons call, and `train(request, started)`, which the job's thread calls
once the run has a slot: it trains the run to its end and hands `started` an object the job's snapshot
reads as it goes (a training.Training, or the worker's run as last reported).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable

from .executor_api import RunRequest, TrainingExecutor, TrainingUnavailableError
from .pausing import PauseControl
from .queueing import FirstComeFirstServed

logger = logging.getLogger(__name__)

DASK_SCHEDULER_SETTING = "MNIST_LAB_DASK_SCHEDULER"
# "local": when the scheduler cannot be reached, train in this server instead (and log why); unset, a
# start is refused with a message, so a teacher finds out at once that the cluster is down.
DASK_FALLBACK_SETTING = "MNIST_LAB_DASK_FALLBACK"


def default_slot_count() -> int:
    configured = os.environ.get("MNIST_LAB_TRAINING_SLOTS")
    if configured:
        return max(1, int(configured))
    return max(1, (os.cpu_count() or 2) // 2)


class LocalExecutor:
    """Each run trains in its job's thread in this process; `slots` runs at once (one per two cores)."""

    def __init__(self, slots: FirstComeFirstServed):
        self.slots = slots

    @staticmethod
    def pause_control(limit_seconds: float | None, give_way: Callable[[], None],
                      take_turn: Callable[[], bool]) -> PauseControl:
        return PauseControl(limit_seconds, give_way=give_way, take_turn=take_turn)

    @staticmethod
    def train(request: RunRequest, started: Callable[[object], None]):
        from .training import train_and_record  # TensorFlow is loaded by the first training, not by importing jobs

        training = train_and_record(request.config, request.dataset, recorder=request.recorder,
                                    stop_requested=request.stop_requested, on_progress=request.on_progress,
                                    time_limit_seconds=request.time_limit_seconds, pause_control=request.controls)
        started(training)
        for _ in training:
            pass  # each epoch lands in training.history, which the job's snapshot reads
        return training


# One queue for the whole server process: every browser tab shares the same cores.
local_executor = LocalExecutor(FirstComeFirstServed(default_slot_count()))

_chosen_lock = threading.Lock()
_dask_executors: dict[str, TrainingExecutor] = {}


def training_executor() -> TrainingExecutor:
    """The executor this server trains with: the Dask cluster named by MNIST_LAB_DASK_SCHEDULER (connected
    on first use, TrainingUnavailableError if it cannot be reached), else this server's own threads.
    With MNIST_LAB_DASK_FALLBACK=local, an unreachable cluster means training here instead."""
    address = os.environ.get(DASK_SCHEDULER_SETTING, "").strip()
    if not address:
        return local_executor
    with _chosen_lock:
        executor = _dask_executors.get(address)
        if executor is None:
            from .dask_executor import DaskExecutor  # only a server set up for a cluster imports dask

            executor = _dask_executors[address] = DaskExecutor(address)
    try:
        executor.connect()
    except TrainingUnavailableError as error:
        if os.environ.get(DASK_FALLBACK_SETTING, "").strip().lower() == "local":
            logger.warning("%s; training in this server instead (%s=local)", error, DASK_FALLBACK_SETTING)
            return local_executor
        raise
    return executor
