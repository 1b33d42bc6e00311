"""Settings: one dict per browser session, shared by every page, and the sidebar of widgets that edits it.

Streamlit treats a widget on another page as a new widget, even with the same key, and would
show its default. So the settings live in their own session-state entry: each widget is set from
it before it is drawn, and a change the student makes is copied back by the widget's callback
(callbacks run before the script, so the page then draws the new value).
"""

from types import SimpleNamespace

import streamlit as st

from mnist_core import TrainConfig
from mnist_core.config import (
    AUGMENTATION_SETTINGS,
    DATA_SETTINGS,
    MODEL_TITLES,
    OPTIMIZER_LABELS,
    is_augmented,
    setting_applies,
    usual_learning_rate,
)
from mnist_core.kernels import ONEDNN
from mnist_core.precision import MIXED_BFLOAT16
from mnist_core.setting_ranges import SETTING_RANGES
from ui.dataset import dataset_title
from ui.i18n import GROUP_SEPARATOR, N_, _, in_page_language, listed, number, say
from ui.plain import plain

MODEL_LABELS = {"linear": N_("Linear (softmax of xW + b)"), "mlp": N_("MLP (hidden layers)"), "cnn": N_("CNN (convolutions)")}
SCHEDULE_LABELS = {"constant": N_("constant"), "cosine": N_("cosine")}


def model_name(model: str) -> str:
    """'Linear', 'MLP', 'CNN' in the reader's language: the model's label without its explanation, for tables and sentences."""
    return _(MODEL_TITLES[model])  # the sidebar's labels without their explanation

# Each setting's name for people: the sidebar's labels, the Compare table's rows, what a preset changed.
SETTING_LABELS = {
    "dataset": N_("Dataset"), "model": N_("Model"), "hidden_units": N_("Dense layer width"), "hidden_layers": N_("Hidden layers"),
    "cnn_filters": N_("Filters in the first convolution"), "dropout": N_("Dropout"), "l2": N_("L2 weight penalty"),
    "optimizer": N_("Optimizer"), "learning_rate": N_("Learning rate"), "learning_rate_schedule": N_("Learning-rate schedule"),
    "momentum": N_("Momentum"), "epochs": N_("Epochs"), "batch_size": N_("Batch size"),
    "early_stopping_patience": N_("Early stopping patience (0 = off)"),
    "restore_best_weights": N_("Restore the best epoch's weights"), "validation_fraction": N_("Validation fraction"),
    "train_subset_size": N_("Training examples used"), "label_noise": N_("Label noise (training only)"), "seed": N_("Seed"),
    "train_metrics_sample": N_("Digits the training metrics use"),
    "augment_shift": N_("Shift (pixels)"), "augment_rotation": N_("Rotation (degrees)"),
    "augment_scale": N_("Size change (share)"), "augment_thickness": N_("Pen thickness change"),
    "augment_flip": N_("Mirrored (chance)"),
}


def setting_label(name: str) -> str:
    """A setting's name for people, in the reader's language."""
    return _(SETTING_LABELS[name])


HIDDEN_SETTINGS = "hidden_settings"  # the settings a link for students hid (ui/share_link.py), for the whole session


def settings() -> dict:
    if "settings" not in st.session_state:
        st.session_state["settings"] = TrainConfig().to_dict()
    return st.session_state["settings"]


def apply_settings(values: dict) -> None:
    """Replace settings (a preset, say); the widgets show the new values on the next draw."""
    settings().update(values)


def hidden_settings() -> tuple[str, ...]:
    """The settings whose widgets the sidebar leaves out: the teacher's link fixed them for the lesson."""
    return st.session_state.get(HIDDEN_SETTINGS, ())


def hide_settings(names) -> None:
    st.session_state[HIDDEN_SETTINGS] = tuple(names)


def apply_unless_hidden(values: dict) -> None:
    """apply_settings for the sidebar's own changes (a model's preset, Reset): a hidden setting keeps the
    value the teacher's link gave it, since the student has no widget to see it change or set it back."""
    apply_settings({name: value for name, value in values.items() if name not in hidden_settings()})


def current_config() -> TrainConfig:
    return TrainConfig.from_dict(settings())


def store_setting(name: str, then=None) -> None:
    settings()[name] = st.session_state[f"widget_{name}"]
    if then:
        then()


def setting_widget(name: str, widget, on_change=None, help_text: str | None = None, **options):
    """Draw `widget` for the setting `name`, with its label and help, showing the stored value; a
    change is stored at once."""
    if name in hidden_settings():
        return None
    key = f"widget_{name}"
    st.session_state[key] = settings()[name]
    if "format_func" in options:
        options["format_func"] = in_page_language(options["format_func"])
    return widget(label=setting_label(name), key=key, help=help_text or say(TrainConfig.help(name)), on_change=store_setting,
                  args=(name, on_change), **options)


def setting_text(name: str, value) -> str:
    """A setting's value as people write it, in the reader's language."""
    if name == "dataset":
        return dataset_title(value)
    if name == "model":
        return _(MODEL_LABELS[value])
    if name == "optimizer":
        return _(OPTIMIZER_LABELS[value])
    if name == "learning_rate_schedule":
        return _(SCHEDULE_LABELS[value])
    if name == "train_subset_size":
        return _("all") if value is None else number(value, ",")
    if name in ("validation_fraction", "label_noise", "dropout", "augment_flip"):
        return number(value, ".0%")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return f"{value:g}" if isinstance(value, float) else number(value, ",") if isinstance(value, int) else str(value)


def setting_texts(config: TrainConfig) -> dict[str, str]:
    """The settings that apply to `config`, by their labels, as people write them."""
    values = config.to_dict()
    return {setting_label(name): setting_text(name, value) for name, value in values.items() if setting_applies(name, config)}


def arithmetic_words(precision: str) -> str:
    """Which arithmetic a run trains in (mnist_core/precision.py), in two words for the list of its settings."""
    return _("mixed bfloat16") if precision == MIXED_BFLOAT16 else _("float32")


def arithmetic_sentence(precision: str, kernels: str) -> str:
    """Which arithmetic a run trains in, and what it means, in a sentence (the help of arithmetic_words); then
    whose kernels it computes with (mnist_core/kernels.py)."""
    if precision == MIXED_BFLOAT16:
        sentence = _("It computes in mixed bfloat16: its multiplications use 16-bit bfloat16 numbers, which this server's "
                     "processor multiplies natively, so the epochs are faster; its weights, outputs and loss stay 32-bit "
                     "(float32).")
    else:
        sentence = _("It computes in float32, 32-bit numbers.")
    library = (_("Its convolutions and matrix products run on oneDNN's kernels.")
               if kernels == ONEDNN else _("Its convolutions and matrix products run on TensorFlow's own kernels (Eigen)."))
    # Two sentences, one after the other: English puts a space between them, Chinese none.
    return _("{sentence} {next_sentence}", sentence=sentence, next_sentence=library)


def describe(config: TrainConfig, precision: str | None = None) -> str:
    """One line for a run's main settings, for a page that shows what is training, ending with the arithmetic
    it trains in if `precision` is given."""
    optimizer = setting_text("optimizer", config.optimizer)
    parts = [dataset_title(config.dataset), model_name(config.model),
             _("{optimizer} at {rate:g} (cosine)", optimizer=optimizer, rate=config.learning_rate)
             if config.learning_rate_schedule == "cosine" else _("{optimizer} at {rate:g}", optimizer=optimizer, rate=config.learning_rate),
             _("batch {size:,}", size=config.batch_size), _("{epochs} epochs", epochs=config.epochs),
             _("{examples} training examples", examples=setting_text("train_subset_size", config.train_subset_size))]
    parts += [_("{setting} {value}", setting=setting_label(name).lower(), value=setting_text(name, getattr(config, name)))
              for name in ("dropout", "l2", "label_noise", *AUGMENTATION_SETTINGS)
              if getattr(config, name) and setting_applies(name, config)]
    if precision is not None:
        parts.append(arithmetic_words(precision))
    return listed(parts)


def announce_changes(before: dict, after: dict, what: str) -> None:
    """Say in a toast which settings `what` (a preset, say) changed, so no slider moves unseen."""
    changed = [_("{setting} {before} → {after}", setting=setting_label(name), before=setting_text(name, before[name]),
                 after=setting_text(name, after[name]))
               for name in SETTING_LABELS if before.get(name) != after.get(name) and name != "model"]
    if changed:
        st.toast(plain(_("{what}: {changes}.", what=what, changes=listed(changed, GROUP_SEPARATOR))), icon=":material/tune:")




def switch_model() -> None:
    """A new model starts from its own recommended preset on the chosen dataset; the data settings are kept."""
    before = dict(settings())
    model = before["model"]
    kept = {name: before[name] for name in DATA_SETTINGS}
    apply_unless_hidden(TrainConfig.for_model(model, **kept).to_dict())
    announce_changes(before, settings(), _("The {model} model's recommended settings", model=model_name(model)))


def switch_dataset() -> None:
    """A new dataset starts the model from its preset there (each dataset's presets are tuned for it);
    the other data settings are kept."""
    before = dict(settings())
    kept = {name: before[name] for name in DATA_SETTINGS}
    apply_unless_hidden(TrainConfig.for_model(before["model"], **kept).to_dict())
    announce_changes(before, settings(), _("The {model} model's recommended settings on {dataset}",
                                           model=model_name(before["model"]), dataset=dataset_title(before["dataset"])))


def switch_optimizer() -> None:
    """A new optimizer starts at its usual learning rate, as a new model starts from its preset:
    SGD at Adam's 0.003 would crawl, Adam at SGD's 0.1 would bounce."""
    before = dict(settings())
    apply_unless_hidden({"learning_rate": usual_learning_rate(before["model"], before["optimizer"], before["dataset"])})
    announce_changes(before, settings(), _("{optimizer}'s usual starting rate",
                                           optimizer=setting_text("optimizer", before["optimizer"])))


def reset_to_defaults() -> None:
    before = dict(settings())
    apply_unless_hidden(TrainConfig().to_dict())
    announce_changes(before, settings(), _("Back to the defaults"))


def learning_rate_label(rate: float) -> str:
    return f"{rate:g}"


def learning_rate_help() -> str:
    model, optimizer, dataset = settings()["model"], settings()["optimizer"], settings()["dataset"]
    return _("{what} Usual starting rate for {optimizer}: {rate:g}; choosing an optimizer loads it.",
             what=say(TrainConfig.what("learning_rate")), optimizer=setting_text("optimizer", optimizer),
             rate=usual_learning_rate(model, optimizer, dataset))


# What augmentation does to the curves: said in the sidebar (and, in a line, beside an augmented run's curves).
AUGMENTATION_EFFECT = N_(
    "Each time a training picture is seen it is varied at random: moved, turned, resized, its pen thinner or bolder, "
    "mirrored. "
    "The model cannot memorize exact pixels, so augmentation acts as a regulariser: the training curves rise more "
    "slowly, and the gap to the validation curves stays smaller. The training curves are measured on the plain digits.")


def choices(name: str) -> list:
    """The values the sidebar offers for `name` (mnist_core/setting_ranges.py), as a new list for this draw."""
    return list(SETTING_RANGES[name].choices)


def slider_range(name: str) -> dict:
    """A slider's ends and step for `name` (mnist_core/setting_ranges.py), as st.slider takes them."""
    allowed = SETTING_RANGES[name]
    return {"min_value": allowed.minimum, "max_value": allowed.maximum, "step": allowed.step}


def header_unless_all_hidden(title: str, names) -> None:
    """A section's header, left out with its widgets when a link hid them all (a projector shows no empty heading)."""
    if not set(names) <= set(hidden_settings()):
        st.sidebar.header(title)


def settings_sidebar() -> None:
    """Every hyperparameter as a widget in the sidebar, but those a teacher's link hid."""
    sidebar = st.sidebar
    setting_widget("dataset", sidebar.selectbox, options=choices("dataset"),
                   format_func=lambda dataset: setting_text("dataset", dataset), on_change=switch_dataset)
    header_unless_all_hidden(_("Model"), ("model", "hidden_units", "hidden_layers", "cnn_filters", "dropout", "l2"))
    setting_widget("model", sidebar.selectbox, options=choices("model"), format_func=lambda model: setting_text("model", model),
                   on_change=switch_model)
    chosen = SimpleNamespace(**settings())  # callbacks ran before this draw: the model and optimizer now chosen
    if setting_applies("hidden_units", chosen):
        setting_widget("hidden_units", sidebar.select_slider, options=choices("hidden_units"))
    if setting_applies("hidden_layers", chosen):
        setting_widget("hidden_layers", sidebar.slider, **slider_range("hidden_layers"))
    if setting_applies("cnn_filters", chosen):
        setting_widget("cnn_filters", sidebar.select_slider, options=choices("cnn_filters"))
    if setting_applies("dropout", chosen):
        setting_widget("dropout", sidebar.slider, **slider_range("dropout"))
    setting_widget("l2", sidebar.select_slider, options=choices("l2"), format_func=lambda value: f"{value:g}")

    header_unless_all_hidden(_("Optimization"), ("optimizer", "learning_rate", "learning_rate_schedule", "momentum", "epochs",
                                                 "batch_size", "early_stopping_patience"))
    setting_widget("optimizer", sidebar.selectbox, options=choices("optimizer"),
                   format_func=lambda optimizer: setting_text("optimizer", optimizer), on_change=switch_optimizer)
    setting_widget("learning_rate", sidebar.select_slider, options=with_value(choices("learning_rate"), settings()["learning_rate"]),
                   format_func=learning_rate_label, help_text=learning_rate_help())
    setting_widget("learning_rate_schedule", sidebar.radio, options=choices("learning_rate_schedule"), horizontal=True,
                   format_func=lambda schedule: setting_text("learning_rate_schedule", schedule))
    if setting_applies("momentum", chosen):
        setting_widget("momentum", sidebar.slider, **slider_range("momentum"))
    setting_widget("epochs", sidebar.slider, **slider_range("epochs"))
    setting_widget("batch_size", sidebar.select_slider, options=with_value(choices("batch_size"), settings()["batch_size"]))
    setting_widget("early_stopping_patience", sidebar.slider, **slider_range("early_stopping_patience"))

    header_unless_all_hidden(_("Data"), ("validation_fraction", "train_subset_size", "label_noise", "seed", *AUGMENTATION_SETTINGS))
    setting_widget("validation_fraction", sidebar.slider, **slider_range("validation_fraction"))
    setting_widget("train_subset_size", sidebar.select_slider, options=choices("train_subset_size"),
                   format_func=lambda size: setting_text("train_subset_size", size))
    setting_widget("label_noise", sidebar.slider, **slider_range("label_noise"))
    setting_widget("seed", sidebar.number_input, **slider_range("seed"))
    if not set(AUGMENTATION_SETTINGS) <= set(hidden_settings()):
        augmentation = sidebar.expander(_("Augmentation (training digits only)"), expanded=is_augmented(chosen),
                                        icon=":material/transform:")
        augmentation.caption(_(AUGMENTATION_EFFECT))
        # Shown as stepped (half pixels, whole degrees), not as "2.00".
        setting_widget("augment_shift", augmentation.slider, format="%.1f", **slider_range("augment_shift"))
        setting_widget("augment_rotation", augmentation.slider, format="%.0f°", **slider_range("augment_rotation"))
        setting_widget("augment_scale", augmentation.slider, **slider_range("augment_scale"))
        setting_widget("augment_thickness", augmentation.slider, **slider_range("augment_thickness"))
        setting_widget("augment_flip", augmentation.slider, **slider_range("augment_flip"))
    sidebar.button(_("Reset to defaults"), on_click=reset_to_defaults, icon=":material/restart_alt:",
                   help=_("Every setting back to its default: the linear model, Adam at 0.003, 5 epochs, batch 100, all the data."))


def with_value(options, value) -> list:
    """The slider's stops, plus `value` where a value set elsewhere (the CLI's config, a preset) falls
    between them (SettingRange.between_choices). A new list for this draw: the shared stops stay as they
    are for every other session."""
    return sorted({*options, value})
