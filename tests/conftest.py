"""Shared fixtures. Engine tests use a small committed sample of real MNIST digits for speed
(tests/data/mnist_sample.npz: 120 training and 30 test digits of each class, taken from MNIST in order)."""

from pathlib import Path

import numpy as np
import pytest

SAMPLE_FILE = Path(__file__).parent / "data" / "mnist_sample.npz"


@pytest.fixture(scope="session")
def sample_dataset():
    """((x_train, y_train), (x_test, y_test)) of real MNIST digits, in load_mnist()'s layout."""
    with np.load(SAMPLE_FILE, allow_pickle=False) as archive:
        return (archive["x_train"], archive["y_train"]), (archive["x_test"], archive["y_test"])


@pytest.fixture(scope="session")
def full_dataset():
    from mnist_core import load_mnist

    return load_mnist()


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    """A private runs folder, so tests never touch the user's runs."""
    root = tmp_path / "runs"
    monkeypatch.setenv("MNIST_LAB_RUNS_DIR", str(root))
    return root
