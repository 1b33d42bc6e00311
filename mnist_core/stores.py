"""ComputedOnce: what a shared server computes once and lends to every session that asks.

The Inside page's maps of all digits and the Robustness page's curves take seconds to compute and
never change for a given run and epoch; forty students looking at the same runs should not each
compute them, and no session should hold them in its own state. A page keeps one store per kind of
value (in st.cache_resource) and asks it for each key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


def size_in_bytes(value) -> int:
    """What a kept value weighs: its `nbytes` (arrays, and the pages' own records), its length for
    bytes (a download), else 0."""
    if isinstance(value, (bytes, bytearray)):
        return len(value)
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
        """The value if it has been computed, else None; computes nothing."""
        with self._lock:
            return self._values.get(key)
