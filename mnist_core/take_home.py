"""A run to take home: a plain TensorFlow program that trains the run again the way the study note
writes it, as a script (`.py`) and as a notebook (`.ipynb`), with the reader's language in its prose.

It needs only `pip install tensorflow matplotlib`: no line imports `mnist_core`. What it holds:

- the run's settings, as the values the app trained with (`config`, every field of its TrainConfig);
- code carried verbatim from the engine with `inspect`, so it can never drift from what the app runs:
  the split (`split_indices`, `stratified_take`), the order of the batches and the sample the
  training metrics are measured on (`shuffled_order`, `metrics_sample`), the optimizer
  (`make_optimizer`), the MLP's and the CNN's builders, and, for a run that varies its training
  digits, the augmentation's functions;
- written here in the note's style: loading the data with Keras, the linear model as one plain
  Dense layer (`models.build_linear_as_dense`, the same x @ W + b), the note's four functions
  (`model`, `loss`, `grad`, `accuracy`), its `for epoch: for step:` loop with `tf.GradientTape`
  and its epoch line, the curves (matplotlib), then the test set with the app's own `.keras` file
  beside the script's model.

`QUICK_CHECK=1` in the environment trains one epoch on QUICK_CHECK_DIGITS training digits: what CI
runs (tests/test_take_home.py), and what a student runs first to see that everything is in place.
`quick_check_config` is the app's config that does the same, for the comparison.

No Streamlit here; the pages offer `script_text` and `notebook_bytes` as downloads.
"""

from __future__ import annotations

import dataclasses
import re

from .augmentation import (
    DRAWS_PER_DIGIT,
    _affine_transforms,
    _brightest_neighbour,
    _thicker_or_thinner,
    transform_digits,
    variation_draws,
    vary,
)
from .cli_text import wrap
from .code_behind import function_source
from .config import AUGMENTATION_SETTINGS, MODEL_TITLES, TrainConfig, is_augmented
from .data import IMAGE_SIZE, NUM_CLASSES, dataset_facts, split_indices, stratified_take
from .i18n import N_, render
from .models import BUILDERS, build_linear_as_dense, make_optimizer, optimizer_with_rate
from .precision import FLOAT32, MIXED_BFLOAT16
from .training import metrics_sample, shuffled_order

QUICK_CHECK_DIGITS = 1000  # training digits in a quick check: one epoch of them takes seconds, the CNN's too
QUICK_CHECK_VARIABLE = "QUICK_CHECK"
# Where the program reads the pictures from instead of Keras' download (a classroom without internet, CI).
DATASET_FILE_VARIABLE = "DATASET_FILE"
CURVES_FILE = "curves.png"
COMMENT_WIDTH = 100  # the script's prose, in display columns
# The most a whole run of a preset here was from the app's validation accuracy at any epoch, in percentage
# points, as benchmarks/take_home_reproduction.py measured it on MNIST (0.15, the MLP; the CNN's preset of 3
# epochs 0.08, or 0.13 against the app in mixed bfloat16; the linear model's were identical; 0.28 for the
# CNN's earlier preset of 5 epochs): the introduction says it.
FULL_RUN_CLOSENESS_POINTS = 0.3
# The Keras module each dataset loads from, as `keras.datasets.<module>.load_data()`.
KERAS_DATASET_MODULES = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
# The model builder the script carries for each model: the engine's own, except the linear model's,
# which is the same maths as one standard Dense layer, so its .keras file loads in plain Keras.
SCRIPT_BUILDERS = {**BUILDERS, "linear": build_linear_as_dense}


def quick_check_config(config: TrainConfig) -> TrainConfig:
    """The app's settings that train what the script trains with QUICK_CHECK=1: one epoch, on at most
    QUICK_CHECK_DIGITS training digits (the script's settings cell says the same in Python)."""
    subset = min(config.train_subset_size or QUICK_CHECK_DIGITS, QUICK_CHECK_DIGITS)
    return dataclasses.replace(config, epochs=1, train_subset_size=subset)


def engine_source(*functions) -> str:
    """The source of engine functions, as the app runs them, one after another (two blank lines between)."""
    return "\n\n\n".join(function_source(function).rstrip() for function in functions) + "\n"


@dataclasses.dataclass(frozen=True)
class Section:
    """One part of the program: a heading and what it does (markdown in the reader's language) and its code."""

    heading: str
    explanation: str
    code: str


@dataclasses.dataclass(frozen=True)
class RunFacts:
    """What the program says of a saved run, beyond its settings: None of each for settings not trained yet."""

    name: str | None = None
    run_id: str | None = None
    keras_file: str | None = None
    history: tuple = ()  # (epoch, train loss, train accuracy, validation loss, validation accuracy) per epoch
    precision: str = FLOAT32  # the arithmetic the app trains it in (precision.py); the program's is float32

    @classmethod
    def of(cls, run, keras_file: str) -> "RunFacts":
        return cls(run.name, run.run_id, keras_file, tuple(
            (r.epoch, round(r.train_loss, 6), round(r.train_acc, 6), round(r.val_loss, 6), round(r.val_acc, 6))
            for r in run.history), run.precision)


def settings_code(config: TrainConfig, run: RunFacts) -> str:
    """The settings cell: every setting as the value the run trained with, the quick check, the app's results."""
    fields = "\n".join(f"    {name}={value!r}," for name, value in config.to_dict().items())
    history = "".join(f"\n    {row!r}," for row in run.history)
    return f'''import math
import os
from types import SimpleNamespace

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

IMAGE_SIZE = {IMAGE_SIZE}   # pixels a side
NUM_CLASSES = {NUM_CLASSES}  # classes to tell apart

# The run's settings, as the app trained it.
config = SimpleNamespace(
{fields}
)

# {QUICK_CHECK_VARIABLE}=1 in the environment: one epoch on {QUICK_CHECK_DIGITS} training pictures, to check that everything runs.
QUICK_CHECK = os.environ.get("{QUICK_CHECK_VARIABLE}") == "1"
if QUICK_CHECK:
    config.epochs = 1
    config.train_subset_size = min(config.train_subset_size or {QUICK_CHECK_DIGITS}, {QUICK_CHECK_DIGITS})

# The app's model of this run (download it beside this file), and the app's numbers for each epoch:
# (epoch, training loss, training accuracy, validation loss, validation accuracy).
KERAS_FILE = {run.keras_file!r}
APP_HISTORY = [{history}
]
'''


def data_code(config: TrainConfig, language: str) -> str:
    module = KERAS_DATASET_MODULES[config.dataset]
    return f'''# Without internet: {DATASET_FILE_VARIABLE}=path/to/{dataset_facts(config.dataset).file_name} (Keras' four arrays in one .npz, as the app keeps them).
try:
    if os.environ.get("{DATASET_FILE_VARIABLE}"):
        with np.load(os.environ["{DATASET_FILE_VARIABLE}"]) as arrays:
            (all_train_images, all_train_labels), (test_images, test_labels) = (
                (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))
    else:
        (all_train_images, all_train_labels), (test_images, test_labels) = keras.datasets.{module}.load_data()
except Exception as error:  # no internet, or a file that is not the four arrays: say what to do, not a traceback
    raise SystemExit({render(LOAD_FAILED, language)!r}.format(error=error, file={dataset_facts(config.dataset).file_name!r})) from None

{engine_source(split_indices, stratified_take).rstrip()}


train_indices, train_labels, validation_indices = split_indices(
    all_train_labels, config.validation_fraction, config.train_subset_size, config.label_noise, config.seed)
train_images = all_train_images[train_indices]
validation_images, validation_labels = all_train_images[validation_indices], all_train_labels[validation_indices]
train_labels, validation_labels, test_labels = (labels.astype(np.int32) for labels in
                                                (train_labels, validation_labels, test_labels))
print(f"{{len(train_labels)}} training, {{len(validation_labels)}} validation, {{len(test_labels)}} test pictures")


def to_input(images):
    """uint8 pictures -> the float32 values in [0, 1] the model reads."""
    return tf.cast(images, tf.float32) / 255.0
'''


def model_code(config: TrainConfig) -> str:
    builder = SCRIPT_BUILDERS[config.model]
    return f'''{engine_source(builder).rstrip()}


model = {builder.__name__}(config)
model.summary()
'''


OPTIMIZER_CODE = '''{optimizers}


steps_per_epoch = math.ceil(len(train_labels) / config.batch_size)
optimizer = make_optimizer(config, steps_per_epoch)
loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
'''

FUNCTIONS_CODE = '''def loss(model, x, y, training):
    """The mean cross-entropy of the model's answers for a batch (the model returns logits)."""
    return loss_object(y, model(x, training=training))


def grad(model, x, y):
    """The batch's loss, and its gradient with respect to every weight: what the tape records."""
    with tf.GradientTape() as tape:
        loss_value = loss(model, x, y, training=True)
        # An L2 penalty, if the run has one, is trained on but not reported (as in the app).
        total = loss_value + tf.add_n(model.losses) if model.losses else loss_value
    return loss_value, tape.gradient(total, model.trainable_variables)


def accuracy(model, x, y):
    """The share of the batch the model reads right (dropout off)."""
    predictions = tf.argmax(model(x, training=False), axis=1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(tf.equal(predictions, y), tf.float32))


@tf.function  # the same maths as a graph: several times faster than step by step in Python
def train_step(x, y):
    loss_value, gradients = grad(model, x, y)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss_value


def evaluate(model, images, labels, batch_size=1000):
    """Mean loss and accuracy on a whole set of pictures, a batch at a time."""
    total_loss = total_right = 0.0
    for start in range(0, len(labels), batch_size):
        x, y = to_input(images[start:start + batch_size]), labels[start:start + batch_size]
        total_loss += float(loss(model, x, y, training=False)) * len(y)
        total_right += float(accuracy(model, x, y)) * len(y)
    return total_loss / len(labels), total_right / len(labels)
'''

AUGMENTATION_CODE = '''DRAWS_PER_DIGIT = {draws_per_digit}

{functions}


AUGMENTATION_AMOUNTS = [{amounts}]
vary_batch = tf.function(vary)
'''

LOOP_CODE = '''{helpers}


sample = metrics_sample(config.seed, len(train_labels), config.train_metrics_sample)
history = []  # (epoch, training loss, training accuracy, validation loss, validation accuracy)
best_validation_loss, best_weights, epochs_without_improvement = math.inf, None, 0
for epoch in range(1, config.epochs + 1):
    order = shuffled_order(config.seed, epoch, len(train_labels))  # a new shuffle every epoch{draws}
    for step in range(steps_per_epoch):
        batch = order[step * config.batch_size:(step + 1) * config.batch_size]
        x = to_input(train_images[batch]){vary}
        train_step(x, train_labels[batch])
    # Then measure, dropout off: a fixed sample of the training pictures, and the validation set.
    train_loss, train_accuracy = evaluate(model, train_images[sample], train_labels[sample])
    validation_loss, validation_accuracy = evaluate(model, validation_images, validation_labels)
    history.append((epoch, train_loss, train_accuracy, validation_loss, validation_accuracy))
    print(f"Epoch {{epoch:03d}}: Loss: {{train_loss:.4f}}, Accuracy: {{train_accuracy:.3%}}, "
          f"Validation loss: {{validation_loss:.4f}}, Validation accuracy: {{validation_accuracy:.3%}}")
    # Early stopping, if the run asked for it: stop when validation loss has not improved for a while.
    if validation_loss < best_validation_loss:
        best_validation_loss, best_weights, epochs_without_improvement = validation_loss, model.get_weights(), 0
    else:
        epochs_without_improvement += 1
    patience = config.early_stopping_patience
    if patience and epochs_without_improvement >= patience and epoch < config.epochs:
        if config.restore_best_weights:
            model.set_weights(best_weights)
        print({stopped_early!r}.format(patience=patience))
        break
'''

CURVES_CODE = f'''from matplotlib.ticker import MaxNLocator

epochs_done = [row[0] for row in history]
figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(11, 4))
for axes, column, title in ((loss_axes, 1, "loss"), (accuracy_axes, 2, "accuracy")):
    axes.plot(epochs_done, [row[column] for row in history], "o-", label="training")
    axes.plot(epochs_done, [row[column + 2] for row in history], "o-", label="validation")
    if APP_HISTORY and not QUICK_CHECK:
        app_epochs = [row[0] for row in APP_HISTORY]
        axes.plot(app_epochs, [row[column + 2] for row in APP_HISTORY], "k:", label="validation, in the app")
    axes.set_xlabel("epoch")
    axes.set_title(title)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs only
    axes.legend()
figure.tight_layout()
figure.savefig("{CURVES_FILE}")
plt.show()
'''

TEST_CODE = '''def points(share):
    """A difference of two shares in percentage points, to two decimals (+ 0.0: never "-0.00")."""
    return round(share * 100, 2) + 0.0


test_loss, test_accuracy = evaluate(model, test_images, test_labels)
print(f"This program's model: test accuracy {test_accuracy:.3%}, test loss {test_loss:.4f}")
for (epoch, *_, validation_accuracy), app_epoch in zip(history, [] if QUICK_CHECK else APP_HISTORY):
    print(f"Epoch {epoch}: validation accuracy {validation_accuracy:.3%} here, {app_epoch[4]:.3%} in the app "
          f"({points(validation_accuracy - app_epoch[4]):+.2f} points)")
if KERAS_FILE and os.path.exists(KERAS_FILE):
    app_model = keras.models.load_model(KERAS_FILE)
    app_test_loss, app_test_accuracy = evaluate(app_model, test_images, test_labels)
    print(f"The app's model ({KERAS_FILE}): test accuracy {app_test_accuracy:.3%}, test loss {app_test_loss:.4f}")
    if QUICK_CHECK:
        print({not_comparable!r})
    else:
        print(f"Difference: {points(test_accuracy - app_test_accuracy):+.2f} percentage points")
elif KERAS_FILE:
    print({missing!r}.format(file=KERAS_FILE))
'''

# What the program prints where something is missing or ends early, in the reader's language ({fields}
# filled in by the program itself).
LOAD_FAILED = N_(
    "The pictures could not be loaded ({error}). Connect to the internet for Keras' download, or set DATASET_FILE to "
    "a file of Keras' four arrays (x_train, y_train, x_test, y_test), such as the app's data/{file}.")
KERAS_FILE_MISSING = N_(
    "{file} is not in this folder: download the app's model of this run (Replay page, under Take it along) into it to "
    "compare.")
NOT_COMPARABLE = N_(
    "A quick check trains one epoch on a few pictures: its model is not comparable with the app's, which trained on "
    "them all. Run the program without QUICK_CHECK to compare.")
STOPPED_EARLY = N_("Stopped early: validation loss has not improved for {patience} epoch(s).")
# What each augmentation does to a picture, for the sentence that lists a run's.
AUGMENTATION_KINDS = {"augment_shift": N_("shifted"), "augment_rotation": N_("turned"), "augment_scale": N_("resized"),
                      "augment_thickness": N_("written with a thinner or bolder pen"), "augment_flip": N_("mirrored")}

# The prose of each part, in the reader's language: the note's headings, what the code does.
INTRODUCTION = N_(
    "# {title}\n\n"
    "This program trains the model again, in plain TensorFlow, the way the study note writes it: the note's "
    "four functions (`model`, `loss`, `grad`, `accuracy`) and its `for epoch: for step:` loop with "
    "`tf.GradientTape`. It has the run's own settings, the same split of the data, the same seed and the same "
    "batches in the same order as the app.\n\n"
    "It needs only `pip install tensorflow matplotlib`. To check that everything runs before the whole "
    "training, set the environment variable `QUICK_CHECK=1`: one epoch on {quick:,} training pictures.\n\n"
    "**How close to the app?** {closeness}")
CLOSENESS = N_(
    "The starting weights, the batches, dropout's random masks and the maths are the app's. Measured by MNIST "
    "Lab's makers on their own computer, one epoch on {quick:,} pictures gives the app's numbers to four decimal places; over whole runs of the "
    "presets the linear model's numbers stay identical, and the MLP's and the CNN's validation accuracy stays within "
    "{points:.1f} percentage points of the app's at every epoch. Not bit for bit: the app runs many steps in one "
    "compiled call, where float32 numbers may be added in another order, and in a network with hidden layers such "
    "last-digit differences grow over thousands of steps, as they would between two computers.")
# Said after CLOSENESS of a run the app trains in mixed bfloat16. The program computes in float32 on every
# computer: bfloat16 is slower than float32 where the processor has no bfloat16 instructions of its own.
BFLOAT16_CLOSENESS = N_(
    "This run is further off: the app computes it in mixed bfloat16, multiplying 16-bit numbers, which its server's "
    "processor does natively; this program computes in float32, 32-bit numbers, which every computer multiplies "
    "quickly. 16-bit numbers keep fewer digits, so the program's numbers differ from the app's from the first step on.")
SECTIONS = {
    "settings": (N_("## 1. The settings"), N_(
        "Every setting of the run, as the value the app trained with. Change one and run again to see what it does.")),
    "data": (N_("## 2. The data: training, validation and test sets"), N_(
        "Keras loads {dataset}: {train:,} training and {test:,} test pictures of 28x28 pixels. The app's own "
        "function splits off the validation set (`split_indices`, copied from the app): the model never trains on "
        "it, it measures how well the model reads pictures it has not seen. The test set is kept for the end.")),
    "model": (N_("## 3. The model"), N_(
        "`{builder}`: the function that builds this run's model ({model}). It returns logits, the scores before "
        "the softmax; the loss takes the softmax itself.")),
    "optimizer": (N_("## 4. The optimizer and the loss"), N_(
        "The optimizer moves each weight a little against its gradient after every batch; `make_optimizer` is the "
        "app's. The loss is the cross-entropy between the model's answers and the true labels.")),
    "functions": (N_("## 5. The note's four functions"), N_(
        "`model(x)` is the model above. `loss` measures how wrong its answers are, `grad` records the forward "
        "pass on a `tf.GradientTape` and asks for the gradient of the loss with respect to every weight, and "
        "`accuracy` counts the right answers. `train_step` is one step: `grad`, then "
        "`optimizer.apply_gradients`.")),
    "augmentation": (N_("## 5b. Augmentation"), N_(
        "This run varies every training picture a little each time it is seen: {kinds}. These are the app's own "
        "functions; the validation and test pictures are never varied.")),
    "loop": (N_("## 6. The training loop"), N_(
        "For each epoch, a new shuffle of the training pictures; for each step, one batch through `train_step`. "
        "After each epoch the model is measured with dropout off, on a fixed sample of the training pictures and "
        "on the validation set, and the note's epoch line is printed.")),
    "curves": (N_("## 7. The curves"), N_(
        "Loss and accuracy per epoch, for training and validation. A validation loss that turns up while the training "
        "loss still falls is overfitting.")),
    "curves_app": (N_("## 7. The curves"), N_(
        "Loss and accuracy per epoch, for training and validation, and the app's validation curves of this run, "
        "dotted. A validation loss that turns up while the training loss still falls is overfitting.")),
    "test": (N_("## 8. The final exam: the test set"), N_(
        "Only now is the test set used, once. (A program downloaded for a run trained in the app also has the app's "
        "own model of that run sit the same exam.)")),
    "test_app": (N_("## 8. The final exam: the test set"), N_(
        "Only now is the test set used, once. The app's own model of this run (`{keras_file}`: download it from the "
        "Replay page, under Take it along, into this program's folder) sits the same exam, so you can see how close "
        "the two are.")),
}


def sections(config: TrainConfig, language: str, run: RunFacts = RunFacts()) -> list[Section]:
    """The program's parts, in order, with their prose in `language`."""
    facts = dataset_facts(config.dataset)

    def section(key: str, code: str, **fields) -> Section:
        heading, explanation = SECTIONS[key]
        return Section(render(heading, language), render(explanation, language, **fields), code)

    helpers = engine_source(shuffled_order, metrics_sample).rstrip()
    augmented = is_augmented(config)
    parts = [
        section("settings", settings_code(config, run)),
        section("data", data_code(config, language), dataset=facts.title, train=sum(facts.label_counts["y_train"]),
                test=sum(facts.label_counts["y_test"])),
        section("model", model_code(config), builder=SCRIPT_BUILDERS[config.model].__name__,
                model=render(MODEL_TITLES[config.model], language)),
        section("optimizer", OPTIMIZER_CODE.format(optimizers=engine_source(optimizer_with_rate, make_optimizer).rstrip())),
        section("functions", FUNCTIONS_CODE),
    ]
    if augmented:
        functions = engine_source(_affine_transforms, _brightest_neighbour, _thicker_or_thinner, transform_digits,
                                  variation_draws, vary).rstrip()
        amounts = ", ".join(f"config.{name}" for name in AUGMENTATION_SETTINGS)
        kinds = render(N_(", "), language).join(render(AUGMENTATION_KINDS[name], language)
                                                for name in AUGMENTATION_SETTINGS if getattr(config, name))
        parts.append(section("augmentation", AUGMENTATION_CODE.format(draws_per_digit=DRAWS_PER_DIGIT, functions=functions,
                                                                      amounts=amounts), kinds=kinds))
    draws = ("\n    draws = variation_draws(len(train_labels), [config.seed, epoch])  # each picture's variation"
             if augmented else "")
    vary_line = ("\n        x = vary_batch(x, AUGMENTATION_AMOUNTS, draws[:, step * config.batch_size:(step + 1) * config.batch_size])"
                 if augmented else "")
    parts += [
        section("loop", LOOP_CODE.format(helpers=helpers, draws=draws, vary=vary_line,
                                         stopped_early=render(STOPPED_EARLY, language))),
        section("curves_app" if run.history else "curves", CURVES_CODE),
        section("test_app" if run.keras_file else "test",
                TEST_CODE.replace("{missing!r}", repr(render(KERAS_FILE_MISSING, language))).replace(
                    "{not_comparable!r}", repr(render(NOT_COMPARABLE, language))), keras_file=run.keras_file),
    ]
    return parts


def markdown_text(text: str) -> str:
    """Anyone's text (a run's name) shown as itself in a notebook's Markdown: no markup or HTML of its own."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>&])", r"\\\1", text)


def introduction(config: TrainConfig, language: str, run: RunFacts, markdown: bool = True) -> str:
    """The program's first words: its title (the run's name, as plain text in Markdown), what it is, how close."""
    title = run.name or f"{dataset_facts(config.dataset).title}, {render(MODEL_TITLES[config.model], language)}"
    title = markdown_text(title) if markdown else title
    return render(INTRODUCTION, language, title=title, quick=QUICK_CHECK_DIGITS,
                  closeness=render(CLOSENESS, language, quick=QUICK_CHECK_DIGITS, points=FULL_RUN_CLOSENESS_POINTS)
                  # Chinese sentences follow each other without a space
                  + (("" if language == "zh" else " ") + render(BFLOAT16_CLOSENESS, language)
                     if run.precision == MIXED_BFLOAT16 else ""))


def script_text(config: TrainConfig, language: str, run: RunFacts = RunFacts()) -> str:
    """The program as one Python script: each part's prose as comments above its code."""

    def commented(markdown: str) -> str:
        """Markdown as comment lines of at most COMMENT_WIDTH columns (a Han character takes two), headings unmarked."""
        lines = [wrapped for line in markdown.splitlines()
                 for wrapped in (wrap(line.lstrip("#").strip(), COMMENT_WIDTH) or [""])]
        return "\n".join(f"# {line}".rstrip() for line in lines)

    parts = [commented(introduction(config, language, run, markdown=False)) + "\n"]
    for part in sections(config, language, run):
        parts.append(f"# %% {part.heading.lstrip('# ')}\n{commented(part.explanation)}\n\n{part.code}")
    return "\n\n".join(parts)


def notebook(config: TrainConfig, language: str, run: RunFacts = RunFacts()):
    """The program as a Jupyter notebook (nbformat 4): a markdown cell, then a code cell, per part."""
    import nbformat  # only when a notebook is asked for: the app starts without it

    cells = [nbformat.v4.new_markdown_cell(introduction(config, language, run))]
    for part in sections(config, language, run):
        cells.append(nbformat.v4.new_markdown_cell(f"{part.heading}\n\n{part.explanation}"))
        cells.append(nbformat.v4.new_code_cell(part.code.rstrip()))
    book = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(book)
    return book


def notebook_bytes(config: TrainConfig, language: str, run: RunFacts = RunFacts()) -> bytes:
    import nbformat

    return nbformat.writes(notebook(config, language, run)).encode("utf-8")

