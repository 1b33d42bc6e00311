"""The data: one verified copy of each dataset per server process, shared read-only by every tab, its first
provisioning and its repair."""

import threading
from dataclasses import dataclass

import numpy as np
import streamlit as st

from mnist_core import MnistDataError, load_dataset, provision_dataset
from mnist_core.config import DATA_SETTINGS, split_for_config
from mnist_core.data import DATASET_NAMES, data_file, dataset_facts, read_verified_npz
from mnist_core.inside import NEIGHBOUR_POOL
from mnist_core.replay import TRAINING_SAMPLE
from ui.i18n import _, say
from ui.server_stores import server_store


def verified_read_only(name: str):
    """The dataset `name` as uint8 arrays, loaded and verified, marked read-only so that an accident
    (a page writing into the shared pixels) fails loudly instead of changing every tab's data."""
    dataset = load_dataset(name)
    for array in (*dataset[0], *dataset[1]):
        array.setflags(write=False)
    return dataset


def shared_dataset(name: str):
    """The dataset `name`, loaded once per server process (per data file: a test's data folder is
    another dataset) and shared by every tab: a server store (mnist_core/stores.py's "datasets"), never
    a copy per session. The first use on a server without it provisions it, showing each step."""
    if not data_file(name).exists():
        provision(name, force=False)
    with st.spinner(_("Loading and verifying {dataset}...", dataset=dataset_title(name))):
        # The spinner is shown only if this takes over half a second: the first load.
        return server_store("datasets").get((name, str(data_file(name))), lambda: verified_read_only(name))


@dataclass(frozen=True)
class ClassLabels:
    """What a dataset's ten labels mean, in the reader's language, for charts and captions: MNIST's are
    the digits themselves, Fashion-MNIST's the names of clothes."""

    names: tuple[str, ...]   # label 0-9 as shown: "7", "Sneaker" / "运动鞋"
    axis: str                # the axis title for "which class": "digit", "class"
    thing: str               # what one example is: "digit", "picture"
    in_words: bool = False   # names in words (clothes), not digits: an axis turns them to fit

    def name(self, label) -> str:
        return self.names[int(label)]


def class_labels(dataset: str = "mnist") -> ClassLabels:
    facts = dataset_facts(dataset)
    return ClassLabels(names=tuple(_(name) for name in facts.class_names),
                       axis=_("digit") if dataset == "mnist" else _("class"), thing=_(facts.thing),
                       in_words=dataset != "mnist")


def dataset_title(name: str) -> str:
    """A dataset's own name, the same in every language: "MNIST", "Fashion-MNIST"."""
    return dataset_facts(name).title


def datasets_of_runs(runs, preferred: str) -> tuple[list[str], str]:
    """The datasets `runs` trained on (in DATASET_NAMES' order), and the one a page that shows one dataset
    at a time starts on: `preferred` (the sidebar's) where it has runs, else the first run's."""
    present = [name for name in DATASET_NAMES if any(run.config.dataset == name for run in runs)]
    return present, preferred if preferred in present else runs[0].config.dataset


# Forty students may all press "repair" at once (or switch to Fashion-MNIST at once): one provisions,
# the others then find the file good.
provisioning_lock = threading.Lock()


def provision(name: str, force: bool) -> None:
    """Provision the dataset `name` (again, over a damaged file, with `force`), showing each step. On
    failure the message says how to get the data, and the page stops."""
    title = dataset_title(name)
    with provisioning_lock, st.status(_("Provisioning {dataset}...", dataset=title), expanded=True) as status:
        try:
            try:
                read_verified_npz(data_file(name), dataset_facts(name))  # provisioned while this session waited?
                st.write(_("The data file has been provisioned in the meantime."))
            except MnistDataError:
                provision_dataset(name, force=force, report=lambda line: st.write(say(line)))
        except MnistDataError as error:
            status.update(label=_("{dataset} could not be provisioned", dataset=title), state="error")
            st.error(say(error))
            st.stop()
        status.update(label=_("{dataset} is ready", dataset=title), state="complete", expanded=False)


def repair_dataset(name: str) -> None:
    """Provision the dataset again over a damaged file; the page reruns with the result."""
    provision(name, force=True)
    held = server_store("datasets").peek((name, str(data_file(name))))
    if held is not None:
        server_store("datasets").forget((name, str(data_file(name))), held)
    st.rerun()


def dataset_or_stop(name: str):
    """The shared dataset `name`, or a clear message with a repair button (and the page stops) if it
    cannot be loaded."""
    try:
        return shared_dataset(name)
    except MnistDataError as error:
        title = dataset_facts(name).title
        st.error(_("**{dataset} could not be loaded, so nothing can train on it.**\n\n{error}", dataset=title,
                   error=say(error)))
        st.write(_("The app never trains on data that fails its check. Provisioning again fetches a fresh, verified copy "
                   "from the sources listed above and replaces the file."))
        if st.button(_("Provision {dataset} again", dataset=title), type="primary", icon=":material/build:"):
            repair_dataset(name)
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
        made = split_for_config(dataset_or_stop(config.dataset), config)
        return RunDigits(validation_images=made.validation_images, validation_labels=made.validation_labels,
                         first_training_images=made.train_images[:TRAINING_DIGITS_KEPT].copy(),
                         first_training_labels=made.train_labels[:TRAINING_DIGITS_KEPT].copy())

    key = tuple(getattr(config, name) for name in DATA_SETTINGS)
    return server_store("split digits").get(key, split)
