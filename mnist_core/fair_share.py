"""Fair share of one classroom server: how big and how long one student's run may be.

Forty students share one computer and, by default, one training slot. A single run with the
biggest CNN, batch size 1 and 100 epochs would hold that slot for about a day and a half. So runs
started from the browser have limits (the teacher's command line has none):

- a time limit per run (`MNIST_LAB_RUN_TIME_LIMIT_MINUTES`, 15 by default, 0 for none), after which
  the run stops as Stop would, keeping its finished epochs, and says why; time spent paused does
  not count, only training;
- a paused run gives its training slot to the queue (jobs.py), and one left paused for
  `MNIST_LAB_PAUSE_LIMIT_SECONDS` (10 minutes by default) stops by itself, keeping its finished
  epochs: it holds no slot, but it keeps its model, its copy of the data and its workspace busy;
- a limit on the model's size (MAX_PARAMETERS), refused with a message before the run queues;
- an estimate of the training time, so a page can warn before a run that the limit would cut.

No TensorFlow here: the sizes are counted from the config, in the same layers models.py builds
(a test checks the two agree for every model).
"""

from __future__ import annotations

import collections
import os
import statistics
import threading

from .config import TrainConfig, steps_per_epoch
from .data import IMAGE_SIZE, NUM_CLASSES
from .i18n import Message

PIXELS = IMAGE_SIZE * IMAGE_SIZE

TIME_LIMIT_VARIABLE = "MNIST_LAB_RUN_TIME_LIMIT_MINUTES"
DEFAULT_TIME_LIMIT_MINUTES = 15.0
PAUSE_LIMIT_VARIABLE = "MNIST_LAB_PAUSE_LIMIT_SECONDS"
DEFAULT_PAUSE_LIMIT_SECONDS = 600.0
# The biggest model the page's sliders make (a CNN with 64 filters and a 1024-unit dense layer) has
# 6.5 million parameters; the CLI can ask for far bigger ones (hidden layers 4096 wide), which would
# take the server's memory and its training slot for hours.
MAX_PARAMETERS = 8_000_000
SHORTER_RUN_ADVICE = Message("Fewer epochs, a bigger batch or a smaller model train in less time.")

# The cost model of one training step on this kind of machine (2 CPU cores), fitted to
# benchmarks/time_estimate.py: a fixed cost per compiled step, the optimizer's update of every
# parameter (memory-bound), and the forward and backward multiply-adds of each example in the batch.
SECONDS_PER_EPOCH = 0.05  # Python's share: the epoch's bookkeeping and saving
SECONDS_PER_STEP = 4e-5
SECONDS_PER_PARAMETER_UPDATE = 2.1e-9
SECONDS_PER_MULTIPLY_ADD = 3.8e-11  # forward and backward together, per forward multiply-add


class ServerPace:
    """How fast this server has really trained lately, against the cost model: the cost model was
    fitted on a quiet machine, and a classroom server is never quiet (a CNN estimated at 16 s took
    73 s while others trained; the overfitting preset, 3 s, took 16 s). Each finished run that was
    never paused adds its measured seconds over the model's estimate for the epochs it trained. An
    estimate is the model's times the median of the last RECENT_RUNS ratios, with the slowest of them
    as its upper end (before any run: the model's, up to twice that). Shared by every session on the
    server; it keeps RECENT_RUNS numbers at most."""

    RECENT_RUNS = 20

    def __init__(self):
        self._lock = threading.Lock()
        self._ratios: collections.deque[float] = collections.deque(maxlen=self.RECENT_RUNS)

    def record(self, config: TrainConfig, available_examples: int, epochs_trained: int, seconds: float) -> None:
        """A run of `config` trained `epochs_trained` epochs in `seconds` (pauses never happened)."""
        if epochs_trained < 1 or seconds <= 0:
            return
        estimate = estimated_training_seconds(config, available_examples) * epochs_trained / config.epochs
        with self._lock:
            self._ratios.append(seconds / estimate)

    def estimate(self, config: TrainConfig, available_examples: int) -> tuple[float, float, int]:
        """(likely seconds, slowest likely seconds, how many recent runs that is from)."""
        model_seconds = estimated_training_seconds(config, available_examples)
        with self._lock:
            ratios = sorted(self._ratios)
        if not ratios:
            return model_seconds, model_seconds * 2, 0  # the cost model alone is within a factor of about two
        return model_seconds * statistics.median(ratios), model_seconds * max(ratios[-1], 1.0), len(ratios)


server_pace = ServerPace()


def environment_number(variable: str, default: float) -> float:
    """A number set in the environment, or `default` where it is unset or not a number."""
    text = os.environ.get(variable, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        return default


def run_time_limit_seconds() -> float | None:
    """The most one browser-started run may train, from the environment (None: no limit)."""
    minutes = environment_number(TIME_LIMIT_VARIABLE, DEFAULT_TIME_LIMIT_MINUTES)
    return minutes * 60 if minutes > 0 else None


def pause_limit_seconds() -> float:
    """How long a browser-started run may stay paused before it stops by itself, from the environment.
    Always a limit: a run paused for ever would keep its workspace busy for ever."""
    seconds = environment_number(PAUSE_LIMIT_VARIABLE, DEFAULT_PAUSE_LIMIT_SECONDS)
    return seconds if seconds > 0 else DEFAULT_PAUSE_LIMIT_SECONDS


def layer_costs(config: TrainConfig) -> list[tuple[int, int]]:
    """(parameters, forward multiply-adds per example) of each layer with weights."""

    def dense(inputs: int, outputs: int) -> tuple[int, int]:
        return inputs * outputs + outputs, inputs * outputs

    def convolution(size: int, inputs: int, outputs: int) -> tuple[int, int]:  # 3x3, 'same' padding
        return 9 * inputs * outputs + outputs, size * size * 9 * inputs * outputs

    if config.model == "linear":
        return [dense(PIXELS, NUM_CLASSES)]
    if config.model == "mlp":
        widths = [PIXELS] + [config.hidden_units] * config.hidden_layers + [NUM_CLASSES]
        return [dense(inputs, outputs) for inputs, outputs in zip(widths, widths[1:])]
    filters = config.cnn_filters
    pooled = IMAGE_SIZE // 4  # two 2x2 poolings
    return [convolution(IMAGE_SIZE, 1, filters), convolution(IMAGE_SIZE // 2, filters, 2 * filters),
            dense(pooled * pooled * 2 * filters, config.hidden_units), dense(config.hidden_units, NUM_CLASSES)]


def parameter_count(config: TrainConfig) -> int:
    return sum(parameters for parameters, _ in layer_costs(config))


def check_model_size(config: TrainConfig) -> None:
    """Raise ValueError, saying what to change, if the model is too big for a shared server."""
    parameters = parameter_count(config)
    if parameters > MAX_PARAMETERS:
        raise ValueError(Message("This model has {parameters:,} parameters, more than the {limit:,} a run may have on this "
                                 "shared server. Choose a narrower dense layer, fewer filters or fewer hidden layers.",
                                 parameters=parameters, limit=MAX_PARAMETERS))


def estimated_training_seconds(config: TrainConfig, available_examples: int) -> float:
    """About how long the run will train on a training set of `available_examples` before the
    validation split (60,000 for MNIST): its steps, plus measuring the validation set and the
    training sample after every epoch. Within a factor of about two. The split's sizes are worked
    out from the config (to within rounding), not made: a page calls this on every rerun."""
    validation = round(available_examples * config.validation_fraction)
    training_examples = config.train_subset_size or available_examples - validation
    measured_examples = validation + min(config.train_metrics_sample, training_examples)
    costs = layer_costs(config)
    parameters = sum(parameters for parameters, _ in costs)
    multiply_adds = sum(operations for _, operations in costs)
    step = SECONDS_PER_STEP + parameters * SECONDS_PER_PARAMETER_UPDATE + config.batch_size * multiply_adds * SECONDS_PER_MULTIPLY_ADD
    measuring = measured_examples * multiply_adds * SECONDS_PER_MULTIPLY_ADD / 3  # forward only
    return config.epochs * (SECONDS_PER_EPOCH + steps_per_epoch(training_examples, config.batch_size) * step + measuring)
