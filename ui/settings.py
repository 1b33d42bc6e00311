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
    OPTIMIZER_LABELS,
    OPTIMIZER_NAMES,
    SCHEDULE_NAMES,
    is_augmented,
    setting_applies,
    usual_learning_rate,
)
from ui.i18n import GROUP_SEPARATOR, N_, _, in_page_language, listed, number, say
from ui.plain import plain

MODEL_LABELS = {"linear": N_("Linear (softmax of xW + b)"), "mlp": N_("MLP (hidden layers)"), "cnn": N_("CNN (convolutions)")}
MODEL_NAMES = {"linear": N_("Linear"), "mlp": N_("MLP"), "cnn": N_("CNN")}  # the labels without their explanation
SCHEDULE_LABELS = {"constant": N_("constant"), "cosine": N_("cosine")}


def model_name(model: str) -> str:
    """'Linear', 'MLP', 'CNN' in the reader's language: the model's label without its explanation, for tables and sentences."""
    return _(MODEL_NAMES[model])

# Each setting's name for people: the sidebar's labels, the Compare table's rows, what a preset changed.
SETTING_LABELS = {
    "model": N_("Model"), "hidden_units": N_("Dense layer width"), "hidden_layers": N_("Hidden layers"),
    "cnn_filters": N_("Filters in the first convolution"), "dropout": N_("Dropout"), "l2": N_("L2 weight penalty"),
    "optimizer": N_("Optimizer"), "learning_rate": N_("Learning rate"), "learning_rate_schedule": N_("Learning-rate schedule"),
    "momentum": N_("Momentum"), "epochs": N_("Epochs"), "batch_size": N_("Batch size"),
    "early_stopping_patience": N_("Early stopping patience (0 = off)"),
    "restore_best_weights": N_("Restore the best epoch's weights"), "validation_fraction": N_("Validation fraction"),
    "train_subset_size": N_("Training examples used"), "label_noise": N_("Label noise (training only)"), "seed": N_("Seed"),
    "train_metrics_sample": N_("Digits the training metrics use"),
    "augment_shift": N_("Shift (pixels)"), "augment_rotation": N_("Rotation (degrees)"),
    "augment_scale": N_("Size change (share)"), "augment_thickness": N_("Pen thickness change"),
}


def setting_label(name: str) -> str:
    """A setting's name for people, in the reader's language."""
    return _(SETTING_LABELS[name])
# The sliders' stops. Shared by every session on the server, so never changed: see `with_value`.
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (1, 8, 16, 32, 64, 100, 128, 256, 512, 1024, 4096)
SUBSET_SIZES = (100, 300, 500, 1000, 2000, 5000, 10000, 20000, None)  # None: all of the training part
L2_STRENGTHS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)


def settings() -> dict:
    if "settings" not in st.session_state:
        st.session_state["settings"] = TrainConfig().to_dict()
    return st.session_state["settings"]


def apply_settings(values: dict) -> None:
    """Replace settings (a preset, say); the widgets show the new values on the next draw."""
    settings().update(values)


def current_config() -> TrainConfig:
    return TrainConfig.from_dict(settings())


def store_setting(name: str, then=None) -> None:
    settings()[name] = st.session_state[f"widget_{name}"]
    if then:
        then()


def setting_widget(name: str, widget, on_change=None, help_text: str | None = None, **options):
    """Draw `widget` for the setting `name`, with its label and help, showing the stored value; a
    change is stored at once."""
    key = f"widget_{name}"
    st.session_state[key] = settings()[name]
    if "format_func" in options:
        options["format_func"] = in_page_language(options["format_func"])
    return widget(label=setting_label(name), key=key, help=help_text or say(TrainConfig.help(name)), on_change=store_setting,
                  args=(name, on_change), **options)


def setting_text(name: str, value) -> str:
    """A setting's value as people write it, in the reader's language."""
    if name == "model":
        return _(MODEL_LABELS[value])
    if name == "optimizer":
        return _(OPTIMIZER_LABELS[value])
    if name == "learning_rate_schedule":
        return _(SCHEDULE_LABELS[value])
    if name == "train_subset_size":
        return _("all") if value is None else number(value, ",")
    if name in ("validation_fraction", "label_noise", "dropout"):
        return number(value, ".0%")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return f"{value:g}" if isinstance(value, float) else number(value, ",") if isinstance(value, int) else str(value)


def setting_texts(config: TrainConfig) -> dict[str, str]:
    """The settings that apply to `config`, by their labels, as people write them."""
    values = config.to_dict()
    return {setting_label(name): setting_text(name, value) for name, value in values.items() if setting_applies(name, config)}


def describe(config: TrainConfig) -> str:
    """One line for a run's main settings, for a page that shows what is training."""
    optimizer = setting_text("optimizer", config.optimizer)
    parts = [model_name(config.model),
             _("{optimizer} at {rate:g} (cosine)", optimizer=optimizer, rate=config.learning_rate)
             if config.learning_rate_schedule == "cosine" else _("{optimizer} at {rate:g}", optimizer=optimizer, rate=config.learning_rate),
             _("batch {size:,}", size=config.batch_size), _("{epochs} epochs", epochs=config.epochs),
             _("{examples} training examples", examples=setting_text("train_subset_size", config.train_subset_size))]
    parts += [_("{setting} {value}", setting=setting_label(name).lower(), value=setting_text(name, getattr(config, name)))
              for name in ("dropout", "l2", "label_noise", *AUGMENTATION_SETTINGS)
              if getattr(config, name) and setting_applies(name, config)]
    return listed(parts)


def announce_changes(before: dict, after: dict, what: str) -> None:
    """Say in a toast which settings `what` (a preset, say) changed, so no slider moves unseen."""
    changed = [_("{setting} {before} → {after}", setting=setting_label(name), before=setting_text(name, before[name]),
                 after=setting_text(name, after[name]))
               for name in SETTING_LABELS if before.get(name) != after.get(name) and name != "model"]
    if changed:
        st.toast(plain(_("{what}: {changes}.", what=what, changes=listed(changed, GROUP_SEPARATOR))), icon=":material/tune:")


# A change of model resets the model's and optimizer's settings to its preset, not the data's.
DATA_SETTINGS = ("validation_fraction", "train_subset_size", "label_noise", "seed")


def switch_model() -> None:
    """A new model starts from its own recommended preset; the data settings are kept."""
    before = dict(settings())
    model = before["model"]
    kept = {name: before[name] for name in DATA_SETTINGS}
    apply_settings({**TrainConfig.for_model(model).to_dict(), **kept})
    announce_changes(before, settings(), _("The {model} model's recommended settings", model=model_name(model)))


def switch_optimizer() -> None:
    """A new optimizer starts at its usual learning rate, as a new model starts from its preset:
    SGD at Adam's 0.003 would crawl, Adam at SGD's 0.1 would bounce."""
    before = dict(settings())
    apply_settings({"learning_rate": usual_learning_rate(before["model"], before["optimizer"])})
    announce_changes(before, settings(), _("{optimizer}'s usual starting rate",
                                           optimizer=setting_text("optimizer", before["optimizer"])))


def reset_to_defaults() -> None:
    before = dict(settings())
    apply_settings(TrainConfig().to_dict())
    announce_changes(before, settings(), _("Back to the defaults"))


def learning_rate_label(rate: float) -> str:
    return f"{rate:g}"


def learning_rate_help() -> str:
    model, optimizer = settings()["model"], settings()["optimizer"]
    return _("{what} Usual starting rate for {optimizer}: {rate:g}; choosing an optimizer loads it.",
             what=say(TrainConfig.what("learning_rate")), optimizer=setting_text("optimizer", optimizer),
             rate=usual_learning_rate(model, optimizer))


# What augmentation does to the curves: said in the sidebar (and, in a line, beside an augmented run's curves).
AUGMENTATION_EFFECT = N_(
    "Each time a training digit is seen it is varied at random: moved, turned, resized, its pen thinner or bolder. "
    "The model cannot memorize exact pixels, so augmentation acts as a regulariser: the training curves rise more "
    "slowly, and the gap to the validation curves stays smaller. The training curves are measured on the plain digits.")


def settings_sidebar() -> None:
    """Every hyperparameter as a widget in the sidebar."""
    sidebar = st.sidebar
    sidebar.header(_("Model"))
    setting_widget("model", sidebar.selectbox, options=list(MODEL_LABELS), format_func=lambda model: setting_text("model", model),
                   on_change=switch_model)
    chosen = SimpleNamespace(**settings())  # callbacks ran before this draw: the model and optimizer now chosen
    if setting_applies("hidden_units", chosen):
        setting_widget("hidden_units", sidebar.select_slider, options=[16, 32, 64, 128, 256, 512, 1024])
    if setting_applies("hidden_layers", chosen):
        setting_widget("hidden_layers", sidebar.slider, min_value=1, max_value=4)
    if setting_applies("cnn_filters", chosen):
        setting_widget("cnn_filters", sidebar.select_slider, options=[4, 8, 16, 32, 64])
    if setting_applies("dropout", chosen):
        setting_widget("dropout", sidebar.slider, min_value=0.0, max_value=0.8, step=0.05)
    setting_widget("l2", sidebar.select_slider, options=L2_STRENGTHS, format_func=lambda value: f"{value:g}")

    sidebar.header(_("Optimization"))
    setting_widget("optimizer", sidebar.selectbox, options=list(OPTIMIZER_NAMES),
                   format_func=lambda optimizer: setting_text("optimizer", optimizer), on_change=switch_optimizer)
    setting_widget("learning_rate", sidebar.select_slider, options=with_value(LEARNING_RATES, settings()["learning_rate"]),
                   format_func=learning_rate_label, help_text=learning_rate_help())
    setting_widget("learning_rate_schedule", sidebar.radio, options=list(SCHEDULE_NAMES), horizontal=True,
                   format_func=lambda schedule: setting_text("learning_rate_schedule", schedule))
    if setting_applies("momentum", chosen):
        setting_widget("momentum", sidebar.slider, min_value=0.0, max_value=0.99, step=0.01)
    setting_widget("epochs", sidebar.slider, min_value=1, max_value=100)
    setting_widget("batch_size", sidebar.select_slider, options=with_value(BATCH_SIZES, settings()["batch_size"]))
    setting_widget("early_stopping_patience", sidebar.slider, min_value=0, max_value=20)

    sidebar.header(_("Data"))
    setting_widget("validation_fraction", sidebar.slider, min_value=0.05, max_value=0.5, step=0.05)
    setting_widget("train_subset_size", sidebar.select_slider, options=SUBSET_SIZES,
                   format_func=lambda size: setting_text("train_subset_size", size))
    setting_widget("label_noise", sidebar.slider, min_value=0.0, max_value=0.8, step=0.05)
    setting_widget("seed", sidebar.number_input, min_value=0, max_value=2**31 - 1, step=1)
    augmentation = sidebar.expander(_("Augmentation (training digits only)"), expanded=is_augmented(chosen),
                                    icon=":material/transform:")
    augmentation.caption(_(AUGMENTATION_EFFECT))
    # Shown as stepped (half pixels, whole degrees), not as "2.00".
    setting_widget("augment_shift", augmentation.slider, min_value=0.0, max_value=4.0, step=0.5, format="%.1f")
    setting_widget("augment_rotation", augmentation.slider, min_value=0.0, max_value=30.0, step=5.0, format="%.0f°")
    setting_widget("augment_scale", augmentation.slider, min_value=0.0, max_value=0.3, step=0.05)
    setting_widget("augment_thickness", augmentation.slider, min_value=0.0, max_value=1.0, step=0.25)
    sidebar.button(_("Reset to defaults"), on_click=reset_to_defaults, icon=":material/restart_alt:",
                   help=_("Every setting back to its default: the linear model, Adam at 0.003, 5 epochs, batch 100, all the data."))


def with_value(options: tuple, value) -> list:
    """The slider's stops, plus `value` where a value set elsewhere (the CLI's config, a preset) falls
    between them. A new list for this draw: the shared stops stay as they are for every other session."""
    return sorted({*options, value})
