""""The code behind this run", on the Train and Replay pages: the engine's own source beside the study
note's code, part by part (mnist_core/code_behind.py), the run's settings as the values they became,
and the run as a program to take home, a notebook or a script (mnist_core/take_home.py).

The sources are read once per process; the notebook and the script are made only when their download
is clicked (about 10 ms), not on every page run, where each would also be kept as a file of the session's."""

import streamlit as st

from mnist_core.code_behind import NOTE_CODE, engine_parts, matches, settings_code
from mnist_core.config import TrainConfig
from mnist_core.exports import download_name, keras_file_name
from mnist_core.precision import FLOAT32
from mnist_core.take_home import QUICK_CHECK_DIGITS, RunFacts, notebook_bytes, script_text
from ui.i18n import _, language
from ui.layout import wrapping_columns


def program_file_stem(config: TrainConfig, run) -> str:
    """The downloads' name: the run's own (made safe), or its dataset and model before there is a run."""
    return download_name(run, "") if run is not None else f"{config.dataset}-{config.model}"


def take_home_downloads(config: TrainConfig, run, key: str, next_run: bool, model_file_above: bool, precision: str) -> None:
    """The program that trains the run again, as a notebook and as a script, in the reader's language."""
    facts = RunFacts.of(run, keras_file_name(run)) if run is not None else RunFacts(precision=precision)
    stem = program_file_stem(config, run)
    st.markdown(_("**The program, to run on your own computer**"))
    if next_run:
        st.caption(_("A plain TensorFlow program that trains a run of these settings as the app would: the same split of "
                     "the data, seed and batches, the note's four functions and loop. It needs only `pip install "
                     "tensorflow matplotlib`; with `QUICK_CHECK=1` it first trains one epoch on {digits:,} pictures.",
                     digits=QUICK_CHECK_DIGITS))
    else:
        st.caption(_("A plain TensorFlow program that trains this run again: the same split of the data, seed and batches, "
                     "the note's four functions and loop. It needs only `pip install tensorflow matplotlib`; with "
                     "`QUICK_CHECK=1` it first trains one epoch on {digits:,} pictures.", digits=QUICK_CHECK_DIGITS))
    notebook_column, script_column = st.columns(2)
    reader_language = language()  # the downloads are made on another thread, outside this page run
    notebook_column.download_button(
        _("Notebook (.ipynb)"), data=lambda: notebook_bytes(config, reader_language, facts), file_name=f"{stem}.ipynb",
        mime="application/x-ipynb+json", on_click="ignore", icon=":material/download:", key=f"{key}_notebook")
    script_column.download_button(
        _("Script (.py)"), data=lambda: script_text(config, reader_language, facts).encode("utf-8"), file_name=f"{stem}.py",
        mime="text/x-python", on_click="ignore", icon=":material/download:", key=f"{key}_script")
    if run is not None and model_file_above:
        st.caption(_("Its last part also has the app's own model of this run sit the test set: download that model's file "
                     "(above, under Take it along) into the program's folder."))
    elif run is not None:
        st.caption(_("Its last part also has the app's own model of this run sit the test set: download that model's file "
                     "(Replay page, under Take it along) into the program's folder."))


def code_behind_panel(config: TrainConfig, run=None, key: str = "code_behind", next_run: bool = False,
                      model_file_above: bool = False, precision: str = FLOAT32) -> None:
    """The panel, folded: the note and the engine part by part in tabs, then every engine function whole.
    `run`: the saved run, if there is one (its history and .keras file go into the program). `next_run`:
    the settings are the sidebar's, for a run not trained yet. `model_file_above`: the page offers the
    run's .keras file above the panel (Replay). `precision`: the arithmetic it trains in (mnist_core/precision.py)."""
    title = _("The code behind the next run") if next_run else _("The code behind this run")
    with st.expander(title, icon=":material/code:"):
        if next_run:
            st.caption(_("The code that will train a run of the sidebar's settings: the app's own code, read from the very "
                         "functions that train it, so it cannot drift from them, beside the study note's four functions "
                         "and loop, each matched to the lines that do the same."))
        else:
            st.caption(_("The code that trains this run, as the app runs it: the app's own code, read from the very "
                         "functions that train it, so it cannot drift from them, beside the study note's four functions "
                         "and loop, each matched to the lines that do the same."))
        settings_column, take_home_column = wrapping_columns([3, 2], key=f"{key}_top", least_width_rem=20)
        with settings_column:
            st.markdown(_("**The settings, as the values they became**"))
            st.code(settings_code(config, precision), language="python", height=320)  # the model's own settings in sight, the rest scroll
        with take_home_column:
            take_home_downloads(config, run, key, next_run, model_file_above, precision)
        parts = matches(config)
        tabs = st.tabs([match.note_name for match in parts] + [_("Whole code")])
        for index, (match, tab) in enumerate(zip(parts, tabs)):
            with tab:  # side by side where both fit unscrolled; at a projector's 1280 px, the note above the app
                note_column, engine_column = wrapping_columns([2, 3], key=f"{key}_match_{index}", least_width_rem=34)
            note_column.markdown(_("**The note**"))
            # Not wrapped: a wrapped line of Python starts again at the left edge and loses its indentation; a
            # long line scrolls instead.
            note_column.code(match.note_lines, language="python")
            first, last = match.lines_in_file
            engine_column.markdown(_("**The app:** `{function}`, {file}, lines {first}–{last}", function=match.part.name,
                                     file=match.part.file, first=first, last=last))
            engine_column.code(match.engine_lines, language="python")
            tab.caption(_(match.explanation))
        with tabs[-1]:
            st.caption(_("The note's code, then every function of the app behind the run, whole, as it trains it."))
            st.markdown(_("**The note**"))
            st.code(NOTE_CODE, language="python")
            for part in engine_parts(config):
                st.markdown(_("**The app:** `{function}`, {file}, lines {first}–{last}", function=part.name, file=part.file,
                              first=part.first_line, last=part.last_line))
                st.code(part.source, language="python")
