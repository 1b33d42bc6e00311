"""From a digit drawn on a canvas to the 28x28 input a model expects, every step kept for display.

MNIST's digits were not just shrunk: each was cropped to its ink, scaled so its longer side is 20
pixels (keeping its proportions), placed in a 28x28 frame and shifted so its centre of mass sits in
the middle. A model trained on MNIST has only ever seen digits prepared that way, so a drawn digit
must be prepared the same way. `preprocess_canvas(..., method="naive")` shrinks the whole canvas
instead, so students can see why that fails for a small or off-centre digit.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PIL import Image

from .data import IMAGE_SIZE
from .i18n import N_

DIGIT_BOX = 20             # MNIST's digits fit a 20x20 box inside the 28x28 frame
INK_THRESHOLD = 0.1        # a pixel at least this bright counts as ink
MINIMUM_INK_PIXELS = 4     # fewer inked pixels than this is a blank canvas (a stray click)
# An MNIST digit inks about a fifth of its frame, and a big, bold drawn digit about a third of the
# canvas. Ink over more than half of it is a filled block or a scribble: no digit to read.
MAXIMUM_INK_FRACTION = 0.5
# The pen is 22 px on a 280 px canvas, so a click leaves a dot about 22 px across. A digit, even a
# small "1", is at least twice the pen's width tall: ink whose longer side is under 15% of the canvas
# (42 px) is a dot or a speck, which the scaling would blow up into a blob the model reads as 8 or 0.
MINIMUM_DIGIT_FRACTION = 0.15
TOO_SMALL = N_("That is a dot, not a digit: the ink is smaller than any digit could be. "
                "Draw one digit, at least a fifth of the square tall.")
# Every one of MNIST's 60,000 training digits is at least 0.4 times as tall as it is wide (ink of at
# least a tenth of full brightness; four are under 0.5). Ink flatter than this is a dash, which the
# scaling would stretch into a bar the model reads, confidently, as some digit.
FLATTEST_DIGIT = 0.35
TOO_FLAT = N_("That is a dash, not a digit: every digit is at least about half as tall as it is wide. "
              "Draw one whole digit.")
TOO_MUCH_INK = N_("More than half of the canvas is ink: that is a filled block, not a digit. "
                  "Clear the canvas and draw one digit with the pen.")
METHODS = ("mnist", "naive")
# MNIST's strokes are about 2.8 pixels wide in the 28x28 frame (the median over the first 5,000
# training digits, measured with `stroke_width`; the middle 80% lie between 2.2 and 3.9). The pen is
# 22 canvas pixels, which scaling a full-height digit brings to about 2.2; a digit drawn a fifth of
# the canvas tall would come out about 7 pixels thick, a blob no MNIST digit looks like. Its strokes are thinned
# until scaled they are at most MNIST's median width and half a pixel: a digit of full height is
# never thinned.
WIDEST_STROKE = 3.3
THINNEST_CANVAS_STROKE = 3  # thinning stops before a stroke on the canvas is narrower than this
# A pass of thinning takes a pixel off each end of the ink, so the ink's box shrinks by about two
# pixels each way. A box shrinking by more than this in one pass lost a whole stroke at the digit's
# edge (a bold closed 4's triangle fills with ink, which keeps the mean width high while its thinner
# stem and bar vanish): see thinned_to_mnist_strokes.
MOST_BOX_SHRINK_A_PASS = 4


@dataclasses.dataclass(frozen=True)
class PreprocessingSteps:
    """Each intermediate image, float32 in [0, 1] (ink bright on black), for a page to show."""

    grey: np.ndarray                  # the canvas as one grey channel
    cropped: np.ndarray | None = None  # the ink's bounding box
    scaled: np.ndarray | None = None   # longer side 20 px, proportions kept
    framed: np.ndarray | None = None   # centred by its box in 28x28
    centred: np.ndarray | None = None  # shifted so the centre of mass is in the middle: the model's input
    problem: str | None = None         # why there is no input, when the canvas holds more than a blank but no digit
    thinned_by: int = 0                # canvas pixels taken off each side of every stroke before cropping


def canvas_to_grey(image: np.ndarray) -> np.ndarray:
    """An RGBA, RGB or grey uint8 canvas -> float32 grey in [0, 1], ink bright.

    The canvas draws white ink on black. Where the image has an alpha channel, unpainted (transparent)
    pixels count as black whatever their colour.
    """
    array = np.asarray(image)
    if array.ndim == 2:
        grey = array.astype(np.float32)
    elif array.ndim == 3 and array.shape[2] in (3, 4):
        grey = array[..., :3].astype(np.float32).mean(axis=2)
        if array.shape[2] == 4:
            grey *= array[..., 3].astype(np.float32) / 255.0
    else:
        raise ValueError(f"Expected a canvas image of shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}.")
    return grey / 255.0 if array.dtype == np.uint8 else np.clip(grey, 0.0, 1.0)


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a float image with an antialiasing filter, as MNIST's own downscaling did."""
    return np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize((width, height), Image.Resampling.LANCZOS)).clip(0, 1)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(image.shape)
    total = image.sum()
    return float((rows * image).sum() / total), float((columns * image).sum() / total)


def shift(image: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Move the image by whole pixels, filling with black (no wrap-around)."""
    shifted = np.zeros_like(image)
    height, width = image.shape
    source_rows = slice(max(0, -rows), min(height, height - rows))
    target_rows = slice(max(0, rows), min(height, height + rows))
    source_columns = slice(max(0, -columns), min(width, width - columns))
    target_columns = slice(max(0, columns), min(width, width + columns))
    shifted[target_rows, target_columns] = image[source_rows, source_columns]
    return shifted


def stroke_width(image: np.ndarray, threshold: float = 0.5) -> float:
    """The mean width of the strokes, in pixels: a stroke of length L and width w covers L*w pixels
    and has about 2L pixels on its edge, so w is about twice the ink's area over its edge pixels."""
    ink = np.pad(image >= threshold, 1)
    interior = ink[1:-1, 1:-1] & ink[:-2, 1:-1] & ink[2:, 1:-1] & ink[1:-1, :-2] & ink[1:-1, 2:]
    edge = ink[1:-1, 1:-1] & ~interior
    return 2.0 * float(ink.sum()) / max(int(edge.sum()), 1)


def thinned(image: np.ndarray) -> np.ndarray:
    """A pixel off each side of every stroke: a grey erosion keeping each pixel's darkest neighbour in a
    plus shape, so the antialiased edges stay soft."""
    padded = np.pad(image, 1)
    return np.minimum.reduce([padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]])


def cropped_and_scaled(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the ink's bounding box, that box scaled so its longer side is 20 px, proportions kept)."""
    rows, columns = ink_rows_and_columns(grey >= INK_THRESHOLD)
    cropped = grey[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    height, width = cropped.shape
    factor = DIGIT_BOX / max(height, width)
    return cropped, resize(cropped, max(1, round(width * factor)), max(1, round(height * factor)))


def thinned_to_mnist_strokes(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(cropped, scaled, pixels thinned off each side): the strokes thinned a pixel at a time until,
    scaled to 20 px, they are no wider than MNIST's (a small digit's pen width grows with it).

    A digit whose loop filled with ink (a bold closed 4's triangle) never gets there: the filled part
    keeps the mean width high while its thinner strokes wear away. When a pass would wipe out a stroke,
    that stroke is a pixel or two wide, so the thinning goes back until it is as wide as MNIST's
    strokes at this digit's scale."""
    passes = [grey]  # the canvas after 0, 1, 2, ... passes
    cropped, scaled = cropped_and_scaled(grey)
    while stroke_width(scaled) > WIDEST_STROKE:
        thinner = thinned(passes[-1])
        if not (thinner >= INK_THRESHOLD).any() or stroke_width(thinner) < THINNEST_CANVAS_STROKE:
            break
        box = ink_box_size(passes[-1])
        if (box - ink_box_size(thinner) > MOST_BOX_SHRINK_A_PASS).any():
            # Each pass back widens the thinnest stroke by two pixels; scaled by DIGIT_BOX / box, it should come to WIDEST_STROKE.
            passes_back = math.ceil(WIDEST_STROKE * box.max() / DIGIT_BOX / 2)
            del passes[max(1, len(passes) - passes_back):]
            cropped, scaled = cropped_and_scaled(passes[-1])
            break
        passes.append(thinner)
        cropped, scaled = cropped_and_scaled(thinner)
    return cropped, scaled, len(passes) - 1


def ink_rows_and_columns(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))


def ink_box_size(grey: np.ndarray) -> np.ndarray:
    """(height, width) of the box around the ink (at least INK_THRESHOLD bright)."""
    rows, columns = ink_rows_and_columns(grey >= INK_THRESHOLD)
    return np.array([rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1])


def preprocess_canvas(image: np.ndarray, method: str = "mnist") -> tuple[np.ndarray | None, PreprocessingSteps]:
    """(the 28x28 float32 input in [0, 1], or None for a canvas with no digit on it; the steps that led there)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got {method!r}).")
    grey = canvas_to_grey(image)
    ink = grey >= INK_THRESHOLD
    if ink.sum() < MINIMUM_INK_PIXELS:
        return None, PreprocessingSteps(grey=grey)
    if ink.mean() > MAXIMUM_INK_FRACTION:
        return None, PreprocessingSteps(grey=grey, problem=TOO_MUCH_INK)
    rows, columns = ink_rows_and_columns(ink)
    height, width = rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1
    if max(height, width) < MINIMUM_DIGIT_FRACTION * max(grey.shape):
        return None, PreprocessingSteps(grey=grey, problem=TOO_SMALL)
    if height < FLATTEST_DIGIT * width:
        return None, PreprocessingSteps(grey=grey, problem=TOO_FLAT)
    if method == "naive":
        resized = resize(grey, IMAGE_SIZE, IMAGE_SIZE)
        return resized, PreprocessingSteps(grey=grey, centred=resized)

    cropped, scaled, thinned_by = thinned_to_mnist_strokes(grey)
    framed = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    top, left = (IMAGE_SIZE - scaled.shape[0]) // 2, (IMAGE_SIZE - scaled.shape[1]) // 2
    framed[top:top + scaled.shape[0], left:left + scaled.shape[1]] = scaled
    if framed.sum() == 0:  # a scribble so thin the antialiasing erased it: nothing to centre
        return None, PreprocessingSteps(grey=grey, cropped=cropped, scaled=scaled, framed=framed)
    row_mass, column_mass = centre_of_mass(framed)
    middle = (IMAGE_SIZE - 1) / 2
    centred = shift(framed, round(middle - row_mass), round(middle - column_mass)).astype(np.float32)
    return centred, PreprocessingSteps(grey=grey, cropped=cropped, scaled=scaled, framed=framed, centred=centred,
                                       thinned_by=thinned_by)
