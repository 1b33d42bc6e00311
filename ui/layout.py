"""Rows of columns that still read in a narrow window.

At 800 px with the sidebar open, the main area is about 470 px wide: four columns would squeeze the
Train and Stop buttons to one letter, cut the metric cards to "93.0…" and push the 280 px canvas
and the exam's gallery past the right edge. A wrapping row gives each column a least width
instead, and moves the columns that do not fit onto the next line; a wide window is unchanged.
"""

import streamlit as st


def wrapping_columns(spec, key: str, least_width_rem: float, **options):
    """`st.columns(spec, **options)`, in a container whose columns wrap onto a new line rather than
    grow narrower than `least_width_rem` (never wider than the page). Our own fixed style, no user text."""
    container = st.container(key=f"wrapping-{key}")
    container.html(f"<style>.st-key-wrapping-{key} [data-testid='stHorizontalBlock'] {{flex-wrap: wrap;}} "
                   f".st-key-wrapping-{key} [data-testid='stColumn'] {{min-width: min(100%, {least_width_rem}rem);}}</style>")
    return container.columns(spec, **options)


def scroll_to_top() -> None:
    """Bring the page back to its top, where the page shows what was just chosen far below it (a point on
    a map) or on another page (a link): Streamlit keeps the scroll position. Our own fixed script, no
    user text; a counter makes each call a new element, so the browser runs it each time."""
    count = st.session_state["scrolled_to_top"] = st.session_state.get("scrolled_to_top", 0) + 1
    st.html(f"<script>/* {count} */ window.parent.document.querySelector('[data-testid=\"stMain\"]')?.scrollTo({{top: 0}});"
            "</script>", unsafe_allow_javascript=True)
