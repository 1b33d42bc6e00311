"""Training on a Dask cluster (mnist_core/dask_executor.py), beyond what every job and pause test checks on
both executors (tests/test_jobs.py, tests/test_pause.py): a worker killed mid-run, a scheduler that
cannot be reached, the server's limits on a worker, and a default server that never imports dask."""

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from mnist_core import RunStatus, TrainConfig
from mnist_core.executor_api import TrainingUnavailableError
from mnist_core.executors import local_executor, training_executor
from mnist_core.jobs import TrainingJob, TrainingSlots
from mnist_core.runs import load_run
from tests.app_server import PROJECT_ROOT
from tests.helpers import open_page, start_run_on_the_train_page, wait_until

pytestmark = pytest.mark.dask


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_a_worker_killed_mid_run_leaves_the_run_interrupted_with_its_epochs_and_the_next_run_starts(
        sample_dataset, runs_root, dask_executor):
    slots = TrainingSlots(1)  # the next run queues behind the one whose worker is killed
    doomed = TrainingJob(TrainConfig(epochs=500, batch_size=10), sample_dataset, slots=slots, executor=dask_executor).start()
    following = TrainingJob(TrainConfig(epochs=1, batch_size=50), sample_dataset, slots=slots, executor=dask_executor).start()
    wait_until(lambda: len(doomed.snapshot().history) >= 2, seconds=120)
    assert following.snapshot().queue_position == 1
    client = dask_executor.connect()
    key = f"mnist-lab-train-{doomed.run_id}"
    (worker,) = [address for address, keys in client.processing().items() if key in keys]
    os.kill(client.run(os.getpid, workers=[worker])[worker], signal.SIGKILL)

    assert doomed.join(60)
    snapshot = doomed.snapshot()
    assert snapshot.status == RunStatus.INTERRUPTED and len(snapshot.history) >= 2
    assert str(snapshot.message).startswith(f"Interrupted during epoch {len(snapshot.history) + 1}: the cluster computer")
    saved = load_run(doomed.run_id)  # as kill -9 leaves a local run: interrupted, its saved epochs kept
    assert saved.status == RunStatus.INTERRUPTED and len(saved.history) >= len(snapshot.history)
    assert saved.load_model() is not None
    assert following.join(120) and following.snapshot().status == RunStatus.COMPLETED  # the class goes on
    wait_until(lambda: dask_executor.slots.count == 2, seconds=120)  # the nanny brings the worker back


def test_news_carries_only_the_iteration_curve_the_app_does_not_hold_yet(sample_dataset, dask_executor):
    from distributed import Variable

    from mnist_core.dask_executor import RemotePauseControl, RemoteRun, _variable_names, _WorkerSide
    from mnist_core.training import train

    training = train(TrainConfig(epochs=3, batch_size=50), sample_dataset)
    list(training)
    whole_curve = tuple(training.iterations.points_so_far)
    assert len(whole_curve) > 20
    client = dask_executor.connect()
    controls = RemotePauseControl(None, give_way=lambda: None, take_turn=lambda: None)  # the app's side
    control_variable = Variable(_variable_names("curve-news")[0], client=client)
    control_variable.set(controls.control())
    worker_side = _WorkerSide(client, "curve-news", None)
    try:
        worker_side.training = training
        first = worker_side.news()
        assert first["iterations"] == whole_curve  # the app holds nothing yet
        run = RemoteRun(first, folder=None)
        controls.hold_points(len(run.finished_points) - 5)  # an older count: a heartbeat left before the last news
        controls.beat()
        control_variable.set(controls.control())
        wait_until(lambda: worker_side.news()["iterations_from"] == len(whole_curve) - 5)
        later = worker_side.news()
        assert later["iterations"] == whole_curve[-5:]  # only what the app may not hold
        run.update(later)
        assert run.iterations.points_so_far == whole_curve
    finally:
        worker_side.close()
        for name in _variable_names("curve-news"):
            Variable(name, client=client).delete()


@pytest.mark.slow
def test_the_run_time_limit_holds_on_a_worker(sample_dataset, runs_root, dask_executor, monkeypatch):
    monkeypatch.setenv("MNIST_LAB_RUN_TIME_LIMIT_MINUTES", "0.02")  # 1.2 s of training
    job = TrainingJob(TrainConfig(epochs=500, batch_size=10), sample_dataset, slots=TrainingSlots(1),
                      executor=dask_executor).start()
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.status == RunStatus.STOPPED and "a run may train for at most 0.02 minutes" in str(snapshot.message)
    assert load_run(job.run_id).status == RunStatus.STOPPED


def test_an_unreachable_scheduler_is_a_message_at_once_or_local_training_if_chosen(monkeypatch):
    monkeypatch.setenv("MNIST_LAB_DASK_SCHEDULER", f"tcp://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(TrainingUnavailableError) as refused:
        training_executor()
    assert time.monotonic() - started < 15  # never a hang
    assert "cannot be reached just now" in str(refused.value.args[0])
    monkeypatch.setenv("MNIST_LAB_DASK_FALLBACK", "local")
    assert training_executor() is local_executor


def test_a_class_pressing_train_while_the_scheduler_is_down_waits_for_one_attempt_not_one_each(caplog):
    from mnist_core import dask_executor

    executor = dask_executor.DaskExecutor(f"tcp://127.0.0.1:{closed_port()}")
    refusals = []

    def press_train():
        try:
            executor.connect()
        except TrainingUnavailableError as error:
            refusals.append(error)

    def attempts() -> int:  # each attempt that reached out to the scheduler logs its failure once
        return sum("cannot be reached" in record.getMessage() for record in caplog.records)

    caplog.set_level(logging.WARNING, logger=dask_executor.logger.name)
    students = [threading.Thread(target=press_train) for _ in range(5)]
    for student in students:
        student.start()
    for student in students:
        student.join()
    assert len(refusals) == 5
    assert attempts() == 1  # the others were refused at once, behind the first attempt
    executor._refused_until = 0.0  # as if the retry window had passed: the next press asks the scheduler again
    with pytest.raises(TrainingUnavailableError):
        executor.connect()
    assert attempts() == 2


@pytest.mark.pages
def test_the_train_page_says_the_cluster_cannot_be_reached_and_keeps_the_settings(runs_root, monkeypatch):
    monkeypatch.setenv("MNIST_LAB_DASK_SCHEDULER", f"tcp://127.0.0.1:{closed_port()}")
    app = open_page("pages/train.py")
    start_run_on_the_train_page(app, epochs=3, name="my run")
    assert not app.exception
    assert any("cannot be reached just now" in error.value for error in app.error)
    assert app.slider(key="widget_epochs").value == 3 and app.text_input(key="run_name").value == "my run"
    assert not list(runs_root.rglob("run.json"))  # nothing was reserved


@pytest.mark.slow
def test_the_default_server_never_imports_dask(tmp_path):
    """`make run` does not install dask: the local executor must train without it."""
    program = (
        "import sys, numpy as np\n"
        "from mnist_core import TrainConfig\n"
        "from mnist_core.jobs import TrainingJob\n"
        "with np.load('tests/data/mnist_sample.npz') as a:\n"
        "    data = (a['x_train'], a['y_train']), (a['x_test'], a['y_test'])\n"
        "job = TrainingJob(TrainConfig(epochs=1, batch_size=50), data).start()\n"
        "assert job.join(120) and job.snapshot().status == 'completed', job.snapshot()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('dask', 'distributed')))\n")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MNIST_LAB_DASK")}
    result = subprocess.run([sys.executable, "-c", program], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                            env={**environment, "MNIST_LAB_RUNS_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_worker_preload_gives_glibc_back_its_thresholds(dask_cluster):
    """Dask's nanny fixes glibc's trim threshold (MALLOC_TRIM_THRESHOLD_), which made every large tensor of a
    training step a fresh mmap: the preload sets the thresholds a plain process grows into, on each worker."""
    from distributed import Client

    from mnist_core.dask_worker import use_glibc_thresholds_of_a_plain_process

    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        answers = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), "mnist_core.dask_worker" in sys.modules))
        assert answers and all(answer == ("65536", True) for answer in answers.values()), answers  # the nanny's setting, and the preload
        assert all(client.run(use_glibc_thresholds_of_a_plain_process).values())
