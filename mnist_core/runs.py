"""Saving runs as they train, listing them and loading them back.

A run is a folder under the runs folder (`runs/`, or `$MNIST_LAB_RUNS_DIR`):

    runs/20261128-143000-linear-1a2b/
        config.json    the TrainConfig, so every chart can say how it was made
        metrics.csv    one row per finished epoch
        weights.npz    the weights after the last finished epoch (or the best, after an early stop)
        run.json       status, message, best epoch, times, workspace
    runs/.locks/20261128-143000-linear-1a2b.lock   only while it trains: locked by the training process

Every file is written to a temporary name and then renamed over the old one, and this happens at
every epoch end: a crash loses at most the epoch in progress, and no file is ever half-written.
The folder itself is assembled under a hidden name and renamed into place once its first epoch is
complete, so a reader never sees a run without its run.json.
Nothing here unpickles: weights are plain numpy arrays loaded with `allow_pickle=False`.

A run that says "running" must have a live process training it. The training process holds an OS
lock on the run's file in `.locks/` (outside the run's folder, so the folder can be renamed while
the lock is held, which Windows would refuse otherwise); the operating system drops that lock when the process dies, however it dies
(a kill, a power cut, a closed laptop lid that ends the server). A reader that finds the lock free
under a "running" run.json reports the run as *interrupted*, with the epochs saved before the end.
This is safer than remembering a process id, which a restarted server may well be given again.

Each run belongs to a *workspace*: every browser session trains in its own, so a class of students
sees only their own runs. The command line trains in the shared workspace unless told otherwise.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import os
import re
import secrets
import time
import zipfile
from pathlib import Path

import numpy as np

from .data import PROJECT_ROOT
from .files import open_regular_file, read_bounded, write_atomically
from .config import TrainConfig
from .results import EpochResult, RunStatus

logger = logging.getLogger(__name__)

try:
    import fcntl

    def try_lock(file) -> None:
        """Lock `file` for this open file, or raise OSError at once if someone else holds it."""
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
except ImportError:  # Windows
    import msvcrt

    def try_lock(file) -> None:
        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)

CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, RUN_FILE = "config.json", "metrics.csv", "weights.npz", "run.json"
LOCKS_FOLDER = ".locks"  # hidden, so list_runs never takes it for a run
METRIC_COLUMNS = tuple(field.name for field in dataclasses.fields(EpochResult))
# Letters, digits, dot, dash and underscore, not starting with a dot: no '/', no '..', nothing hidden.
# Matched against the whole text (fullmatch): a '$' would also accept a trailing newline.
IDENTIFIER_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")
# The most a run's small files may hold. The app writes a run.json or config.json of under 2 KB, and
# a metrics.csv row of about 200 bytes for each of at most 1,000 epochs: a file far bigger was not
# written by the app, and reading it would cost every page that lists runs time and memory.
MAX_JSON_BYTES = 64 * 1024
MAX_METRICS_BYTES = 1024 * 1024
NPY_HEADER_BYTES = 1024  # room for the header in front of each array in weights.npz
SHARED_WORKSPACE = "shared"  # the command line's runs, and runs saved before workspaces existed


class DamagedRunError(ValueError):
    """A run folder that cannot be read. The message names the folder and what is wrong."""


def runs_directory() -> Path:
    return Path(os.environ.get("MNIST_LAB_RUNS_DIR", PROJECT_ROOT / "runs"))


def is_valid_identifier(text) -> bool:
    """Safe as a folder name: it cannot point outside its parent folder or hide itself."""
    return isinstance(text, str) and bool(IDENTIFIER_PATTERN.fullmatch(text)) and ".." not in text


def run_folder(run_id: str, runs_root: Path | None = None) -> Path:
    """The folder of `run_id`, refusing any identifier that could point outside the runs folder."""
    if not is_valid_identifier(run_id):
        raise ValueError(f"{run_id!r} is not a valid run identifier (letters, digits, '.', '-' and '_' only).")
    return Path(runs_root or runs_directory()) / run_id


def new_workspace() -> str:
    """A fresh workspace name: 64 random bits, so nobody finds another student's runs by guessing."""
    return secrets.token_hex(8)


def check_workspace(workspace: str) -> str:
    if not is_valid_identifier(workspace):
        raise ValueError(f"{workspace!r} is not a valid workspace name (letters, digits, '.', '-' and '_' only).")
    return workspace


def lock_path(folder: Path) -> Path:
    """The lock file of the run in `folder`, held by the process training it."""
    return folder.parent / LOCKS_FOLDER / f"{folder.name}.lock"


def training_process_is_alive(folder: Path) -> bool:
    """Whether a live process still holds the run's lock, i.e. is still training it.

    Opened for reading only: a lock file made by another user (the teacher's CLI, say) can still be
    tested. A lock that is not a regular file raises ValueError, which the reader reports.
    """
    try:
        lock = open_regular_file(lock_path(folder))
    except FileNotFoundError:
        return False  # removed when a run finishes
    with lock:
        try:
            try_lock(lock)  # got it, so nobody holds it; closing the file releases it again
        except OSError:
            return True
        return False


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def metrics_csv(history: list[EpochResult]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in history:
        writer.writerow(result.to_dict())
    return buffer.getvalue()


def runs_metrics_csv(runs) -> str:
    """The per-epoch metrics of several runs in one CSV, each row naming its run."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=("run_id", "name", *METRIC_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for run in runs:
        for result in run.history:
            writer.writerow({"run_id": run.run_id, "name": run.name, **result.to_dict()})
    return buffer.getvalue()


class RunRecorder:
    """Saves one run while it trains. Pass it to train(..., recorder=...).

    The folder is made at the first write, so a run refused before it starts (a batch bigger than
    the training set, say) leaves nothing behind. `name` is only a label: whatever it holds (a
    `../`, say), the folder's name is the generated run id.
    """

    def __init__(self, config: TrainConfig, runs_root: Path | None = None, name: str | None = None,
                 workspace: str = SHARED_WORKSPACE):
        self.config = config
        self.run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.model}-{secrets.token_hex(2)}"
        self.folder = run_folder(self.run_id, runs_root)
        self.info = {"run_id": self.run_id, "name": name or self.run_id, "workspace": check_workspace(workspace),
                     "status": RunStatus.RUNNING, "message": "", "best_epoch": None, "created": time.time(), "updated": time.time()}
        self._lock = None  # the open, locked lock file while this process trains the run

    def _save(self, weights: dict[str, np.ndarray], history: list[EpochResult] | None) -> None:
        # Weights and metrics first, run.json last: whatever run.json says is backed by the other files.
        first_save = not self.folder.exists()
        folder = self.folder.with_name(f".partial-{self.run_id}") if first_save else self.folder
        if first_save:
            folder.mkdir(parents=True)
            lock_path(self.folder).parent.mkdir(exist_ok=True)
            self._lock = open(lock_path(self.folder), "a+b")
            try_lock(self._lock)
            write_atomically(folder / CONFIG_FILE, self.config.to_json().encode())
        write_atomically(folder / WEIGHTS_FILE, npz_bytes(weights))
        if history is not None:
            write_atomically(folder / METRICS_FILE, metrics_csv(history).encode())
        self.info["updated"] = time.time()
        write_atomically(folder / RUN_FILE, json.dumps(self.info, indent=2).encode())
        if first_save:
            os.replace(folder, self.folder)

    def record_epoch(self, history: list[EpochResult], weights: dict[str, np.ndarray], best_epoch: int | None) -> None:
        """Save the run after an epoch: `history` is the training's list of every finished epoch so far."""
        self.info["best_epoch"] = best_epoch
        self._save(weights, history)

    def finish(self, status: RunStatus, message: str, best_epoch: int | None, weights: dict[str, np.ndarray]) -> None:
        self.info.update(status=status, message=message, best_epoch=best_epoch)
        self._save(weights, history=None)
        if self._lock is not None:
            # run.json already says how the run ended, so a reader that finds the lock free in
            # between these two lines still reads the right status.
            self._lock.close()
            lock_path(self.folder).unlink(missing_ok=True)
            self._lock = None


def start_run(config: TrainConfig, runs_root: Path | None = None, name: str | None = None,
              workspace: str = SHARED_WORKSPACE) -> RunRecorder:
    """Create the run's folder and return the recorder that fills it as training goes."""
    return RunRecorder(config, runs_root, name, workspace)


@dataclasses.dataclass
class SavedRun:
    """A run read back from disk."""

    run_id: str
    folder: Path
    config: TrainConfig
    history: list[EpochResult]
    status: RunStatus
    message: str
    best_epoch: int | None
    name: str
    created: float
    workspace: str

    @property
    def best_result(self) -> EpochResult | None:
        """The epoch with the best validation loss (the one early stopping keeps), if it was recorded."""
        if self.best_epoch is None or not 1 <= self.best_epoch <= len(self.history):
            return None
        return self.history[self.best_epoch - 1]

    def load_model(self):
        """Rebuild the model from the config and load the saved weights."""
        from .models import build_model, set_weights  # TensorFlow is only needed once a model is wanted.

        model = build_model(self.config)
        try:
            weights = read_weights(self.folder / WEIGHTS_FILE, {variable.path: variable.shape for variable in model.weights})
        except Exception as error:  # noqa: BLE001  whatever is wrong with the file, it is this run's damage
            raise DamagedRunError(f"Run {self.run_id}: {WEIGHTS_FILE} cannot be read ({error}).") from error
        try:
            set_weights(model, weights)
        except ValueError as error:
            raise DamagedRunError(f"Run {self.run_id}: {error}") from error
        return model


def read_weights(path: Path, expected_shapes: dict[str, tuple]) -> dict[str, np.ndarray]:
    """The arrays of a weights.npz, each checked against the model's variables before it is unpacked.

    An .npz is a zip: a hand-made one could hold an array that decompresses to gigabytes. So each
    member's unpacked size is read from the zip's directory first and compared with what the model's
    variable of that name needs (float32, plus room for the header); nothing bigger is unpacked.
    """
    with open_regular_file(path) as file, zipfile.ZipFile(file) as archive:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        if set(members) != set(expected_shapes):
            raise ValueError(f"it holds {sorted(members)}, the model has {sorted(expected_shapes)}")
        for name, info in members.items():
            allowed = 4 * math.prod(expected_shapes[name]) + NPY_HEADER_BYTES
            if info.file_size > allowed:
                raise ValueError(f"'{name}' unpacks to {info.file_size:,} bytes; the model's variable needs {allowed:,} at most")
        with np.load(file, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}


def read_history(path: Path) -> list[EpochResult]:
    text = read_bounded(path, MAX_METRICS_BYTES).decode()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != METRIC_COLUMNS:
        raise ValueError(f"unexpected columns {reader.fieldnames}")
    history = []
    for row in reader:
        if None in row.values() or None in row:
            raise ValueError(f"row {len(history) + 1} has the wrong number of values")
        measured = {name: float(row[name]) for name in METRIC_COLUMNS if name not in ("epoch", "iterations")}
        if not all(math.isfinite(value) for value in measured.values()):
            raise ValueError(f"row {len(history) + 1} holds a value that is not a finite number")  # never NaN in a chart
        history.append(EpochResult(epoch=int(row["epoch"]), iterations=int(row["iterations"]), **measured))
    if [result.epoch for result in history] != list(range(1, len(history) + 1)):
        raise ValueError("the epochs are not numbered 1, 2, 3, ...")
    return history


def whole_number_or_none(value):
    """best_epoch as saved: a whole number or null. (JSON's 1e999 reads as infinity, which int() cannot take.)"""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"best_epoch must be a whole number or null (got {value!r})")


def read_info(folder: Path) -> dict:
    """run.json, checked field by field. Raises DamagedRunError naming the file."""
    try:
        raw = json.loads(read_bounded(folder / RUN_FILE, MAX_JSON_BYTES))
        info = {"status": RunStatus(raw["status"]), "message": str(raw["message"]), "name": str(raw["name"]),
                "created": float(raw["created"]), "best_epoch": whole_number_or_none(raw["best_epoch"]),
                "workspace": check_workspace(raw.get("workspace", SHARED_WORKSPACE))}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        raise DamagedRunError(f"Run {folder.name}: {RUN_FILE} is damaged ({error}).") from error
    return info


def interrupted_message(finished_epochs: int) -> str:
    return (f"Interrupted: the program training it stopped during epoch {finished_epochs + 1} (the server was closed or "
            f"killed). The {finished_epochs} finished epoch(s) and their weights are kept.")


def load_run(run_id: str, runs_root: Path | None = None) -> SavedRun:
    """Read a run's folder. Raises DamagedRunError, naming the file, if anything in it is unreadable."""
    folder = run_folder(run_id, runs_root)
    if not folder.is_dir() or folder.is_symlink():
        raise DamagedRunError(f"There is no run {run_id!r} in {folder.parent}.")
    return read_run_safely(folder)


def read_run_safely(folder: Path, workspace: str | None = None) -> SavedRun | None:
    """Read a run folder (None if it belongs to another workspace than `workspace`). Whatever is in it,
    this raises only DamagedRunError, naming the run: one student's broken or hostile folder must not
    break anyone's page. An unexpected error is logged with its traceback for the teacher."""
    try:
        run_folder(folder.name, folder.parent)  # a hand-made folder with an unsafe name is reported, not read
        info = read_info(folder)
        if workspace is not None and info["workspace"] != workspace:
            return None
        return read_run(folder, info)
    except DamagedRunError:
        raise
    except ValueError as error:
        raise DamagedRunError(str(error)) from error
    except Exception as error:  # noqa: BLE001
        logger.exception("reading run folder %s failed", folder)
        raise DamagedRunError(f"Run {folder.name} cannot be read ({type(error).__name__}: {error}).") from error


def read_run(folder: Path, info: dict) -> SavedRun:
    """The rest of a run's folder, once its run.json has been read into `info`."""
    run_id = folder.name
    try:
        config = TrainConfig.from_json(read_bounded(folder / CONFIG_FILE, MAX_JSON_BYTES).decode())
    except (OSError, ValueError, TypeError, RecursionError) as error:
        raise DamagedRunError(f"Run {run_id}: {CONFIG_FILE} is damaged ({error}).") from error
    metrics_path = folder / METRICS_FILE
    try:
        history = read_history(metrics_path) if metrics_path.exists() else []
    except (OSError, ValueError, TypeError, csv.Error) as error:
        raise DamagedRunError(f"Run {run_id}: {METRICS_FILE} is damaged ({error}).") from error
    if history and not (folder / WEIGHTS_FILE).exists():
        raise DamagedRunError(f"Run {run_id}: {WEIGHTS_FILE} is missing.")
    try:
        process_gone = info["status"] == RunStatus.RUNNING and not training_process_is_alive(folder)
    except (OSError, ValueError) as error:
        raise DamagedRunError(f"Run {run_id}: its lock file {lock_path(folder).name} cannot be checked ({error}).") from error
    if process_gone:
        info = read_info(folder)  # it may have finished between the two reads: then run.json says so
        if info["status"] == RunStatus.RUNNING:
            info.update(status=RunStatus.INTERRUPTED, message=interrupted_message(len(history)))
    return SavedRun(run_id=run_id, folder=folder, config=config, history=history, **info)


def run_folders(runs_root: Path | None = None) -> list[Path]:
    """The run folders in the runs folder, by name: not the hidden lock and part-written folders beside them."""
    root = Path(runs_root or runs_directory())
    if not root.is_dir():
        return []
    # A link is never followed: it could lead out of the runs folder.
    return sorted(folder for folder in root.iterdir()
                  if not folder.name.startswith(".") and not folder.is_symlink() and folder.is_dir())


def list_runs(runs_root: Path | None = None, workspace: str | None = None) -> tuple[list[SavedRun], list[str]]:
    """Every readable run (of `workspace`, if given), newest first, and one message per damaged run folder.

    A damaged folder is reported to every workspace unless its run.json says whose it is: with a
    broken run.json there is no telling, and saying nothing would hide it from its owner.
    """
    runs, damaged = [], []
    for folder in run_folders(runs_root):
        try:
            run = read_run_safely(folder, workspace)
        except DamagedRunError as error:
            damaged.append(str(error))
            continue
        if run is not None:
            runs.append(run)
    runs.sort(key=lambda run: run.created, reverse=True)
    return runs, damaged
