"""Training: the hyperparameters (TrainConfig), one epoch's report (EpochResult), and the loop (train).

The loop is the explicit one from TensorFlow's custom-training guide: for each batch, run the model
under a `tf.GradientTape`, take the gradient of the loss and let the optimizer apply it. Two things
make it fast without hiding it:

- the data lives in memory as uint8 tensors and each batch is gathered inside the compiled step, so
  no Python runs per batch;
- one compiled call runs a *chunk* of steps in a `tf.while_loop`. A chunk is sized to take about a
  quarter of a second, so progress reports and the Stop button still answer promptly.

After every epoch the model is measured on (a fixed sample of) the training set and on the
validation set with dropout off: that is the classic loop's training accuracy, not a running average
of a model that kept changing during the epoch. The test set is never touched here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from typing import Callable, Iterator

import numpy as np

from .data import IMAGE_SIZE, DatasetSplit, load_mnist, split_dataset
from .models import MODEL_NAMES, build_model, count_parameters, get_weights, make_measure, make_optimizer, set_weights

import keras  # noqa: E402  (after .models, which quiets TensorFlow's start-up logging)
import tensorflow as tf  # noqa: E402

OPTIMIZER_NAMES = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
SCHEDULE_NAMES = ("constant", "cosine")


def hyperparameter(default, why: str):
    """A TrainConfig field with the reason for its default, shown as help in the CLI and the pages."""
    return dataclasses.field(default=default, metadata={"why": why})


@dataclasses.dataclass
class TrainConfig:
    """Every hyperparameter of a run. Saved next to the run's results so each chart can say how it was made."""

    model: str = hyperparameter("linear", "the linear model trains in seconds and is where the lesson starts")
    optimizer: str = hyperparameter("adam", "Adam adapts the step size per weight, so it forgives a rough learning rate")
    learning_rate: float = hyperparameter(0.003, "with Adam: learns in a few epochs without bouncing around the minimum")
    learning_rate_schedule: str = hyperparameter("constant", "a constant rate is easiest to reason about; cosine decays it to 0 for the last fraction of a percent")
    momentum: float = hyperparameter(0.9, "only for the momentum optimizer: the usual value, averaging about 10 past steps")
    epochs: int = hyperparameter(5, "a handful of passes is enough for the linear model to level off")
    batch_size: int = hyperparameter(100, "the classic MNIST batch: small enough for many updates per epoch, big enough to be quick")
    validation_fraction: float = hyperparameter(0.1, "6,000 validation digits measure accuracy to about +-0.3%")
    train_subset_size: int | None = hyperparameter(None, "all training examples by default (None); a few hundred provoke overfitting")
    label_noise: float = hyperparameter(0.0, "clean labels by default; noise shows a big model memorising mistakes")
    hidden_units: int = hyperparameter(128, "MLP and CNN: width of the dense layer, plenty for MNIST")
    hidden_layers: int = hyperparameter(1, "MLP only: one hidden layer already passes 98%")
    cnn_filters: int = hyperparameter(16, "CNN only: filters in the first convolution (twice that in the second)")
    dropout: float = hyperparameter(0.0, "off by default so overfitting is visible; 0.2-0.5 regularises")
    l2: float = hyperparameter(0.0, "off by default; 1e-4 is a gentle weight penalty")
    early_stopping_patience: int = hyperparameter(0, "0 trains every epoch; N stops after N epochs without a better validation loss")
    restore_best_weights: bool = hyperparameter(True, "after an early stop, keep the weights of the best validation epoch")
    seed: int = hyperparameter(0, "same seed and config give the same numbers, so runs can be compared fairly")
    train_metrics_sample: int = hyperparameter(10000, "training metrics use a fixed sample this big: accurate to +-0.3% at a fraction of the cost")

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise ValueError with a message a student understands if any value makes no sense."""

        def whole(name, minimum, maximum=None):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum or (maximum is not None and value > maximum):
                limit = f"between {minimum} and {maximum}" if maximum is not None else f"of at least {minimum}"
                raise ValueError(f"{name} must be a whole number {limit} (got {value!r}).")
            setattr(self, name, int(value))

        def number(name, minimum, maximum, include_minimum=True, include_maximum=True):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a number (got {value!r}).")
            too_low = value < minimum or (value == minimum and not include_minimum)
            too_high = value > maximum or (value == maximum and not include_maximum)
            if too_low or too_high:
                low = "[" if include_minimum else "("
                high = "]" if include_maximum else ")"
                raise ValueError(f"{name} must be in {low}{minimum}, {maximum}{high} (got {value!r}).")
            setattr(self, name, float(value))

        def choice(name, options):
            if getattr(self, name) not in options:
                raise ValueError(f"{name} must be one of {', '.join(options)} (got {getattr(self, name)!r}).")

        choice("model", MODEL_NAMES)
        choice("optimizer", OPTIMIZER_NAMES)
        choice("learning_rate_schedule", SCHEDULE_NAMES)
        number("learning_rate", 0.0, 100.0, include_minimum=False)
        number("momentum", 0.0, 1.0, include_maximum=False)
        whole("epochs", 1, 1000)
        whole("batch_size", 1)
        number("validation_fraction", 0.0, 1.0, include_minimum=False, include_maximum=False)
        if self.train_subset_size is not None:
            whole("train_subset_size", 1)
        number("label_noise", 0.0, 1.0)
        whole("hidden_units", 1, 4096)
        whole("hidden_layers", 1, 8)
        whole("cnn_filters", 1, 256)
        number("dropout", 0.0, 1.0, include_maximum=False)
        number("l2", 0.0, 1.0)
        whole("early_stopping_patience", 0)
        if not isinstance(self.restore_best_weights, bool):
            raise ValueError(f"restore_best_weights must be true or false (got {self.restore_best_weights!r}).")
        whole("seed", 0, 2**31 - 1)
        whole("train_metrics_sample", 1)

    @classmethod
    def for_model(cls, model: str, **overrides) -> "TrainConfig":
        """The recommended starting point for `model`, with `overrides` on top."""
        if model not in MODEL_PRESETS:
            raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)} (got {model!r}).")
        return cls(**{"model": model, **MODEL_PRESETS[model], **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        if not isinstance(values, dict):
            raise ValueError("A run configuration must be a JSON object.")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown setting(s) in the configuration: {', '.join(unknown)}.")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"The configuration is not valid JSON ({error}).") from error
        return cls.from_dict(values)

    @staticmethod
    def reason(field_name: str) -> str:
        """Why a field has its default: the help text for its widget or flag."""
        return {field.name: field.metadata["why"] for field in dataclasses.fields(TrainConfig)}[field_name]


# The defaults above are the linear model's. These are the starting points of the bigger models,
# each passing its accuracy target on the test set (linear >= 92%, MLP >= 98%, CNN >= 99%).
MODEL_PRESETS = {
    "linear": {},
    "mlp": {"optimizer": "adam", "learning_rate": 0.001, "learning_rate_schedule": "cosine", "epochs": 10,
            "hidden_units": 256, "hidden_layers": 2, "dropout": 0.2},
    "cnn": {"optimizer": "adam", "learning_rate": 0.003, "learning_rate_schedule": "cosine", "epochs": 5,
            "batch_size": 64, "cnn_filters": 16, "hidden_units": 128, "dropout": 0.25},
}


# Each optimizer's customary starting learning rate. Plain SGD needs big steps; Adam and RMSprop
# rescale every step by the gradient's recent size, so theirs are small. An optimizer race run at
# one shared rate mostly measures which optimizer that rate happens to suit.
USUAL_LEARNING_RATES = {"sgd": 0.1, "momentum": 0.01, "adam": 0.001, "rmsprop": 0.001, "adagrad": 0.03}

# A run that visibly overfits within seconds: a big MLP, 500 training digits, no regularisation.
# Training accuracy reaches 100% within ten epochs while validation accuracy stalls near 87% and
# validation loss turns upward: the gap between the curves is the lesson.
OVERFITTING_PRESET = {"model": "mlp", "optimizer": "adam", "learning_rate": 0.001, "learning_rate_schedule": "constant",
                      "hidden_units": 256, "hidden_layers": 2, "dropout": 0.0, "l2": 0.0, "train_subset_size": 500,
                      "label_noise": 0.0, "batch_size": 32, "epochs": 40, "early_stopping_patience": 0}


# Cross-entropy of a model that gives each of the ten digits the same probability: ln 10 = 2.30.
CHANCE_LOSS = math.log(10)
# A loss ten times that (23) means the model is confidently wrong about most digits: it has been
# thrown far off by steps that are too big, though the numbers have not (yet) overflowed to NaN.
EXPLODED_LOSS_FACTOR = 10


@dataclasses.dataclass(frozen=True)
class EpochResult:
    """What one finished epoch measured. Plain Python numbers, ready for a chart, a CSV or JSON."""

    epoch: int            # 1-based
    train_loss: float     # cross-entropy on the training sample, dropout off, at the end of the epoch
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float        # wall time of this epoch, measurements included
    iterations: int       # optimizer steps since the run began (one step = one batch)

    @property
    def loss_exploded(self) -> bool:
        """Training loss far above that of random guessing: the steps are overshooting, even if no NaN appeared."""
        return self.train_loss > EXPLODED_LOSS_FACTOR * CHANCE_LOSS

    @property
    def generalisation_gap(self) -> float:
        """Validation loss minus training loss: it widens as the model overfits."""
        return self.val_loss - self.train_loss

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def split_for_config(dataset, config: TrainConfig) -> DatasetSplit:
    """The split a run with `config` trains on (the config's data settings applied to `dataset`)."""
    return split_dataset(dataset, validation_fraction=config.validation_fraction, train_subset_size=config.train_subset_size,
                         label_noise=config.label_noise, seed=config.seed)


# How a run ended. RUNNING while it trains.
RUNNING, COMPLETED, STOPPED, EARLY_STOPPED, DIVERGED = "running", "completed", "stopped", "early_stopped", "diverged"

CHUNK_TARGET_SECONDS = 0.25   # how long one compiled call may run before Python checks Stop and reports progress


class Training:
    """One training run. Iterate over it for one EpochResult per finished epoch.

    While and after it runs, `status`, `message`, `history`, `best_epoch` and `model` say where it
    stands. Use `train()` to make one.
    """

    def __init__(self, config: TrainConfig, dataset=None, split: DatasetSplit | None = None,
                 stop_requested: Callable[[], bool] | None = None,
                 on_progress: Callable[[int, int, int], None] | None = None, recorder=None):
        config.validate()
        self.config = config
        if split is None:
            split = split_for_config(dataset if dataset is not None else load_mnist(), config)
        training_examples = len(split.train_labels)
        if config.batch_size > training_examples:
            raise ValueError(
                f"The batch size ({config.batch_size}) is larger than the training set ({training_examples} examples). "
                f"Choose a batch size of at most {training_examples}."
            )
        self.split = split
        self.stop_requested = stop_requested or (lambda: False)
        self.on_progress = on_progress or (lambda epoch, step, steps_per_epoch: None)
        self.recorder = recorder
        self.steps_per_epoch = math.ceil(training_examples / config.batch_size)
        self.model = build_model(config)
        self.parameter_count = count_parameters(self.model)
        self.history: list[EpochResult] = []
        self.status = RUNNING
        self.message = ""
        self.best_epoch: int | None = None
        self._epochs = self._run()

    def __iter__(self) -> Iterator[EpochResult]:
        return self

    def __next__(self) -> EpochResult:
        return next(self._epochs)

    def close(self) -> None:
        """End the run now (as 'stopped' if it was still running), keeping every finished epoch."""
        self._epochs.close()

    # -- the compiled pieces, made afresh for every run ------------------------------------------

    def _compile_functions(self):
        config, model, split = self.config, self.model, self.split
        optimizer = make_optimizer(config, self.steps_per_epoch)
        optimizer.build(model.trainable_variables)
        cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        train_images = tf.constant(split.train_images)
        train_labels = tf.constant(split.train_labels, dtype=tf.int32)
        batch_size = config.batch_size

        # The training data goes in as arguments, not as constants captured by the compiled graph:
        # TensorFlow keeps a traced graph's captures for the life of the process, so a captured
        # copy of the training set (42 MB for all of MNIST) would outlive every run.
        @tf.function(input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE], tf.uint8), tf.TensorSpec([None], tf.int32),
                                      tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)])
        def compiled_steps(train_images, train_labels, order, first_step, step_count):
            """Train on batches first_step .. first_step+step_count-1 of this epoch's shuffled `order`.
            Returns whether every loss in the chunk was a finite number."""
            all_finite = tf.constant(True)
            for step in tf.range(first_step, first_step + step_count):
                batch = order[step * batch_size:(step + 1) * batch_size]
                images = tf.cast(tf.gather(train_images, batch), tf.float32) / 255.0
                labels = tf.gather(train_labels, batch)
                with tf.GradientTape() as tape:
                    logits = model(images, training=True)
                    loss = cross_entropy(labels, logits)
                    if model.losses:  # the L2 penalty, when the config asks for one
                        loss += tf.add_n(model.losses)
                gradients = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(gradients, model.trainable_variables))
                all_finite = tf.logical_and(all_finite, tf.math.is_finite(loss))
            return all_finite

        def run_steps(order, first_step, step_count):
            return compiled_steps(train_images, train_labels, order, first_step, step_count)

        return run_steps, make_measure(model)

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> Iterator[EpochResult]:
        config, split = self.config, self.split
        run_steps, measure = self._compile_functions()
        rng = np.random.default_rng(config.seed)
        training_examples = len(split.train_labels)
        # A fixed sample for the training metrics, so every epoch is measured on the same digits.
        sample_size = min(config.train_metrics_sample, training_examples)
        sample = np.sort(rng.choice(training_examples, size=sample_size, replace=False))
        sample_images, sample_labels = split.train_images[sample], split.train_labels[sample]

        last_good_weights = get_weights(self.model)
        best_weights, best_val_loss, epochs_without_improvement = None, math.inf, 0
        total_iterations, chunk_steps = 0, 1
        try:
            for epoch in range(1, config.epochs + 1):
                epoch_start = time.perf_counter()
                order = tf.constant(rng.permutation(training_examples), dtype=tf.int32)
                step = 0
                while step < self.steps_per_epoch:
                    if self.stop_requested():
                        set_weights(self.model, last_good_weights)
                        self._finish(STOPPED, f"Stopped during epoch {epoch}; the {epoch - 1} finished epoch(s) are kept.")
                        return
                    steps = min(chunk_steps, self.steps_per_epoch - step)
                    chunk_start = time.perf_counter()
                    all_finite = bool(run_steps(order, tf.constant(step, tf.int32), tf.constant(steps, tf.int32)))
                    step += steps
                    total_iterations += steps
                    if not all_finite:
                        set_weights(self.model, last_good_weights)
                        self._finish(DIVERGED, self._divergence_message(epoch))
                        return
                    chunk_steps = self._next_chunk_size(steps, time.perf_counter() - chunk_start, first_call=total_iterations == steps)
                    self.on_progress(epoch, step, self.steps_per_epoch)

                train_loss, train_acc = measure(sample_images, sample_labels)
                val_loss, val_acc = measure(split.validation_images, split.validation_labels)
                if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                    set_weights(self.model, last_good_weights)
                    self._finish(DIVERGED, self._divergence_message(epoch))
                    return
                result = EpochResult(epoch=epoch, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss,
                                     val_acc=val_acc, seconds=time.perf_counter() - epoch_start, iterations=total_iterations)
                self.history.append(result)
                last_good_weights = get_weights(self.model)
                if val_loss < best_val_loss:
                    best_val_loss, self.best_epoch, best_weights, epochs_without_improvement = val_loss, epoch, last_good_weights, 0
                else:
                    epochs_without_improvement += 1
                if self.recorder is not None:
                    self.recorder.record_epoch(result, last_good_weights, self.best_epoch)
                yield result

                patience = config.early_stopping_patience
                if patience and epochs_without_improvement >= patience and epoch < config.epochs:
                    if config.restore_best_weights:
                        set_weights(self.model, best_weights)
                    kept = f"the weights of epoch {self.best_epoch} restored" if config.restore_best_weights else "the last weights kept"
                    self._finish(EARLY_STOPPED, f"Stopped early after epoch {epoch}: validation loss has not improved for "
                                                f"{patience} epoch(s); best was epoch {self.best_epoch}, {kept}.")
                    return
            self._finish(COMPLETED, f"Finished all {config.epochs} epoch(s).")
        finally:
            # The consumer closed the generator (or an error escaped): record what was finished.
            if self.status == RUNNING:
                set_weights(self.model, last_good_weights)
                self._finish(STOPPED, f"Stopped after {len(self.history)} finished epoch(s).")

    def _finish(self, status: str, message: str) -> None:
        self.status, self.message = status, message
        if self.recorder is not None:
            self.recorder.finish(status, message, self.best_epoch, get_weights(self.model))

    def _divergence_message(self, epoch: int) -> str:
        rate = self.config.learning_rate
        return (f"Diverged in epoch {epoch}: the loss became infinite or NaN, so the weights blew up. "
                f"The learning rate {rate:g} is too high for {self.config.optimizer}; try {gentler_learning_rate(self.config):g}. "
                f"The {len(self.history)} finished epoch(s) and their weights are kept.")

    def _next_chunk_size(self, steps: int, seconds: float, first_call: bool) -> int:
        if first_call:  # the first call also traced and compiled the function: its time says nothing
            return 1
        seconds_per_step = max(seconds / steps, 1e-6)
        wanted = int(CHUNK_TARGET_SECONDS / seconds_per_step)
        return max(1, min(wanted, 4 * steps, self.steps_per_epoch))


def gentler_learning_rate(config: TrainConfig) -> float:
    """What to try after a run whose steps overshot: a tenth, one stop of the usual log-scale search."""
    return config.learning_rate / 10


def train(config: TrainConfig, dataset=None, **options) -> Training:
    """Start a run: iterate the result for one EpochResult per epoch.

    `dataset` is what load_mnist() returns (loaded if omitted); options are those of `Training`:
    `split`, `stop_requested` (checked between chunks of steps), `on_progress(epoch, step,
    steps_per_epoch)` and `recorder` (saves the run as it goes; see runs.py).
    """
    return Training(config, dataset=dataset, **options)
