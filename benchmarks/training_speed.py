"""How fast is MNIST Lab's training loop? Three ways to train the same model, side by side, in one run.

    .venv/bin/python benchmarks/training_speed.py            (or: make benchmark)

For each model, the same Keras model (built by mnist_core from the same config), the same data and
the same batch size are trained by:

1. engine: mnist_core.train, compiled chunks of steps, training and validation metrics measured at
   every epoch end;
2. fit: Keras `Model.fit` with validation data (Keras' own compiled loop, `jit_compile="auto"`);
3. eager: the plain eager GradientTape loop, a Python loop over batches with no tf.function,
   measuring the full training and validation sets at every epoch end.

It prints seconds per epoch (the mean of the epochs after the first, which also pays for tracing
and compiling) and the speed-up ratios. Then it trains the CNN's default config and reports how many
seconds of training it takes to pass 99.0% accuracy on the test set. Ratios are the point: the
absolute seconds depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from mnist_core import TrainConfig, load_mnist, split_dataset, train
from mnist_core.config import steps_per_epoch
from mnist_core.models import build_model, evaluate, make_optimizer
from mnist_core.quiet_tensorflow import keras, tf


def steady_epoch_seconds(epoch_seconds: list[float]) -> float:
    """Mean seconds of the epochs after the first (the first also traces and compiles)."""
    return statistics.mean(epoch_seconds[1:]) if len(epoch_seconds) > 1 else epoch_seconds[0]


def time_engine(config: TrainConfig, split) -> tuple[list[float], float]:
    training = train(config, split=split)
    seconds = [result.seconds for result in training]
    return seconds, training.history[-1].val_acc


def time_model_fit(config: TrainConfig, split) -> tuple[list[float], float]:
    model = build_model(config)
    model.compile(optimizer=make_optimizer(config, steps_per_epoch(len(split.train_labels), config.batch_size)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    history = model.fit(split.train_images.astype(np.float32) / 255.0, split.train_labels.astype(np.int32),
                        batch_size=config.batch_size, epochs=config.epochs, shuffle=True, verbose=0,
                        validation_data=(split.validation_images.astype(np.float32) / 255.0,
                                         split.validation_labels.astype(np.int32)),
                        callbacks=[EpochTimer()])
    return seconds, float(history.history["val_accuracy"][-1])


def time_eager_loop(config: TrainConfig, split) -> tuple[list[float], float]:
    model = build_model(config)
    optimizer = make_optimizer(config, steps_per_epoch(len(split.train_labels), config.batch_size))
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    images = split.train_images.astype(np.float32) / 255.0
    labels = split.train_labels.astype(np.int32)
    validation_images = split.validation_images.astype(np.float32) / 255.0
    validation_labels = split.validation_labels.astype(np.int32)
    rng = np.random.default_rng(config.seed)

    def full_set_metrics(x, y):
        logits = model(x, training=False)
        loss = float(cross_entropy(y, logits))
        return loss, float(np.mean(np.argmax(logits, axis=1) == y))

    seconds, val_acc = [], 0.0
    for _ in range(config.epochs):
        start = time.perf_counter()
        order = rng.permutation(len(labels))
        for first in range(0, len(labels), config.batch_size):
            batch = order[first:first + config.batch_size]
            with tf.GradientTape() as tape:
                loss = cross_entropy(labels[batch], model(images[batch], training=True))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        full_set_metrics(images, labels)
        _, val_acc = full_set_metrics(validation_images, validation_labels)
        seconds.append(time.perf_counter() - start)
    return seconds, val_acc


def compare_loops(model_name: str, epochs: int, batch_size: int, split, with_eager: bool) -> dict[str, float]:
    config = TrainConfig.for_model(model_name, epochs=epochs, batch_size=batch_size)
    print(f"\n{model_name}: batch {batch_size}, {epochs} epochs each, {len(split.train_labels)} training examples")
    ways = [("engine", time_engine), ("fit", time_model_fit)] + ([("eager", time_eager_loop)] if with_eager else [])
    per_epoch = {}
    for name, timer in ways:
        seconds, val_acc = timer(config, split)
        per_epoch[name] = steady_epoch_seconds(seconds)
        print(f"  {name:7s} {per_epoch[name]:7.3f} s/epoch (first epoch {seconds[0]:.2f} s), final val_acc {val_acc:.4f}")
    for name in per_epoch:
        if name != "engine":
            print(f"  engine is {per_epoch[name] / per_epoch['engine']:.1f}x faster per epoch than {name}")
    return per_epoch


def time_to_test_accuracy(model_name: str, target: float, dataset, split) -> None:
    """Train the model's default config; after each epoch sit the test set (here, only to time it)."""
    config = TrainConfig.for_model(model_name)
    training = train(config, split=split)
    training_seconds = 0.0
    print(f"\n{model_name} default config, time to {target:.1%} test accuracy:")
    reached = None
    for result in training:
        training_seconds += result.seconds
        _, test_acc = evaluate(training.model, split.test_images, split.test_labels)
        print(f"  epoch {result.epoch}: {training_seconds:6.1f} s of training, test_acc {test_acc:.4f}")
        if reached is None and test_acc >= target:
            reached = training_seconds
    print(f"  reached {target:.1%} after {reached:.1f} s of training" if reached else f"  never reached {target:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--linear-epochs", type=int, default=4)
    parser.add_argument("--cnn-epochs", type=int, default=3)
    parser.add_argument("--skip-time-to-accuracy", action="store_true")
    parser.add_argument("--skip-linear", action="store_true")
    parser.add_argument("--cnn-eager", action="store_true", help="also time the CNN in the eager loop (about a minute an epoch)")
    arguments = parser.parse_args()

    dataset = load_mnist()
    split = split_dataset(dataset)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {tf.config.threading.get_intra_op_parallelism_threads() or 'all'} threads")
    if not arguments.skip_linear:
        compare_loops("linear", arguments.linear_epochs, 100, split, with_eager=True)
    compare_loops("cnn", arguments.cnn_epochs, 64, split, with_eager=arguments.cnn_eager)
    if not arguments.skip_time_to_accuracy:
        time_to_test_accuracy("cnn", 0.99, dataset, split)


if __name__ == "__main__":
    main()
