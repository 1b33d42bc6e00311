"""The final exam: a trained model against the untouched test set.

The test set is for this moment only. Choosing settings by their test score would tune the model
to these 10,000 digits, and the score would no longer say how it does on digits it has never seen.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .data import NUM_CLASSES
from .i18n import Message
from .models import get_weights, predict_probabilities
from .pictures import first_layer_tiles


@dataclasses.dataclass(frozen=True)
class ExamResult:
    loss: float                # mean cross-entropy on the test set
    accuracy: float
    confusion: np.ndarray      # (10, 10) counts: row = true digit, column = predicted digit
    predictions: np.ndarray    # predicted digit per test image
    confidences: np.ndarray    # the probability the model gave its prediction

    @property
    def nbytes(self) -> int:
        return self.confusion.nbytes + self.predictions.nbytes + self.confidences.nbytes

    @property
    def row_normalised(self) -> np.ndarray:
        """Each row divided by its total: the share of each true digit given each prediction."""
        return self.confusion / np.maximum(self.confusion.sum(axis=1, keepdims=True), 1)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        return np.diag(self.row_normalised)

    def mistakes(self, labels: np.ndarray, true_digit: int | None = None, predicted_digit: int | None = None) -> np.ndarray:
        """Indices of misclassified test images, most confident mistakes first, optionally for one cell."""
        wrong = self.predictions != labels
        if true_digit is not None:
            wrong &= labels == true_digit
        if predicted_digit is not None:
            wrong &= self.predictions == predicted_digit
        indices = np.flatnonzero(wrong)
        return indices[np.argsort(-self.confidences[indices], kind="stable")]


# Test and validation accuracy this close count as agreeing: 6,000 validation digits measure
# accuracy to about +-0.3 points and 10,000 test digits to about +-0.25, so a point apart is noise.
AGREEING_POINTS = 1.0


def validation_verdict(validation_accuracy: float, test_accuracy: float) -> Message:
    """What the exam says of the validation set: an honest guide only when the two scores agree. The
    sentence says which, from the numbers, in every language: no translation may state "close, so
    honest" as a fact when the scores are far apart."""
    difference = round((test_accuracy - validation_accuracy) * 100, 1)  # in points, as the sentence prints it
    if abs(difference) <= AGREEING_POINTS:
        return Message("At its best epoch its validation accuracy was {accuracy:.2%}; the test score is within {points:.1f} "
                       "points of it, so validation was an honest guide.", accuracy=validation_accuracy,
                       points=abs(difference))
    if difference < 0:
        return Message("At its best epoch its validation accuracy was {accuracy:.2%}; the test score is {points:.1f} points "
                       "lower. Validation promised more than the exam gives: settings chosen again and again on the same "
                       "validation digits fit them a little, and a small validation set measures roughly.",
                       accuracy=validation_accuracy, points=-difference)
    return Message("At its best epoch its validation accuracy was {accuracy:.2%}; the test score is {points:.1f} points "
                   "higher. Validation was too modest: a small validation set measures roughly.",
                   accuracy=validation_accuracy, points=difference)


def sit_exam(model, test_images: np.ndarray, test_labels: np.ndarray) -> ExamResult:
    """The final exam: the model's answers on the test set, marked."""
    return mark_answers(model, test_images, test_labels)


def mark_answers(model, images: np.ndarray, labels: np.ndarray) -> ExamResult:
    """The model's answers on any labelled digits, marked: the exam's test set, or a replayed
    epoch's validation set (replay.py)."""
    probabilities = predict_probabilities(model, images)
    predictions = probabilities.argmax(axis=1)
    labels = np.asarray(labels, dtype=np.int64)
    true_class_probability = np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    return ExamResult(loss=float(-np.log(true_class_probability).mean()), accuracy=float((predictions == labels).mean()),
                      confusion=confusion, predictions=predictions,
                      confidences=probabilities[np.arange(len(labels)), predictions])


def linear_weight_images(model) -> np.ndarray | None:
    """The linear model's 10 columns of W as 28x28 images (what each digit 'looks for'); None for other models."""
    if model.name != "linear":
        return None
    return first_layer_tiles("linear", get_weights(model))
