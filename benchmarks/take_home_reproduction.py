"""How close the take-home program comes to the app's run of the same settings, over whole runs.

    .venv/bin/python benchmarks/take_home_reproduction.py [--models linear mlp cnn] [--dataset mnist]

Each model's preset is trained twice, side by side: by the engine (mnist_core.train, compiled chunks of
steps) and by the take-home script (mnist_core/take_home.py: the note's plain loop, one tf.function
step per batch) in a fresh `python -I` process that cannot import the app, reading the same pictures
(DATASET_FILE: the app's verified copy of Keras' arrays). The program computes in float32; the app is run
in float32 and, where it differs, in this machine's arithmetic for the model (mnist_core/precision.py).
Printed per model and app path: every epoch's validation
accuracy both ways, the largest gap in loss and in accuracy points, and each side's seconds of
training. The gap is what the notebook's introduction promises (take_home.FULL_RUN_CLOSENESS_POINTS).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core import TrainConfig, load_dataset, train
from mnist_core.config import MODEL_NAMES
from mnist_core.data import DATASET_NAMES, data_file, dataset_facts
from mnist_core.precision import FLOAT32, machine_precision
from mnist_core.take_home import script_text

EPOCH_LINE = re.compile(r"Epoch (\d+): Loss: ([\d.]+), Accuracy: ([\d.]+)%, Validation loss: ([\d.]+), "
                        r"Validation accuracy: ([\d.]+)%")


def script_epochs(config: TrainConfig) -> tuple[list[tuple[float, float]], float]:
    """(validation loss, validation accuracy) per epoch of the take-home script's own run, and its wall seconds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "take_home.py"
        path.write_text(script_text(config, "en"), encoding="utf-8")
        environment = {**os.environ, "DATASET_FILE": str(data_file(config.dataset)),
                       "MPLBACKEND": "Agg"}
        environment.pop("PYTHONPATH", None)
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, "-I", str(path)], cwd=folder, env=environment, capture_output=True,
                                   text=True, check=True)
        seconds = time.perf_counter() - started
    return [(float(line[3]), float(line[4]) / 100) for line in EPOCH_LINE.findall(completed.stdout)], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=MODEL_NAMES, default=list(MODEL_NAMES))
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="mnist")
    arguments = parser.parse_args()
    dataset = load_dataset(arguments.dataset)
    for model in arguments.models:
        config = TrainConfig.for_model(model, dataset=arguments.dataset)
        script, script_seconds = script_epochs(config)
        # The program computes in float32; the app in this machine's path for the model, and in float32 too.
        for precision in dict.fromkeys([FLOAT32, machine_precision(model)]):
            history = list(train(config, dataset, precision=precision))
            engine = [(result.val_loss, result.val_acc) for result in history]
            assert len(script) == len(engine), (len(script), len(engine))
            print(f"\n{model} ({dataset_facts(config.dataset).title}, {config.epochs} epochs), the app in {precision}: "
                  "validation accuracy per epoch")
            for epoch, ((_, engine_accuracy), (_, script_accuracy)) in enumerate(zip(engine, script), start=1):
                print(f"  epoch {epoch:2d}: app {engine_accuracy:.3%}  script {script_accuracy:.3%}  "
                      f"gap {(script_accuracy - engine_accuracy) * 100:+.3f} points")
            loss_gap = max(abs(a[0] - b[0]) for a, b in zip(engine, script))
            accuracy_gap = max(abs(a[1] - b[1]) for a, b in zip(engine, script)) * 100
            print(f"  largest gap: {loss_gap:.4f} in validation loss, {accuracy_gap:.3f} points of validation accuracy")
            print(f"  seconds: app {sum(result.seconds for result in history):.1f} of training; "
                  f"script {script_seconds:.1f} in all (its process, TensorFlow's start and its measuring included)")

if __name__ == "__main__":
    main()
