"""Replay: a saved run, epoch by epoch, at a pace a teacher can talk over.

One epoch scrubber, with play, pause, step and speed, drives every view: the learning curves drawn
up to that epoch, the first layer's weights as pictures, twenty validation digits with the model's
answer and confidence, and the validation confusion matrix, all as the model stood at the end of
that epoch (epoch 0: the random start). The weights come from the run's checkpoints (mnist_core/runs/), the
answers from mnist_core.replay, computed once per run and epoch and shared by every session that
replays the same run.
"""

import time

import numpy as np
import streamlit as st

from mnist_core.exam import ExamResult
from mnist_core.exports import gif_file_name, keras_file_name, keras_model_bytes, weights_gif
from mnist_core.fair_share import MEGABYTE
from mnist_core.palette import TRAIN_COLOUR, VALIDATION_COLOUR, rgb
from mnist_core.pictures import enlarged
from mnist_core.replay import EpochFrame, followed_in, replayed_epoch
from mnist_core.results import epochs_text
from mnist_core.runs import CHECKPOINT_BUDGET_BYTES, DamagedRunError
from ui.charts import by_iteration_switch, confusion_heatmap, iteration_curves, learning_curves, show_chart
from ui.class_board import post_panel
from ui.code_behind import code_behind_panel
from ui.dataset import ClassLabels, class_labels, dataset_or_stop, run_digits
from ui.failures import guarded_fragment
from ui.heavy_work import in_turn
from ui.i18n import N_, _, in_page_language, say
from ui.layout import wrapping_columns
from ui.navigation import require_navigation
from ui.run_picker import pick_run, run_stamp
from ui.server_stores import server_store

# Seconds on each epoch while playing: from slow enough to talk over each one, to a quick sweep. Not
# faster: on a two-core machine a frame (three charts, two dozen images) takes up to a second to
# settle in the browser, and ticks faster than that pile up.
SPEEDS = (3.0, 2.0, 1.0)
PANEL_ROW = 10
PANEL_IMAGE_SCALE = 3  # 84 px digits
# The digits' frames: blue when the model reads the digit right, vermilion when it reads it wrong
# (the charts' training and validation colours, apart for colour-blind readers), and the caption
# says it in words too.
RIGHT_RGB, WRONG_RGB = np.array(rgb(TRAIN_COLOUR)), np.array(rgb(VALIDATION_COLOUR))
FRAME = 4  # pixels
# The page's sentences that say what the examples are, for each dataset: MNIST's digits, Fashion-MNIST's
# pictures of clothes. Whole sentences, so every language words each its own way.
TWENTY = {"mnist": N_("Twenty digits, as this epoch reads them"),
          "fashion_mnist": N_("Twenty pictures, as this epoch reads them")}
PANEL_CAPTION = {
    "mnist": N_("The same twenty validation digits at every epoch, two of each: one the run learned late (wrong after "
                "the first epoch, right at the end; or, if it learned none late, the one it found hardest) and a "
                "typical one. Blue frame: read right; orange frame: read wrong."),
    "fashion_mnist": N_("The same twenty validation pictures at every epoch, two of each class: one the run learned late "
                        "(wrong after the first epoch, right at the end; or, if it learned none late, the one it found "
                        "hardest) and a typical one. Blue frame: read right; orange frame: read wrong."),
}
BY_HEART_CAPTION = {
    "mnist": N_("This run ends far better on its training digits than on digits it never saw: it overfits. In each "
                "pair, the left digit is from its training set, which it learned by heart (wrong after the first "
                "epoch, right at the end); the right one is a validation digit of the same class that it still "
                "reads wrong."),
    "fashion_mnist": N_("This run ends far better on its training pictures than on pictures it never saw: it overfits. "
                        "In each pair, the left picture is from its training set, which it learned by heart (wrong after "
                        "the first epoch, right at the end); the right one is a validation picture of the same class "
                        "that it still reads wrong."),
}
READ_RIGHT = {"mnist": N_("{accuracy:.2%} of the {count:,} validation digits read right at this epoch."),
              "fashion_mnist": N_("{accuracy:.2%} of the {count:,} validation pictures read right at this epoch.")}


def epoch_frame(run, epoch: int) -> EpochFrame:
    """What the model of checkpoint `epoch` answers on the validation set (and, if the run overfits,
    on its training sample), and PNGs of its weights and of their change since the first checkpoint.
    Computed once per run folder and epoch for the whole server (a checkpoint never changes once
    written), in the server's turn for heavy work."""
    def replay() -> EpochFrame:
        split = run_digits(run)
        return replayed_epoch(run, epoch, split.validation_images, split.validation_labels,
                              split.first_training_images, split.first_training_labels)

    return server_store("replay frames").get((str(run.folder), epoch), lambda: in_turn(replay))


def followed_digits(run, first_epoch: int, last_epoch: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The panel's twenty validation digits for this run, and for a run that overfits its pairs of a
    training digit learned by heart and a validation digit still wrong: chosen from its first and
    last trained epochs (from the last alone if the first one's weights cannot be read)."""
    return server_store("replay followed digits").get((str(run.folder), first_epoch, last_epoch),
                                lambda: chosen_digits(run, first_epoch, last_epoch))


def chosen_digits(run, first_epoch: int, last_epoch: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    last = epoch_frame(run, last_epoch)
    try:
        first = epoch_frame(run, first_epoch)
    except DamagedRunError:
        first = last
    split = run_digits(run)
    return followed_in(first, last, split.validation_labels, split.first_training_labels)


def readable_followed_digits(run, epochs: list[int]):
    """followed_digits from the last epoch whose weights can be read: one unreadable last checkpoint
    once blanked every epoch, the random start's included. (None, []) when none can be read."""
    first = min(epochs[1:] or epochs)
    for last in reversed(epochs):
        try:
            return followed_digits(run, first, last)
        except DamagedRunError:
            continue
    return None, []


# The chart is a third of the page wide: a few thousand points draw every wiggle it can show.
MOST_CURVE_POINTS = 4000


def saved_iterations(run) -> tuple[list, object]:
    """The run's saved iteration curve, read once per run and epochs trained for the whole server, not
    on every tick of the player, thinned to MOST_CURVE_POINTS (a long run's curve is megabytes of CSV,
    many times that as Python objects, and the chart shows no more); with what is wrong with its file,
    if it cannot be read."""
    def read():
        points, problem = run.iterations_and_problem()
        if len(points) > MOST_CURVE_POINTS:
            points = points[::-(-len(points) // MOST_CURVE_POINTS)] + points[-1:]
        return points, problem

    return server_store("iteration curves").get((str(run.folder), *run_stamp(run)), read)


def framed_digit(image: np.ndarray, right: bool) -> np.ndarray:
    """A validation digit, enlarged, in a frame of the colour that says right or wrong."""
    grey = enlarged(image, PANEL_IMAGE_SCALE)  # white ink on black, as Draw and Exam show digits
    framed = np.empty((grey.shape[0] + 2 * FRAME, grey.shape[1] + 2 * FRAME, 3), np.uint8)
    framed[:] = RIGHT_RGB if right else WRONG_RGB
    framed[FRAME:-FRAME, FRAME:-FRAME] = grey[..., np.newaxis]
    return framed


def epoch_label(epoch: int) -> str:
    return _("epoch 0: the random start") if epoch == 0 else _("epoch {epoch}", epoch=epoch)


# -- the scrubber ------------------------------------------------------------------------------------

def scrubber_state(run, epochs: list[int]) -> None:
    """Start a run's replay at its first epoch, paused, when another run is picked (not when the run
    picked gains an epoch: a run still training can be replayed as far as it has come).

    `replay_position` is the epoch shown. While paused, the slider (`replay_epoch`) shows it and
    moves it. While playing, no slider is drawn, only a bar: a slider the player moves from the
    server races the values the browser sends back, and one a tick late would throw the player back."""
    if st.session_state.get("replay_run") != run.run_id or st.session_state.get("replay_position") not in epochs:
        st.session_state.replay_run = run.run_id
        st.session_state.replay_position = epochs[0]
        st.session_state.replay_playing = False


def show_epoch(epoch: int) -> None:
    st.session_state.replay_position = st.session_state.replay_epoch = epoch


def step_to(epochs: list[int], offset: int) -> None:
    """Move `offset` kept epochs on (a button's callback, so it runs before the slider is drawn);
    the player stops there."""
    index = epochs.index(st.session_state.replay_position) + offset
    show_epoch(epochs[max(0, min(index, len(epochs) - 1))])
    st.session_state.replay_playing = False


def advance_while_playing(epochs: list[int], seconds_per_epoch: float) -> None:
    """On each of the player's ticks, the next epoch; at the last one, stop playing."""
    now = time.monotonic()
    if now - st.session_state.get("replay_moved_at", 0.0) < 0.8 * seconds_per_epoch:
        return  # a rerun of the page (a click), not the player's tick
    st.session_state.replay_moved_at = now
    index = epochs.index(st.session_state.replay_position)
    if index + 1 < len(epochs):
        show_epoch(epochs[index + 1])
    if index + 2 >= len(epochs):
        # The last epoch: shown by the whole page at once, without the player's timer. Left to the next tick,
        # the timer would run on beside the Back button and the slider, and a tick sent meanwhile would carry
        # the slider's old value back, undoing a click on Back.
        st.session_state.replay_playing = False
        st.rerun()


def speed_control(where) -> float:
    """Seconds per epoch while playing."""
    seconds = where.segmented_control(_("Seconds per epoch"), SPEEDS, format_func=in_page_language(
        lambda seconds: _("{seconds:g} s", seconds=seconds)), default=1.0, key="replay_speed")
    seconds = seconds or 1.0  # a segmented control can be clicked off
    if st.session_state.replay_playing and st.session_state.get("replay_playing_speed") != seconds:
        st.session_state.replay_playing_speed = seconds
        st.rerun()  # the whole page, so the player's timer ticks at the new speed
    return seconds


def controls(epochs: list[int]) -> int:
    """Play or pause, step back and on, and the scrubber itself, on one line. Returns the epoch to show."""
    playing = st.session_state.replay_playing
    if not playing and st.session_state.get("replay_epoch") in epochs:
        st.session_state.replay_position = st.session_state.replay_epoch  # the slider, as the student left it
    position = st.session_state.replay_position
    back, play, forward, scrubber = wrapping_columns([1, 1, 1, 4], key="replay_controls", least_width_rem=6,
                                                     vertical_alignment="bottom")
    back.button(_("Back"), icon=":material/skip_previous:", on_click=step_to, args=(epochs, -1), key="replay_back",
                disabled=playing or position == epochs[0], width="stretch")
    at_the_end = position == epochs[-1]
    if play.button(_("Pause") if playing else _("Play"), icon=":material/pause:" if playing else ":material/play_arrow:",
                   type="primary", key="replay_play", width="stretch",
                   help=None if playing else _("From the epoch shown on, or from the start when at the last.")):
        if not playing and at_the_end:
            show_epoch(epochs[0])
        st.session_state.replay_playing = not playing
        st.session_state.replay_moved_at = time.monotonic()
        st.rerun()  # the whole page, so the player's timer starts or stops
    forward.button(_("Next"), icon=":material/skip_next:", on_click=step_to, args=(epochs, 1), key="replay_next",
                   disabled=playing or at_the_end, width="stretch")
    if playing:
        index = epochs.index(position)
        scrubber.progress((index + 1) / len(epochs), text=epoch_label(position))
        return position
    st.session_state.replay_epoch = position
    return scrubber.select_slider(_("Epoch"), options=epochs, key="replay_epoch", format_func=in_page_language(epoch_label))


# -- the views -----------------------------------------------------------------------------------------

def curves(run, epoch: int, by_iteration: bool, where_loss, where_accuracy) -> None:
    """The learning curves up to `epoch`, on the axes of the whole run."""
    history = run.history[:epoch]
    last_epoch = len(run.history)
    saved, problem = saved_iterations(run) if by_iteration else ([], None)
    if problem is not None:
        st.caption(say(problem))
    if by_iteration and problem is None:
        steps_per_epoch = run.history[0].iterations
        points = [point for point in saved if point.iteration <= epoch * steps_per_epoch]
        loss, accuracy = iteration_curves(points, history, steps_per_epoch, last_epoch, epoch_labels=3)  # a third of the width
    else:
        best = run.best_epoch if run.best_epoch is not None and run.best_epoch <= epoch else None
        loss, accuracy = learning_curves(history, best, whole_run=run.history, narrow=True)
    show_chart(loss, key="replay_loss", where=where_loss)
    show_chart(accuracy, key="replay_accuracy", where=where_accuracy)


# The weights themselves, or what training has changed since the random start: the CNN's filters and
# the MLP's units keep most of their random start, which hides what they learned.
WEIGHT_VIEWS = {"weights": N_("weights"), "change": N_("change since epoch 0")}


def weights_view(run, frame: EpochFrame, where, classes: ClassLabels) -> None:
    change = where.segmented_control(_("Show"), list(WEIGHT_VIEWS), format_func=in_page_language(
        lambda view: _(WEIGHT_VIEWS[view])), default="weights", key="replay_weights_view",
        label_visibility="collapsed") == "change"
    where.image(frame.change_png if change else frame.weights_png, width="stretch")
    if change:
        where.caption(_("What training has added to each weight since the random start (orange up, blue down, each "
                        "tile on its own scale): the part of the weights that was learned."))
        return
    linear = (_("The ten templates of W, digits 0 to 4 above, 5 to 9 below: orange pixels vote for the digit, blue "
                "ones against. They start blank (all weights 0) and take shape as it learns.")
              if run.config.dataset == "mnist" else
              _("The ten templates of W, one per class, {first} to {fifth} above, {sixth} to {last} below: orange pixels "
                "vote for the class, blue ones against. They start blank (all weights 0) and take shape as it learns.",
                first=classes.name(0), fifth=classes.name(4), sixth=classes.name(5), last=classes.name(9)))
    where.caption({
        "linear": linear,
        "mlp": _("The incoming weights of the first 32 units of the first hidden layer, each as a 28x28 image "
                 "(orange positive, blue negative, each unit on its own scale). They start as random noise, which "
                 "training changes only a little: see the change since epoch 0."),
        "cnn": _("The 3x3 filters of the first convolution (orange positive, blue negative, each on its own scale). They "
                 "start random, and training changes them only a little: see the change since epoch 0."),
    }[run.config.model])


def answered_digit(where, image: np.ndarray, label: int, view: ExamResult, index: int, classes: ClassLabels) -> None:
    """One digit (or picture), framed and captioned with the answer of `view` (an epoch's), by its class's
    name, and its confidence."""
    answer, confidence = int(view.predictions[index]), float(view.confidences[index])
    right, predicted = answer == label, classes.name(answer)
    caption = (_("✓ {predicted} · {confidence:.0%}", predicted=predicted, confidence=confidence) if right else
               _("✗ {predicted} · {confidence:.0%}", predicted=predicted, confidence=confidence))
    where.image(framed_digit(image, right), caption=caption)


def digits_panel(run, view: ExamResult, digits: np.ndarray, classes: ClassLabels) -> None:
    split = run_digits(run)
    st.caption(_(PANEL_CAPTION[run.config.dataset]))
    for start in range(0, len(digits), PANEL_ROW):
        row = digits[start:start + PANEL_ROW]
        for index, column in zip(row, wrapping_columns(PANEL_ROW, key=f"replay_digits_{start}", least_width_rem=4)):
            answered_digit(column, split.validation_images[index], split.validation_labels[index], view, index, classes)


def by_heart_panel(run, frame: EpochFrame, pairs: list[tuple[int, int]], classes: ClassLabels) -> None:
    """For a run that overfits: a training digit it learned by heart beside a validation digit of the
    same class it still gets wrong, for each class that has both."""
    split = run_digits(run)
    st.subheader(_("Learned by heart, or learned?"))
    st.caption(_(BY_HEART_CAPTION[run.config.dataset]))
    for start in range(0, len(pairs), PANEL_ROW // 2):
        row = pairs[start:start + PANEL_ROW // 2]
        columns = wrapping_columns(PANEL_ROW, key=f"replay_by_heart_{start}", least_width_rem=4)
        for (training_index, validation_index), learned, missed in zip(row, columns[0::2], columns[1::2]):
            learned.caption(_("training"))
            answered_digit(learned, split.first_training_images[training_index],
                           split.first_training_labels[training_index], frame.training, training_index, classes)
            missed.caption(_("validation"))
            answered_digit(missed, split.validation_images[validation_index],
                           split.validation_labels[validation_index], frame.validation, validation_index, classes)


# The downloads are made once per run (as it stands) for the whole server and kept: made again on every
# click, each would take its size in server memory again (a big CNN's .keras file holds all its weights).
def export_download(run, where, kind: str, make, label: str, file_name: str, mime: str, icon: str) -> None:
    """A download of what `make(run)` makes: first a button that makes it, in the server's turn for
    heavy work and with a message if the run's files cannot give it; then the download itself."""
    key = (str(run.folder), kind, *run_stamp(run))
    made = server_store("downloads").peek(key)
    if made is None:
        if where.button(label, icon=icon, key=f"replay_make_{kind}"):
            try:
                with where:
                    with st.spinner(_("Making the file...")):
                        made = server_store("downloads").get(key, lambda: in_turn(lambda: make(run), where))
            except (DamagedRunError, ValueError) as error:
                where.error(_("This file cannot be made: {error}", error=say(error)))
                return
        if made is None:
            return
    where.download_button(_("Download {file}", file=file_name), data=made, file_name=file_name, mime=mime,
                          on_click="ignore", icon=":material/download:", key=f"replay_download_{kind}")


def exports(run, has_weights: bool) -> None:
    """Downloads, each made only when asked for (a GIF of a long run takes seconds)."""
    st.subheader(_("Take it along"))
    gif_column, keras_column = wrapping_columns(2, key="replay_exports", least_width_rem=18)
    if has_weights:
        export_download(run, gif_column, "gif", weights_gif, _("Make the weights' animation (GIF)"), gif_file_name(run),
                        "image/gif", ":material/animated_images:")
        gif_column.caption(_("The pictures of the weights above as an animation, one frame per epoch, for a slide."))
    export_download(run, keras_column, "keras", keras_model_bytes, _("Make the trained model's file (.keras)"),
                    keras_file_name(run), "application/octet-stream", ":material/model_training:")
    keras_column.caption(_("The model after its last epoch (or its best, after an early stop), for a notebook: "
                           "keras.models.load_model. It takes 28x28 images with pixels in [0, 1]."))


def replay_page() -> None:
    st.title(_("Replay a run"))
    st.caption(_("Play a run, or move through its epochs: every view shows the model as it stood at the end of that epoch."))
    run_column, speed_column = wrapping_columns([3, 1], key="replay_choices", least_width_rem=12, vertical_alignment="bottom")
    with run_column:
        run = pick_run(_("Run"), key="replay_run_choice", newest_first=True)  # the run just trained, first
    if run is None:
        st.info(_("No run has finished an epoch yet. Train one on the Train page, then replay it here."))
        return
    dataset_or_stop(run.config.dataset)  # the run's own dataset, provisioned or repaired here if need be
    epochs = run.replayable_epochs()
    has_weights = bool(epochs)
    if not has_weights:
        st.info(_("This run was saved before every epoch's weights were kept, so only its learning curves replay. Runs "
                  "trained now keep them."))
        epochs = [result.epoch for result in run.history]
    elif len(epochs) < len(run.history) + 1:
        st.caption(_("To save disk space ({budget:g} MB of weights at most a run), this run kept the weights of {kept} of "
                     "its {epochs}, always the last, and more of the early epochs than of the late: the scrubber moves "
                     "through those and the random start.", budget=CHECKPOINT_BUDGET_BYTES / MEGABYTE,
                     kept=len([epoch for epoch in epochs if epoch]), epochs=say(epochs_text(len(run.history)))))
    scrubber_state(run, epochs)
    seconds_per_epoch = speed_control(speed_column)
    playing = st.session_state.replay_playing
    guarded_fragment(replay_views, run_every=seconds_per_epoch if playing else None)(run, epochs, has_weights,
                                                                                seconds_per_epoch, playing)
    exports(run, has_weights)
    code_behind_panel(run.config, run, key="replay_code", model_file_above=True, precision=run.precision)
    post_panel([run], newest=False)  # in a class: this run to the class board


def replay_views(run, epochs: list[int], has_weights: bool, seconds_per_epoch: float, timer_on: bool) -> None:
    """The scrubber and every view, redrawn together on each tick of the player (`timer_on`).
    `epochs`: the kept checkpoints' (`has_weights`), or for a run saved before them its epochs."""
    if timer_on and not st.session_state.replay_playing:
        st.rerun()  # the whole page, drawn again without the player's timer
    if st.session_state.replay_playing:
        advance_while_playing(epochs, seconds_per_epoch)
    epoch = controls(epochs)
    try:
        frame = epoch_frame(run, epoch) if has_weights else None
    except DamagedRunError as error:
        st.error(_("The weights of this epoch cannot be read: {error}", error=say(error)))
        frame = None
    digits, by_heart = readable_followed_digits(run, epochs) if frame is not None else (None, [])
    result = run.history[epoch - 1] if epoch else None
    about_column, view_column = st.columns([3, 1], vertical_alignment="center")
    if result is not None:
        about_column.caption(_("Epoch {epoch}: training accuracy {train:.2%}, validation accuracy {validation:.2%}, after {iterations:,} "
                     "iterations.", epoch=epoch, train=result.train_acc, validation=result.val_acc,
                     iterations=result.iterations))
    by_iteration = by_iteration_switch(view_column, key="replay_curve_view")
    loss_column, accuracy_column, weights_column = wrapping_columns(3, key="replay_top", least_width_rem=16)
    curves(run, epoch, by_iteration, loss_column, accuracy_column)
    if frame is None:
        return
    view, classes = frame.validation, class_labels(run.config.dataset)
    weights_view(run, frame, weights_column, classes)
    st.subheader(_(TWENTY[run.config.dataset]))
    if digits is not None:
        digits_panel(run, view, digits, classes)
    if by_heart and frame.training is not None:
        by_heart_panel(run, frame, by_heart, classes)
    matrix_column, _rest = wrapping_columns([3, 2], key="replay_bottom", least_width_rem=24)
    with matrix_column:
        st.subheader(_("Validation confusion matrix"))
        st.caption(_(READ_RIGHT[run.config.dataset], accuracy=view.accuracy, count=int(view.confusion.sum())))
        show_chart(confusion_heatmap(view.confusion, as_shares=False, classes=classes, clickable=False, height=480),
                   key="replay_confusion", where=matrix_column)


require_navigation()
replay_page()
