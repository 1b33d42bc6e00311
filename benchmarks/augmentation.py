"""What augmentation costs, and what it does to overfitting: measured side by side in one run.

    .venv/bin/python benchmarks/augmentation.py [--epochs 3] [--overfitting-epochs 40]

1. Cost. The CNN preset on all of MNIST, trained once without augmentation and once with every kind
   (shift 2 px, rotation 15 degrees, size +-15%, pen thickness +-0.5), the two runs alternating
   epoch by epoch in one process, so a busy machine slows both alike. The first epoch of each run
   (tracing the compiled step) is left out; the median seconds of the others are compared. The
   issue's bound: at most 15% on a CNN epoch. Then the same two compiled steps alone, alternating
   chunks of 50 steps many times: the median seconds a step, steadier than whole epochs on a
   machine that is not quiet.
2. Regularisation. The overfitting preset (a big MLP on 500 training digits, no dropout, no L2),
   without and with the same augmentation: the gap between training and validation accuracy at the
   end, and the best validation accuracy. Augmentation should close the gap.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from mnist_core import TrainConfig, load_mnist, train
from mnist_core.config import OVERFITTING_PRESET, split_for_config
from mnist_core.models import build_model
from mnist_core.quiet_tensorflow import tf
from mnist_core.trainers import CompiledTrainer

EVERY_KIND = {"augment_shift": 2.0, "augment_rotation": 15.0, "augment_scale": 0.15, "augment_thickness": 0.5}


def alternating_epoch_seconds(configs: dict[str, TrainConfig], dataset) -> dict[str, list[float]]:
    """Each config's epoch seconds, its runs advanced one epoch at a time in turn."""
    runs = {name: iter(train(config, dataset)) for name, config in configs.items()}
    seconds = {name: [] for name in configs}
    while runs:
        for name in list(runs):
            result = next(runs[name], None)
            if result is None:
                del runs[name]
            else:
                seconds[name].append(result.seconds)
    return seconds


def seconds_per_step(configs: dict[str, TrainConfig], dataset, rounds: int = 20, steps: int = 50) -> dict[str, float]:
    """The median seconds of one compiled step for each config, chunks of `steps` steps alternating."""
    import time

    split = split_for_config(dataset, next(iter(configs.values())))
    images, labels = tf.constant(split.train_images), tf.constant(split.train_labels.astype(np.int32))
    order = tf.constant(np.random.default_rng(0).permutation(len(split.train_labels)), tf.int32)
    trainers = {}
    for name, config in configs.items():
        trainer = CompiledTrainer(config)
        trainer.reset(build_model(config), config, steps_per_epoch=1000)
        trainer.start_epoch(config.seed, 1, len(split.train_labels))
        trainer.train_chunk(images, labels, order, tf.constant(config.batch_size), tf.constant(0), tf.constant(steps))  # trace
        trainers[name] = trainer
    timings = {name: [] for name in configs}
    # Chunks start within the epoch's full batches (a step past them would train on no digits at all).
    full_batches = len(split.train_labels) // max(config.batch_size for config in configs.values())
    for round_number in range(rounds):
        for name, trainer in trainers.items():
            first = tf.constant((round_number * steps) % (full_batches - steps))
            started = time.perf_counter()
            losses, _right = trainer.train_chunk(images, labels, order, tf.constant(configs[name].batch_size), first,
                                                 tf.constant(steps))
            losses.numpy()
            timings[name].append((time.perf_counter() - started) / steps)
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each CNN run (the first is left out)")
    parser.add_argument("--overfitting-epochs", type=int, default=40, help="epochs of each overfitting run")
    arguments = parser.parse_args()
    dataset = load_mnist()

    cnn = TrainConfig.for_model("cnn", epochs=arguments.epochs, learning_rate_schedule="constant")
    seconds = alternating_epoch_seconds({"plain": cnn, "augmented": TrainConfig(**{**cnn.to_dict(), **EVERY_KIND})}, dataset)
    plain, augmented = (statistics.median(seconds[name][1:]) for name in ("plain", "augmented"))
    print(f"1. A CNN epoch on all of MNIST (median of epochs 2-{arguments.epochs}, the runs alternating epoch by epoch)")
    print(f"   without augmentation  {plain:6.2f} s")
    print(f"   with every kind       {augmented:6.2f} s   {augmented / plain - 1:+.1%}   (bound: +15%)")
    print(f"   every epoch, s: plain {[round(value, 2) for value in seconds['plain']]}, "
          f"augmented {[round(value, 2) for value in seconds['augmented']]}")
    steps = seconds_per_step({"plain": cnn, "augmented": TrainConfig(**{**cnn.to_dict(), **EVERY_KIND})}, dataset)
    print(f"   one compiled step (median of alternating chunks): plain {steps['plain'] * 1000:.2f} ms, "
          f"augmented {steps['augmented'] * 1000:.2f} ms, {steps['augmented'] / steps['plain'] - 1:+.1%}")

    print(f"\n2. The overfitting preset ({OVERFITTING_PRESET['train_subset_size']} training digits, "
          f"{arguments.overfitting_epochs} epochs), without and with augmentation")
    print("   augmentation   final training acc   final validation acc   gap      best validation acc")
    overfitting = TrainConfig(**{**OVERFITTING_PRESET, "epochs": arguments.overfitting_epochs})
    for label, config in (("none", overfitting), ("every kind", TrainConfig(**{**overfitting.to_dict(), **EVERY_KIND}))):
        history = list(train(config, dataset))
        last = history[-1]
        best = max(result.val_acc for result in history)
        print(f"   {label:<14} {last.train_acc:18.1%} {last.val_acc:22.1%} {last.train_acc - last.val_acc:8.1%} {best:16.1%}")


if __name__ == "__main__":
    main()
