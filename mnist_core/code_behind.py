"""The code behind a run, as the Train and Replay pages show it: the engine's own source, taken with
`inspect` from the very functions `train()` runs (tests/test_code_behind.py traces a run and checks
that each one ran), beside the study note's four functions and loop, each matched to the engine's
line that does the same.

- `NOTE_CODE`: the note's code, its four functions (`model`, `loss`, `grad`, `accuracy`) and its loop.
- `engine_parts(config)`: the engine functions behind a run of `config`, each with its source and
  where it lives (file and first line).
- `matches(config)`: for each part of the note, its lines there and the engine's line that does it
  (found in the engine's source by its text, so a change of the engine that loses it fails a test
  instead of pointing at the wrong line).
- `settings_code(config)`: the run's settings as the values they became, and the steps they make.

No Streamlit here: ui/code_behind.py draws it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import textwrap
from pathlib import Path

from .config import TrainConfig, setting_applies, steps_per_epoch, training_examples
from .data import dataset_facts
from .i18n import N_
from .models import BUILDERS, LinearSoftmax, make_measure, optimizer_with_rate
from .precision import FLOAT32, MIXED_BFLOAT16
from .trainers import make_train_chunk, make_train_step
from .training import Training

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The note's code: four small functions and a loop (the linear model, W and b, as the note starts).
NOTE_CODE = '''W = tf.Variable(tf.zeros([784, 10]))
b = tf.Variable(tf.zeros([10]))

def model(x):
    return tf.matmul(x, W) + b

def loss(model, x, y):
    logits = model(x)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

def grad(model, x, y):
    with tf.GradientTape() as tape:
        loss_value = loss(model, x, y)
    return loss_value, tape.gradient(loss_value, [W, b])

def accuracy(model, x, y):
    correct = tf.equal(tf.argmax(model(x), axis=1), y)
    return tf.reduce_mean(tf.cast(correct, tf.float32))

optimizer = tf.keras.optimizers.SGD(learning_rate=0.5)

for epoch in range(epochs):
    for step in range(steps_per_epoch):
        x, y = next_batch()
        loss_value, grads = grad(model, x, y)
        optimizer.apply_gradients(zip(grads, [W, b]))
    print("Epoch {:03d}: Loss: {:.3f}, Accuracy: {:.3%}".format(epoch, loss_value, accuracy(model, x_val, y_val)))
'''


@dataclasses.dataclass(frozen=True)
class EnginePart:
    """One engine function behind a run: the object itself, so what is shown is what runs."""

    function: object

    @property
    def name(self) -> str:
        return self.function.__qualname__

    @property
    def source(self) -> str:
        return function_source(self.function)

    @property
    def file(self) -> str:
        """Its file, from the project's folder: mnist_core/trainers.py."""
        return Path(inspect.getsourcefile(self.function)).resolve().relative_to(PROJECT_ROOT).as_posix()

    @property
    def first_line(self) -> int:
        return inspect.getsourcelines(self.function)[1]

    @property
    def last_line(self) -> int:
        return self.first_line + len(self.source.splitlines()) - 1


@functools.cache
def function_source(function) -> str:
    return textwrap.dedent(inspect.getsource(function))


def model_function(config: TrainConfig):
    """The engine function that holds the model's maths: the linear layer's x @ W + b, else the builder."""
    return LinearSoftmax.call if config.model == "linear" else BUILDERS[config.model]


def engine_parts(config: TrainConfig) -> list[EnginePart]:
    """The engine functions behind a run of `config`, in the order a step meets them."""
    functions = [BUILDERS[config.model]]
    if config.model == "linear":
        functions.append(LinearSoftmax.call)
    functions += [optimizer_with_rate, make_train_step, make_train_chunk, make_measure, Training._train]
    return [EnginePart(function) for function in functions]


@dataclasses.dataclass(frozen=True)
class Match:
    """A part of the note, its lines there, and the engine's lines that do the same: from the first line
    holding `first_text` to the next holding `last_text`, in the engine function's own source."""

    note_name: str        # "model", "loss", "grad", ... as the note names it
    note_lines: str       # the note's lines for it, from NOTE_CODE
    part: EnginePart
    first_text: str
    last_text: str
    explanation: str      # N_: what the two have in common, and how the engine's differs

    @property
    def lines_in_function(self) -> tuple[int, int]:
        """The engine's first and last line, counted from its function's first line (1), as the page's
        numbers show them. LookupError if the engine's source has lost them."""
        lines = self.part.source.splitlines()
        first = next((number for number, line in enumerate(lines, start=1) if self.first_text in line), None)
        last = next((number for number, line in enumerate(lines[first - 1:], start=first) if self.last_text in line),
                    None) if first else None
        if last is None:
            raise LookupError(f"{self.first_text!r} ... {self.last_text!r} is not in {self.part.name}")
        return first, last

    @property
    def lines_in_file(self) -> tuple[int, int]:
        first, last = self.lines_in_function
        return self.part.first_line + first - 1, self.part.first_line + last - 1

    @property
    def engine_lines(self) -> str:
        first, last = self.lines_in_function
        return textwrap.dedent("\n".join(self.part.source.splitlines()[first - 1:last]))


def note_lines(first: str, last: str | None = None) -> str:
    """The lines of NOTE_CODE from the first starting with `first` to the next starting with `last` (or the one)."""
    lines = NOTE_CODE.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip().startswith(first))
    end = start if last is None else next(index for index in range(start, len(lines)) if lines[index].strip().startswith(last))
    return textwrap.dedent("\n".join(lines[start:end + 1]))


MODEL_LINES = {
    "linear": ("def call(self, flat_images):", "keras.ops.matmul(flat_images, self.W) + self.b", N_(
        "The same x @ W + b: the app's linear layer keeps W (784x10) and b (10) as the note does, and a Flatten layer "
        "before it turns each 28x28 picture into the 784 numbers x.")),
    "mlp": ("for index in range(config.hidden_layers):", "return keras.Sequential(", N_(
        "The note's model is one matrix product; the MLP stacks hidden Dense layers, each x @ W + b followed by "
        "ReLU, before the last one gives the ten scores.")),
    "cnn": ("layers = [", "return keras.Sequential(", N_(
        "The note's model is one matrix product; the CNN first slides small 3x3 filters over the picture "
        "(convolutions) and shrinks it (max-pooling), then its Dense layers give the ten scores.")),
}


def matches(config: TrainConfig) -> list[Match]:
    """The note's parts, each with the engine's lines that do it in a run of `config`."""
    parts = {part.function: part for part in engine_parts(config)}
    step = parts[make_train_step]
    return [
        Match("model", note_lines("def model", "return"), parts[model_function(config)], *MODEL_LINES[config.model]),
        Match("loss", note_lines("def loss", "return"), step,
              "with tf.GradientTape() as tape:", "data_loss = cross_entropy(labels, logits)", N_(
                  "The same mean cross-entropy of the logits against the true labels (Keras' "
                  "SparseCategoricalCrossentropy, from logits).")),
        Match("grad", note_lines("def grad", "return"), step,
              "with tf.GradientTape() as tape:", "gradients = tape.gradient(loss, model.trainable_variables)", N_(
                  "The same tape: the forward pass is recorded inside `with tf.GradientTape() as tape`, then "
                  "`tape.gradient` gives each weight's gradient. An L2 penalty, if the run has one, is added to the "
                  "loss inside the tape.")),
        Match("apply_gradients", note_lines("optimizer.apply_gradients"), step,
              "gradients = tape.gradient(", "optimizer.apply_gradients(", N_(
                  "The same call: the optimizer moves every weight against its gradient, by the learning rate.")),
        Match("optimizer", note_lines("optimizer = "), parts[optimizer_with_rate],
              f'"{config.optimizer}": lambda', f'"{config.optimizer}": lambda', N_(
                  "The note's is plain gradient descent; this run's optimizer is made here, with its learning rate (a "
                  "number, or the cosine schedule's).")),
        Match("accuracy", note_lines("def accuracy", "return"), parts[make_measure],
              "logits = model(images_to_input(images), training=False)", "correct = tf.equal(", N_(
                  "The same comparison of the highest score with the true label, counted over the fixed sample of "
                  "training pictures and the validation set after each epoch, dropout off.")),
        Match("for step", note_lines("for step in range", "optimizer.apply_gradients"),
              parts[make_train_chunk], "for index in tf.range(step_count):", "loss, right = train_step(", N_(
                  "The same inner loop, compiled: one call runs many steps in a row (a chunk), each gathering its "
                  "batch and calling the step above, so no Python runs between batches.")),
        Match("for epoch", note_lines("for epoch in range", "print("), parts[Training._train],
              "for epoch in range(1, config.epochs + 1):", "result = self._measure_epoch(loop, epoch)", N_(
                  "The same outer loop: a new shuffle each epoch, the batches in chunks, then the measurements; "
                  "between chunks the classroom's controls (pause, step, stop, time limits).")),
    ]


# What each arithmetic path (precision.py) does, as a comment of the code: the code's comments are English.
PRECISION_COMMENTS = {FLOAT32: "32-bit floats throughout",
                      MIXED_BFLOAT16: "bfloat16 products, float32 weights (models.py)"}


def settings_code(config: TrainConfig, precision: str = FLOAT32) -> str:
    """The run's settings that apply to its model, as the values they became, what follows from them, and
    the arithmetic it trains in (`precision`)."""
    examples = training_examples(config, sum(dataset_facts(config.dataset).label_counts["y_train"]))
    # The arithmetic first, its comment above it: the box shows its first lines unscrolled, and is narrow.
    lines = [f"# {PRECISION_COMMENTS[precision]}", f"precision = {precision!r}"]
    lines += [f"config.{name} = {value!r}" for name, value in config.to_dict().items() if setting_applies(name, config)]
    lines += [f"training_examples = {examples:_}",
              f"steps_per_epoch = {steps_per_epoch(examples, config.batch_size)}  # ceil({examples:_} / {config.batch_size})"]
    return "\n".join(lines)
