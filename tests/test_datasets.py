"""Fashion-MNIST beside MNIST: provisioning from its four idx files, verification of every array, a
damaged or truncated file named, and the dataset as a setting (a run's config, presets, a link). A
run saved before the setting existed reads as an MNIST run."""

import dataclasses
import gzip
import json

import numpy as np
import pytest

from mnist_core import TrainConfig, data
from mnist_core.config import differing_settings
from mnist_core.data import FASHION_MNIST, IDX_FILES, MnistDataError, arrays_from_idx_folder, read_idx_gz
from mnist_core.runs.reader import read_run_safely
from mnist_core.share_links import link_query, settings_from_link
from tests.helpers import run_written_with_numpy


def test_fashion_mnist_has_the_keras_layout_and_its_arrays_the_recorded_sha256(fashion_dataset):
    (x_train, y_train), (x_test, y_test) = fashion_dataset
    assert (x_train.dtype, x_train.shape, x_test.shape) == (np.uint8, (60000, 28, 28), (10000, 28, 28))
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    import hashlib

    for name, array in zip(("x_train", "y_train", "x_test", "y_test"), (x_train, y_train, x_test, y_test)):
        assert hashlib.sha256(array.tobytes()).hexdigest() == FASHION_MNIST.array_sha256[name]
    # Zalando's first training labels: ankle boot, T-shirt/top, T-shirt/top, dress, T-shirt/top.
    assert y_train[:5].tolist() == [9, 0, 0, 3, 0]


def write_idx_gz(path, array: np.ndarray) -> None:
    """An idx file as Zalando's and Keras' are: magic number, sizes, bytes; gzipped."""
    header = (0x0800 + array.ndim).to_bytes(4, "big") + b"".join(size.to_bytes(4, "big") for size in array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def test_an_idx_file_reads_as_keras_reads_it(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx_gz(tmp_path / "images.gz", images)
    assert np.array_equal(read_idx_gz(tmp_path / "images.gz", 3), images)


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "not gzip", "wrong magic", "too short for its header"])
def test_a_damaged_idx_file_is_a_named_error(tmp_path, damage):
    path = tmp_path / IDX_FILES["y_train"]
    write_idx_gz(path, np.arange(1000, dtype=np.uint8) % 10)
    content = path.read_bytes()
    if damage == "truncated":  # a download cut short
        path.write_bytes(content[: len(content) // 2])
    elif damage == "corrupted":  # bytes changed in the middle: the gzip checksum or the inflater fails
        middle = len(content) // 2
        path.write_bytes(content[:middle] + bytes(byte ^ 0xFF for byte in content[middle:middle + 8]) + content[middle + 8:])
    elif damage == "not gzip":
        path.write_bytes(b"<html>404 Not Found</html>")
    elif damage == "wrong magic":  # an images file where the labels should be
        write_idx_gz(path, np.zeros((3, 28, 28), np.uint8))
    else:  # the header promises 2,000 labels and holds 1,000
        with gzip.open(path, "wb") as file:
            file.write((0x0801).to_bytes(4, "big") + (2000).to_bytes(4, "big") + bytes(1000))
    with pytest.raises(MnistDataError) as caught:
        read_idx_gz(path, 1)
    assert str(path) in str(caught.value)


@pytest.fixture
def fashion_idx_folder(tmp_path, fashion_dataset):
    """The four idx files of real Fashion-MNIST in a folder of their own, as Debian's package has them."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    (x_train, y_train), (x_test, y_test) = fashion_dataset
    for name, array in {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}.items():
        write_idx_gz(folder / IDX_FILES[name], array)
    return folder


@pytest.mark.slow
def test_one_changed_label_in_the_idx_files_is_caught_by_the_verification(fashion_idx_folder):
    labels = read_idx_gz(fashion_idx_folder / IDX_FILES["y_test"], 1).copy()
    labels[0], labels[1] = labels[1], labels[0]  # the same counts: only the hash can tell
    write_idx_gz(fashion_idx_folder / IDX_FILES["y_test"], labels)
    with pytest.raises(MnistDataError) as caught:
        arrays_from_idx_folder(fashion_idx_folder)
    assert "y_test" in str(caught.value) and "Fashion-MNIST" in str(caught.value)


@pytest.fixture
def no_fashion_sources(tmp_path, monkeypatch):
    """A data folder without Fashion-MNIST, no Keras cache, a download that cannot connect, no Debian package."""
    monkeypatch.setenv("MNIST_LAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(data, "FASHION_MNIST_KERAS_CACHE", tmp_path / "no-keras-cache")
    monkeypatch.setattr(data, "FASHION_MNIST_URL", "http://127.0.0.1:9/")  # the discard port: refused at once
    monkeypatch.setattr(data, "FASHION_MNIST_DEBIAN_FOLDER", tmp_path / "no-debian-package")
    return tmp_path


@pytest.mark.slow
def test_fashion_mnist_is_provisioned_from_the_debian_folder_after_the_keras_sources_fail(no_fashion_sources,
                                                                                        fashion_idx_folder, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_DEBIAN_FOLDER", fashion_idx_folder)
    steps = []
    path = data.provision_dataset("fashion_mnist", report=lambda line: steps.append(str(line)))
    assert path == no_fashion_sources / "data" / "fashion-mnist.npz"
    assert steps == ["Trying Keras' cache...", "Trying the official Keras download...",
                     "Trying Debian's package dataset-fashion-mnist...", f"Saved verified Fashion-MNIST to {path}."]
    (_x, y_train), _test = data.load_dataset("fashion_mnist")  # from the verified local copy now
    assert y_train[:5].tolist() == [9, 0, 0, 3, 0]


def test_a_machine_without_any_source_gets_a_message_saying_how_to_get_fashion_mnist(no_fashion_sources):
    with pytest.raises(MnistDataError) as caught:
        data.load_dataset("fashion_mnist")
    message = str(caught.value)
    assert "Could not provision Fashion-MNIST" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message and "fetch --dataset fashion_mnist" in message
    for source in ("Keras' cache", "the official Keras download", "Debian's package"):
        assert source in message
    assert not (no_fashion_sources / "data" / "fashion-mnist.npz").exists()  # nothing half-made left behind


def test_the_cli_fetch_names_the_dataset_and_fails_with_its_fix(no_fashion_sources, run_cli):
    result = run_cli("fetch", "--dataset", "fashion_mnist")
    assert result.returncode != 0
    assert "sudo apt-get install dataset-fashion-mnist" in result.stderr


def test_an_unknown_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match="dataset must be one of mnist, fashion_mnist"):
        TrainConfig(dataset="cifar10")


def test_a_run_saved_before_the_dataset_setting_reads_as_an_mnist_run(runs_root):
    made = run_written_with_numpy(runs_root)
    config_file = made.folder / "config.json"
    config = json.loads(config_file.read_text())
    del config["dataset"]  # as every run saved before this setting
    config_file.write_text(json.dumps(config))
    run = read_run_safely(made.folder)
    assert run.config.dataset == "mnist" and run.config.model == made.config.model
    assert run.load_model() is not None


def test_each_model_starts_from_its_preset_on_the_chosen_dataset():
    for model in ("linear", "mlp", "cnn"):
        on_fashion = TrainConfig.for_model(model, dataset="fashion_mnist")
        assert on_fashion.dataset == "fashion_mnist"
        assert on_fashion.to_dict() == TrainConfig(**{"model": model, "dataset": "fashion_mnist",
                                                      **data_preset(model, "fashion_mnist")}).to_dict()


def data_preset(model, dataset):
    from mnist_core.config import model_preset

    return model_preset(model, dataset)


def test_a_link_carries_the_dataset_first_and_opens_it():
    config = TrainConfig.for_model("cnn", dataset="fashion_mnist", epochs=2)
    assert list(differing_settings(config))[:2] == ["dataset", "model"]
    query = link_query(config, "zh")
    assert query["dataset"] == "fashion_mnist"
    opened = settings_from_link(query)
    assert opened.dropped == [] and opened.config.to_dict() == config.to_dict()
    assert settings_from_link({"dataset": "cifar100"}).dropped  # not a dataset the sidebar offers: left out, named


def test_a_lesson_step_trains_on_mnist_after_a_switch_to_fashion_mnist():
    """The lessons' sentences and goals are MNIST's (the study note's dataset)."""
    from mnist_core.lessons import load_lesson, with_settings

    steps = load_lesson("note").steps
    on_fashion = TrainConfig.for_model("cnn", dataset="fashion_mnist", seed=3)
    with_model = next(step for step in steps if "model" in step.settings)
    without_model = dataclasses.replace(with_model, settings={"epochs": 3})
    for step in (with_model, without_model):
        config = with_settings(on_fashion, step)
        assert config.dataset == "mnist" and config.seed == 3  # the other data settings kept
