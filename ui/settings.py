"""Settings: one dict per browser session, shared by every page, and the sidebar of widgets that edits it.

Streamlit treats a widget on another page as a new widget, even with the same key, and would
show its default. So the settings live in their own session-state entry: each widget is set from
it before it is drawn, and a change the student makes is copied back by the widget's callback
(callbacks run before the script, so the page then draws the new value).
"""

import streamlit as st

from mnist_core import TrainConfig
from mnist_core.config import OPTIMIZER_NAMES, SCHEDULE_NAMES

MODEL_LABELS = {"linear": "Linear (softmax of xW + b)", "mlp": "MLP (hidden layers)", "cnn": "CNN (convolutions)"}
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
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


def setting_widget(name: str, widget, on_change=None, **options):
    """Draw `widget` for the setting `name`, showing the stored value; a change is stored at once."""
    key = f"widget_{name}"
    st.session_state[key] = settings()[name]
    return widget(key=key, help=TrainConfig.reason(name).capitalize() + ".", on_change=store_setting,
                  args=(name, on_change), **options)


# A change of model resets the model's and optimiser's settings to its preset, not the data's.
DATA_SETTINGS = ("validation_fraction", "train_subset_size", "label_noise", "seed")


def switch_model() -> None:
    """A new model starts from its own recommended preset; the data settings are kept."""
    model = settings()["model"]
    kept = {name: settings()[name] for name in DATA_SETTINGS}
    apply_settings({**TrainConfig.for_model(model).to_dict(), **kept})


def learning_rate_label(rate: float) -> str:
    return f"{rate:g}"


def settings_sidebar() -> None:
    """Every hyperparameter as a widget in the sidebar."""
    sidebar = st.sidebar
    sidebar.header("Model")
    model = setting_widget("model", sidebar.selectbox, label="Model", options=list(MODEL_LABELS),
                           format_func=MODEL_LABELS.get, on_change=switch_model)
    if model in ("mlp", "cnn"):
        setting_widget("hidden_units", sidebar.select_slider, label="Dense layer width", options=[16, 32, 64, 128, 256, 512, 1024])
    if model == "mlp":
        setting_widget("hidden_layers", sidebar.slider, label="Hidden layers", min_value=1, max_value=4)
    if model == "cnn":
        setting_widget("cnn_filters", sidebar.select_slider, label="Filters in the first convolution", options=[4, 8, 16, 32, 64])
    if model in ("mlp", "cnn"):
        setting_widget("dropout", sidebar.slider, label="Dropout", min_value=0.0, max_value=0.8, step=0.05)
    setting_widget("l2", sidebar.select_slider, label="L2 weight penalty", options=L2_STRENGTHS, format_func=lambda value: f"{value:g}")

    sidebar.header("Optimisation")
    setting_widget("optimizer", sidebar.selectbox, label="Optimizer", options=list(OPTIMIZER_NAMES), format_func=OPTIMIZER_LABELS.get)
    setting_widget("learning_rate", sidebar.select_slider, label="Learning rate (log scale)",
                   options=with_value(LEARNING_RATES, settings()["learning_rate"]),
                   format_func=learning_rate_label)
    setting_widget("learning_rate_schedule", sidebar.radio, label="Learning-rate schedule", options=list(SCHEDULE_NAMES), horizontal=True)
    if settings()["optimizer"] == "momentum":
        setting_widget("momentum", sidebar.slider, label="Momentum", min_value=0.0, max_value=0.99, step=0.01)
    setting_widget("epochs", sidebar.slider, label="Epochs", min_value=1, max_value=100)
    setting_widget("batch_size", sidebar.select_slider, label="Batch size", options=with_value(BATCH_SIZES, settings()["batch_size"]))
    setting_widget("early_stopping_patience", sidebar.slider, label="Early stopping patience (0 = off)", min_value=0, max_value=20)

    sidebar.header("Data")
    setting_widget("validation_fraction", sidebar.slider, label="Validation fraction", min_value=0.05, max_value=0.5, step=0.05)
    setting_widget("train_subset_size", sidebar.select_slider, label="Training examples used", options=SUBSET_SIZES,
                   format_func=lambda size: "all" if size is None else f"{size:,}")
    setting_widget("label_noise", sidebar.slider, label="Label noise (training only)", min_value=0.0, max_value=0.8, step=0.05)
    setting_widget("seed", sidebar.number_input, label="Seed", min_value=0, max_value=2**31 - 1, step=1)


def with_value(options: tuple, value) -> list:
    """The slider's stops, plus `value` where a value set elsewhere (the CLI's config, a preset) falls
    between them. A new list for this draw: the shared stops stay as they are for every other session."""
    return sorted({*options, value})
