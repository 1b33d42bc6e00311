"""How good is the time estimate a page shows before training? Estimated and measured, side by side.

    .venv/bin/python benchmarks/time_estimate.py

For each config (from the quickest to the shapes that hog a server: batch 1, wide layers), it trains
two epochs on a training subset sized so an epoch takes a few seconds, and compares the second
epoch's measured seconds (the first also compiles) with `fair_share.estimated_training_seconds` for
one epoch. The cost model's three constants in fair_share.py were fitted to this output.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_core import TrainConfig, load_mnist, train
from mnist_core.fair_share import estimated_training_seconds, parameter_count

CASES = [  # (label, config overrides, training examples)
    ("linear, batch 100", {"model": "linear"}, 20000),
    ("linear, batch 1", {"model": "linear", "batch_size": 1}, 2000),
    ("MLP 256x2, batch 100", {"model": "mlp", "hidden_units": 256, "hidden_layers": 2, "batch_size": 100}, 20000),
    ("MLP 1024x4, batch 1", {"model": "mlp", "hidden_units": 1024, "hidden_layers": 4, "batch_size": 1}, 500),
    ("MLP 1024x4, batch 1024", {"model": "mlp", "hidden_units": 1024, "hidden_layers": 4, "batch_size": 1024}, 10000),
    ("CNN preset, batch 64", {"model": "cnn", "batch_size": 64}, 5000),
    ("CNN 64 filters 1024 wide, batch 1", {"model": "cnn", "cnn_filters": 64, "hidden_units": 1024, "batch_size": 1}, 200),
    ("CNN 64 filters 1024 wide, batch 256", {"model": "cnn", "cnn_filters": 64, "hidden_units": 1024, "batch_size": 256}, 2000),
]


def main() -> None:
    dataset = load_mnist()
    print(f"{'config':38s} {'parameters':>11s} {'estimated s':>12s} {'measured s':>11s} {'ratio':>6s}")
    for label, overrides, examples in CASES:
        config = TrainConfig.for_model(overrides.pop("model"), **overrides, epochs=2, train_subset_size=examples,
                                       train_metrics_sample=1000, validation_fraction=0.02)
        estimate = estimated_training_seconds(config, len(dataset[0][1])) / config.epochs
        epoch_seconds = [result.seconds for result in train(config, dataset)]
        measured = epoch_seconds[-1]
        print(f"{label:38s} {parameter_count(config):11,d} {estimate:12.2f} {measured:11.2f} {measured / estimate:6.2f}", flush=True)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s in all)")
