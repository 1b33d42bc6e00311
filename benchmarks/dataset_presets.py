"""Each model's preset on each dataset: test accuracy and training time, side by side in one run.

    .venv/bin/python benchmarks/dataset_presets.py [--seeds 0] [--datasets mnist fashion_mnist] [--set epochs=3]

The Train page starts each model from its preset on the chosen dataset (mnist_core.config's
MODEL_PRESETS and FASHION_MNIST_PRESETS). The presets promise a test accuracy: on MNIST linear >= 92%,
MLP >= 98%, CNN >= 99%; on Fashion-MNIST linear >= 84%, MLP >= 88%, CNN >= 91% (Zalando's own table
puts logistic regression at about 84% and an MLP at about 87%). This trains every preset on all the
training data and prints its test accuracy (the final exam: the test set, never seen in training),
its best validation accuracy, and its seconds of training, so the targets are checked, not assumed.
The last lines train the overfitting preset on each dataset: it must still overfit (a wide gap
between training and validation accuracy).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core import TrainConfig, load_dataset, train
from mnist_core.config import MODEL_NAMES, OVERFITTING_PRESET
from mnist_core.data import DATASET_NAMES, dataset_facts
from mnist_core.models import evaluate

TARGETS = {"mnist": {"linear": 0.92, "mlp": 0.98, "cnn": 0.99}, "fashion_mnist": {"linear": 0.84, "mlp": 0.88, "cnn": 0.91}}


def measure(config: TrainConfig, dataset) -> dict[str, float]:
    training = train(config, dataset)
    history = list(training)
    (_train, _labels), (test_images, test_labels) = dataset
    _loss, test_accuracy = evaluate(training.model, test_images, test_labels)
    return {"test_acc": test_accuracy, "best_val_acc": max(result.val_acc for result in history),
            "train_acc": history[-1].train_acc, "val_acc": history[-1].val_acc,
            "epochs": len(history), "seconds": sum(result.seconds for result in history)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASET_NAMES, default=list(DATASET_NAMES))
    parser.add_argument("--models", nargs="+", choices=MODEL_NAMES, default=list(MODEL_NAMES))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change every preset (e.g. --set epochs=10), to try a new one")
    parser.add_argument("--no-overfitting", action="store_true", help="leave out the overfitting preset's lines")
    arguments = parser.parse_args()
    changes = {}
    for change in arguments.set:
        name, value = change.split("=", 1)
        changes[name] = json.loads(value) if value[:1].isdigit() else value  # a number, or a word such as "sgd"
    print(f"Averaged over seeds {arguments.seeds}; changes to every preset: {changes or 'none'}.")
    print(f"{'dataset':<14} {'model':<7} {'test acc':>8} {'target':>7} {'best val':>8} {'epochs':>6} {'seconds':>7}")
    for dataset_name in arguments.datasets:
        dataset = load_dataset(dataset_name)
        for model in arguments.models:
            runs = [measure(TrainConfig.for_model(model, dataset=dataset_name, seed=seed, **changes), dataset)
                    for seed in arguments.seeds]
            mean = {key: statistics.mean(run[key] for run in runs) for key in runs[0]}
            target = TARGETS[dataset_name][model]
            verdict = "ok" if mean["test_acc"] >= target else "BELOW"
            print(f"{dataset_facts(dataset_name).title:<14} {model:<7} {mean['test_acc']:8.2%} {target:7.0%} "
                  f"{mean['best_val_acc']:8.2%} {mean['epochs']:6.1f} {mean['seconds']:7.1f}  {verdict}", flush=True)
    if arguments.no_overfitting:
        return
    print("\nThe overfitting preset (must still overfit):")
    print(f"{'dataset':<14} {'train acc':>9} {'val acc':>8} {'gap':>7} {'seconds':>7}")
    for dataset_name in arguments.datasets:
        dataset = load_dataset(dataset_name)
        runs = [measure(TrainConfig(**{**OVERFITTING_PRESET, "dataset": dataset_name, "seed": seed}), dataset)
                for seed in arguments.seeds]
        mean = {key: statistics.mean(run[key] for run in runs) for key in runs[0]}
        print(f"{dataset_facts(dataset_name).title:<14} {mean['train_acc']:9.1%} {mean['val_acc']:8.1%} "
              f"{(mean['train_acc'] - mean['val_acc']) * 100:6.1f}p {mean['seconds']:7.1f}", flush=True)


if __name__ == "__main__":
    main()
