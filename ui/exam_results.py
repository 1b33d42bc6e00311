"""Exam results kept by the server, so a refresh finds them again.

A refresh starts a new Streamlit session, and session state starts empty: an exam kept there
vanished with it. The server keeps each workspace's recent exams instead, keyed by the run and
how far it had trained, like the loaded models. Only the workspace named in the address sees
them, as it sees its runs.
"""

import threading
from collections import OrderedDict

import streamlit as st

from mnist_core.exam import ExamResult
from mnist_core.stores import SERVER_STORES, ComputedOnce


class ExamResults:
    """The most recently sat exams, the oldest dropped first (a ComputedOnce within its budget), and how
    many times each run sat the exam; safe to use from every session's thread."""

    def __init__(self, max_kept: int | None = None):
        budget = SERVER_STORES["exam results"]
        self._max_kept = max_kept or budget.max_kept
        self._results = ComputedOnce(self._max_kept, budget.max_bytes)
        # How many times each (workspace, run id) sat the exam: a number a run, as many runs as exams kept.
        self._sittings: OrderedDict[tuple, int] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> ExamResult | None:
        return self._results.peek(key)

    def put(self, key: tuple, result: ExamResult) -> None:
        """Keep a sat exam; `key` starts with the workspace and the run id, whose sittings it counts."""
        self._results.put(key, result)
        with self._lock:
            run = key[:2]
            self._sittings[run] = self._sittings.get(run, 0) + 1
            self._sittings.move_to_end(run)
            while len(self._sittings) > self._max_kept:
                self._sittings.popitem(last=False)

    def times_sat(self, workspace: str, run_id: str) -> int:
        """How many times this run has sat the exam since the server started."""
        with self._lock:
            return self._sittings.get((workspace, run_id), 0)


@st.cache_resource
def exam_results() -> ExamResults:
    """The server's one store of exam results."""
    return ExamResults()
