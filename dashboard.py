"""MNIST Lab: `streamlit run dashboard.py`. Page set-up and navigation only; each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="MNIST Lab", page_icon="✏️", layout="wide")
navigation = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon="🔢", default=True),
])
navigation.run()
