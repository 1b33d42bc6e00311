"""Background training jobs and the queue of training slots."""

import threading

import pytest

from mnist_core import RunStatus, TrainConfig
from mnist_core.jobs import TrainingJob, TrainingSlots
from mnist_core.runs import list_runs, load_run
from tests.helpers import wait_until


def test_a_job_trains_in_the_background_and_saves_its_run(sample_dataset, runs_root, executor):
    job = TrainingJob(TrainConfig(epochs=2, batch_size=50), sample_dataset, slots=TrainingSlots(1), executor=executor).start()
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.status == "completed" and snapshot.finished
    assert [result.epoch for result in snapshot.history] == [1, 2]
    saved = load_run(snapshot.run_id)
    assert saved.history == list(snapshot.history)
    saved_curve = saved.iterations()  # (iterations.csv keeps 6 significant digits)
    assert [point.iteration for point in snapshot.iterations] == [point.iteration for point in saved_curve]
    assert [point.loss for point in snapshot.iterations] == pytest.approx([point.loss for point in saved_curve], rel=1e-5)
    assert job.model is not None


class SlotHeldUntilLetGo(TrainingSlots):
    """One training slot, which a job that ends gives up only once the test lets go: the queue behind the
    first job stays as it is until the test has looked at it, however fast this machine trains (a fast one
    could end the first job before the third has queued, and the test would wait for a position never reached)."""

    def __init__(self):
        super().__init__(1)
        self.let_go = threading.Event()

    def release(self) -> None:
        self.let_go.wait(120)
        super().release()


def test_jobs_beyond_the_slots_wait_in_order_and_none_is_lost(sample_dataset, runs_root, executor):
    slots = SlotHeldUntilLetGo()
    config = TrainConfig(epochs=3, batch_size=10)
    try:
        first = TrainingJob(config, sample_dataset, slots=slots, executor=executor).start()
        # Out of the queue: running, or already ended (a worker whose compiled step is warm from the test before
        # can finish these 3 epochs between two of the app's looks); its slot is held until the test lets go.
        wait_until(lambda: first.snapshot().status != RunStatus.WAITING)
        second = TrainingJob(config, sample_dataset, slots=slots, executor=executor).start()
        third = TrainingJob(config, sample_dataset, slots=slots, executor=executor).start()
        wait_until(lambda: third.snapshot().queue_position == 2)
        assert second.snapshot().status == RunStatus.WAITING and second.snapshot().queue_position == 1
    finally:
        slots.let_go.set()
    for job in (first, second, third):
        assert job.join(120)
        assert job.snapshot().status == "completed" and len(job.snapshot().history) == 3


def test_stopping_a_waiting_job_ends_it_without_training(sample_dataset, runs_root, executor):
    slots = TrainingSlots(1)
    # Long enough never to end on its own before it is stopped, however warm the worker's compiled step is.
    running = TrainingJob(TrainConfig(epochs=500, batch_size=10), sample_dataset, slots=slots, executor=executor).start()
    wait_until(lambda: running.snapshot().status == "running")
    waiting = TrainingJob(TrainConfig(epochs=2), sample_dataset, slots=slots, executor=executor).start()
    wait_until(lambda: waiting.snapshot().queue_position == 1)
    waiting.stop()
    assert waiting.join(30)
    assert waiting.snapshot().status == "stopped" and waiting.snapshot().history == ()
    running.stop()
    assert running.join(30) and running.snapshot().status == "stopped"


def test_a_setting_that_does_not_fit_the_data_fails_with_its_message(sample_dataset, runs_root, executor):
    job = TrainingJob(TrainConfig(batch_size=4096), sample_dataset, slots=TrainingSlots(1), executor=executor).start()
    assert job.join(60)
    snapshot = job.snapshot()
    assert snapshot.status == RunStatus.FAILED and "batch size (4096) is larger than the training set" in str(snapshot.message)
    assert list_runs(runs_root) == ([], [])  # the run reserved when it was asked for is gone again
