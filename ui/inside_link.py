""""Look inside" links from the Exam and Draw pages to the Inside page, with the run and digit to open."""

import streamlit as st

INSIDE_REQUEST = "inside_request"  # {"run_id": ..., "digit": ("test", index) or ("drawn", 0)}, read once by the Inside page
DRAWN_DIGIT = "drawn_digit"        # the last digit read on the Draw page, as the model saw it (28x28 floats in [0, 1])


def look_inside(run, digit: tuple) -> None:
    """Open the Inside page on `run`'s last epoch and `digit`."""
    st.session_state[INSIDE_REQUEST] = {"run_id": run.run_id, "digit": digit}
    st.switch_page("pages/inside.py")
