"""What several test modules share, in one place: every test module imports its helpers from here
(`from tests.helpers import ...`), never from another test module.

- waiting for a condition (the background jobs, the queue, a paused run);
- driving the real pages with Streamlit's AppTest (the page tests of every module);
- drawing on the Draw page's canvas in Chromium (the browser tests);
- run folders for tests of the run store: written by the store's own recorder with weights made by
  NumPy (milliseconds, no training), or copied from a run trained once per test session (conftest.py's
  templates), hard links and all, into a workspace minted for the test; or a tiny real run, trained
  for the test (trained_run).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")


# -- waiting -------------------------------------------------------------------------------------------

def again_until_seen(act, seen, attempts: int = 3) -> None:
    """Browser input a loaded machine can lose for good (a key pressed while a rerun redraws the page): `act`,
    then up to 15 s for `seen` (a Playwright expectation, given its timeout in ms); again while it is not,
    `attempts` times; then `seen` with its own timeout. `act` must do nothing where its input was not lost."""
    for _attempt in range(attempts):
        act()
        try:
            seen(15_000)
            return
        except AssertionError:
            continue
    seen(None)


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- digits --------------------------------------------------------------------------------------------

def centre_of_ink(images: np.ndarray) -> np.ndarray:
    rows, columns = np.indices(images.shape[1:])
    ink = images.sum(axis=(1, 2))
    return np.stack([(images * rows).sum(axis=(1, 2)) / ink, (images * columns).sum(axis=(1, 2)) / ink], axis=1)


# -- the pages, with Streamlit's AppTest ------------------------------------------------------------

TEST_WORKSPACE = "page-tests"


def open_page(page: str | None = None, workspace: str | None = None, address: str | None = None,
              query: dict[str, str] | None = None) -> AppTest:
    """Open the app at its landing page, then go to `page`, as a visitor clicking the navigation would.

    With `workspace`, the session opens in that workspace, as a refresh or a new tab does: the browser's
    cookie brings it back (AppTest sends no cookies, so the session is given what the cookie would give).
    With `address`, the visitor's address names a workspace (?workspace=...), as a private link does.
    With `query`, the address carries it (a link for students: ?model=cnn&learning_rate=0.01).
    """
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(DASHBOARD, default_timeout=120)
    if workspace:
        app.session_state["workspace"] = workspace
    if address:
        app.query_params["workspace"] = address
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    if page:
        app.switch_page(page).run()
    return app


def chart_points(app: AppTest) -> dict[str, int]:
    """Points per series over every Plotly chart on the page."""
    return {trace["name"]: len(trace["x"]) for chart in app.get("plotly_chart")
            for trace in json.loads(chart.proto.spec)["data"]}


def rerun_until(app: AppTest, condition, seconds=120) -> None:
    deadline = time.monotonic() + seconds
    while not condition(app):
        assert time.monotonic() < deadline, "timed out waiting for the page"
        time.sleep(0.5)
        app.run()


def button(app: AppTest, label: str):
    """The button whose label is `label` (or starts with it): found by what the student reads, not by position."""
    matches = [button for button in app.button if button.label == label] or \
              [button for button in app.button if button.label.startswith(label)]
    assert matches, f"no button {label!r} among {[button.label for button in app.button]}"
    return matches[0]


def shown(element) -> str:
    """The text a reader sees in a message: the backslash escapes and zero-width spaces of ui.plain taken out."""
    return re.sub(r"\\(.)", r"\1", element.value).replace("\u200b", "")


def has_button(app: AppTest, label: str) -> bool:
    return any(button.label == label for button in app.button)


def start_run_on_the_train_page(app: AppTest, epochs: int = 2, training_examples: int = 300, name: str = "") -> None:
    """Set the training subset, the epochs and the run name, then press Train (the run starts in the background)."""
    app.select_slider(key="widget_train_subset_size").set_value(training_examples)
    app.slider(key="widget_epochs").set_value(epochs)
    app.text_input(key="run_name").input(name)
    button(app, "Train").click().run()
    # A size that is not one of the slider's stops is dropped without a word, and the run trains on all of MNIST.
    assert app.select_slider(key="widget_train_subset_size").value == training_examples, "not one of the slider's stops"


def train_on_the_train_page(app: AppTest, epochs: int = 2, training_examples: int = 300, name: str = "") -> None:
    """Start a run on the Train page and wait until it has ended (successfully or with an error shown)."""
    start_run_on_the_train_page(app, epochs, training_examples, name)
    rerun_until(app, lambda page: page.success or page.error)


# -- the Draw page's canvas, in Chromium ---------------------------------------------------------------

def choose(page, label, option):
    """Pick `option` in the Streamlit selectbox labelled `label`."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option).click()


def stroke(page, points):
    """Draw one pen stroke through `points` (canvas pixels) with the mouse."""
    box = page.locator("canvas").first.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()


def reading(page):
    return page.get_by_test_id("stMetric").filter(has_text="The model reads")


# -- run folders ---------------------------------------------------------------------------------------

def copy_keeping_links(source: Path, destination: Path) -> None:
    """Copy the folder `source` to `destination` as it is: files that are hard links of each other in
    `source` (a run's weights.npz and its last checkpoint) stay one file with two names, and links stay links."""
    copied: dict[tuple[int, int], str] = {}

    def copy(source_file, destination_file):
        status = os.lstat(source_file)
        original = copied.get((status.st_dev, status.st_ino))
        if original is not None:
            os.link(original, destination_file)
        else:
            shutil.copy2(source_file, destination_file)
            if status.st_nlink > 1:
                copied[(status.st_dev, status.st_ino)] = destination_file
        return destination_file

    shutil.copytree(source, destination, symlinks=True, copy_function=copy)


def copy_workspace(template: Path, runs_root: Path, workspace: str | None = None, names: dict[str, str] | None = None) -> str:
    """Copy the runs of the workspace folder `template` (one of conftest.py's session templates) into
    `workspace` under `runs_root`: by default a new one minted by mnist_core.runs.new_workspace(runs_root),
    as the app's server hands out, so no server-wide store keyed by workspace and run id (the exam's
    sittings, say) ever takes a copy for another test's. `names`: {a run's name in the template: its name
    here}. Returns the workspace's name."""
    from mnist_core.runs import new_workspace, workspace_folder

    workspace = workspace or new_workspace(runs_root)
    folder = workspace_folder(workspace, runs_root)
    folder.parent.mkdir(parents=True, exist_ok=True)
    copy_keeping_links(template, folder)
    for run_json in folder.glob("*/run.json"):
        info = json.loads(run_json.read_text())
        if names and info["name"] in names:
            run_json.write_text(json.dumps({**info, "name": names[info["name"]]}, indent=2))
    return workspace


@contextmanager
def made_once(shared_folder: Path, name: str):
    """Make something once for the whole test session, whichever pytest-xdist worker asks first: yields
    (the folder for it, whether it still has to be made); the others wait for it, then find it made."""
    shared_folder.mkdir(parents=True, exist_ok=True)
    folder, done = shared_folder / name, shared_folder / f"{name}.done"
    with open(shared_folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder, not done.exists()
            done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_variable_shapes: dict[str, dict[str, tuple]] = {}


def variable_shapes(config) -> dict[str, tuple]:
    """The model's variables and their shapes, as its weights.npz holds them (by path)."""
    key = config.to_json()
    if key not in _variable_shapes:
        from mnist_core.models import build_model

        _variable_shapes[key] = {variable.path: tuple(variable.shape) for variable in build_model(config).weights}
    return _variable_shapes[key]


def run_written_with_numpy(runs_root: Path, config=None, workspace: str | None = None, name: str | None = None,
                           seed: int = 0):
    """A completed run saved as training saves one, without training: the store's own recorder
    (mnist_core.runs.start_run: config.json, run.json, metrics.csv, iterations.csv, weights.npz and a
    checkpoint per epoch, the last a hard link of weights.npz), its weights random float32 arrays of the
    model's variables made with NumPy, its metrics made up. For tests of the store's reader, which reads
    files, not models. Returns what a test compares with: run_id, folder, config, history, iterations."""
    from mnist_core import RunStatus, TrainConfig
    from mnist_core.results import EpochResult, IterationPoint
    from mnist_core.runs import SHARED_WORKSPACE, start_run

    config = config or TrainConfig(epochs=2, batch_size=50)
    shapes, rng = variable_shapes(config), np.random.default_rng(seed)

    def weights():
        return {path: rng.normal(0, 0.05, shape).astype(np.float32) for path, shape in shapes.items()}

    recorder = start_run(config, runs_root, name=name, workspace=workspace or SHARED_WORKSPACE)
    recorder.mark_running(weights())
    history, iterations, steps = [], [], 4
    for epoch in range(1, config.epochs + 1):
        for step in range(1, steps + 1):
            iteration = (epoch - 1) * steps + step
            iterations.append(IterationPoint(iteration, float(2.3 / iteration), float(min(0.99, 0.1 * iteration))))
        accuracy = float(min(0.95, 0.6 + 0.1 * epoch))
        history.append(EpochResult(epoch, 1.0 / epoch, accuracy, 1.1 / epoch, accuracy - 0.02, 0.25, epoch * steps))
        recorder.record_epoch(list(history), weights(), epoch, list(iterations))
    recorder.finish(RunStatus.COMPLETED, f"Finished all {config.epochs} epoch(s).", config.epochs, list(iterations),
                    weights_of_epoch=config.epochs)
    return SimpleNamespace(run_id=recorder.run_id, folder=recorder.folder, config=config, history=history,
                           iterations=iterations)


def trained_run(model_name: str, dataset, runs_root: Path):
    """A real run of `model_name` trained two epochs (batch 50) on `dataset` (the sample digits, say)
    into `runs_root`, completed: its SavedRun, read back from its folder."""
    from mnist_core import RunStatus, TrainConfig, train_and_record
    from mnist_core.runs import load_run

    training = train_and_record(TrainConfig.for_model(model_name, epochs=2, batch_size=50), dataset, runs_root=runs_root)
    list(training)
    assert training.status == RunStatus.COMPLETED
    return load_run(training.run_id, runs_root)


def folder_bytes(folder):
    """The bytes of the files under `folder`, each file once however many names it has (by device and
    inode): the tests' own count, apart from the engine's runs.run_folder_bytes that they check."""
    files = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            status = path.stat()
            files[(status.st_dev, status.st_ino)] = status.st_size
    return sum(files.values())


def runs_list(app: AppTest):
    """Compare's list of runs to overlay (its widget's key names its dataset and language)."""
    return next(widget for widget in app.multiselect if widget.label in ("Runs", "训练记录"))
