"""The board as a page shows it: the entries ranked, the exam's scores once revealed, the CSV, and
what the class found (each entry's settings that differ from its model's start, the spread of the
results of the same settings, what the top entries have in common).

A class may post runs of several datasets (MNIST, Fashion-MNIST): an accuracy on one says nothing
against an accuracy on another, so everything here ranks and compares the entries of one dataset at
a time. `Board.datasets` lists those present, `Board.of_dataset` is the board of one; the CSV ranks
each dataset on its own; the spread and what the top share are computed within one dataset."""

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
from ..data import DATASET_NAMES
from ..files import read_bounded
from ..i18n import Message
from .class_folder import EXAM_FILE, MAX_EXAM_FILE_BYTES, ClassRecord, read_class
from .entries import Entry, read_entries


@dataclasses.dataclass(frozen=True)
class Board:
    """A class's board at one moment: `entries` ranked by best validation accuracy (a tie: the earlier
    post first), the hidden ones left out unless asked for; `problems`, one Message per damaged file.
    The entries may be of several datasets: rank and compare only those of one (`of_dataset`)."""

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

    def datasets(self, first: str | None = None) -> list[str]:
        """The datasets of the board's entries: `first` first where it has entries, then the one with the
        most entries (a tie: in DATASET_NAMES's order). Empty for an empty board."""
        counts = self.dataset_counts()
        return sorted(counts, key=lambda name: (name != first, -counts[name], dataset_order(name)))

    def dataset_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry.dataset] = counts.get(entry.dataset, 0) + 1
        return counts

    def of_dataset(self, dataset: str) -> "Board":
        """The board of the entries of `dataset` alone, in the same order: its own ranking. Its
        `hidden_count` is still the whole class's."""
        return dataclasses.replace(self, entries=tuple(entry for entry in self.entries if entry.dataset == dataset))

    def datasets_to_examine(self) -> set[str]:
        """The datasets of the entries without a test accuracy: those whose test sets a reveal needs
        (of a board read with include_hidden, as the reveal examines hidden entries too)."""
        return {entry.dataset for entry in self.entries if entry.test_acc is None}


def dataset_order(name: str) -> int:
    return DATASET_NAMES.index(name) if name in DATASET_NAMES else len(DATASET_NAMES)


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

BOARD_CSV_COLUMNS = ("dataset", "rank", "nickname", "best_val_acc", "best_epoch", "final_val_acc", "test_acc", "epochs",
                     "posted", "hidden", "run_id")


def board_csv(board: Board, first: str | None = None) -> bytes:
    """The board's entries as a CSV download, one row per entry with every setting: each dataset's
    entries together (`first` first, then as Board.datasets orders them), ranked within their dataset,
    its name the first column (an entry posted before there were two datasets is MNIST's). UTF-8 with a
    byte order mark, as exports.runs_metrics_csv_file writes (Excel on a Chinese Windows reads a Chinese
    nickname right only with it), and each nickname as text a spreadsheet never runs as a formula
    (exports.spreadsheet_text)."""
    from ..exports import spreadsheet_text  # exports loads TensorFlow: only when a CSV is asked for

    setting_names = [field.name for field in dataclasses.fields(TrainConfig) if field.name != "dataset"]  # a column first
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=(*BOARD_CSV_COLUMNS, *setting_names), lineterminator="\n")
    writer.writeheader()
    ranked = [(rank, entry) for dataset in board.datasets(first)
              for rank, entry in enumerate(board.of_dataset(dataset).entries, start=1)]
    for rank, entry in ranked:
        settings = {name: "" if value is None else value for name, value in entry.config.to_dict().items()}
        writer.writerow({"dataset": entry.dataset, "rank": rank, "nickname": spreadsheet_text(entry.nickname),
                         "best_val_acc": entry.best_val_acc,
                         "best_epoch": entry.best_epoch, "final_val_acc": entry.final_val_acc,
                         "test_acc": "" if entry.test_acc is None else entry.test_acc, "epochs": len(entry.history),
                         "posted": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.posted)),
                         "hidden": entry.hidden, "run_id": entry.run_id, **settings})
    return buffer.getvalue().encode("utf-8-sig")


# -- what the class found -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SettingsGroup:
    """Entries trained with the same settings but for the seed, on the same dataset, and how far apart
    their results lie: the same choices give different numbers from another random start."""

    settings: dict  # differing_settings, without the seed and the dataset
    entries: tuple[Entry, ...]  # in the board's order
    lowest: float  # best validation accuracy: the lowest, highest and mean of the group's entries
    highest: float
    mean: float
    dataset: str = "mnist"  # the dataset all its entries trained on

    @property
    def seeds(self) -> list[int]:
        return sorted({entry.config.seed for entry in self.entries})


def same_settings_spread(board: Board, least_entries: int = 2) -> list[SettingsGroup]:
    """The groups of at least `least_entries` entries with identical settings (the seed aside) on the
    same dataset, the biggest first, then the best on average. A lone entry has no spread to show, so it
    is in no group; entries of two datasets are never in one group. Pass a board of one dataset
    (Board.of_dataset) for that dataset's groups."""
    groups: dict[tuple, list[Entry]] = {}
    for entry in board.entries:
        settings = {name: value for name, value in differing_settings(entry.config).items()
                    if name not in ("seed", "dataset")}
        groups.setdefault((entry.dataset, tuple(settings.items())), []).append(entry)
    found = []
    for (dataset, key), entries in groups.items():
        if len(entries) >= least_entries:
            accuracies = [entry.best_val_acc for entry in entries]
            found.append(SettingsGroup(settings=dict(key), entries=tuple(entries), lowest=min(accuracies),
                                       highest=max(accuracies), mean=statistics.fmean(accuracies), dataset=dataset))
    return sorted(found, key=lambda group: (-len(group.entries), -group.mean))


def common_to_the_top(board: Board, top: int = 5, dataset: str | None = None) -> dict:
    """The settings (the seed aside) on which the `top` entries of `dataset` all agree, each applying
    to all of them, leaving out those on which all that dataset's entries agree: they set the top apart
    from nothing. In TrainConfig's order; empty for fewer than two entries. Only one dataset's entries
    are ever compared: `dataset`'s, by default that of the board's first entry."""
    if dataset is None and board.entries:
        dataset = board.entries[0].dataset
    board = board.of_dataset(dataset)
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
