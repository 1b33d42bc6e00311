"""Property-based fuzzing of run folders with Hypothesis: whatever a run's files hold, reading them
never raises anything but a named DamagedRunError, and no page shows a traceback.

Each example starts from one real trained run (trained once per test session: conftest.py's
sample_run_template) and mutates one of its files: bytes flipped, cut off
or added; a JSON value swapped for any JSON (huge numbers, infinities, deep nesting, wrong types);
a metrics cell rewritten; a file made a folder, a link or removed; a lock file of any kind under a
run that says it is running.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnist_core.runs import DamagedRunError, list_runs, load_run, lock_path
from tests.helpers import open_page

WORKSPACE = "fuzz"
RUN_FILES = ("run.json", "config.json", "metrics.csv", "weights.npz")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from([10**400, "running", "waiting", "completed", "shared", "../x", ""]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def flip_bytes(content: bytes, positions: list[int], value: int) -> bytes:
    data = bytearray(content)
    for position in positions:
        if data:
            data[position % len(data)] = value
    return bytes(data)


def cut_or_grow(content: bytes, length: int, extra: bytes) -> bytes:
    return content[:length] + extra


def json_field_mutation(name: str, field: str | None, value) -> callable:
    def mutate(folder: Path) -> None:
        path = folder / name
        data = json.loads(path.read_text())
        data[field if field is not None else "unexpected"] = value
        path.write_text(json.dumps(data))
    return mutate


def bytes_mutation(name: str, change) -> callable:
    def mutate(folder: Path) -> None:
        path = folder / name
        path.write_bytes(change(path.read_bytes()))
    return mutate


def kind_mutation(name: str, kind: str) -> callable:
    def mutate(folder: Path) -> None:
        path = folder / name
        path.unlink()
        if kind == "folder":
            path.mkdir()
        elif kind == "link":
            path.symlink_to("/etc/passwd")
        elif kind == "fifo":
            os.mkfifo(path)
    return mutate


def lock_mutation(kind: str, content: bytes) -> callable:
    def mutate(folder: Path) -> None:
        run_json = folder / "run.json"
        run_json.write_text(json.dumps({**json.loads(run_json.read_text()), "status": "running"}))
        lock = lock_path(folder)
        lock.parent.mkdir(exist_ok=True)
        if kind == "file":
            lock.write_bytes(content)
        elif kind == "folder":
            lock.mkdir()
        elif kind == "link":
            lock.symlink_to("/etc/passwd")
    return mutate


@st.composite
def mutations(draw):
    name = draw(st.sampled_from(RUN_FILES))
    choice = draw(st.sampled_from(["flip", "cut", "json", "kind", "lock", "cell"]))
    if choice == "flip":
        positions, value = draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=8)), draw(st.integers(0, 255))
        return bytes_mutation(name, lambda content: flip_bytes(content, positions, value))
    if choice == "cut":
        length, extra = draw(st.integers(0, 3000)), draw(st.binary(max_size=64))
        return bytes_mutation(name, lambda content: cut_or_grow(content, length, extra))
    if choice == "json":
        file = draw(st.sampled_from(["run.json", "config.json"]))
        fields = ["status", "best_epoch", "created", "name", "message"] if file == "run.json" else ["epochs", "model", "batch_size", "hidden_units", "learning_rate"]
        return json_field_mutation(file, draw(st.sampled_from(fields + [None])), draw(json_values))
    if choice == "kind":
        return kind_mutation(name, draw(st.sampled_from(["folder", "link", "fifo", "missing"])))
    if choice == "lock":
        return lock_mutation(draw(st.sampled_from(["file", "folder", "link"])), draw(st.binary(max_size=16)))
    row, column, text = draw(st.integers(0, 2)), draw(st.integers(0, 6)), draw(st.text(max_size=20))

    def rewrite_cell(content: bytes) -> bytes:
        lines = content.decode().splitlines()
        cells = lines[row % len(lines)].split(",")
        cells[column % len(cells)] = text
        lines[row % len(lines)] = ",".join(cells)
        return "\n".join(lines).encode()
    return bytes_mutation("metrics.csv", rewrite_cell)


@pytest.fixture(scope="session")
def pristine_run(sample_run_template):
    """One real trained run (two epochs of the linear model on the sample digits), kept aside; each
    example works on a fresh copy of it."""
    return sample_run_template


def fresh_copy(pristine: Path, runs_root: Path) -> Path:
    if runs_root.exists():
        shutil.rmtree(runs_root)
    folder = runs_root / WORKSPACE / pristine.name
    shutil.copytree(pristine, folder)
    return folder


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations())
def test_reading_a_mutated_run_never_raises_anything_but_its_named_damage(pristine_run, tmp_path, mutation):
    runs_root = tmp_path / "runs"
    folder = fresh_copy(pristine_run, runs_root)
    mutation(folder)
    runs, damaged = list_runs(runs_root, workspace=WORKSPACE)  # never raises
    assert len(runs) + len(damaged) == 1
    assert all(folder.name in str(message) and "root:" not in str(message) for message in damaged)
    try:
        run = load_run(folder.name, runs_root, WORKSPACE)
    except DamagedRunError:
        return
    if run.history:
        try:
            run.load_model()
        except DamagedRunError:
            pass


PAGES = ["pages/overview.py", "pages/train.py", "pages/compare.py", "pages/exam.py", "pages/draw.py"]


@pytest.mark.pages
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations())
def test_every_page_renders_whatever_a_run_folder_holds(pristine_run, runs_root, mutation):
    folder = fresh_copy(pristine_run, runs_root)
    mutation(folder)
    for page in PAGES:
        app = open_page(page, workspace=WORKSPACE)
        assert not app.exception, (page, [exception.message for exception in app.exception])
