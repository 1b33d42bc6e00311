"""The teacher's hand on a board: hide an entry, close the class to new posts, clear the board and
reveal the exam. Each needs the class's teacher key (class_folder.check_teacher_key).

The reveal is the contest's private leaderboard: the board ranks by validation accuracy, which every
student could see and tune to; the test set's score of each entry stays unknown until the teacher
reveals it. Each entry's run sits the exam once, by the server, and its score is kept in exam.json
with the run id it belongs to, so an entry replaced since by another run shows no stale score.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ..data import dataset_facts
from ..files import write_atomically
from ..i18n import Message, carried_message
from ..runs import DamagedRunError, SavedRun, load_run, workspaces
from .board import exam_file_content, is_accuracy, read_exam_records
from .class_folder import (
    EXAM_FILE,
    MAX_ENTRIES,
    ClassBoardError,
    ClassSaveError,
    check_teacher_key,
    class_lock,
    read_class,
    write_class,
)
from .entries import entry_ids, entry_path, owner_token, read_entries, remove_entry_files

logger = logging.getLogger(__name__)


def set_hidden(class_id, teacher_key, entry_id, hidden: bool, runs_root: Path | None = None) -> None:
    record = check_teacher_key(class_id, teacher_key, runs_root)
    path = entry_path(record, entry_id)
    with class_lock(record):
        record = read_class(class_id, runs_root)
        if hidden and not path.exists():
            raise ClassBoardError(Message("There is no such entry on this board (it may have been withdrawn)."))
        ids = set(record.hidden) | {entry_id} if hidden else set(record.hidden) - {entry_id}
        if len(ids) > MAX_ENTRIES:  # ids of entries since withdrawn: kept while they fit, so a repost stays hidden
            ids &= set(entry_ids(record))
        write_class(dataclasses.replace(record, hidden=frozenset(ids)))


def hide_entry(class_id, teacher_key, entry_id, runs_root: Path | None = None) -> None:
    """Hide an entry (a rude nickname, say) from the board. It stays hidden if its student posts again
    under the same nickname (the same entry id) until the teacher unhides it."""
    set_hidden(class_id, teacher_key, entry_id, True, runs_root)


def unhide_entry(class_id, teacher_key, entry_id, runs_root: Path | None = None) -> None:
    set_hidden(class_id, teacher_key, entry_id, False, runs_root)


def set_closed(class_id, teacher_key, closed: bool, runs_root: Path | None = None) -> None:
    record = check_teacher_key(class_id, teacher_key, runs_root)
    with class_lock(record):
        write_class(dataclasses.replace(read_class(class_id, runs_root), closed=closed))


def close_class(class_id, teacher_key, runs_root: Path | None = None) -> None:
    """Close the class to new posts; the board stays as it is, withdrawals included."""
    set_closed(class_id, teacher_key, True, runs_root)


def reopen_class(class_id, teacher_key, runs_root: Path | None = None) -> None:
    set_closed(class_id, teacher_key, False, runs_root)


def clear_board(class_id, teacher_key, runs_root: Path | None = None) -> int:
    """Remove every entry and the exam's results, for a new round: the class, its links and whether it
    is closed stay. Returns how many entries were removed."""
    record = check_teacher_key(class_id, teacher_key, runs_root)
    with class_lock(record):
        record = read_class(class_id, runs_root)
        removed = remove_entry_files(record)
        try:
            (record.folder / EXAM_FILE).unlink(missing_ok=True)
        except OSError as error:
            raise ClassSaveError(record.folder / EXAM_FILE, error) from error
        write_class(dataclasses.replace(record, hidden=frozenset(), revealed=None))
    return removed


@dataclasses.dataclass(frozen=True)
class RevealReport:
    """What a reveal did: how many entries sat the exam now, how many had sat it before, and one Message
    per entry that could not (its run withdrawn from its workspace, damaged, changed since posted)."""

    examined: int
    already_examined: int
    problems: tuple[Message, ...]


def reveal_exam(class_id, teacher_key, exam_accuracy_of: Callable[[SavedRun], float], runs_root: Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> RevealReport:
    """Sit the exam for every entry that has not sat it with its present run, keep each test accuracy,
    and mark the class revealed: from then on the board shows them. Pressed again, it examines only the
    entries posted since.

    `exam_accuracy_of(saved_run)` gives a run's test accuracy: the page passes one that sits the exam
    (test_accuracy_of_run, or the student's own exam of the same run where the server kept it); a test
    passes a stand-in. It runs outside the class's lock, so students keep posting while the exams are
    sat. Each entry's run is found in its poster's workspace by the owner token (entries.py), and must
    still be the run as posted (the same epochs and status). `progress(done, total)` follows the exams."""
    record = check_teacher_key(class_id, teacher_key, runs_root)
    stored, _problems = read_entries(record)
    exams, _exam_problems = read_exam_records(record)
    waiting = [one for one in stored if exams.get(one.entry.entry_id, ("",))[0] != one.entry.run_id]
    workspace_of_owner = {owner_token(record, workspace): workspace for workspace in workspaces(runs_root)} if waiting else {}
    new_exams, problems = {}, []
    for done, one in enumerate(waiting):
        if progress is not None:
            progress(done, len(waiting))
        entry = one.entry
        try:
            workspace = workspace_of_owner.get(one.owner)
            if workspace is None:
                raise DamagedRunError(Message("its workspace is gone from this server"))
            run = load_run(entry.run_id, runs_root, workspace)
            if len(run.history) != one.run_epochs or str(run.status) != one.run_status:
                raise DamagedRunError(Message("the run has changed since it was posted"))
            accuracy = exam_accuracy_of(run)
            if not is_accuracy(accuracy):
                raise ValueError(Message("the exam gave {value}, not an accuracy from 0 to 1", value=repr(accuracy)))
            new_exams[entry.entry_id] = (entry.run_id, float(accuracy))
        except Exception as error:  # one entry's failure is a line in the report: the other entries sit their exam
            if not isinstance(error, (DamagedRunError, ValueError, OSError)):
                logger.exception("class %s: the exam of entry %s failed", record.class_id, entry.entry_id)
            problems.append(Message("{nickname}'s run could not sit the exam: {error}", nickname=entry.nickname,
                                    error=carried_message(error)))
    if progress is not None:
        progress(len(waiting), len(waiting))
    with class_lock(record):
        record = read_class(class_id, runs_root)
        kept, _exam_problems = read_exam_records(record)  # another reveal may have finished meanwhile
        present = set(entry_ids(record))
        kept = {entry_id: exam for entry_id, exam in {**kept, **new_exams}.items() if entry_id in present}
        path = record.folder / EXAM_FILE
        try:
            write_atomically(path, exam_file_content(kept))
        except OSError as error:
            raise ClassSaveError(path, error) from error
        write_class(dataclasses.replace(record, revealed=time.time()))
    return RevealReport(examined=len(new_exams), already_examined=len(stored) - len(waiting), problems=tuple(problems))


def test_accuracy_of_run(saved_run: SavedRun, datasets) -> float:
    """A run's score on the test set of ITS dataset (the run's config.dataset; a run saved before there
    were two is MNIST's), as the Exam page computes it: its saved model sits the exam (exam.sit_exam,
    which reads the pictures in batches the evaluation memory budget holds, models.evaluation_batch_size).

    `datasets` gives each dataset's ((x_train, y_train), (x_test, y_test)) by its name: a mapping
    ({"mnist": ..., "fashion_mnist": ...}) or a function of the name (the page's dataset_or_stop). A lone
    dataset, load_mnist()'s pair as before there were two, is taken as MNIST's. A run of a dataset not
    given is refused (ValueError, a Message), never examined on another dataset's test set. Raises
    DamagedRunError if the run's weights cannot be read."""
    from ..exam import sit_exam  # TensorFlow, only when an exam is sat

    _training, (test_images, test_labels) = dataset_for(datasets, saved_run.config.dataset)
    return sit_exam(saved_run.load_model(), test_images, test_labels).accuracy


def dataset_for(datasets, name: str):
    """The dataset `name` out of `datasets` (test_accuracy_of_run says what it may be)."""
    if isinstance(datasets, Mapping):
        found = datasets.get(name)
    elif callable(datasets):
        found = datasets(name)
    else:
        found = datasets if name == "mnist" else None
    if found is None:
        raise ValueError(Message("no test set of {dataset} was given to the exam: reveal the exam again",
                                 dataset=dataset_facts(name).title))
    return found


test_accuracy_of_run.__test__ = False  # a helper, not a test, though pytest would collect it by its name where imported
