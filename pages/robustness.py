"""Robustness: break the reader. Change a digit a little (move, turn, resize, thin or bold pen, noise)
or attack it with FGSM, and see several runs' answers side by side; then each run's accuracy against
the size of each change, on one chart.

The maths is mnist_core.robustness's; each run's curves are computed once per run and kept for the
whole server (a ComputedOnce store), like the Inside page's maps.
"""

import numpy as np
import streamlit as st

from mnist_core.config import is_augmented
from mnist_core.models import predict_probabilities
from mnist_core.pictures import diverging_colours, enlarged
from mnist_core.robustness import CURVE_DIGITS, curve_key, fgsm, robustness_curves, varied_digit
from ui.charts import robustness_chart, runs_probability_bars, show_chart
from ui.dataset import ClassLabels, class_labels, dataset_or_stop, dataset_title, datasets_of_runs, run_digits
from ui.heavy_work import in_turn
from ui.i18n import N_, _, in_page_language, listed, run_name
from ui.inside_link import DRAWN_DIGIT
from ui.layout import wrapping_columns
from ui.navigation import require_navigation
from ui.plain import plain
from ui.run_picker import model_of, run_choice_label, trained_runs
from ui.server_stores import server_store
from ui.settings import model_name, settings

DIGIT_SCALE = 5  # 140 px digits
MAX_RUNS = 4     # side by side on a projector
SLIDERS = {  # key: (label, minimum, maximum, step, neutral value, as shown: no "5.00" degrees)
    "robust_shift_x": (N_("Move right (pixels)"), -6.0, 6.0, 0.5, 0.0, "%.1f"),
    "robust_shift_y": (N_("Move down (pixels)"), -6.0, 6.0, 0.5, 0.0, "%.1f"),
    "robust_rotation": (N_("Turn (degrees, anticlockwise)"), -60.0, 60.0, 5.0, 0.0, "%.0f°"),
    "robust_zoom": (N_("Size (1 = as drawn)"), 0.5, 1.5, 0.05, 1.0, "%.2f"),
    "robust_thickness": (N_("Pen (below 0 thinner, above 0 bolder)"), -1.0, 1.0, 0.25, 0.0, "%.2f"),
    "robust_noise": (N_("Noise"), 0.0, 0.5, 0.05, 0.0, "%.2f"),
}


def default_runs(runs) -> list:
    """The best run of each model, and the best augmented one if any: the first comparison worth making
    (does augmentation make a model harder to break?)."""
    chosen = []
    for model in ("linear", "mlp", "cnn"):
        chosen += [run for run in runs if run.config.model == model and not is_augmented(run.config)][:1]
    chosen += [run for run in runs if is_augmented(run.config)][:1]
    return chosen[:MAX_RUNS] or runs[:MAX_RUNS]


def pick_dataset(runs) -> str:
    """The dataset whose runs are compared. The runs read the same test pictures, so they are all of one
    dataset, never a mix: a choice, shown only when the workspace has trained runs of more than one."""
    present, default = datasets_of_runs(runs, settings()["dataset"])
    if len(present) == 1:
        return present[0]
    if st.session_state.get("robust_dataset") not in present:
        # Streamlit forgets a widget's value when its page is left: start on the sidebar's dataset, or the best run's.
        st.session_state["robust_dataset"] = default
    dataset = st.radio(_("Dataset"), present, horizontal=True, format_func=dataset_title,
                       key="robust_dataset")
    st.caption(_("The runs compared here read the same test pictures, so they are runs of one dataset: choose which."))
    return dataset


def pick_runs(runs, dataset: str):
    """The runs of `dataset` to compare, chosen among `runs` (the workspace's trained runs, the best first)."""
    runs = [run for run in runs if run.config.dataset == dataset]
    if "robust_runs" not in st.session_state or st.session_state.get("robust_runs_dataset") != dataset:
        st.session_state["robust_runs"] = default_runs(runs)
    else:  # the runs chosen before, as they are now: one may have trained on (its label changed) or be gone
        fresh = {run.run_id: run for run in runs}
        st.session_state["robust_runs"] = [fresh[run.run_id] for run in st.session_state["robust_runs"] if run.run_id in fresh]
    st.session_state["robust_runs_dataset"] = dataset
    return st.multiselect(_("Runs to compare (up to {count})", count=MAX_RUNS), runs, max_selections=MAX_RUNS,
                          format_func=in_page_language(run_choice_label), key="robust_runs")


def short_label(run) -> str:
    """A run in a chart's legend: its name and model, and whether it trained with augmentation."""
    if is_augmented(run.config):
        return _("{name} ({model}, augmented)", name=run_name(run.name), model=model_name(run.config.model))
    return _("{name} ({model})", name=run_name(run.name), model=model_name(run.config.model))


def pick_digit(test_images, test_labels, dataset: str):
    """(the digit (or Fashion-MNIST picture) as floats in [0, 1], its true label or None)."""
    last = len(test_labels) - 1
    if dataset != "mnist":  # the Draw page's digit is a digit: not for models that read clothes
        index = wrapping_columns(2, key="robust_source", least_width_rem=14)[0].number_input(
            _("Test picture number (0 to {last:,})", last=last), min_value=0, max_value=last, step=1, key="robust_test_number")
        return test_images[index] / 255.0, int(test_labels[index])
    drawn = st.session_state.get(DRAWN_DIGIT)
    sources = ["test"] + (["drawn"] if drawn is not None else [])
    source_column, number_column = wrapping_columns(2, key="robust_source", least_width_rem=14, vertical_alignment="bottom")
    source = source_column.radio(
        _("Digit"), sources, horizontal=True, key="robust_source",
        format_func=in_page_language(lambda choice: _("a test digit") if choice == "test" else _("the digit you drew")))
    if source == "drawn" and drawn is not None:
        return drawn, None
    index = number_column.number_input(_("Test digit number (0 to {last:,})", last=last), min_value=0, max_value=last, step=1,
                                       key="robust_test_number")
    return test_images[index] / 255.0, int(test_labels[index])


def reset_sliders() -> None:
    for key, (_label, _low, _high, _step, neutral, _shown) in SLIDERS.items():
        st.session_state[key] = neutral


def transform_controls(dataset: str) -> dict:
    values = {}
    for (key, (label, low, high, step, neutral, shown)), column in zip(SLIDERS.items(), wrapping_columns(3, key="robust_sliders",
                                                                                                   least_width_rem=14) * 2):
        st.session_state.setdefault(key, neutral)  # the value lives in the session, so "Undo" can set it
        values[key] = column.slider(_(label), low, high, step=step, key=key, format=shown)
    st.button(_("Undo every change to the digit") if dataset == "mnist" else _("Undo every change to the picture"),
              on_click=reset_sliders, icon=":material/restart_alt:")
    return values


def show_readings(runs, digit, title: str, key: str, classes: ClassLabels) -> list:
    """Each run's answer to `digit`, and one chart of all their probabilities; returns the probabilities."""
    probabilities = [predict_probabilities(model_of(run), digit)[0] for run in runs]
    readings = [_("{run}: {answer} ({confidence:.0%})", run=short_label(run), answer=classes.name(p.argmax()),
                  confidence=float(p.max())) for run, p in zip(runs, probabilities)]
    st.write(plain(_("Read as: {readings}", readings=listed(readings))))  # run names are the students' text
    show_chart(runs_probability_bars([short_label(run) for run in runs], probabilities, title, classes=classes), key=key)
    return probabilities


def show_attack(runs, digit, label, readings: list, classes: ClassLabels) -> None:
    """FGSM on `digit`, each run with its own gradient; `readings`: each run's probabilities for `digit`."""
    st.subheader(_("An adversarial attack (FGSM)"))
    st.write(_("The fast gradient sign method pushes every pixel by epsilon in the direction that raises the model's loss "
               "most, found with the gradient (tf.GradientTape). A change you can barely see can turn the answer. It attacks "
               "the digit as changed above; each run is attacked with its own gradient."))
    epsilon = st.slider(_("Strength (epsilon)"), 0.0, 0.3, 0.1, 0.01, key="robust_epsilon")
    if label is None:
        st.caption(_("Your drawing has no true label, so each run is pushed away from its own answer."))
    columns = wrapping_columns(len(runs), key="robust_attacks", least_width_rem=10)
    probabilities = []
    for run, column, reading in zip(runs, columns, readings):
        model = model_of(run)
        target = label if label is not None else int(reading.argmax())
        adversarial, perturbation = fgsm(model, digit[np.newaxis], [target], epsilon)
        answer = predict_probabilities(model, adversarial)[0]
        probabilities.append(answer)
        column.caption(plain(short_label(run)))
        column.image(diverging_colours(perturbation[0], max(epsilon, 1e-6), DIGIT_SCALE), width=28 * DIGIT_SCALE,
                     caption=_("the change (orange: brighter, blue: darker)"))
        column.image(enlarged(adversarial[0], DIGIT_SCALE), width=28 * DIGIT_SCALE,
                     caption=_("attacked: read as {answer} ({confidence:.0%})", answer=classes.name(answer.argmax()),
                               confidence=float(answer.max())))
    title = (_("Probability of each digit, attacked") if classes.names[0] == "0" else
             _("Probability of each class, attacked"))
    show_chart(runs_probability_bars([short_label(run) for run in runs], probabilities, title, classes=classes),
               key="robust_attacked_bars")


def show_curves(runs) -> None:
    st.subheader(_("Robustness curves"))
    st.write(_("Each run's accuracy on {count:,} validation digits as the change grows: moved further, turned further, "
               "attacked harder. The same changes for every run, so the curves compare.", count=CURVE_DIGITS))
    missing = [run for run in runs if server_store("robustness curves").peek(curve_key(run)) is None]
    if missing:
        if not st.button(_("Measure the curves ({count} runs)", count=len(missing)), icon=":material/monitoring:",
                         type="primary"):
            return
        bar = st.progress(0.0, text=_("Measuring..."))
        for position, run in enumerate(missing):
            split = run_digits(run)

            def report(share, position=position, run=run):
                bar.progress((position + share) / len(missing), text=_("Measuring {run}...", run=short_label(run)))

            def measure(run=run, images=split.validation_images, labels=split.validation_labels, report=report):
                return in_turn(lambda: robustness_curves(model_of(run), images[:CURVE_DIGITS], labels[:CURVE_DIGITS], report))

            server_store("robustness curves").get(curve_key(run), measure)
        st.rerun()
    curves = [server_store("robustness curves").peek(curve_key(run)) for run in runs]
    show_chart(robustness_chart([short_label(run) for run in runs], [curve.points for curve in curves]), key="robust_curves")


def robustness_page() -> None:
    st.title(_("Break the reader"))
    st.write(_("A model that reads MNIST's centred, tidy digits can fail on a digit moved a few pixels, turned, drawn "
               "thin, or changed on purpose. Change a digit and watch several models' answers; train with augmentation "
               "(in the sidebar) and compare."))
    trained = trained_runs()  # the best first
    if not trained:
        st.info(_("No trained run yet: train one on the Train page first."))
        return
    dataset = pick_dataset(trained)
    runs = pick_runs(trained, dataset)
    if not runs:
        st.info(_("Choose at least one run to compare."))
        return
    _training, (test_images, test_labels) = dataset_or_stop(dataset)  # the test pictures of the runs' own dataset
    classes = class_labels(dataset)
    digit, label = pick_digit(test_images, test_labels, dataset)
    values = transform_controls(dataset)
    varied = varied_digit(digit, values["robust_shift_x"], values["robust_shift_y"], values["robust_rotation"],
                          values["robust_zoom"], values["robust_thickness"], values["robust_noise"])
    before, after = wrapping_columns(2, key="robust_digits", least_width_rem=10)
    before.image(enlarged(digit, DIGIT_SCALE), width=28 * DIGIT_SCALE,
                 caption=_("as it was (labelled {label})", label=classes.name(label)) if label is not None else _("as it was"))
    after.image(enlarged(varied, DIGIT_SCALE), width=28 * DIGIT_SCALE, caption=_("changed"))
    readings = show_readings(runs, varied, _("Probability of each digit, changed") if dataset == "mnist" else
                             _("Probability of each class, changed"), key="robust_changed_bars", classes=classes)
    show_attack(runs, varied, label, readings, classes)
    show_curves(runs)


require_navigation()
robustness_page()
