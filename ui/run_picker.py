"""Choosing a trained run of this workspace, and loading its model once per session."""

from collections import OrderedDict

import streamlit as st

from mnist_core.results import epochs_text
from mnist_core.runs import DamagedRunError
from mnist_core.stores import SESSION_STORES
from ui.dataset import dataset_title
from ui.i18n import _, in_page_language, language_keyed, run_name, say
from ui.settings import model_name
from ui.workspace import workspace_runs


def trained_runs(newest_first: bool = False):
    """Runs with a recorded best epoch, best validation accuracy first, or the newest first (damaged
    ones skipped)."""
    runs, _damaged = workspace_runs()  # newest first
    trained = [run for run in runs if run.best_result]
    return trained if newest_first else sorted(trained, key=lambda run: -run.best_result.val_acc)


def run_choice_label(run) -> str:
    return _("{name} · {dataset} · {model} · {epochs} · validation accuracy {accuracy:.2%} at its best epoch",
             name=run_name(run.name), dataset=dataset_title(run.config.dataset), model=model_name(run.config.model), epochs=say(epochs_text(len(run.history))), accuracy=run.best_result.val_acc)


def pick_run(label: str, key: str, newest_first: bool = False):
    """A selectbox of trained runs, the best first (or the newest: the run just trained). None if there is none.

    `st.session_state[key]` holds the chosen run's id, whatever the language and the page: the choice
    survives a switch of language and a visit to another page, and a page may set it to open on a run."""
    runs = trained_runs(newest_first)
    if not runs:
        return None
    widget_key = language_keyed(key)  # the select box's own, one per language
    wanted, shown = st.session_state.get(key), st.session_state.get(widget_key)
    wanted_run = next((run for run in runs if run.run_id == wanted), None)
    # Asked for (by a page, or chosen in the other language), or trained on since (a stale copy of it):
    # the box shows the run as it is now.
    if wanted_run is not None and (shown is None or shown.run_id != wanted or shown not in runs):
        st.session_state[widget_key] = wanted_run

    def remember_the_choice():
        st.session_state[key] = st.session_state[widget_key].run_id

    run = st.selectbox(label, runs, format_func=in_page_language(run_choice_label), key=widget_key,
                       on_change=remember_the_choice)
    st.session_state[key] = run.run_id
    return run


def run_stamp(run) -> tuple:
    """Which run, and how far it had trained: a model loaded or examined at one stamp is stale at the next."""
    return run.stamp


# The models one session keeps loaded: as many as a page shows at once (mnist_core/stores.py's list).
# Keyed by run, so a run that trains on replaces its model instead of adding one per epoch.
MOST_MODELS_KEPT = SESSION_STORES["models"].max_kept


def model_of(run):
    """The run's model with its saved weights, loaded once per session and run as it stands (each
    person's models are their own): a newer stamp of the run replaces the older, and beyond
    MOST_MODELS_KEPT runs the least recently used model is let go."""
    models = st.session_state.setdefault("loaded_models", OrderedDict())
    folder, stamp = str(run.folder), run_stamp(run)
    kept = models.get(folder)
    if kept is None or kept[0] != stamp:
        try:
            model = run.load_model()
        except DamagedRunError as error:
            st.error(_("This run cannot be loaded: {error}", error=say(error)))
            st.stop()
        models[folder] = kept = (stamp, model)
    models.move_to_end(folder)
    while len(models) > MOST_MODELS_KEPT:
        models.popitem(last=False)
    return kept[1]
