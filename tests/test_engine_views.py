"""What the pages show, computed by the engine and tested without Streamlit: Replay's frame of one epoch,
the keys Inside's maps and Robustness's curves are kept under, the random start Inside compares with."""

import dataclasses
import io

import numpy as np
from PIL import Image

from mnist_core import TrainConfig, train_and_record
from mnist_core.config import split_for_config
from mnist_core.exam import mark_answers
from mnist_core.replay import PANEL_DIGITS_PER_CLASS, followed_in, replayed_epoch
from mnist_core.runs import load_run


def test_an_epoch_s_frame_is_its_checkpoint_s_answers_and_pictures_of_its_weights(sample_dataset, runs_root):
    config = TrainConfig(model="mlp", hidden_units=16, epochs=2, batch_size=50, train_subset_size=300)
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    list(training)
    run = load_run(training.run_id, runs_root)
    split = split_for_config(sample_dataset, config)
    digits = (split.validation_images, split.validation_labels, split.train_images, split.train_labels)
    first, last = (replayed_epoch(run, epoch, *digits) for epoch in (1, 2))
    expected = mark_answers(run.load_checkpoint(2), split.validation_images, split.validation_labels)
    np.testing.assert_array_equal(last.validation.predictions, expected.predictions)
    assert last.validation.accuracy == expected.accuracy
    for png in (last.weights_png, last.change_png):
        assert Image.open(io.BytesIO(png)).format == "PNG"
    at_start = replayed_epoch(run, 0, *digits)  # the random start changed nothing since itself: a blank change picture
    assert len({tuple(pixel) for pixel in np.asarray(Image.open(io.BytesIO(at_start.change_png))).reshape(-1, 3)}) <= 2
    assert last.nbytes > last.validation.predictions.nbytes
    panel, pairs = followed_in(first, last, split.validation_labels, split.train_labels)
    assert len(panel) == PANEL_DIGITS_PER_CLASS * 10 and sorted(set(split.validation_labels[panel])) == list(range(10))
    assert (pairs == []) == (last.training is None)


def test_a_map_and_a_curve_are_kept_under_what_decides_them(sample_dataset, runs_root):
    from mnist_core.inside import map_key, random_start_kernel
    from mnist_core.robustness import curve_key

    config = TrainConfig(model="mlp", hidden_units=16, epochs=1, batch_size=50, train_subset_size=300)
    training = train_and_record(config, sample_dataset, runs_root=runs_root)
    list(training)
    run = load_run(training.run_id, runs_root)
    assert map_key(run, 1) == (str(run.folder), 1)  # a checkpoint never changes
    assert map_key(run, None) == (str(run.folder), "final", run.run_id, 1, run.status)
    assert curve_key(run) == (str(run.folder), run.run_id, 1, run.status)
    grown = dataclasses.replace(run, history=run.history * 2)  # the same run, an epoch further on
    assert map_key(grown, None) != map_key(run, None) and curve_key(grown) != curve_key(run)
    kernel = random_start_kernel(run)
    assert kernel.shape == (784, 16)
    np.testing.assert_array_equal(kernel, run.checkpoint_weights(0)["mlp/hidden_1/kernel"])
    (run.folder / "checkpoints" / "epoch-0000.npz").write_bytes(b"not a zip")
    assert random_start_kernel(run) is None
