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

# About 160 KB an exam (a prediction and a confidence for each of 10,000 digits): 400 exams are
# under 70 MB, enough for forty students with ten exams each.
MAX_EXAMS_KEPT = 400


class ExamResults:
    """The most recently sat exams, the oldest dropped first; safe to use from every session's thread."""

    def __init__(self, max_kept: int = MAX_EXAMS_KEPT):
        self._results: OrderedDict[tuple, ExamResult] = OrderedDict()
        # How many times each (workspace, run id) sat the exam: a number a run, the newest kept.
        self._sittings: OrderedDict[tuple, int] = OrderedDict()
        self._lock = threading.Lock()
        self._max_kept = max_kept

    def get(self, key: tuple) -> ExamResult | None:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
            return self._results.get(key)

    def put(self, key: tuple, result: ExamResult) -> None:
        """Keep a sat exam; `key` starts with the workspace and the run id, whose sittings it counts."""
        with self._lock:
            self._results[key] = result
            self._results.move_to_end(key)
            run = key[:2]
            self._sittings[run] = self._sittings.get(run, 0) + 1
            self._sittings.move_to_end(run)
            for kept in (self._results, self._sittings):
                while len(kept) > self._max_kept:
                    kept.popitem(last=False)

    def times_sat(self, workspace: str, run_id: str) -> int:
        """How many times this run has sat the exam since the server started."""
        with self._lock:
            return self._sittings.get((workspace, run_id), 0)


@st.cache_resource
def exam_results() -> ExamResults:
    """The server's one store of exam results."""
    return ExamResults()
