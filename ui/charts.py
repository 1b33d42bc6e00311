"""Plotly figures for learning curves. Rendering only: the numbers come from mnist_core."""

import numpy as np
import plotly.graph_objects as go

from ui.plain import plain_for_chart

TRAIN_COLOUR, VALIDATION_COLOUR = "#1f77b4", "#d62728"
# Up to two decimals, trailing zeros dropped ("92%", "92.5%", "99.06%"): a fixed ".0%" printed each
# label twice when Plotly put ticks half a percent apart.
ACCURACY_TICKS = ".2~%"


def learning_curves(history, best_epoch=None) -> tuple[go.Figure, go.Figure]:
    """Loss and accuracy against epoch, training and validation on the same axes.

    The shaded band between the two loss curves is the generalisation gap; the dotted line marks
    the epoch with the lowest validation loss.
    """
    epochs = [result.epoch for result in history]
    loss = go.Figure()
    loss.add_trace(go.Scatter(x=epochs, y=[r.train_loss for r in history], name="training loss",
                              mode="lines+markers", line={"color": TRAIN_COLOUR}))
    loss.add_trace(go.Scatter(x=epochs, y=[r.val_loss for r in history], name="validation loss",
                              mode="lines+markers", line={"color": VALIDATION_COLOUR},
                              fill="tonexty", fillcolor="rgba(214, 39, 40, 0.12)"))
    accuracy = go.Figure()
    accuracy.add_trace(go.Scatter(x=epochs, y=[r.train_acc for r in history], name="training accuracy",
                                  mode="lines+markers", line={"color": TRAIN_COLOUR}))
    accuracy.add_trace(go.Scatter(x=epochs, y=[r.val_acc for r in history], name="validation accuracy",
                                  mode="lines+markers", line={"color": VALIDATION_COLOUR}))
    for figure, title, axis in ((loss, "Loss (shaded: generalisation gap)", "cross-entropy"),
                                (accuracy, "Accuracy", "accuracy")):
        if best_epoch:
            figure.add_vline(x=best_epoch, line_dash="dot", line_color="grey",
                             annotation_text=f"best validation epoch ({best_epoch})", annotation_position="top left")
        figure.update_layout(title=title, xaxis_title="epoch", yaxis_title=axis, height=360,
                             margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend={"orientation": "h", "y": -0.25})
        figure.update_xaxes(rangemode="tozero" if len(epochs) < 2 else "normal", dtick=max(1, len(epochs) // 10))
    accuracy.update_yaxes(tickformat=ACCURACY_TICKS)
    return loss, accuracy


def overlay(curves: dict[str, tuple[list[int], list[float]]], metric_label: str) -> go.Figure:
    """One line per run: `curves` maps a run's label to (epochs, values)."""
    figure = go.Figure()
    for label, (epochs, values) in curves.items():
        figure.add_trace(go.Scatter(x=epochs, y=values, name=plain_for_chart(label), mode="lines+markers"))
    figure.update_xaxes(dtick=max(1, max((len(epochs) for epochs, _ in curves.values()), default=1) // 10))
    figure.update_layout(xaxis_title="epoch", yaxis_title=metric_label, height=420,
                         margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.2})
    if "acc" in metric_label:
        figure.update_yaxes(tickformat=ACCURACY_TICKS)
    return figure


def class_histograms(parts: dict[str, np.ndarray]) -> go.Figure:
    """How many digits of each class each part holds, one panel per part."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=len(parts), subplot_titles=list(parts), shared_yaxes=False)
    for column, (name, labels) in enumerate(parts.items(), start=1):
        counts = [int((labels == digit).sum()) for digit in range(10)]
        figure.add_trace(go.Bar(x=list(range(10)), y=counts, name=name, showlegend=False,
                                hovertemplate="digit %{x}: %{y:,} examples<extra>" + name + "</extra>"), row=1, col=column)
        figure.update_xaxes(title_text="digit", dtick=1, row=1, col=column)
    figure.update_yaxes(title_text="examples", row=1, col=1)
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure



def confusion_heatmap(matrix, normalised: bool) -> go.Figure:
    """Rows: the true digit; columns: the model's answer. The diagonal holds the right answers."""
    text = [[f"{value:.1%}" if normalised else f"{value:,}" for value in row] for row in matrix]
    figure = go.Figure(go.Heatmap(z=np.asarray(matrix).tolist(), x=list(range(10)), y=list(range(10)), text=text, texttemplate="%{text}",
                                  colorscale="Blues", hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    figure.update_layout(xaxis_title="predicted digit", yaxis_title="true digit", height=520,
                         margin={"l": 10, "r": 10, "t": 30, "b": 10})
    figure.update_xaxes(dtick=1, side="top")
    figure.update_yaxes(dtick=1, autorange="reversed")
    return figure


def digit_bars(values, title: str, axis_title: str, highlight: int | None = None) -> go.Figure:
    """One bar per digit 0-9 (probabilities, per-class accuracy)."""
    colours = ["#d62728" if digit == highlight else "#1f77b4" for digit in range(10)]
    figure = go.Figure(go.Bar(x=list(range(10)), y=list(values), marker_color=colours,
                              hovertemplate="digit %{x}: %{y:.1%}<extra></extra>"))
    figure.update_layout(title=title, xaxis_title="digit", yaxis_title=axis_title, height=300,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10})
    figure.update_xaxes(dtick=1)
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    return figure
