"""Data augmentation: every training batch drawn a little differently, so the model learns the digit and
not the exact pixels.

A digit is still the same digit shifted by a pixel or two, turned a few degrees, a little bigger or
smaller, or written with a thinner or bolder pen. MNIST's digits are all centred and similar in size,
so a model trained on them alone can fail on a digit drawn in a corner or with a thin pen; shown such
variations while it trains, it learns what does not change. The validation and test digits are never
augmented: they measure the model on digits as they are.

Everything happens inside the compiled training step with TensorFlow ops, on the fly (a new variation
every time a digit is seen), and seeded: each epoch draws its numbers from the run's seed and the epoch,
one column per place in the epoch's shuffled order, so a run repeats exactly however its steps are
grouped into compiled calls. `vary` takes the amounts as tensors, so one compiled step serves every
amount (trainers.py).
"""

from __future__ import annotations

import math

from .config import AUGMENTATION_SETTINGS
from .data import IMAGE_SIZE
from .quiet_tensorflow import tf


def amounts_of(config) -> list[float]:
    """The config's augmentation amounts, in AUGMENTATION_SETTINGS' order."""
    return [float(getattr(config, name)) for name in AUGMENTATION_SETTINGS]


def _affine_transforms(shift_x, shift_y, angle, zoom):
    """One transform per digit (each argument a vector, one value per digit), as ImageProjectiveTransformV3
    takes them: each maps an output pixel to the input pixel it is read from. The digit is turned by
    `angle` (radians, anticlockwise on screen) and scaled by `zoom` about the image's centre, then moved
    by (shift_x, shift_y) pixels (right and down)."""
    # The output pixel p is read from the input pixel centre + R(-angle) (p - centre - shift) / zoom.
    centre = (IMAGE_SIZE - 1) / 2.0
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    offset_x = centre - cos * (centre + shift_x) - sin * (centre + shift_y)
    offset_y = centre + sin * (centre + shift_x) - cos * (centre + shift_y)
    zeros = tf.zeros_like(cos)
    return tf.stack([cos, sin, offset_x, -sin, cos, offset_y, zeros, zeros], axis=1)


def _brightest_neighbour(images):
    """Each pixel replaced by the brightest of its 3x3 neighbourhood: a grey-scale dilation. Written as
    the maximum of shifted copies (two passes of three), which costs a fraction of max_pool2d on a
    one-channel image."""
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    rows = tf.maximum(tf.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
    return tf.maximum(tf.maximum(rows[:, :, :-2], rows[:, :, 1:-1]), rows[:, :, 2:])


def _thicker_or_thinner(images, thickness):
    """Each digit's pen made bolder (thickness > 0) or thinner (< 0), by that share of a 3x3 grey-scale
    dilation (the brightest of each pixel's neighbours) or erosion (the darkest), one value per digit:
    a blend, so a stroke thins without vanishing at small amounts. An erosion is a dilation of the
    negative image, negated, so one dilation of each digit times its direction (+1 or -1) serves both:
    half the work of computing both and choosing."""
    strength = tf.reshape(thickness, [-1, 1, 1, 1])
    direction = tf.where(strength < 0, -1.0, 1.0)
    target = direction * _brightest_neighbour(direction * images)
    return images + tf.abs(strength) * (target - images)


def transform_digits(images, shift_x, shift_y, rotation_degrees, zoom, thickness):
    """A batch of float digits (N, 28, 28) in [0, 1], each moved, turned, scaled and its pen changed by its
    own values (vectors of N, or one number for all): the robustness lab's sliders and augmentation's
    random draws both come here."""
    images = tf.convert_to_tensor(images, tf.float32)[..., tf.newaxis]
    count = tf.shape(images)[0]

    def per_digit(value):
        return tf.broadcast_to(tf.cast(value, tf.float32), [count])

    transforms = _affine_transforms(per_digit(shift_x), per_digit(shift_y), per_digit(rotation_degrees) * (math.pi / 180.0),
                                    per_digit(zoom))
    images = tf.raw_ops.ImageProjectiveTransformV3(images=images, transforms=transforms, output_shape=[IMAGE_SIZE, IMAGE_SIZE],
                                                   fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")
    images = _thicker_or_thinner(images, per_digit(thickness))
    return tf.clip_by_value(images[..., 0], 0.0, 1.0)


# How many random numbers each digit's variation takes: shift right, shift down, rotation, size, pen,
# mirror. (The mirror's row came last, so the first five rows are the numbers they were before it.)
DRAWS_PER_DIGIT = 6


def variation_draws(count, seed):
    """The random numbers of `count` digits' variations, each uniform in [-1, 1], shape
    (DRAWS_PER_DIGIT, count). `seed` is a stateless seed, shape [2]: the same seed gives the same numbers."""
    return tf.random.stateless_uniform([DRAWS_PER_DIGIT, count], seed, -1.0, 1.0)


def vary(images, amounts, draws):
    """A batch of float digits (N, 28, 28) in [0, 1], each varied by its column of `draws` (see
    variation_draws) times the amounts: shifted by up to `amounts[0]` pixels, turned by up to
    `amounts[1]` degrees, scaled by up to `amounts[2]` (0.1: from 90% to 110%), its pen thinner or
    bolder by up to `amounts[3]` (see _thicker_or_thinner), and mirrored left to right with the chance
    `amounts[4]`. The labels are untouched: a varied picture is still of its class."""
    amounts = tf.convert_to_tensor(amounts, tf.float32)
    shift_x, shift_y, rotation, size, pen, mirror = tf.unstack(draws, DRAWS_PER_DIGIT)
    varied = transform_digits(images, shift_x * amounts[0], shift_y * amounts[0], rotation * amounts[1],
                              1.0 + size * amounts[2], pen * amounts[3])
    # A draw uniform in [-1, 1] is below 2p - 1 with the chance p.
    mirrored = mirror < 2.0 * amounts[4] - 1.0
    return tf.where(mirrored[:, tf.newaxis, tf.newaxis], tf.reverse(varied, axis=[2]), varied)
