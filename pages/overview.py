"""Overview: what MNIST is, how it is split, and what an epoch, a batch and an iteration are."""

import numpy as np
import streamlit as st

from mnist_core.config import split_for_config, steps_per_epoch
from ui.charts import class_histograms, show_chart
from ui.dataset import dataset_or_stop
from ui.i18n import _, number, say
from ui.navigation import require_navigation
from ui.settings import current_config, settings_sidebar


def sample_grid(images: np.ndarray, labels: np.ndarray, per_class: int = 2) -> None:
    """Show the first `per_class` digits of each class, labelled."""
    columns = st.columns(10)
    for digit, column in enumerate(columns):
        for index in np.flatnonzero(labels == digit)[:per_class]:
            column.image(images[index], caption=_("label {digit}", digit=digit), width=56)


def overview_page() -> None:
    st.title(_("MNIST Lab"))
    st.write(_("Teach a computer to read handwritten digits, and watch how it learns, one epoch at a time. "
               "MNIST holds 70,000 handwritten digits, each a 28x28 grey image with the digit it shows as its label."))
    dataset = dataset_or_stop()
    settings_sidebar()
    try:
        config = current_config()
        split = split_for_config(dataset, config)
    except ValueError as error:
        st.error(_("These settings cannot split the data: {error}", error=say(error)))
        st.stop()
    sizes = split.sizes

    st.subheader(_("Three sets, three jobs"))
    st.write(_("Think of school: the **training set** is the textbook the model learns from, the **validation set** "
               "is the homework that shows how well it is learning and what to adjust, and the **test set** is the exam, "
               "taken only once, at the very end."))
    training_column, validation_column, test_column = st.columns(3)
    training_column.metric(_("Training digits"), number(sizes["train"], ","))
    training_column.write(_("**Training** fits the weights: the model sees these digits and their labels and adjusts "
                            "itself to get them right."))
    validation_column.metric(_("Validation digits"), number(sizes["validation"], ","))
    validation_column.write(_("**Validation** is held back from training. Its accuracy tells how well the model does on "
                              "digits it has not seen: we use it to pick hyperparameters and to spot overfitting."))
    test_column.metric(_("Test digits"), number(sizes["test"], ","))
    test_column.write(_("**Test** is the final exam. It never trains or tunes anything; looking at it while choosing "
                        "settings would make its score an over-optimistic guess."))
    flipped = int((split.train_labels != split.train_labels_clean).sum())
    if flipped:
        st.warning(_("Label noise is on: {flipped:,} training labels ({share:.0%}) are replaced by a wrong digit. "
                     "Validation and test labels stay correct.", flipped=flipped, share=config.label_noise))
    show_chart(class_histograms({_("training"): split.train_labels, _("validation"): split.validation_labels,
                                 _("test"): split.test_labels}), key="class_histograms")
    st.caption(_("The validation set is drawn class by class (stratified), so every set has about the same mix of digits."))

    st.subheader(_("Epochs, batches and iterations"))
    per_epoch = steps_per_epoch(sizes["train"], config.batch_size)
    st.markdown(_(
        "- An **epoch** is one pass over the training set: the model sees each of the **{train:,}** training digits once.\n"
        "- It sees them in **batches** of **{batch:,}** digits and updates its weights once per batch: one **iteration**.\n"
        "- So one epoch is ceil({train:,} / {batch:,}) = **{per_epoch:,} iterations**, and **{epochs}** epochs are "
        "**{total:,} iterations** in all.",
        train=sizes["train"], batch=config.batch_size, per_epoch=per_epoch, epochs=config.epochs, total=per_epoch * config.epochs))
    st.caption(_("Change the batch size, epochs or training examples in the sidebar and watch these numbers follow."))

    st.subheader(_("Some training digits"))
    sample_grid(split.train_images, split.train_labels)


require_navigation()
overview_page()
