"""The datasets that come with Keras (`tf.keras.datasets`), as the study note lists them: what each
holds, what a model learns from it, and whether this lab trains on it (and why not, where it does not).
The Overview page shows them as a table; every sentence is marked for the catalogs (N_) and translated
where it is shown. Each is read the same way: `tf.keras.datasets.<name>.load_data()` returns
(x_train, y_train), (x_test, y_test)."""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import N_


@dataclass(frozen=True)
class KerasDataset:
    """One of Keras' datasets, a row of the Overview's table."""

    name: str              # as Keras names it: tf.keras.datasets.<name>.load_data(); the same in every language
    examples: int          # how many examples, training and test together
    holds: str             # what one example is (N_)
    task: str              # what a model learns to answer (N_)
    why_not: str | None    # why this lab does not train on it, a sentence (N_); None for the ones it trains on

    @property
    def in_lab(self) -> bool:
        return self.why_not is None


TEXT_NEEDS_ANOTHER_MODEL = N_("Text, a sequence of words of any length, needs another kind of model (word embeddings, "
                              "recurrent or attention layers) than one that reads 28x28 pictures.")

# In the note's order: alphabetical, as tf.keras.datasets lists them.
KERAS_DATASETS = (
    KerasDataset("boston_housing", 506, N_("a house near Boston in the 1970s: 13 numbers (rooms, crime rate, taxes...)"),
                 N_("its price: a number, not a class (regression)"),
                 N_("It is regression: the answer is a price, so there are no classes to tell apart, no confusion "
                    "matrix and no accuracy.")),
    KerasDataset("cifar10", 60_000, N_("a colour photo, 32x32"), N_("10 classes: planes, cars, birds, cats..."),
                 N_("Colour photos at 32x32 need bigger models and far more computing than a shared classroom server "
                    "can give a whole class.")),
    KerasDataset("cifar100", 60_000, N_("a colour photo, 32x32"), N_("100 classes (in 20 groups)"),
                 N_("As for CIFAR-10, and with 100 classes of only 600 photos each: bigger models still, and far longer "
                    "training.")),
    KerasDataset("fashion_mnist", 70_000, N_("a grey 28x28 picture of clothes (Zalando)"),
                 N_("10 classes: kinds of clothes"), None),
    KerasDataset("imdb", 50_000, N_("a movie review, as a sequence of words"), N_("2 classes: positive or negative"),
                 TEXT_NEEDS_ANOTHER_MODEL),
    KerasDataset("mnist", 70_000, N_("a grey 28x28 handwritten digit"), N_("10 classes: the digits 0 to 9"), None),
    KerasDataset("reuters", 11_228, N_("a newswire, as a sequence of words"), N_("46 classes: its topic"),
                 TEXT_NEEDS_ANOTHER_MODEL),
)
