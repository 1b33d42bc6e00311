"""MNIST Lab: `streamlit run dashboard.py`. Page set-up and navigation only; each page lives in pages/."""

import streamlit as st

from mnist_core.runs import tidy_runs_folder
from ui.class_board import class_sidebar, open_class_from_address
from ui.failures import show_failure
from ui.i18n import _, language_switch
from ui.lesson import lesson_panel, lesson_sidebar, open_lesson_from_address
from ui.navigation import NAVIGATION_READY
from ui.share_link import link_for_students_button, open_link_from_address
from ui.streamlit_patch import stop_streamlit_clearing_keras
from ui.workspace import workspace_sidebar

stop_streamlit_clearing_keras()


@st.cache_resource(show_spinner=False)
def tidy_runs_once() -> None:
    """Once per server process: move old-layout runs and remove what killed processes left (runs/housekeeping.py)."""
    tidy_runs_folder()


st.set_page_config(page_title="MNIST Lab", page_icon=":material/draw:", layout="wide")
# Streamlit leaves about 6rem of blank space above every page: on a 720-pixel projector that pushes
# the Train page's charts below the fold. Our own fixed style, no user text.
st.html("<style>[data-testid='stMainBlockContainer'] {padding-top: 2.5rem;}</style>")
st.session_state[NAVIGATION_READY] = True  # see ui/navigation.py: require_navigation()
# The titles are in the reader's language; the addresses (/train, /exam) come from the file names, so
# a link works in either language.
navigation = st.navigation([
    st.Page("pages/overview.py", title=_("Overview"), icon=":material/grid_view:", default=True),
    st.Page("pages/train.py", title=_("Train"), icon=":material/show_chart:"),
    st.Page("pages/replay.py", title=_("Replay"), icon=":material/slow_motion_video:"),
    st.Page("pages/compare.py", title=_("Compare"), icon=":material/compare_arrows:"),
    st.Page("pages/exam.py", title=_("Exam"), icon=":material/school:"),
    st.Page("pages/draw.py", title=_("Draw"), icon=":material/draw:"),
    st.Page("pages/robustness.py", title=_("Robustness"), icon=":material/shield:"),
    st.Page("pages/inside.py", title=_("Inside"), icon=":material/visibility:"),
    st.Page("pages/board.py", title=_("Class board"), icon=":material/leaderboard:"),
])
tidy_runs_once()
language_switch()
workspace_sidebar(navigation.url_path)
open_link_from_address()  # before the page draws the sidebar: a link's settings and hidden controls
try:
    page_path = navigation.url_path or "overview"  # the landing page's address is the app's own
    open_class_from_address()  # the class a link names; its teacher key taken out of the address at once
    open_lesson_from_address(page_path)  # then the lesson's step, whose settings come after the link's
    lesson_sidebar()
    class_sidebar()
    lesson_panel(page_path)  # at the top of the page, above the page's own title
    navigation.run()
except Exception:  # noqa: BLE001  Streamlit's own rerun and stop are BaseExceptions and pass through
    # A student sees what to do, not a traceback with the server's paths; the teacher's log has it all.
    show_failure()
link_for_students_button(navigation.url_path)  # the sidebar's end: after the page's settings, where they are
