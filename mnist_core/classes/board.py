"""The board as a page shows it: the entries ranked, the exam's scores once revealed, the CSV, and
what the class found (each entry's settings that differ from its model's start, the spread of the
results of the same settings, what the top entries have in common)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import statistics
import time
from pathlib import Path

from ..config import TrainConfig, differing_settings, setting_applies
from ..files import read_bounded
from ..i18n import Message
from .class_folder import EXAM_FILE, MAX_EXAM_FILE_BYTES, ClassRecord, read_class
from .entries import Entry, read_entries


@dataclasses.dataclass(frozen=True)
class Board:
    """A class's board at one moment: `entries` ranked by best validation accuracy (a tie: the earlier
    post first), the hidden ones left out unless asked for; `problems`, one Message per damaged file."""

    class_id: str
    name: str
    closed: bool
    revealed: bool
    entries: tuple[Entry, ...]
    hidden_count: int
    problems: tuple[Message, ...]

    def ranked_by_test_accuracy(self) -> list[Entry]:
        """The entries ranked by the exam (once revealed), those not examined yet last: the private
        leaderboard beside the public one."""
        return sorted(self.entries, key=lambda entry: (entry.test_acc is None, -(entry.test_acc or 0.0), entry.posted,
                                                       entry.entry_id))

    def entry(self, entry_id: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.entry_id == entry_id), None)


def read_exam_records(record: ClassRecord) -> tuple[dict[str, tuple[str, float]], list[Message]]:
    """exam.json: {entry id: (the run id that sat the exam, its test accuracy)}, and a Message if the
    file is damaged (then no entry shows a test accuracy until the teacher reveals again)."""
    try:
        raw = json.loads(read_bounded(record.folder / EXAM_FILE, MAX_EXAM_FILE_BYTES))
        records = {entry_id: (run_id, float(accuracy)) for entry_id, (run_id, accuracy) in raw["exams"].items()
                   if isinstance(run_id, str) and is_accuracy(accuracy)}
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        return {}, [Message("The exam's results ({file}) are damaged ({error}): the teacher can reveal the exam again.",
                            file=EXAM_FILE, error=str(error))]
    return records, []


def exam_file_content(records: dict[str, tuple[str, float]]) -> bytes:
    return json.dumps({"format": 1, "exams": {entry_id: list(exam) for entry_id, exam in sorted(records.items())}},
                      indent=1).encode()


def is_accuracy(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1


def ranking_key(entry: Entry) -> tuple:
    return -entry.best_val_acc, entry.posted, entry.entry_id


def board(class_id, runs_root: Path | None = None, include_hidden: bool = False,
          viewer_workspace: str | None = None) -> Board:
    """The class's board, read from its folder (never from a workspace). `viewer_workspace`: the
    reader's own workspace, whose entries come back marked `yours` (so a page offers to withdraw
    them). Raises NoSuchClassError for a stranger's class id, ClassBoardError if class.json is
    damaged; a damaged entry is a problem on the board, not an error."""
    record = read_class(class_id, runs_root)
    stored, problems = read_entries(record, viewer_workspace)
    if record.revealed is not None:
        exams, exam_problems = read_exam_records(record)
        problems += exam_problems
    else:
        exams = {}
    entries = []
    for one in stored:
        entry = one.entry
        exam = exams.get(entry.entry_id)
        if exam is not None and exam[0] == entry.run_id:  # sat by this run, not one the entry held before
            entry = dataclasses.replace(entry, test_acc=exam[1])
        entries.append(entry)
    hidden_count = sum(entry.hidden for entry in entries)
    shown = sorted((entry for entry in entries if include_hidden or not entry.hidden), key=ranking_key)
    return Board(class_id=record.class_id, name=record.name, closed=record.closed, revealed=record.revealed is not None,
                 entries=tuple(shown), hidden_count=hidden_count, problems=tuple(problems))


# -- the board as a spreadsheet -------------------------------------------------------------------------

BOARD_CSV_COLUMNS = ("rank", "nickname", "best_val_acc", "best_epoch", "final_val_acc", "test_acc", "epochs", "posted",
                     "hidden", "run_id")


def board_csv(board: Board) -> bytes:
    """The board's entries as a CSV download, in the board's order, one row per entry with every
    setting: UTF-8 with a byte order mark, as exports.runs_metrics_csv_file writes (Excel on a Chinese
    Windows reads a Chinese nickname right only with it), and each nickname as text a spreadsheet never
    runs as a formula (exports.spreadsheet_text)."""
    from ..exports import spreadsheet_text  # exports loads TensorFlow: only when a CSV is asked for

    setting_names = [field.name for field in dataclasses.fields(TrainConfig)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=(*BOARD_CSV_COLUMNS, *setting_names), lineterminator="\n")
    writer.writeheader()
    for rank, entry in enumerate(board.entries, start=1):
        settings = {name: "" if value is None else value for name, value in entry.config.to_dict().items()}
        writer.writerow({"rank": rank, "nickname": spreadsheet_text(entry.nickname), "best_val_acc": entry.best_val_acc,
                         "best_epoch": entry.best_epoch, "final_val_acc": entry.final_val_acc,
                         "test_acc": "" if entry.test_acc is None else entry.test_acc, "epochs": len(entry.history),
                         "posted": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.posted)),
                         "hidden": entry.hidden, "run_id": entry.run_id, **settings})
    return buffer.getvalue().encode("utf-8-sig")


# -- what the class found -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SettingsGroup:
    """Entries trained with the same settings but for the seed, and how far apart their results lie:
    the same choices give different numbers from another random start."""

    settings: dict  # differing_settings, without the seed
    entries: tuple[Entry, ...]  # in the board's order
    lowest: float  # best validation accuracy: the lowest, highest and mean of the group's entries
    highest: float
    mean: float

    @property
    def seeds(self) -> list[int]:
        return sorted({entry.config.seed for entry in self.entries})


def same_settings_spread(board: Board, least_entries: int = 2) -> list[SettingsGroup]:
    """The groups of at least `least_entries` entries with identical settings (the seed aside), the
    biggest first, then the best on average. A lone entry has no spread to show, so it is in no group."""
    groups: dict[tuple, list[Entry]] = {}
    for entry in board.entries:
        settings = {name: value for name, value in differing_settings(entry.config).items() if name != "seed"}
        groups.setdefault(tuple(settings.items()), []).append(entry)
    found = []
    for key, entries in groups.items():
        if len(entries) >= least_entries:
            accuracies = [entry.best_val_acc for entry in entries]
            found.append(SettingsGroup(settings=dict(key), entries=tuple(entries), lowest=min(accuracies),
                                       highest=max(accuracies), mean=statistics.fmean(accuracies)))
    return sorted(found, key=lambda group: (-len(group.entries), -group.mean))


def common_to_the_top(board: Board, top: int = 5) -> dict:
    """The settings (the seed aside) on which the board's `top` entries all agree, each applying to all
    of them, leaving out those on which the whole board agrees: they set the top apart from nothing. In
    TrainConfig's order; empty for fewer than two entries."""
    leaders = board.entries[:top]
    if len(leaders) < 2:
        return {}

    def agreed(entries) -> dict:
        settings = [entry.config.to_dict() for entry in entries]
        return {name: settings[0][name] for name in settings[0]
                if name != "seed" and all(values[name] == settings[0][name] for values in settings)
                and all(setting_applies(name, entry.config) for entry in entries)}

    everyone = agreed(board.entries)
    return {name: value for name, value in agreed(leaders).items() if name not in everyone}
