"""What every page shares: the one read-only copy of MNIST in this server process."""

import streamlit as st

from mnist_core import MnistDataError, load_mnist


@st.cache_resource(show_spinner="Loading and verifying MNIST...")
def shared_dataset():
    """MNIST as uint8 arrays, loaded once per server process and shared by every browser tab.

    cache_resource (not cache_data) because cache_data would pickle and copy 50 MB on every call.
    Nobody may write to these arrays: they are marked read-only so an accident fails loudly.
    """
    dataset = load_mnist()
    for array in (*dataset[0], *dataset[1]):
        array.setflags(write=False)
    return dataset


def dataset_or_stop():
    """The shared dataset, or a clear message (and the page stops) if it cannot be loaded."""
    try:
        return shared_dataset()
    except MnistDataError as error:
        st.error(f"MNIST could not be loaded.\n\n{error}")
        st.stop()
