"""The one first-come, first-served queue behind training slots and heavy work's turns (mnist_core/queueing.py).

No sleeps: each test waits for the queue to reach the state it looks at (a place, a holder), so a slow
or a fast machine sees the same order."""

import threading

from mnist_core.queueing import FirstComeFirstServed
from tests.helpers import wait_until


class Waiter:
    """A thread that queues with `ticket` = itself, notes when it holds a place, and gives it back when
    the test says `finish`."""

    def __init__(self, queue: FirstComeFirstServed, name: str, entered: list, cancelled=None, waiting=None):
        self.name, self.queue, self.entered = name, queue, entered
        self.holding, self.finish, self.acquired = threading.Event(), threading.Event(), None
        self.cancelled, self.waiting = cancelled, waiting
        self.thread = threading.Thread(target=self._run, name=f"waiter-{name}", daemon=True)

    def start(self) -> "Waiter":
        self.thread.start()
        return self

    def _run(self) -> None:
        self.acquired = self.queue.acquire(self, self.cancelled, self.waiting)
        if not self.acquired:
            return
        self.entered.append(self.name)
        self.holding.set()
        self.finish.wait(30)
        self.queue.release()

    def ended(self) -> bool:
        self.thread.join(30)
        return not self.thread.is_alive()


def queue_in_order(queue: FirstComeFirstServed, names: str, entered: list, holding_at_once: int) -> list[Waiter]:
    """One waiter per name, each started only once the one before is holding or has its place in line."""
    waiters = []
    for index, name in enumerate(names):
        waiters.append(Waiter(queue, name, entered).start())
        if index < holding_at_once:
            assert waiters[-1].holding.wait(10)
        else:
            wait_until(lambda waiter=waiters[-1], place=index - holding_at_once + 1: queue.position(waiter) == place, 10)
    return waiters


def test_at_most_count_hold_at_once_and_the_rest_go_in_the_order_they_asked():
    queue, entered = FirstComeFirstServed(2), []
    waiters = queue_in_order(queue, "abcdef", entered, holding_at_once=2)
    assert entered == ["a", "b"] and queue.holders == 2
    assert [queue.position(waiter) for waiter in waiters] == [0, 0, 1, 2, 3, 4]
    for index, done in enumerate(waiters):
        done.finish.set()
        assert done.ended()
        if index + 2 < len(waiters):
            assert waiters[index + 2].holding.wait(10)
            assert entered[-1] == waiters[index + 2].name and queue.holders == 2  # one out, the next in line in
    assert entered == list("abcdef") and queue.holders == 0


def test_a_waiter_cancelled_in_line_gets_nothing_and_leaves_the_line():
    """A run stopped while it waits for a slot must neither train nor keep the runs behind it waiting."""
    queue, entered = FirstComeFirstServed(1), []
    holder = queue_in_order(queue, "a", entered, holding_at_once=1)[0]
    stopped = threading.Event()
    cancelled = Waiter(queue, "b", entered, cancelled=stopped.is_set).start()
    wait_until(lambda: queue.position(cancelled) == 1, 10)
    behind = Waiter(queue, "c", entered).start()
    wait_until(lambda: queue.position(behind) == 2, 10)

    stopped.set()
    assert cancelled.ended() and cancelled.acquired is False
    assert queue.position(cancelled) == 0 and queue.position(behind) == 1  # the one behind moved up
    assert queue.holders == 1  # the cancelled waiter took no place

    holder.finish.set()
    assert behind.holding.wait(10) and entered == ["a", "c"]
    behind.finish.set()
    assert holder.ended() and behind.ended() and queue.holders == 0


def test_with_no_places_nobody_holds_and_a_cancelled_waiter_still_returns():
    queue, stopped = FirstComeFirstServed(0), threading.Event()
    waiter = Waiter(queue, "a", [], cancelled=stopped.is_set).start()
    wait_until(lambda: queue.position(waiter) == 1, 10)
    stopped.set()
    assert waiter.ended() and waiter.acquired is False and queue.position(waiter) == 0


def test_a_waiter_is_told_its_place_once_and_only_if_it_waits():
    queue, entered, places = FirstComeFirstServed(1), [], []

    def told(place):
        # Called without the queue's lock: the page may draw, and others may ask their place meanwhile.
        places.append((place, queue.position(second) if place == 2 else None))

    first = Waiter(queue, "a", entered, waiting=places.append).start()
    assert first.holding.wait(10)
    second = Waiter(queue, "b", entered, waiting=places.append).start()
    wait_until(lambda: places == [1], 10)
    third = Waiter(queue, "c", entered, waiting=told).start()
    wait_until(lambda: len(places) == 2, 10)
    assert places == [1, (2, 1)]  # "a" never waited, so was never told
    for waiter in (first, second, third):
        waiter.finish.set()
    assert all(waiter.ended() for waiter in (first, second, third))
    assert entered == ["a", "b", "c"] and len(places) == 2  # told once each, however often they woke


def test_release_says_how_many_still_hold_and_any_thread_may_release():
    """A paused job gives its slot back from one thread and takes one again from another."""
    queue = FirstComeFirstServed(2)
    assert queue.acquire("first") and queue.acquire("second")
    assert queue.holders == 2
    released = []
    other = threading.Thread(target=lambda: released.append(queue.release()))
    other.start()
    other.join(10)
    assert released == [1]
    assert queue.release() == 0 and queue.holders == 0
