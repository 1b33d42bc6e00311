"""The reader's language on every page: the switch in the sidebar, and `_` for every sentence.

The first visit takes the browser's language (st.context.locale); the choice is kept in the address
(?lang=zh), so a refresh or a link a teacher shares opens in the same language. Every page
translates what it shows with `_` (a sentence with its {fields}) or `say` (what the engine said,
a mnist_core.i18n.Message); labels defined once at import are marked with `N_` and translated where
they are shown.
"""

from contextvars import ContextVar

import streamlit as st

from mnist_core.config import APP_RUN_NAMES
from mnist_core.i18n import LANGUAGES, N_, format_number, in_language, language_of, render  # N_ for the pages too

# How the language joins the items of a list, and two lists of items: ", " and "; " in English, "，" and "；" in Chinese.
LIST_SEPARATOR, GROUP_SEPARATOR = N_(", "), N_("; ")

LANGUAGE_KEY = "language"
# Set while a function made by `in_page_language` runs: the language of the page run that made it.
_page_language: ContextVar[str | None] = ContextVar("page_language", default=None)


def language() -> str:
    """This session's language: chosen on its first page run and written into the address bar."""
    if _page_language.get():
        return _page_language.get()
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen is None:
        requested = st.query_params.get("lang")
        chosen = requested if requested in LANGUAGES else language_of(st.context.locale)
        st.session_state[LANGUAGE_KEY] = chosen
    if st.query_params.get("lang") != chosen:  # a page change clears the address's query
        st.query_params["lang"] = chosen
    return chosen


def language_keyed(key: str) -> str:
    """A widget key of its own in each language. This Streamlit keeps a choice widget's shown choice as the
    label it was first drawn with: after a switch of language a run picker still showed the English label
    on a Chinese page, and Compare's multiselect, which keeps its choice by label, failed the page. The
    page keeps what was chosen under a key of its own, whatever the language."""
    return f"{key}_{language()}"


def _(text: str, **parameters) -> str:
    """`text` in the reader's language, its {fields} filled in (numbers formatted for the language)."""
    return render(text, language(), **parameters)


def number(value, format_spec: str) -> str:
    """A number formatted for the reader's language: number(0.25, ".0%"), number(54000, ",")."""
    return format_number(value, format_spec, language())


def run_name(name: str) -> str:
    """A run's name as shown: one the app gave its own run ("race-sgd") in the reader's language, a
    user's as typed (still to be shown as plain text)."""
    return _(APP_RUN_NAMES[name]) if name in APP_RUN_NAMES else name


def listed(items, separator: str = LIST_SEPARATOR) -> str:
    """Items (already in the reader's language) joined as the language joins them."""
    return _(separator).join(items)


def in_page_language(function):
    """`function` (a widget's format_func), always in this page run's language. Streamlit's test
    harness calls a format_func outside the page run, where the session's language is unknown."""
    chosen = language()

    def in_language_of_the_page(*arguments):
        token = _page_language.set(chosen)
        try:
            return function(*arguments)
        finally:
            _page_language.reset(token)

    return in_language_of_the_page


def say(thing) -> str:
    """What the engine said (a Message, an error raised with one) in the reader's language."""
    return in_language(thing, language())


def choose_language() -> None:
    picked = st.session_state["language_switch"]
    if picked is not None:  # a click on the language already chosen unselects it: keep that language
        st.session_state[LANGUAGE_KEY] = picked
        st.query_params["lang"] = picked


def language_switch() -> None:
    """English / 中文, at the top of the sidebar on every page; each name written in its own language."""
    st.session_state["language_switch"] = language()
    st.sidebar.segmented_control(_("Language"), list(LANGUAGES), format_func=LANGUAGES.get, key="language_switch",
                                 on_change=choose_language, label_visibility="collapsed")
