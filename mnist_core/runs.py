"""Saving runs as they train, listing them and loading them back.

A run is a folder under the runs folder (`runs/`, or `$MNIST_LAB_RUNS_DIR`):

    runs/20261128-143000-linear-1a2b/
        config.json    the TrainConfig, so every chart can say how it was made
        metrics.csv    one row per finished epoch
        weights.npz    the weights after the last finished epoch (or the best, after an early stop)
        run.json       status, message, best epoch, times

Every file is written to a temporary name and then renamed over the old one, and this happens at
every epoch end: a crash loses at most the epoch in progress, and no file is ever half-written.
Nothing here unpickles: weights are plain numpy arrays loaded with `allow_pickle=False`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import secrets
import time
from pathlib import Path

import numpy as np

from .data import PROJECT_ROOT
from .training import RUNNING, EpochResult, TrainConfig

CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, RUN_FILE = "config.json", "metrics.csv", "weights.npz", "run.json"
METRIC_COLUMNS = tuple(field.name for field in dataclasses.fields(EpochResult))
# Letters, digits, dot, dash and underscore, not starting with a dot: no '/', no '..', nothing hidden.
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


class DamagedRunError(ValueError):
    """A run folder that cannot be read. The message names the folder and what is wrong."""


def runs_directory() -> Path:
    return Path(os.environ.get("MNIST_LAB_RUNS_DIR", PROJECT_ROOT / "runs"))


def run_folder(run_id: str, runs_root: Path | None = None) -> Path:
    """The folder of `run_id`, refusing any identifier that could point outside the runs folder."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id) or ".." in run_id:
        raise ValueError(f"{run_id!r} is not a valid run identifier (letters, digits, '.', '-' and '_' only).")
    return Path(runs_root or runs_directory()) / run_id


def write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


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
    the training set, say) leaves nothing behind.
    """

    def __init__(self, config: TrainConfig, runs_root: Path | None = None, name: str | None = None):
        self.config = config
        self.run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.model}-{secrets.token_hex(2)}"
        self.folder = run_folder(self.run_id, runs_root)
        self.history: list[EpochResult] = []
        self.info = {"run_id": self.run_id, "name": name or self.run_id, "status": RUNNING, "message": "",
                     "best_epoch": None, "created": time.time(), "updated": time.time()}

    def _write_weights(self, weights: dict[str, np.ndarray]) -> None:
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            write_atomically(self.folder / CONFIG_FILE, self.config.to_json().encode())
        write_atomically(self.folder / WEIGHTS_FILE, npz_bytes(weights))

    def _write_info(self) -> None:
        self.info["updated"] = time.time()
        write_atomically(self.folder / RUN_FILE, json.dumps(self.info, indent=2).encode())

    def record_epoch(self, result: EpochResult, weights: dict[str, np.ndarray], best_epoch: int | None) -> None:
        self.history.append(result)
        # Weights and metrics first, run.json last: whatever run.json says is backed by the other files.
        self._write_weights(weights)
        write_atomically(self.folder / METRICS_FILE, metrics_csv(self.history).encode())
        self.info["best_epoch"] = best_epoch
        self._write_info()

    def finish(self, status: str, message: str, best_epoch: int | None, weights: dict[str, np.ndarray]) -> None:
        self._write_weights(weights)
        self.info.update(status=status, message=message, best_epoch=best_epoch)
        self._write_info()


def start_run(config: TrainConfig, runs_root: Path | None = None, name: str | None = None) -> RunRecorder:
    """Create the run's folder and return the recorder that fills it as training goes."""
    return RunRecorder(config, runs_root, name)


@dataclasses.dataclass
class SavedRun:
    """A run read back from disk."""

    run_id: str
    folder: Path
    config: TrainConfig
    history: list[EpochResult]
    status: str
    message: str
    best_epoch: int | None
    name: str
    created: float

    @property
    def best_result(self) -> EpochResult | None:
        """The epoch with the best validation loss (the one early stopping keeps), if it was recorded."""
        if self.best_epoch is None or not 1 <= self.best_epoch <= len(self.history):
            return None
        return self.history[self.best_epoch - 1]

    def load_model(self):
        """Rebuild the model from the config and load the saved weights."""
        from .models import build_model, set_weights  # TensorFlow is only needed once a model is wanted.

        path = self.folder / WEIGHTS_FILE
        try:
            with np.load(path, allow_pickle=False) as archive:
                weights = {name: archive[name] for name in archive.files}
        except (OSError, ValueError, EOFError, KeyError) as error:
            raise DamagedRunError(f"Run {self.run_id}: {WEIGHTS_FILE} cannot be read ({error}).") from error
        model = build_model(self.config)
        try:
            set_weights(model, weights)
        except ValueError as error:
            raise DamagedRunError(f"Run {self.run_id}: {error}") from error
        return model


def read_history(path: Path) -> list[EpochResult]:
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        if tuple(reader.fieldnames or ()) != METRIC_COLUMNS:
            raise ValueError(f"unexpected columns {reader.fieldnames}")
        history = []
        for row in reader:
            if None in row.values() or None in row:
                raise ValueError(f"row {len(history) + 1} has the wrong number of values")
            history.append(EpochResult(epoch=int(row["epoch"]), iterations=int(row["iterations"]),
                                       **{name: float(row[name]) for name in METRIC_COLUMNS if name not in ("epoch", "iterations")}))
    if [result.epoch for result in history] != list(range(1, len(history) + 1)):
        raise ValueError("the epochs are not numbered 1, 2, 3, ...")
    return history


def load_run(run_id: str, runs_root: Path | None = None) -> SavedRun:
    """Read a run's folder. Raises DamagedRunError, naming the file, if anything in it is unreadable."""
    folder = run_folder(run_id, runs_root)
    if not folder.is_dir():
        raise DamagedRunError(f"There is no run {run_id!r} in {folder.parent}.")
    try:
        config = TrainConfig.from_json((folder / CONFIG_FILE).read_text())
    except (OSError, ValueError, TypeError) as error:
        raise DamagedRunError(f"Run {run_id}: {CONFIG_FILE} is damaged ({error}).") from error
    try:
        info = json.loads((folder / RUN_FILE).read_text())
        status, message, name, created = str(info["status"]), str(info["message"]), str(info["name"]), float(info["created"])
        best_epoch = None if info["best_epoch"] is None else int(info["best_epoch"])
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise DamagedRunError(f"Run {run_id}: {RUN_FILE} is damaged ({error}).") from error
    metrics_path = folder / METRICS_FILE
    try:
        history = read_history(metrics_path) if metrics_path.exists() else []
    except (OSError, ValueError, TypeError) as error:
        raise DamagedRunError(f"Run {run_id}: {METRICS_FILE} is damaged ({error}).") from error
    if history and not (folder / WEIGHTS_FILE).exists():
        raise DamagedRunError(f"Run {run_id}: {WEIGHTS_FILE} is missing.")
    return SavedRun(run_id=run_id, folder=folder, config=config, history=history, status=status, message=message,
                    best_epoch=best_epoch, name=name, created=created)


def list_runs(runs_root: Path | None = None) -> tuple[list[SavedRun], list[str]]:
    """Every readable run, newest first, and one message for each damaged run folder (skipped)."""
    root = Path(runs_root or runs_directory())
    runs, damaged = [], []
    if not root.is_dir():
        return runs, damaged
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            runs.append(load_run(folder.name, root))
        except (DamagedRunError, ValueError) as error:
            damaged.append(str(error))
    runs.sort(key=lambda run: run.created, reverse=True)
    return runs, damaged
