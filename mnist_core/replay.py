"""The time machine: a saved run looked at as it stood at the end of any kept epoch.

A run keeps its weights at epoch 0 (the random start) and at every epoch end (runs.py,
"checkpoints"). The Replay page marks each checkpoint's answers on the run's own validation set as
the exam marks the test set (exam.mark_answers); this module chooses, from those, the digits the
replay follows, the same at every epoch, so that they are watched turning right (or staying wrong)
from one epoch to the next. The curves themselves come from the
run's metrics.csv and iterations.csv; the weights' picture from pictures.py.

No Streamlit here: the page caches the marked answers, per run and epoch.
"""

from __future__ import annotations

import numpy as np

from .data import NUM_CLASSES
from .exam import ExamResult

PANEL_DIGITS_PER_CLASS = 2  # twenty digits: two rows of ten, readable on a projector
TRAINING_SAMPLE = 2000      # the training digits an overfitting run is watched on: the first of its training set
# Training accuracy this far above validation accuracy at the last epoch: the run has learned some of
# its training digits by heart (the overfitting preset ends near 100% against 87%).
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
