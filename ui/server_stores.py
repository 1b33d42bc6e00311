"""The server's stores, each made once per server process from its budget in mnist_core/stores.py.

A page asks for a store by its name in SERVER_STORES; it keeps no memory for all sessions of its own.
"""

import streamlit as st

from mnist_core.stores import SERVER_STORES, ComputedOnce


@st.cache_resource(show_spinner=False)
def server_store(name: str) -> ComputedOnce:
    """The store named `name` (a key of SERVER_STORES), shared by every session of this server."""
    return SERVER_STORES[name].new_store()
