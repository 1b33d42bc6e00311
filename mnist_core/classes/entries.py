"""The board's entries: a run posted with a nickname, copied into the class's folder, and read back.

Posting copies what the board needs from the run (its settings, its curves per epoch, its best
validation accuracy and epoch, its run id) into one file, entries/<entry id>.json, written whole
and renamed into place (files.write_atomically) under the class's lock. The board never reads a
workspace.

An entry records its poster only as an *owner token*: an HMAC of the poster's workspace under the
class's own secret. The token cannot be turned back into the workspace (the key to the student's
runs), yet the same workspace always gives the same token, so:
- the same student posting again with the same nickname replaces their earlier entry (its id is
  made from the token and the nickname), while another student choosing that nickname adds their own;
- a student may withdraw their own entries and nobody else's;
- at the reveal, the run is found again by computing each workspace's token (teacher.py): no file of
  the class holds a workspace name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from pathlib import Path

from ..config import TrainConfig
from ..files import read_bounded, write_atomically
from ..i18n import Message, carried_message
from ..results import RunStatus
from ..runs import SavedRun, is_valid_identifier
from .class_folder import (
    ENTRIES_FOLDER,
    ENTRY_ID_PATTERN,
    MAX_ENTRIES,
    MAX_ENTRY_BYTES,
    ClassBoardError,
    ClassRecord,
    ClassSaveError,
    class_lock,
    clean_nickname,
    finite_number,
    hex_text,
    read_class,
)

logger = logging.getLogger(__name__)

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")


@dataclasses.dataclass(frozen=True)
class BoardEpoch:
    """One epoch of a posted run's curves: what the board overlays."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float


@dataclasses.dataclass(frozen=True)
class Entry:
    """One run on the board, as the board shows it: nothing here names a workspace. `nickname` is the
    poster's plain text (shown as text, never as Markdown or HTML)."""

    entry_id: str
    nickname: str
    run_id: str
    config: TrainConfig
    history: tuple[BoardEpoch, ...]
    best_val_acc: float  # the highest validation accuracy of any epoch
    best_epoch: int  # the first epoch that reached it
    posted: float  # when it was posted (seconds since the epoch): the earlier post ranks first on a tie
    hidden: bool = False  # hidden by the teacher; only board(include_hidden=True) lists it
    test_acc: float | None = None  # once the teacher has revealed the exam, and only then
    yours: bool = False  # posted from the workspace board() was asked for by (viewer_workspace)

    @property
    def dataset(self) -> str:
        """The dataset its run trained on: an entry posted before there were two (its config without
        "dataset") reads back as MNIST's (TrainConfig.from_dict's default)."""
        return self.config.dataset

    @property
    def final_val_acc(self) -> float:
        """Validation accuracy at the last epoch: that of the model that sits the exam, unless an early
        stop put an earlier epoch's weights back."""
        return self.history[-1].val_acc


@dataclasses.dataclass(frozen=True)
class StoredEntry:
    """An entry as its file holds it: the Entry, and what only the engine uses (the owner token, and
    the run's stamp, by which the reveal checks that the run it finds is the one posted)."""

    entry: Entry
    owner: str
    run_epochs: int
    run_status: str


def owner_token(record: ClassRecord, workspace: str) -> str:
    return hmac.new(bytes.fromhex(record.owner_secret), b"owner:" + workspace.encode(), hashlib.sha256).hexdigest()


def replacing_entry_id(record: ClassRecord, owner: str, nickname: str, dataset: str = "mnist") -> str:
    """The one entry id of this owner under this nickname (the same in any letter case) on this dataset's
    board, so posting again overwrites that file: a replacement is a single atomic rename, never a delete
    and a write. A run of another dataset is another entry: it is ranked on another board, and must not
    take the place of the poster's entry there. (MNIST's ids are those of before there were two.)"""
    text = (f"entry:{owner}:{nickname.casefold()}" + ("" if dataset == "mnist" else f":{dataset}")).encode()
    return hmac.new(bytes.fromhex(record.owner_secret), text, hashlib.sha256).hexdigest()[:16]


def entries_folder(record: ClassRecord) -> Path:
    return record.folder / ENTRIES_FOLDER


def entry_path(record: ClassRecord, entry_id) -> Path:
    if not isinstance(entry_id, str) or not ENTRY_ID_PATTERN.fullmatch(entry_id):
        raise ClassBoardError(Message("There is no such entry on this board (it may have been withdrawn)."))
    return entries_folder(record) / f"{entry_id}.json"


def entry_ids(record: ClassRecord) -> list[str]:
    """The ids of the entry files in the class's folder, in order (a temporary file being written starts
    with a dot and is not one)."""
    folder = entries_folder(record)
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(path.stem for path in folder.iterdir() if path.suffix == ".json" and ENTRY_ID_PATTERN.fullmatch(path.stem))


def best_epoch_of(history) -> tuple[float, int]:
    """The highest validation accuracy and the first epoch that reached it."""
    best = max(history, key=lambda result: result.val_acc)  # max keeps the first of equals
    return best.val_acc, best.epoch


def post_entry(class_id, saved_run: SavedRun, nickname, replace: bool = True, runs_root: Path | None = None) -> Entry:
    """Post `saved_run` to the class's board under `nickname` and return its entry.

    With `replace`, it takes the place of the poster's earlier entry under the same nickname on the same
    dataset's board; without
    it, it is one more entry (a second run posted on purpose). Refused with a ClassBoardError saying
    why: a nickname that cannot be one (clean_nickname), a run not finished or without an epoch, a
    closed class, a full board (MAX_ENTRIES), a stranger's class id."""
    nickname = clean_nickname(nickname)
    if not saved_run.status.finished or not saved_run.history:
        raise ClassBoardError(Message("Only a finished run with at least one epoch can go on the board: let it finish "
                                      "(or stop it) first."))
    record = read_class(class_id, runs_root)
    owner = owner_token(record, saved_run.workspace)
    entry_id = replacing_entry_id(record, owner, nickname, saved_run.config.dataset) if replace else secrets.token_hex(8)
    best_val_acc, best_epoch = best_epoch_of(saved_run.history)
    history = [[result.epoch, *(float(getattr(result, name)) for name in HISTORY_COLUMNS[1:])]
               for result in saved_run.history]
    with class_lock(record):
        record = read_class(class_id, runs_root)  # as it stands now: the teacher may have closed it meanwhile
        if record.closed:
            raise ClassBoardError(Message("This class is closed: the teacher is not taking new posts."))
        existing = entry_ids(record)
        if entry_id not in existing and len(existing) >= MAX_ENTRIES:
            raise ClassBoardError(Message("This class board is full ({count:,} entries): ask the teacher to clear it.",
                                          count=MAX_ENTRIES))
        content = {"format": 1, "entry_id": entry_id, "nickname": nickname, "owner": owner, "posted": time.time(),
                   "run": {"id": saved_run.run_id, "epochs": len(saved_run.history), "status": str(saved_run.status)},
                   "config": saved_run.config.to_dict(), "history": history, "best_val_acc": best_val_acc,
                   "best_epoch": best_epoch}
        path = entry_path(record, entry_id)
        try:
            write_atomically(path, json.dumps(content, separators=(",", ":")).encode())
        except OSError as error:
            raise ClassSaveError(path, error) from error
    return entry_from(content, hidden=entry_id in record.hidden, yours=True).entry


def withdraw_entry(class_id, entry_id, workspace: str, runs_root: Path | None = None) -> None:
    """Take the entry `entry_id` off the board, if it was posted from `workspace`; otherwise a
    ClassBoardError: a student withdraws their own entries only (the teacher hides others')."""
    record = read_class(class_id, runs_root)
    path = entry_path(record, entry_id)
    with class_lock(record):
        try:
            owner = json.loads(read_bounded(path, MAX_ENTRY_BYTES))["owner"]
        except FileNotFoundError:
            return  # already gone: withdrawn twice, or the board was cleared
        except (OSError, ValueError, TypeError, KeyError, RecursionError) as error:
            logger.warning("class %s: entry %s cannot be read for a withdrawal (%s)", record.class_id, entry_id, error)
            raise ClassBoardError(Message("This entry cannot be read, so it cannot be withdrawn; the teacher can hide "
                                          "it.")) from error
        if not isinstance(owner, str) or not hmac.compare_digest(owner.encode(), owner_token(record, workspace).encode()):
            raise ClassBoardError(Message("Only the student who posted an entry can withdraw it."))
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise ClassSaveError(path, error) from error


def entry_from(content, hidden: bool = False, yours: bool = False) -> StoredEntry:
    """An entry file's content, checked field by field (ValueError, TypeError or KeyError if wrong):
    whatever a file holds, the board shows only what posting could have written."""
    if not isinstance(content, dict):
        raise ValueError("it is not a JSON object")
    run = content["run"]
    run_id, run_epochs, run_status = run["id"], run["epochs"], RunStatus(run["status"])
    if not is_valid_identifier(run_id):
        raise ValueError("its run id is not a run id")
    rows = content["history"]
    if not isinstance(rows, list) or not rows:
        raise ValueError("it has no epochs")
    history = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(HISTORY_COLUMNS) or row[0] != number:
            raise ValueError(f"epoch {number} is not an epoch number and four numbers")
        history.append(BoardEpoch(number, *(finite_number(value) for value in row[1:])))
    best_val_acc, best_epoch = best_epoch_of(history)  # computed again: never trusted from the file
    if not isinstance(run_epochs, int) or run_epochs != len(history):
        raise ValueError("its run's epochs do not match its curves")
    nickname = content["nickname"]
    if not isinstance(nickname, str) or clean_nickname(nickname) != nickname:
        raise ValueError("its nickname is not one the board would take")
    entry_id = content["entry_id"]
    if not isinstance(entry_id, str) or not ENTRY_ID_PATTERN.fullmatch(entry_id):
        raise ValueError("its entry id is not one")
    posted = finite_number(content["posted"])
    config = TrainConfig.from_dict(content["config"])
    entry = Entry(entry_id=entry_id, nickname=nickname, run_id=run_id, config=config, history=tuple(history),
                  best_val_acc=best_val_acc, best_epoch=best_epoch, posted=posted, hidden=hidden, yours=yours)
    return StoredEntry(entry=entry, owner=hex_text(content["owner"], 64), run_epochs=run_epochs, run_status=str(run_status))


def read_entries(record: ClassRecord, viewer_workspace: str | None = None) -> tuple[list[StoredEntry], list[Message]]:
    """Every entry of the class, and one Message per entry file that cannot be read (naming it): a
    damaged or hostile file is left out, never a reason the board fails. At most MAX_ENTRIES are read."""
    stored, problems = [], []
    viewer = owner_token(record, viewer_workspace) if viewer_workspace else None
    ids = entry_ids(record)
    if len(ids) > MAX_ENTRIES:
        problems.append(Message("This board's folder holds {count:,} entries, more than a board shows ({limit:,}): the "
                                "rest are left out.", count=len(ids), limit=MAX_ENTRIES))
        ids = ids[:MAX_ENTRIES]
    for entry_id in ids:
        path = entry_path(record, entry_id)
        try:
            content = json.loads(read_bounded(path, MAX_ENTRY_BYTES))
            if not isinstance(content, dict) or content.get("entry_id") != entry_id:
                raise ValueError("its entry id is not its file's name")
            one = entry_from(content, hidden=entry_id in record.hidden)
        except FileNotFoundError:
            continue  # withdrawn, replaced or cleared while the board was read
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            logger.warning("class %s: entry file %s is damaged (%s)", record.class_id, path.name, error)
            problems.append(Message("The board entry {file} is damaged and left out ({error}).", file=path.name,
                                    error=carried_message(error)))
            continue
        if viewer is not None and hmac.compare_digest(one.owner.encode(), viewer.encode()):
            one = dataclasses.replace(one, entry=dataclasses.replace(one.entry, yours=True))
        stored.append(one)
    return stored, problems


def remove_entry_files(record: ClassRecord) -> int:
    """Remove every entry file (and any temporary file a killed writer left); how many entries went.
    Call it holding the class's lock."""
    folder, removed = entries_folder(record), 0
    for path in folder.iterdir() if folder.is_dir() and not folder.is_symlink() else ():
        if path.is_file() or path.is_symlink():
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise ClassSaveError(path, error) from error
            removed += path.suffix == ".json" and not path.name.startswith(".")
    return removed

