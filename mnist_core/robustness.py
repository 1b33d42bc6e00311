"""Break the reader: how a model's answer holds up when its digit is changed a little, by hand or by
an adversary.

- `varied_digit`: one digit moved, turned, scaled, its pen changed and noise added, by the amounts a
  student sets (augmentation.py's transform, with chosen values instead of random ones).
- `fgsm`: the fast gradient sign method (Goodfellow et al., 2015). Every pixel is pushed by epsilon in
  the direction that raises the model's loss most, found with `tf.GradientTape`: a change a person
  barely sees can turn the answer.
- `robustness_curves`: accuracy on validation digits against the size of each change (shift in
  pixels, rotation in degrees, FGSM's epsilon), the same changes for every model, so their curves
  compare.

No Streamlit here: the Robustness page renders these and caches each run's curves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .augmentation import transform_digits
from .models import evaluation_batch_size, images_to_input, predict_probabilities
from .quiet_tensorflow import keras, tf

CURVE_DIGITS = 1000  # validation digits each point of a robustness curve is measured on
CURVE_SEED = 0       # which way each digit is moved or turned: the same for every run, so curves compare
# The sizes of each change a curve is measured at: from nothing to far past what augmentation trains on.
CURVE_SIZES = {"shift": (0, 1, 2, 3, 4, 5, 6), "rotation": (0, 10, 20, 30, 40, 50, 60),
               "fgsm": (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25)}


def varied_digit(image: np.ndarray, shift_x: float = 0.0, shift_y: float = 0.0, rotation: float = 0.0, zoom: float = 1.0,
                 thickness: float = 0.0, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """One 28x28 digit (floats in [0, 1]) moved by (shift_x, shift_y) pixels, turned by `rotation` degrees
    anticlockwise, scaled by `zoom`, its pen bolder (thickness > 0) or thinner (< 0), and Gaussian noise
    of standard deviation `noise` added (seeded), clipped to [0, 1]."""
    varied = transform_digits(np.asarray(image, np.float32)[np.newaxis], shift_x, shift_y, rotation, zoom, thickness)[0].numpy()
    if noise:
        varied = varied + np.random.default_rng(seed).normal(0.0, noise, varied.shape).astype(np.float32)
    return np.clip(varied, 0.0, 1.0)


def fgsm(model: keras.Model, images: np.ndarray, labels, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """The fast gradient sign method on a batch of float digits (N, 28, 28) in [0, 1] with their `labels`
    (the true digit, or the model's own answer where the truth is unknown): (the adversarial digits,
    the perturbation actually added, after clipping to [0, 1]). Each pixel moves by epsilon, up where
    that raises the loss, down where lowering it does."""
    images = tf.convert_to_tensor(np.asarray(images, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = model(images, training=False)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.asarray(labels, np.int64), logits=logits))
    adversarial = tf.clip_by_value(images + epsilon * tf.sign(tape.gradient(loss, images)), 0.0, 1.0).numpy()
    return adversarial, adversarial - images.numpy()


def changed_digits(kind: str, size: float, images: np.ndarray, labels: np.ndarray, model: keras.Model) -> np.ndarray:
    """`images` (floats) changed by `size` of `kind`: shifted `size` pixels or turned `size` degrees, each
    digit its own way (seeded: the same for every model), or attacked by FGSM with epsilon `size`."""
    if kind == "fgsm":
        if not size:
            return images
        # In batches: the gradient holds every layer's output a second time, so half the measuring batch.
        batch = max(1, evaluation_batch_size(model) // 2)
        return np.concatenate([fgsm(model, images[start:start + batch], labels[start:start + batch], size)[0]
                               for start in range(0, len(images), batch)])
    rng = np.random.default_rng(CURVE_SEED)
    if kind == "shift":  # `size` pixels in a direction drawn per digit
        direction = rng.uniform(0, 2 * np.pi, len(images))
        return transform_digits(images, size * np.cos(direction), size * np.sin(direction), 0.0, 1.0, 0.0).numpy()
    if kind == "rotation":  # `size` degrees, one way or the other
        return transform_digits(images, 0.0, 0.0, size * rng.choice([-1.0, 1.0], len(images)), 1.0, 0.0).numpy()
    raise ValueError(f"no such change: {kind!r}")


@dataclasses.dataclass(frozen=True)
class RobustnessCurves:
    """Accuracy against the size of each change, for one model: {kind: [(size, accuracy), ...]}."""

    points: dict[str, list[tuple[float, float]]]

    @property
    def nbytes(self) -> int:
        return 64 * sum(len(points) for points in self.points.values())


def robustness_curves(model: keras.Model, images: np.ndarray, labels: np.ndarray,
                      progress: Callable[[float], None] | None = None) -> RobustnessCurves:
    """The model's accuracy on `images` (uint8 or float, usually CURVE_DIGITS validation digits) at every
    size of every change in CURVE_SIZES. `progress` is called with the share done after each point."""
    images = images_to_input(images).numpy()
    labels = np.asarray(labels, np.int64)
    total, done, points = sum(len(sizes) for sizes in CURVE_SIZES.values()), 0, {}
    for kind, sizes in CURVE_SIZES.items():
        points[kind] = []
        for size in sizes:
            changed = changed_digits(kind, size, images, labels, model)
            answers = np.argmax(predict_probabilities(model, changed), axis=1)
            points[kind].append((float(size), float((answers == labels).mean())))
            done += 1
            if progress is not None:
                progress(done / total)
    return RobustnessCurves(points)


def curve_key(run) -> tuple:
    """Which run, as it stands, a run's robustness curves are of (its final weights change as it trains on)."""
    return (str(run.folder), *run.stamp)
