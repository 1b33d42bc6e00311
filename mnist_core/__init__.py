"""MNIST Lab's engine: data, models, training and runs, usable without a browser.

Nothing here imports streamlit: the pages, the CLI, the tests and the benchmarks all call these names.

The names are loaded lazily (PEP 562): `from mnist_core import TrainConfig` reads only the settings,
and TensorFlow (seconds to import) is loaded the first time a name that needs it, such
as `train` or `build_model`, is asked for. So `python -m mnist_core runs` answers at once, and the
data, runs and canvas modules import without TensorFlow.
"""

import importlib

# Each public name and the module that defines it.
_PUBLIC_NAMES = {
    "MnistDataError": "data", "DatasetSplit": "data", "load_mnist": "data", "provision_mnist": "data",
    "load_dataset": "data", "provision_dataset": "data", "DATASET_NAMES": "data",
    "split_dataset": "data",
    "TrainConfig": "config", "split_for_config": "config",
    "EpochResult": "results", "RunStatus": "results",
    "build_model": "models", "count_parameters": "models", "predict_probabilities": "models",
    "Training": "training", "train": "training", "train_and_record": "training",
}

__all__ = list(_PUBLIC_NAMES)


def __getattr__(name: str):
    if name not in _PUBLIC_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_PUBLIC_NAMES[name]}", __name__), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


def __dir__():
    return sorted(__all__)
