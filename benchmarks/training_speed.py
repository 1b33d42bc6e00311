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
and compiling) and the speed-up ratios, and for the engine the GFLOP/s it achieved and its share of
the machine's peak. The CNN is compared on each arithmetic path (mnist_core/precision.py): float32,
and mixed bfloat16 where the CPU has native bfloat16, the engine and `Model.fit` on the same path.
Then it trains the CNN's preset with several seeds, on this machine's path, and reports the seconds of
training each took to pass 99.0% accuracy on the test set, and their median.

How the figures are computed:
- A training example costs 3 forward passes' worth of arithmetic (the forward pass, and a backward
  pass of about twice its work), 2 FLOP per multiply-add; the forward multiply-adds of each layer are
  fair_share.layer_costs'. An epoch also measures the training sample and the validation set, one
  forward pass each. Elementwise work (ReLU, pooling, Adam's update) is not counted: the figure is a
  lower bound on what the machine did.
- The nominal peak is cores x clock x float32 FLOP per cycle per core: 64 with AVX-512 on Intel (two
  512-bit FMA units), 32 on AMD's AVX-512 (Zen 4 runs it on 256-bit units) and with AVX2 + FMA, from
  /proc/cpuinfo (the clock: the highest "cpu MHz" listed; turbo may go higher). The bfloat16 peak is
  twice it (avx512_bf16's dot product does two multiply-adds per float32 lane). A large matmul is
  timed too, in each: what this machine's TensorFlow really reaches.
Ratios are the point: the absolute seconds depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from mnist_core import TrainConfig, load_mnist, split_dataset, train
from mnist_core.config import split_for_config, steps_per_epoch
from mnist_core.fair_share import layer_costs
from mnist_core.kernels import choose_kernel_library
from mnist_core.models import build_model, evaluate, make_optimizer
from mnist_core.precision import FLOAT32, MIXED_BFLOAT16, cpu_flags, machine_precision, native_bfloat16
from mnist_core.quiet_tensorflow import keras, tf


def steady_epoch_seconds(epoch_seconds: list[float]) -> float:
    """Mean seconds of the epochs after the first (the first also traces and compiles)."""
    return statistics.mean(epoch_seconds[1:]) if len(epoch_seconds) > 1 else epoch_seconds[0]


FLAGS_OF_NOTE = {"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_tile"}


def cpu_facts() -> dict[str, str]:
    """The first processor's lines of /proc/cpuinfo, by name (empty where there is no such file)."""
    facts = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().split("\n\n")[0].splitlines():
            name, _, value = line.partition(":")
            facts[name.strip()] = value.strip()
    except OSError:
        pass
    return facts


def nominal_peak_gflops() -> tuple[float, str]:
    """The machine's float32 peak, as the module's docstring computes it, and how."""
    facts = cpu_facts()
    flags = cpu_flags()
    cores = len(os.sched_getaffinity(0))
    megahertz = max((float(line.partition(":")[2]) for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("cpu MHz")), default=0.0)
    if "avx512f" in flags:
        per_cycle = 32 if facts.get("vendor_id") == "AuthenticAMD" else 64
    elif {"avx2", "fma"} <= flags:
        per_cycle = 32
    else:
        per_cycle = 8
    peak = cores * megahertz / 1000 * per_cycle
    how = f"{cores} cores x {megahertz / 1000:.2f} GHz x {per_cycle} float32 FLOP a cycle ({facts.get('model name', '?')})"
    return peak, how


def matmul_gflops(dtype, size: int = 2048, repeats: int = 20) -> float:
    """GFLOP/s of a large square matmul in `dtype`: what TensorFlow reaches on this machine at best."""
    a = tf.random.uniform([size, size], dtype=tf.float32)
    a = tf.cast(a, dtype)

    @tf.function
    def products():
        total = tf.zeros([size, size], dtype)
        for _ in tf.range(repeats):
            total += tf.matmul(a, a)
        return total

    products()
    start = time.perf_counter()
    products().numpy()
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def epoch_gflop(config: TrainConfig, split) -> float:
    """The arithmetic of one engine epoch, in GFLOP: training every example, then measuring the training
    sample and the validation set (see the module's docstring)."""
    forward_flop = 2 * sum(operations for _, operations in layer_costs(config))
    measured = min(config.train_metrics_sample, len(split.train_labels)) + len(split.validation_labels)
    return (3 * forward_flop * len(split.train_labels) + forward_flop * measured) / 1e9


def time_engine(config: TrainConfig, split, precision: str) -> tuple[list[float], float]:
    training = train(config, split=split, precision=precision)
    seconds = [result.seconds for result in training]
    return seconds, training.history[-1].val_acc


def time_model_fit(config: TrainConfig, split, precision: str) -> tuple[list[float], float]:
    model = build_model(config, precision)
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


def time_eager_loop(config: TrainConfig, split, precision: str) -> tuple[list[float], float]:
    model = build_model(config, precision)
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


def compare_loops(model_name: str, epochs: int, split, with_eager: bool, precision: str = FLOAT32,
                  rounds: int = 2) -> dict[str, float]:
    """The engine, `Model.fit` and (if asked) the eager loop, on the model's preset at its batch size, in `precision`.
    The fast ways train `rounds` times, taking turns, and each keeps its fastest: a shared machine's
    neighbours made one way's epochs up to 40% slower in one run than in the next."""
    config = TrainConfig.for_model(model_name, epochs=epochs)
    print(f"\n{model_name}, {precision}: batch {config.batch_size}, {epochs} epochs each, {len(split.train_labels)} training "
          f"examples, the fastest of {rounds} turns")
    ways = [("engine", time_engine), ("fit", time_model_fit)] + ([("eager", time_eager_loop)] if with_eager else [])
    turns = {name: [] for name, _ in ways}
    for turn in range(rounds):
        for name, timer in ways:
            if name == "eager" and turn > 0:
                continue  # a minute an epoch for the CNN, and far behind either way
            seconds, val_acc = timer(config, split, precision)
            turns[name].append(steady_epoch_seconds(seconds))
            print(f"  {name:7s} {turns[name][-1]:7.3f} s/epoch (first epoch {seconds[0]:.2f} s), final val_acc {val_acc:.4f}")
    per_epoch = {name: min(seconds) for name, seconds in turns.items()}
    for name in per_epoch:
        if name != "engine":
            print(f"  engine is {per_epoch[name] / per_epoch['engine']:.1f}x faster per epoch than {name}")
    achieved = epoch_gflop(config, split) / per_epoch["engine"]
    peak, _ = nominal_peak_gflops()
    # avx512_bf16's dot products do two bfloat16 multiply-adds where float32 does one: twice the peak.
    peak, kind = (2 * peak, "bfloat16") if precision == MIXED_BFLOAT16 else (peak, "float32")
    print(f"  engine: {epoch_gflop(config, split):.1f} GFLOP an epoch, {achieved:.1f} GFLOP/s"
          + (f", {achieved / peak:.0%} of the nominal {kind} peak ({peak:.0f} GFLOP/s)" if peak else ""))
    return per_epoch


def time_to_test_accuracy(model_name: str, target: float, dataset, seeds: list[int]) -> None:
    """Train the model's preset with each seed; after each epoch sit the test set (here, only to time it).
    Prints each seed's seconds of training to `target`, and their median (a seed that never reaches it
    counts as never)."""
    print(f"\n{model_name} preset, {machine_precision(model_name)} (this machine's path), seconds of training to "
          f"{target:.1%} test accuracy, seeds {seeds}:")
    times = []
    for seed in seeds:
        config = TrainConfig.for_model(model_name, seed=seed)
        split = split_for_config(dataset, config)
        training = train(config, split=split)
        training_seconds, reached, accuracies = 0.0, None, []
        for result in training:
            training_seconds += result.seconds
            _, test_acc = evaluate(training.model, split.test_images, split.test_labels)
            accuracies.append(f"{test_acc:.2%}")
            if reached is None and test_acc >= target:
                reached = training_seconds
        times.append(reached if reached is not None else float("inf"))
        print(f"  seed {seed}: test accuracy by epoch {', '.join(accuracies)}; "
              + (f"{target:.1%} after {reached:.1f} s" if reached else f"never {target:.1%}"))
    median = statistics.median(times)
    print(f"  median: {median:.1f} s" if median != float("inf") else f"  median: never {target:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--linear-epochs", type=int, default=4)
    parser.add_argument("--cnn-epochs", type=int, default=3)
    parser.add_argument("--skip-time-to-accuracy", action="store_true")
    parser.add_argument("--skip-linear", action="store_true")
    parser.add_argument("--cnn-eager", action="store_true", help="also time the CNN in the eager loop (about a minute an epoch)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the time to 99%%")
    arguments = parser.parse_args()

    dataset = load_mnist()
    split = split_dataset(dataset)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {tf.config.threading.get_intra_op_parallelism_threads() or 'all'} threads")
    peak, how = nominal_peak_gflops()
    print(f"Nominal float32 peak: {peak:.0f} GFLOP/s = {how}")
    print(f"CPU flags of note: {' '.join(sorted(cpu_flags() & FLAGS_OF_NOTE))}")
    print(f"Kernels: {choose_kernel_library()}'s, for every way below (mnist_core/kernels.py; "
          "benchmarks/kernel_libraries.py compares the two)")
    print(f"A 2048x2048 matmul reaches {matmul_gflops(tf.float32):.0f} GFLOP/s in float32"
          + (f", {matmul_gflops(tf.bfloat16):.0f} in bfloat16" if native_bfloat16() else ""))
    if not arguments.skip_linear:
        compare_loops("linear", arguments.linear_epochs, split, with_eager=True)
    paths = [FLOAT32, MIXED_BFLOAT16] if native_bfloat16() else [FLOAT32]
    cnn_epochs = {path: compare_loops("cnn", arguments.cnn_epochs, split, arguments.cnn_eager, path)["engine"] for path in paths}
    if len(paths) > 1:
        print(f"\ncnn: the engine's epoch in mixed bfloat16 is {cnn_epochs[FLOAT32] / cnn_epochs[MIXED_BFLOAT16]:.2f}x "
              "as fast as in float32")
    if not arguments.skip_time_to_accuracy:
        time_to_test_accuracy("cnn", 0.99, dataset, arguments.seeds)


if __name__ == "__main__":
    main()
