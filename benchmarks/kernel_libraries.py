"""Which kernel library should TensorFlow use on this machine: oneDNN or its own (Eigen)? Side by side.

    .venv/bin/python benchmarks/kernel_libraries.py [--rounds 2] [--models linear mlp cnn]

TensorFlow turns oneDNN on by itself only where the CPU has the newer neural-network instructions
(AVX-512 VNNI or bfloat16, AVX-VNNI, AMX); on a CPU with AVX2 alone it keeps its own Eigen kernels.
mnist_core/kernels.py may turn oneDNN on there too. The library is chosen once, when TensorFlow
starts (the variable TF_ENABLE_ONEDNN_OPTS), so each measurement is a fresh process, the two
libraries taking turns `rounds` times, each keeping its fastest.

For each model's preset it measures the engine's training epoch (the mean of the epochs after the
first, which also traces), and the Exam's pass over the 10,000 test digits (the median of 5), as
the pages do it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIBRARIES = {"eigen": "0", "onednn": "1"}
EPOCHS = {"linear": 3, "mlp": 3, "cnn": 2}


def measure_in_this_process(model_name: str) -> dict:
    """One model's steady training epoch and test-set pass, with whichever library this process has."""
    from mnist_core import TrainConfig, load_mnist, train
    from mnist_core.config import split_for_config
    from mnist_core.models import evaluate
    from mnist_core.quiet_tensorflow import onednn_enabled

    config = TrainConfig.for_model(model_name, epochs=EPOCHS[model_name])
    split = split_for_config(load_mnist(), config)
    training = train(config, split=split)
    seconds = [result.seconds for result in training]
    exam_seconds = []
    for _ in range(5):
        start = time.perf_counter()
        evaluate(training.model, split.test_images, split.test_labels)
        exam_seconds.append(time.perf_counter() - start)
    return {"onednn": onednn_enabled(), "epoch": statistics.mean(seconds[1:]), "exam": statistics.median(exam_seconds),
            "val_acc": training.history[-1].val_acc}


def measure_in_fresh_process(model_name: str, library: str) -> dict:
    environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": LIBRARIES[library]}
    child = subprocess.run([sys.executable, __file__, "--child", model_name], env=environment, capture_output=True,
                           text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(EPOCHS), choices=list(EPOCHS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(measure_in_this_process(arguments.child)))
        return

    # Only the children load TensorFlow: this process just takes turns starting them.
    from mnist_core.kernels import ONEDNN_FLAGS, TENSORFLOW_ONEDNN_FLAGS, choose_kernel_library
    from mnist_core.precision import cpu_flags

    print(f"CPU flags that choose: {' '.join(sorted(cpu_flags() & (ONEDNN_FLAGS | TENSORFLOW_ONEDNN_FLAGS))) or 'none'}")
    print(f"mnist_core.kernels chooses: {choose_kernel_library()}")
    for model_name in arguments.models:
        best = {library: {"epoch": float("inf"), "exam": float("inf")} for library in LIBRARIES}
        for _ in range(arguments.rounds):
            for library in LIBRARIES:
                figures = measure_in_fresh_process(model_name, library)
                assert figures["onednn"] == (library == "onednn"), f"asked for {library}, TensorFlow says {figures['onednn']}"
                print(f"  {model_name:6s} {library:6s} epoch {figures['epoch']:6.3f} s, test set {figures['exam']:.3f} s, "
                      f"val_acc {figures['val_acc']:.4f}")
                for key in ("epoch", "exam"):
                    best[library][key] = min(best[library][key], figures[key])
        print(f"{model_name}: oneDNN's epoch is {best['eigen']['epoch'] / best['onednn']['epoch']:.2f}x as fast as Eigen's, "
              f"its test-set pass {best['eigen']['exam'] / best['onednn']['exam']:.2f}x (the fastest of {arguments.rounds})")


if __name__ == "__main__":
    main()
