"""Saving runs as they train, listing them and loading them back.

Each run belongs to a *workspace*: every browser session trains in its own, so a class of students
sees only their own runs, and each workspace is a folder of its own under the runs folder (`runs/`,
or `$MNIST_LAB_RUNS_DIR`). A page reads only its own workspace's folder, so one student's damaged
or huge files cost no other student anything. The command line trains in `shared` unless told
otherwise.

    runs/<workspace>/20261128-143000-linear-1a2b3c4d/
        config.json    the TrainConfig, so every chart can say how it was made
        metrics.csv    one row per finished epoch
        weights.npz    the weights after the last finished epoch (or the best, after an early stop)
        iterations.csv the iteration curve: the training batches' loss and accuracy, a few hundred
                       points an epoch (results.IterationLog), appended at every epoch end
        checkpoints/   epoch-0000.npz (the random start) and one per finished epoch, thinned to a
                       budget (see CHECKPOINT_BUDGET_BYTES), and past a disk quota to the last (see
                       DiskUsage); runs saved before them have none
        run.json       status, message, best epoch, times
        tensorboard/   the curves as TensorBoard event files (train/, validation/), written when the run
                       ends (training.py, with exports.py), so `tensorboard --logdir runs/<workspace>` shows them
    runs/<workspace>/.locks/20261128-143000-linear-1a2b3c4d.lock   only while it waits or trains

A run exists from the moment it is asked for: its folder, with config.json and a run.json saying
"waiting", is made before it queues for a training slot, so a run killed in the queue or in its
first epoch is still listed (interrupted, 0 epochs), and a runs folder that cannot be written is
found before any time is spent training. The folder is assembled under a hidden name and renamed
into place, so a reader never sees a run without its run.json, and its id is reserved first by
creating its lock file exclusively, so two runs never share a folder.

Every file is written to a temporary name and then renamed over the old one, and this happens at
every epoch end: a crash loses at most the epoch in progress, and no file is ever half-written.
Nothing here unpickles: weights are plain numpy arrays loaded with `allow_pickle=False`.

A run that says "running" must have a live process training it. The training process holds an OS
lock on the run's file in `.locks/` (outside the run's folder, so the folder can be renamed while
the lock is held, which Windows would refuse otherwise); the operating system drops that lock when the process dies, however it dies
(a kill, a power cut, a closed laptop lid that ends the server). A reader that finds the lock free
under a "running" run.json reports the run as *interrupted*, with the epochs saved before the end.
This is safer than remembering a process id, which a restarted server may well be given again.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import functools
import hashlib
import hmac
import io
import json
import logging
import math
import os
import re
import secrets
import shutil
import stat
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .data import PROJECT_ROOT
from .fair_share import MEGABYTE, server_disk_limit_bytes, workspace_disk_limit_bytes
from .files import cannot_write_message, link_atomically, open_regular_file, read_bounded, write_atomically
from .i18n import Message, carried_message
from .results import EpochResult, IterationPoint, RunStatus, best_result

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
# was not written by the app; only its first part is read.
MAX_ITERATIONS_BYTES = 8 * 1024 * 1024
NPY_HEADER_BYTES = 1024  # room for the header in front of each array in weights.npz
SHARED_WORKSPACE = "shared"  # the command line's runs, and runs saved before workspaces existed
PARTIAL_PREFIX = ".partial-"  # a run folder being assembled, renamed into place once it holds run.json
# A lock, part-assembled folder or temporary file this old, which no live process holds, was left by
# a killed process. Younger ones may belong to a run that is starting right now.
ORPHAN_AGE_SECONDS = 60
# Every epoch's weights, for looking back at how a run learned: epoch 0 (the random start) and each
# finished epoch, up to MAX_CHECKPOINTS and CHECKPOINT_BUDGET_BYTES a run (weights.npz is a hard link
# to the last, so it costs nothing more). The linear model's 31 KB keep all of a 100-epoch run; a
# default MLP (1.1 MB) keeps 29; the sliders' biggest CNN (26 MB) its last alone. Beyond the bound the
# run is thinned (`checkpoints_to_drop`): the last always stays, and the best while early stopping may
# restore it; then the best and the random start if they fit, then as many others as fit. The random
# start needs no file to come back: it is rebuilt from the run's seed (SavedRun.checkpoint_weights).
CHECKPOINTS_FOLDER = "checkpoints"
CHECKPOINT_PATTERN = re.compile(r"epoch-(\d{4})\.npz")
MAX_CHECKPOINTS = 101
CHECKPOINT_BUDGET_BYTES = 32 * 1024 * 1024


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


# A workspace the server hands out: 64 random bits and a tag, the start of an HMAC of them under a
# secret kept in the runs folder. Only such a name is taken from a browser's address or cookie, so
# nobody opens runs by typing a name (`?workspace=alice`), and a name is a key nobody can guess.
MINTED_WORKSPACE_PATTERN = re.compile(r"([0-9a-f]{16})-([0-9a-f]{8})")
WORKSPACE_SECRET_FILE = ".workspace-secret"  # hidden, so never listed as a workspace; mode 0600
WORKSPACE_SECRET_PATTERN = re.compile(rb"[0-9a-f]{64}\n?")


def workspace_secret(runs_root: Path | None = None, create: bool = True) -> bytes:
    """The server's secret for workspace names, made once (32 random bytes, as hex) on first use.
    Race-safe: it is written whole under a temporary name and linked into place only if no other
    process got there first, so a reader never sees it half-written. Raises OSError if it cannot be
    read or made (FileNotFoundError if it does not exist and `create` is false), ValueError if it is
    damaged."""
    path = Path(runs_root or runs_directory()) / WORKSPACE_SECRET_FILE
    if create and not os.path.lexists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        content = secrets.token_hex(32).encode() + b"\n"
        temporary = path.with_name(f"{WORKSPACE_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            write_exclusively(temporary, content)
            try:
                os.link(temporary, path)  # fails if another process made it first: theirs is kept
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links: made in place, exclusively all the same
                try:
                    write_exclusively(path, content)
                except FileExistsError:
                    pass
        finally:
            temporary.unlink(missing_ok=True)
    secret = read_bounded(path, 1024)
    if not WORKSPACE_SECRET_PATTERN.fullmatch(secret):
        raise ValueError(f"{path} is damaged (it should hold 64 hexadecimal digits); delete it and a new one is made "
                         "(every workspace name handed out before then stops working)")
    return secret.strip()


def write_exclusively(path: Path, content: bytes) -> None:
    """Create `path` (raising FileExistsError if anything is there, a link included), readable and
    writable by its owner only, holding `content`."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def workspace_tag(secret: bytes, random_part: str) -> str:
    return hmac.new(secret, b"workspace:" + random_part.encode(), hashlib.sha256).hexdigest()[:8]


def new_workspace(runs_root: Path | None = None) -> str:
    """A fresh workspace name minted by this server: 64 random bits, so nobody finds another
    student's runs by guessing, and a tag that says this server handed it out (is_minted_workspace).
    If the secret cannot be read or made (a read-only runs folder, where nothing can be saved
    anyway), the name is random but not minted: it serves this session only, and the log says why."""
    random_part = secrets.token_hex(8)
    try:
        secret = workspace_secret(runs_root)
    except (OSError, ValueError) as error:
        logger.warning("cannot mint workspace names with the secret in %s (%s): this workspace lasts one session",
                       Path(runs_root or runs_directory()), error)
        return random_part
    return f"{random_part}-{workspace_tag(secret, random_part)}"


def is_minted_workspace(text, runs_root: Path | None = None) -> bool:
    """Whether `text` is a workspace name this server handed out (new_workspace), checked in
    constant time. Hand-picked names (`alice`) and the bare hex names of earlier versions are not."""
    match = MINTED_WORKSPACE_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return False
    try:
        secret = workspace_secret(runs_root, create=False)
    except (OSError, ValueError):
        return False  # no secret, nothing was ever handed out
    return hmac.compare_digest(workspace_tag(secret, match.group(1)), match.group(2))


def workspace_nickname(workspace: str) -> str:
    """A short public name for a workspace ("7F3A"), for the sidebar and a projector: four hex digits of
    a hash of the name, which show nothing of the name itself, so seeing it opens nobody's runs."""
    return hashlib.sha256(b"nickname:" + workspace.encode()).hexdigest()[:4].upper()


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


def spreadsheet_text(text: str) -> str:
    """A label a spreadsheet shows as text: one starting with =, +, - or @ would be run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def runs_metrics_csv(runs) -> str:
    """The per-epoch metrics of several runs in one CSV, each row naming its run and every setting it
    was trained with (so a spreadsheet can group or plot by any of them)."""
    buffer = io.StringIO()
    setting_names = [field.name for field in dataclasses.fields(TrainConfig)]
    writer = csv.DictWriter(buffer, fieldnames=("run_id", "name", *setting_names, *METRIC_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for run in runs:
        settings = {name: "" if value is None else value for name, value in run.config.to_dict().items()}
        for result in run.history:
            writer.writerow({"run_id": run.run_id, "name": spreadsheet_text(run.name), **settings, **result.to_dict()})
    return buffer.getvalue()


def runs_metrics_csv_file(runs) -> bytes:
    """runs_metrics_csv as a download: UTF-8 with a byte order mark, without which Excel on a Chinese
    Windows reads the file as GBK and a Chinese run name turns into mojibake."""
    return runs_metrics_csv(runs).encode("utf-8-sig")


class RunRecorder:
    """Saves one run from the moment it is asked for. Pass it to train(..., recorder=...).

    Creating it reserves the run: the folder, with config.json and a run.json saying "waiting", and
    the held lock. It raises RunSaveError at once if the runs folder cannot be written, before any
    time is spent training. `name` is only a label: whatever it holds (a `../`, say), the folder's
    name is the generated run id.
    """

    RESERVE_ATTEMPTS = 10
    # How often a run measures the disk use against the quotas as it trains: a measurement costs up to
    # 30 ms on a server with 5,000 workspaces (benchmarks/disk_usage.py), and an epoch can take 20 ms.
    QUOTA_CHECK_SECONDS = 5.0

    def __init__(self, config: TrainConfig, runs_root: Path | None = None, name: str | None = None,
                 workspace: str = SHARED_WORKSPACE, within_disk_quotas: bool = False):
        self.config = config
        self.info = {"name": name or "", "status": RunStatus.WAITING, "message": "", "best_epoch": None,
                     "created": time.time(), "updated": time.time()}
        self._lock = None  # the open, locked lock file while this process owns the run
        self._iterations_saved = 0  # how many iteration points iterations.csv holds
        self._last_epoch = None  # the newest epoch whose checkpoint was kept
        # A run started from the browser is refused at a disk quota, before anything is saved, and
        # thins its checkpoints if it crosses one while it trains; the teacher's command line is not limited.
        self._quota_workspace = (workspace, runs_root) if within_disk_quotas else None
        self._quota_measured_at, self._past_quota = -math.inf, False  # measured at most every QUOTA_CHECK_SECONDS
        if within_disk_quotas:
            check_disk_quotas(workspace, runs_root)
        parent = workspace_folder(workspace, runs_root)
        try:
            self.run_id, self.folder = self._reserve(parent)
        except OSError as error:
            raise RunSaveError(parent, error) from error

    def _reserve(self, parent: Path) -> tuple[str, Path]:
        """Claim a fresh run id and make its folder; two runs never share one (see the module's text)."""
        (parent / LOCKS_FOLDER).mkdir(parents=True, exist_ok=True)
        for _ in range(self.RESERVE_ATTEMPTS):
            run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.config.model}-{secrets.token_hex(4)}"
            folder = parent / run_id
            try:
                lock = open(lock_path(folder), "xb")  # exclusive: whoever creates the lock owns the id
            except FileExistsError:
                continue
            self._lock = lock
            try_lock(lock)
            if folder.exists():  # a finished run (its lock long gone) already has this id
                self._release_lock(folder)
                continue
            partial = parent / f"{PARTIAL_PREFIX}{run_id}"
            try:
                partial.mkdir()
                self.info["name"] = self.info["name"] or run_id
                write_atomically(partial / CONFIG_FILE, self.config.to_json().encode())
                write_atomically(partial / RUN_FILE, json.dumps(self.info, indent=2).encode())
                os.rename(partial, folder)  # refused if the folder appeared meanwhile: never merged
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                self._release_lock(folder)
                raise
            return run_id, folder
        raise FileExistsError(f"no free run id after {self.RESERVE_ATTEMPTS} tries")

    def _release_lock(self, folder: Path) -> None:
        if self._lock is not None:
            self._lock.close()
            lock_path(folder).unlink(missing_ok=True)
            self._lock = None

    def _save(self, weights: dict[str, np.ndarray] | None = None, history: list[EpochResult] | None = None) -> None:
        # Weights and metrics first, run.json last: whatever run.json says is backed by the other files.
        try:
            if weights is not None:
                write_atomically(self.folder / WEIGHTS_FILE, npz_bytes(weights))
            if history is not None:
                write_atomically(self.folder / METRICS_FILE, metrics_csv(history).encode())
            self.info["updated"] = time.time()
            write_atomically(self.folder / RUN_FILE, json.dumps(self.info, indent=2).encode())
        except OSError as error:
            raise RunSaveError(self.folder, error) from error

    def mark_running(self, start_weights: dict[str, np.ndarray] | None = None) -> None:
        """The run has its training slot and starts now, from `start_weights` (checkpoint 0)."""
        self.info["status"] = RunStatus.RUNNING
        content = npz_bytes(start_weights) if start_weights is not None else b""
        # Written only where the budget has room for it beside the last epoch's weights: else the first
        # epoch's end would delete it again, and the random start is rebuilt from the seed all the same.
        if content and checkpoint_limit(len(content)) >= 2:
            try:
                (self.folder / CHECKPOINTS_FOLDER).mkdir(exist_ok=True)
                write_atomically(self.folder / CHECKPOINTS_FOLDER / checkpoint_name(0), content)
            except OSError as error:
                raise RunSaveError(self.folder, error) from error
        self._save()

    def record_epoch(self, history: list[EpochResult], weights: dict[str, np.ndarray], best_epoch: int | None,
                     iterations: list[IterationPoint] = ()) -> None:
        """Save the run after an epoch: `history` is the training's list of every finished epoch so far,
        `iterations` its iteration curve so far (results.IterationLog.points)."""
        self.info["best_epoch"] = best_epoch
        self.save_iterations(iterations)
        self._save(weights, history)
        self._keep_checkpoint(len(history), best_epoch)

    def save_iterations(self, iterations: list[IterationPoint]) -> None:
        """Append the iteration points not saved yet to iterations.csv.

        Appended, not rewritten: a 1,000-epoch run would otherwise write its whole curve a thousand
        times. A crash mid-append leaves at most a broken last line, which the reader skips."""
        new_points = iterations[self._iterations_saved:]
        if not new_points:
            return
        path = self.folder / ITERATIONS_FILE
        try:
            with open(path, "a", encoding="utf-8", newline="") as file:
                if self._iterations_saved == 0:
                    file.truncate(0)  # a file left by a run that failed to start is not ours to extend
                    file.write(",".join(ITERATION_COLUMNS) + "\n")
                file.write("".join(f"{point.iteration},{point.loss:.6g},{point.accuracy:.6g}\n" for point in new_points))
        except OSError as error:
            raise RunSaveError(self.folder, error) from error
        self._iterations_saved = len(iterations)

    def _keep_checkpoint(self, epoch: int, best_epoch: int | None) -> None:
        """weights.npz as this epoch's checkpoint, then the checkpoints thinned to the budget.

        A hard link, not a copy: weights.npz is replaced by a rename at every epoch, so the link
        keeps this epoch's file for the price of a directory entry (no bytes written, no second
        fsync). A file system without hard links gets a copy.
        This epoch's weights always stay, and the best epoch's while an early stop may restore them
        (they would become the run's final weights); the best and the random start come next."""
        folder = self.folder / CHECKPOINTS_FOLDER
        may_restore = bool(self.config.early_stopping_patience and self.config.restore_best_weights)
        try:
            folder.mkdir(exist_ok=True)
            link_atomically(self.folder / WEIGHTS_FILE, folder / checkpoint_name(epoch))
            self._last_epoch = epoch
            self._thin_checkpoints({epoch, best_epoch} if may_restore and best_epoch else {epoch}, (best_epoch, 0))
        except OSError as error:
            raise RunSaveError(self.folder, error) from error

    def _thin_checkpoints(self, keep: set[int], rather_keep: tuple[int | None, ...]) -> None:
        """Delete the checkpoints beyond the budget (see checkpoints_to_drop); past a disk quota, every
        one but those of `keep`. Raises OSError if one cannot be deleted."""
        limit = 0 if self._past_a_disk_quota() else checkpoint_limit((self.folder / WEIGHTS_FILE).stat().st_size)
        rather_keep = tuple(epoch for epoch in rather_keep if epoch is not None)
        for dropped in checkpoints_to_drop(checkpoint_epochs(self.folder), keep, limit, rather_keep):
            (self.folder / CHECKPOINTS_FOLDER / checkpoint_name(dropped)).unlink(missing_ok=True)

    def _past_a_disk_quota(self) -> bool:
        """Whether a browser-started run's workspace, or the server, holds more than its quota (as
        measured in the last QUOTA_CHECK_SECONDS). A measurement that fails says no: it never stops a run."""
        if self._quota_workspace is None:
            return False
        if time.monotonic() - self._quota_measured_at >= self.QUOTA_CHECK_SECONDS:
            try:
                self._past_quota = disk_quota_problem(*self._quota_workspace, crossed=True) is not None
            except (OSError, ValueError) as error:
                logger.warning("run %s: the disk use could not be measured (%s)", self.run_id, error)
                self._past_quota = False
            self._quota_measured_at = time.monotonic()
        return self._past_quota

    def _weights_from_checkpoint(self, epoch: int) -> None:
        """weights.npz as a hard link to the kept checkpoint of `epoch` (nothing to do if it is one already)."""
        checkpoint, weights = self.folder / CHECKPOINTS_FOLDER / checkpoint_name(epoch), self.folder / WEIGHTS_FILE
        try:
            if not (weights.exists() and os.path.samefile(weights, checkpoint)):
                link_atomically(checkpoint, weights)
        except OSError as error:
            raise RunSaveError(self.folder, error) from error

    def finish(self, status: RunStatus, message: str, best_epoch: int | None, iterations: list[IterationPoint] = (),
               weights_of_epoch: int | None = None) -> None:
        """Record how the run ended and let go of it. `weights_of_epoch`: the kept epoch whose weights are
        the run's final ones, so weights.npz becomes a hard link to its checkpoint, not a second copy (a
        finished run stored its final weights twice, and a restored best epoch's were written out again);
        None keeps those of the last saved epoch, if any. `iterations`: the whole iteration curve, with
        the steps of an epoch cut short.
        The lock is released even if the disk refuses the last write: a reader then reports the run
        as interrupted, with the epochs saved before."""
        self.info.update(status=status, message=str(message), best_epoch=best_epoch)  # saved in English
        try:
            self.save_iterations(iterations)
            if weights_of_epoch is not None:
                self._weights_from_checkpoint(weights_of_epoch)
            self._save()
            if weights_of_epoch is not None and weights_of_epoch != self._last_epoch:
                # The restored best epoch's weights are the final ones now: the last epoch's may go
                # where the budget had kept both only because the best could come back.
                try:
                    self._thin_checkpoints({weights_of_epoch}, (self._last_epoch, 0))
                except OSError as error:
                    logger.warning("run %s: its checkpoints could not be thinned (%s)", self.run_id, error)
        finally:
            # run.json already says how the run ended, so a reader that finds the lock free in
            # between these two lines still reads the right status.
            self._release_lock(self.folder)

    def discard(self) -> None:
        """Remove the run: it was refused before it started (a batch bigger than its training set, say)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._release_lock(self.folder)


def start_run(config: TrainConfig, runs_root: Path | None = None, name: str | None = None,
              workspace: str = SHARED_WORKSPACE, within_disk_quotas: bool = False) -> RunRecorder:
    """Reserve the run's folder in `workspace` and return the recorder that fills it as training goes.
    Raises RunSaveError if the runs folder cannot be written. `within_disk_quotas` (a run started from
    the browser): DiskQuotaError, before anything is saved, if the workspace or the server has
    reached its disk quota; past one while it trains, the run keeps only the weights it must."""
    return RunRecorder(config, runs_root, name, workspace, within_disk_quotas)


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
            from .models import build_model

            return build_model(self.config)
        return self._model_from(self.folder / CHECKPOINTS_FOLDER / checkpoint_name(epoch))

    def checkpoint_weights(self, epoch: int) -> dict[str, np.ndarray]:
        """The weights kept at the end of `epoch`, as arrays by variable path, without building a model
        for each (an animation of a hundred epochs reads a hundred checkpoints)."""
        if epoch == 0 and self._random_start_is_rebuilt():
            from .models import build_model, get_weights

            return get_weights(build_model(self.config))
        return self._weights_from(self.folder / CHECKPOINTS_FOLDER / checkpoint_name(epoch), self._variable_shapes)

    def _random_start_is_rebuilt(self) -> bool:
        """Whether the random start comes from the seed: the run kept checkpoints, but the budget had no
        room for the random start's. (The same seed builds the same weights: models.py's initializers
        are seeded, and a test checks the two agree.) A damaged file is read, and reported, as it is."""
        return (not os.path.lexists(self.folder / CHECKPOINTS_FOLDER / checkpoint_name(0))
                and bool(checkpoint_epochs(self.folder)))

    @functools.cached_property
    def _variable_shapes(self) -> dict[str, tuple]:
        from .models import build_model  # TensorFlow is only needed once weights are wanted.

        return {variable.path: tuple(variable.shape) for variable in build_model(self.config).weights}

    def _weights_from(self, path: Path, shapes: dict[str, tuple]) -> dict[str, np.ndarray]:
        try:
            return read_weights(path, shapes)
        except Exception as error:  # whatever is wrong with the file, it is this run's damage
            raise DamagedRunError(Message("Run {run}: {file} cannot be read ({error}).", run=self.run_id,
                                          file=str(path.relative_to(self.folder)), error=str(error))) from error

    def _model_from(self, path: Path):
        from .models import build_model, set_weights  # TensorFlow is only needed once a model is wanted.

        model = build_model(self.config)
        weights = self._weights_from(path, {variable.path: variable.shape for variable in model.weights})
        try:
            set_weights(model, weights)
        except ValueError as error:
            raise DamagedRunError(Message("Run {run}: {error}", run=self.run_id, error=carried_message(error))) from error
        return model


def checkpoint_name(epoch: int) -> str:
    return f"epoch-{epoch:04d}.npz"


def checkpoint_epochs(run_folder: Path) -> list[int]:
    """The epochs of a run folder's checkpoints, from the names of its regular files (nothing else counts)."""
    folder = run_folder / CHECKPOINTS_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(int(match.group(1)) for path in folder.iterdir()
                  if (match := CHECKPOINT_PATTERN.fullmatch(path.name)) and path.is_file() and not path.is_symlink())


def checkpoint_limit(checkpoint_bytes: int) -> int:
    """How many checkpoints of this size fit the budget (at most MAX_CHECKPOINTS). It can be 0 (a
    model bigger than the budget, from the command line): the ones that must stay stay all the same."""
    return min(MAX_CHECKPOINTS, CHECKPOINT_BUDGET_BYTES // max(checkpoint_bytes, 1))


def checkpoints_to_drop(epochs: list[int], keep: set[int], limit: int, rather_keep: tuple[int, ...] = ()) -> list[int]:
    """Which checkpoints to delete so that at most `limit` remain, never one of `keep`.

    First the others, never the newest: each time the one whose neighbours are closest on a
    logarithmic scale of epochs, so the ones left are dense where a model changes most, in its first
    epochs, and sparser later (a 40-epoch run kept to 29 checkpoints keeps every epoch up to 18, then
    about every other one). Only then those of `rather_keep`, the last named first (pass the random
    start last: it is rebuilt from the seed, so it is the cheapest to lose)."""
    epochs, dropped = sorted(epochs), []
    spared = set(keep) | set(rather_keep)
    while len(epochs) > limit:
        others = [index for index in range(len(epochs) - 1) if epochs[index] not in spared]
        if others:
            index = min(others, key=lambda index: (math.log1p(epochs[index + 1]) - math.log1p(epochs[index - 1] if index else 0),
                                                   -epochs[index]))
        else:
            wanted_least = [epoch for epoch in reversed(rather_keep) if epoch in epochs and epoch not in keep]
            if not wanted_least:
                break
            index = epochs.index(wanted_least[0])
        dropped.append(epochs.pop(index))
    return dropped


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


def read_info(folder: Path) -> dict:
    """run.json, checked field by field. Raises DamagedRunError naming the file."""
    try:
        raw = json.loads(read_bounded(folder / RUN_FILE, MAX_JSON_BYTES))
        info = {"status": RunStatus(raw["status"]), "message": str(raw["message"]), "name": str(raw["name"]),
                "created": float(raw["created"]), "best_epoch": whole_number_or_none(raw["best_epoch"])}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        raise DamagedRunError(Message("Run {run}: {file} is damaged ({error}).", run=folder.name, file=RUN_FILE,
                                      error=str(error))) from error
    return info


def epochs_text(count: int) -> Message:
    return Message("{count} epoch", count=count) if count == 1 else Message("{count} epochs", count=count)


def kept_epochs_text(count: int) -> Message:
    """What a run that ended early keeps, for the end of a sentence: "its 3 epochs and their weights are kept"."""
    if count == 1:
        return Message("its 1 epoch and its weights are kept")
    return Message("its {epochs} and their weights are kept", epochs=epochs_text(count))


def interrupted_message(status: RunStatus, finished_epochs: int) -> Message:
    """What a reader says of a run whose process is gone while its run.json says waiting or running."""
    if status == RunStatus.WAITING:
        return Message("Interrupted while it waited for a training slot (the server was closed or killed), so no epoch "
                       "was trained.")
    kept = kept_epochs_text(finished_epochs) if finished_epochs else Message("nothing had been trained yet")
    return Message("Interrupted during epoch {epoch}: the program training it stopped (the server was closed or killed), "
                   "so {kept}.", epoch=finished_epochs + 1, kept=kept)


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


# -- disk quotas: what the runs take, per workspace and for the server ----------------------------

class DiskQuotaError(ValueError):
    """A run started from the browser, refused because a disk quota is reached. The message says
    which quota, how much is used and what to do."""


def run_folder_bytes(folder: Path | str) -> tuple[int, int]:
    """(the bytes of the files under `folder`, the newest modification time of anything in it, in
    nanoseconds). A file with several names in it (weights.npz and its checkpoint) counts once, by
    device and inode; a link is counted as itself, never followed."""
    seen, total = set(), 0
    try:
        newest = os.lstat(folder).st_mtime_ns
    except OSError:
        return 0, 0
    folders = [folder]
    while folders:
        try:
            entries = os.scandir(folders.pop())
        except OSError:
            continue  # gone meanwhile, or not a folder after all
        with entries:
            for entry in entries:
                try:
                    status = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                newest = max(newest, status.st_mtime_ns)
                if stat.S_ISDIR(status.st_mode):
                    folders.append(entry.path)
                elif (status.st_dev, status.st_ino) not in seen:
                    seen.add((status.st_dev, status.st_ino))
                    total += status.st_size
    return total, newest


def subfolder_names(parent: Path | str) -> set[str]:
    """The names of the folders in `parent` that are not hidden and not links (from the directory
    entries alone: no file is opened or measured)."""
    try:
        with os.scandir(parent) as entries:
            return {entry.name for entry in entries
                    if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)}
    except OSError:
        return set()


@dataclasses.dataclass
class _WorkspaceUse:
    stamp: int | None  # the workspace folder's modification time when its runs were listed (None: list them again)
    settled: dict[str, int]  # the bytes of each of its run folders that no longer change
    unsettled: set[str]  # its other run folders, walked at every measurement
    settled_bytes: int  # the sum of `settled`


class DiskUsage:
    """How many bytes the run folders take, per workspace and on the whole server, measured often (at
    every Train, and at every epoch end of a browser-started run) without walking thousands of runs
    each time.

    A run folder is walked (every file, each counted once by device and inode) until it has *settled*:
    no process holds its lock and nothing in it changed for ORPHAN_AGE_SECONDS. A finished run never
    changes again, so from then on its size is remembered, and a workspace's folder is listed again
    only when its own modification time changes (a run added, renamed into place or deleted). Only
    what is live is walked again: the runs training or waiting, and those that ended in the last
    minute. On 5,000 finished runs (benchmarks/disk_usage.py) the first measurement walks them all;
    later ones cost one stat a workspace.

    Shared by every session of the server. It keeps one number a run folder on disk (about 100 bytes,
    half a megabyte for 5,000 runs), and forgets a workspace whose folder is gone."""

    def __init__(self):
        self._lock = threading.Lock()
        self._roots: dict[str, dict[str, _WorkspaceUse]] = {}  # runs folder -> workspace -> what it takes

    def workspace_bytes(self, workspace: str, runs_root: Path | None = None) -> int:
        folder = workspace_folder(workspace, runs_root)
        try:
            status = folder.lstat()
        except OSError:
            status = None
        with self._lock:
            uses = self._roots.setdefault(str(folder.parent), {})
            if status is None or not stat.S_ISDIR(status.st_mode):  # none yet; a link is never followed
                uses.pop(workspace, None)
                return 0
            return self._measure(uses, str(folder), workspace, status.st_mtime_ns)

    def server_bytes(self, runs_root: Path | None = None) -> int:
        """The bytes of every workspace's run folders (the command line's `shared` included)."""
        root, found = str(Path(runs_root or runs_directory())), {}
        try:
            with os.scandir(root) as entries:
                for entry in entries:
                    if is_valid_identifier(entry.name) and entry.is_dir(follow_symlinks=False):
                        try:
                            found[entry.name] = (entry.path, entry.stat(follow_symlinks=False).st_mtime_ns)
                        except OSError:
                            continue
        except OSError:
            pass  # no runs folder yet
        with self._lock:
            uses = self._roots.setdefault(root, {})
            for gone in uses.keys() - found.keys():
                del uses[gone]
            return sum(self._measure(uses, path, name, stamp) for name, (path, stamp) in found.items())

    @staticmethod
    def _measure(uses: dict[str, _WorkspaceUse], folder: str, workspace: str, stamp: int) -> int:
        now = time.time_ns()
        use = uses.get(workspace)
        if use is None or use.stamp != stamp:
            runs = subfolder_names(folder)
            settled = {name: size for name, size in use.settled.items() if name in runs} if use else {}
            # A listing made within two seconds of the folder's last change may miss a change made in the
            # same tick of a coarse file system clock: it is used this once, and made again next time.
            use = uses[workspace] = _WorkspaceUse(stamp if now - stamp > 2 * 10**9 else None, settled,
                                                  runs - settled.keys(), sum(settled.values()))
        total = use.settled_bytes
        for name in list(use.unsettled):
            size, newest = run_folder_bytes(os.path.join(folder, name))
            unlocked = not os.path.lexists(os.path.join(folder, LOCKS_FOLDER, f"{name}.lock"))
            if unlocked and now - newest > ORPHAN_AGE_SECONDS * 10**9:
                use.settled[name] = size
                use.settled_bytes += size
                use.unsettled.discard(name)
            total += size
        return total


disk_usage = DiskUsage()


def disk_quota_problem(workspace: str, runs_root: Path | None = None, crossed: bool = False) -> Message | None:
    """What stops a browser-started run in `workspace`: its workspace's quota or the server's, reached
    (or, with `crossed`, passed: a run already training only thins its checkpoints then); None if
    neither is."""
    def past(used: int, limit: float) -> bool:
        return used > limit or (used == limit and not crossed)

    limit = workspace_disk_limit_bytes()
    if limit is not None and past(used := disk_usage.workspace_bytes(workspace, runs_root), limit):
        return Message("This workspace's runs take {used:,.1f} MB of disk space, and a workspace may keep at most {limit:,g} "
                       "MB on this shared server, so no new run can start. Ask your teacher to delete runs you no longer "
                       "need.", used=used / MEGABYTE, limit=limit / MEGABYTE)
    limit = server_disk_limit_bytes()
    if limit is not None and past(used := disk_usage.server_bytes(runs_root), limit):
        return Message("The runs on this shared server take {used:,.1f} MB of disk space, the most it may keep ({limit:,g} "
                       "MB), so no new run can start in any workspace. Ask your teacher to delete old runs to make room.",
                       used=used / MEGABYTE, limit=limit / MEGABYTE)
    return None


def check_disk_quotas(workspace: str, runs_root: Path | None = None) -> None:
    """Raise DiskQuotaError, saying which quota, how much is used and what to do, if a run started
    from the browser in `workspace` may not start for want of disk space."""
    problem = disk_quota_problem(workspace, runs_root)
    if problem is not None:
        raise DiskQuotaError(problem)


# -- housekeeping at start-up ----------------------------------------------------------------------

def tidy_runs_folder(runs_root: Path | None = None) -> list[str]:
    """Run once when a server or the CLI starts. Returns what it did, one line per change, for the log.

    - Moves runs saved before workspaces had folders (runs/<run id>/) into their workspace's folder.
    - Removes what killed processes left behind: locks, part-assembled run folders and temporary
      files that no live process holds and that are older than ORPHAN_AGE_SECONDS (a younger one may
      belong to a run starting this instant).
    Never raises: a runs folder it cannot tidy is still read as before.
    """
    root = Path(runs_root or runs_directory())
    done = []
    try:
        done += move_old_layout_runs(root)
        for name in workspaces(root):
            done += remove_orphans(workspace_folder(name, root))
    except (OSError, ValueError) as error:
        logger.warning("could not tidy the runs folder %s: %s", root, error)
    for line in done:
        logger.info("%s", line)
    return done


def move_old_layout_runs(root: Path) -> list[str]:
    """runs/<run id>/ (a folder holding run.json) moves to runs/<its workspace>/<run id>/."""
    moved = []
    for folder in visible_folders(root):
        if not (folder / RUN_FILE).is_file():
            continue  # a workspace's folder
        if lock_is_held(lock_path(folder)):
            continue  # an older version of the app is still training it
        try:
            workspace = json.loads(read_bounded(folder / RUN_FILE, MAX_JSON_BYTES)).get("workspace", SHARED_WORKSPACE)
        except (OSError, ValueError, AttributeError, RecursionError):
            workspace = SHARED_WORKSPACE  # a damaged run is shown where the teacher looks: the shared workspace
        if not is_valid_identifier(workspace) or workspace == folder.name:
            workspace = SHARED_WORKSPACE
        target = workspace_folder(workspace, root) / folder.name
        if target.exists():
            continue
        target.parent.mkdir(exist_ok=True)
        os.rename(folder, target)
        lock_path(folder).unlink(missing_ok=True)
        moved.append(f"moved run {folder.name} into the folder of workspace {workspace}")
    return moved


def is_orphan(path: Path, lock: Path) -> bool:
    """Left behind by a dead process: old enough, and its run's lock held by nobody."""
    try:
        old = time.time() - path.lstat().st_mtime > ORPHAN_AGE_SECONDS
        return old and not lock_is_held(lock)
    except (OSError, ValueError):
        return False


def remove_orphans(parent: Path) -> list[str]:
    removed = []
    for partial in sorted(parent.glob(f"{PARTIAL_PREFIX}*")):
        if is_orphan(partial, lock_path(parent / partial.name.removeprefix(PARTIAL_PREFIX))):
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(f"removed the part-assembled run folder {partial}")
    for folder in visible_folders(parent):
        for temporary in folder.glob(".*.tmp"):
            if is_orphan(temporary, lock_path(folder)):
                temporary.unlink(missing_ok=True)
                removed.append(f"removed the temporary file {temporary}")
    locks = parent / LOCKS_FOLDER
    for lock in sorted(locks.glob("*.lock")) if locks.is_dir() and not locks.is_symlink() else []:
        if is_orphan(lock, lock):
            lock.unlink(missing_ok=True)
            removed.append(f"removed the stale lock {lock}")
    return removed
