"""Users' text shown as plain text: run names, workspace names, and messages that echo them.

Streamlit renders every message (st.warning, st.caption, ...) as Markdown, and Plotly renders a few
HTML tags in titles and legends. A run named `**x** [prize](http://e.example)` must read as
exactly that, not become a link inside the app's own words, so whatever a user typed, or a file
on disk says, goes through one of these two on its way to a page.
"""

import html
import re

# Every ASCII punctuation character: CommonMark prints each one escaped with a backslash as itself,
# which also defuses Streamlit's own :emoji:, :red[colour] and $maths$ syntax.
MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Bare addresses (http://..., www...., someone@host) become links even when escaped; a zero-width
# space after their start keeps them text.
AUTOLINK_STARTS = re.compile(r"(?i)(https?|ftp|www|@)")


def plain(text) -> str:
    """`text` for a Markdown message: shown as typed, on one line, nothing in it interpreted."""
    one_line = " ".join(str(text).split())  # a newline could start a heading, a list or a code block
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", AUTOLINK_STARTS.sub("\\1\u200b", one_line))


def plain_for_chart(text) -> str:
    """`text` for a Plotly title, legend or hover label: no tags, links or maths."""
    return html.escape(str(text), quote=False).replace("$", "&#36;")
