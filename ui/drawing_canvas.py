"""The Draw page's canvas: streamlit-drawable-canvas without its floating toolbar.

The package's toolbar (undo, redo, reset) is invisible until the pointer rests on the canvas, yet
it sits over the canvas's top-right corner from the start: about 0.1 s after the pointer arrives it
slides up and out of the way. A stroke begun there within that moment (always, with a finger on a
tablet or a classroom whiteboard, which has no hover) goes to the toolbar, not the canvas, and is
lost: a 7 written high and right keeps only its bar. The page has its own Clear
button, so the toolbar goes.

The canvas draws inside a shadow root, where the page's own CSS cannot reach, so the component is
registered again under its own name (which keeps the package's script and asset folder) with the
package's style plus one rule that hides the toolbar. Our own fixed CSS, no user text. A package
upgrade that renames the style sheet or the component makes `hidden_toolbar_style` raise here, at
import, rather than let the corner eat strokes again (tests/test_browser.py draws from that corner).
"""

import logging
from pathlib import Path

import streamlit as st
import streamlit_drawable_canvas
from streamlit_drawable_canvas import st_canvas

COMPONENT_NAME = "streamlit-drawable-canvas.streamlit_drawable_canvas"  # the package's own registration
STYLE_SHEET_PATTERN = "frontend/build/index-*.css"
HIDE_TOOLBAR = ".dc-toolbar { display: none !important; }"


def hidden_toolbar_style() -> str:
    """The package's style sheet, then the rule that hides its toolbar."""
    sheets = sorted(Path(streamlit_drawable_canvas.__file__).parent.glob(STYLE_SHEET_PATTERN))
    if len(sheets) != 1:
        raise RuntimeError(f"streamlit-drawable-canvas's style sheet ({STYLE_SHEET_PATTERN}) was not found once: "
                           "install the version pinned in requirements.txt, or update ui/drawing_canvas.py.")
    return sheets[0].read_text() + "\n" + HIDE_TOOLBAR  # a newline: Streamlit then reads it as CSS, not as a path


def register_without_toolbar():
    """Register the canvas component again, without its toolbar, and make st_canvas mount it. Streamlit
    warns when a name is registered twice; here that is the point, so the warning is left out."""
    registry_logger = logging.getLogger("streamlit.components.v2.component_registry")
    level = registry_logger.level
    registry_logger.setLevel(logging.ERROR)
    try:
        component = st.components.v2.component(COMPONENT_NAME, js="index-*.js", css=hidden_toolbar_style(),
                                               html='<div class="canvas-root"></div>', isolate_styles=True)
    finally:
        registry_logger.setLevel(level)
    streamlit_drawable_canvas.out = component  # st_canvas mounts the module's `out`
    return component


register_without_toolbar()


def drawing_canvas(**options):
    """`st_canvas(**options)`, with no toolbar over the top-right corner."""
    return st_canvas(**options)
