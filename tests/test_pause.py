"""Pause, step and resume a run: the real engine and the real queue of training slots, on real digits.

Every pause here starts from a known point: a job paused (and perhaps asked to step) before it starts
rests before its first step, so no test depends on how fast a machine trains."""

import threading
import time

import numpy as np

from mnist_core import RunStatus, TrainConfig, train
from mnist_core.jobs import Activity, TrainingJob, TrainingSlots
from mnist_core.models import get_weights
from mnist_core.pausing import PauseControl
from mnist_core.results import IterationLog
from mnist_core.runs import load_run
from tests.helpers import wait_until

SMALL_BATCHES = TrainConfig(epochs=2, batch_size=4)  # 1,080 digits: 270 steps an epoch, two to a point of the curve


def resting(job: TrainingJob, iterations: int) -> bool:
    """True once `job` has trained `iterations` steps in all and rests, paused, at that point."""
    snapshot = job.snapshot()
    done = (snapshot.epoch - 1) * snapshot.steps_per_epoch + snapshot.step if snapshot.steps_per_epoch else 0
    return snapshot.pause_seconds_left is not None and done == iterations


def paused_job(config: TrainConfig, dataset, slots: TrainingSlots | None = None, **options) -> TrainingJob:
    """A job paused before its first step, started: it rests at iteration 0."""
    job = TrainingJob(config, dataset, slots=slots or TrainingSlots(1), **options)
    job.pause()
    job.start()
    wait_until(lambda: resting(job, 0))
    return job


def test_a_run_paused_stepped_and_resumed_ends_exactly_as_a_run_never_paused(sample_dataset, runs_root, executor):
    """Training is deterministic given the seed, and pausing must not change what is computed."""
    job = paused_job(SMALL_BATCHES, sample_dataset, executor=executor)
    for iterations in (1, 2, 3):
        job.step_batch()
        wait_until(lambda iterations=iterations: resting(job, iterations))
    job.step_epoch()
    wait_until(lambda: resting(job, 270))
    job.resume()
    assert job.join(120)
    never_paused = train(SMALL_BATCHES, sample_dataset)
    reference = list(never_paused)
    snapshot = job.snapshot()
    assert snapshot.status == RunStatus.COMPLETED and not snapshot.paused and snapshot.paused_weights is None
    measured = [(result.train_loss, result.train_acc, result.val_loss, result.val_acc, result.iterations)
                for result in snapshot.history]
    assert measured == [(result.train_loss, result.train_acc, result.val_loss, result.val_acc, result.iterations)
                        for result in reference]
    reference_weights = get_weights(never_paused.model)
    for name, value in get_weights(job.model).items():
        np.testing.assert_array_equal(value, reference_weights[name], err_msg=name)
    # The curve differs only where the run was stepped by hand: each of those steps is a point of its own.
    assert [point.iteration for point in snapshot.iterations] == [1, 2, 3] + list(range(4, 2 * 270 + 1, 2))


def test_a_batch_step_trains_exactly_one_batch_and_the_page_sees_it(sample_dataset, runs_root, executor):
    job = paused_job(SMALL_BATCHES, sample_dataset, executor=executor)
    start = job.snapshot()
    assert start.paused and start.step == 0 and start.iterations == () and start.pause_seconds_left > 0
    job.step_batch()
    wait_until(lambda: resting(job, 1))
    one_step = job.snapshot()
    assert (one_step.epoch, one_step.step) == (1, 1)
    # A point of the curve averages two steps, but a step taken while paused is a point of its own.
    assert [point.iteration for point in one_step.iterations] == [1]
    assert any(not np.array_equal(one_step.paused_weights[name], start.paused_weights[name]) for name in start.paused_weights)
    job.step_batch()
    wait_until(lambda: resting(job, 2))
    two_steps = job.snapshot()
    # The second step adds a second point (averaged with the first into one, it showed nothing new).
    assert [point.iteration for point in two_steps.iterations] == [1, 2] and two_steps.history == ()
    assert two_steps.iterations[1].loss != two_steps.iterations[0].loss
    job.stop()
    assert job.join(60)


def test_an_epoch_step_finishes_the_current_epoch_saves_it_and_pauses_again(sample_dataset, runs_root, executor):
    job = paused_job(SMALL_BATCHES, sample_dataset, executor=executor)
    job.step_batch()
    wait_until(lambda: resting(job, 1))
    job.step_epoch()  # from the middle of epoch 1: to its end, not one epoch's worth of steps
    wait_until(lambda: resting(job, 270))
    snapshot = job.snapshot()
    assert [result.epoch for result in snapshot.history] == [1] and snapshot.status == RunStatus.RUNNING and snapshot.paused
    saved = load_run(snapshot.run_id)
    assert saved.status == RunStatus.RUNNING and saved.history == list(snapshot.history)  # measured and saved before it rests
    for name, value in get_weights(job.model).items():  # resting at the epoch's end: the picture is that epoch's model
        np.testing.assert_array_equal(snapshot.paused_weights[name], value, err_msg=name)
    job.step_epoch()  # from the start of epoch 2
    wait_until(lambda: job.snapshot().finished)
    assert job.snapshot().status == RunStatus.COMPLETED and len(job.snapshot().history) == 2


def test_a_paused_run_gives_its_slot_to_the_queue_and_queues_again_to_step(sample_dataset, runs_root, executor):
    slots = TrainingSlots(1)
    paused = paused_job(SMALL_BATCHES, sample_dataset, slots=slots, executor=executor)
    meanwhile = TrainingJob(TrainConfig(epochs=1, batch_size=50), sample_dataset, slots=slots, executor=executor).start()
    assert meanwhile.join(120) and meanwhile.snapshot().status == RunStatus.COMPLETED  # it never waited for the paused run

    busy = TrainingJob(TrainConfig(epochs=1000, batch_size=10), sample_dataset, slots=slots, executor=executor).start()
    wait_until(lambda: busy.snapshot().status == RunStatus.RUNNING)
    paused.step_batch()  # first come, first served: behind the run that holds the slot
    wait_until(lambda: paused.snapshot().queue_position == 1)
    assert paused.snapshot().step == 0 and paused.snapshot().paused
    busy.stop()
    wait_until(lambda: resting(paused, 1))
    assert paused.snapshot().queue_position == 0
    paused.resume()
    assert paused.join(120) and paused.snapshot().status == RunStatus.COMPLETED


def test_a_run_left_paused_past_the_limit_stops_by_itself_keeping_its_epochs(sample_dataset, runs_root, monkeypatch, executor):
    monkeypatch.setenv("MNIST_LAB_PAUSE_LIMIT_SECONDS", "0.5")
    job = TrainingJob(TrainConfig(epochs=3, batch_size=50), sample_dataset, slots=TrainingSlots(1), executor=executor)
    job.pause()
    job.step_epoch()  # asked before it starts: it trains epoch 1, then rests until the limit ends it
    job.start()
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.status == RunStatus.STOPPED and not snapshot.paused
    assert str(snapshot.message).startswith("Stopped after epoch 1: it was left paused for")  # it never began epoch 2
    assert "its 1 epoch and its weights are kept" in str(snapshot.message)
    saved = load_run(snapshot.run_id)
    assert saved.status == RunStatus.STOPPED and len(saved.history) == 1 and saved.load_model() is not None


def test_the_pause_limit_counts_every_rest_so_a_step_does_not_restart_it(sample_dataset):
    """A step that restarted the limit would let one click every nine minutes keep a run paused for ever."""
    control = PauseControl(limit_seconds=1.0)
    control.pause()
    started = time.monotonic()
    resting = threading.Thread(target=lambda: control.rest(lambda: False))
    resting.start()
    time.sleep(0.6)
    control.step_batch()  # the step ends this rest; the next one has what is left of the limit
    resting.join(5)
    assert control.allowance(1, 10) == 1 and control.allowance(1, 9) is None
    assert control.rest(lambda: False) is False and control.rested_too_long
    assert time.monotonic() - started < 1.5  # not 0.6 + a whole second more


def test_batch_steps_asked_for_are_bounded():
    """A burst of clicks on Step must not queue a batch each, to train on long after the clicking stopped."""
    from mnist_core.pausing import MOST_BATCH_STEPS_ASKED

    control = PauseControl()
    control.pause()
    asked = [control.step_batch() for _ in range(300)]
    assert asked.count(True) == MOST_BATCH_STEPS_ASKED and not any(asked[MOST_BATCH_STEPS_ASKED:])
    granted = 0
    while control.allowance(1, 1000) == 1:
        granted += 1
    assert granted == MOST_BATCH_STEPS_ASKED


def test_a_resting_run_lets_go_of_its_data_and_makes_it_again_the_same(sample_dataset):
    """A paused run need not hold its copy of the data (about twice the training digits' bytes). Let go
    while it rests, made again when it goes on: a run with label noise and a subset still ends exactly
    as a run never paused."""
    config = TrainConfig(epochs=2, batch_size=50, label_noise=0.2, train_subset_size=500, seed=3)
    control = PauseControl()
    control.pause()
    training = train(config, sample_dataset, pause_control=control)
    results = []
    thread = threading.Thread(target=lambda: results.extend(training))
    thread.start()
    wait_until(lambda: training.paused_weights is not None)
    assert training.split is None and training._data is None  # nothing but the shared dataset to make it from
    control.step_epoch()
    # At rest again after the epoch: its data let go again (paused_weights, still set from the first rest,
    # does not say the run has come back to rest; CI once looked in between).
    wait_until(lambda: len(training.history) == 1 and training.split is None and training._data is None)
    control.resume()
    thread.join(120)
    reference = train(config, sample_dataset)
    assert [result.val_loss for result in results] == [result.val_loss for result in list(reference)]
    for name, value in get_weights(reference.model).items():
        np.testing.assert_array_equal(value, get_weights(training.model)[name], err_msg=name)


def test_stop_ends_a_paused_run_at_once_keeping_its_finished_epochs(sample_dataset, runs_root, executor):
    job = TrainingJob(TrainConfig(epochs=3, batch_size=50), sample_dataset, slots=TrainingSlots(1), executor=executor)
    job.pause()
    job.step_epoch()
    job.start()
    wait_until(lambda: resting(job, job.snapshot().steps_per_epoch or -1))
    Activity("run", (job,)).stop()  # what every page's Stop does
    assert job.join(30)
    snapshot = job.snapshot()
    assert snapshot.status == RunStatus.STOPPED and [result.epoch for result in snapshot.history] == [1]
    assert str(snapshot.message) == "Stopped after epoch 1; its 1 epoch and its weights are kept."


def test_time_spent_paused_does_not_count_against_the_time_limit(sample_dataset):
    """Paused for longer than the whole time limit, then resumed: the run trains to its end."""
    limit_seconds = 5.0  # far more than these 44 steps take, cold or warm
    control = PauseControl()
    control.pause()
    training = train(TrainConfig(epochs=2, batch_size=50), sample_dataset, pause_control=control,
                     time_limit_seconds=limit_seconds)
    thread = threading.Thread(target=lambda: list(training))
    thread.start()
    wait_until(lambda: training.paused_weights is not None)
    paused_at = time.monotonic()
    wait_until(lambda: time.monotonic() - paused_at > limit_seconds)
    control.resume()
    thread.join(120)
    assert training.status == RunStatus.COMPLETED and len(training.history) == 2


def test_a_run_never_paused_rests_nowhere(sample_dataset):
    training = train(TrainConfig(epochs=1, batch_size=50), sample_dataset)
    list(training)
    assert training.status == RunStatus.COMPLETED and not training.pause_control.paused and training.paused_weights is None


def test_steps_asked_for_while_not_paused_are_ignored():
    control = PauseControl()
    control.step_batch()
    control.step_epoch()
    assert control.allowance(epoch=1, steps_left=10) == 10
    control.pause()
    assert control.allowance(epoch=1, steps_left=10) is None  # nothing was saved up for later


def test_steps_taken_one_by_one_each_make_a_point_after_the_stretch_in_progress():
    log = IterationLog(steps_per_epoch=540)  # stretches of 3 steps
    log.add([2.0, 1.0], [0.1, 0.2])  # trained freely, then paused mid-stretch
    log.add([0.5], [0.5], each_its_own_point=True)
    log.add([0.25], [0.6], each_its_own_point=True)
    assert [(point.iteration, point.loss) for point in log.points] == [(2, 1.5), (3, 0.5), (4, 0.25)]


def test_the_unfinished_stretch_of_the_iteration_curve_shows_as_a_provisional_point():
    log = IterationLog(steps_per_epoch=540)  # stretches of 3 steps
    log.add([2.0], [0.1])
    assert log.points == [] and [(point.iteration, point.loss) for point in log.points_so_far] == [(1, 2.0)]
    log.add([1.0, 0.0], [0.2, 0.3])
    assert [(point.iteration, point.loss) for point in log.points] == [(3, 1.0)] and log.points_so_far == log.points
    log.add([0.5, float("nan")], [0.5, 0.5])  # a step that is not a number is left out, as in a finished stretch
    assert [(point.iteration, point.loss) for point in log.points_so_far] == [(3, 1.0), (5, 0.5)] and len(log.points) == 1


def test_the_curve_from_a_point_on_is_the_curve_so_far_from_that_point():
    log = IterationLog(steps_per_epoch=540)  # stretches of 3 steps
    log.add([2.0, 1.0, 0.0, 0.5, 0.25, 1.0, 3.0], [0.1] * 7)  # two finished stretches and one in progress
    for first in range(len(log.points) + 1):
        assert log.points_from(first) == log.points_so_far[first:]
    log.add([1.0, 1.0], [0.1, 0.1])  # the stretch in progress finished: no provisional point
    for first in range(len(log.points) + 1):
        assert log.points_from(first) == log.points_so_far[first:]
