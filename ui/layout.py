"""Rows of columns that still read in a narrow window.

At 800 px with the sidebar open, the main area is about 470 px wide: four columns squeezed the
Train and Stop buttons to one letter, cut the metric cards to "93.0…" and pushed the 280 px canvas
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
