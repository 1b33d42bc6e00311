"""What do iteration logging, per-epoch checkpoints and TensorBoard files cost? Measured side by side, in one run.

    .venv/bin/python benchmarks/logging_and_checkpoints.py          (or: make benchmark)

1. Iteration logging.
The engine's `train_chunk` now returns every step's batch loss and right answers (collected in
TensorArrays inside the compiled loop), and the loop averages them into the iteration curve
(results.IterationLog). The baseline is the chunk as it was before: the same textbook step returning
only its loss, reduced to one "all finite" flag inside the graph. Both train the same model with the
same optimizer on all of MNIST's training part, in chunks of the size the engine picks (about a
quarter of a second); the variants alternate epoch by epoch, so drifts of the machine hit both.
It prints the median seconds per epoch of each and the cost of logging in percent.

2. Checkpoints. A recorded run (train_and_record, all of MNIST) keeps its random start and every
epoch's weights; the time spent keeping them (checkpoint 0's write, and each epoch's hard link and
thinning) is timed inside the run and printed as a share of the run's training time.

3. TensorBoard. The same recorded run writes its curves as TensorBoard event files when it ends
(exports.write_curves_for_tensorboard, called by training.py as a run ends); that call is timed too, and printed
as a share of the run's training time.

The issue's bound for the three together is 5% of epoch time, for the linear model and the CNN; the
last line adds them up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tempfile

import numpy as np

from mnist_core import TrainConfig, exports, load_mnist, train_and_record
from mnist_core.config import split_for_config, steps_per_epoch
from mnist_core.data import IMAGE_SIZE
from mnist_core.models import images_to_input
from mnist_core.quiet_tensorflow import keras, tf
from mnist_core.results import IterationLog
from mnist_core.runs import writer as run_writer
from mnist_core.trainers import CompiledTrainer
from mnist_core.training import shuffled_order

CHUNK_SECONDS = 0.25  # training.py's CHUNK_TARGET_SECONDS


def chunk_without_logging(model, optimizer):
    """The chunk before iteration logging: the same step, its loss only checked for being finite."""
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = cross_entropy(labels, logits)
            if model.losses:
                loss += tf.add_n(model.losses)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    @tf.function(input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE], tf.uint8), tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
                                  tf.TensorSpec([], tf.int32)])
    def train_chunk(train_images, train_labels, order, batch_size, first_step, step_count):
        all_finite = tf.constant(True)
        for step in tf.range(first_step, first_step + step_count):
            batch = order[step * batch_size:(step + 1) * batch_size]
            loss = train_step(images_to_input(tf.gather(train_images, batch)), tf.gather(train_labels, batch))
            all_finite = tf.logical_and(all_finite, tf.math.is_finite(loss))
        return all_finite

    return train_chunk


def epoch_seconds(run_chunk, images, labels, steps: int, batch_size: int, chunk_steps: int, epoch: int) -> float:
    order = tf.constant(shuffled_order(0, epoch, len(labels)), dtype=tf.int32)
    started = time.perf_counter()
    for first in range(0, steps, chunk_steps):
        run_chunk(images, labels, order, tf.constant(batch_size, tf.int32), tf.constant(first, tf.int32),
                  tf.constant(min(chunk_steps, steps - first), tf.int32))
    return time.perf_counter() - started


def measure(model_name: str, epochs: int) -> tuple[float, float]:
    config = TrainConfig.for_model(model_name)
    split = split_for_config(load_mnist(), config)
    images, labels = tf.constant(split.train_images), tf.constant(split.train_labels.astype(np.int32))
    steps = steps_per_epoch(len(split.train_labels), config.batch_size)
    trainer = CompiledTrainer(config)
    trainer.learning_rate.set(config.learning_rate, 0)
    baseline = chunk_without_logging(trainer.model, trainer.optimizer)
    log = IterationLog(steps)

    def logged(train_images, train_labels, order, batch_size, first_step, step_count):
        losses, right_answers = trainer.train_chunk(train_images, train_labels, order, batch_size, first_step, step_count)
        losses = losses.numpy()
        bool(np.isfinite(losses).all())  # what the engine checks for divergence
        log.add(losses, right_answers.numpy() / int(batch_size))  # the engine also sizes the epoch's last batch

    def unlogged(*arguments):
        bool(baseline(*arguments))

    # Chunks as the engine sizes them: about a quarter of a second of steps.
    for variant in (logged, unlogged):  # trace and warm up both
        epoch_seconds(variant, images, labels, min(steps, 20), config.batch_size, 10, 0)
    started = time.perf_counter()
    epoch_seconds(unlogged, images, labels, 50, config.batch_size, 50, 0)
    chunk_steps = max(1, int(CHUNK_SECONDS / ((time.perf_counter() - started) / 50)))
    with_logging, without_logging = [], []
    for epoch in range(1, epochs + 1):  # which goes first alternates, so neither always runs on a warmer machine
        for variant, seconds in ((logged, with_logging), (unlogged, without_logging))[::1 if epoch % 2 else -1]:
            seconds.append(epoch_seconds(variant, images, labels, steps, config.batch_size, chunk_steps, epoch))
    return statistics.median(without_logging), statistics.median(with_logging)


def recorded_run_costs(model_name: str, epochs: int) -> tuple[float, float, float]:
    """(seconds keeping checkpoints, seconds writing the TensorBoard event files, seconds of training)
    for one recorded run: the time in RunRecorder._keep_checkpoint and in writing checkpoint 0 (the
    random start), and in the run's one call of exports.write_curves_for_tensorboard at its end."""
    spent = {"checkpoints": 0.0, "tensorboard": 0.0}
    real_keep, real_write = run_writer.RunRecorder._keep_checkpoint, run_writer.write_atomically
    real_tensorboard = exports.write_curves_for_tensorboard

    def timed(function, account, counts=lambda *arguments: True):
        def timed_function(*arguments):
            started = time.perf_counter()
            try:
                return function(*arguments)
            finally:
                if counts(*arguments):
                    spent[account] += time.perf_counter() - started
        return timed_function

    run_writer.RunRecorder._keep_checkpoint = timed(real_keep, "checkpoints")
    run_writer.write_atomically = timed(real_write, "checkpoints", lambda path, content: path.name == run_writer.checkpoint_name(0))
    exports.write_curves_for_tensorboard = timed(real_tensorboard, "tensorboard")  # training.py calls it through the module
    try:
        with tempfile.TemporaryDirectory() as runs_root:
            training = train_and_record(TrainConfig.for_model(model_name, epochs=epochs), load_mnist(), runs_root=Path(runs_root))
            list(training)
    finally:
        run_writer.RunRecorder._keep_checkpoint, run_writer.write_atomically = real_keep, real_write
        exports.write_curves_for_tensorboard = real_tensorboard
    return spent["checkpoints"], spent["tensorboard"], sum(result.seconds for result in training.history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per variant for the linear model (the CNN: a quarter)")
    arguments = parser.parse_args()
    print(f"{'model':8s} {'before, s/epoch':>16s} {'logging, s/epoch':>17s} {'cost':>7s}")
    logging_cost = {}
    for model_name in ("linear", "cnn"):
        before, after = measure(model_name, arguments.epochs if model_name == "linear" else max(2, arguments.epochs // 4))
        logging_cost[model_name] = after / before - 1
        print(f"{model_name:8s} {before:16.3f} {after:17.3f} {100 * logging_cost[model_name]:+6.1f}%", flush=True)
    print()
    print(f"{'model':8s} {'training, s':>12s} {'checkpoints, s':>15s} {'share':>7s} {'tensorboard, s':>15s} {'share':>7s}")
    together = {}
    for model_name, epochs in (("linear", 10), ("cnn", 2)):
        kept, written, trained = recorded_run_costs(model_name, epochs)
        together[model_name] = logging_cost[model_name] + (kept + written) / trained
        print(f"{model_name:8s} {trained:12.2f} {kept:15.4f} {100 * kept / trained:6.2f}% {written:15.4f} "
              f"{100 * written / trained:6.2f}%", flush=True)
    print()
    print("logging + checkpoints + TensorBoard: " + ", ".join(f"{name} {100 * cost:+.1f}%" for name, cost in together.items()))


if __name__ == "__main__":
    main()
