"""A class's folder in the runs store: its names and limits, its id and teacher key, the text a
person types (a class name, a nickname) made plain, the class's lock, and class.json. Every other
module of the class board builds on these facts; this one imports none of them."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from ..files import cannot_write_message, read_bounded, write_atomically
from ..i18n import Message
from ..runs import runs_directory, workspace_secret
from ..runs.store_format import PARTIAL_PREFIX, try_lock

# Hidden (a leading dot), so workspaces(), list_runs and start-up housekeeping never take it, or a
# class inside it, for a workspace.
CLASSES_FOLDER = ".classes"
CLASS_FILE = "class.json"
LOCK_FILE = "class.lock"
ENTRIES_FOLDER = "entries"  # one <entry id>.json per entry: what the board shows
EXAM_FILE = "exam.json"  # after the reveal: each entry's test accuracy, with the run it was sat by

# A class id is minted as a workspace name is (runs/workspace_names.py): 64 random bits and a tag, the
# start of an HMAC of them under the server's secret, in a domain of its own ("class:"), so a class id
# is never a workspace name, nobody reaches a class by guessing, and a stranger's id is refused before
# anything is read from disk.
MINTED_CLASS_PATTERN = re.compile(r"([0-9a-f]{16})-([0-9a-f]{8})")
TEACHER_KEY_PATTERN = re.compile(r"[0-9a-f]{32}")  # 128 random bits, as hex: safe in an address as it is
ENTRY_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
CLASS_ADDRESS_KEY, TEACHER_ADDRESS_KEY = "class", "teacher"  # ?class=<id>&teacher=<key>

# Bounds, so no class, and no student in one, can make the server read or keep without end.
MAX_CLASS_NAME_CHARACTERS = 60
MAX_NICKNAME_CHARACTERS = 24  # a column of a projected board, with room for the accuracy beside it
# Text longer than this is refused before it is cleaned: a nickname field holds a few words, not a book.
MAX_TYPED_CHARACTERS = 1000
# Consecutive combining marks kept after one letter: enough for every script's accents and vowel signs,
# too few to stack marks up through the rows above and below (the "Zalgo" trick).
MAX_MARKS_IN_A_ROW = 3
MAX_ENTRIES = 500  # a class of 40 posting a dozen runs each, with room to spare
MAX_CLASSES = 1000  # per server: creating a class is open to anyone who reaches the app
# class.json holds a few short fields and at most MAX_ENTRIES hidden entry ids (19 bytes each in JSON).
MAX_CLASS_FILE_BYTES = 64 * 1024
# An entry holds the settings and one row per epoch: about 80 bytes a row, so a run of the most
# epochs TrainConfig allows (1,000) fits with room to spare.
MAX_ENTRY_BYTES = 256 * 1024
MAX_EXAM_FILE_BYTES = 256 * 1024  # one record of about 100 bytes per entry
# How long a post or a teacher's action waits for the class's lock before saying the board is busy.
# The lock is held for a read of class.json and a file's write, so a wait this long means a stuck disk.
LOCK_WAIT_SECONDS = 10.0
LOCK_POLL_SECONDS = 0.005


class ClassBoardError(ValueError):
    """A class board's refusal or problem. Its one argument is a Message a person reads."""


class NoSuchClassError(ClassBoardError):
    """The class id names no class on this server (a mistyped or stranger's link)."""


class TeacherKeyError(ClassBoardError):
    """A teacher's action without the class's teacher key, or with a wrong one."""


class ClassSaveError(ClassBoardError):
    """The class's folder cannot be written (a full disk, a read-only runs folder)."""

    def __init__(self, path: Path, error: OSError):
        super().__init__(cannot_write_message(path, error, Message(
            "The class boards are saved in the runs folder: free some disk space or make the folder writable "
            "(MNIST_LAB_RUNS_DIR names another runs folder).")))


# -- text a person types: a class name, a nickname -----------------------------------------------------

def plain_text(text) -> str:
    """`text` as one line of plain characters: Unicode's composed form, every kind of space and line
    break a single space, and what a person cannot see removed (control characters, the invisible
    format characters among which the right-to-left overrides that reverse what follows on screen,
    private and unassigned code points), with combining marks at most MAX_MARKS_IN_A_ROW to a letter.
    Markdown and HTML stay as typed: they are characters, shown as such by whoever renders the text."""
    kept, marks_in_a_row = [], 0
    for character in unicodedata.normalize("NFC", text):
        if character.isspace():
            character = " "
        category = unicodedata.category(character)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        marks_in_a_row = marks_in_a_row + 1 if category.startswith("M") else 0
        if marks_in_a_row <= MAX_MARKS_IN_A_ROW:
            kept.append(character)
    return " ".join("".join(kept).split())


def typed_text(text) -> str:
    """What a person typed, made plain (anything but text counts as nothing typed). Text longer than
    MAX_TYPED_CHARACTERS comes back as it is, to be refused by its length without the work of cleaning it."""
    typed = text if isinstance(text, str) else ""
    return plain_text(typed) if len(typed) <= MAX_TYPED_CHARACTERS else typed


def typed_label(text, limit: int, when_empty: Message, when_too_long: Callable[[int], Message]) -> str:
    """A label a person typed (a nickname, a class's name) as plain_text makes it, or ClassBoardError with
    `when_empty`, or with `when_too_long(its length)` past `limit` characters."""
    cleaned = typed_text(text)
    if cleaned == "":
        raise ClassBoardError(when_empty)
    if len(cleaned) > limit:
        raise ClassBoardError(when_too_long(len(cleaned)))
    return cleaned


def clean_nickname(nickname) -> str:
    """A nickname for the board as plain_text makes it, or ClassBoardError saying why it cannot be one."""
    return typed_label(nickname, MAX_NICKNAME_CHARACTERS,
                       Message("A nickname cannot be empty: type a name for the board, a few letters will do."),
                       lambda count: Message("A nickname has at most {limit} characters; this one has {count:,}.",
                                             limit=MAX_NICKNAME_CHARACTERS, count=count))


def clean_class_name(name) -> str:
    """A class's name as plain_text makes it, or ClassBoardError saying why it cannot be one. A label
    only: the class's folder is named by its id, whatever the name holds (a `../`, say)."""
    return typed_label(name, MAX_CLASS_NAME_CHARACTERS, Message("A class needs a name, for the board's title."),
                       lambda count: Message("A class name has at most {limit} characters; this one has {count:,}.",
                                             limit=MAX_CLASS_NAME_CHARACTERS, count=count))


# -- ids, keys and links --------------------------------------------------------------------------------

def class_tag(secret: bytes, random_part: str) -> str:
    return hmac.new(secret, b"class:" + random_part.encode(), hashlib.sha256).hexdigest()[:8]


def is_minted_class(text, runs_root: Path | None = None) -> bool:
    """Whether `text` is a class id this server handed out (new_class), checked in constant time."""
    match = MINTED_CLASS_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return False
    try:
        secret = workspace_secret(runs_root, create=False)
    except (OSError, ValueError):
        return False  # no secret, so no class was ever made here
    return hmac.compare_digest(class_tag(secret, match.group(1)), match.group(2))


def key_digest(teacher_key: str) -> str:
    return hashlib.sha256(teacher_key.encode()).hexdigest()


def class_link_query(class_id: str) -> dict[str, str]:
    """The students' link's query: the class, and nothing of anyone's workspace."""
    return {CLASS_ADDRESS_KEY: class_id}


def teacher_link_query(class_id: str, teacher_key: str) -> dict[str, str]:
    """The teacher's link's query: the class and its teacher key. Whoever holds it has the teacher's powers."""
    return {CLASS_ADDRESS_KEY: class_id, TEACHER_ADDRESS_KEY: teacher_key}


@dataclasses.dataclass(frozen=True)
class ClassKeys:
    """What new_class hands the teacher once: the class id (for everyone) and the teacher key (for the
    teacher alone; the server keeps only its SHA-256, so it cannot be shown again)."""

    class_id: str
    teacher_key: str = dataclasses.field(repr=False)  # kept out of logs and tracebacks

    @property
    def student_query(self) -> str:
        return "?" + urlencode(class_link_query(self.class_id))

    @property
    def teacher_query(self) -> str:
        return "?" + urlencode(teacher_link_query(self.class_id, self.teacher_key))


# -- the class's folder and class.json --------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ClassRecord:
    """class.json, read and checked. `owner_secret` makes the owner tokens (entries.owner_token): a
    random secret of the class, so a token says nothing of the workspace it came from."""

    class_id: str
    folder: Path
    name: str
    created: float
    teacher_key_sha256: str = dataclasses.field(repr=False)
    owner_secret: str = dataclasses.field(repr=False)
    closed: bool = False
    revealed: float | None = None  # when the teacher revealed the exam
    hidden: frozenset[str] = frozenset()  # entry ids the teacher hid

    def to_json(self) -> bytes:
        return json.dumps({"format": 1, "name": self.name, "created": self.created,
                           "teacher_key_sha256": self.teacher_key_sha256, "owner_secret": self.owner_secret,
                           "closed": self.closed, "revealed": self.revealed, "hidden": sorted(self.hidden)},
                          indent=1).encode()


def classes_folder(runs_root: Path | None = None) -> Path:
    return Path(runs_root or runs_directory()) / CLASSES_FOLDER


def class_folder(class_id, runs_root: Path | None = None) -> Path:
    """The folder of the class `class_id`, or NoSuchClassError for any id this server did not mint:
    nothing from a stranger's address is made into a path."""
    if not is_minted_class(class_id, runs_root):
        raise NoSuchClassError(Message("This link's class does not exist on this server: ask the teacher for the link again."))
    return classes_folder(runs_root) / class_id


def new_class(name, runs_root: Path | None = None) -> ClassKeys:
    """Make a class: its folder (assembled under a hidden name and renamed into place, so a reader
    never finds a class without its class.json), named by a fresh minted id; `name` is its label only.
    Raises ClassBoardError for a name that cannot be one or past MAX_CLASSES, ClassSaveError if the
    runs folder cannot be written."""
    name = clean_class_name(name)
    parent = classes_folder(runs_root)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        secret = workspace_secret(runs_root)
    except OSError as error:
        raise ClassSaveError(parent / CLASS_FILE, error) from error
    except ValueError as error:  # a damaged secret file: its message says what to do
        raise ClassBoardError(Message("The server's secret for names cannot be read: {error}", error=str(error))) from error
    if sum(1 for entry in parent.iterdir() if MINTED_CLASS_PATTERN.fullmatch(entry.name)) >= MAX_CLASSES:
        raise ClassBoardError(Message("This server already holds {count:,} classes, as many as it keeps: remove old "
                                      "classes from {folder} first.", count=MAX_CLASSES, folder=str(parent)))
    random_part, teacher_key = secrets.token_hex(8), secrets.token_hex(16)
    class_id = f"{random_part}-{class_tag(secret, random_part)}"
    record = ClassRecord(class_id=class_id, folder=parent / class_id, name=name, created=time.time(),
                         teacher_key_sha256=key_digest(teacher_key), owner_secret=secrets.token_hex(32))
    partial = parent / f"{PARTIAL_PREFIX}{class_id}"
    try:
        (partial / ENTRIES_FOLDER).mkdir(parents=True)
        write_atomically(partial / CLASS_FILE, record.to_json())
        os.rename(partial, record.folder)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise ClassSaveError(record.folder / CLASS_FILE, error) from error
    return ClassKeys(class_id, teacher_key)


def read_class(class_id, runs_root: Path | None = None) -> ClassRecord:
    """class.json of `class_id`, checked field by field. NoSuchClassError for an id this server did not
    mint or a class since removed; ClassBoardError naming the file if it is damaged."""
    folder = class_folder(class_id, runs_root)
    try:
        raw = json.loads(read_bounded(folder / CLASS_FILE, MAX_CLASS_FILE_BYTES))
    except FileNotFoundError as error:
        raise NoSuchClassError(Message("This link's class does not exist on this server: ask the teacher for the link "
                                       "again.")) from error
    except (OSError, ValueError, RecursionError) as error:
        raise damaged_class(folder, error) from error
    try:
        hidden = raw["hidden"]
        if not isinstance(hidden, list) or not all(isinstance(entry_id, str) for entry_id in hidden):
            raise ValueError("hidden must be a list of entry ids")
        revealed = raw["revealed"]
        record = ClassRecord(class_id=class_id, folder=folder, name=clean_class_name(raw["name"]),
                             created=finite_number(raw["created"]), teacher_key_sha256=hex_text(raw["teacher_key_sha256"], 64),
                             owner_secret=hex_text(raw["owner_secret"], 64), closed=true_or_false(raw["closed"]),
                             revealed=None if revealed is None else finite_number(revealed), hidden=frozenset(hidden))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise damaged_class(folder, error) from error
    return record


def damaged_class(folder: Path, error: Exception) -> ClassBoardError:
    return ClassBoardError(Message("This class's file {file} is damaged ({error}), so its board cannot be shown. The "
                                   "teacher can make a new class.", file=str(folder / CLASS_FILE), error=str(error)))


def finite_number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def true_or_false(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def hex_text(value, length: int) -> str:
    if not isinstance(value, str) or not re.fullmatch(f"[0-9a-f]{{{length}}}", value):
        raise ValueError(f"expected {length} hexadecimal digits")
    return value


def write_class(record: ClassRecord) -> None:
    """class.json replaced whole. Call it holding the class's lock, after reading the record under it."""
    try:
        write_atomically(record.folder / CLASS_FILE, record.to_json())
    except OSError as error:
        raise ClassSaveError(record.folder / CLASS_FILE, error) from error


def check_teacher_key(class_id, teacher_key, runs_root: Path | None = None) -> ClassRecord:
    """The class's record if `teacher_key` is its teacher key, else TeacherKeyError. The key's digest is
    compared in constant time, so the time a wrong key takes says nothing of the right one."""
    record = read_class(class_id, runs_root)
    if not isinstance(teacher_key, str) or not teacher_key:
        raise TeacherKeyError(Message("Only the teacher can do this: open the class with the teacher's link (it holds "
                                      "the teacher key)."))
    given = key_digest(teacher_key) if TEACHER_KEY_PATTERN.fullmatch(teacher_key) else ""
    if not hmac.compare_digest(given.encode(), record.teacher_key_sha256.encode()):
        raise TeacherKeyError(Message("That is not this class's teacher key: only the teacher's link can do this."))
    return record


def is_teacher_key(class_id, teacher_key, runs_root: Path | None = None) -> bool:
    """Whether `teacher_key` opens the teacher's powers over the class (for a page deciding what to show)."""
    try:
        check_teacher_key(class_id, teacher_key, runs_root)
    except ClassBoardError:
        return False
    return True


# -- the class's lock -------------------------------------------------------------------------------------

# Threads of this server wait for one another on a lock in memory; the lock file then keeps out other
# processes (a second server, a script), which the operating system releases however they die. The
# memory lock is also what lets write_atomically name its temporary file by the process alone: no two
# threads of one process write into a class at once. A fixed set of locks, each class taking one by
# its id, so the set never grows with the classes a server has seen.
THREAD_LOCKS = tuple(threading.Lock() for _ in range(64))


@contextlib.contextmanager
def class_lock(record: ClassRecord):
    """Hold the class's lock: every change to a class's folder (a post, a withdrawal, a teacher's
    action) is made under it, so forty posts in the same second are written one after another and
    none is lost, and a post never slips in after the teacher closed the class. Raises
    ClassBoardError if the lock is not free within LOCK_WAIT_SECONDS."""
    busy = ClassBoardError(Message("The class board is busy: try again in a moment."))
    thread_lock = THREAD_LOCKS[int(record.class_id[:8], 16) % len(THREAD_LOCKS)]
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    if not thread_lock.acquire(timeout=LOCK_WAIT_SECONDS):
        raise busy
    try:
        path = record.folder / LOCK_FILE
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as error:
            raise ClassSaveError(path, error) from error
        with os.fdopen(descriptor, "r+b") as lock_file:
            while True:
                try:
                    try_lock(lock_file)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise busy from None
                    time.sleep(LOCK_POLL_SECONDS)
            yield  # closing the file releases the lock
    finally:
        thread_lock.release()
