"""Shared fixtures. Engine tests use a small committed sample of real MNIST digits for speed
(tests/data/mnist_sample.npz: 120 training and 30 test digits of each class, taken from MNIST in order).

Runs that many tests only read are trained once per test session (the templates below, made by
whichever pytest-xdist worker asks first, in a folder the workers share) and copied into each test's
own runs folder (tests/helpers.py's copy_workspace): a test that changes its copy changes nothing else.
The helper functions the test modules share are in tests/helpers.py."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.app_server import CHROMIUM, CHROMIUM_FLAGS, PROJECT_ROOT, running_app
from tests.helpers import made_once, open_page, train_on_the_train_page

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


@pytest.fixture(scope="session")
def fashion_dataset():
    """Real Fashion-MNIST, provisioned as the app does (a verified local copy, Keras' cache or download,
    Debian's dataset-fashion-mnist package). CI installs that package (.ci/run), so there a machine
    without the data fails the test; elsewhere it is skipped, saying how to get the data."""
    from mnist_core import MnistDataError, load_dataset

    try:
        return load_dataset("fashion_mnist")
    except MnistDataError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have Fashion-MNIST (.ci/run installs dataset-fashion-mnist): {error}")
        pytest.skip(f"Fashion-MNIST is not on this machine: {error}")


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


# -- runs trained once per test session, copied by the tests that only read them -----------------------

@pytest.fixture(scope="session")
def shared_tmp_path(tmp_path_factory):
    """A folder all of this session's pytest-xdist workers share (each worker's own base folder is in it)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "made-once"


def train_template(shared_tmp_path, name: str, train) -> Path:
    """The template `name`, trained by `train(runs_root, workspace)` the first time any worker asks for it
    (the others wait for it): the folder of the workspace holding its runs."""
    from mnist_core.runs import new_workspace

    with made_once(shared_tmp_path, name) as (runs_root, to_make):
        if to_make:
            shutil.rmtree(runs_root, ignore_errors=True)  # what a failed attempt left
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("MNIST_LAB_RUNS_DIR", str(runs_root))
                train(runs_root, new_workspace(runs_root))
        (folder,) = [path for path in runs_root.iterdir() if path.is_dir() and not path.name.startswith(".")]
        return folder


@pytest.fixture(scope="session")
def sample_run_template(shared_tmp_path, sample_dataset) -> Path:
    """One linear run trained two epochs on the sample digits (batch 50): its run folder."""
    from mnist_core import TrainConfig, train_and_record

    def train(runs_root, workspace):
        list(train_and_record(TrainConfig(epochs=2, batch_size=50), sample_dataset, runs_root=runs_root, workspace=workspace))

    workspace = train_template(shared_tmp_path, "sample-linear", train)
    (run,) = [path for path in workspace.iterdir() if path.is_dir() and not path.name.startswith(".")]
    return run


@pytest.fixture(scope="session")
def train_page_template(shared_tmp_path):
    """A function of the model and the epochs: the workspace folder holding one run trained on the Train
    page (Streamlit's AppTest) as a student trains it: that model chosen, that many epochs on 300
    training examples, the page's other settings as they come, named "tiny-<model>"."""

    def template(model: str = "linear", epochs: int = 2) -> Path:
        def train(runs_root, workspace):
            from mnist_core.jobs import job_board

            app = open_page("pages/train.py", workspace=workspace)
            app.selectbox(key="widget_model").set_value(model).run()
            train_on_the_train_page(app, epochs=epochs, training_examples=300, name=f"tiny-{model}")
            assert not app.exception and not app.error, [error.value for error in app.error]
            assert job_board.current(workspace).jobs[-1].join(60)  # its last files written

        return train_template(shared_tmp_path, f"train-page-{model}-{epochs}", train)

    return template


@pytest.fixture(scope="session")
def two_runs_template(shared_tmp_path) -> Path:
    """Two real runs on MNIST (300 training examples, 2 epochs) that differ in their optimizer, as the
    Compare page would find them: their workspace folder."""
    from mnist_core import TrainConfig, load_mnist, train_and_record

    def train(runs_root, workspace):
        for optimizer in ("sgd", "adam"):
            config = TrainConfig(optimizer=optimizer, epochs=2, train_subset_size=300, batch_size=50)
            list(train_and_record(config, load_mnist(), runs_root=runs_root, workspace=workspace))

    return train_template(shared_tmp_path, "two-runs", train)


@pytest.fixture(scope="session")
def cnn_template(shared_tmp_path) -> Path:
    """One CNN (the model's preset) trained one epoch on all of MNIST's training digits, named "cnn": good at
    drawn digits. Its workspace folder."""
    from mnist_core import TrainConfig, load_mnist, train_and_record

    def train(runs_root, workspace):
        config = TrainConfig.for_model("cnn", epochs=1)
        list(train_and_record(config, load_mnist(), runs_root=runs_root, name="cnn", workspace=workspace))

    return train_template(shared_tmp_path, "cnn", train)


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


@pytest.fixture(scope="module")
def dask_cluster():
    """A Dask cluster on this machine, as the README's "Past one machine" sets one up: 2 worker processes,
    each with one training slot and the worker preload, on loopback only. One per test module that uses it,
    closed after it (10 s to start): a cluster kept for the whole session would go on taking memory and
    time in a pytest worker that has moved on to other files."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, resources={"training_slot": 1},
                      preload=["mnist_core.dask_worker"], host="127.0.0.1", dashboard_address=":0") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def dask_executor(dask_cluster):
    """The app's Dask executor, connected to `dask_cluster`, once its 2 training slots are counted."""
    from mnist_core.dask_executor import DaskExecutor
    from tests.helpers import wait_until

    executor = DaskExecutor(dask_cluster.scheduler_address)
    executor.connect()
    wait_until(lambda: executor.slots.count == 2)
    yield executor
    executor.close()


@pytest.fixture(params=["local", pytest.param("dask", marks=[pytest.mark.slow, pytest.mark.dask])])
def executor(request):
    """Each executor a run can train on (mnist_core/executors.py): this server's threads, and a Dask cluster
    (slow: a cluster of processes, started once per test module)."""
    if request.param == "local":
        from mnist_core.executors import local_executor

        return local_executor
    return request.getfixturevalue("dask_executor")
