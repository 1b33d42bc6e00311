"""The time machine: a saved run looked at as it stood at the end of any kept epoch.

A run keeps its weights at epoch 0 (the random start) and at every epoch end (runs/checkpoints.py,
"checkpoints"). The Replay page marks each checkpoint's answers on the run's own validation set as
the exam marks the test set (exam.mark_answers); this module chooses, from those, the digits the
replay follows, the same at every epoch, so that they are watched turning right (or staying wrong)
from one epoch to the next. The curves themselves come from the
run's metrics.csv and iterations.csv; the weights' picture from pictures.py.

`replayed_epoch` is everything Replay shows of one epoch that comes from its weights; the page keeps
each in a server store (ui/server_stores.py), per run and epoch. No Streamlit here.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image

from .data import NUM_CLASSES
from .exam import ExamResult, mark_answers
from .models import get_weights
from .pictures import weight_change, weight_picture

PANEL_DIGITS_PER_CLASS = 2  # twenty digits: two rows of ten, readable on a projector
TRAINING_SAMPLE = 2000      # the training digits an overfitting run is watched on: the first of its training set
# Training accuracy this far above validation accuracy at the last epoch: the run has learned some of
# its training digits by heart (the overfitting preset ends far past this).
OVERFITTING_GAP = 0.05


def panel_digits(validation_labels: np.ndarray, first_view: ExamResult, last_view: ExamResult) -> np.ndarray:
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


def overfits(history) -> bool:
    """Whether the run ended knowing its training digits clearly better than digits it never saw."""
    return bool(history) and history[-1].train_acc - history[-1].val_acc > OVERFITTING_GAP


def by_heart_pairs(training_labels: np.ndarray, first_training: ExamResult, last_training: ExamResult,
                   validation_labels: np.ndarray, first_validation: ExamResult, last_validation: ExamResult) -> list[tuple[int, int]]:
    """What overfitting looks like, digit by digit: for each class, a training digit the run learned by
    heart (wrong after the first epoch, right at the last) beside a validation digit of the same
    class that it still reads wrong at the last epoch (wrong all along, where it has one). Pairs of
    (training index, validation index), in class order; a class without both is left out."""
    training_labels, validation_labels = np.asarray(training_labels), np.asarray(validation_labels)
    memorised = (first_training.predictions != training_labels) & (last_training.predictions == training_labels)
    still_wrong = last_validation.predictions != validation_labels
    wrong_all_along = still_wrong & (first_validation.predictions != validation_labels)
    pairs = []
    for digit in range(NUM_CLASSES):
        learned = np.flatnonzero(memorised & (training_labels == digit))
        missed = np.flatnonzero(wrong_all_along & (validation_labels == digit))
        if not len(missed):
            missed = np.flatnonzero(still_wrong & (validation_labels == digit))
        if len(learned) and len(missed):
            pairs.append((int(learned[0]), int(missed[0])))
    return pairs


@dataclasses.dataclass(frozen=True)
class EpochFrame:
    """Everything the replay shows of one epoch that comes from its weights."""

    validation: ExamResult
    training: ExamResult | None  # on the training sample, for a run that overfits
    weights_png: bytes
    change_png: bytes  # the weights' change since the first checkpoint (the random start)

    @property
    def nbytes(self) -> int:
        views = [view for view in (self.validation, self.training) if view is not None]
        return len(self.weights_png) + len(self.change_png) + sum(view.nbytes for view in views)


def replayed_epoch(run, epoch: int, validation_images: np.ndarray, validation_labels: np.ndarray,
                   training_images: np.ndarray, training_labels: np.ndarray) -> EpochFrame:
    """What the model of `run`'s checkpoint `epoch` answers on the run's validation digits (and, if the
    run overfits, on the first TRAINING_SAMPLE of its training digits), and PNGs of its first layer's
    weights and of their change since the random start. Raises DamagedRunError for an unreadable
    checkpoint."""
    model = run.load_checkpoint(epoch)
    weights = get_weights(model)
    start = run.checkpoint_weights(0)  # the random start: its checkpoint, or rebuilt from the seed (runs/reader.py)
    training = (mark_answers(model, training_images[:TRAINING_SAMPLE], training_labels[:TRAINING_SAMPLE])
                if overfits(run.history) else None)
    return EpochFrame(mark_answers(model, validation_images, validation_labels), training,
                      png_of(weight_picture(run.config, weights)), png_of(weight_picture(run.config, weight_change(weights, start))))


def png_of(picture: np.ndarray) -> bytes:
    png = io.BytesIO()
    Image.fromarray(picture).save(png, format="PNG")
    return png.getvalue()


def followed_in(first: EpochFrame, last: EpochFrame, validation_labels: np.ndarray,
                training_labels: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The panel's twenty validation digits (panel_digits), and for a run that overfits its pairs of a
    training digit learned by heart and a validation digit still wrong (by_heart_pairs), from the frames
    of its first and last trained epochs."""
    training_labels = training_labels[:TRAINING_SAMPLE]
    panel = panel_digits(validation_labels, first.validation, last.validation)
    pairs = (by_heart_pairs(training_labels, first.training, last.training, validation_labels, first.validation,
                            last.validation) if last.training is not None and first.training is not None else [])
    return panel, pairs
