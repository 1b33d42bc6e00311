"""Fair share of one classroom server: how big and how long one student's run may be.

Forty students share one computer and, by default, one training slot. A single run with the
biggest CNN, batch size 1 and 100 epochs would hold that slot for about a day and a half. So runs
started from the browser have limits (the teacher's command line has none):

- a time limit per run (`MNIST_LAB_RUN_TIME_LIMIT_MINUTES`, 15 by default, 0 for none), after which
  the run stops as Stop would, keeping its finished epochs, and says why; time spent paused does
  not count, only training;
- a paused run gives its training slot to the queue (jobs.py), and one left paused for
  `MNIST_LAB_PAUSE_LIMIT_SECONDS` in all (10 minutes by default, its rests added up) stops by
  itself, keeping its finished epochs: it holds no slot and lets go of its copy of the data while it
  rests, but it keeps its model and its workspace busy;
- a limit on the model's size (MAX_PARAMETERS), refused with a message before the run queues;
- disk quotas: what one workspace's runs may take (`MNIST_LAB_WORKSPACE_DISK_MB`, 300 MB by default)
  and what all the runs on the server may take (`MNIST_LAB_SERVER_DISK_MB`, 5,000 MB), measured and
  enforced in runs/disk.py: a run is refused before it starts once either is reached, and a run that
  crosses one while it trains keeps only the weights it must (its last, and its best if it may
  restore them) and trains on. A new browser tab is a new workspace, so the server's quota is what
  bounds a script that opens tab after tab;
- a limit on the runs waiting for a training slot, all workspaces together (`MNIST_LAB_MAX_QUEUED_RUNS`,
  60 by default; jobs.JobBoard), refused with a message before the run is saved;
- an estimate of the training time, so a page can warn before a run that the limit would cut.

No TensorFlow here: the sizes are counted from the config, in the same layers models.py builds
(a test checks the two agree for every model).
"""

from __future__ import annotations

import collections
import math
import os
import statistics
import threading

from .config import TrainConfig, steps_per_epoch, training_examples
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
# Heavy page work (Replay's frames, Inside's maps and occlusion, Robustness's curves, the downloads)
# runs the model on thousands of digits. Each forward pass may hold this much in layer outputs
# (models.evaluation_batch_size), and at most HEAVY_WORK_AT_ONCE such jobs run at once on the
# whole server (heavy_work.py); the others wait their turn, and their pages say so.
EVALUATION_MEMORY_VARIABLE = "MNIST_LAB_EVALUATION_MEMORY_MB"
DEFAULT_EVALUATION_MEMORY_MB = 64.0
HEAVY_WORK_VARIABLE = "MNIST_LAB_HEAVY_WORK_AT_ONCE"
DEFAULT_HEAVY_WORK_AT_ONCE = 2
# Disk quotas, in MB of 1,048,576 bytes (0 for none). A linear run of the default 5 epochs takes
# 0.2 MB, the default MLP's 10 epochs 12 MB, the sliders' biggest CNN 25 MB (one checkpoint): a
# workspace's 300 MB hold about 25 MLP runs or 12 big CNNs, and the server's 5,000 MB are 125 MB a
# student for a class of 40. The command line (the teacher's) has no quota of its own, but its runs
# count towards the server's.
WORKSPACE_DISK_VARIABLE = "MNIST_LAB_WORKSPACE_DISK_MB"
DEFAULT_WORKSPACE_DISK_MB = 300.0
SERVER_DISK_VARIABLE = "MNIST_LAB_SERVER_DISK_MB"
DEFAULT_SERVER_DISK_MB = 5000.0
MEGABYTE = 2**20
# Runs waiting for a training slot, every workspace's together (0 for no limit): each workspace has
# one at most, so a class of 40 never meets it, while a script opening tab after tab does.
MAX_QUEUED_RUNS_VARIABLE = "MNIST_LAB_MAX_QUEUED_RUNS"
DEFAULT_MAX_QUEUED_RUNS = 60
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
    fitted on a quiet machine, and a classroom server is never quiet (runs training side by side
    each take several times what the model says). Each finished run that was
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


def evaluation_memory_bytes() -> float:
    """The layer outputs one forward pass without gradients may hold, from the environment."""
    megabytes = environment_number(EVALUATION_MEMORY_VARIABLE, DEFAULT_EVALUATION_MEMORY_MB)
    return (megabytes if megabytes > 0 else DEFAULT_EVALUATION_MEMORY_MB) * 2**20


def heavy_work_at_once() -> int:
    """How many heavy page jobs may run at once on the server, from the environment (at least one)."""
    return max(1, int(environment_number(HEAVY_WORK_VARIABLE, DEFAULT_HEAVY_WORK_AT_ONCE)))


def workspace_disk_limit_bytes() -> float | None:
    """The most one workspace's runs may take on disk before it may start no new run (None: no limit)."""
    megabytes = environment_number(WORKSPACE_DISK_VARIABLE, DEFAULT_WORKSPACE_DISK_MB)
    megabytes = DEFAULT_WORKSPACE_DISK_MB if math.isnan(megabytes) else megabytes
    return megabytes * MEGABYTE if megabytes > 0 else None


def server_disk_limit_bytes() -> float | None:
    """The most all the runs on the server may take on disk before no workspace may start one (None: no limit)."""
    megabytes = environment_number(SERVER_DISK_VARIABLE, DEFAULT_SERVER_DISK_MB)
    megabytes = DEFAULT_SERVER_DISK_MB if math.isnan(megabytes) else megabytes
    return megabytes * MEGABYTE if megabytes > 0 else None


def max_queued_runs() -> int | None:
    """The most runs that may wait for a training slot at once, on the whole server (None: no limit)."""
    count = environment_number(MAX_QUEUED_RUNS_VARIABLE, DEFAULT_MAX_QUEUED_RUNS)
    count = DEFAULT_MAX_QUEUED_RUNS if math.isnan(count) else count
    return max(1, int(count)) if 0 < count < math.inf else None


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
    training = training_examples(config, available_examples)
    measured_examples = validation + min(config.train_metrics_sample, training)
    costs = layer_costs(config)
    parameters = sum(parameters for parameters, _ in costs)
    multiply_adds = sum(operations for _, operations in costs)
    step = SECONDS_PER_STEP + parameters * SECONDS_PER_PARAMETER_UPDATE + config.batch_size * multiply_adds * SECONDS_PER_MULTIPLY_ADD
    measuring = measured_examples * multiply_adds * SECONDS_PER_MULTIPLY_ADD / 3  # forward only
    return config.epochs * (SECONDS_PER_EPOCH + steps_per_epoch(training, config.batch_size) * step + measuring)
