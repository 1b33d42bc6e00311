"""Data augmentation: every training batch drawn a little differently, so the model learns the digit and
not the exact pixels.

A digit is still the same digit shifted by a pixel or two, turned a few degrees, a little bigger or
smaller, or written with a thinner or bolder pen. MNIST's digits are all centred and similar in size,
so a model trained on them alone can fail on a digit drawn in a corner or with a thin pen; shown such
variations while it trains, it learns what does not change. The validation and test digits are never
augmented: they measure the model on digits as they are.

Everything happens inside the compiled training step with TensorFlow ops, on the fly (a new variation
every time a digit is seen), and seeded: the same seed, epoch and step give the same variations.
`augment` takes the amounts as tensors, so one compiled step serves every amount (trainers.py).
"""

from __future__ import annotations

import math

from .config import AUGMENTATION_SETTINGS, is_augmented  # noqa: F401  (is_augmented: for the trainers)
from .data import IMAGE_SIZE
from .quiet_tensorflow import tf


def amounts_of(config) -> list[float]:
    """The config's augmentation amounts, in AUGMENTATION_SETTINGS' order."""
    return [float(getattr(config, name)) for name in AUGMENTATION_SETTINGS]


def _affine_transforms(count, shift, rotation_degrees, scale, seed):
    """One random transform per digit, as ImageProjectiveTransformV3 takes them: each maps an output
    pixel (x, y) to the input pixel it is read from. Rotation and scaling are about the image's centre,
    then the whole is shifted; each amount is drawn uniformly from [-amount, +amount]."""
    seeds = [tf.random.experimental.stateless_fold_in(seed, index) for index in range(4)]
    angle = tf.random.stateless_uniform([count], seeds[0], -1.0, 1.0) * rotation_degrees * (math.pi / 180.0)
    zoom = 1.0 + tf.random.stateless_uniform([count], seeds[1], -1.0, 1.0) * scale
    shift_x = tf.random.stateless_uniform([count], seeds[2], -1.0, 1.0) * shift
    shift_y = tf.random.stateless_uniform([count], seeds[3], -1.0, 1.0) * shift
    # The output pixel p is the input pixel centre + R(-angle) (p - centre - shift) / zoom.
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


def _thicker_or_thinner(images, thickness, seed):
    """Each digit's pen made bolder or thinner by up to `thickness` of a 3x3 grey-scale dilation (the
    brightest of each pixel's neighbours) or erosion (the darkest), drawn uniformly from
    [-thickness, +thickness]: a blend, so a stroke thins without vanishing at small amounts."""
    strength = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1, 1], seed, -1.0, 1.0) * thickness
    target = tf.where(strength > 0, _brightest_neighbour(images), -_brightest_neighbour(-images))
    return images + tf.abs(strength) * (target - images)


def augment(images, amounts, seed):
    """A batch of float digits (N, 28, 28) in [0, 1], each varied at random: shifted by up to
    `amounts[0]` pixels, turned by up to `amounts[1]` degrees, scaled by up to `amounts[2]` (0.1:
    from 90% to 110%), its pen thinner or bolder by up to `amounts[3]` (see _thicker_or_thinner).
    `seed` is a stateless seed, shape [2]: the same seed gives the same variations. The labels are
    untouched: a varied digit is still that digit."""
    amounts = tf.convert_to_tensor(amounts, tf.float32)
    shift, rotation, scale, thickness = amounts[0], amounts[1], amounts[2], amounts[3]
    images = tf.convert_to_tensor(images, tf.float32)[..., tf.newaxis]
    transforms = _affine_transforms(tf.shape(images)[0], shift, rotation, scale, seed)
    images = tf.raw_ops.ImageProjectiveTransformV3(images=images, transforms=transforms, output_shape=[IMAGE_SIZE, IMAGE_SIZE],
                                                   fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")
    images = _thicker_or_thinner(images, thickness, tf.random.experimental.stateless_fold_in(seed, 4))
    return tf.clip_by_value(images[..., 0], 0.0, 1.0)
