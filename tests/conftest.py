"""Shared fixtures. Engine tests use a small committed sample of real MNIST digits for speed
(tests/data/mnist_sample.npz: 120 training and 30 test digits of each class, taken from MNIST in order)."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.app_server import CHROMIUM, CHROMIUM_FLAGS, PROJECT_ROOT, running_app

SAMPLE_FILE = Path(__file__).parent / "data" / "mnist_sample.npz"


@pytest.fixture(scope="session")
def sample_dataset():
    """((x_train, y_train), (x_test, y_test)) of real MNIST digits, in load_mnist()'s layout."""
    with np.load(SAMPLE_FILE, allow_pickle=False) as archive:
        return (archive["x_train"], archive["y_train"]), (archive["x_test"], archive["y_test"])


@pytest.fixture(scope="session")
def full_dataset():
    from mnist_core import load_mnist

    return load_mnist()


@pytest.fixture
def unwritable_runs_root(tmp_path, monkeypatch):
    """A runs folder that cannot be made: its parent is a regular file (ENOTDIR). Unlike a chmod, this
    fails for root too, as CI runs."""
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("MNIST_LAB_RUNS_DIR", str(not_a_folder / "runs"))
    return not_a_folder / "runs"


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    """A private runs folder, so tests never touch the user's runs."""
    root = tmp_path / "runs"
    monkeypatch.setenv("MNIST_LAB_RUNS_DIR", str(root))
    return root


@pytest.fixture
def run_cli(runs_root, capsys):
    """Run one CLI command in this process: (returncode, stdout, stderr), like subprocess.run's result."""

    def run(*arguments):
        try:
            from mnist_core import cli

            returncode = cli.main(list(arguments))
        except SystemExit as exit_:  # argparse's own errors exit
            returncode = exit_.code
        output = capsys.readouterr()
        return SimpleNamespace(returncode=returncode, stdout=output.out, stderr=output.err)

    return run


TRAIN_UNTIL_KILLED = """
import sys
import numpy as np
from mnist_core import TrainConfig, train_and_record
with np.load(sys.argv[1], allow_pickle=False) as archive:
    dataset = (archive["x_train"], archive["y_train"]), (archive["x_test"], archive["y_test"])
config = TrainConfig(epochs=1000, batch_size=8)
training = train_and_record(config, dataset, name="killed mid-run", workspace=sys.argv[2])
print(training.run_id, flush=True)
for result in training:
    print(result.epoch, flush=True)
"""


@pytest.fixture
def kill_a_training_run(runs_root):
    """Train in another process and SIGKILL it after two saved epochs, like a server killed mid-run.
    Returns a function of the workspace that gives the run's id."""
    import signal

    def kill(workspace: str) -> str:
        trainer = subprocess.Popen([sys.executable, "-c", TRAIN_UNTIL_KILLED, str(SAMPLE_FILE), workspace], cwd=PROJECT_ROOT,
                                   env={**os.environ, "MNIST_LAB_RUNS_DIR": str(runs_root)}, stdout=subprocess.PIPE, text=True)
        try:
            run_id = trainer.stdout.readline().strip()
            while int(trainer.stdout.readline()) < 2:
                pass
            from mnist_core.runs import load_run

            assert load_run(run_id, runs_root, workspace).status == "running"  # its process holds the lock: not interrupted
            trainer.send_signal(signal.SIGKILL)  # no chance to write anything
        finally:
            trainer.kill()
            trainer.wait()
        return run_id

    return kill


# -- browser tests: a real `streamlit run` and Debian's Chromium driven by Playwright ---------------

@pytest.fixture(scope="session")
def app_runs_root(tmp_path_factory):
    """The runs folder of the app that the browser tests start."""
    return tmp_path_factory.mktemp("browser-runs")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, app_runs_root):
    """Start the app with `streamlit run` on a free port, as `make run` does; stop it afterwards."""
    with running_app(app_runs_root, tmp_path_factory.mktemp("streamlit") / "server.log") as (_, url):
        yield url


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    from playwright.sync_api import expect

    # The first page load imports TensorFlow and verifies MNIST: allow for a slow CI machine.
    expect.set_options(timeout=60_000)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
