"""Inside a trained model: what each layer computes for one digit, what it looked at, and where every
digit lands in the model's own space.

For one digit (28x28 floats in [0, 1]) this module gives:
- every layer's output (layer_outputs): the CNN's feature maps after each convolution (after its
  ReLU) and each pooling, a hidden layer's activations, the ten probabilities;
- the linear model's contribution maps (linear_contributions): weight x pixel for each class, whose
  sum plus the bias is that class's score (its logit);
- what it looked at: the gradient of a class's score with respect to each pixel (saliency), gradient
  x input, and an occlusion map (how much the class's probability drops when a patch is covered).
For many digits it gives the map of all digits: each digit's penultimate layer (the features the
last layer reads; the scores themselves for the linear model), projected to 2D with PCA at once,
or with t-SNE on request; and a digit's nearest neighbours in that space.

No Streamlit here: the Inside page renders these, and caches the maps per run and epoch in a
ComputedOnce store (stores.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .data import IMAGE_SIZE, NUM_CLASSES
from .models import evaluation_batch_size, images_to_input, predict_probabilities
from .quiet_tensorflow import keras, tf
from .runs import DamagedRunError

OCCLUSION_PATCH = 5          # pixels: about a stroke's width and a half, so covering it can hide one stroke
BACKGROUND, GREY = 0.0, 0.5  # what the occluding patch is filled with
MAP_DIGITS = 2000            # validation digits on the map: enough for ten clusters, few enough for t-SNE in seconds
NEIGHBOURS = 8               # a digit's nearest training digits shown: one row on a projector
NEIGHBOUR_POOL = 5000        # the training digits they are looked for among (their features: 5 MB for a 256-unit MLP)
TSNE_SEED = 0
TSNE_PERPLEXITY = 30


@dataclasses.dataclass(frozen=True)
class LayerOutput:
    """What one layer of the model computed for one digit."""

    name: str          # the layer's name in the model (conv_1, hidden_2, output, ...)
    kind: str          # "convolution", "pooling", "dense" (a hidden layer, after its ReLU) or "output" (the scores)
    values: np.ndarray  # (height, width, maps) for feature maps, (units,) otherwise


LAYER_KINDS = {keras.layers.Conv2D: "convolution", keras.layers.MaxPooling2D: "pooling"}


def as_batch(images) -> tf.Tensor:
    """One 28x28 digit or a batch of them, as the float32 batch the models take."""
    images = images_to_input(images)
    return images[tf.newaxis] if images.shape.rank == 2 else images


def layer_outputs(model: keras.Model, image: np.ndarray) -> list[LayerOutput]:
    """Every layer's output for one digit, in order, skipping those that only reshape (Flatten,
    Reshape) or only act while training (Dropout). The last is the ten scores (logits)."""
    outputs = []
    values = as_batch(image)
    for position, layer in enumerate(model.layers):
        values = layer(values, training=False)
        kind = next((kind for layer_type, kind in LAYER_KINDS.items() if isinstance(layer, layer_type)), None)
        if position == len(model.layers) - 1:
            kind = "output"
        elif isinstance(layer, keras.layers.Dense):
            kind = "dense"
        if kind is not None:
            # float32 for the pages whatever the run's arithmetic: a mixed-bfloat16 run's layers give bfloat16
            outputs.append(LayerOutput(layer.name, kind, tf.cast(values[0], tf.float32).numpy()))
    return outputs


def output_probabilities(outputs: list[LayerOutput]) -> np.ndarray:
    """The ten probabilities of one digit from its layer_outputs: the softmax of the last layer's scores."""
    return tf.nn.softmax(outputs[-1].values).numpy()


def is_linear(model: keras.Model) -> bool:
    return model.name == "linear"  # models.build_linear's name


def features_of(outputs: list[LayerOutput]) -> np.ndarray:
    """The penultimate features of one digit from its layer_outputs, without running the model again:
    the last hidden layer's output, or the scores for the linear model, which has no hidden layer."""
    return outputs[-2].values if len(outputs) > 1 else outputs[-1].values


def penultimate_features(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The features the model's last layer reads, (N, features): the last hidden layer for the MLP
    and the CNN. The linear model has no hidden layer, so its features are its ten scores."""
    layers = model.layers if is_linear(model) else model.layers[:-1]
    batch_size = evaluation_batch_size(model)
    batches = []
    for start in range(0, len(images), batch_size):
        values = as_batch(images[start:start + batch_size])
        for layer in layers:
            values = layer(values, training=False)
        batches.append(tf.cast(values, tf.float32).numpy())  # a mixed-bfloat16 run's are bfloat16
    return np.concatenate(batches) if batches else np.zeros((0, 0), np.float32)


def linear_contributions(weights: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The linear model's votes, pixel by pixel: (10, 28, 28), weight x pixel for each class.

    `weights` is W, 784x10. A class's map sums to its score minus its bias: the score is nothing but
    these votes added up."""
    pixels = np.asarray(image, dtype=np.float32).reshape(IMAGE_SIZE * IMAGE_SIZE, 1)
    return (np.asarray(weights) * pixels).T.reshape(NUM_CLASSES, IMAGE_SIZE, IMAGE_SIZE)


def score_gradient(model: keras.Model, image: np.ndarray, digit: int) -> np.ndarray:
    """Saliency: d(score of `digit`) / d(pixel), (28, 28). Positive where a brighter pixel would raise
    the score, negative where it would lower it; zero where the pixel cannot change the score."""
    pixels = as_batch(image)
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        score = model(pixels, training=False)[0, digit]
    return tape.gradient(score, pixels)[0].numpy()


def gradient_times_input(saliency: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Saliency (score_gradient's, taken once) x the pixel itself: what the ink that is there contributed
    (zero on blank paper). For the linear model it is exactly its contribution map."""
    return saliency * np.asarray(image, dtype=np.float32)


def occluded_copies(image: np.ndarray, patch: int = OCCLUSION_PATCH, fill: float = BACKGROUND) -> np.ndarray:
    """784 copies of the digit, the one at (row, column) with the `patch` x `patch` square centred on
    that pixel (cut off at the edges) filled with `fill`."""
    image = np.asarray(image, dtype=np.float32)
    copies = np.repeat(image[np.newaxis], IMAGE_SIZE * IMAGE_SIZE, axis=0)
    half = patch // 2
    for row in range(IMAGE_SIZE):
        for column in range(IMAGE_SIZE):
            copies[row * IMAGE_SIZE + column, max(0, row - half):row + patch - half,
                   max(0, column - half):column + patch - half] = fill
    return copies


def occlusion_map(model: keras.Model, image: np.ndarray, digit: int, patch: int = OCCLUSION_PATCH,
                  fill: float = BACKGROUND) -> np.ndarray:
    """How much the probability of `digit` drops when the square around each pixel is covered: (28, 28).

    Positive where covering hides evidence for the digit, negative where it hides evidence against.
    The default patch is the background (black), which erases ink: on MNIST's blank paper a grey
    patch would itself be new ink, so even covering an empty corner would change the answer."""
    copies = occluded_copies(image, patch, fill)
    # The digit itself goes in the same batch as its covered copies, so both are computed alike.
    batch = np.concatenate([np.asarray(image, dtype=np.float32)[np.newaxis], copies])
    probabilities = predict_probabilities(model, batch)[:, digit]
    return (probabilities[0] - probabilities[1:]).reshape(IMAGE_SIZE, IMAGE_SIZE)


@dataclasses.dataclass(frozen=True)
class Projection:
    """A PCA projection to 2D: where the digits land, and how to place another one on the same axes."""

    coordinates: np.ndarray  # (N, 2)
    mean: np.ndarray
    axes: np.ndarray         # (features, 2): the two directions along which the digits spread most
    explained: np.ndarray    # the share of the spread each axis shows

    def place(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, dtype=np.float64) - self.mean) @ self.axes


def pca(features: np.ndarray) -> Projection:
    """PCA to 2D by a singular value decomposition: deterministic, each axis's sign fixed so its
    largest loading is positive (an SVD may flip an axis from one machine to the next)."""
    features = np.asarray(features, dtype=np.float64)
    mean = features.mean(axis=0)
    _left, spreads, directions = np.linalg.svd(features - mean, full_matrices=False)
    axes = directions[:2].T
    if axes.shape[1] < 2:  # fewer than two features: pad with a zero axis
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])
    axes = axes * np.where(signs == 0, 1, signs)
    variance = spreads ** 2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return Projection((features - mean) @ axes, mean, axes, np.pad(explained, (0, 2 - len(explained))))


def tsne(features: np.ndarray, seed: int = TSNE_SEED, progress: Callable[[float], None] | None = None) -> np.ndarray:
    """t-SNE to 2D (openTSNE, one thread: a shared server's other students keep their cores), (N, 2).

    `progress` is called with the share done, about 30 times. Digits whose features are all the same
    (the linear model before training scores every digit 0) all land on one point."""
    from openTSNE import TSNE  # imported on request: t-SNE is optional and its import takes a second

    features = np.asarray(features, dtype=np.float64)
    if len(features) < 3 * TSNE_PERPLEXITY + 2 or np.ptp(features, axis=0).max(initial=0) == 0:
        return np.zeros((len(features), 2))
    exaggeration_iterations, iterations, every = 250, 500, 25
    total_calls = (exaggeration_iterations + iterations) // every
    calls = 0

    def report(_iteration, _error, _embedding):
        nonlocal calls
        calls += 1
        if progress is not None:
            progress(min(calls / total_calls, 1.0))
        return False  # keep going

    embedding = TSNE(perplexity=TSNE_PERPLEXITY, early_exaggeration_iter=exaggeration_iterations, n_iter=iterations,
                     random_state=seed, n_jobs=1, callbacks=report, callbacks_every_iters=every).fit(features)
    return np.asarray(embedding)


def nearest_digits(feature: np.ndarray, features: np.ndarray, count: int = NEIGHBOURS) -> np.ndarray:
    """The indices of the `count` digits whose features are closest to `feature` (Euclidean), nearest first."""
    distances = np.linalg.norm(np.asarray(features, dtype=np.float64) - np.asarray(feature, dtype=np.float64), axis=1)
    return np.argsort(distances, kind="stable")[:count]


@dataclasses.dataclass(frozen=True)
class DigitMap:
    """A set of digits as one model sees them: its features, answers and their PCA projection."""

    features: np.ndarray      # (N, features) of the penultimate layer
    predictions: np.ndarray   # (N,) the digit the model reads
    projection: Projection

    @property
    def nbytes(self) -> int:
        return self.features.nbytes + self.predictions.nbytes + self.projection.coordinates.nbytes + self.projection.axes.nbytes


def digit_map(model: keras.Model, images: np.ndarray) -> DigitMap:
    """The map of `images` for `model`: their penultimate features, the model's answers and a PCA."""
    features = penultimate_features(model, images)
    scores = features if is_linear(model) else model.layers[-1](features).numpy()
    return DigitMap(features.astype(np.float32), scores.argmax(axis=1), pca(features))


def map_key(run, epoch: int | None) -> tuple:
    """Which run and weights a map of `run` at `epoch` is of (None: its final weights): a checkpoint
    never changes; final weights change as a run trains on."""
    return (str(run.folder), epoch) if epoch is not None else (str(run.folder), "final", *run.stamp)


def random_start_kernel(run) -> np.ndarray | None:
    """An MLP run's first-layer kernel at the random start, or None if that checkpoint cannot be read."""
    try:
        weights = run.checkpoint_weights(0)
    except DamagedRunError:
        return None
    return next(value for path, value in weights.items() if path.endswith("hidden_1/kernel"))
