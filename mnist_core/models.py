"""The three models a student can pick, each built from a TrainConfig.

Every model takes a batch of 28x28 float images in [0, 1] and returns logits (scores before the
softmax): the loss is computed `from_logits=True`, which is more accurate than taking the log of a
softmax. `predict_probabilities()` applies the softmax for people to read.

Initial weights come from seeded initializers, so the same seed gives the same starting point.
"""

from __future__ import annotations

import numpy as np

from .data import IMAGE_SIZE, NUM_CLASSES
from .fair_share import evaluation_memory_bytes
from .i18n import Message
from .precision import FLOAT32
from .quiet_tensorflow import keras, tf

PIXELS = IMAGE_SIZE * IMAGE_SIZE


@keras.saving.register_keras_serializable(package="mnist_lab")
class LinearSoftmax(keras.layers.Layer):
    """The classic first model: prediction = softmax(x @ W + b), W is 784x10 and b is 10.

    Both start at zero, as in the original TensorFlow tutorial: with a single layer there is no
    symmetry to break, so random initial weights would only add noise to the lesson. An L2 penalty,
    if asked for, applies to W (as it does to every kernel in the bigger models), not to b.

    Registered with Keras, with its settings in get_config(), so a model holding it can be saved and
    loaded again wherever this module is imported. A run's downloaded .keras file does not hold it:
    exports.py saves its twin of standard layers instead (build_linear_as_dense), which loads in Keras alone.
    """

    def __init__(self, l2: float = 0.0, **options):
        super().__init__(**options)
        self.l2 = l2

    def build(self, input_shape):
        regularizer = keras.regularizers.L2(self.l2) if self.l2 else None
        self.W = self.add_weight(name="W", shape=(PIXELS, NUM_CLASSES), initializer="zeros", regularizer=regularizer)
        self.b = self.add_weight(name="b", shape=(NUM_CLASSES,), initializer="zeros")

    def call(self, flat_images):
        return keras.ops.matmul(flat_images, self.W) + self.b

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}


def build_linear(config) -> keras.Model:
    return keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE)), keras.layers.Flatten(),
                             LinearSoftmax(config.l2, name="linear_softmax")], name="linear")


# The linear model as Keras' own layers only, the same maths as LinearSoftmax: it loads with
# keras.models.load_model in any notebook, without this app's code, where a model holding LinearSoftmax
# needs models.py imported first. So a run's downloaded .keras file (exports.py, plain_keras_linear) and
# the take-home program (take_home.py, which carries this function's source) use it. The app keeps
# LinearSoftmax itself: its variables' paths ('linear_softmax/W', 'linear_softmax/b') are how every saved
# run's weights.npz names them.
def build_linear_as_dense(config) -> keras.Model:
    """The linear model: one Dense layer, x @ W + b, whose kernel W (784x10) and bias b (10) start at
    zero, with an L2 penalty on W if the run has one. It returns logits: the softmax is the loss's."""
    regularizer = keras.regularizers.L2(config.l2) if config.l2 else None
    return keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE)), keras.layers.Flatten(),
                             keras.layers.Dense(NUM_CLASSES, kernel_initializer="zeros", kernel_regularizer=regularizer,
                                                name="linear_softmax")], name="linear")


def plain_keras_linear(model: keras.Model, config) -> keras.Model:
    """The trained linear `model` (build_linear's) as build_linear_as_dense's twin, with its weights."""
    twin = build_linear_as_dense(config)
    dense = twin.get_layer("linear_softmax")
    dense.kernel.assign(model.get_layer("linear_softmax").W)
    dense.bias.assign(model.get_layer("linear_softmax").b)
    return twin


def build_mlp(config) -> keras.Model:
    regularizer = keras.regularizers.L2(config.l2) if config.l2 else None
    layers = [keras.Input((IMAGE_SIZE, IMAGE_SIZE)), keras.layers.Flatten()]
    for index in range(config.hidden_layers):
        layers.append(keras.layers.Dense(
            config.hidden_units, activation="relu", kernel_regularizer=regularizer,
            kernel_initializer=keras.initializers.HeUniform(seed=config.seed + index), name=f"hidden_{index + 1}"))
        if config.dropout:
            layers.append(keras.layers.Dropout(config.dropout, seed=config.seed + 100 + index))
    layers.append(keras.layers.Dense(
        NUM_CLASSES, kernel_regularizer=regularizer,
        kernel_initializer=keras.initializers.GlorotUniform(seed=config.seed + 99), name="output"))
    return keras.Sequential(layers, name="mlp")


def build_cnn(config) -> keras.Model:
    """Two convolution + max-pool blocks, then a small dense layer: LeNet's shape, sized so it passes
    99% test accuracy in seconds on a laptop's CPU."""
    regularizer = keras.regularizers.L2(config.l2) if config.l2 else None
    filters = config.cnn_filters

    def convolution(width, index):
        return keras.layers.Conv2D(
            width, 3, padding="same", activation="relu", kernel_regularizer=regularizer,
            kernel_initializer=keras.initializers.HeUniform(seed=config.seed + index), name=f"conv_{index}")

    layers = [
        keras.Input((IMAGE_SIZE, IMAGE_SIZE)),
        keras.layers.Reshape((IMAGE_SIZE, IMAGE_SIZE, 1)),
        convolution(filters, 1),
        keras.layers.MaxPooling2D(2),
        convolution(2 * filters, 2),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
    ]
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout, seed=config.seed + 100))
    layers.append(keras.layers.Dense(
        config.hidden_units, activation="relu", kernel_regularizer=regularizer,
        kernel_initializer=keras.initializers.HeUniform(seed=config.seed + 3), name="dense"))
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout, seed=config.seed + 101))
    layers.append(keras.layers.Dense(
        NUM_CLASSES, kernel_regularizer=regularizer,
        kernel_initializer=keras.initializers.GlorotUniform(seed=config.seed + 4), name="output"))
    return keras.Sequential(layers, name="cnn")


BUILDERS = {"linear": build_linear, "mlp": build_mlp, "cnn": build_cnn}  # one per config.MODEL_NAMES (tested)


# The layer whose output is the logits: it computes in float32 on every path, so the logits, the loss and
# the softmax a page shows are float32 (Keras' advice for mixed precision; its 10 outputs cost little).
LOGITS_LAYER_NAMES = ("linear_softmax", "output")


def build_model(config, precision: str = FLOAT32) -> keras.Model:
    """The model named by `config.model`, with its variables created, computing in `precision`
    (precision.py): float32, or mixed bfloat16 with float32 weights and logits."""
    model = BUILDERS[config.model](config)
    return model if precision == FLOAT32 else with_precision(model, precision)


def with_precision(model: keras.Model, precision: str) -> keras.Model:
    """`model` rebuilt with every layer but the logits' computing in Keras' `precision` policy, and the
    same weights. The builders stay as a student reads them (take_home.py carries their source); the
    policy is set layer by layer, never Keras' global one, which would reach every thread's models."""

    def with_policy(layer):
        options = layer.get_config()
        if layer.name not in LOGITS_LAYER_NAMES:
            options["dtype"] = precision
        return layer.__class__.from_config(options)

    twin = keras.models.clone_model(model, clone_function=with_policy)
    for target, source in zip(twin.variables, model.variables, strict=True):
        target.assign(source)
    return twin


def count_parameters(model: keras.Model) -> int:
    return int(sum(np.prod(variable.shape) for variable in model.trainable_variables))


# Training itself uses trainers.py's reusable twin of this optimizer; the tests check the two agree. The
# take-home program (take_home.py) carries this function's source, so its docstring speaks to a student.
def make_optimizer(config, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """A fresh optimizer for one run (its moment estimates belong to that run alone).

    With the "cosine" schedule the learning rate glides from `learning_rate` down to zero over all
    the run's steps: big steps early to get close, small steps late to settle into the minimum.
    """
    rate = config.learning_rate
    if config.learning_rate_schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=config.epochs * steps_per_epoch)
    return optimizer_with_rate(config, rate)


def optimizer_with_rate(config, rate) -> keras.optimizers.Optimizer:
    """The optimizer `config.optimizer` names, stepping at `rate` (a number or a schedule)."""
    return {
        "sgd": lambda: keras.optimizers.SGD(rate),
        "momentum": lambda: keras.optimizers.SGD(rate, momentum=config.momentum),
        "adam": lambda: keras.optimizers.Adam(rate),
        "rmsprop": lambda: keras.optimizers.RMSprop(rate),
        "adagrad": lambda: keras.optimizers.Adagrad(rate),
    }[config.optimizer]()


def images_to_input(images) -> tf.Tensor:
    """uint8 (or float) 28x28 images -> the float32 [0, 1] tensor the models take.

    The one place pixels are scaled (training, measuring and predicting all call it): uint8 is
    scaled by 1/255; float images are taken to be in [0, 1] already (the canvas output).
    """
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.cast(images, tf.float32)


# The most digits one measuring batch takes: no gradients are kept, so a small model measures in big
# batches; a big one gets fewer, as evaluation_batch_size says.
MOST_EVALUATION_BATCH = 2000
LEAST_EVALUATION_BATCH = 16


def activation_bytes_per_example(model: keras.Model) -> int:
    """The bytes every layer's output takes for one digit (float32), all layers together: a bound on
    what a forward pass holds at once. 1.3 KB for the linear model, 410 KB for the biggest CNN (its
    first convolution alone is 28x28x64 floats)."""
    return 4 * sum(int(np.prod(layer.output.shape[1:])) for layer in model.layers)


def evaluation_batch_size(model: keras.Model) -> int:
    """How many digits a forward pass without gradients takes at once: as many as the activation
    budget (fair_share.evaluation_memory_bytes) holds, between LEAST_ and MOST_EVALUATION_BATCH. One
    batch size for every model would be either slow for the linear model or, for the biggest CNN
    (activation_bytes_per_example), hundreds of MB of a shared server's memory per page."""
    fitting = int(evaluation_memory_bytes() // activation_bytes_per_example(model))
    return max(LEAST_EVALUATION_BATCH, min(MOST_EVALUATION_BATCH, fitting))


def predict_probabilities(model: keras.Model, images, batch_size: int | None = None) -> np.ndarray:
    """Class probabilities, shape (N, 10), for a batch of 28x28 images (uint8 or float in [0, 1]),
    in batches of `batch_size` digits (by default, evaluation_batch_size)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    batch_size = batch_size or evaluation_batch_size(model)
    batches = [tf.nn.softmax(model(images_to_input(images[start:start + batch_size]), training=False)).numpy()
               for start in range(0, len(images), batch_size)]
    return np.concatenate(batches) if batches else np.zeros((0, NUM_CLASSES), np.float32)


def make_measure(model: keras.Model):
    """A function (images, labels) -> (mean cross-entropy, accuracy) over a whole set, dropout off.

    The per-batch part is compiled once per model; uint8 images are scaled inside the graph.
    """

    @tf.function(input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE], tf.uint8), tf.TensorSpec([None], tf.int32)])
    def loss_and_correct_sums(images, labels):
        logits = model(images_to_input(images), training=False)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        correct = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels)
        return tf.reduce_sum(losses), tf.reduce_sum(tf.cast(correct, tf.float32))

    batch_size = evaluation_batch_size(model)

    def measure(images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        loss_sum = correct = 0.0
        for start in range(0, len(labels), batch_size):
            batch_loss, batch_correct = loss_and_correct_sums(
                images[start:start + batch_size], labels[start:start + batch_size].astype(np.int32))
            loss_sum += float(batch_loss)
            correct += float(batch_correct)
        return loss_sum / len(labels), correct / len(labels)

    return measure


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` on uint8 `images` with true `labels`."""
    return make_measure(model)(images, labels)


def get_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """Every variable of the model by its path (e.g. 'linear_softmax/W'), as numpy arrays."""
    return {variable.path: variable.numpy() for variable in model.weights}


def set_weights(model: keras.Model, weights: dict[str, np.ndarray]) -> None:
    """Load weights saved by get_weights(). The names and shapes must match exactly."""
    variables = {variable.path: variable for variable in model.weights}
    if set(variables) != set(weights):
        raise ValueError(Message("The saved weights are for a different model (expected {expected}, got {got}).",
                                 expected=str(sorted(variables)), got=str(sorted(weights))))
    for path, value in weights.items():
        if tuple(variables[path].shape) != tuple(value.shape):
            raise ValueError(Message("The saved weight '{path}' has shape {shape}, the model expects {expected}.", path=path,
                                     shape=str(value.shape), expected=str(tuple(variables[path].shape))))
        variables[path].assign(value)
