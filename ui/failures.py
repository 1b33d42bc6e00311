"""A failure reaching a page is the app's own message with a way forward; the traceback goes to the
server's log. dashboard.py guards each page run this way. A fragment (a dialog is one) reruns on its
own, outside that guard, so each fragment is guarded too (`guarded_fragment`, `guarded`): otherwise a fault inside one
(Replay's Next onto an epoch a live run has not finished writing, say) shows Streamlit's red box
with "Ask Google".
"""

import functools
import logging

import streamlit as st

from ui.i18n import _

logger = logging.getLogger("mnist_lab")


def show_failure() -> None:
    """Log the exception being handled, and say what to do."""
    logger.exception("a page failed")
    st.error(_("Something went wrong on this page. Your runs are safe: reload the page, or try another one. "
               "If it happens again, tell your teacher; the details are in the server's log."))


def guarded(function):
    """`function`, its failures shown as the app's message: for what runs outside a page's run (a
    fragment, a dialog). Streamlit's own rerun and stop are BaseExceptions and pass through."""
    @functools.wraps(function)
    def guarded_function(*arguments, **keywords):
        try:
            return function(*arguments, **keywords)
        except Exception:  # noqa: BLE001  any fault: a message here, the details in the log
            show_failure()

    return guarded_function


def guarded_fragment(function, **fragment_options):
    """st.fragment(function, **fragment_options), its failures shown as the app's message."""
    return st.fragment(guarded(function), **fragment_options)
