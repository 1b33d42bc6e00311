"""The compiled training step, and the trainers that hold it from one run to the next.

`train_step` is the textbook step of TensorFlow's custom-training guide: run the model under a
`tf.GradientTape`, take the gradient of the loss and let the optimizer apply it. `train_chunk` runs
several of them in one compiled call (training.py explains why).

Why trainers are reused: TensorFlow never gives back the memory of a traced function, so tracing
one afresh for every run would make a classroom server grow with every run it trains
(benchmarks/server_memory.py measures it). A `CompiledTrainer` is a working model, its
optimizer and the compiled chunk, traced once for one *graph shape* (`graph_key`: the model and its
layer sizes, dropout, L2, the optimizer). A run borrows one of its shape, resets every variable to
the run's own starting point and gives it back when it ends. Everything else a run may change
(learning rate and schedule, batch size, epochs, seed, data) goes in as a variable or an argument,
so it never traces again.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import Iterator

from .augmentation import DRAWS_PER_DIGIT, amounts_of, variation_draws, vary
from .config import AUGMENTATION_SETTINGS, is_augmented, setting_applies
from .data import IMAGE_SIZE
from .models import build_model, count_parameters, images_to_input, make_measure, optimizer_with_rate
from .precision import FLOAT32
from .quiet_tensorflow import keras, tf

# Idle trainers kept for later runs, by their parameter count (weights and, with Adam, two moment
# estimates each: 12 bytes a parameter, so about 120 MB at most). The least recently used go first.
IDLE_PARAMETER_BUDGET = 10_000_000


def make_train_step(model: keras.Model, optimizer: keras.optimizers.Optimizer):
    """The textbook step, compiled (it belongs to this model and optimizer)."""
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step(images, labels):
        """One step of gradient descent on one batch of float images in [0, 1]. Returns the batch's
        cross-entropy and how many of its digits the model read right, as it stood before the step
        (the L2 penalty is trained on but not reported: every curve shows cross-entropy alone)."""
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            data_loss = cross_entropy(labels, logits)
            loss = data_loss + tf.add_n(model.losses) if model.losses else data_loss  # the L2 penalty, if asked for
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        # A count, not a mean: the fewest operations in a step that runs every batch (a mean adds a cast;
        # in_top_k costs more still, and counts ties as right).
        right_answers = tf.math.count_nonzero(tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels), dtype=tf.int32)
        return data_loss, right_answers

    return train_step


def make_train_chunk(train_step, augmentation: "Augmentation | None" = None):
    """One compiled call that runs `train_step` over several batches of an epoch's shuffled order,
    each batch varied by `augmentation` first if given (augmentation.py; the training digits only).

    The training data and the batch size go in as arguments, not as constants captured by the
    compiled graph: TensorFlow keeps a traced graph's captures for the life of the process, so a
    captured copy of the training set (42 MB for all of MNIST) would outlive every run, and a
    captured batch size would need a graph per batch size.

    An augmented call varies all its digits at once, before its first step: one image transform of
    a few thousand digits costs less than the same work done batch by batch, which keeps
    augmentation's cost on a CNN epoch within its bound (benchmarks/augmentation.py measures it).
    The caller keeps such calls to AUGMENTED_CHUNK_DIGITS digits (CompiledTrainer.most_steps).
    """

    @tf.function(input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE], tf.uint8), tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
                                  tf.TensorSpec([], tf.int32)])
    def train_chunk(train_images, train_labels, order, batch_size, first_step, step_count):
        """Train on batches first_step .. first_step+step_count-1 of this epoch's `order`.
        Returns each step's batch loss and right answers (two vectors of `step_count`), collected
        inside the compiled loop: logging every iteration costs no Python per batch."""
        losses = tf.TensorArray(tf.float32, size=step_count)
        right_answers = tf.TensorArray(tf.int32, size=step_count)
        chunk_start = first_step * batch_size
        chunk_order = order[chunk_start:(first_step + step_count) * batch_size]
        if augmentation is not None:  # decided when traced: a run without augmentation has no trace of it
            # Each digit varied by the numbers of its place in the epoch's order.
            draws = augmentation.draws[:, chunk_start:chunk_start + tf.size(chunk_order)]
            chunk_images = vary(images_to_input(tf.gather(train_images, chunk_order)), augmentation.amounts, draws)
        for index in tf.range(step_count):
            batch = chunk_order[index * batch_size:(index + 1) * batch_size]
            if augmentation is not None:
                images = chunk_images[index * batch_size:(index + 1) * batch_size]
            else:
                images = images_to_input(tf.gather(train_images, batch))
            loss, right = train_step(images, tf.gather(train_labels, batch))
            losses = losses.write(index, loss)
            right_answers = right_answers.write(index, right)
        return losses.stack(), right_answers.stack()

    return train_chunk


# The most digits an augmented compiled call varies at once (their float copies: 12.5 MB): enough to
# cost about what a larger group would, little memory for a server training several runs at once.
AUGMENTED_CHUNK_DIGITS = 4096


class Augmentation:
    """How much a trainer varies its training digits, and this epoch's random numbers, one column per
    place in its shuffled order (augmentation.variation_draws): variables, so one compiled step serves
    every amount, epoch and training-set size."""

    def __init__(self):
        self.amounts = tf.Variable(tf.zeros(len(AUGMENTATION_SETTINGS)), trainable=False)
        self.draws = tf.Variable(tf.zeros([DRAWS_PER_DIGIT, 0]), shape=[DRAWS_PER_DIGIT, None], trainable=False)

    def set(self, config) -> None:
        self.amounts.assign(amounts_of(config))

    def start_epoch(self, seed: int, epoch: int, digit_count: int) -> None:
        self.draws.assign(variation_draws(digit_count, [seed, epoch]))


class ResettableLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """A constant or cosine learning rate whose numbers are variables, so one compiled step serves
    every rate. The cosine is Keras' `CosineDecay` (alpha 0, no warm-up) written out: the rate
    glides from `initial` to 0 over `decay_steps` steps; 0 decay steps means a constant rate."""

    def __init__(self):
        self.initial = tf.Variable(0.0, trainable=False, dtype=tf.float32)
        self.decay_steps = tf.Variable(0.0, trainable=False, dtype=tf.float32)

    def set(self, initial: float, decay_steps: int) -> None:
        self.initial.assign(initial)
        self.decay_steps.assign(float(decay_steps))

    def __call__(self, step):
        step = tf.minimum(tf.cast(step, tf.float32), self.decay_steps)
        completed_fraction = tf.where(self.decay_steps > 0, step / tf.maximum(self.decay_steps, 1.0), 0.0)
        return self.initial * (0.5 * (1.0 + tf.cos(math.pi * completed_fraction)))

    def get_config(self):
        return {}


# The settings a model's compiled step depends on besides the model and the optimizer, each only
# where it applies (config.setting_applies).
GRAPH_SETTINGS = ("hidden_units", "hidden_layers", "cnn_filters", "dropout", "l2", "momentum")


def graph_key(config, precision: str = FLOAT32) -> tuple:
    """What the compiled step of a run with `config`, computing in `precision`, depends on; runs with
    equal keys share trainers. Only the settings that apply to the model count, so a hidden-layer slider
    left at another value does not make the linear model trace again; of augmentation, only whether
    there is any (the amounts are variables)."""
    return config.model, config.optimizer, tuple((name, getattr(config, name)) for name in GRAPH_SETTINGS
                                                 if setting_applies(name, config)), is_augmented(config), precision


class CompiledTrainer:
    """A working model, its optimizer and its compiled chunk of steps, traced once and lent to one
    run at a time (see the module's docstring)."""

    def __init__(self, config, precision: str = FLOAT32):
        self.key = graph_key(config, precision)
        self.model = build_model(config, precision)
        self.parameter_count = count_parameters(self.model)
        self.learning_rate = ResettableLearningRate()
        self.optimizer = optimizer_with_rate(config, self.learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        # The optimizer's state as built: a step counter and moment estimates at 0, but Adagrad's
        # sums of squares start at 0.1, so a reset copies these rather than writing zeros.
        self._optimizer_start = [variable.numpy() for variable in self.optimizer.variables]
        self.augmentation = Augmentation() if is_augmented(config) else None
        self.train_chunk = make_train_chunk(make_train_step(self.model, self.optimizer), self.augmentation)
        self.measure = make_measure(self.model)

    def reset(self, start_model: keras.Model, config, steps_per_epoch: int) -> None:
        """Ready for a new run: the run's starting weights (and dropout's random state, which is
        a variable too), a fresh optimizer state, and the run's learning rate."""
        for working, start in zip(self.model.variables, start_model.variables, strict=True):
            working.assign(start)
        for variable, start in zip(self.optimizer.variables, self._optimizer_start, strict=True):
            variable.assign(start)
        cosine = config.learning_rate_schedule == "cosine"
        self.learning_rate.set(config.learning_rate, config.epochs * steps_per_epoch if cosine else 0)
        if self.augmentation is not None:
            self.augmentation.set(config)

    def start_epoch(self, seed: int, epoch: int, digit_count: int) -> None:
        """Before each epoch of `digit_count` training digits: the random numbers of their variations, if
        the run varies them."""
        if self.augmentation is not None:
            self.augmentation.start_epoch(seed, epoch, digit_count)

    def most_steps(self, batch_size: int, steps_per_epoch: int) -> int:
        """The most steps one compiled call may take: an epoch's, or, if it varies its digits, as many as
        vary at most AUGMENTED_CHUNK_DIGITS digits."""
        if self.augmentation is None:
            return steps_per_epoch
        return max(1, min(steps_per_epoch, AUGMENTED_CHUNK_DIGITS // batch_size))


_idle_trainers: list[CompiledTrainer] = []  # least recently used first
_idle_lock = threading.Lock()


@contextmanager
def borrowed_trainer(config, start_model: keras.Model, steps_per_epoch: int,
                     precision: str = FLOAT32) -> Iterator[CompiledTrainer]:
    """A trainer for `config`'s graph shape in `precision`, reset to `start_model`'s weights, for the length
    of a run. Runs in several threads at once each get their own."""
    key = graph_key(config, precision)
    with _idle_lock:
        trainer = next((idle for idle in reversed(_idle_trainers) if idle.key == key), None)
        if trainer is not None:
            _idle_trainers.remove(trainer)
    if trainer is None:
        trainer = CompiledTrainer(config, precision)
    trainer.reset(start_model, config, steps_per_epoch)
    try:
        yield trainer
    finally:
        with _idle_lock:
            _idle_trainers.append(trainer)
            while sum(idle.parameter_count for idle in _idle_trainers) > IDLE_PARAMETER_BUDGET:
                _idle_trainers.pop(0)

