"""What each cure the app suggests does to the overfitting preset: measured side by side in one run.

    .venv/bin/python benchmarks/overfitting_cures.py [--epochs 40] [--seeds 0 1] [--dataset fashion_mnist]

The preset (a big MLP on a few hundred training digits, no regularisation) is trained once as it is
and once with each cure the Train and Compare pages name: dropout, an L2 penalty, ten times as many
training digits, augmentation, early stopping. Each line gives, averaged over the seeds, the final
training and validation accuracy, the gap between them (in percentage points), the best validation
accuracy, and how far validation loss rose from its lowest point by the end (the "turns upward"
the page tells students to watch). The page's words about the cures are taken from this table:
`mnist_core.config.OVERFITTING_CURES` must say only what it supports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core import TrainConfig, load_dataset, train
from mnist_core.config import AUGMENTATION_AMOUNTS, OVERFITTING_PRESET
from mnist_core.data import DATASET_NAMES


def cures(preset: dict) -> dict[str, dict]:
    """The cures as the pages offer them, each a change to `preset` (augmentation as it suits its dataset)."""
    return {
        "none (the preset)": {},
        "dropout 0.5": {"dropout": 0.5},
        "L2 0.0001": {"l2": 0.0001},
        "L2 0.001": {"l2": 0.001},
        "10x the digits": {"train_subset_size": 10 * preset["train_subset_size"]},
        "augmentation": AUGMENTATION_AMOUNTS[preset["dataset"]],
        "early stopping (patience 3)": {"early_stopping_patience": 3},
    }


def measure(config: TrainConfig, dataset) -> dict[str, float]:
    history = list(train(config, dataset))
    last = history[-1]
    lowest_val_loss = min(result.val_loss for result in history)
    return {"train_acc": last.train_acc, "val_acc": last.val_acc, "gap": last.train_acc - last.val_acc,
            "best_val_acc": max(result.val_acc for result in history), "val_loss_rise": last.val_loss - lowest_val_loss,
            "epochs": len(history), "seconds": sum(result.seconds for result in history)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=OVERFITTING_PRESET["epochs"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--dataset", choices=DATASET_NAMES, default="mnist")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change the preset itself before the cures (e.g. --set hidden_units=512)")
    arguments = parser.parse_args()
    dataset = load_dataset(arguments.dataset)
    preset = {**OVERFITTING_PRESET, "epochs": arguments.epochs, "dataset": arguments.dataset}
    for change in arguments.set:
        name, value = change.split("=", 1)
        preset[name] = json.loads(value) if value[:1].isdigit() else value  # a number, or a word such as "sgd"
    print(f"The overfitting preset: {preset}")
    print(f"Averaged over seeds {arguments.seeds}.")
    print(f"{'cure':<28} {'train acc':>9} {'val acc':>8} {'gap':>7} {'best val':>9} {'val loss rise':>13} "
          f"{'epochs':>6} {'seconds':>7}")
    for label, change in cures(preset).items():
        runs = [measure(TrainConfig(**{**preset, **change, "seed": seed}), dataset) for seed in arguments.seeds]
        mean = {key: statistics.mean(run[key] for run in runs) for key in runs[0]}
        print(f"{label:<28} {mean['train_acc']:9.1%} {mean['val_acc']:8.1%} {mean['gap'] * 100:6.1f}p "
              f"{mean['best_val_acc']:9.1%} {mean['val_loss_rise']:13.3f} {mean['epochs']:6.1f} {mean['seconds']:7.1f}",
              flush=True)


if __name__ == "__main__":
    main()
