"""One first-come, first-served queue for everything the server lets only a few do at once.

Training runs wait for a training slot (jobs.py) and heavy page work waits for a turn (heavy_work.py):
both are "at most N at once, the rest in the order they asked, each told its place". That mechanism
lives here once, so a fix to the queue (fairness, a waiter that gives up) reaches both.

Plain threading: no TensorFlow, no Streamlit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

# A waiter's `cancelled` is a plain callable that cannot wake the queue, so a waiter looks at it this
# often: a run stopped while it waits leaves the queue within this time.
CANCEL_CHECK_SECONDS = 0.2


class FirstComeFirstServed:
    """At most `count` holders at once; the others wait in the order they asked.

    Each waiter brings a ticket (any object, e.g. the job that waits) by which others ask its place.
    `acquire` waits for a place at the front and a free one; `release` gives one back. Holding is not
    tied to a thread: one thread may acquire and another release (a job paused and resumed)."""

    def __init__(self, count: int):
        self.count = count
        self._condition = threading.Condition()
        self._holders = 0
        self._waiting: list[object] = []  # tickets, first come first

    def resize(self, count: int) -> None:
        """Hold `count` places from now on (a cluster whose workers came or went: dask_executor.py).
        Holders past a smaller count keep their places until they give them back."""
        with self._condition:
            self.count = count
            self._condition.notify_all()

    @property
    def holders(self) -> int:
        """How many hold a place now."""
        with self._condition:
            return self._holders

    def position(self, ticket) -> int:
        """1 for the next to go, 2 for the one after...; 0 if `ticket` is not waiting."""
        with self._condition:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0

    def acquire(self, ticket, cancelled: Callable[[], bool] | None = None,
                waiting: Callable[[int], None] | None = None) -> bool:
        """Wait for a place, then hold it; True. False, holding nothing, if `cancelled()` becomes true
        while waiting. `waiting(place)` is called once (place 1: next), only if this ticket has to wait."""
        with self._condition:
            self._waiting.append(ticket)
            told = False
            try:
                while self._holders >= self.count or self._waiting[0] is not ticket:
                    if cancelled is not None and cancelled():
                        return False
                    if not told and waiting is not None:
                        told = True
                        place = self._waiting.index(ticket) + 1
                        self._condition.release()  # a page draws its notice without holding up the others
                        try:
                            waiting(place)
                        finally:
                            self._condition.acquire()
                        continue  # the queue may have moved meanwhile
                    self._condition.wait(timeout=CANCEL_CHECK_SECONDS if cancelled is not None else None)
                self._holders += 1
                return True
            finally:
                self._waiting.remove(ticket)
                self._condition.notify_all()  # the next in line may be at the front now

    def release(self) -> int:
        """Give a place back to the queue. Returns how many still hold one (0: the queue is idle)."""
        with self._condition:
            self._holders -= 1
            self._condition.notify_all()
            return self._holders
