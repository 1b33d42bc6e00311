"""What a run reports, in one vocabulary: its status, and one EpochResult per finished epoch.

Every part of the app speaks of a run's state in these words (the loop, the background job, the
saved run, the pages, the CLI), so a status is never a bare string that one module spells
differently from another. No TensorFlow here: the runs, the pages and the CLI read results without it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import ClassVar

from .config import lower_rate_advice
from .i18n import Message


class RunStatus(enum.StrEnum):
    """Where a run stands, from the queue to its end. A StrEnum, so it is saved in run.json as its plain value."""

    WAITING = "waiting"              # queued for a free training slot
    RUNNING = "running"              # training now
    COMPLETED = "completed"          # trained every epoch it was asked for
    EARLY_STOPPED = "early_stopped"  # validation loss stopped improving, so it ended early
    STOPPED = "stopped"              # someone pressed Stop (or Ctrl-C); finished epochs are kept
    DIVERGED = "diverged"            # the loss became infinite or NaN; the last good weights are kept
    FAILED = "failed"                # refused or broken before it could train (a bad setting, an error)
    INTERRUPTED = "interrupted"      # its process died mid-run: read from disk, never written by a run

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.WAITING, RunStatus.RUNNING)


# Cross-entropy of a model that gives each of the ten digits the same probability: ln 10 = 2.30.
CHANCE_LOSS = math.log(10)


@dataclasses.dataclass(frozen=True)
class EpochResult:
    """What one finished epoch measured. Plain Python numbers, ready for a chart, a CSV or JSON."""

    epoch: int            # 1-based
    train_loss: float     # cross-entropy on the training sample, dropout off, at the end of the epoch
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float        # wall time of this epoch, measurements included
    iterations: int       # optimizer steps since the run began (one step = one batch)

    @property
    def generalisation_gap(self) -> float:
        """Validation loss minus training loss: it widens as the model overfits."""
        return self.val_loss - self.train_loss

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# At most this many points of the iteration curve per epoch: each averages a run of consecutive
# batches, so a batch-1 epoch of 54,000 iterations draws as smoothly (and as cheaply) as a batch-100 one.
POINTS_PER_EPOCH = 200


@dataclasses.dataclass(frozen=True)
class IterationPoint:
    """The training batches of a stretch of iterations, averaged: one point of the iteration curve."""

    iteration: int    # the stretch's last iteration, counted from the run's first (1-based)
    loss: float       # the mean cross-entropy of its batches, each measured just before its own step
    accuracy: float   # the mean accuracy of its batches

    # What one point weighs in memory (a Python object of three numbers), for the stores' budgets.
    nbytes: ClassVar[int] = 100


class IterationLog:
    """Every training step's batch loss and accuracy, averaged into at most POINTS_PER_EPOCH points an
    epoch. A stretch never crosses an epoch's end, so the epoch boundaries fall between points. Steps
    whose loss is not a finite number (a diverging run) are left out of the averages.

    `points` holds the finished stretches (what a run saves); `points_so_far` adds the stretch in
    progress, for a live chart: a run paused after a single step shows that step at once."""

    def __init__(self, steps_per_epoch: int):
        self.steps_per_epoch = steps_per_epoch
        self.stretch = max(1, math.ceil(steps_per_epoch / POINTS_PER_EPOCH))
        self.points: list[IterationPoint] = []
        self.iterations = 0
        self._losses: list[float] = []
        self._accuracies: list[float] = []
        self._stretch_so_far: IterationPoint | None = None  # the unfinished stretch, averaged so far

    def add(self, losses, accuracies, each_its_own_point: bool = False) -> None:
        """The losses and accuracies of the next steps, in order (a chunk's, say). `each_its_own_point`:
        the steps a paused run was stepped through one by one, each a point of its own, so that a
        step always shows (averaged into a stretch of three, a step often added no point at all)."""
        if each_its_own_point and self._losses:  # the stretch before the pause ends where the pause began
            self.points.append(self._average())
            self._losses, self._accuracies = [], []
        for loss, accuracy in zip(losses, accuracies, strict=True):
            self.iterations += 1
            if math.isfinite(loss):
                self._losses.append(float(loss))
                self._accuracies.append(float(accuracy))
            step_in_epoch = (self.iterations - 1) % self.steps_per_epoch + 1
            if each_its_own_point or step_in_epoch % self.stretch == 0 or step_in_epoch == self.steps_per_epoch:
                if self._losses:
                    self.points.append(self._average())
                self._losses, self._accuracies = [], []
        # One assignment, once per chunk: a page reading from another thread sees the old stretch or the new.
        self._stretch_so_far = self._average() if self._losses else None

    @property
    def points_so_far(self) -> list[IterationPoint]:
        """`points`, then the unfinished stretch as a provisional last point (its full point replaces it
        once the stretch is complete). Safe to read while the training thread adds steps."""
        return self.points_from(0)

    def points_from(self, first: int) -> list[IterationPoint]:
        """`points_so_far[first:]` (first <= len(points)), without copying the points before it: a Dask worker's
        news sends only the curve the app does not hold yet, five times a second."""
        # One slice, safe beside the training thread, starting a point early: the last point to compare with.
        tail, unfinished = self.points[max(first - 1, 0):], self._stretch_so_far
        points = tail[1:] if first > 0 else tail
        if unfinished is not None and (not tail or unfinished.iteration > tail[-1].iteration):
            points.append(unfinished)  # (read just as its stretch was completed, it is already among `points`)
        return points

    def _average(self) -> IterationPoint:
        return IterationPoint(self.iterations, sum(self._losses) / len(self._losses),
                              sum(self._accuracies) / len(self._accuracies))


# A training loss that rises by more than this share from one epoch to the next, and by a visible
# amount (not 0.002 to 0.003 in a run that has memorised its digits), is bouncing: a step size that
# suits the problem makes the training loss fall, or at worst level off.
BOUNCE_RISE_SHARE, BOUNCE_RISE_MINIMUM = 0.10, 0.05


def race_standings(histories) -> list[int]:
    """The places of runs' histories, best first: by the validation accuracy of each's last epoch, the
    measure the race's chart shows, ties broken by the lower validation loss."""
    return sorted(range(len(histories)), key=lambda place: (-histories[place][-1].val_acc, histories[place][-1].val_loss))


def best_result(history, best_epoch: int | None) -> EpochResult | None:
    """The epoch with the lowest validation loss (the one early stopping keeps), if it was recorded."""
    if best_epoch is None or not 1 <= best_epoch <= len(history):
        return None
    return history[best_epoch - 1]


def overshooting_advice(config, history: list[EpochResult]) -> Message | None:
    """What to tell a student whose steps overshoot though nothing became NaN: the training loss sits
    above guessing's, or bounces up between epochs. None when the curve looks healthy.

    SGD at rate 10 on the linear model ends near 87% with a loss bouncing 4.2, 1.3, 2.0; momentum at 10
    sits at 8 to 10, four times guessing's 2.30. Both look like training unless someone says so."""
    losses = [result.train_loss for result in history]
    if not losses:
        return None
    remedy = lower_rate_advice(config)
    if losses[-1] > CHANCE_LOSS:
        return Message("The training loss is {loss:.2f}, above the {chance:.2f} of guessing at random: the steps overshoot, "
                       "so the model knows less than its accuracy suggests and its answers are wildly overconfident. {remedy}",
                       loss=losses[-1], chance=CHANCE_LOSS, remedy=remedy)
    for epoch, (before, after) in enumerate(zip(losses, losses[1:]), start=2):
        # A rise the curve has since fallen back below is a small training set's noise, not steps that
        # overshoot: the overfitting preset on Fashion-MNIST goes 0.23, 0.28, ... and ends at 0.005.
        recovered = min(losses[epoch - 1:]) < before
        if after > before * (1 + BOUNCE_RISE_SHARE) and after - before > BOUNCE_RISE_MINIMUM and not recovered:
            return Message("The training loss went up from {before:.2f} to {after:.2f} in epoch {epoch}: the steps overshoot "
                           "the minimum and bounce around it. With a step size that suits the problem it falls, or levels "
                           "off. {remedy}", before=before, after=after, epoch=epoch, remedy=remedy)
    return None


# -- the epochs a run kept, in words: its status column, and what a reader says of an interrupted run ----

def epochs_text(count: int) -> Message:
    return Message("{count} epoch", count=count) if count == 1 else Message("{count} epochs", count=count)


def kept_epochs_text(count: int) -> Message:
    """What a run that ended early keeps, for the end of a sentence: "its 3 epochs and their weights are kept"."""
    if count == 1:
        return Message("its 1 epoch and its weights are kept")
    return Message("its {epochs} and their weights are kept", epochs=epochs_text(count))


def interrupted_message(status: RunStatus, finished_epochs: int) -> Message:
    """What a reader says of a run whose process is gone while its run.json says waiting or running."""
    if status == RunStatus.WAITING:
        return Message("Interrupted while it waited for a training slot (the server was closed or killed), so no epoch "
                       "was trained.")
    kept = kept_epochs_text(finished_epochs) if finished_epochs else Message("nothing had been trained yet")
    return Message("Interrupted during epoch {epoch}: the program training it stopped (the server was closed or killed), "
                   "so {kept}.", epoch=finished_epochs + 1, kept=kept)
