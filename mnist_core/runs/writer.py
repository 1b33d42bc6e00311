"""Saving a run as it trains: reserved before it queues, every file replaced whole at each epoch end."""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import shutil
import time
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from ..files import link_atomically, write_atomically
from ..precision import FLOAT32
from ..results import EpochResult, IterationPoint, RunStatus
from .checkpoints import checkpoint_limit, checkpoints_to_drop
from .disk import check_disk_quotas, disk_quota_problem
from .store_format import (
    CHECKPOINTS_FOLDER,
    CONFIG_FILE,
    ITERATION_COLUMNS,
    ITERATIONS_FILE,
    LOCKS_FOLDER,
    METRICS_FILE,
    PARTIAL_PREFIX,
    RUN_FILE,
    SHARED_WORKSPACE,
    WEIGHTS_FILE,
    RunSaveError,
    checkpoint_epochs,
    checkpoint_name,
    lock_path,
    metrics_csv,
    runs_directory,
    npz_bytes,
    try_lock,
    workspace_folder,
)

logger = logging.getLogger(__name__)


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

    def __getstate__(self) -> dict:
        """A recorder sent to a Dask worker (dask_executor.py) writes the run's files there, but its lock stays
        with the process that reserved the run and watches the worker: a lock is a process's own, and whoever
        holds it says the run is alive. So the worker's copy holds none, and names the runs folder outright
        (the worker's own $MNIST_LAB_RUNS_DIR may differ) for its disk quotas."""
        state = dict(self.__dict__, _lock=None)
        if self._quota_workspace is not None:
            workspace, runs_root = self._quota_workspace
            state["_quota_workspace"] = (workspace, runs_root or runs_directory())
        return state

    def saved_status(self) -> RunStatus:
        """The status run.json holds now (a worker that picks the run up again after another was lost
        finds it running, not waiting)."""
        try:
            return RunStatus(json.loads((self.folder / RUN_FILE).read_bytes())["status"])
        except (OSError, ValueError, KeyError) as error:
            raise RunSaveError(self.folder, error) from error

    def release(self) -> None:
        """Let go of the run's lock, the sign that it is alive: its worker has ended it, or was lost (then
        a reader finds it interrupted, with its saved epochs)."""
        self._release_lock(self.folder)

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

    def mark_running(self, start_weights: dict[str, np.ndarray] | None = None, precision: str = FLOAT32,
                     kernels: str | None = None) -> None:
        """The run has its training slot and starts now, from `start_weights` (checkpoint 0), computing in
        `precision` (precision.py; every model rebuilt from the run computes the same way) with TensorFlow's
        `kernels` (kernels.py; only a record of where it trained: its numbers differ in the last digits)."""
        self.info["status"] = RunStatus.RUNNING
        self.info["precision"] = precision
        if kernels is not None:
            self.info["kernels"] = kernels
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
