"""Pausing a run between two chunks of steps, stepping it one batch or one epoch, and resuming it.

Plain threading, no TensorFlow: a job (jobs.py) makes its run's PauseControl before TensorFlow is
needed, and the training loop (training.py) asks it how far it may go between chunks.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

PAUSE_CHECK_SECONDS = 0.2  # how often a paused run looks at Stop and at its pause limit
# Batch steps asked for and not yet taken, at most: a few quick clicks are each a step, but a burst of
# clicks must not queue batches that go on training long after the student has stopped clicking.
MOST_BATCH_STEPS_ASKED = 10


class PauseControl:
    """Pause, resume and step a run from another thread. A page's buttons call `pause`, `resume`,
    `step_batch` and `step_epoch`; between chunks the loop asks `allowance` how many steps it may run,
    and while the answer is none it waits in `rest`. A run given no PauseControl gets one that nobody
    pauses.

    A resting run makes way for others: `give_way` is called as it comes to rest and `take_turn` before
    it trains again (a background job gives up its training slot, then queues for one again: jobs.py).
    Left at rest for `limit_seconds` in all, its rests added up, it ends (`rested_too_long`); None: no
    limit. A step does not start the count again, or one click just before each limit would keep a
    run paused for ever.
    """

    def __init__(self, limit_seconds: float | None = None, give_way: Callable[[], None] | None = None,
                 take_turn: Callable[[], None] | None = None):
        self.limit_seconds = limit_seconds
        self._give_way = give_way or (lambda: None)
        self._take_turn = take_turn or (lambda: None)
        self._condition = threading.Condition()
        self._paused = False
        self._batches_asked = 0                   # single steps asked for and not yet begun
        self._epoch_asked = False                 # an epoch step asked for and not yet begun
        self._epoch_stepped: int | None = None    # the epoch an epoch step is training through
        self._resting_since: float | None = None  # when the loop came to rest (time.monotonic), while it rests
        self._rested_before = 0.0                 # seconds of the run's earlier rests, all added up
        self.rested_too_long = False
        self.ever_paused = False  # whether the run was paused at all: its epochs' seconds then include rests

    # -- the buttons: any thread -----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """From `pause()` to `resume()`, steps included: a step is something a paused run does."""
        return self._paused

    def pause(self) -> None:
        """Stop at the end of the current chunk (a quarter of a second at most) and rest."""
        with self._condition:
            self._paused = self.ever_paused = True

    def resume(self) -> None:
        """Train on freely; steps asked for and not taken are forgotten."""
        with self._condition:
            self._paused, self._batches_asked, self._epoch_asked, self._epoch_stepped = False, 0, False, None
            self._condition.notify_all()

    def step_batch(self) -> bool:
        """While paused: train one more batch, then rest again. Asked twice, two batches; False, and
        nothing asked, while MOST_BATCH_STEPS_ASKED are still to take."""
        with self._condition:
            if not self._paused or self._batches_asked >= MOST_BATCH_STEPS_ASKED:
                return False
            self._batches_asked += 1
            self._condition.notify_all()
            return True

    def step_epoch(self) -> None:
        """While paused: train to the end of the current epoch, measure and save it, then rest again."""
        with self._condition:
            if self._paused:
                self._epoch_asked = True
                self._condition.notify_all()

    @property
    def batch_steps_waiting(self) -> int:
        """Batch steps asked for and not yet begun."""
        return self._batches_asked

    @property
    def seconds_rested(self) -> float:
        """The run's rests so far, added up, the one in progress included."""
        resting_since = self._resting_since
        return self._rested_before + (time.monotonic() - resting_since if resting_since is not None else 0.0)

    def seconds_left(self) -> float | None:
        """While the run rests: how long until the pause limit ends it. None while it trains (a step
        included), or without a limit."""
        resting_since = self._resting_since
        if resting_since is None or self.limit_seconds is None:
            return None
        return max(0.0, self.limit_seconds - self._rested_before - (time.monotonic() - resting_since))

    # -- the loop: the training thread -----------------------------------------------------------

    def allowance(self, epoch: int, steps_left: int) -> int | None:
        """How many of the epoch's `steps_left` steps the loop may run before it asks again: all of them
        unless paused; while paused, what a step asked for; None while paused with no step asked for."""
        with self._condition:
            if not self._paused:
                return steps_left
            if self._epoch_asked:
                self._epoch_asked, self._epoch_stepped = False, epoch
            if self._epoch_stepped == epoch:
                return steps_left
            self._epoch_stepped = None  # that epoch is finished, measured and saved: rest
            if self._batches_asked:
                self._batches_asked -= 1
                return 1
            return None

    def rest(self, stop_requested: Callable[[], bool]) -> bool:
        """Wait, paused, until a button lets the run go on: True, once `take_turn` has returned (Stop
        pressed while it queues is for the loop's own check to see). False if Stop or the pause limit
        ends the rest (then `rested_too_long` says which)."""
        self._give_way()
        with self._condition:
            self._resting_since = time.monotonic()
            try:
                while self._paused and not self._epoch_asked and not self._batches_asked:
                    if stop_requested():
                        return False
                    rested = self._rested_before + time.monotonic() - self._resting_since
                    if self.limit_seconds is not None and rested > self.limit_seconds:
                        self.rested_too_long = True
                        return False
                    self._condition.wait(timeout=PAUSE_CHECK_SECONDS)
            finally:
                self._rested_before += time.monotonic() - self._resting_since
                self._resting_since = None
        self._take_turn()
        return True
