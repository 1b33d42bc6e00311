"""The class board's engine: a class is a hidden folder named by a minted id; posting copies a run's
curves and settings into it; the board ranks them, survives damaged files and hostile nicknames, and
loses no post when a class posts at once; the teacher key guards hiding, closing, clearing and the
reveal of the exam. Runs are written with NumPy weights (tests/helpers.py), so nothing trains here."""

import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import mnist_core.classes as classes
from mnist_core import RunStatus, TrainConfig
from mnist_core.classes import (
    MAX_NICKNAME_CHARACTERS,
    ClassBoardError,
    NoSuchClassError,
    TeacherKeyError,
    board,
    board_csv,
    clear_board,
    close_class,
    common_to_the_top,
    differing_settings,
    hide_entry,
    is_minted_class,
    is_teacher_key,
    new_class,
    post_entry,
    reopen_class,
    reveal_exam,
    same_settings_spread,
    unhide_entry,
    withdraw_entry,
)
from mnist_core.i18n import Message, carried_message
from mnist_core.runs import list_runs, load_run, new_workspace, start_run, workspaces
from tests.helpers import run_written_with_numpy

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def saved_run(runs_root, workspace, epochs=2, seed=0, **settings):
    """A finished run of `epochs` epochs in `workspace` from its model's preset, read back as the pages
    read it. The made-up curves reach a best validation accuracy of 0.58 + 0.1 x epochs, at the last."""
    config = TrainConfig.for_model(settings.pop("model", "linear"), epochs=epochs, batch_size=50, seed=seed, **settings)
    written = run_written_with_numpy(runs_root, config, workspace=workspace)
    return load_run(written.run_id, runs_root, workspace)


@pytest.fixture
def a_class(runs_root):
    return new_class("Class 7B", runs_root)


@pytest.fixture
def alice(runs_root):
    return new_workspace(runs_root)


@pytest.fixture
def bob(runs_root):
    return new_workspace(runs_root)


def refusal(error_info) -> str:
    """What a refusal says, in English: it must be a Message, so a page can say it in Chinese too."""
    message = carried_message(error_info.value)
    assert isinstance(message, Message)
    return str(message)


def test_a_class_is_a_hidden_folder_named_by_its_minted_id_whatever_its_name_says(runs_root):
    keys = new_class("  ../../etc/passwd <b>7B</b>\n", runs_root)
    assert is_minted_class(keys.class_id, runs_root) and keys.teacher_key not in repr(keys)
    folder = runs_root / classes.CLASSES_FOLDER / keys.class_id
    assert (folder / "class.json").is_file() and (folder / "entries").is_dir()
    assert sorted(path.name for path in runs_root.iterdir()) == [".classes", ".workspace-secret"]
    assert board(keys.class_id, runs_root).name == "../../etc/passwd <b>7B</b>"  # a label, kept as typed (trimmed)
    assert workspaces(runs_root) == [] and list_runs(runs_root) == ([], [])  # never taken for a workspace
    # The server keeps the key's SHA-256 only.
    assert keys.teacher_key not in (folder / "class.json").read_text()
    assert keys.student_query == f"?class={keys.class_id}"
    assert keys.teacher_query == f"?class={keys.class_id}&teacher={keys.teacher_key}"


@pytest.mark.parametrize("class_id", ["../../etc", "..", "", None, 7, "0123456789abcdef-01234567", "A" * 10_000])
def test_a_class_id_this_server_did_not_mint_opens_nothing(runs_root, a_class, class_id):
    with pytest.raises(NoSuchClassError) as refused:
        board(class_id, runs_root)
    assert "ask the teacher for the link again" in refusal(refused)


def test_a_class_minted_by_another_server_is_not_one_here(runs_root, tmp_path):
    other = new_class("elsewhere", tmp_path / "other" / "runs")
    assert not is_minted_class(other.class_id, runs_root)


@pytest.mark.parametrize("name", ["", "   ", "\u202e\u200b", "x" * 61, "x" * 100_000, None])
def test_a_class_name_that_cannot_be_a_label_is_refused(runs_root, name):
    with pytest.raises(ClassBoardError) as refused:
        new_class(name, runs_root)
    assert refusal(refused)
    assert not (runs_root / classes.CLASSES_FOLDER).exists() or not any((runs_root / classes.CLASSES_FOLDER).iterdir())


def test_posted_runs_are_ranked_by_best_validation_accuracy_and_hold_no_workspace(runs_root, a_class, alice, bob):
    weaker, stronger = saved_run(runs_root, alice, epochs=2), saved_run(runs_root, bob, epochs=3, model="mlp")
    first = post_entry(a_class.class_id, weaker, "Alice", runs_root=runs_root)
    second = post_entry(a_class.class_id, stronger, "Bob", runs_root=runs_root)
    shown = board(a_class.class_id, runs_root, viewer_workspace=alice)
    assert [entry.nickname for entry in shown.entries] == ["Bob", "Alice"]
    assert [entry.entry_id for entry in shown.entries] == [second.entry_id, first.entry_id]
    assert [entry.yours for entry in shown.entries] == [False, True]
    top = shown.entries[0]
    assert top.run_id == stronger.run_id and top.config == stronger.config
    assert top.best_val_acc == pytest.approx(0.88) and top.best_epoch == 3 and top.final_val_acc == pytest.approx(0.88)
    assert [(row.epoch, row.val_acc) for row in top.history] == [(result.epoch, result.val_acc) for result in stronger.history]
    assert top.test_acc is None and not shown.revealed and shown.problems == ()
    # No file of the class names a workspace: the owner is an HMAC under the class's secret.
    for path in (runs_root / classes.CLASSES_FOLDER).rglob("*"):
        if path.is_file():
            assert alice not in path.read_text() and bob not in path.read_text()


def test_a_tie_ranks_the_earlier_post_first(runs_root, a_class, alice, bob):
    post_entry(a_class.class_id, saved_run(runs_root, alice), "early", runs_root=runs_root)
    post_entry(a_class.class_id, saved_run(runs_root, bob), "late", runs_root=runs_root)
    assert [entry.nickname for entry in board(a_class.class_id, runs_root).entries] == ["early", "late"]


def test_the_same_nickname_replaces_the_students_entry_and_another_adds_one(runs_root, a_class, alice, bob):
    class_id = a_class.class_id
    post_entry(class_id, saved_run(runs_root, alice, epochs=2), "Alice", runs_root=runs_root)
    replaced = post_entry(class_id, saved_run(runs_root, alice, epochs=3), "alice ", runs_root=runs_root)  # same, any case
    assert [(entry.nickname, len(entry.history)) for entry in board(class_id, runs_root).entries] == [("alice", 3)]
    post_entry(class_id, saved_run(runs_root, alice, epochs=1), "Alice's second try", runs_root=runs_root)
    post_entry(class_id, saved_run(runs_root, alice, epochs=1), "alice", replace=False, runs_root=runs_root)  # on purpose
    post_entry(class_id, saved_run(runs_root, bob, epochs=2), "Alice", runs_root=runs_root)  # another student's "Alice"
    entries = board(class_id, runs_root, viewer_workspace=alice).entries
    assert len(entries) == 4 and entries[0].entry_id == replaced.entry_id
    assert sorted(entry.yours for entry in entries) == [False, True, True, True]


def test_a_student_withdraws_their_own_entry_and_no_one_elses(runs_root, a_class, alice, bob):
    class_id = a_class.class_id
    alices = post_entry(class_id, saved_run(runs_root, alice), "Alice", runs_root=runs_root)
    bobs = post_entry(class_id, saved_run(runs_root, bob), "Bob", runs_root=runs_root)
    with pytest.raises(ClassBoardError) as refused:
        withdraw_entry(class_id, alices.entry_id, bob, runs_root=runs_root)
    assert "Only the student who posted an entry can withdraw it." == refusal(refused)
    withdraw_entry(class_id, alices.entry_id, alice, runs_root=runs_root)
    withdraw_entry(class_id, alices.entry_id, alice, runs_root=runs_root)  # twice: already gone, nothing to say
    assert [entry.entry_id for entry in board(class_id, runs_root).entries] == [bobs.entry_id]
    with pytest.raises(ClassBoardError):
        withdraw_entry(class_id, "../../class", bob, runs_root=runs_root)


def test_a_closed_class_refuses_posts_until_reopened(runs_root, a_class, alice):
    run = saved_run(runs_root, alice)
    close_class(a_class.class_id, a_class.teacher_key, runs_root)
    assert board(a_class.class_id, runs_root).closed
    with pytest.raises(ClassBoardError) as refused:
        post_entry(a_class.class_id, run, "Alice", runs_root=runs_root)
    assert "closed" in refusal(refused)
    reopen_class(a_class.class_id, a_class.teacher_key, runs_root)
    post_entry(a_class.class_id, run, "Alice", runs_root=runs_root)
    assert len(board(a_class.class_id, runs_root).entries) == 1


def test_an_unfinished_run_cannot_be_posted(runs_root, a_class, alice):
    recorder = start_run(TrainConfig(epochs=2), runs_root, workspace=alice)  # waiting for a slot, no epoch yet
    waiting = load_run(recorder.run_id, runs_root, alice)
    recorder.finish(RunStatus.STOPPED, "Stopped before its first epoch.", None)
    stopped = load_run(recorder.run_id, runs_root, alice)
    for run in (waiting, stopped):
        with pytest.raises(ClassBoardError) as refused:
            post_entry(a_class.class_id, run, "Alice", runs_root=runs_root)
        assert "finished run with at least one epoch" in refusal(refused)


@pytest.mark.parametrize("typed, shown", [
    ("**bold** <b>html</b> [link](http://e.example) :red[x]", None),  # too long: 53 characters
    ("**bold** <b>x</b>", "**bold** <b>x</b>"),  # Markdown and HTML stay text; the page shows them as typed
    ("\u202eevil\u202c", "evil"),  # a right-to-left override that would reverse the board's row
    ("\u2067Mallory\u2069 \u200f", "Mallory"),  # isolates and marks, invisible
    ("a\u200bb\ufeffc", "abc"),  # zero-width characters
    ("  two\n\tlines\r\n ", "two lines"),
    ("\x00\x1b[31mred", "[31mred"),  # control characters (a terminal's colour escape)
    ("小明", "小明"),
    ("Zoë", "Zoë"),
    ("Z" + "\u0301" * 50, "\u0179" + "\u0301" * 3),  # marks stacked through the rows above (the first composes: Ź)
])
def test_nicknames_are_plain_text_within_the_bound(runs_root, a_class, alice, typed, shown):
    run = saved_run(runs_root, alice)
    if shown is None:
        with pytest.raises(ClassBoardError) as refused:
            post_entry(a_class.class_id, run, typed, runs_root=runs_root)
        assert f"at most {MAX_NICKNAME_CHARACTERS} characters" in refusal(refused)
        return
    entry = post_entry(a_class.class_id, run, typed, runs_root=runs_root)
    assert entry.nickname == shown and board(a_class.class_id, runs_root).entries[0].nickname == shown


@pytest.mark.parametrize("typed, says", [
    ("", "cannot be empty"), ("   \n", "cannot be empty"), ("\u202e\u200b", "cannot be empty"),
    ("x" * 10_000, "at most 24 characters"), ("x" * 25, "this one has 25"), (None, "cannot be empty"),
])
def test_an_empty_or_long_nickname_is_refused_with_a_message(runs_root, a_class, alice, typed, says):
    with pytest.raises(ClassBoardError) as refused:
        post_entry(a_class.class_id, saved_run(runs_root, alice), typed, runs_root=runs_root)
    assert says in refusal(refused)
    assert board(a_class.class_id, runs_root).entries == ()


@pytest.mark.parametrize("key", [None, "", "0" * 32, "wrong", "x" * 10_000, "A" * 32])
def test_a_forged_or_missing_teacher_key_is_refused_for_every_teachers_action(runs_root, a_class, alice, key):
    class_id = a_class.class_id
    entry = post_entry(class_id, saved_run(runs_root, alice), "Alice", runs_root=runs_root)
    actions = [lambda: hide_entry(class_id, key, entry.entry_id, runs_root), lambda: unhide_entry(class_id, key, entry.entry_id, runs_root),
               lambda: close_class(class_id, key, runs_root), lambda: reopen_class(class_id, key, runs_root),
               lambda: clear_board(class_id, key, runs_root), lambda: reveal_exam(class_id, key, lambda run: 0.9, runs_root)]
    for action in actions:
        with pytest.raises(TeacherKeyError) as refused:
            action()
        assert "teacher" in refusal(refused)
    assert not is_teacher_key(class_id, key, runs_root) and is_teacher_key(class_id, a_class.teacher_key, runs_root)
    shown = board(class_id, runs_root)
    assert len(shown.entries) == 1 and not shown.closed and not shown.revealed


def test_another_classes_teacher_key_opens_nothing_here(runs_root, a_class):
    other = new_class("Class 7C", runs_root)
    with pytest.raises(TeacherKeyError):
        close_class(a_class.class_id, other.teacher_key, runs_root)


def test_a_hidden_entry_leaves_the_board_and_stays_hidden_when_its_student_posts_again(runs_root, a_class, alice, bob):
    class_id, key = a_class.class_id, a_class.teacher_key
    rude = post_entry(class_id, saved_run(runs_root, alice), "rude word", runs_root=runs_root)
    post_entry(class_id, saved_run(runs_root, bob), "Bob", runs_root=runs_root)
    hide_entry(class_id, key, rude.entry_id, runs_root)
    shown = board(class_id, runs_root)
    assert [entry.nickname for entry in shown.entries] == ["Bob"] and shown.hidden_count == 1
    post_entry(class_id, saved_run(runs_root, alice, epochs=3), "rude word", runs_root=runs_root)
    assert [entry.nickname for entry in board(class_id, runs_root).entries] == ["Bob"]
    everyone = board(class_id, runs_root, include_hidden=True)
    assert [(entry.nickname, entry.hidden) for entry in everyone.entries] == [("rude word", True), ("Bob", False)]
    unhide_entry(class_id, key, rude.entry_id, runs_root)
    assert len(board(class_id, runs_root).entries) == 2
    with pytest.raises(ClassBoardError):
        hide_entry(class_id, key, "0" * 16, runs_root)  # no such entry


def test_clearing_the_board_removes_every_entry_and_keeps_the_class(runs_root, a_class, alice):
    class_id, key = a_class.class_id, a_class.teacher_key
    for nickname in ("one", "two", "three"):
        post_entry(class_id, saved_run(runs_root, alice), nickname, runs_root=runs_root)
    reveal_exam(class_id, key, lambda run: 0.5, runs_root)
    close_class(class_id, key, runs_root)
    assert clear_board(class_id, key, runs_root) == 3
    shown = board(class_id, runs_root)
    assert shown.entries == () and not shown.revealed and shown.closed and shown.name == "Class 7B"
    assert not (runs_root / classes.CLASSES_FOLDER / class_id / "exam.json").exists()


def test_a_damaged_entry_file_is_named_and_the_board_still_shows_the_others(runs_root, a_class, alice, bob):
    class_id = a_class.class_id
    post_entry(class_id, saved_run(runs_root, alice), "Alice", runs_root=runs_root)
    bobs = post_entry(class_id, saved_run(runs_root, bob), "Bob", runs_root=runs_root)
    entries = runs_root / classes.CLASSES_FOLDER / class_id / "entries"
    good = json.loads((entries / f"{bobs.entry_id}.json").read_text())
    damaged = {
        "1111111111111111.json": b"{not json",
        "2222222222222222.json": json.dumps({**good, "entry_id": "2222222222222222", "history": [[1, 0.1, "NaN", 0.2, 0.3]]}).encode(),
        "3333333333333333.json": json.dumps({**good, "entry_id": "3333333333333333", "nickname": "\u202eevil"}).encode(),
        "4444444444444444.json": json.dumps({**good, "entry_id": "4444444444444444", "config": {"epochs": -1}}).encode(),
        "5555555555555555.json": b" " * (classes.class_folder.MAX_ENTRY_BYTES + 1),
        "6666666666666666.json": json.dumps({**good, "entry_id": "6666666666666666", "history": [[1, 0.1, 1e999, 0.2, 0.3]]}).encode(),
        "7777777777777777.json": json.dumps({**good}).encode(),  # a copy under another name
        "8888888888888888.json": b"[[[[" * 10_000,  # nested past the parser's depth
    }
    for name, content in damaged.items():
        (entries / name).write_bytes(content)
    (entries / "9999999999999999.json").symlink_to("/etc/passwd")
    shown = board(class_id, runs_root)
    assert [entry.nickname for entry in shown.entries] == ["Alice", "Bob"]
    said = [str(problem) for problem in shown.problems]
    for name in [*damaged, "9999999999999999.json"]:
        assert sum(name in line for line in said) == 1, (name, said)
    assert all(isinstance(problem, Message) for problem in shown.problems)


def test_a_damaged_class_file_is_a_message_naming_it(runs_root, a_class):
    (runs_root / classes.CLASSES_FOLDER / a_class.class_id / "class.json").write_text('{"name": 1}')
    with pytest.raises(ClassBoardError) as refused:
        board(a_class.class_id, runs_root)
    assert "class.json is damaged" in refusal(refused)


def test_a_full_board_refuses_more_entries_but_takes_a_replacement(runs_root, a_class, alice, monkeypatch):
    monkeypatch.setattr(classes.entries, "MAX_ENTRIES", 2)
    run = saved_run(runs_root, alice)
    post_entry(a_class.class_id, run, "one", runs_root=runs_root)
    post_entry(a_class.class_id, run, "two", runs_root=runs_root)
    with pytest.raises(ClassBoardError) as refused:
        post_entry(a_class.class_id, run, "three", runs_root=runs_root)
    assert "full" in refusal(refused)
    post_entry(a_class.class_id, run, "two", runs_root=runs_root)  # a replacement adds nothing


def test_forty_posts_at_once_from_threads_all_land(runs_root, a_class):
    students = [new_workspace(runs_root) for _ in range(4)]
    runs = [saved_run(runs_root, workspace) for workspace in students]
    start, failures = threading.Barrier(40), []

    def post(number: int) -> None:
        start.wait()
        try:
            post_entry(a_class.class_id, runs[number % 4], f"student {number}", runs_root=runs_root)
        except Exception as error:  # noqa: BLE001 - every failure is collected and shown by the assertion
            failures.append(error)

    threads = [threading.Thread(target=post, args=(number,)) for number in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(entry.nickname for entry in board(a_class.class_id, runs_root).entries) == sorted(
        f"student {number}" for number in range(40))
    leftovers = [path.name for path in (runs_root / classes.CLASSES_FOLDER / a_class.class_id).rglob(".*")]
    assert leftovers == []  # no temporary file left behind


POST_FROM_ANOTHER_PROCESS = """
import sys, threading
from pathlib import Path
from mnist_core.classes import post_entry
from mnist_core.runs import load_run
root, class_id, run_id, workspace, prefix, go = sys.argv[1:]
run = load_run(run_id, Path(root), workspace)
print("ready", flush=True)
sys.stdin.readline()  # both processes start posting together
failures = []
def post(number):
    try:
        post_entry(class_id, run, f"{prefix} {number}", runs_root=Path(root))
    except Exception as error:
        failures.append(repr(error))
threads = [threading.Thread(target=post, args=(number,)) for number in range(20)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(failures, flush=True)
"""


@pytest.mark.slow
def test_forty_posts_at_once_from_two_processes_all_land(runs_root, a_class):
    posters = []
    for prefix in ("north", "south"):
        workspace = new_workspace(runs_root)
        run = saved_run(runs_root, workspace)
        posters.append(subprocess.Popen(
            [sys.executable, "-c", POST_FROM_ANOTHER_PROCESS, str(runs_root), a_class.class_id, run.run_id, workspace,
             prefix, "go"], cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for poster in posters:
        assert poster.stdout.readline().strip() == "ready"
    for poster in posters:
        poster.stdin.write("go\n")
        poster.stdin.flush()
    for poster in posters:
        output, _ = poster.communicate(timeout=120)
        assert output.strip() == "[]" and poster.returncode == 0
    nicknames = sorted(entry.nickname for entry in board(a_class.class_id, runs_root).entries)
    assert nicknames == sorted(f"{prefix} {number}" for prefix in ("north", "south") for number in range(20))


def test_the_reveal_keeps_each_entrys_test_accuracy_and_only_the_teacher_can_reveal(runs_root, a_class, alice, bob):
    class_id, key = a_class.class_id, a_class.teacher_key
    runs = {"Alice": saved_run(runs_root, alice, epochs=3), "Bob": saved_run(runs_root, bob, epochs=2)}
    for nickname, run in runs.items():
        post_entry(class_id, run, nickname, runs_root=runs_root)
    scores = {runs["Alice"].run_id: 0.80, runs["Bob"].run_id: 0.85}  # Alice led on validation, Bob wins the exam
    asked, progress = [], []

    def exam(run):
        asked.append(run.run_id)
        return scores[run.run_id]

    assert all(entry.test_acc is None for entry in board(class_id, runs_root).entries)
    report = reveal_exam(class_id, key, exam, runs_root, progress=lambda done, total: progress.append((done, total)))
    assert (report.examined, report.already_examined, report.problems) == (2, 0, ())
    assert progress[-1] == (2, 2)
    shown = board(class_id, runs_root)
    assert shown.revealed
    assert [(entry.nickname, entry.test_acc) for entry in shown.entries] == [("Alice", 0.80), ("Bob", 0.85)]
    assert [entry.nickname for entry in shown.ranked_by_test_accuracy()] == ["Bob", "Alice"]
    # Pressed again, nobody sits it twice; a run posted since sits it then, and a replaced entry's old score is dropped.
    carol = new_workspace(runs_root)
    carols = saved_run(runs_root, carol)
    post_entry(class_id, carols, "Carol", runs_root=runs_root)
    bobs_second = saved_run(runs_root, bob, epochs=1)
    post_entry(class_id, bobs_second, "Bob", runs_root=runs_root)
    assert board(class_id, runs_root).entry(shown.entries[1].entry_id).test_acc is None
    scores.update({carols.run_id: 0.5, bobs_second.run_id: 0.6})
    asked.clear()
    report = reveal_exam(class_id, key, exam, runs_root)
    assert sorted(asked) == sorted([carols.run_id, bobs_second.run_id]) and report.already_examined == 1
    assert {entry.nickname: entry.test_acc for entry in board(class_id, runs_root).entries} == {
        "Alice": 0.80, "Bob": 0.6, "Carol": 0.5}


def test_an_entry_whose_run_cannot_sit_the_exam_is_reported_and_the_others_sit_it(runs_root, a_class, alice, bob):
    class_id, key = a_class.class_id, a_class.teacher_key
    kept, gone = saved_run(runs_root, alice), saved_run(runs_root, bob)
    post_entry(class_id, kept, "Alice", runs_root=runs_root)
    post_entry(class_id, gone, "Bob", runs_root=runs_root)
    (gone.folder / "run.json").write_text("damaged")

    def exam(run):
        return 0.7

    report = reveal_exam(class_id, key, exam, runs_root)
    assert report.examined == 1 and len(report.problems) == 1 and "Bob's run could not sit the exam" in str(report.problems[0])
    assert {entry.nickname: entry.test_acc for entry in board(class_id, runs_root).entries} == {"Alice": 0.7, "Bob": None}
    report = reveal_exam(class_id, key, lambda run: float("nan"), runs_root)
    assert report.examined == 0 and len(report.problems) == 1


def test_the_real_exam_gives_the_test_accuracy_the_exam_page_shows(runs_root, a_class, alice, sample_dataset):
    from mnist_core.exam import sit_exam

    run = saved_run(runs_root, alice)
    post_entry(a_class.class_id, run, "Alice", runs_root=runs_root)
    reveal_exam(a_class.class_id, a_class.teacher_key, lambda saved: classes.test_accuracy_of_run(saved, sample_dataset),
                runs_root)
    _training, (test_images, test_labels) = sample_dataset
    expected = sit_exam(run.load_model(), test_images, test_labels).accuracy
    assert board(a_class.class_id, runs_root).entries[0].test_acc == pytest.approx(expected)


def test_the_csv_holds_every_entry_safe_for_a_spreadsheet_and_reads_back(runs_root, a_class, alice, bob):
    class_id = a_class.class_id
    post_entry(class_id, saved_run(runs_root, alice, epochs=3), "=HYPERLINK(\"x\")", runs_root=runs_root)
    post_entry(class_id, saved_run(runs_root, bob, epochs=2, model="cnn"), "小明, \"the\" best", runs_root=runs_root)
    reveal_exam(class_id, a_class.teacher_key, lambda run: 0.75, runs_root)
    shown = board(class_id, runs_root)
    content = board_csv(shown)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row["nickname"] for row in rows] == ["'=HYPERLINK(\"x\")", "小明, \"the\" best"]
    assert [float(row["best_val_acc"]) for row in rows] == [entry.best_val_acc for entry in shown.entries]
    assert [row["rank"] for row in rows] == ["1", "2"] and [row["model"] for row in rows] == ["linear", "cnn"]
    assert [float(row["test_acc"]) for row in rows] == [0.75, 0.75]
    assert rows[0]["train_subset_size"] == "" and alice not in content.decode("utf-8-sig")


def test_differing_settings_are_those_that_change_the_run_from_its_models_start():
    assert differing_settings(TrainConfig()) == {}
    assert differing_settings(TrainConfig.for_model("cnn").to_dict()) == {"model": "cnn"}
    assert differing_settings(TrainConfig.for_model("mlp", dropout=0.5, seed=3, momentum=0.5)) == {
        "model": "mlp", "dropout": 0.5, "seed": 3}  # momentum does nothing for Adam
    assert differing_settings(TrainConfig(learning_rate=0.01, train_subset_size=500)) == {
        "learning_rate": 0.01, "train_subset_size": 500}


def test_the_spread_of_the_same_settings_and_what_the_top_entries_share(runs_root, a_class):
    class_id = a_class.class_id
    posts = [("a", dict(epochs=3, seed=1, dropout=0.5, model="mlp")), ("b", dict(epochs=2, seed=2, dropout=0.5, model="mlp")),
             ("c", dict(epochs=1, seed=3, dropout=0.5, model="mlp")), ("d", dict(epochs=1, seed=1)),
             ("e", dict(epochs=1, seed=4))]
    for nickname, settings in posts:
        run = saved_run(runs_root, new_workspace(runs_root), **settings)
        if nickname == "e":  # the same settings as d but for the seed, and another result: the spread
            run = dataclasses.replace(run, history=[dataclasses.replace(run.history[0], val_acc=0.72)])
        post_entry(class_id, run, nickname, runs_root=runs_root)
    shown = board(class_id, runs_root)
    groups = same_settings_spread(shown)
    # Epochs differ in a/b/c, so only d and e (linear, 1 epoch, seeds 1 and 4) share every setting but the seed.
    assert [(group.settings, [entry.nickname for entry in group.entries], group.seeds) for group in groups] == [
        ({"epochs": 1, "batch_size": 50}, ["e", "d"], [1, 4])]
    assert (groups[0].lowest, groups[0].highest, groups[0].mean) == pytest.approx((0.68, 0.72, 0.70))
    assert common_to_the_top(shown, top=2) == {"model": "mlp", "learning_rate": 0.001, "learning_rate_schedule": "cosine",
                                               "hidden_units": 256, "hidden_layers": 2, "dropout": 0.5}
    assert common_to_the_top(shown, top=5) == {}  # the whole board agrees on nothing the top five do not
    assert common_to_the_top(shown, top=1) == {}


def test_the_class_command_makes_a_class_and_prints_its_links(runs_root, run_cli):
    completed = run_cli("class", "new", "Class 7B")
    assert completed.returncode == 0, completed.stderr
    class_id = completed.stdout.split("class id: ")[1].split()[0]
    teacher_key = completed.stdout.split("teacher key: ")[1].split()[0]
    assert is_teacher_key(class_id, teacher_key, runs_root) and board(class_id, runs_root).name == "Class 7B"
    assert f"?class={class_id}\n" in completed.stdout and f"?class={class_id}&teacher={teacher_key}" in completed.stdout
    refused = run_cli("class", "new", "  ")
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        "python -m mnist_core class new: error: A class needs a name, for the board's title."]


def test_the_class_board_imports_without_tensorflow():
    code = "import sys, mnist_core.classes, mnist_core.cli; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                               env={**os.environ})
    assert completed.stdout.strip() == "False False", completed.stderr


def test_a_runs_folder_that_cannot_be_written_is_said_with_the_fix(unwritable_runs_root, run_cli, monkeypatch):
    with pytest.raises(classes.ClassSaveError) as refused:
        new_class("Class 7B", unwritable_runs_root)
    assert "Cannot write to" in refusal(refused) and "MNIST_LAB_RUNS_DIR" in refusal(refused)
    monkeypatch.setenv("MNIST_LAB_RUNS_DIR", str(unwritable_runs_root))  # run_cli's own runs folder is set first
    completed = run_cli("class", "new", "Class 7B")
    assert completed.returncode == 1 and completed.stderr.startswith("error: Cannot write to")
