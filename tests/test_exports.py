"""A run taken out of the app: the weights' GIF, the .keras download and the TensorBoard event files,
each made from tiny real runs (the committed sample of MNIST, two epochs). A test that only reads a
linear run works on a copy of one trained once per test session (conftest.py's sample_run_template)."""

import io
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_core import TrainConfig, exports, train_and_record
from mnist_core.config import MODEL_NAMES
from mnist_core.exports import TENSORBOARD_FOLDER, keras_file_name, keras_model_bytes, weights_gif, write_tensorboard_events
from mnist_core.models import get_weights, predict_probabilities
from mnist_core.pictures import weight_picture
from mnist_core.quiet_tensorflow import keras, tf
from mnist_core.results import RunStatus
from mnist_core.runs import SHARED_WORKSPACE, SavedRun, load_run, start_run
from tests.helpers import copy_keeping_links


def trained_run(model_name: str, dataset, runs_root: Path) -> SavedRun:
    training = train_and_record(TrainConfig.for_model(model_name, epochs=2, batch_size=50), dataset, runs_root=runs_root)
    list(training)
    assert training.status == RunStatus.COMPLETED
    return load_run(training.run_id, runs_root)


@pytest.fixture
def linear_run(runs_root, sample_run_template) -> SavedRun:
    """trained_run("linear", the sample digits, runs_root), as trained once per test session: a copy."""
    copy_keeping_links(sample_run_template, runs_root / SHARED_WORKSPACE / sample_run_template.name)
    run = load_run(sample_run_template.name, runs_root)
    assert run.config == TrainConfig.for_model("linear", epochs=2, batch_size=50) and run.status == RunStatus.COMPLETED
    return run


def gif_frames(gif: bytes) -> tuple[list[np.ndarray], list[int]]:
    """Every frame of an animated GIF as RGB, and each frame's duration in milliseconds."""
    image = Image.open(io.BytesIO(gif))
    assert image.format == "GIF" and image.info["loop"] == 0  # loops forever
    frames, durations = [], []
    for index in range(image.n_frames):
        image.seek(index)
        frames.append(np.asarray(image.convert("RGB")))
        durations.append(image.info["duration"])
    return frames, durations


# -- the weights as an animated GIF ------------------------------------------------------------------

@pytest.mark.parametrize("model_name", ["linear", "cnn"])
def test_the_gif_has_a_frame_per_checkpoint_and_shows_the_weights_moving(sample_dataset, runs_root, model_name):
    run = trained_run(model_name, sample_dataset, runs_root)
    frames, durations = gif_frames(weights_gif(run, seconds_per_frame=0.25))
    assert run.checkpoint_epochs() == [0, 1, 2] and len(frames) == 3
    assert durations[:-1] == [250, 250] and durations[-1] > 250  # the trained weights hold longer
    picture_height = weight_picture(run.config, get_weights(run.load_model())).shape[0]
    pictures = [frame[:picture_height] for frame in frames]
    assert not np.array_equal(pictures[0], pictures[1]) and not np.array_equal(pictures[1], pictures[2])


def test_a_damaged_checkpoint_loses_its_own_frame_not_the_whole_gif(linear_run):
    """One bad checkpoint must not fail the whole download with nothing but a line in the server's log."""
    run = linear_run
    checkpoint = run.folder / "checkpoints" / "epoch-0001.npz"
    checkpoint.unlink()
    checkpoint.write_bytes(b"not a zip")
    frames, _ = gif_frames(weights_gif(run))
    assert len(frames) == 2  # the random start and epoch 2


def test_the_gif_keeps_the_weights_colours(linear_run):
    """One palette made of pictures.py's own colour ramps: a decoded frame is the picture the app
    draws, give or take a shade, not a posterised copy."""
    run = linear_run
    frames, _ = gif_frames(weights_gif(run))
    drawn = weight_picture(run.config, get_weights(run.load_checkpoint(2)))
    difference = np.abs(frames[-1][:drawn.shape[0]].astype(int) - drawn.astype(int))
    assert difference.max() <= 1


def test_a_run_saved_before_checkpoints_has_no_gif(linear_run, runs_root):
    run = linear_run
    shutil.rmtree(run.folder / "checkpoints")
    with pytest.raises(ValueError, match="nothing to animate"):
        weights_gif(load_run(run.run_id, runs_root))


# -- the model as a Keras file ----------------------------------------------------------------------

@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_the_keras_file_loads_back_and_predicts_the_same(sample_dataset, runs_root, tmp_path, model_name):
    run = trained_run(model_name, sample_dataset, runs_root)
    path = tmp_path / keras_file_name(run)
    path.write_bytes(keras_model_bytes(run))
    loaded = keras.models.load_model(path)
    test_images = sample_dataset[1][0]
    np.testing.assert_array_equal(predict_probabilities(loaded, test_images), predict_probabilities(run.load_model(), test_images))


@pytest.mark.parametrize("name, file_name", [
    ("my first run", "my-first-run.keras"),
    ("../../etc/passwd", "etc-passwd.keras"),
    ("-rf --no-preserve-root", "rf-no-preserve-root.keras"),
    ("学习率 0.1", "学习率-0-1.keras"),  # a Chinese name stays Chinese, not dropped as unsafe
    ("学习率", "学习率.keras"),
    ("🙂 ✨", "20261128-143000-linear-1a2b3c4d.keras"),  # nothing safe left: the run id
    ("a\u202eb\u200bc", "a-b-c.keras"),  # no invisible or reordering characters
    ("", "20261128-143000-linear-1a2b3c4d.keras"),
    ("x" * 500, "x" * 60 + ".keras"),
])
def test_the_download_name_keeps_only_safe_characters(name, file_name):
    run = SavedRun(run_id="20261128-143000-linear-1a2b3c4d", folder=Path("unused"), config=TrainConfig(), history=[],
                   status=RunStatus.COMPLETED, message="", best_epoch=None, name=name, created=0.0)
    assert keras_file_name(run) == file_name


# -- the curves for TensorBoard ---------------------------------------------------------------------

def read_events(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """The scalars of the one event file in `folder`: {tag: [(step, value), ...]} in the file's order."""
    (path,) = folder.glob("events.out.tfevents.*")
    events = list(tf.compat.v1.train.summary_iterator(str(path)))
    assert events[0].file_version == "brain.Event:2"
    scalars = {}
    for event in events[1:]:
        for value in event.summary.value:
            assert value.metadata.plugin_data.plugin_name == "scalars"
            scalars.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    return scalars


def test_a_finished_run_writes_tensorboard_events_with_its_curves(sample_dataset, runs_root):
    run = trained_run("linear", sample_dataset, runs_root)
    train = read_events(run.folder / TENSORBOARD_FOLDER / "train")
    validation = read_events(run.folder / TENSORBOARD_FOLDER / "validation")
    assert set(train) == {"epoch_loss", "epoch_accuracy", "batch_loss", "batch_accuracy"}
    assert set(validation) == {"epoch_loss", "epoch_accuracy"}

    def as_saved(pairs, rel=1e-6):  # the files hold float32
        return [(step, pytest.approx(value, rel=rel)) for step, value in pairs]

    assert train["epoch_loss"] == as_saved((result.epoch, result.train_loss) for result in run.history)
    assert train["epoch_accuracy"] == as_saved((result.epoch, result.train_acc) for result in run.history)
    assert validation["epoch_loss"] == as_saved((result.epoch, result.val_loss) for result in run.history)
    assert validation["epoch_accuracy"] == as_saved((result.epoch, result.val_acc) for result in run.history)
    points = run.iterations()
    assert len(points) > 2
    # A run writes its events from the curve in memory; iterations.csv keeps 6 significant digits of it.
    assert train["batch_loss"] == as_saved(((point.iteration, point.loss) for point in points), rel=1e-5)
    assert train["batch_accuracy"] == as_saved(((point.iteration, point.accuracy) for point in points), rel=1e-5)


def test_writing_the_events_again_replaces_them_and_never_follows_a_link(linear_run, tmp_path):
    run = linear_run
    folder = run.folder / TENSORBOARD_FOLDER
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere)  # planted, to make the app write outside the run
    written = write_tensorboard_events(run.folder)
    assert (written.epochs, written.iteration_points) == (2, len(run.iterations()))
    assert not folder.is_symlink() and not any(elsewhere.iterdir())
    first = read_events(folder / "train")
    write_tensorboard_events(run.folder)
    assert read_events(folder / "train") == first  # one file, the same curves: no duplicates


def test_a_run_with_no_finished_epoch_writes_no_events(runs_root):
    recorder = start_run(TrainConfig(), runs_root)
    recorder.mark_running()
    recorder.finish(RunStatus.STOPPED, "Stopped before the first epoch ended.", None)
    assert not (recorder.folder / TENSORBOARD_FOLDER).exists()
    assert write_tensorboard_events(recorder.folder).epochs == 0


def test_a_failing_tensorboard_write_leaves_the_run_as_it_was(sample_dataset, runs_root, monkeypatch, caplog):
    def refuse(*curves):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exports, "write_curves_for_tensorboard", refuse)
    with caplog.at_level(logging.WARNING, logger="mnist_core.training"):
        run = trained_run("linear", sample_dataset, runs_root)
    assert run.status == RunStatus.COMPLETED and len(run.history) == 2
    assert not (run.folder / TENSORBOARD_FOLDER).exists()
    assert "its TensorBoard event files could not be written" in caplog.text and "No space left on device" in caplog.text
