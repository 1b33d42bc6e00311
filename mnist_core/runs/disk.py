"""Disk quotas: what the runs take, per workspace and for the whole server, measured without walking
thousands of finished runs at every check."""

from __future__ import annotations

import dataclasses
import os
import stat
import threading
import time
from pathlib import Path

from ..fair_share import MEGABYTE, server_disk_limit_bytes, workspace_disk_limit_bytes
from ..i18n import Message
from .store_format import LOCKS_FOLDER, ORPHAN_AGE_SECONDS, is_valid_identifier, runs_directory, workspace_folder


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
