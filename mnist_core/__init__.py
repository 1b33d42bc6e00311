"""MNIST Lab's engine: data, models, training and runs, usable without a browser.

Nothing here imports streamlit: the pages, the CLI, the tests and the benchmarks all call these names.
"""

from .data import MnistDataError, DatasetSplit, load_mnist, provision_mnist, split_dataset
from .models import build_model, count_parameters, predict_probabilities
from .training import (COMPLETED, DIVERGED, EARLY_STOPPED, RUNNING, STOPPED, EpochResult, TrainConfig,
                       Training, train)

__all__ = [
    "MnistDataError", "DatasetSplit", "load_mnist", "provision_mnist", "split_dataset",
    "build_model", "count_parameters", "predict_probabilities",
    "COMPLETED", "DIVERGED", "EARLY_STOPPED", "RUNNING", "STOPPED", "EpochResult", "TrainConfig", "Training", "train",
]
