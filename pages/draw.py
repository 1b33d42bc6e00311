"""Draw: write a digit with the mouse and see what a trained model reads, step by step.

The page reads handwritten digits: it offers only MNIST runs. A mouse sketch of a shoe is not a
photograph like Fashion-MNIST's, so a Fashion-MNIST model is sent to the Exam and Inside pages instead."""

import numpy as np
import streamlit as st

from mnist_core import TrainConfig, predict_probabilities
from mnist_core.canvas import preprocess_canvas
from mnist_core.config import QUICK_RUN_NAME
from mnist_core.pictures import enlarged
from ui.charts import digit_bars, show_chart
from ui.dataset import class_labels, dataset_or_stop
from ui.drawing_canvas import drawing_canvas
from ui.failures import guarded_fragment
from ui.i18n import N_, _, in_page_language, say
from ui.inside_link import DRAWN_DIGIT, look_inside
from ui.jobs import POLL_SECONDS, current_job, is_training, show_progress, start_job
from ui.layout import wrapping_columns
from ui.navigation import require_navigation
from ui.plain import plain
from ui.run_picker import model_of, run_choice_label, trained_runs
from ui.settings import settings

CANVAS_SIZE = 280   # ten times MNIST's 28 pixels
STEP_TILE_SIZE = 168  # the "what the model sees" images: six screen pixels per MNIST pixel
STROKE_WIDTH = 22   # a full-height digit scaled to 20 px gets MNIST's 2-3 pixel strokes (smaller ones are thinned)
UNSURE_BELOW = 0.6  # below this confidence the page says the model is unsure
# The CNN's MNIST preset, short: quick to train, and it reads drawn digits well. MNIST whatever the sidebar says.
QUICK_CONFIG = TrainConfig.for_model("cnn", dataset="mnist", epochs=2)
METHOD_LABELS = {"mnist": N_("MNIST-style (crop, scale to 20 px, center)"), "naive": N_("Naive (shrink the whole canvas)")}


def digits_only(has_mnist_runs: bool) -> None:
    """Say that this page reads handwritten digits, not clothes, and how to go on: when the sidebar is on
    Fashion-MNIST, or the workspace has trained Fashion-MNIST runs and no MNIST one."""
    st.info(_("This page reads handwritten digits, so it offers only models trained on MNIST. A shoe or a shirt sketched "
              "with the mouse is not a photograph like Fashion-MNIST's pictures of clothes, so a Fashion-MNIST model could "
              "not read it fairly."))
    if has_mnist_runs:
        st.write(_("To go on: draw below for one of your MNIST models, or try a Fashion-MNIST model on its own test "
                   "pictures on the Exam or Inside page."))
    else:
        st.write(_("To go on: quick-train an MNIST model below (or choose MNIST in the sidebar and train one on the Train "
                   "page), or try a Fashion-MNIST model on its own test pictures on the Exam or Inside page."))
    exam_column, inside_column = wrapping_columns(2, key="draw_elsewhere", least_width_rem=12)
    exam_column.page_link(page="pages/exam.py", label=_("Exam"), icon=":material/school:")
    inside_column.page_link(page="pages/inside.py", label=_("Inside"), icon=":material/visibility:")


def mnist_runs(runs) -> list:
    """The runs this page can use: those that read digits (MNIST), the best first."""
    return [run for run in runs if run.config.dataset == "mnist"]


def quick_training(other_runs: bool = False) -> None:
    """No trained MNIST run yet: offer one click that trains a model good at reading drawn digits."""
    if other_runs:
        st.info(_("There is no trained MNIST model yet, so there is nothing to read your digit."))
    else:
        st.info(_("There is no trained model yet, so there is nothing to read your digit."))
    job, running = current_job(), is_training()
    if st.button(_("Quick-train a CNN ({epochs} epochs, well under a minute)", epochs=QUICK_CONFIG.epochs), type="primary",
                 disabled=running, icon=":material/bolt:"):
        started = start_job(QUICK_CONFIG, name=QUICK_RUN_NAME)  # None, with a message, if refused
        if started is not None:
            job, running = started, True
    if running and job is None:
        st.caption(_("The optimizer race is training in this workspace (see Compare): quick training can start when it ends."))
    if job is not None:
        guarded_fragment(show_quick_progress, run_every=POLL_SECONDS if running else None)(job, running)


def show_quick_progress(job, rendered_while_running: bool) -> None:
    snapshot = job.snapshot()
    show_progress(job, snapshot)
    if snapshot.finished and not snapshot.history:
        st.error(plain(say(snapshot.message)))
    if rendered_while_running and snapshot.finished:
        st.rerun()


def show_steps(steps, method: str) -> None:
    if method == "naive":
        images = [(_("the canvas"), steps.grey), (_("shrunk to 28x28"), steps.centred)]
    else:
        # A small digit's strokes are thinned first: the pen is as wide as for a big one, and scaling it up would make blobs.
        cropped = (_("cropped, strokes thinned by {pixels} px", pixels=2 * steps.thinned_by) if steps.thinned_by
                   else _("cropped to the ink"))
        images = [(_("the canvas"), steps.grey), (cropped, steps.cropped), (_("longer side 20 px"), steps.scaled),
                  (_("placed in 28x28"), steps.framed), (_("center of mass centered"), steps.centred)]
    columns = wrapping_columns(len(images), key="preprocessing_steps", least_width_rem=STEP_TILE_SIZE / 16)
    for column, (caption, image) in zip(columns, images):
        tile = padded_to_square(np.clip(image, 0, 1))
        # Small steps are enlarged by repeating pixels, so a 28x28 input shows its real pixels, not a blur.
        tile = enlarged(tile, max(1, STEP_TILE_SIZE // len(tile)))
        column.image(tile, caption=_("{step} ({width}x{height})", step=caption, width=image.shape[1], height=image.shape[0]),
                     width=STEP_TILE_SIZE)


def padded_to_square(image: np.ndarray) -> np.ndarray:
    """Pad with black so a narrow step (a cropped "1") keeps its proportions in a square tile."""
    height, width = image.shape
    side = max(height, width)
    square = np.zeros((side, side), np.float32)
    top, left = (side - height) // 2, (side - width) // 2
    square[top:top + height, left:left + width] = image
    return square


def draw_page() -> None:
    st.title(_("Draw a digit"))
    st.write(_("Draw one digit with the mouse, big or small, anywhere on the black square. The model sees it only "
               "after it is prepared the way MNIST's digits were."))
    dataset_or_stop("mnist")
    trained = trained_runs()  # the best first
    runs = mnist_runs(trained)
    if settings()["dataset"] != "mnist" or (trained and not runs):
        digits_only(has_mnist_runs=bool(runs))
    if not runs:
        quick_training(other_runs=bool(trained))
        return
    run = st.selectbox(_("Model (the best run first)"), runs, format_func=in_page_language(run_choice_label), key="draw_run")
    model = model_of(run)
    canvas_column, answer_column = wrapping_columns(2, key="canvas_and_answer", least_width_rem=CANVAS_SIZE / 16 + 1)
    with canvas_column:
        canvas_number = st.session_state.setdefault("canvas_number", 0)
        canvas = drawing_canvas(stroke_width=STROKE_WIDTH, stroke_color="#FFFFFF", background_color="#000000",
                                width=CANVAS_SIZE, height=CANVAS_SIZE, drawing_mode="freedraw", return_image_data=True,
                                key=f"canvas_{canvas_number}")
        if st.button(_("Clear the canvas"), icon=":material/delete:"):
            st.session_state["canvas_number"] = canvas_number + 1  # a new canvas is a blank one
            st.rerun()
        method = st.radio(_("Preprocessing"), list(METHOD_LABELS), format_func=in_page_language(lambda choice: _(METHOD_LABELS[choice])),
                          key="draw_method")
    image = canvas.image_data if canvas is not None else None
    digit, steps = preprocess_canvas(image, method) if image is not None else (None, None)
    with answer_column:
        if digit is None:
            if steps is not None and steps.problem:
                st.warning(_(steps.problem))
            else:
                st.info(_("Draw a digit on the black square: the prediction appears here."))
            return
        probabilities = predict_probabilities(model, digit)[0]
        answer = int(probabilities.argmax())
        st.metric(_("The model reads"), class_labels("mnist").name(answer))
        st.write(_("Confidence: **{confidence:.0%}**", confidence=float(probabilities[answer])))
        if probabilities[answer] < UNSURE_BELOW:
            st.warning(_("The model is unsure: this does not look much like any digit it has learned."))
        show_chart(digit_bars(probabilities, _("Probability of each digit"), _("probability"), classes=class_labels("mnist"),
                              highlight=answer),
                   key="probabilities")
        st.session_state[DRAWN_DIGIT] = digit  # the Inside page offers it too
        if st.button(_("Look inside the model as it reads this digit"), icon=":material/visibility:"):
            look_inside(run, ("drawn", 0))
    st.subheader(_("What the model sees"))
    show_steps(steps, method)


require_navigation()
draw_page()
