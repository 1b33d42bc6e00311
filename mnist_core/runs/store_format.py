"""Where a run lives and what its files hold: the folder and file names, the size limits a reader
enforces, the safe names, the lock that says a process is training a run, and the folder listings.
Every other module of the run store builds on these facts; this one imports none of them."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from pathlib import Path

import numpy as np

from ..data import PROJECT_ROOT
from ..files import cannot_write_message, open_regular_file
from ..i18n import Message
from ..results import EpochResult, IterationPoint

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
ITERATIONS_FILE = "iterations.csv"
ITERATION_COLUMNS = tuple(field.name for field in dataclasses.fields(IterationPoint))
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
# At most 200 points an epoch of about 30 bytes each, for at most 1,000 epochs: 6 MB. A bigger file
# was not written by the app, and is refused whole (see reader.read_iterations).
MAX_ITERATIONS_BYTES = 8 * 1024 * 1024
NPY_HEADER_BYTES = 1024  # room for the header in front of each array in weights.npz
SHARED_WORKSPACE = "shared"  # the command line's runs, and runs saved before workspaces existed
PARTIAL_PREFIX = ".partial-"  # a run folder being assembled, renamed into place once it holds run.json
# A lock, part-assembled folder or temporary file this old, which no live process holds, was left by
# a killed process. Younger ones may belong to a run that is starting right now.
ORPHAN_AGE_SECONDS = 60
CHECKPOINTS_FOLDER = "checkpoints"  # epoch-0000.npz, epoch-0001.npz, ... (see checkpoints.py)
CHECKPOINT_PATTERN = re.compile(r"epoch-(\d{4})\.npz")


class DamagedRunError(ValueError):
    """A run folder that cannot be read. The message names the folder and what is wrong."""


class RunSaveError(OSError):
    """A run's files cannot be written (a read-only or full disk). The message names the folder and the fix."""

    def __init__(self, folder: Path, error: OSError):
        self.message = cannot_write_message(folder / RUN_FILE, error, Message(
            "The runs are saved there: free some disk space or make the folder writable (MNIST_LAB_RUNS_DIR names "
            "another runs folder)."))
        super().__init__(error.errno, str(self.message))

    def __str__(self) -> str:
        return self.strerror


def runs_directory() -> Path:
    return Path(os.environ.get("MNIST_LAB_RUNS_DIR", PROJECT_ROOT / "runs"))


def is_valid_identifier(text) -> bool:
    """Safe as a folder name: it cannot point outside its parent folder or hide itself."""
    return isinstance(text, str) and bool(IDENTIFIER_PATTERN.fullmatch(text)) and ".." not in text


def workspace_folder(workspace: str, runs_root: Path | None = None) -> Path:
    """The folder holding `workspace`'s runs."""
    return Path(runs_root or runs_directory()) / check_workspace(workspace)


def run_folder(run_id: str, runs_root: Path | None = None, workspace: str = SHARED_WORKSPACE) -> Path:
    """The folder of `run_id`, refusing any identifier that could point outside the runs folder."""
    if not is_valid_identifier(run_id):
        raise ValueError(Message("{run_id!r} is not a valid run identifier (letters, digits, '.', '-' and '_' only).",
                                 run_id=run_id))
    return workspace_folder(workspace, runs_root) / run_id


def check_workspace(workspace: str) -> str:
    if not is_valid_identifier(workspace):
        raise ValueError(Message("{workspace!r} is not a valid workspace name (letters, digits, '.', '-' and '_' only).",
                                 workspace=workspace))
    return workspace


def lock_path(folder: Path) -> Path:
    """The lock file of the run in `folder`, held by the process training it."""
    return folder.parent / LOCKS_FOLDER / f"{folder.name}.lock"


def training_process_is_alive(folder: Path) -> bool:
    """Whether a live process still holds the run's lock, i.e. is still training it."""
    return lock_is_held(lock_path(folder))


def lock_is_held(path: Path) -> bool:
    """Whether a live process holds the lock file `path`.

    Opened for reading only: a lock file made by another user (the teacher's CLI, say) can still be
    tested. A lock that is not a regular file raises ValueError, which the reader reports.
    """
    try:
        lock = open_regular_file(path)
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


def checkpoint_name(epoch: int) -> str:
    return f"epoch-{epoch:04d}.npz"


def checkpoint_epochs(run_folder: Path) -> list[int]:
    """The epochs of a run folder's checkpoints, from the names of its regular files (nothing else counts)."""
    folder = run_folder / CHECKPOINTS_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(int(match.group(1)) for path in folder.iterdir()
                  if (match := CHECKPOINT_PATTERN.fullmatch(path.name)) and path.is_file() and not path.is_symlink())


def visible_folders(parent: Path) -> list[Path]:
    """The folders in `parent`, by name: not hidden ones (locks, part-assembled runs), and never a
    link, which could lead out of the runs folder."""
    if not parent.is_dir() or parent.is_symlink():
        return []
    return sorted(entry for entry in parent.iterdir()
                  if not entry.name.startswith(".") and not entry.is_symlink() and entry.is_dir())


def workspaces(runs_root: Path | None = None) -> list[str]:
    """The workspaces that have a folder in the runs folder."""
    return [folder.name for folder in visible_folders(Path(runs_root or runs_directory())) if is_valid_identifier(folder.name)]


def run_folders(runs_root: Path | None = None, workspace: str | None = None) -> list[Path]:
    """The run folders of `workspace` (of every workspace if None), by name."""
    chosen = workspaces(runs_root) if workspace is None else [workspace]
    return sorted(folder for name in chosen for folder in visible_folders(workspace_folder(name, runs_root)))
