"""Heavy page work under a budget: measuring batches sized by the model's layer outputs, and the
server's turns (at most a few at once, first come first served, the wait told to the page)."""

import threading

import numpy as np
import pytest

from mnist_core import TrainConfig
from mnist_core.fair_share import EVALUATION_MEMORY_VARIABLE, evaluation_memory_bytes
from mnist_core.heavy_work import HeavyWorkTurns
from mnist_core.models import (
    MOST_EVALUATION_BATCH,
    activation_bytes_per_example,
    build_model,
    evaluation_batch_size,
    predict_probabilities,
)
from tests.helpers import wait_until

BIGGEST_CNN = TrainConfig(model="cnn", cnn_filters=64, hidden_units=1024)  # the page's sliders at their ends


def test_the_biggest_cnn_measures_in_batches_its_activation_budget_holds():
    """At MOST_EVALUATION_BATCH digits a batch, the biggest CNN's first layer alone would hold hundreds of
    MB for each Replay page open."""
    model = build_model(BIGGEST_CNN)
    batch = evaluation_batch_size(model)
    assert batch * activation_bytes_per_example(model) <= evaluation_memory_bytes()
    assert activation_bytes_per_example(model) >= 4 * 28 * 28 * 64  # its first convolution's output, at least
    assert 16 <= batch < 400
    assert evaluation_batch_size(build_model(TrainConfig())) == MOST_EVALUATION_BATCH  # the linear model: 1.3 KB a digit


def test_the_activation_budget_is_a_setting(monkeypatch):
    model = build_model(BIGGEST_CNN)
    default = evaluation_batch_size(model)
    monkeypatch.setenv(EVALUATION_MEMORY_VARIABLE, "16")
    assert evaluation_batch_size(model) == pytest.approx(default / 4, abs=1)
    monkeypatch.setenv(EVALUATION_MEMORY_VARIABLE, "nonsense")
    assert evaluation_batch_size(model) == default


def test_answers_do_not_depend_on_the_batch_size(sample_dataset):
    model = build_model(TrainConfig(model="cnn"))
    images = sample_dataset[1][0][:300]
    np.testing.assert_allclose(predict_probabilities(model, images, batch_size=7), predict_probabilities(model, images),
                               rtol=1e-4, atol=1e-6)


def test_at_most_the_turns_run_at_once_and_the_waiting_are_told_their_place():
    """Six asks of two turns, each started once the one before holds its turn or is in line (never by
    sleeping: on a busy machine a sleep does not order threads)."""
    turns = HeavyWorkTurns(2)
    release = threading.Event()
    running, most, lock, places = [0], [0], threading.Lock(), []

    def work():
        with turns.turn(waiting=places.append):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            release.wait(30)  # the first two hold their turns until all four others are in line
            with lock:
                running[0] -= 1

    threads = []
    for index in range(6):
        threads.append(threading.Thread(target=work))
        threads[-1].start()
        wait_until(lambda index=index: running[0] == min(index + 1, 2) and len(places) == max(0, index - 1))
    release.set()
    for thread in threads:
        thread.join()
    assert most[0] == 2
    assert places == [1, 2, 3, 4]  # the first two never waited; the others in the order they asked


def test_a_turn_is_reentrant_for_work_that_asks_for_more_work():
    """A Replay frame that needs the first epoch's frame must not wait for its own turn."""
    turns = HeavyWorkTurns(1)
    finished = threading.Event()

    def nested():
        with turns.turn():
            with turns.turn():
                finished.set()

    thread = threading.Thread(target=nested)
    thread.start()
    thread.join(timeout=5)
    assert finished.is_set()


class Notice:
    """What a page's placeholder was asked to show, in order."""

    def __init__(self):
        self.shown = []

    def empty(self):
        return self

    def info(self, text, icon=None):
        self.shown.append(text)


def test_a_page_waiting_for_its_turn_says_so_and_clears_it_when_its_work_starts(monkeypatch):
    """A student whose page waits behind others' heavy work reads why, instead of a page that looks frozen."""
    import ui.heavy_work

    turns = HeavyWorkTurns(1)
    monkeypatch.setattr(ui.heavy_work, "heavy_work", turns)
    started, release = threading.Event(), threading.Event()

    def other_student():
        with turns.turn():
            started.set()
            release.wait(10)

    holder = threading.Thread(target=other_student)
    holder.start()
    started.wait(5)
    threading.Timer(0.5, release.set).start()
    notice = Notice()
    assert ui.heavy_work.in_turn(lambda: list(notice.shown), where=notice) == [
        "Waiting for the server: other students' pictures and measurements are being computed. Yours is number 1 in line "
        "and starts by itself."]
    holder.join()
    notice.shown.clear()
    assert ui.heavy_work.in_turn(lambda: "computed", where=notice) == "computed" and notice.shown == []  # no wait, no notice
