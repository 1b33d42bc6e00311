"""Overview: what the sidebar's dataset is (MNIST or Fashion-MNIST), the datasets that come with Keras
and why the lab trains on two of them, how the data is split, and what an epoch, a batch and an
iteration are."""

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core.config import split_for_config, steps_per_epoch
from mnist_core.keras_datasets import KERAS_DATASETS
from ui.charts import class_histograms, show_chart
from ui.dataset import ClassLabels, class_labels, dataset_or_stop
from ui.i18n import N_, _, listed, number, say
from ui.navigation import require_navigation
from ui.settings import current_config, settings, settings_sidebar

# The page's sentences that say what the examples are, for each dataset: MNIST's digits, Fashion-MNIST's
# pictures of clothes. Whole sentences, so every language words each its own way.
INTRO = {
    "mnist": N_("Teach a computer to read handwritten digits, and watch how it learns, one epoch at a time. "
                "MNIST holds 70,000 handwritten digits, each a 28x28 grey image with the digit it shows as its label."),
    "fashion_mnist": N_("Teach a computer to tell clothes apart, and watch how it learns, one epoch at a time. "
                        "Fashion-MNIST, made by Zalando and shared under the MIT licence, holds 70,000 pictures of "
                        "clothes, each a 28x28 grey image, in 10 classes: {classes}."),
}
SET_SIZES = {"mnist": (N_("Training digits"), N_("Validation digits"), N_("Test digits")),
             "fashion_mnist": (N_("Training pictures"), N_("Validation pictures"), N_("Test pictures"))}
SAME_MIX = {
    "mnist": N_("The validation set is drawn class by class (stratified), so every set has about the same mix of digits."),
    "fashion_mnist": N_("The validation set is drawn class by class (stratified), so every set has about the same mix of "
                        "classes."),
}
LABEL_NOISE = {
    "mnist": N_("Label noise is on: {flipped:,} training labels ({share:.0%}) are replaced by a wrong digit. "
                "Validation and test labels stay correct."),
    "fashion_mnist": N_("Label noise is on: {flipped:,} training labels ({share:.0%}) are replaced by a wrong class. "
                        "Validation and test labels stay correct."),
}
SOME_TRAINING = {"mnist": N_("Some training digits"), "fashion_mnist": N_("Some training pictures")}


def sample_grid(images: np.ndarray, labels: np.ndarray, name: str, classes: ClassLabels, per_class: int = 2) -> None:
    """Show the first `per_class` examples of each class, labelled: MNIST's with the label (the digit),
    Fashion-MNIST's with the name of their class."""
    columns = st.columns(10)
    for label, column in enumerate(columns):
        caption = _("label {digit}", digit=label) if name == "mnist" else classes.name(label)
        for index in np.flatnonzero(labels == label)[:per_class]:
            column.image(images[index], caption=caption, width=56)


def keras_datasets_table() -> None:
    """The study note's table: the datasets that come with Keras, what each holds, and whether this lab
    trains on it (and why not). A table, not a grid: its cells wrap, so every reason reads whole."""
    st.subheader(_("The datasets that come with Keras"))
    st.write(_("Keras comes with seven small datasets for learning, and each of them can be read with load_data(): "
               "`tf.keras.datasets.mnist.load_data()`, say, returns `(x_train, y_train), (x_test, y_test)` as NumPy "
               "arrays. This lab trains on the two of them that a shared classroom server handles well."))
    rows = [{_("Dataset"): dataset.name, _("Examples"): number(dataset.examples, ","), _("Each one is"): _(dataset.holds),
             _("Target"): _(dataset.task),
             _("In this lab?"): _("Yes: choose it in the sidebar") if dataset.in_lab else _("No. {reason}",
                                                                                          reason=_(dataset.why_not))}
            for dataset in KERAS_DATASETS]
    st.table(pd.DataFrame(rows), hide_index=True)


def overview_page() -> None:
    st.title(_("MNIST Lab"))
    settings_sidebar()
    name = settings()["dataset"]  # the sidebar's dataset: a switch there shows its provisioning here
    classes = class_labels(name)
    st.write(_(INTRO[name], classes=listed(classes.names)))
    dataset = dataset_or_stop(name)
    keras_datasets_table()
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
    training_label, validation_label, test_label = SET_SIZES[name]
    training_column.metric(_(training_label), number(sizes["train"], ","))
    training_column.write(_("**Training** fits the weights: the model sees these digits and their labels and adjusts "
                            "itself to get them right."))
    validation_column.metric(_(validation_label), number(sizes["validation"], ","))
    validation_column.write(_("**Validation** is held back from training. Its accuracy tells how well the model does on "
                              "digits it has not seen: we use it to pick hyperparameters and to spot overfitting."))
    test_column.metric(_(test_label), number(sizes["test"], ","))
    test_column.write(_("**Test** is the final exam. It never trains or tunes anything; looking at it while choosing "
                        "settings would make its score an over-optimistic guess."))
    flipped = int((split.train_labels != split.train_labels_clean).sum())
    if flipped:
        st.warning(_(LABEL_NOISE[name], flipped=flipped, share=config.label_noise))
    show_chart(class_histograms({_("training"): split.train_labels, _("validation"): split.validation_labels,
                                 _("test"): split.test_labels}, classes), key="class_histograms")
    st.caption(_(SAME_MIX[name]))

    st.subheader(_("Epochs, batches and iterations"))
    per_epoch = steps_per_epoch(sizes["train"], config.batch_size)
    st.markdown(_(
        "- An **epoch** is one pass over the training set: the model sees each of the **{train:,}** training digits once.\n"
        "- It sees them in **batches** of **{batch:,}** digits and updates its weights once per batch: one **iteration**.\n"
        "- So one epoch is ceil({train:,} / {batch:,}) = **{per_epoch:,} iterations**, and **{epochs}** epochs are "
        "**{total:,} iterations** in all.",
        train=sizes["train"], batch=config.batch_size, per_epoch=per_epoch, epochs=config.epochs, total=per_epoch * config.epochs))
    st.caption(_("Change the batch size, epochs or training examples in the sidebar and watch these numbers follow."))

    st.subheader(_(SOME_TRAINING[name]))
    sample_grid(split.train_images, split.train_labels, name, classes)


require_navigation()
overview_page()
