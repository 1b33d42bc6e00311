"""What a shared server keeps in memory, in one list with one budget each, on one LRU type.

ComputedOnce is what a shared server computes once and lends to every session that asks: the
Inside page's maps of all digits and the Robustness page's curves take seconds to compute and never
change for a given run and epoch; forty students looking at the same runs should not each compute
them, and no session should hold them in its own state.

SERVER_STORES names every store the server keeps for all sessions, SESSION_STORES what one session
keeps for itself; each with its budget in entries and bytes. The pages get each server store by its
name (ui/server_stores.py), so no page keeps memory this list does not name, and the total is
written down here: the server stores' byte budgets add up to SERVER_STORES_BYTES.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


def size_in_bytes(value) -> int:
    """What a kept value weighs: its `nbytes` (arrays, and records such as a run's split digits), its
    length for bytes (a download), the sum of its parts for a tuple or list (a curve's points), else 0."""
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, (tuple, list)):
        return sum(size_in_bytes(part) for part in value)
    return getattr(value, "nbytes", 0)


class ComputedOnce:
    """Values computed once per key and kept, the least recently used dropped beyond `max_kept` values
    or `max_bytes` (size_in_bytes: a 4,096-unit model's features are 16 times a 256-unit one's);
    the newest is always kept. Safe to share between sessions' threads: two sessions asking for the
    same key at once wait for one computation instead of doing it twice."""

    def __init__(self, max_kept: int, max_bytes: float = float("inf")):
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._max_kept, self._max_bytes = max_kept, max_bytes

    def _too_full(self) -> bool:
        if len(self._values) <= 1:
            return False
        held = sum(size_in_bytes(value) for value in self._values.values())
        return len(self._values) > self._max_kept or held > self._max_bytes

    def get(self, key: Hashable, compute: Callable[[], object]):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)  # kept nowhere: the next asker computes afresh
                raise
            with self._lock:  # stored and its computing lock let go in one step, so no asker can slip between
                self._values[key] = value
                self._computing.pop(key, None)
                while self._too_full():
                    self._values.popitem(last=False)
            return value

    def peek(self, key: Hashable):
        """The value if it has been computed, else None; computes nothing. A value found counts as used."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
            return self._values.get(key)

    def put(self, key: Hashable, value) -> None:
        """Keep `value` under `key`, in place of what was there (a value made elsewhere: an exam sat)."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while self._too_full():
                self._values.popitem(last=False)

    def items(self) -> list[tuple[Hashable, object]]:
        """Every (key, value) kept now, least recently used first; a copy, and nothing counts as used."""
        with self._lock:
            return list(self._values.items())

    def forget(self, key: Hashable, value) -> None:
        """Drop `key` if it still holds `value`: a value another thread has just put in its place is kept."""
        with self._lock:
            if self._values.get(key) is value:
                del self._values[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def held_bytes(self) -> int:
        with self._lock:
            return sum(size_in_bytes(value) for value in self._values.values())


@dataclasses.dataclass(frozen=True)
class StoreBudget:
    """What one store keeps, and at most how much: `max_kept` values and `max_bytes` (size_in_bytes)."""

    what: str
    max_kept: int
    max_bytes: float = float("inf")

    def new_store(self) -> ComputedOnce:
        return ComputedOnce(self.max_kept, self.max_bytes)


MB = 1e6

# Every store the server keeps for all sessions, by name. The sizes in `what` are typical values'.
SERVER_STORES = {
    "datasets": StoreBudget("the datasets, verified and read-only: MNIST and Fashion-MNIST (55 MB each)", max_kept=2,
                            max_bytes=120 * MB),
    "split digits": StoreBudget("a run's validation digits and its first training digits, per data settings (8.6 MB)",
                                max_kept=2, max_bytes=20 * MB),
    "replay frames": StoreBudget("Replay: one epoch's marked answers and weight pictures (80-250 KB)",
                                 max_kept=120, max_bytes=60 * MB),
    "replay followed digits": StoreBudget("Replay: the twenty digits a run's replay follows (a few hundred bytes)",
                                          max_kept=100, max_bytes=1 * MB),
    "iteration curves": StoreBudget("Replay: a run's saved iteration curve, thinned to 4,000 points (400 KB)",
                                    max_kept=20, max_bytes=10 * MB),
    "downloads": StoreBudget("Replay: a run's GIF or .keras file (up to 26 MB)", max_kept=20, max_bytes=150 * MB),
    "digit maps": StoreBudget("Inside: the map of 2,000 validation digits at one epoch (2 MB)", max_kept=60,
                              max_bytes=100 * MB),
    "neighbour features": StoreBudget("Inside: the training digits' features at one epoch (5 MB)", max_kept=30,
                                      max_bytes=100 * MB),
    "t-SNE maps": StoreBudget("Inside: a map's t-SNE coordinates (16 KB)", max_kept=40, max_bytes=5 * MB),
    "robustness curves": StoreBudget("Robustness: a run's accuracy curves (a few hundred bytes)", max_kept=200,
                                     max_bytes=1 * MB),
    "exam results": StoreBudget("Exam: a sitting's answers on the 10,000 test digits (160 KB)", max_kept=400,
                                max_bytes=70 * MB),
    "workspace sessions": StoreBudget("which browser sessions use which workspace: a session's workspace, connection "
                                      "and two times (about 100 bytes)", max_kept=1000, max_bytes=1 * MB),
}
SERVER_STORES_BYTES = sum(budget.max_bytes for budget in SERVER_STORES.values()
                          if budget.max_bytes != float("inf"))

# What one session keeps for itself (in its session state), by name.
SESSION_STORES = {
    "models": StoreBudget("the loaded models of the runs a page shows (Robustness compares four)", max_kept=4),
    "inside model": StoreBudget("Inside: the model of the epoch looked at", max_kept=1),
}
