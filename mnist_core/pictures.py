"""A model's first-layer weights as one picture, for any model, at any epoch.

What a first layer looks for can be drawn in the input's own space, so a student sees it:
- the linear model: ten 28x28 templates, one per digit (a column of W each);
- the MLP: the incoming weights of its first hidden units, each a 28x28 image;
- the CNN: its first convolution's 3x3 filters.

Weights are drawn as colours around zero, white at 0, vermilion for positive and blue for negative
(the charts' validation and training colours, from palette.py, which stay apart for colour-blind
readers), and enlarged by repeating pixels, so no blur softens a 3x3 filter. NumPy only: a
checkpoint's arrays are enough, and the same picture serves the page, the replay and the exported GIF.
"""

from __future__ import annotations

import math

import numpy as np

from .data import IMAGE_SIZE, NUM_CLASSES
from .palette import FRAME_RGB, GAP_RGB, NEGATIVE_RGB, POSITIVE_RGB

WHITE = np.full(3, 255.0)  # a float array: the diverging colours are blended towards it in floats
# Pixels between tiles: wider between the CNN's small filters, which would otherwise run together.
GAP = {"linear": 4, "mlp": 4, "cnn": 12}
MAX_UNITS = 32             # the MLP's first 32 units: 4 rows of 8 stay readable on a projector
# Each kind's tiles, enlarged so the whole picture is about 600 px wide.
TILE_SCALE = {"linear": 4, "mlp": 2, "cnn": 16}
TILES_PER_ROW = {"linear": 5, "mlp": 8, "cnn": 8}


def enlarged(image: np.ndarray, scale: int) -> np.ndarray:
    """`image` (grey, or with colour channels last) with each pixel repeated `scale` x `scale` times:
    a 3x3 filter or a 28x28 digit stays sharp on a projector, where scaling it in the browser blurs it."""
    image = np.asarray(image)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def bordered(picture: np.ndarray, width: int = 1) -> np.ndarray:
    """An RGB picture in a grey frame: a map that is all white (nothing to show) keeps its edges on a white page."""
    framed = np.empty((picture.shape[0] + 2 * width, picture.shape[1] + 2 * width, 3), np.uint8)
    framed[:] = FRAME_RGB
    framed[width:-width, width:-width] = picture
    return framed


def diverging_colours(values: np.ndarray, limit: float, scale: int = 1) -> np.ndarray:
    """`values` as RGB colours around zero, full colour at +-limit, each pixel repeated `scale` times."""
    share = np.clip(np.asarray(values, dtype=float) / (limit or 1.0), -1, 1)[..., np.newaxis]
    colours = np.where(share >= 0, WHITE + share * (POSITIVE_RGB - WHITE), WHITE - share * (NEGATIVE_RGB - WHITE))
    return enlarged(colours, scale).astype(np.uint8)


def first_layer_tiles(model_name: str, weights: dict[str, np.ndarray]) -> np.ndarray:
    """The first layer's weights as tiles of the input's shape: (tiles, height, width).

    `weights` as models.get_weights() or a checkpoint gives them: {variable path: array}."""
    by_name = {path.split("/")[-2] + "/" + path.split("/")[-1]: value for path, value in weights.items()}
    if model_name == "linear":
        return by_name["linear_softmax/W"].T.reshape(NUM_CLASSES, IMAGE_SIZE, IMAGE_SIZE)
    if model_name == "mlp":
        kernel = by_name["hidden_1/kernel"][:, :MAX_UNITS]
        return kernel.T.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    if model_name == "cnn":
        kernel = by_name["conv_1/kernel"]  # (3, 3, 1, filters)
        return np.moveaxis(kernel[:, :, 0, :], -1, 0)
    raise ValueError(f"no picture for the model {model_name!r}")


def tile_limits(model_name: str, tiles: np.ndarray) -> np.ndarray:
    """The weight drawn at full colour, per tile. The linear model's ten templates share one scale,
    so a template that matters less looks fainter; an MLP unit or a CNN filter is each scaled to
    its own largest weight, since each unit or filter feeds a layer that rescales it anyway."""
    largest = np.abs(tiles).reshape(len(tiles), -1).max(axis=1)
    if model_name == "linear":
        largest = np.full(len(tiles), largest.max())
    return np.where(largest > 0, largest, 1.0)


def weight_picture(config, weights: dict[str, np.ndarray]) -> np.ndarray:
    """The first layer's weights of a `config.model` as one RGB picture (height, width, 3) of uint8, tiles in rows."""
    model_name = config.model
    tiles = first_layer_tiles(model_name, weights)
    scale = TILE_SCALE[model_name]
    coloured = [diverging_colours(tile, limit, scale) for tile, limit in zip(tiles, tile_limits(model_name, tiles))]
    return tiled(coloured, TILES_PER_ROW[model_name], GAP[model_name])


def tiled(tiles: list[np.ndarray], per_row: int, gap: int) -> np.ndarray:
    """RGB tiles of one size laid out in rows of `per_row`, `gap` pixels of light grey between them."""
    tile_height, tile_width = tiles[0].shape[:2]
    rows, columns = math.ceil(len(tiles) / per_row), min(per_row, len(tiles))
    picture = np.empty((rows * tile_height + (rows - 1) * gap, columns * tile_width + (columns - 1) * gap, 3), np.uint8)
    picture[:] = GAP_RGB
    for index, tile in enumerate(tiles):
        row, column = divmod(index, per_row)
        top, left = row * (tile_height + gap), column * (tile_width + gap)
        picture[top:top + tile_height, left:left + tile_width] = tile
    return picture


def weight_change(after: dict[str, np.ndarray], before: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What training changed, variable by variable: `after` minus `before` (both as get_weights gives
    them). Drawn with weight_picture, each tile on its own scale, it shows what a step or a stretch
    of epochs added, where the weights themselves hide it under their random start."""
    return {path: after[path] - before[path] for path in after}


def grey_tiles_picture(tiles: np.ndarray, per_row: int, scale: int, gap: int = 4) -> np.ndarray:
    """Tiles (n, height, width) of values >= 0 as one RGB picture, black at 0 and white at the largest
    value of all the tiles: one scale for a whole layer, so a map that is dark is a map that found
    little. Enlarged by `scale`, `per_row` tiles a row, light grey between them."""
    tiles = np.asarray(tiles, dtype=float)
    largest = tiles.max(initial=0.0)
    return tiled([enlarged(grey_picture_of(tile, largest), scale) for tile in tiles], per_row, gap)


def feature_maps_picture(maps: np.ndarray, per_row: int, scale: int) -> np.ndarray:
    """A convolution's or a pooling's output (height, width, maps) as one picture of its maps."""
    return grey_tiles_picture(np.moveaxis(np.asarray(maps), -1, 0), per_row, scale)


def activation_strip(values: np.ndarray, cell: int, per_row: int = 64) -> np.ndarray:
    """A hidden layer's activations (units,) as rows of grey cells, `cell` pixels square, `per_row` a row."""
    values = np.asarray(values, dtype=float)
    rows = math.ceil(len(values) / per_row)
    padded = np.pad(values, (0, rows * per_row - len(values)))
    return enlarged(grey_picture_of(padded.reshape(rows, per_row)), cell)


def grey_picture_of(values: np.ndarray, largest: float | None = None) -> np.ndarray:
    """Values >= 0 as RGB grey levels, white at `largest` (by default the largest of `values`)."""
    values = np.asarray(values, dtype=float)
    largest = (values.max(initial=0.0) if largest is None else largest) or 1.0
    grey = (np.clip(values / largest, 0, 1) * 255).astype(np.uint8)
    return np.repeat(grey[..., np.newaxis], 3, axis=-1)


BRAILLE_BLANK = 0x2800
# A braille character is a 2x4 grid of dots (4 rows, 2 columns); the bit of each dot in the character's code.
BRAILLE_DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])


# A hover label shows the middle 24x24 of a digit: MNIST centres each digit's 20x20 box by its centre of mass,
# so the ink stays within two pixels of the edge, and 12 characters a line instead of 14 keep the label small.
BRAILLE_BORDER = 2


def digits_as_braille(images: np.ndarray, threshold: float = 0.3) -> list[str]:
    """28x28 digits (values in [0, 1]) as braille pictures for a chart's hover label (which takes text only):
    the middle 24x24 of each, a dot for each inked pixel of a 2x4 block, 6 lines of 12 characters joined
    by "<br>"."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:
        images = images[np.newaxis]
    middle = images[:, BRAILLE_BORDER:IMAGE_SIZE - BRAILLE_BORDER, BRAILLE_BORDER:IMAGE_SIZE - BRAILLE_BORDER] >= threshold
    count, height, width = middle.shape
    blocks = middle.reshape(count, height // 4, 4, width // 2, 2)  # (digit, line, dot row, character, dot column)
    codes = BRAILLE_BLANK + np.einsum("nlrcd,rd->nlc", blocks.astype(np.int64), BRAILLE_DOT_BITS)
    return ["<br>".join("".join(map(chr, line)) for line in digit) for digit in codes]
