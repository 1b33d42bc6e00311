"""The navigation guard: every page runs inside dashboard.py's st.navigation."""

import streamlit as st

NAVIGATION_READY = "navigation_ready"  # set by dashboard.py on every run, checked by every page


def require_navigation() -> None:
    """Make sure the page runs inside dashboard.py's navigation.

    Streamlit still honours its legacy "pages/ folder" mode until the entry script has run once:
    the first request after a server (re)start that asks for a page's URL directly runs that file
    on its own, with no navigation or page set-up. Such a visitor is sent through dashboard.py.
    """
    if not st.session_state.get(NAVIGATION_READY):
        st.switch_page("dashboard.py")
