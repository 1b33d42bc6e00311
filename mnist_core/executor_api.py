"""What every executor gives a job (jobs.TrainingJob), and what a job hands it: the interface that
executors.py's local executor and dask_executor.py's both keep. No TensorFlow, no dask."""

from __future__ import annotations

import dataclasses
from typing import Callable, Protocol

from .config import TrainConfig
from .i18n import Message
from .queueing import FirstComeFirstServed


class TrainingUnavailableError(RuntimeError):
    """Nowhere to train: the Dask scheduler the server was set up with cannot be reached. The message
    says what to do."""


@dataclasses.dataclass
class RunRequest:
    """Everything an executor needs to train one admitted run (jobs.TrainingJob makes it)."""

    config: TrainConfig
    dataset: object                   # ((x_train, y_train), (x_test, y_test)), the server's shared copy
    recorder: object                  # runs.RunRecorder: the run reserved on disk
    stop_requested: Callable[[], bool]
    on_progress: Callable[[int, int, int], None]
    time_limit_seconds: float | None
    controls: object                  # what `pause_control()` gave this run; the machine that trains it
                                      # chooses its arithmetic (precision.machine_precision)


class TrainingExecutor(Protocol):
    """Where runs train: what every executor gives a job (jobs.TrainingJob)."""

    slots: FirstComeFirstServed  # the queue an admitted run has waited in: as long as the runs that train at once

    def pause_control(self, limit_seconds: float | None, give_way: Callable[[], None],
                      take_turn: Callable[[], bool]):
        """The run's controls, which the page's buttons call: pause, resume, step_batch, step_epoch, and
        paused, ever_paused, seconds_left to read. `give_way` and `take_turn` give the run's slot back to
        the queue as it comes to rest, and queue for one before it goes on."""

    def train(self, request: RunRequest, started: Callable[[object], None]):
        """Train the admitted run to its end, handing `started` what the job's snapshot reads as it goes
        (status, message, history, iterations.points_so_far, best_epoch, paused_weights, steps_per_epoch,
        precision, model); return it. Raises what the training raised (ValueError: a setting that does not
        fit), or TrainingUnavailableError if the run could not be handed to where it trains."""


# What a student reads when the cluster cannot be reached (the log names its address, for the teacher).
UNREACHABLE_MESSAGE = Message(
    "Nothing was trained: this server trains on a cluster of computers, and it cannot be reached just now. Tell your "
    "teacher; your settings are kept, so press Train again once it is back.")
