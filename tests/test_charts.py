"""The charts' look, checked on the figures the pages draw: what a projector at the back of a classroom needs."""

import math

import numpy as np
import pytest

from mnist_core import EpochResult
from mnist_core.palette import GAP_FILL, SERIES_COLOURS, TRAIN_COLOUR, VALIDATION_COLOUR
from ui.charts import PERCENT_TICKS, PLOTLY_CONFIG, confusion_heatmap, epoch_step, learning_curves, overlay
from ui.dataset import ClassLabels


def history(epochs: int):
    return [EpochResult(epoch=epoch, train_loss=1 / epoch, train_acc=0.9 + epoch / 1000, val_loss=1 / epoch + 0.1,
                        val_acc=0.9 + epoch / 2000, seconds=1.0, iterations=epoch * 10) for epoch in range(1, epochs + 1)]


@pytest.mark.parametrize("epochs, best_epoch", [(1, 1), (2, 1), (40, 7), (40, 40), (100, 3)])
def test_the_epoch_axis_holds_whole_epochs_from_1_whatever_the_best_epoch_marker(epochs, best_epoch):
    """Not an overfitting run drawn from -8 to 40, nor a one-epoch run with an empty epoch 0."""
    for figure in learning_curves(history(epochs), best_epoch):
        axis = figure.layout.xaxis
        assert tuple(axis.range) == (0.5, epochs + 0.5)
        assert axis.tickvals[0] == 1 and all(isinstance(tick, int) and 1 <= tick <= epochs for tick in axis.tickvals)
        assert len(axis.tickvals) == len(set(axis.tickvals)) <= 11
        assert "lowest validation loss" in figure.layout.annotations[0].text


def test_every_percentage_axis_prints_as_many_decimals_as_its_ticks_need():
    """Ticks half a percent apart need a decimal, or they read '93%, 93%, 92%, 92%'."""
    _, accuracy = learning_curves(history(5), 5)
    assert accuracy.layout.yaxis.tickformat == PERCENT_TICKS == ".2~%"
    assert overlay({"a": ([1, 2], [0.9, 0.91])}, "validation accuracy", as_percent=True).layout.yaxis.tickformat == PERCENT_TICKS


def test_one_colour_per_set_and_distinct_colours_per_run_all_from_the_engine_s_palette():
    """The palette's colours, which the pictures of weights use too (test_replay.py checks those)."""
    loss, accuracy = learning_curves(history(3), 3)
    assert loss.data[1].fillcolor == GAP_FILL == "rgba(213, 94, 0, 0.15)"  # the gap: vermilion, faint
    for figure in (loss, accuracy):
        assert [trace.line.color for trace in figure.data] == [TRAIN_COLOUR, VALIDATION_COLOUR]
        assert [trace.name.split()[0] for trace in figure.data] == ["training", "validation"]  # the same legend order
    runs = overlay({f"run {index}": ([1, 2], [0.1, 0.2]) for index in range(5)}, "validation loss")
    assert [trace.line.color for trace in runs.data] == list(SERIES_COLOURS[:5])


def test_the_toolbar_shows_only_on_hover_and_keeps_the_camera():
    assert PLOTLY_CONFIG["displayModeBar"] == "hover"
    assert "toImage" not in PLOTLY_CONFIG["modeBarButtonsToRemove"]


DIGITS = ClassLabels(names=tuple("0123456789"), axis="digit", thing="digit")


def test_epoch_ticks_stay_few():
    assert [epoch_step(n) for n in (1, 10, 11, 40, 100, 1000)] == [1, 1, 2, 5, 10, 100]


def test_the_confusion_matrix_colours_mistakes_on_their_own_scale():
    """On one scale, 47 nines read as 4 would be almost white next to 980 right answers."""
    matrix = [[980 if row == column else (47 if (row, column) == (9, 4) else 1) for column in range(10)] for row in range(10)]
    right, mistakes, cells = confusion_heatmap(matrix, as_shares=False, classes=DIGITS).data
    assert mistakes.zmax == 47 and mistakes.z[9][4] == 47 and math.isnan(mistakes.z[0][0])
    assert right.z[0][0] == 980 and right.showscale is False
    # The clickable layer: one marker per cell, at (predicted, true), carrying the cell's words for its hover.
    assert len(cells.x) == 100 and (cells.x[94], cells.y[94]) == (4, 9)
    assert cells.customdata[94] == "true 9, predicted 4: 47"


def test_the_confusion_matrix_names_fashion_mnist_classes_on_both_axes_and_in_the_hover():
    clothes = ClassLabels(names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                 "Ankle boot"), axis="class", thing="picture", in_words=True)
    figure = confusion_heatmap(np.eye(10) * 100, as_shares=False, classes=clothes)
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        assert list(axis.ticktext) == list(clothes.names) and list(axis.tickvals) == list(range(10))
    assert figure.layout.xaxis.title.text == "predicted class" and figure.layout.yaxis.title.text == "true class"
    assert figure.data[2].customdata[9 * 10 + 7] == "true Ankle boot, predicted Sneaker: 0"
