"""How quick is the Inside page? Its three computations, for the three models, side by side in one run.

    .venv/bin/python benchmarks/inside_speed.py

A small real CNN, MLP and linear model (each model's preset, trained here for two epochs on a few
thousand real MNIST training digits) are looked inside as the page does (mnist_core.inside):

1. The inspector's update after a digit is picked: every layer's output (layer_outputs), the
   saliency (score_gradient), gradient x input, the occlusion map (5x5 black patch) and the digit's
   penultimate features with its nearest neighbours among 5,000 training digits whose features were
   computed beforehand (the page keeps them per run and epoch; computing them once is timed apart).
   The linear model also gets its ten contribution maps (linear_contributions), as the page draws.
   Each part is timed for one test digit after another, the score explained being the model's
   answer; the median of the digits after one warm-up digit is printed. The issue's goal: under 1 s
   for the CNN.
2. The map of all digits: digit_map of 2,000 validation digits (their penultimate features, the
   model's answers and a PCA); the PCA alone is timed too. Goal: PCA of 2,000 digits under 1 s.
3. t-SNE of those 2,000 digits' CNN features: the page's mnist_core.inside.tsne (openTSNE, one
   thread, 250 + 500 iterations) against scikit-learn's TSNE(random_state=0, init="pca") (its
   default 1,000 iterations) on the same features, scikit-learn's BLAS and OpenMP pools limited to
   one thread with threadpoolctl, as openTSNE runs with n_jobs=1. Goal: under 30 s. Beside the
   seconds, how well each map keeps the digits apart: the share of digits whose 5 nearest points
   on the 2D map mostly share their true label.

Absolute seconds depend on the machine; the goals were set for a classroom server's core or two.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from mnist_core import TrainConfig, load_mnist, train
from mnist_core.config import split_for_config
from mnist_core.inside import (
    MAP_DIGITS,
    NEIGHBOUR_POOL,
    digit_map,
    features_of,
    gradient_times_input,
    layer_outputs,
    linear_contributions,
    nearest_digits,
    occlusion_map,
    pca,
    penultimate_features,
    score_gradient,
    tsne,
)

MODELS = ("cnn", "mlp", "linear")
GOALS = {"inspector": 1.0, "pca": 1.0, "tsne": 30.0}  # seconds: the goals
PARTS = ("layers", "saliency", "grad x input", "occlusion", "neighbours")


def seconds_of(function, *arguments):
    started = time.perf_counter()
    value = function(*arguments)
    return time.perf_counter() - started, value


def inspector_update(model, image: np.ndarray, training_features: np.ndarray, linear: bool) -> dict[str, float]:
    """Seconds of each part of the page's update for one digit, in the page's order."""
    parts = {}
    parts["layers"], outputs = seconds_of(layer_outputs, model, image)
    scores = outputs[-1].values
    explained = int(scores.argmax())
    if linear:  # the page draws the ten vote maps instead of hidden layers
        weights = model.get_layer("linear_softmax").W.numpy()
        contribution_seconds, _maps = seconds_of(linear_contributions, weights, image)
        parts["layers"] += contribution_seconds
    parts["saliency"], saliency = seconds_of(score_gradient, model, image, explained)
    parts["grad x input"], _product = seconds_of(gradient_times_input, saliency, image)
    parts["occlusion"], _occlusion = seconds_of(occlusion_map, model, image, explained)

    def neighbours():
        features = features_of(outputs)
        return nearest_digits(features, training_features)

    parts["neighbours"], _nearest = seconds_of(neighbours)
    return parts


def label_agreement(coordinates: np.ndarray, labels: np.ndarray, count: int = 5) -> float:
    """The share of digits most of whose `count` nearest points on the map have the digit's own label."""
    distances = ((coordinates[:, np.newaxis, :] - coordinates[np.newaxis, :, :]) ** 2).sum(axis=-1)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :count]
    return float(((labels[nearest] == labels[:, np.newaxis]).sum(axis=1) > count / 2).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-digits", type=int, default=5000, help="training digits each model trains on")
    parser.add_argument("--epochs", type=int, default=2, help="epochs each model trains for")
    parser.add_argument("--digits", type=int, default=10, help="digits timed per model, after one warm-up digit")
    parser.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn's t-SNE (the slowest part)")
    arguments = parser.parse_args()

    dataset = load_mnist()
    (_images, _labels), (test_images, _test_labels) = dataset
    digits = test_images[:arguments.digits + 1] / 255.0  # the first is the warm-up
    models, splits = {}, {}
    print(f"Training each model's preset for {arguments.epochs} epochs on {arguments.train_digits:,} MNIST digits...", flush=True)
    for name in MODELS:
        config = TrainConfig.for_model(name, epochs=arguments.epochs, train_subset_size=arguments.train_digits)
        splits[name] = split_for_config(dataset, config)
        training = train(config, split=splits[name])
        history = list(training)
        models[name] = training.model
        print(f"  {name:6s} validation accuracy {history[-1].val_acc:.1%}", flush=True)
    print()

    print(f"1. The inspector's update after a digit is picked (median of {arguments.digits} test digits after one warm-up), s")
    print(f"{'model':8s} {f'features of {NEIGHBOUR_POOL:,} training digits (once)':>41s}" + "".join(f" {part:>12s}" for part in PARTS)
          + f" {'total':>8s} {'goal':>6s}")
    inspector = {}
    for name in MODELS:
        model, split = models[name], splits[name]
        training_images = split.train_images[:NEIGHBOUR_POOL]
        once, training_features = seconds_of(penultimate_features, model, training_images)
        timings = [inspector_update(model, image, training_features, name == "linear") for image in digits]
        timings = timings[1:]  # after the warm-up
        medians = {part: statistics.median(timing[part] for timing in timings) for part in PARTS}
        inspector[name] = statistics.median(sum(timing.values()) for timing in timings)
        goal = f"< {GOALS['inspector']:g}" if name == "cnn" else ""
        print(f"{name:8s} {once:41.3f}" + "".join(f" {medians[part]:12.3f}" for part in PARTS)
              + f" {inspector[name]:8.3f} {goal:>6s}", flush=True)
    print()

    print(f"2. The map of all digits: {MAP_DIGITS:,} validation digits, s (the first map of a model, then a second)")
    print(f"{'model':8s} {'digit_map, first':>17s} {'digit_map':>10s} {'of which PCA':>13s} {'goal (PCA)':>11s} {'features':>9s}")
    maps, pca_seconds_of = {}, {}
    for name in MODELS:
        images = splits[name].validation_images[:MAP_DIGITS]
        first, _first_map = seconds_of(digit_map, models[name], images)
        again, maps[name] = seconds_of(digit_map, models[name], images)
        pca_seconds = pca_seconds_of[name] = statistics.median(seconds_of(pca, maps[name].features)[0] for _ in range(5))
        print(f"{name:8s} {first:17.3f} {again:10.3f} {pca_seconds:13.3f} {'< ' + format(GOALS['pca'], 'g'):>11s} "
              f"{maps[name].features.shape[1]:9d}", flush=True)
    print()

    features = maps["cnn"].features
    labels = splits["cnn"].validation_labels[:MAP_DIGITS]
    print(f"3. t-SNE of {len(features):,} digits' CNN features ({features.shape[1]} each), one thread")
    print(f"{'method':58s} {'seconds':>8s} {'goal':>6s} {'5 nearest agree':>16s}")
    print(f"{'PCA (as drawn at once, for comparison)':58s} {'':8s} {'':6s} "
          f"{label_agreement(maps['cnn'].projection.coordinates, labels):16.0%}")
    opentsne_seconds, embedding = seconds_of(tsne, features)
    print(f"{'mnist_core.inside.tsne (openTSNE, 250 + 500 iterations)':58s} {opentsne_seconds:8.1f} "
          f"{'< ' + format(GOALS['tsne'], 'g'):>6s} {label_agreement(embedding, labels):16.0%}", flush=True)
    if not arguments.no_sklearn:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            sklearn_seconds, sklearn_embedding = seconds_of(
                TSNE(random_state=0, init="pca", n_jobs=1).fit_transform, features.astype(np.float64))
        print(f"{'sklearn.manifold.TSNE(random_state=0, init=pca), 1,000 it.':58s} {sklearn_seconds:8.1f} "
              f"{'< ' + format(GOALS['tsne'], 'g'):>6s} {label_agreement(sklearn_embedding, labels):16.0%}", flush=True)
        print(f"openTSNE is {sklearn_seconds / opentsne_seconds:.1f}x as fast as scikit-learn here.")
    print()
    slowest_pca = max(pca_seconds_of, key=pca_seconds_of.get)
    verdicts = [("inspector update, CNN", inspector["cnn"], GOALS["inspector"]),
                (f"PCA of {MAP_DIGITS:,} digits ({slowest_pca}, the slowest)", pca_seconds_of[slowest_pca], GOALS["pca"]),
                ("t-SNE (openTSNE), CNN features", opentsne_seconds, GOALS["tsne"])]
    print("Goals: " + "; ".join(f"{what} {seconds:.2f} s {'meets' if seconds < goal else 'MISSES'} < {goal:g} s"
                                for what, seconds, goal in verdicts))


if __name__ == "__main__":
    main()
