"""Tidying the runs folder when a server or the command line starts."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from ..files import read_bounded
from .store_format import (
    LOCKS_FOLDER,
    MAX_JSON_BYTES,
    ORPHAN_AGE_SECONDS,
    PARTIAL_PREFIX,
    RUN_FILE,
    SHARED_WORKSPACE,
    is_valid_identifier,
    lock_is_held,
    lock_path,
    runs_directory,
    visible_folders,
    workspace_folder,
    workspaces,
)

logger = logging.getLogger(__name__)


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
