"""Overview: what MNIST is and how it is split into training, validation and test sets."""

import numpy as np
import streamlit as st

from mnist_core import split_dataset
from mnist_core.training import TrainConfig
from pages.common import dataset_or_stop, require_navigation


def sample_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 2) -> None:
    """Show the first `per_class` digits of each class, labelled."""
    columns = st.columns(10)
    for digit, column in enumerate(columns):
        for index in np.flatnonzero(labels == digit)[:per_class]:
            column.image(images[index], caption=f"label {digit}", width=56)


def overview_page() -> None:
    st.title("MNIST Lab")
    st.write("Teach a computer to read handwritten digits, and watch how it learns, one epoch at a time.")
    dataset = dataset_or_stop()
    defaults = TrainConfig()
    split = split_dataset(dataset, validation_fraction=defaults.validation_fraction, seed=defaults.seed)
    sizes = split.sizes
    training_column, validation_column, test_column = st.columns(3)
    training_column.metric("Training digits", f"{sizes['train']:,}", help="These fit the weights.")
    validation_column.metric("Validation digits", f"{sizes['validation']:,}",
                             help="Carved out of the training set: these pick hyperparameters and reveal overfitting.")
    test_column.metric("Test digits", f"{sizes['test']:,}", help="The final exam: never used to train or tune anything.")
    st.subheader("Some training digits")
    sample_grid(split.train_images, split.train_labels)


require_navigation()
overview_page()
