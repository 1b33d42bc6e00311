"""Heavy page work in the server's turn (mnist_core/heavy_work.py), with the wait shown on the page.

A page that computes a Replay frame, a map, a robustness curve or a download calls `in_turn`: if the
server's turns are all taken, the student reads that they are waiting for the server and their
place in line, instead of a page that looks frozen.
"""

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from mnist_core.heavy_work import heavy_work
from ui.i18n import _

Value = TypeVar("Value")


def waiting_sentence(place: int) -> str:
    return _("Waiting for the server: other students' pictures and measurements are being computed. Yours is number "
             "{place} in line and starts by itself.", place=place)


def in_turn(compute: Callable[[], Value], where=None) -> Value:
    """compute() once the server's heavy work has a turn free; the wait said in `where` (the page, by
    default) meanwhile. Call it only for work that is not computed yet: a value already kept should
    never wait behind other students' work."""
    notice = (where or st).empty()

    def waiting(place: int) -> None:
        notice.info(waiting_sentence(place), icon=":material/hourglass_top:")

    try:
        with heavy_work.turn(waiting):
            notice.empty()
            return compute()
    finally:
        notice.empty()
