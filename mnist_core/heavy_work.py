"""Turns for heavy page work on a shared server.

Replay's frames, Inside's maps, occlusion and t-SNE, Robustness's curves and the downloads each run a
model over thousands of digits: a second or more of a core, and tens of megabytes while they run.
Forty students asking at once would starve the training jobs and each other, and together hold
gigabytes. So that work takes turns: at most `fair_share.heavy_work_at_once()` jobs (2 by default)
run at once on the whole server; the rest wait, first come first served (queueing.py, the queue the
training slots use too), and their page says so.

A turn is per thread and re-entrant: heavy work that asks for other heavy work (a Replay frame
that needs the first epoch's frame) does not wait for itself.

No Streamlit here: a page passes a `waiting` callback that shows the wait (ui/heavy_work.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable, Iterator

from .fair_share import heavy_work_at_once
from .queueing import FirstComeFirstServed

# Freed memory is given back this long after the last heavy job ends, if no other has started.
TIDY_AFTER_SECONDS = 1.0


class HeavyWorkTurns:
    """At most `count` holders at once; the others wait in the order they asked (queueing.py), each
    turn re-entrant per thread, and freed memory given back once the turns fall idle."""

    def __init__(self, count: int):
        self._queue = FirstComeFirstServed(count)
        self._held = threading.local()  # this thread's depth of nested turns
        self._tidy_lock = threading.Lock()
        self._tidy_timer: threading.Timer | None = None

    @contextlib.contextmanager
    def turn(self, waiting: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold a turn for the `with` block. `waiting(place)` is called once (place 1: next), only if
        this thread has to wait."""
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            self._queue.acquire(object(), waiting=waiting)  # a fresh ticket: nobody asks a page its place
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0 and self._queue.release() == 0:
                self._tidy_soon()

    def _tidy_soon(self) -> None:
        """Give freed memory back once heavy work has been idle for TIDY_AFTER_SECONDS: once after a
        burst, not after each of its jobs (a full garbage collection holds every thread for a moment)."""
        with self._tidy_lock:
            if self._tidy_timer is not None:
                self._tidy_timer.cancel()
            self._tidy_timer = threading.Timer(TIDY_AFTER_SECONDS, self._tidy_if_idle)
            self._tidy_timer.daemon = True
            self._tidy_timer.start()

    def _tidy_if_idle(self) -> None:
        if self._queue.holders:
            return  # the job now running tidies when it ends
        give_back_freed_memory()


heavy_work = HeavyWorkTurns(heavy_work_at_once())


def glibc_malloc_trim():
    """glibc's malloc_trim, or None where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


MALLOC_TRIM = glibc_malloc_trim()


def give_back_freed_memory() -> None:
    """Hand freed memory back to the system. A Keras model is a web of references (layers and model
    point at each other), so a model loaded for one Replay frame is freed only by a full garbage
    collection, which a busy server may not run for minutes: 95 MiB a page stayed. And glibc keeps
    freed pages in its arenas, so the server's memory only ever grew; trimmed, most of it returns."""
    gc.collect()
    if MALLOC_TRIM is not None:
        MALLOC_TRIM(0)
