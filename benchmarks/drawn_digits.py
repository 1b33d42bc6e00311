"""How well do the models read digits drawn on the canvas? Synthetic drawn digits, both preprocessing modes.

    .venv/bin/python benchmarks/drawn_digits.py

Real drawings are off-centre, small or large, thick or thin. This script draws each digit as pen
strokes (a hand-made stroke template per digit, jittered, rotated a little, scaled to 60-240 px
tall, placed anywhere on a 280x280 black canvas with a 12-30 px white pen), then asks each model's
default config (trained here on the full training set) to read it after MNIST-style and after
naive preprocessing. It prints accuracy per model and mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from mnist_core import TrainConfig, load_mnist, predict_probabilities, train  # noqa: E402
from mnist_core.canvas import preprocess_canvas  # noqa: E402

CANVAS_SIZE = 280
# One pen path per digit in a unit box (x to the right, y down); 8 uses one path through both loops.
STROKES = {
    0: [(0.5 + 0.32 * np.sin(angle), 0.5 - 0.46 * np.cos(angle)) for angle in np.linspace(0, 2 * np.pi, 24)],
    1: [(0.35, 0.2), (0.55, 0.03), (0.55, 0.97)],
    2: [(0.2, 0.28), (0.32, 0.08), (0.52, 0.03), (0.72, 0.1), (0.78, 0.3), (0.68, 0.5), (0.2, 0.95), (0.82, 0.95)],
    3: [(0.2, 0.1), (0.5, 0.03), (0.75, 0.18), (0.7, 0.38), (0.45, 0.47), (0.75, 0.62), (0.75, 0.85), (0.48, 0.97), (0.2, 0.88)],
    4: [(0.62, 0.97), (0.62, 0.03), (0.15, 0.65), (0.85, 0.65)],
    5: [(0.75, 0.04), (0.3, 0.04), (0.25, 0.45), (0.55, 0.4), (0.76, 0.6), (0.72, 0.85), (0.45, 0.97), (0.2, 0.88)],
    6: [(0.7, 0.04), (0.42, 0.28), (0.26, 0.62), (0.32, 0.9), (0.55, 0.97), (0.75, 0.8), (0.68, 0.58), (0.45, 0.52), (0.27, 0.66)],
    7: [(0.18, 0.05), (0.82, 0.05), (0.42, 0.97)],
    8: [(0.5, 0.5), (0.27, 0.3), (0.5, 0.04), (0.73, 0.3), (0.5, 0.5), (0.22, 0.75), (0.5, 0.97), (0.78, 0.75), (0.5, 0.5)],
    9: [(0.74, 0.3), (0.5, 0.05), (0.26, 0.22), (0.38, 0.45), (0.74, 0.32), (0.74, 0.05), (0.68, 0.97)],
}


def draw_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One drawn-style digit: an RGBA 280x280 canvas like the page's, white ink on black."""
    height = rng.uniform(60, 240)
    width = height * rng.uniform(0.55, 0.8)
    pen = int(rng.uniform(12, 30))
    angle = np.deg2rad(rng.uniform(-12, 12))
    points = np.array(STROKES[digit]) + rng.normal(0, 0.025, size=(len(STROKES[digit]), 2))
    points = (points - 0.5) * [width, height]
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = points @ rotation.T
    margin = pen / 2 + 2
    low, high = points.min(axis=0), points.max(axis=0)
    centre = [rng.uniform(margin - low[axis], CANVAS_SIZE - margin - high[axis]) if CANVAS_SIZE - margin - high[axis] > margin - low[axis]
              else CANVAS_SIZE / 2 for axis in (0, 1)]
    points = points + centre
    canvas = Image.new("RGBA", (CANVAS_SIZE, CANVAS_SIZE), (0, 0, 0, 255))
    pencil = ImageDraw.Draw(canvas)
    path = [tuple(point) for point in points]
    pencil.line(path, fill=(255, 255, 255, 255), width=pen, joint="curve")
    for x, y in path[:1] + path[-1:]:  # round pen ends
        pencil.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=(255, 255, 255, 255))
    return np.asarray(canvas)


def drawn_digits(per_digit: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_digit)
    return [draw_digit(int(digit), rng) for digit in labels], labels


def main() -> None:
    canvases, labels = drawn_digits(per_digit=100)
    inputs = {method: np.stack([preprocess_canvas(canvas, method)[0] for canvas in canvases]) for method in ("mnist", "naive")}
    dataset = load_mnist()
    print(f"{len(labels)} drawn digits (100 per class), sizes 60-240 px, pens 12-30 px, anywhere on {CANVAS_SIZE}x{CANVAS_SIZE}")
    for model_name in ("linear", "mlp", "cnn"):
        training = train(TrainConfig.for_model(model_name), dataset)
        list(training)
        accuracies = {method: float((predict_probabilities(training.model, images).argmax(axis=1) == labels).mean())
                      for method, images in inputs.items()}
        print(f"{model_name:6s} default config: MNIST-style {accuracies['mnist']:.1%}, naive resize {accuracies['naive']:.1%}", flush=True)


if __name__ == "__main__":
    main()
