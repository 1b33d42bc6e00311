"""A run taken out of the app: its weights learning as an animated GIF, its model as a Keras file,
and its curves as TensorBoard event files.

- `weights_gif(run)`: one frame per kept checkpoint, the first layer's weights as pictures.py draws
  them, with a progress bar and "N / M" (epoch N of the run's M) under each; for a slide or a chat.
- `keras_model_bytes(run)` and `keras_file_name(run)` (`gif_file_name(run)` for the GIF): the run's final model as a `.keras` file, for
  students to load in their own notebook with Keras alone (no code of this app needed). A download
  only: the app itself never loads a model file.
- `runs_metrics_csv_file(runs)`: several runs' settings and per-epoch metrics in one CSV, for
  Compare's download and a spreadsheet.
- `write_tensorboard_events(run_folder)`: the run's per-epoch and per-iteration curves as TensorBoard
  event files in `<run>/tensorboard/`, so `tensorboard --logdir runs/<workspace>` shows a workspace's runs.
  A run writes its own as it ends, from its curves in memory (`write_curves_for_tensorboard`, called
  by training.py); `python -m mnist_core tensorboard` writes them again for runs saved before, or interrupted.

No Streamlit here. The GIF and the Keras file are read from the run's folder, as saved: an export
shows what the app shows. A run's own event files are written from its curves in memory as it ends.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .config import TrainConfig
from .i18n import Message
from .models import plain_keras_linear
from .palette import GAP_RGB
from .pictures import diverging_colours, weight_picture
from .quiet_tensorflow import tf
from .results import EpochResult, IterationPoint
from .runs import METRIC_COLUMNS, DamagedRunError, SavedRun, read_run_safely

# -- the weights as an animated GIF ------------------------------------------------------------------

SECONDS_PER_FRAME = 0.4    # ten epochs in four seconds: slow enough to follow one template
LAST_FRAME_SECONDS = 2.5   # the trained weights stay up a moment before the loop starts again
TEXT_RGB = (51, 51, 51)    # the progress bar and its digits: dark grey, apart from both weight colours
FONT_PIXELS = 14           # readable on a projector, small beside the picture
STRIP_HEIGHT = 26          # the band under the picture holding the bar and the digits
BAR_HEIGHT = 6
MARGIN = 6
# One palette for every frame: a GIF holds at most 256 colours, and these are the only ones drawn.
# The weights' white-vermilion and white-blue ramps (pictures.py's own colours) take 253 of them;
# the tiles' gap grey and the text's grey the rest. Text is drawn without anti-aliasing, so no
# in-between shade needs a place. A shared palette also keeps a colour the same from frame to
# frame, where an adaptive one per frame would flicker.
PALETTE_RGB = np.concatenate([diverging_colours(np.linspace(-1, 1, 253), 1.0).reshape(-1, 3),
                              np.array([GAP_RGB, TEXT_RGB], dtype=np.uint8)])


def weights_gif(run: SavedRun, seconds_per_frame: float = SECONDS_PER_FRAME) -> bytes:
    """The run's first-layer weights at every kept checkpoint (epoch 0, the random start, then each
    epoch end) as an animated GIF that loops forever, the last frame held for LAST_FRAME_SECONDS.

    The words under a frame are digits only ("3 / 10"): the app speaks English and Chinese, and
    Pillow's built-in font has no Chinese. Runs saved before checkpoints existed have nothing to
    animate: a ValueError says so (a single still frame would pass for an animation of a run that
    did not learn).

    Cost: at most 101 checkpoints (runs.MAX_CHECKPOINTS), each a picture of about 600 x 250 pixels.
    The worst case, a linear run keeping all 101, made a GIF of 2.2 MB in 1.7 s on two cores (each
    checkpoint read as arrays, no model built); a page makes it only when asked.
    """
    if not 0.02 <= seconds_per_frame <= 10:
        raise ValueError(f"seconds_per_frame must be between 0.02 and 10 (got {seconds_per_frame})")
    epochs = run.checkpoint_epochs()
    if not epochs:
        raise ValueError(Message("Run {run} kept no weights per epoch (it was saved before runs kept them), so there is "
                                 "nothing to animate.", run=run.name))
    font = ImageFont.load_default(size=FONT_PIXELS)
    frames = []
    for epoch in epochs:
        try:
            weights = run.checkpoint_weights(epoch)
        except DamagedRunError:  # a damaged checkpoint loses its own frame, not the whole GIF (the frames say their epoch)
            continue
        frames.append(in_palette(frame_image(weight_picture(run.config, weights), epoch, epochs[-1], font)))
    if not frames:
        raise DamagedRunError(Message("Run {run}: none of its kept weights can be read, so there is nothing to animate.",
                                      run=run.name))
    milliseconds = [round(1000 * seconds_per_frame)] * (len(frames) - 1)
    milliseconds.append(round(1000 * max(seconds_per_frame, LAST_FRAME_SECONDS)))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=milliseconds, loop=0)
    return buffer.getvalue()


def frame_image(picture: np.ndarray, epoch: int, last_epoch: int, font) -> Image.Image:
    """`picture` with, under it, a bar filled to epoch / last_epoch and the digits "epoch / last_epoch"."""
    height, width = picture.shape[:2]
    frame = Image.new("RGB", (width, height + STRIP_HEIGHT), "white")
    frame.paste(Image.fromarray(picture), (0, 0))
    draw = ImageDraw.Draw(frame)
    draw.fontmode = "1"  # no anti-aliased edges: their shades are not in the palette
    text = f"{epoch} / {last_epoch}"
    text_width = draw.textlength(text, font=font)
    draw.text((width - MARGIN, height + STRIP_HEIGHT // 2), text, fill=TEXT_RGB, font=font, anchor="rm")
    bar_left, bar_right = MARGIN, width - 2 * MARGIN - text_width
    bar_top = height + (STRIP_HEIGHT - BAR_HEIGHT) // 2
    draw.rectangle((bar_left, bar_top, bar_right, bar_top + BAR_HEIGHT - 1), fill=GAP_RGB)
    if epoch:
        filled_right = bar_left + (bar_right - bar_left) * epoch / max(last_epoch, 1)
        draw.rectangle((bar_left, bar_top, filled_right, bar_top + BAR_HEIGHT - 1), fill=TEXT_RGB)
    return frame


def in_palette(frame: Image.Image) -> Image.Image:
    """`frame` drawn in PALETTE_RGB, each colour as its nearest there (white stays white, a weight's
    shade moves by one step at most). Pillow's own quantize looks colours up in a coarse cache, which
    shifts every colour, white too, by a few shades. A picture has a few thousand colours at most
    (tiles repeat pixels), so each is matched once."""
    pixels = np.asarray(frame, dtype=np.int32)
    codes = (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]
    colours = np.unique(codes)  # searchsorted below is faster than asking np.unique for the positions
    rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
    distances = ((rgb[:, np.newaxis, :] - PALETTE_RGB[np.newaxis].astype(np.int32)) ** 2).sum(axis=2)
    image = Image.fromarray(distances.argmin(axis=1).astype(np.uint8)[np.searchsorted(colours, codes)])
    image.putpalette(PALETTE_RGB.ravel().tolist())  # an "L" image with a palette is a "P" image
    return image


# -- the model as a Keras file ----------------------------------------------------------------------

MAX_FILE_NAME_CHARACTERS = 60


def keras_model_bytes(run: SavedRun) -> bytes:
    """The run's final model (its weights.npz: the last epoch, or the best after an early stop) as the
    bytes of a `.keras` file. It takes 28x28 float images in [0, 1] and returns logits, like the app's.

    Keras writes the file itself (model.save), so it is the format keras.models.load_model reads, and
    it holds Keras' own layers only, so it loads without this app's code: the linear model's own layer
    (models.LinearSoftmax) is saved as its plain twin, a Dense layer with the same weights
    (models.plain_keras_linear). Raises DamagedRunError for a run without a readable weights.npz (no
    finished epoch, or damage)."""
    model = run.load_model()
    if run.config.model == "linear":
        model = plain_keras_linear(model, run.config)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def download_name(run: SavedRun, ending: str) -> str:
    """A download's file name from the run's name, which is anyone's text: only letters and digits (of
    any script, so a Chinese name stays Chinese), '-' and '_' are kept (no '/', '..', spaces or leading
    '-' to surprise a file system or a shell), and the run id stands in when nothing is left (a name of
    emoji, say). `ending`: ".keras", say. Streamlit sends a non-ASCII name percent-encoded (RFC 5987)."""
    stem = re.sub(r"[^\w]+", "-", run.name).strip("-_")[:MAX_FILE_NAME_CHARACTERS].strip("-_")
    return f"{stem or run.run_id}{ending}"


def keras_file_name(run: SavedRun) -> str:
    return download_name(run, ".keras")


def gif_file_name(run: SavedRun) -> str:
    return download_name(run, "-weights.gif")


# -- the curves for TensorBoard ---------------------------------------------------------------------

TENSORBOARD_FOLDER = "tensorboard"
# The layout and tag names of Keras' own TensorBoard callback (logs/train and logs/validation;
# epoch_loss, epoch_accuracy, batch_loss, batch_accuracy), so a run from this app and a model.fit
# run look alike, and training and validation share each epoch chart as they do on the Train page.
TRAIN_FOLDER, VALIDATION_FOLDER = "train", "validation"
EVENT_FILE_VERSION = "brain.Event:2"  # what tf.summary's writers put first in every event file
# What tf.summary.scalar attaches to each value: TensorBoard's scalars plugin reads it.
SCALAR_METADATA = tf.compat.v1.SummaryMetadata(plugin_data={"plugin_name": "scalars"}, data_class="DATA_CLASS_SCALAR")


@dataclasses.dataclass(frozen=True)
class TensorBoardEvents:
    """What write_tensorboard_events wrote: nothing at all for a run without a finished epoch."""

    epochs: int
    iteration_points: int


def write_tensorboard_events(run_folder: Path) -> TensorBoardEvents:
    """Write the run's curves in `run_folder` as TensorBoard event files, replacing earlier ones:

        <run>/tensorboard/train/        epoch_loss and epoch_accuracy at step = epoch (metrics.csv),
                                        batch_loss and batch_accuracy at step = iteration (iterations.csv)
        <run>/tensorboard/validation/   epoch_loss and epoch_accuracy at step = epoch

    A run without a finished epoch writes nothing. Each value is stamped with the training time it
    was reached at (from the epochs' durations), so TensorBoard's "Relative" axis reads as training
    time. Raises DamagedRunError for an unreadable run, OSError if the folder cannot be written.

    Written as the Event records tf.summary.scalar writes, one tf.io.TFRecordWriter per file, not by
    tf.summary.scalar itself: TensorFlow 2.21 leaves that function to the tensorboard package, which
    the app does not need; eagerly, one call per value costs about 300 us (over a second for a
    default ten-epoch run); and a tf.function writing them would be traced anew for every run's
    writer, whose graph memory TensorFlow never gives back on a shared server. Here a value costs
    about 5 us (benchmarks/logging_and_checkpoints.py measures the whole write).
    """
    run = read_run_safely(run_folder)
    return write_curves_for_tensorboard(run.folder, run.history, run.iterations(), run.created)


def write_curves_for_tensorboard(run_folder: Path, history: list[EpochResult], points: list[IterationPoint],
                                 created: float) -> TensorBoardEvents:
    """write_tensorboard_events from curves in hand: a run that has just ended writes its own from what
    it holds in memory (training.py), not by reading back the files it has just written."""
    if not history:
        return TensorBoardEvents(epochs=0, iteration_points=0)
    epoch_ends = np.cumsum([result.seconds for result in history])
    epoch_times = created + epoch_ends
    # An iteration point's time, between the ends of the epochs around it (a run stopped mid-epoch
    # has points past the last finished epoch: they take its end).
    point_times = created + np.interp([point.iteration for point in points],
                                      [0, *(result.iterations for result in history)], [0, *epoch_ends])
    train_scalars, validation_scalars = [], []
    for result, wall_time in zip(history, epoch_times):
        train_scalars += [(wall_time, "epoch_loss", result.epoch, result.train_loss),
                          (wall_time, "epoch_accuracy", result.epoch, result.train_acc)]
        validation_scalars += [(wall_time, "epoch_loss", result.epoch, result.val_loss),
                               (wall_time, "epoch_accuracy", result.epoch, result.val_acc)]
    for point, wall_time in zip(points, point_times):
        train_scalars += [(wall_time, "batch_loss", point.iteration, point.loss),
                          (wall_time, "batch_accuracy", point.iteration, point.accuracy)]
    folder = Path(run_folder) / TENSORBOARD_FOLDER
    remove_earlier_events(folder)
    # In the order they happened, as a live writer would have written them: an epoch's batches, then the epoch.
    train_scalars.sort(key=lambda scalar: (scalar[0], scalar[1].startswith("epoch")))
    write_scalar_events(folder / TRAIN_FOLDER, train_scalars, created)
    write_scalar_events(folder / VALIDATION_FOLDER, validation_scalars, created)
    return TensorBoardEvents(epochs=len(history), iteration_points=len(points))


def remove_earlier_events(folder: Path) -> None:
    """Remove what an earlier write left in `folder`. Something else in its place (a link, planted to
    make the app write elsewhere) is removed, never followed."""
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
    else:
        folder.unlink(missing_ok=True)


def write_scalar_events(folder: Path, scalars: list[tuple[float, str, int, float]], start_time: float) -> None:
    """One event file in `folder` (made here) holding `scalars`, each (wall time, tag, step, value).

    Each event is a copy of its tag's template with the time, step and value filled in: 2 us, where
    building the nested records afresh takes 5."""
    folder.mkdir(parents=True)
    # TensorBoard reads the files whose name holds "tfevents"; the rest of the name only tells them apart.
    path = folder / f"events.out.tfevents.{int(start_time)}.mnist-lab"
    templates = {tag: scalar_event_template(tag) for tag in {scalar[1] for scalar in scalars}}
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(tf.compat.v1.Event(wall_time=start_time, file_version=EVENT_FILE_VERSION).SerializeToString())
        for wall_time, tag, step, value in scalars:
            event = tf.compat.v1.Event()
            event.CopyFrom(templates[tag])
            event.wall_time, event.step = wall_time, step
            event.summary.value[0].tensor.float_val.append(value)
            writer.write(event.SerializeToString())


def scalar_event_template(tag: str):
    """An event holding one float32 scalar named `tag`, as tf.summary.scalar writes it, less its time,
    step and value."""
    return tf.compat.v1.Event(summary=tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(
        tag=tag, metadata=SCALAR_METADATA, tensor={"dtype": tf.float32.as_datatype_enum, "tensor_shape": {}})]))


# -- several runs' metrics as one spreadsheet -------------------------------------------------------

def spreadsheet_text(text: str) -> str:
    """A label a spreadsheet shows as text: one starting with =, +, - or @ would be run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def runs_metrics_csv(runs) -> str:
    """The per-epoch metrics of several runs in one CSV, each row naming its run and every setting it
    was trained with (so a spreadsheet can group or plot by any of them)."""
    buffer = io.StringIO()
    setting_names = [field.name for field in dataclasses.fields(TrainConfig)]
    writer = csv.DictWriter(buffer, fieldnames=("run_id", "name", *setting_names, *METRIC_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for run in runs:
        settings = {name: "" if value is None else value for name, value in run.config.to_dict().items()}
        for result in run.history:
            writer.writerow({"run_id": run.run_id, "name": spreadsheet_text(run.name), **settings, **result.to_dict()})
    return buffer.getvalue()


def runs_metrics_csv_file(runs) -> bytes:
    """runs_metrics_csv as a download: UTF-8 with a byte order mark, without which Excel on a Chinese
    Windows reads the file as GBK and a Chinese run name turns into mojibake."""
    return runs_metrics_csv(runs).encode("utf-8-sig")
