"""A model's first-layer weights as one picture, for any model, at any epoch.

What a first layer looks for can be drawn in the input's own space, so a student sees it:
- the linear model: ten 28x28 templates, one per digit (a column of W each);
- the MLP: the incoming weights of its first hidden units, each a 28x28 image;
- the CNN: its first convolution's 3x3 filters.

Weights are drawn as colours around zero, white at 0, vermilion for positive and blue for negative
(the charts' validation and training colours, which stay apart for colour-blind readers), and
enlarged by repeating pixels, so no blur softens a 3x3 filter. NumPy only: a checkpoint's arrays
are enough, and the same picture serves the page, the replay and the exported GIF.
"""

from __future__ import annotations

import math

import numpy as np

from .data import IMAGE_SIZE, NUM_CLASSES

POSITIVE_RGB = np.array((213, 94, 0), dtype=float)   # ui/charts.py's VALIDATION_COLOUR, #D55E00
NEGATIVE_RGB = np.array((0, 114, 178), dtype=float)  # ui/charts.py's TRAIN_COLOUR, #0072B2
WHITE = np.full(3, 255.0)
GAP_RGB = (238, 238, 238)  # between tiles: light grey, so white (zero) tiles keep their edges
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
    limits = tile_limits(model_name, tiles)
    scale, per_row, gap = TILE_SCALE[model_name], TILES_PER_ROW[model_name], GAP[model_name]
    tile_height, tile_width = tiles.shape[1] * scale, tiles.shape[2] * scale
    rows = math.ceil(len(tiles) / per_row)
    columns = min(per_row, len(tiles))
    picture = np.empty((rows * tile_height + (rows - 1) * gap, columns * tile_width + (columns - 1) * gap, 3), np.uint8)
    picture[:] = GAP_RGB
    for index, (tile, limit) in enumerate(zip(tiles, limits)):
        row, column = divmod(index, per_row)
        top, left = row * (tile_height + gap), column * (tile_width + gap)
        picture[top:top + tile_height, left:left + tile_width] = diverging_colours(tile, limit, scale)
    return picture


def weight_change(after: dict[str, np.ndarray], before: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What training changed, variable by variable: `after` minus `before` (both as get_weights gives
    them). Drawn with weight_picture, each tile on its own scale, it shows what a step or a stretch
    of epochs added, where the weights themselves hide it under their random start."""
    return {path: after[path] - before[path] for path in after}
