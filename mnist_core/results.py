"""What a run reports, in one vocabulary: its status, and one EpochResult per finished epoch.

Every part of the app speaks of a run's state in these words (the loop, the background job, the
saved run, the pages, the CLI), so a status is never a bare string that one module spells
differently from another. No TensorFlow here: the runs, the pages and the CLI read results without it.
"""

from __future__ import annotations

import dataclasses
import enum
import math


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
# A loss ten times that (23) means the model is confidently wrong about most digits: it has been
# thrown far off by steps that are too big, though the numbers have not (yet) overflowed to NaN.
EXPLODED_LOSS_FACTOR = 10


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
    def loss_exploded(self) -> bool:
        """Training loss far above that of random guessing: the steps are overshooting, even if no NaN appeared."""
        return self.train_loss > EXPLODED_LOSS_FACTOR * CHANCE_LOSS

    @property
    def generalisation_gap(self) -> float:
        """Validation loss minus training loss: it widens as the model overfits."""
        return self.val_loss - self.train_loss

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
