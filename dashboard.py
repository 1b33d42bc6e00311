"""MNIST Lab: `streamlit run dashboard.py`. Page set-up and navigation only; each page lives in pages/."""

import streamlit as st

from ui.navigation import NAVIGATION_READY
from ui.streamlit_patch import stop_streamlit_clearing_keras
from ui.workspace import workspace_sidebar

stop_streamlit_clearing_keras()
st.set_page_config(page_title="MNIST Lab", page_icon=":material/draw:", layout="wide")
st.session_state[NAVIGATION_READY] = True  # see ui/navigation.py: require_navigation()
navigation = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/grid_view:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/show_chart:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/exam.py", title="Exam", icon=":material/school:"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
])
workspace_sidebar()
navigation.run()
