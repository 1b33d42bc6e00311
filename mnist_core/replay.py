"""The time machine: a saved run looked at as it stood at the end of any kept epoch.

A run keeps its weights at epoch 0 (the random start) and at every epoch end (runs.py,
"checkpoints"). From one checkpoint this module works out what the Replay page shows at that epoch:
the model's answers on the run's own validation set (its accuracy and confusion matrix there) and
on a fixed panel of validation digits, chosen once per run so that the same digits are watched
turning right (or staying wrong) from one epoch to the next. The curves themselves come from the
run's metrics.csv and iterations.csv; the weights' picture from pictures.py.

No Streamlit here: the page caches what this computes, per run and epoch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .data import NUM_CLASSES
from .models import predict_probabilities

PANEL_DIGITS_PER_CLASS = 2  # twenty digits: two rows of ten, readable on a projector


@dataclasses.dataclass(frozen=True)
class EpochView:
    """A model's answers on the validation set at one epoch."""

    epoch: int
    predictions: np.ndarray      # the predicted digit of every validation digit (uint8)
    confidences: np.ndarray      # the probability it gave that prediction (float32)
    confusion: np.ndarray        # (10, 10) counts: row = true digit, column = predicted digit

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(self.confusion.sum(), 1))


def epoch_view(epoch: int, model, validation_images: np.ndarray, validation_labels: np.ndarray) -> EpochView:
    """Run `model` (the checkpoint of `epoch`) over the validation set. About 6,000 digits: a few
    milliseconds for the linear model, under a second for the CNN on two cores."""
    probabilities = predict_probabilities(model, validation_images)
    predictions = probabilities.argmax(axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(confusion, (np.asarray(validation_labels, dtype=np.int64), predictions), 1)
    return EpochView(epoch=epoch, predictions=predictions.astype(np.uint8),
                     confidences=probabilities[np.arange(len(predictions)), predictions].astype(np.float32),
                     confusion=confusion)


def panel_digits(validation_labels: np.ndarray, first_view: EpochView, last_view: EpochView) -> np.ndarray:
    """The validation digits the replay follows through the epochs, two of each class in class order:
    - one the run learned late: read wrong after the first epoch and right at the last (the one the
      first epoch was surest of wrongly), so a student sees a mistake turn right; where the run
      learned none late, the one the last epoch found hardest, a mistake that stays;
    - a typical one: the first of its class.
    """
    labels = np.asarray(validation_labels)
    learned_late = (first_view.predictions != labels) & (last_view.predictions == labels)
    # How hard each digit is at the end: wrong answers first (the surer, the harder), then right
    # answers the less sure, the harder.
    hardness = np.where(last_view.predictions != labels, 1.0 + last_view.confidences, 1.0 - last_view.confidences)
    chosen = []
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(labels == digit)
        if len(members) == 0:
            continue
        late = members[learned_late[members]]
        story = late[np.argmax(first_view.confidences[late])] if len(late) else members[np.argmax(hardness[members])]
        typical = members[0] if members[0] != story else members[min(1, len(members) - 1)]
        chosen.extend(dict.fromkeys([int(story), int(typical)][:PANEL_DIGITS_PER_CLASS]))
    return np.array(chosen, dtype=np.int64)


def nearest_kept_epoch(kept_epochs: list[int], epoch: int) -> int | None:
    """The checkpoint to show for `epoch`: its own, or the nearest earlier one kept (runs thin their
    checkpoints beyond a budget); None if none is kept at or before it."""
    earlier = [kept for kept in kept_epochs if kept <= epoch]
    return earlier[-1] if earlier else None
