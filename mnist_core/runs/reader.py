"""Reading runs back, whatever is on disk: every file checked before it is used, and a damaged run
reported by name (DamagedRunError) instead of breaking the page that lists it."""

from __future__ import annotations

import collections
import csv
import dataclasses
import functools
import io
import json
import logging
import math
import os
import threading
import zipfile
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from ..files import open_regular_file, read_bounded
from ..i18n import Message, carried_message
from ..precision import FLOAT32, PRECISIONS
from ..results import EpochResult, IterationPoint, RunStatus, best_result, interrupted_message
from .checkpoints import MAX_CHECKPOINTS
from .store_format import (
    CHECKPOINTS_FOLDER,
    CONFIG_FILE,
    ITERATION_COLUMNS,
    ITERATIONS_FILE,
    MAX_ITERATIONS_BYTES,
    MAX_JSON_BYTES,
    MAX_METRICS_BYTES,
    METRIC_COLUMNS,
    METRICS_FILE,
    NPY_HEADER_BYTES,
    RUN_FILE,
    SHARED_WORKSPACE,
    WEIGHTS_FILE,
    DamagedRunError,
    checkpoint_epochs,
    checkpoint_name,
    lock_path,
    run_folder,
    run_folders,
    training_process_is_alive,
)

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class SavedRun:
    """A run read back from disk."""

    run_id: str
    folder: Path
    config: TrainConfig
    history: list[EpochResult]
    status: RunStatus
    message: str | Message  # saved runs' in English; an interrupted run's rendered in the reader's language
    best_epoch: int | None
    name: str
    created: float
    precision: str = FLOAT32  # the arithmetic it trained in (precision.py); runs saved before it was recorded: float32

    @property
    def workspace(self) -> str:
        return self.folder.parent.name

    @property
    def stamp(self) -> tuple:
        """Which run, and how far it had trained: what is computed from a run at one stamp is stale at the next."""
        return self.run_id, len(self.history), self.status

    @property
    def best_result(self) -> EpochResult | None:
        return best_result(self.history, self.best_epoch)

    def iterations(self) -> list[IterationPoint]:
        """The iteration curve as saved: empty for runs saved before it was, or if its file is unreadable
        (the per-epoch curves still tell the story, so a damaged curve does not make the run damaged)."""
        return self.iterations_and_problem()[0]

    def iterations_and_problem(self) -> tuple[list[IterationPoint], Message | None]:
        """(the iteration curve, None), or ([], what is wrong with its file) for a page to say: an
        oversized or damaged iterations.csv is refused by name, never cut short silently."""
        try:
            return read_iterations(self.folder / ITERATIONS_FILE), None
        except FileNotFoundError:
            return [], None
        except (OSError, ValueError) as error:
            logger.warning("run %s: %s is unreadable (%s)", self.run_id, ITERATIONS_FILE, error)
            return [], Message("This run's curve per iteration ({file}) cannot be read: {error}. Its curves per epoch are "
                               "shown instead.", file=ITERATIONS_FILE, error=str(error))

    def load_model(self):
        """Rebuild the model from the config and load the saved weights."""
        return self._model_from(self.folder / WEIGHTS_FILE)

    def checkpoint_epochs(self) -> list[int]:
        """The epochs whose weights were kept (0: the random start), in order; none for older runs. At
        most MAX_CHECKPOINTS, as the app keeps: a folder holding more was not filled by the app (10,000
        of them made one GIF take 5 minutes and 3.9 GB), so only the first, the last and evenly spaced
        ones between are offered."""
        epochs = checkpoint_epochs(self.folder)
        if epochs and epochs[0] != 0:
            epochs = [0, *epochs]  # the random start's file did not fit the budget: it is rebuilt from the seed
        if len(epochs) <= MAX_CHECKPOINTS:
            return epochs
        return [epochs[index] for index in np.linspace(0, len(epochs) - 1, MAX_CHECKPOINTS).round().astype(int)]

    def replayable_epochs(self) -> list[int]:
        """The kept epochs that also have their row of metrics. A run still training writes an epoch's
        checkpoint a moment before its row, and an epoch without its row has nothing to show beside
        its weights (Replay's Next onto one raised IndexError)."""
        return [epoch for epoch in self.checkpoint_epochs() if epoch <= len(self.history)]

    def load_checkpoint(self, epoch: int):
        """The model as it was at the end of `epoch` (0: before training), from its checkpoint."""
        if epoch == 0 and self._random_start_is_rebuilt():
            from ..models import build_model

            return build_model(self.config, self.precision)
        return self._model_from(self.folder / CHECKPOINTS_FOLDER / checkpoint_name(epoch))

    def checkpoint_weights(self, epoch: int) -> dict[str, np.ndarray]:
        """The weights kept at the end of `epoch`, as arrays by variable path, without building a model
        for each (an animation of a hundred epochs reads a hundred checkpoints)."""
        if epoch == 0 and self._random_start_is_rebuilt():
            from ..models import build_model, get_weights

            return get_weights(build_model(self.config, self.precision))
        return self._weights_from(self.folder / CHECKPOINTS_FOLDER / checkpoint_name(epoch), self._variable_shapes)

    def _random_start_is_rebuilt(self) -> bool:
        """Whether the random start comes from the seed: the run kept checkpoints, but the budget had no
        room for the random start's. (The same seed builds the same weights: models.py's initializers
        are seeded, and a test checks the two agree.) A damaged file is read, and reported, as it is."""
        return (not os.path.lexists(self.folder / CHECKPOINTS_FOLDER / checkpoint_name(0))
                and bool(checkpoint_epochs(self.folder)))

    @functools.cached_property
    def _variable_shapes(self) -> dict[str, tuple]:
        from ..models import build_model  # TensorFlow is only needed once weights are wanted.

        return {variable.path: tuple(variable.shape) for variable in build_model(self.config, self.precision).weights}

    def _weights_from(self, path: Path, shapes: dict[str, tuple]) -> dict[str, np.ndarray]:
        try:
            return read_weights(path, shapes)
        except Exception as error:  # whatever is wrong with the file, it is this run's damage
            raise DamagedRunError(Message("Run {run}: {file} cannot be read ({error}).", run=self.run_id,
                                          file=str(path.relative_to(self.folder)), error=str(error))) from error

    def _model_from(self, path: Path):
        from ..models import build_model, set_weights  # TensorFlow is only needed once a model is wanted.

        model = build_model(self.config, self.precision)
        weights = self._weights_from(path, {variable.path: variable.shape for variable in model.weights})
        try:
            set_weights(model, weights)
        except ValueError as error:
            raise DamagedRunError(Message("Run {run}: {error}", run=self.run_id, error=carried_message(error))) from error
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
            weights = {name: arrays[name] for name in arrays.files}
    # The sizes in the directory can be right for arrays that are not: another shape with as many
    # numbers ((10, 784) for (784, 10)), float16 in fewer bytes, or numbers that are not finite.
    for name, array in weights.items():
        if array.shape != tuple(expected_shapes[name]):
            raise ValueError(f"'{name}' has the shape {array.shape}; the model's variable has {tuple(expected_shapes[name])}")
        if array.dtype != np.float32:
            raise ValueError(f"'{name}' holds {array.dtype} numbers; the model's weights are float32")
        if not np.isfinite(array).all():
            raise ValueError(f"'{name}' holds numbers that are not finite (NaN or infinity)")
    return weights


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


def read_iterations(path: Path) -> list[IterationPoint]:
    """iterations.csv's points, in order. A broken last line (a crash mid-append) is skipped; any other
    row that is not three numbers, or iterations that do not increase, make the file unreadable."""
    # Refused whole when oversized: a file cut at the limit would pass for a run that stopped early.
    lines = read_bounded(path, MAX_ITERATIONS_BYTES).decode("utf-8", errors="replace").split("\n")
    if tuple(lines[0].split(",")) != ITERATION_COLUMNS:
        raise ValueError(f"unexpected columns {lines[0][:100]!r}")
    points, complete_lines = [], lines[1:-1]  # the part after the last newline is a line cut short, if anything
    for number, line in enumerate(complete_lines, start=2):
        try:
            iteration, loss, accuracy = line.split(",")
            iteration, loss, accuracy = int(iteration), float(loss), float(accuracy)
            if not (math.isfinite(loss) and math.isfinite(accuracy)):
                raise ValueError("not finite")
        except ValueError:  # too few or too many fields, or one that is not a (finite) number
            raise ValueError(f"line {number} is not an iteration, a loss and an accuracy") from None
        if points and iteration <= points[-1].iteration:
            raise ValueError(f"line {number}: the iterations do not increase")
        points.append(IterationPoint(iteration, loss, accuracy))
    return points


def whole_number_or_none(value):
    """best_epoch as saved: a whole number or null. (JSON's 1e999 reads as infinity, which int() cannot take.)"""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"best_epoch must be a whole number or null (got {value!r})")


def known_precision(value) -> str:
    """run.json's precision as saved: one of precision.PRECISIONS."""
    if value not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (got {value!r})")
    return value


def read_info(folder: Path) -> dict:
    """run.json, checked field by field. Raises DamagedRunError naming the file."""
    try:
        raw = json.loads(read_bounded(folder / RUN_FILE, MAX_JSON_BYTES))
        info = {"status": RunStatus(raw["status"]), "message": str(raw["message"]), "name": str(raw["name"]),
                "created": float(raw["created"]), "best_epoch": whole_number_or_none(raw["best_epoch"]),
                "precision": known_precision(raw.get("precision", FLOAT32))}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        raise DamagedRunError(Message("Run {run}: {file} is damaged ({error}).", run=folder.name, file=RUN_FILE,
                                      error=str(error))) from error
    return info


def load_run(run_id: str, runs_root: Path | None = None, workspace: str = SHARED_WORKSPACE) -> SavedRun:
    """Read a run's folder. Raises DamagedRunError, naming the file, if anything in it is unreadable."""
    folder = run_folder(run_id, runs_root, workspace)
    if not folder.is_dir() or folder.is_symlink():
        raise DamagedRunError(Message("There is no run {run!r} in {folder}.", run=run_id, folder=str(folder.parent)))
    return read_run_safely(folder)


def read_run_safely(folder: Path) -> SavedRun:
    """Read a run folder. Whatever is in it, this raises only DamagedRunError, naming the run: one
    student's broken or hostile folder must not break their page. An unexpected error is logged with
    its traceback for the teacher."""
    try:
        run_folder(folder.name, folder.parent.parent, folder.parent.name)  # a hand-made unsafe name is reported, not read
        return read_run(folder, read_info(folder))
    except DamagedRunError:
        raise
    except ValueError as error:
        raise DamagedRunError(carried_message(error)) from error
    except Exception as error:
        logger.exception("reading run folder %s failed", folder)
        raise DamagedRunError(Message("Run {run} cannot be read ({error}).", run=folder.name,
                                      error=f"{type(error).__name__}: {error}")) from error


def read_run(folder: Path, info: dict) -> SavedRun:
    """The rest of a run's folder, once its run.json has been read into `info`."""
    run_id = folder.name
    try:
        config = TrainConfig.from_json(read_bounded(folder / CONFIG_FILE, MAX_JSON_BYTES).decode())
    except (OSError, ValueError, TypeError, RecursionError) as error:
        raise DamagedRunError(Message("Run {run}: {file} is damaged ({error}).", run=run_id, file=CONFIG_FILE,
                                      error=carried_message(error))) from error
    metrics_path = folder / METRICS_FILE
    try:
        history = read_history(metrics_path) if metrics_path.exists() else []
    except (OSError, ValueError, TypeError, csv.Error) as error:
        raise DamagedRunError(Message("Run {run}: {file} is damaged ({error}).", run=run_id, file=METRICS_FILE,
                                      error=str(error))) from error
    if history and not (folder / WEIGHTS_FILE).exists():
        raise DamagedRunError(Message("Run {run}: {file} is missing.", run=run_id, file=WEIGHTS_FILE))
    try:
        process_gone = not info["status"].finished and not training_process_is_alive(folder)
    except (OSError, ValueError) as error:
        raise DamagedRunError(Message("Run {run}: its lock file {file} cannot be checked ({error}).", run=run_id,
                                      file=lock_path(folder).name, error=str(error))) from error
    if process_gone:
        info = read_info(folder)  # it may have finished between the two reads: then run.json says so
        if not info["status"].finished:
            info.update(status=RunStatus.INTERRUPTED, message=interrupted_message(info["status"], len(history)))
    return SavedRun(run_id=run_id, folder=folder, config=config, history=history, **info)


class FinishedRuns:
    """Finished runs read once and lent to every reader, read again only if one of their files changes.

    Every page lists its workspace's runs on every rerun; a workspace of 5,000 runs took 1.2-1.6 s
    each time, reading every run.json, config.json and metrics.csv again. A finished run's files
    never change (the app writes no more to them), so its SavedRun is kept, with the size, time and
    inode of each of those files (and weights.npz): four stats a run tell whether it is still the
    same. A run still training, or found interrupted, is read afresh each time. At most MOST_KEPT
    runs are kept, the least recently read dropped first. Readers must not change what they get."""

    MOST_KEPT = 20_000
    STAMPED_FILES = (RUN_FILE, CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE)

    def __init__(self):
        self._lock = threading.Lock()
        self._kept: collections.OrderedDict[str, tuple[tuple, SavedRun]] = collections.OrderedDict()

    @classmethod
    def stamp(cls, folder: Path) -> tuple:
        def of(name: str):
            try:
                status = os.lstat(folder / name)
            except OSError:
                return None
            return status.st_ino, status.st_size, status.st_mtime_ns

        return tuple(of(name) for name in cls.STAMPED_FILES)

    def read(self, folder: Path) -> SavedRun:
        """read_run_safely(folder), from what was read before where its files are unchanged."""
        key, stamp = str(folder), self.stamp(folder)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == stamp:
                self._kept.move_to_end(key)
                return kept[1]
        run = read_run_safely(folder)
        if run.status.finished and run.status != RunStatus.INTERRUPTED and stamp == self.stamp(folder):
            with self._lock:
                self._kept[key] = (stamp, run)
                self._kept.move_to_end(key)
                while len(self._kept) > self.MOST_KEPT:
                    self._kept.popitem(last=False)
        return run


finished_runs = FinishedRuns()


def list_runs(runs_root: Path | None = None, workspace: str | None = None) -> tuple[list[SavedRun], list[str]]:
    """Every readable run of `workspace` (of every workspace if None), newest first, and one message
    per damaged run folder. Only that workspace's folder is read."""
    runs, damaged = [], []
    for folder in run_folders(runs_root, workspace):
        try:
            runs.append(finished_runs.read(folder))
        except DamagedRunError as error:
            damaged.append(carried_message(error))
    runs.sort(key=lambda run: run.created, reverse=True)
    return runs, damaged
