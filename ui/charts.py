"""Plotly figures for learning curves, the exam and the canvas. Rendering only: the numbers come from mnist_core.

One look for every chart, readable from the back of a classroom on a projector: 14-16 px text,
titles on the left (the toolbar, shown only on hover, sits on the right), whole-number epochs
from 1, percentages with as many decimals as the ticks need, and colours from mnist_core.palette
(Okabe-Ito's, which stay distinguishable for the common kinds of colour blindness), shared with
the pictures of weights.
"""

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mnist_core.palette import DIGIT_COLOURS, GAP_FILL, SERIES_COLOURS, TRAIN_COLOUR, VALIDATION_COLOUR
from ui.dataset import ClassLabels
from ui.i18n import N_, _, in_page_language, language
from ui.plain import plain_for_chart

# The learning curves per epoch (the classic view) or per iteration (learning inside an epoch): the
# two views a page offers of a run's curves.
CURVE_VIEWS = {"epochs": N_("per epoch"), "iterations": N_("per iteration")}
# Up to two decimals, trailing zeros dropped ("92%", "92.5%", "99.06%"): a fixed ".0%" printed each
# label twice when Plotly put ticks half a percent apart.
PERCENT_TICKS = ".2~%"
LEARNING_CURVE_HEIGHT = 300  # at 1280x720, the Train page's charts and legends end above the fold
# Up to this many points of the iteration curve get markers: a run paused after a step or two has a
# point or two, which a line alone would not show.
FEW_POINTS = 40
ZOOMED_ITERATIONS = 100  # what a paused run's iteration curve shows: its last hundred iterations
CHART_FONT = {"size": 15}
TICK_FONT = {"size": 14}
TITLE_FONT = {"size": 18}
# The toolbar appears only while the mouse is over a chart, without the buttons a lesson never needs;
# the camera (download as PNG) stays.
PLOTLY_CONFIG = {"displayModeBar": "hover", "displaylogo": False,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "zoomIn2d", "zoomOut2d", "toggleSpikelines"]}


def by_iteration_switch(where, key: str) -> bool:
    """*per epoch | per iteration* for a run's curves, in `where`; True for per iteration. Starts per
    epoch; the state is set here rather than as the widget's default, so a page may switch it
    (the Train page's Pause shows the iterations, where a step is seen)."""
    st.session_state.setdefault(key, "epochs")
    return where.segmented_control(_("Curves"), list(CURVE_VIEWS), format_func=in_page_language(
        lambda view: _(CURVE_VIEWS[view])), key=key, label_visibility="collapsed") == "iterations"


# What Plotly's toolbar says (its own English words, as Plotly's locales key them), through the
# catalog: a Chinese class saw "Download plot as a PNG", "Zoom", "Pan" and "Reset axes" in English.
PLOTLY_WORDS = (N_("Download plot as a PNG"), N_("Zoom"), N_("Pan"), N_("Reset axes"), N_("Autoscale"),
                N_("Double-click to zoom back out"), N_("Taking snapshot - this may take a few seconds"),
                N_("Snapshot succeeded"), N_("Sorry, there was a problem downloading your snapshot!"))
PLOTLY_LOCALES = {"zh": "zh-CN"}  # the app's language -> the locale name Plotly is told


def plotly_config() -> dict:
    """PLOTLY_CONFIG, with the toolbar's words in the reader's language (a locale given with the chart,
    as Plotly's `locales` config allows, so nothing needs registering in the browser)."""
    locale = PLOTLY_LOCALES.get(language())
    if locale is None:
        return PLOTLY_CONFIG
    return {**PLOTLY_CONFIG, "locale": locale, "locales": {locale: {"dictionary": {word: _(word) for word in PLOTLY_WORDS}}}}


def show_chart(figure: go.Figure, key: str, where=st, **options):
    """Draw `figure` with the app's toolbar settings, in `where` (a column, say)."""
    return where.plotly_chart(figure, key=key, config=plotly_config(), **options)


def styled(figure: go.Figure, title: str | None, height: int, legend_below: bool = True) -> go.Figure:
    top = 64 if title else 24  # room for the title, and above the plot for the best-epoch label
    figure.update_layout(title={"text": title, "x": 0, "xanchor": "left", "font": TITLE_FONT} if title else None,
                         height=height, font=CHART_FONT, margin={"l": 10, "r": 10, "t": top, "b": 10},
                         # Upright at the right edge: across the top, the toolbar covered a long title on hover.
                         modebar={"orientation": "v"})
    if legend_below:
        # "normal": in the order the traces were added (training first), even where a filled trace
        # would make Plotly reverse it.
        figure.update_layout(legend={"orientation": "h", "y": -0.3, "x": 0, "font": TICK_FONT, "traceorder": "normal"})
    figure.update_xaxes(tickfont=TICK_FONT)
    figure.update_yaxes(tickfont=TICK_FONT)
    return figure


def epoch_step(last_epoch: int) -> int:
    """Whole epochs between tick labels: 1, 2, 5, 10, 20, 50, ... so that at most about ten show."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if last_epoch / step <= 10:
            return step
    return 1000


def epoch_axis(figure: go.Figure, last_epoch: int) -> None:
    """Epochs are whole numbers from 1: the axis runs from half an epoch before the first to half an
    epoch after the last, so no label is negative, repeated or fractional, and a marker or line
    drawn on it cannot widen it."""
    last_epoch = max(1, last_epoch)
    step = epoch_step(last_epoch)
    ticks = [1, *range(step, last_epoch + 1, step)] if step > 1 else list(range(1, last_epoch + 1))  # epoch 1 always
    figure.update_xaxes(title_text=_("epoch"), range=[0.5, last_epoch + 0.5], tickmode="array", tickvals=ticks)


def mark_best_epoch(figure: go.Figure, best_epoch: int | None, last_epoch: int, narrow: bool = False) -> None:
    """A dotted line at the epoch with the lowest validation loss, labelled just above the plot (inside
    it, the label hid the curves' last markers), reaching towards the side with room. `narrow`: a
    chart a third of the page wide, where only "best epoch (N)" fits."""
    if not best_epoch:
        return
    side = "right" if best_epoch >= (last_epoch + 1) / 2 else "left"  # the last of one epoch: to the left
    figure.add_vline(x=best_epoch, line_dash="dot", line_color="grey")
    text = (_("best epoch ({epoch})", epoch=int(best_epoch)) if narrow
            else _("best epoch ({epoch}): lowest validation loss", epoch=int(best_epoch)))
    figure.add_annotation(x=best_epoch, y=1, yref="paper", yanchor="bottom", xanchor=side, showarrow=False, text=text,
                          font={"size": 13, "color": "grey"})


def learning_curves(history, best_epoch=None, whole_run=None, narrow: bool = False) -> tuple[go.Figure, go.Figure]:
    """Loss and accuracy against epoch, training and validation on the same axes.

    The shaded band between the two loss curves is the generalization gap; the dotted line marks
    the epoch with the lowest validation loss. `whole_run`: the history of which `history` is the
    beginning; a replay draws the curves so far on the axes of the whole run, so they grow into a
    still frame instead of the axes jumping at every epoch. `narrow`: charts a third of the page wide.
    """
    epochs = [result.epoch for result in history]
    last_epoch = len(whole_run) if whole_run else max(epochs, default=1)
    loss, accuracy = go.Figure(), go.Figure()
    loss.add_trace(go.Scatter(x=epochs, y=[r.train_loss for r in history], name=_("training loss"),
                              mode="lines+markers", line={"color": TRAIN_COLOUR}))
    loss.add_trace(go.Scatter(x=epochs, y=[r.val_loss for r in history], name=_("validation loss"),
                              mode="lines+markers", line={"color": VALIDATION_COLOUR}, fill="tonexty", fillcolor=GAP_FILL))
    accuracy.add_trace(go.Scatter(x=epochs, y=[r.train_acc for r in history], name=_("training accuracy"),
                                  mode="lines+markers", line={"color": TRAIN_COLOUR}))
    accuracy.add_trace(go.Scatter(x=epochs, y=[r.val_acc for r in history], name=_("validation accuracy"),
                                  mode="lines+markers", line={"color": VALIDATION_COLOUR}))
    loss_title = _("Loss") if narrow else _("Loss (shaded: generalization gap)")  # narrow: the legend has the gap
    for figure, title, axis in ((loss, loss_title, _("cross-entropy")),
                                (accuracy, _("Accuracy"), _("accuracy"))):
        styled(figure, title, height=LEARNING_CURVE_HEIGHT)
        figure.update_yaxes(title_text=axis)
        epoch_axis(figure, last_epoch)
        mark_best_epoch(figure, best_epoch, last_epoch, narrow)
    accuracy.update_yaxes(tickformat=PERCENT_TICKS)
    if whole_run:
        losses = [value for result in whole_run for value in (result.train_loss, result.val_loss)]
        accuracies = [value for result in whole_run for value in (result.train_acc, result.val_acc)]
        loss.update_yaxes(range=padded_range(losses, floor=0))
        accuracy.update_yaxes(range=padded_range(accuracies, ceiling=1))
    return loss, accuracy


def before_and_after(before, after, before_label: str, after_label: str) -> go.Figure:
    """Training and validation accuracy of a run (`before`, dotted) and of the same run trained again
    with one change (`after`, solid): the gap between the blue and the vermilion lines, before and
    after. The labels are users' text (run names) or the app's, in the reader's language."""
    figure = go.Figure()
    for history, label, dash in ((before, before_label, "dot"), (after, after_label, "solid")):
        epochs = [result.epoch for result in history]
        for values, metric, colour in (([r.train_acc for r in history], _("training"), TRAIN_COLOUR),
                                       ([r.val_acc for r in history], _("validation"), VALIDATION_COLOUR)):
            figure.add_trace(go.Scatter(x=epochs, y=values, mode="lines", line={"color": colour, "dash": dash, "width": 3},
                                        name=plain_for_chart(_("{run}: {metric}", run=label, metric=metric))))
    styled(figure, _("Accuracy before (dotted) and after (solid)"), height=330)
    figure.update_layout(legend={"y": -0.25})
    figure.update_yaxes(title_text=_("accuracy"), tickformat=PERCENT_TICKS)
    epoch_axis(figure, max(len(before), len(after), 1))
    return figure


def padded_range(values, floor: float | None = None, ceiling: float | None = None) -> list[float]:
    """An axis range around `values` with 5% to spare on each side, not beyond `floor` or `ceiling`."""
    low, high = min(values), max(values)
    spare = 0.05 * (high - low or abs(high) or 1)
    low, high = low - spare, high + spare
    return [max(low, floor) if floor is not None else low, min(high, ceiling) if ceiling is not None else high]


def iteration_curves(points, history, steps_per_epoch: int, planned_epochs: int, epoch_labels: int = 5,
                     zoomed: bool = False) -> tuple[go.Figure, go.Figure]:
    """Loss and accuracy against iteration, on an axis as long as the whole run: the training batches
    as they are trained on (`points`: results.IterationPoint, a few batches averaged per point), the
    validation set at each epoch's end, and dotted lines where one epoch ends and the next begins.

    At most `epoch_labels` epochs are named, so the names never overlap (fewer for a narrow chart).
    `zoomed`: only the last ZOOMED_ITERATIONS iterations, on axes fitted to them (a paused run, stepped
    one batch at a time: on the whole run's axes a step would be a sliver of a flat line), without
    the epochs' names."""
    last_iteration = max(planned_epochs * steps_per_epoch, points[-1].iteration if points else 1)
    first_iteration = 0
    if zoomed:
        latest = points[-1].iteration if points else 0
        first_iteration, last_iteration = max(0, latest - ZOOMED_ITERATIONS), latest + ZOOMED_ITERATIONS // 10
        points = [point for point in points if point.iteration >= first_iteration]
        history = [result for result in history if result.epoch * steps_per_epoch >= first_iteration]
        epoch_labels = 0
    epoch_ends = [result.epoch * steps_per_epoch for result in history]
    loss, accuracy = go.Figure(), go.Figure()
    for figure, batch_values, validation_values, title, axis in (
            (loss, [point.loss for point in points], [result.val_loss for result in history],
             _("Loss, iteration by iteration"), _("cross-entropy")),
            (accuracy, [point.accuracy for point in points], [result.val_acc for result in history],
             _("Accuracy, iteration by iteration"), _("accuracy"))):
        figure.add_trace(go.Scatter(x=[point.iteration for point in points], y=batch_values, name=_("training batches"),
                                    mode="lines" if len(points) > FEW_POINTS else "lines+markers",
                                    line={"color": TRAIN_COLOUR, "width": 1.5}))
        figure.add_trace(go.Scatter(x=epoch_ends, y=validation_values, name=_("validation set, at each epoch's end"),
                                    mode="markers", marker={"color": VALIDATION_COLOUR, "size": 11},
                                    cliponaxis=False))  # the last epoch's end is the axis's end: a whole dot
        styled(figure, title, height=330)
        figure.update_xaxes(title_text=_("iteration (one batch each)"),
                            range=[first_iteration, first_iteration + (last_iteration - first_iteration) * 1.02])
        figure.update_yaxes(title_text=axis)
        if zoomed and points:  # fitted to the points shown, or a step's change would look flat
            figure.update_yaxes(range=padded_range(batch_values + validation_values))
        if planned_epochs <= 20:  # the epochs' boundaries, and (at most `epoch_labels`, so they never overlap) their names
            label_every = math.ceil(planned_epochs / epoch_labels) if epoch_labels else None
            for epoch in range(1, planned_epochs + 1):
                if epoch < planned_epochs and first_iteration <= epoch * steps_per_epoch <= last_iteration:
                    figure.add_vline(x=epoch * steps_per_epoch, line_dash="dot", line_color="lightgrey")
                if label_every and (epoch - 1) % label_every == 0 and (epoch - 0.5) * steps_per_epoch <= last_iteration:
                    figure.add_annotation(x=(epoch - 0.5) * steps_per_epoch, y=1, yref="paper", yanchor="bottom",
                                          showarrow=False, text=_("epoch {epoch}", epoch=epoch), font={"size": 12, "color": "grey"})
    accuracy.update_yaxes(tickformat=PERCENT_TICKS)
    return loss, accuracy


def overlay(curves: dict[str, tuple[list[int], list[float]]], metric_label: str, as_percent: bool = False,
            title: str | None = None, height: int = 420) -> go.Figure:
    """One line per run, each in its own palette colour: `curves` maps a run's label to (epochs, values).
    `metric_label` (and `title`) are in the reader's language; an accuracy (`as_percent`) gets a percent axis."""
    figure = go.Figure()
    for index, (label, (epochs, values)) in enumerate(curves.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        figure.add_trace(go.Scatter(x=epochs, y=values, name=plain_for_chart(label), mode="lines+markers",
                                    line={"color": colour}, marker={"color": colour}))
    styled(figure, title, height=height)
    epoch_axis(figure, max((max(epochs, default=1) for epochs, _values in curves.values()), default=1))
    figure.update_yaxes(title_text=metric_label)
    if as_percent:
        figure.update_yaxes(tickformat=PERCENT_TICKS)
    return figure


def class_axis(figure: go.Figure, classes: ClassLabels, upright: bool = False, **where) -> None:
    """An axis of the ten classes, each named: the digits 0-9, or Fashion-MNIST's clothes, turned (ten
    names side by side do not fit), upright in a narrow panel where even turned ones ran into each other.
    The margin grows to hold them: a turned first name was cut at the chart's left edge."""
    angle = 0 if not classes.in_words else -90 if upright else -40
    figure.update_xaxes(title_text=classes.axis, tickmode="array", tickvals=list(range(10)), ticktext=list(classes.names),
                        tickangle=angle, automargin=True, **where)


def class_histograms(parts: dict[str, np.ndarray], classes: ClassLabels) -> go.Figure:
    """How many examples of each class each part holds, one panel per part (named in the reader's language)."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=len(parts), subplot_titles=list(parts), shared_yaxes=False)
    for column, (name, labels) in enumerate(parts.items(), start=1):
        counts = [int((labels == label).sum()) for label in range(10)]
        figure.add_trace(go.Bar(x=list(range(10)), y=counts, name=name, showlegend=False, customdata=list(classes.names),
                                marker_color=SERIES_COLOURS[column - 1],
                                hovertemplate=_("%{customdata}: %{y:,} examples") + f"<extra>{name}</extra>"),
                         row=1, col=column)
        class_axis(figure, classes, upright=True, row=1, col=column)  # three panels side by side: narrow
    figure.update_yaxes(title_text=_("examples"), row=1, col=1)
    styled(figure, None, height=320, legend_below=False)
    figure.update_layout(margin={"t": 40})
    return figure


def confusion_heatmap(matrix, as_shares: bool, classes: ClassLabels, clickable: bool = True, height: int = 560) -> go.Figure:
    """Rows: the true digit; columns: the model's answer. The right answers (the diagonal) are grey;
    the mistakes have a colour scale of their own, from none to the most common mistake, so that
    47 nines read as 4 stand out instead of fading next to 980 right answers.

    Plotly cannot select a heatmap's cells, so a layer of invisible square markers, one per cell,
    takes the hover and the clicks; a clicked cell gets a black frame. Not `clickable`: the cells
    say their counts on hover, and a click does nothing."""
    values = np.asarray(matrix, dtype=float)
    on_diagonal = np.eye(10, dtype=bool)
    text = [[f"{value:.1%}" if as_shares else f"{int(value):,}" for value in row] for row in values]
    right = np.where(on_diagonal, values, np.nan)
    mistakes = np.where(on_diagonal, np.nan, values)
    biggest_mistake = float(np.nanmax(mistakes)) if np.nanmax(mistakes) > 0 else 1.0
    hover = [[_("true {true}, predicted {predicted}: {count}", true=classes.name(true), predicted=classes.name(predicted),
                count=text[true][predicted]) for predicted in range(10)] for true in range(10)]
    cells = {"x": list(range(10)), "y": list(range(10)), "text": text, "texttemplate": "%{text}",
             "textfont": {"size": 14}, "hoverinfo": "skip"}
    true_digits, predicted_digits = np.divmod(np.arange(100), 10)
    if not clickable:
        cells.update(hoverinfo=None, customdata=hover, hovertemplate="%{customdata}<extra></extra>")
    figure = go.Figure([
        go.Heatmap(z=right.tolist(), showscale=False, colorscale=[[0, "#e8e8e8"], [1, "#e8e8e8"]], **cells),
        go.Heatmap(z=mistakes.tolist(), colorscale="Reds", zmin=0, zmax=biggest_mistake, **cells,
                   colorbar={"title": {"text": _("mistakes")}, "tickformat": ".1~%" if as_shares else ",d"}),
    ])
    if clickable:
        figure.add_trace(go.Scatter(
            x=predicted_digits.tolist(), y=true_digits.tolist(), mode="markers", showlegend=False,
            customdata=[cell for row in hover for cell in row],
            hovertemplate="%{customdata}<br>" + _("click to see them") + "<extra></extra>",
            marker={"symbol": "square-open", "size": 40, "color": "black", "opacity": 0, "line": {"width": 3}},
            selected={"marker": {"opacity": 1}}, unselected={"marker": {"opacity": 0}}))
    styled(figure, None, height=height, legend_below=False)
    figure.update_layout(margin={"t": 60}, clickmode="event+select")
    class_axis(figure, classes)
    figure.update_xaxes(title_text=_("predicted {what}", what=classes.axis), side="top", range=[-0.5, 9.5], showgrid=False,
                        zeroline=False)
    # Reversed: the true class 0 on top.
    figure.update_yaxes(title_text=_("true {what}", what=classes.axis), tickmode="array", tickvals=list(range(10)),
                        ticktext=list(classes.names), range=[9.5, -0.5], showgrid=False, zeroline=False)
    return figure


def clicked_cell(chart_state) -> tuple[int, int] | None:
    """(true digit, predicted digit) of the confusion-matrix cell clicked last, from the chart's state."""
    points = chart_state.selection.points if chart_state else []
    if not points:
        return None
    return int(points[0]["y"]), int(points[0]["x"])


def digit_bars(values, title: str, axis_title: str, classes: ClassLabels, highlight: int | None = None,
               zoomed: bool = False) -> go.Figure:
    """One bar per class (probabilities, per-class accuracy). `zoomed`: the axis starts a point
    below the lowest bar, whole percent, and the title says where; ten accuracies near 99% on a 0-100%
    axis were ten identical bars."""
    colours = [VALIDATION_COLOUR if digit == highlight else TRAIN_COLOUR for digit in range(10)]
    figure = go.Figure(go.Bar(x=list(range(10)), y=list(values), marker_color=colours, customdata=list(classes.names),
                              hovertemplate="%{customdata}: %{y:.1%}<extra></extra>"))
    bottom = max(0.0, math.floor(min(values) * 100 - 1) / 100) if zoomed else 0.0
    if bottom > 0:
        title = _("{title} (the axis starts at {bottom:.0%})", title=title, bottom=bottom)
    styled(figure, title, height=320, legend_below=False)
    shares_per_class(figure, axis_title, classes)
    figure.update_yaxes(range=[bottom, 1])
    return figure


def shares_per_class(figure: go.Figure, axis_title: str, classes: ClassLabels) -> go.Figure:
    """The axes of a bar chart of a share per class: the ten classes, and 0% to 100%."""
    figure.update_layout(yaxis_title=axis_title)
    class_axis(figure, classes)
    figure.update_yaxes(tickformat=PERCENT_TICKS, range=[0, 1])
    return figure


def digit_map(coordinates, labels, predictions, hover_pictures, title: str, classes: ClassLabels, chosen: int | None = None,
              placed=None, height: int = 460, legend: bool = True) -> go.Figure:
    """The map of all digits: one point per digit where the model's features put it, coloured by its
    true digit; a digit the model reads wrong is crossed out. Hovering shows the digit (`hover_pictures`:
    pictures.digits_as_braille's, since a hover label takes text only); each point's customdata is its index, for a click to
    open it. `chosen`: the index of the digit being inspected, circled; `placed`: (x, y) of a digit
    that is not on the map (a test or a drawn digit), drawn as a star. `legend`: False for the first of
    two maps side by side, which share the second's legend and use its width for the digits."""
    coordinates, labels, predictions = np.asarray(coordinates), np.asarray(labels), np.asarray(predictions)
    figure = go.Figure()

    for digit in range(10):
        indices = np.flatnonzero(labels == digit)
        hover = [_("true {true}, read as {predicted}", true=classes.name(digit), predicted=classes.name(predictions[index]))
                 for index in indices]
        figure.add_trace(go.Scatter(x=coordinates[indices, 0], y=coordinates[indices, 1], mode="markers",
                                    name=classes.name(digit),
                                    customdata=indices, marker={"color": DIGIT_COLOURS[digit], "size": 6},
                                    text=[hover_pictures[index] for index in indices], hovertext=hover,
                                    hovertemplate="%{hovertext}<br>%{text}<extra></extra>"))
    # The mistakes again, on top, as black crosses over their colour (the legend keeps one symbol an entry).
    # No hover of their own: the point beneath answers, and the pictures are not sent twice.
    wrong = np.flatnonzero(predictions != labels)
    figure.add_trace(go.Scatter(x=coordinates[wrong, 0], y=coordinates[wrong, 1], mode="markers", name=_("read wrong"),
                                hoverinfo="skip", marker={"color": "black", "size": 7, "symbol": "x-thin-open",
                                                          "line": {"width": 1}}))
    if chosen is not None:
        figure.add_trace(go.Scatter(x=[coordinates[chosen, 0]], y=[coordinates[chosen, 1]], mode="markers",
                                    name=_("this {thing}", thing=classes.thing), hoverinfo="skip",
                                    marker={"size": 22, "symbol": "circle-open", "color": "black", "line": {"width": 3}}))
    if placed is not None:
        figure.add_trace(go.Scatter(x=[placed[0]], y=[placed[1]], mode="markers", name=_("this {thing}", thing=classes.thing),
                                    hoverinfo="skip",
                                    marker={"size": 22, "symbol": "star", "color": "black"}))
    styled(figure, title, height=height, legend_below=False)
    # The hover label large enough to read the digit's braille dots from a classroom's back rows.
    figure.update_layout(legend={"font": TICK_FONT, "itemsizing": "constant"}, showlegend=legend,
                         hoverlabel={"font": {"family": "monospace", "size": 20}, "bgcolor": "white"},
                         dragmode="pan", clickmode="event+select")
    figure.update_xaxes(showticklabels=False, zeroline=False, title_text=None)
    figure.update_yaxes(showticklabels=False, zeroline=False, title_text=None, scaleanchor=None)
    return figure


def runs_probability_bars(run_labels: list[str], probabilities: list, title: str, classes: ClassLabels) -> go.Figure:
    """Several runs' probabilities of each class, as groups of bars: one colour per run."""
    figure = go.Figure()
    for position, (label, values) in enumerate(zip(run_labels, probabilities)):
        figure.add_trace(go.Bar(x=list(range(10)), y=list(values), name=plain_for_chart(label), customdata=list(classes.names),
                                marker_color=SERIES_COLOURS[position % len(SERIES_COLOURS)],
                                hovertemplate="%{customdata}: %{y:.1%}<extra>%{fullData.name}</extra>"))
    # Turned names of clothes reach further down: the legend goes below them, not over the axis title.
    styled(figure, title, height=420 if classes.in_words else 340)
    figure.update_layout(barmode="group", legend={"orientation": "h", "y": -0.6 if classes.in_words else -0.35, "x": 0,
                                                  "font": TICK_FONT})
    return shares_per_class(figure, _("probability"), classes)


# The robustness chart's three panels: what changes, and the unit of its size; and the step between tick labels.
ROBUSTNESS_PANELS = {"shift": N_("moved (pixels)"), "rotation": N_("turned (degrees)"), "fgsm": N_("FGSM attack (epsilon)")}
ROBUSTNESS_TICK_STEPS = {"shift": 1, "rotation": 10, "fgsm": 0.05}


def robustness_chart(run_labels: list[str], curves: list[dict]) -> go.Figure:
    """Accuracy against the size of each change, a panel per change and a colour per run (one legend)."""
    from plotly.subplots import make_subplots

    kinds = list(ROBUSTNESS_PANELS)
    figure = make_subplots(rows=1, cols=len(kinds), shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=[_(ROBUSTNESS_PANELS[kind]) for kind in kinds])
    for position, (label, points) in enumerate(zip(run_labels, curves)):
        colour = SERIES_COLOURS[position % len(SERIES_COLOURS)]
        for column, kind in enumerate(kinds, start=1):
            sizes, accuracies = zip(*points[kind])
            figure.add_trace(go.Scatter(x=sizes, y=accuracies, mode="lines+markers", name=plain_for_chart(label),
                                        legendgroup=str(position), showlegend=column == 1, line={"color": colour},
                                        hovertemplate="%{x:g}: %{y:.1%}<extra>%{fullData.name}</extra>"),
                             row=1, col=column)
            figure.update_xaxes(tick0=0, dtick=ROBUSTNESS_TICK_STEPS[kind], row=1, col=column)
    styled(figure, _("Accuracy as the change grows"), height=420)
    figure.update_layout(legend={"orientation": "h", "y": -0.25, "x": 0, "font": TICK_FONT})
    figure.update_yaxes(tickformat=PERCENT_TICKS, range=[0, 1.02])
    figure.update_yaxes(title_text=_("accuracy"), row=1, col=1)
    figure.update_annotations(font={"size": 15})
    return figure
