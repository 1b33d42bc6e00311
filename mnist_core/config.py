"""Every hyperparameter of a run (TrainConfig), the models' presets and the teaching constants.

Settings only: no TensorFlow, so the pages, the runs and the CLI can read and check a config
without loading it. The loop that uses these settings is training.py.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np

from .data import DATASET_NAMES, DatasetSplit, split_dataset
from .i18n import N_, Message

MODEL_NAMES = ("linear", "mlp", "cnn")
# Each model's name for people, in a table or a sentence (the sidebar adds what each is).
MODEL_TITLES = {"linear": N_("Linear"), "mlp": N_("MLP"), "cnn": N_("CNN")}
OPTIMIZER_NAMES = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
OPTIMIZER_LABELS = {"sgd": N_("SGD"), "momentum": N_("SGD with momentum"), "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
SCHEDULE_NAMES = ("constant", "cosine")


def hyperparameter(default, what: str, why: str):
    """A TrainConfig field with what it is and the reason for its default: the help of its widget
    in the pages and of its flag in the CLI (see `TrainConfig.help`)."""
    return dataclasses.field(default=default, metadata={"what": what, "why": why})


@dataclasses.dataclass
class TrainConfig:
    """Every hyperparameter of a run. Saved next to the run's results so each chart can say how it was made."""

    dataset: str = hyperparameter(
        "mnist", N_("Which pictures the model learns to read: MNIST's handwritten digits or Fashion-MNIST's clothes and "
        "shoes (the same size, ten classes too)."),
        N_("MNIST is where the note starts; on Fashion-MNIST every model does worse, so the differences between them and "
        "overfitting are larger"))
    model: str = hyperparameter(
        "linear", N_("Which network reads the digits: linear (one layer of weights), MLP (hidden layers) or CNN (convolutions)."),
        N_("the linear model trains in seconds and is where the lesson starts"))
    optimizer: str = hyperparameter(
        "adam", N_("How the weights are changed after each batch: plain SGD follows the gradient; momentum, Adam, RMSprop "
        "and Adagrad each smooth or rescale it."), N_("Adam adapts the step size per weight, so it forgives a rough learning rate"))
    learning_rate: float = hyperparameter(
        0.003, N_("How big a step the optimizer takes along the gradient. Too small: learning crawls. Too big: the loss "
        "bounces or blows up."), N_("0.003 suits Adam on the linear model: it learns in a few epochs without bouncing around "
        "the minimum. Choosing an optimizer loads its usual starting rate"))
    learning_rate_schedule: str = hyperparameter(
        "constant", N_("Whether the learning rate stays the same (constant) or glides down to 0 over the run (cosine)."),
        N_("a constant rate is easiest to reason about; cosine settles into the minimum for the last fraction of a percent"))
    momentum: float = hyperparameter(
        0.9, N_("Only for SGD with momentum: how much of the previous steps' direction each step keeps."),
        N_("0.9 is the usual value: it averages about the last 10 steps"))
    epochs: int = hyperparameter(
        5, N_("How many passes over the whole training set."), N_("a handful of passes is enough for the linear model to level off"))
    batch_size: int = hyperparameter(
        100, N_("How many digits the model sees before each weight update. Smaller: more, noisier updates per epoch."),
        N_("the classic MNIST batch: small enough for many updates per epoch, big enough to be quick"))
    validation_fraction: float = hyperparameter(
        0.1, N_("The share of the 60,000 training digits held back to measure the model on digits it does not train on."),
        N_("6,000 validation digits measure accuracy to about +-0.3%"))
    train_subset_size: int | None = hyperparameter(
        None, N_("How many of the remaining training digits the model trains on."),
        N_("all of them by default; a few hundred provoke overfitting"))
    label_noise: float = hyperparameter(
        0.0, N_("The share of training labels replaced by a wrong digit (validation and test labels stay correct)."),
        N_("clean labels by default; noise shows a big model memorizing mistakes"))
    hidden_units: int = hyperparameter(
        128, N_("MLP and CNN: how many neurons the dense hidden layer has."), N_("128 is plenty for MNIST"))
    hidden_layers: int = hyperparameter(1, N_("MLP only: how many hidden layers are stacked."), N_("one hidden layer already passes 98%"))
    cnn_filters: int = hyperparameter(
        16, N_("CNN only: how many 3x3 filters the first convolution learns (the second learns twice as many)."),
        N_("16 passes 99% within seconds on a laptop"))
    dropout: float = hyperparameter(
        0.0, N_("MLP and CNN: the share of neurons switched off at random in each training step, so that no neuron can "
        "rely on another; a way to fight overfitting."), N_("off by default so overfitting is visible; 0.2-0.5 regularizes"))
    l2: float = hyperparameter(
        0.0, N_("L2 weight penalty: adds this times the sum of the squared weights to the loss, so big weights cost "
        "something; another way to fight overfitting."), N_("off by default; 1e-4 is a gentle penalty"))
    augment_shift: float = hyperparameter(
        0.0, N_("Augmentation: move each training digit by up to this many pixels in each direction, a new random "
        "shift every time it is seen (validation and test digits are never changed)."),
        N_("off, so the curves show the model as plain MNIST trains it; 2 pixels teaches it to read digits off centre"))
    augment_rotation: float = hyperparameter(
        0.0, N_("Augmentation: turn each training digit by up to this many degrees, either way."),
        N_("off; up to 15 degrees teaches it slanted handwriting, while a 6 stays far from a 9"))
    augment_scale: float = hyperparameter(
        0.0, N_("Augmentation: make each training digit bigger or smaller by up to this share (0.1: from 90% to 110%)."),
        N_("off; 0.1 teaches it small and big digits"))
    augment_thickness: float = hyperparameter(
        0.0, N_("Augmentation: write each training digit with a thinner or bolder pen, by up to this share of one "
        "pixel's erosion or dilation (1: a whole pixel)."), N_("off; 0.5 teaches it thin and bold pens"))
    augment_flip: float = hyperparameter(
        0.0, N_("Augmentation: the chance that a training picture is mirrored left to right each time it is seen."),
        N_("off; 0.5 suits Fashion-MNIST, where a mirrored shoe is still a shoe, never MNIST, where a mirrored 2 is no "
        "digit at all"))
    early_stopping_patience: int = hyperparameter(
        0, N_("Stop after this many epochs without a lower validation loss (0: train every epoch)."),
        N_("off, so every curve runs its full length; 3-5 stops a run that has started to overfit"))
    restore_best_weights: bool = hyperparameter(
        True, N_("After an early stop, go back to the weights of the best epoch (the one with the lowest validation loss)."),
        N_("the best epoch's weights are the ones worth keeping"))
    seed: int = hyperparameter(
        0, N_("The number that fixes every random choice: the starting weights, the shuffles, the validation split."),
        N_("same seed and settings give the same numbers, so runs can be compared fairly"))
    train_metrics_sample: int = hyperparameter(
        10000, N_("How many training digits the training loss and accuracy are measured on after each epoch."),
        N_("a fixed sample this big is accurate to +-0.3% at a fraction of the cost"))

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise ValueError with a message a student understands if any value makes no sense."""

        def whole(name, minimum, maximum=None):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum or (maximum is not None and value > maximum):
                if maximum is not None:
                    raise ValueError(Message("{name} must be a whole number between {minimum} and {maximum} (got {value!r}).",
                                             name=name, minimum=minimum, maximum=maximum, value=value))
                raise ValueError(Message("{name} must be a whole number of at least {minimum} (got {value!r}).", name=name,
                                         minimum=minimum, value=value))
            setattr(self, name, int(value))

        def number(name, minimum, maximum, include_minimum=True, include_maximum=True):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
                raise ValueError(Message("{name} must be a number (got {value!r}).", name=name, value=value))
            too_low = value < minimum or (value == minimum and not include_minimum)
            too_high = value > maximum or (value == maximum and not include_maximum)
            if too_low or too_high:
                low = "[" if include_minimum else "("
                high = "]" if include_maximum else ")"
                raise ValueError(Message("{name} must be in {interval} (got {value!r}).", name=name, value=value,
                                         interval=f"{low}{minimum}, {maximum}{high}"))
            setattr(self, name, float(value))

        def choice(name, options):
            if getattr(self, name) not in options:
                raise ValueError(Message("{name} must be one of {options} (got {value!r}).", name=name,
                                         options=", ".join(options), value=getattr(self, name)))

        choice("dataset", DATASET_NAMES)
        choice("model", MODEL_NAMES)
        choice("optimizer", OPTIMIZER_NAMES)
        choice("learning_rate_schedule", SCHEDULE_NAMES)
        number("learning_rate", 0.0, 100.0, include_minimum=False)
        number("momentum", 0.0, 1.0, include_maximum=False)
        whole("epochs", 1, 1000)
        whole("batch_size", 1)
        number("validation_fraction", 0.0, 1.0, include_minimum=False, include_maximum=False)
        if self.train_subset_size is not None:
            whole("train_subset_size", 1)
        number("label_noise", 0.0, 1.0)
        whole("hidden_units", 1, 4096)
        whole("hidden_layers", 1, 8)
        whole("cnn_filters", 1, 256)
        number("dropout", 0.0, 1.0, include_maximum=False)
        number("l2", 0.0, 1.0)
        number("augment_shift", 0.0, 8.0)
        number("augment_rotation", 0.0, 45.0)
        number("augment_scale", 0.0, 0.5)
        number("augment_thickness", 0.0, 1.0)
        number("augment_flip", 0.0, 1.0)
        whole("early_stopping_patience", 0)
        if not isinstance(self.restore_best_weights, bool):
            raise ValueError(Message("{name} must be true or false (got {value!r}).", name="restore_best_weights",
                                     value=self.restore_best_weights))
        whole("seed", 0, 2**31 - 1)
        whole("train_metrics_sample", 1)

    @classmethod
    def for_model(cls, model: str, **overrides) -> "TrainConfig":
        """The recommended starting point for `model` on the dataset in `overrides` (MNIST if none),
        with `overrides` on top."""
        if model not in MODEL_PRESETS:
            raise ValueError(Message("{name} must be one of {options} (got {value!r}).", name="model",
                                     options=", ".join(MODEL_NAMES), value=model))
        return cls(**{"model": model, **model_preset(model, overrides.get("dataset", "mnist")), **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        if not isinstance(values, dict):
            raise ValueError(Message("A run configuration must be a JSON object."))
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(Message("Unknown setting(s) in the configuration: {settings}.", settings=", ".join(unknown)))
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(Message("The configuration is not valid JSON ({error}).", error=str(error))) from error
        return cls.from_dict(values)

    @staticmethod
    def _field(field_name: str) -> dataclasses.Field:
        return next(field for field in dataclasses.fields(TrainConfig) if field.name == field_name)

    @staticmethod
    def what(field_name: str) -> Message:
        """What a setting is and does."""
        what = TrainConfig._field(field_name).metadata["what"]  # marked for the catalogs where the field is defined
        return Message(what)

    @staticmethod
    def help(field_name: str) -> Message:
        """What a setting is and does, then why its default was chosen: the help of its widget or flag."""
        field = TrainConfig._field(field_name)
        default = (Message("all") if field.default is None else f"{field.default:g}" if isinstance(field.default, float)
                   else field.default)
        what, why = field.metadata["what"], field.metadata["why"]
        return Message("{what} Default {default}: {why}.", what=Message(what), default=default, why=Message(why))


# The defaults above are the linear model's. These are the starting points of the bigger models,
# each passing its accuracy target on the test set (linear >= 92%, MLP >= 98%, CNN >= 99%).
# The settings of the data, not the model: a change of model (the sidebar's, a lesson step's) starts
# from the model's preset but keeps these.
DATA_SETTINGS = ("dataset", "validation_fraction", "train_subset_size", "label_noise", "seed")

MODEL_PRESETS = {
    "linear": {},
    "mlp": {"optimizer": "adam", "learning_rate": 0.001, "learning_rate_schedule": "cosine", "epochs": 10,
            "hidden_units": 256, "hidden_layers": 2, "dropout": 0.2},
    "cnn": {"optimizer": "adam", "learning_rate": 0.004, "learning_rate_schedule": "cosine", "epochs": 3,
            "batch_size": 128, "cnn_filters": 16, "hidden_units": 128, "dropout": 0.1},
}
# The CNN's preset is the one that passed 99.0% test accuracy soonest, for seeds 0, 1 and 2 alike, on both
# arithmetic paths (benchmarks/training_speed.py; the README's "Training speed" has each preset tried): 3
# epochs at batch 128 end at 99.03-99.09% in float32 and pass in mixed bfloat16, after 13 s of training on
# a 2-core server with bfloat16. Dropout 0.1, though each step costs 8% more: without it, the float32 path
# (most laptops) ended at 98.90-99.06%, two seeds of three short of 99%. (Batch 64 over 5 epochs with
# dropout 0.25 passed 99% at its third or fourth epoch, after 23-29 s.)
# Where a model's preset differs on Fashion-MNIST, and why. Each passes its target on the test set,
# as benchmarks/dataset_presets.py measures (linear >= 84%, MLP >= 88%, CNN >= 91%; Zalando's own table
# has logistic regression at about 84% and an MLP at about 87%). Clothes are harder to tell apart than
# digits, so the linear model and the CNN need more passes: the linear model's 5 constant-rate epochs
# end at 84.1%, 10 gliding down (cosine) at 84.7%; the CNN's 5 at 91.1%, 8 at 91.8%. The MLP's own
# preset already reaches 88.8%.
FASHION_MNIST_PRESETS = {
    "linear": {"epochs": 10, "learning_rate_schedule": "cosine"},
    "mlp": {},
    # Clothes overfit where digits do not: dropout, and the smaller batches and rate of the measured 91.8%.
    "cnn": {"epochs": 8, "batch_size": 64, "learning_rate": 0.003, "dropout": 0.25},
}
DATASET_PRESETS = {"mnist": MODEL_PRESETS, "fashion_mnist": {
    model: {**MODEL_PRESETS[model], **changes} for model, changes in FASHION_MNIST_PRESETS.items()}}


def model_preset(model: str, dataset: str = "mnist") -> dict:
    """Where the sidebar starts for `model` on `dataset`: the settings that differ from the defaults."""
    return DATASET_PRESETS.get(dataset, MODEL_PRESETS)[model]


# Each optimizer's customary starting learning rate. Plain SGD needs big steps; Adam and RMSprop
# rescale every step by the gradient's recent size, so theirs are small. An optimizer race run at
# one shared rate mostly measures which optimizer that rate happens to suit. SGD with momentum gets
# plain SGD's 0.1 (the classic recipe, with momentum 0.9), so the race shows what momentum adds: at
# 0.01, momentum 0.9 builds its steps up to plain SGD's at 0.1, and the two curves lie on top of each
# other ("momentum does nothing"). At the same rate the race shows it ahead.
USUAL_LEARNING_RATES = {"sgd": 0.1, "momentum": 0.1, "adam": 0.001, "rmsprop": 0.001, "adagrad": 0.03}

# A run that visibly overfits within seconds: a big MLP, 500 training digits, no regularisation.
# Training accuracy reaches 100% within ten epochs while validation accuracy stalls well below it and
# validation loss turns upward: the gap between the curves is the lesson.
OVERFITTING_PRESET = {"model": "mlp", "optimizer": "adam", "learning_rate": 0.001, "learning_rate_schedule": "constant",
                      "hidden_units": 256, "hidden_layers": 2, "dropout": 0.0, "l2": 0.0, "train_subset_size": 500,
                      "label_noise": 0.0, "batch_size": 32, "epochs": 40, "early_stopping_patience": 0}
OVERFITTING_RUN_NAME = "overfitting-demo"
QUICK_RUN_NAME = "quick-cnn"  # Draw's one-click CNN


def race_run_name(optimizer: str) -> str:
    return f"race-{optimizer}"


# The names the app gives its own runs, saved as these ids and shown in the reader's language
# (ui.i18n.run_name), so a Chinese class does not read "race-sgd" and "overfitting-demo" in English.
APP_RUN_NAMES = {OVERFITTING_RUN_NAME: N_("overfitting-demo"), QUICK_RUN_NAME: N_("quick-cnn"),
                 race_run_name("sgd"): N_("race-sgd"), race_run_name("momentum"): N_("race-momentum"),
                 race_run_name("adam"): N_("race-adam"), race_run_name("rmsprop"): N_("race-rmsprop"),
                 race_run_name("adagrad"): N_("race-adagrad")}
OVERFITTING_LOOK_FOR = N_(
    "training accuracy climbs to 100% within about ten epochs while validation accuracy stalls well below it. "
    "Training loss keeps falling towards zero, but validation loss stops falling and turns upward: the shaded gap "
    "between them widens. The model is memorizing its 500 digits, not learning to read. Then try a cure with one "
    "click below the charts.")

# The cures the pages offer for overfitting, each one change to a run ("train it again with ...").
# What each does to the overfitting preset is measured by benchmarks/overfitting_cures.py (its
# numbers are in the README's table), and the pages claim only what holds there: more digits, real
# or varied, close the gap; dropout narrows it a little; L2 keeps validation loss from climbing but
# does not raise the accuracy. (With label noise dropout helps more: `--set label_noise=0.2`; the
# preset stays clean, simpler to teach.)
MORE_DIGITS_FACTOR = 10
ALL_TRAINING_DIGITS_FROM = 50_000  # "10x the digits" beyond this trains on all of them (54,000 at the default split)
# What augmentation varies, per dataset. A digit written with a bolder pen is the same digit, but a
# mirrored 2 or 7 is no digit at all; clothes are not drawn with a pen, and a mirrored shoe or shirt is
# still a shoe or a shirt. A turn of 15 degrees suits both.
AUGMENTATION_AMOUNTS = {
    "mnist": {"augment_shift": 2.0, "augment_rotation": 15.0, "augment_scale": 0.15, "augment_thickness": 0.5},
    "fashion_mnist": {"augment_shift": 2.0, "augment_rotation": 15.0, "augment_scale": 0.1, "augment_flip": 0.5},
}
OVERFITTING_CURES = {
    "more_digits": (N_("10x the training examples"), {}),  # the run's own subset times MORE_DIGITS_FACTOR: cure_config
    "augmentation": (N_("augmentation"), {}),  # the amounts of the run's dataset: AUGMENTATION_AMOUNTS
    "dropout": (N_("dropout 0.5"), {"dropout": 0.5}),
    "l2": (N_("L2 penalty 0.001"), {"l2": 0.001}),
}
# What the cures did on each dataset, as benchmarks/overfitting_cures.py measured (--dataset).
OVERFITTING_CURES_MEASURED = {
    "mnist": N_(
        "Measured on this preset (40 epochs, two seeds): 5,000 training digits close the gap from 12.6 to 4.8 points "
        "(validation accuracy 95.2%), augmentation to 5.8 points (93.1%). Dropout 0.5 narrows it only a little (12.1 "
        "points, 87.9%). An L2 penalty of 0.001 does not raise validation accuracy (86.3%), but validation loss climbs "
        "half as much: the model is less overconfident, not better. With 500 digits a big model can memorize whatever the "
        "penalty; more digits, real or varied, are the cure that works."),
    "fashion_mnist": N_(
        "Measured on this preset on Fashion-MNIST (40 epochs, two seeds): 5,000 training pictures narrow the gap from 20.2 "
        "to 12.4 points and lift validation accuracy from 79.8% to 85.5%. Augmentation (shifts, turns, sizes, mirrors) "
        "closes the gap most, to 7.0 points, but validation accuracy falls to 75.3%: 500 varied pictures are harder to "
        "learn than they help. Dropout 0.5 narrows it to 15.5 points (80.7%); an L2 penalty of 0.001 changes little "
        "(78.6%). More real pictures are the cure that works."),
}


def cure_config(config, cure: str):
    """`config` trained again with one of OVERFITTING_CURES (each amount at least the cure's, none
    weakened), or None where that changes nothing: a setting that does not apply to the model (dropout
    on the linear model), every amount already as strong (augmentation again), or a run that trains on
    all its digits already."""
    _label, changes = OVERFITTING_CURES[cure]
    if cure == "more_digits":
        if config.train_subset_size is None:
            return None
        more = config.train_subset_size * MORE_DIGITS_FACTOR
        changes = {"train_subset_size": more if more < ALL_TRAINING_DIGITS_FROM else None}  # None: all of them
    else:
        changes = AUGMENTATION_AMOUNTS[config.dataset] if cure == "augmentation" else changes
        changes = {name: max(getattr(config, name), amount) for name, amount in changes.items()}
        if not all(setting_applies(name, config) for name in changes) or \
                all(getattr(config, name) == amount for name, amount in changes.items()):
            return None
    return TrainConfig.from_dict({**config.to_dict(), **changes})


# The settings that say how much to vary each training digit (augmentation.py), in the order `vary` takes them.
AUGMENTATION_SETTINGS = ("augment_shift", "augment_rotation", "augment_scale", "augment_thickness", "augment_flip")


def is_augmented(config) -> bool:
    """Whether a run with `config` varies its training digits at all."""
    return any(getattr(config, name) for name in AUGMENTATION_SETTINGS)


def setting_applies(name: str, config) -> bool:
    """Whether a setting changes anything for this config (momentum does nothing for Adam, say): the
    one answer for the sidebar (which shows only these), the Compare table (which lists only these)
    and the trainers (whose compiled step depends only on these). `config`: a TrainConfig, or the
    sidebar's settings as attributes."""
    return {"hidden_units": config.model in ("mlp", "cnn"), "hidden_layers": config.model == "mlp",
            "cnn_filters": config.model == "cnn", "dropout": config.model in ("mlp", "cnn"),
            "momentum": config.optimizer == "momentum", "restore_best_weights": config.early_stopping_patience > 0,
            }.get(name, True)


# The settings that choose a preset: the others are measured from the preset they choose.
PRESET_CHOICES = ("dataset", "model")


def differing_settings(config: "TrainConfig | dict") -> dict:
    """The settings of `config` that differ from where the sidebar starts for its model on its dataset
    (the model's preset there; the linear model's on MNIST is the defaults) and that change the run
    (setting_applies), in TrainConfig's order; first the dataset and the model where they are not the
    default ones. What a link for students
    carries (share_links.link_query) and what the class board says of an entry."""
    config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
    start, values = TrainConfig.for_model(config.model, dataset=config.dataset).to_dict(), config.to_dict()
    chosen = {name: values[name] for name in PRESET_CHOICES if values[name] != getattr(TrainConfig(), name)}
    return {**chosen, **{name: value for name, value in values.items()
                         if name not in PRESET_CHOICES and value != start[name] and setting_applies(name, config)}}


def usual_learning_rate(model: str, optimizer: str, dataset: str = "mnist") -> float:
    """Where a run of `model` with `optimizer` usually starts: the model preset's own rate when the
    preset uses that optimizer (the linear model's Adam: 0.003), else the optimizer's customary one."""
    preset = {**TrainConfig().to_dict(), **model_preset(model, dataset)}
    return preset["learning_rate"] if optimizer == preset["optimizer"] else USUAL_LEARNING_RATES[optimizer]


def lower_rate_advice(config: TrainConfig) -> Message:
    """What to try when the steps of `config`'s run overshoot: a tenth of its rate, and the
    optimizer's usual rate where that is lower still."""
    optimizer, gentler = Message(OPTIMIZER_LABELS[config.optimizer]), gentler_learning_rate(config)
    usual = usual_learning_rate(config.model, config.optimizer, config.dataset)
    if usual < gentler:
        return Message("The learning rate {rate:g} is too high for {optimizer}: try {gentler:g}, or {optimizer}'s usual "
                       "starting rate, {usual:g}.", rate=config.learning_rate, optimizer=optimizer, gentler=gentler, usual=usual)
    return Message("The learning rate {rate:g} is too high for {optimizer}: try {gentler:g}.", rate=config.learning_rate,
                   optimizer=optimizer, gentler=gentler)


def steps_per_epoch(training_examples: int, batch_size: int) -> int:
    """Optimizer steps (iterations) in one epoch: one per batch, the last batch possibly smaller."""
    return math.ceil(training_examples / batch_size)


def training_examples(config: TrainConfig, available_examples: int) -> int:
    """How many examples a run of `config` trains on, of `available_examples` before the validation split
    (60,000 for MNIST): split_dataset's count, worked out without splitting (a page asks on every rerun)."""
    return config.train_subset_size or available_examples - round(available_examples * config.validation_fraction)


def split_for_config(dataset, config: TrainConfig) -> DatasetSplit:
    """The split a run with `config` trains on (the config's data settings applied to `dataset`)."""
    return split_dataset(dataset, validation_fraction=config.validation_fraction, train_subset_size=config.train_subset_size,
                         label_noise=config.label_noise, seed=config.seed)


def gentler_learning_rate(config: TrainConfig) -> float:
    """What to try after a run whose steps overshot: a tenth, one stop of the usual log-scale search."""
    return config.learning_rate / 10
