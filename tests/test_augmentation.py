"""Augmentation: each training digit varied at random inside the compiled step. It keeps shapes and
labels, is reproducible with a seed, costs no retracing per amount, and never touches the validation,
the test or the training-metric digits. Real TensorFlow on real MNIST digits."""

import dataclasses

import numpy as np
import pytest

from mnist_core import RunStatus, TrainConfig, train
from mnist_core.augmentation import variation_draws, vary
from mnist_core.config import AUGMENTATION_SETTINGS, split_for_config
from mnist_core.models import build_model, evaluate
from mnist_core.quiet_tensorflow import tf
from mnist_core.trainers import AUGMENTED_CHUNK_DIGITS, CompiledTrainer, borrowed_trainer, graph_key
from mnist_core.training import metrics_sample
from tests.helpers import centre_of_ink, open_page, shown, train_on_the_train_page

EVERYTHING = [2.0, 15.0, 0.15, 0.5, 0.5]  # shift, rotation, scale, thickness, mirror
NOTHING = [0, 0, 0, 0, 0]


def augment(images, amounts, seed):
    """`vary` with numbers drawn from the stateless `seed`, as the trainer draws an epoch's."""
    return vary(images, amounts, variation_draws(len(images), seed))


def digits(sample_dataset, count=64) -> np.ndarray:
    (images, _labels), _test = sample_dataset
    return images[:count].astype(np.float32) / 255.0


def test_augmentation_keeps_the_shape_and_range_and_nothing_asked_is_nothing_done(sample_dataset):
    images = digits(sample_dataset)
    seed = tf.constant([0, 1])
    varied = augment(images, EVERYTHING, seed).numpy()
    assert varied.shape == images.shape and varied.dtype == np.float32
    assert varied.min() >= 0.0 and varied.max() <= 1.0
    assert np.abs(varied - images).max() > 0.5
    np.testing.assert_array_equal(augment(images, NOTHING, seed).numpy(), images)


def test_a_mirror_chance_of_one_mirrors_every_picture_and_a_half_about_half(sample_dataset):
    images = digits(sample_dataset, count=400)
    seed = tf.constant([3, 4])
    np.testing.assert_array_equal(augment(images, [0, 0, 0, 0, 1.0], seed).numpy(), images[:, :, ::-1])
    varied = augment(images, [0, 0, 0, 0, 0.5], seed).numpy()
    mirrored = np.all(varied == images[:, :, ::-1], axis=(1, 2)) & ~np.all(varied == images, axis=(1, 2))
    assert 160 < mirrored.sum() < 240  # 400 draws of a fair coin


def test_each_kind_of_variation_does_what_it_says(sample_dataset):
    images, seed = digits(sample_dataset), tf.constant([3, 4])
    # A shift moves the ink by at most the amount in each direction, and keeps it all in the picture.
    shifted = augment(images, [2.0, 0, 0, 0, 0], seed).numpy()
    moved = np.abs(centre_of_ink(shifted) - centre_of_ink(images))
    assert moved.max() <= 2.0 + 0.05 and moved.max() > 0.5
    np.testing.assert_allclose(shifted.sum(axis=(1, 2)), images.sum(axis=(1, 2)), rtol=0.05)
    # A rotation about the centre leaves the centre of the picture where it was, and the ink's amount nearly so.
    turned = augment(images, [0, 20.0, 0, 0, 0], seed).numpy()
    assert np.abs(turned - images).max() > 0.5
    np.testing.assert_allclose(turned.sum(axis=(1, 2)), images.sum(axis=(1, 2)), rtol=0.1)
    # A bolder pen means more ink, a thinner one less: over many digits, both happen.
    ink_change = augment(images, [0, 0, 0, 1.0, 0], seed).numpy().sum(axis=(1, 2)) - images.sum(axis=(1, 2))
    assert (ink_change > 1).any() and (ink_change < -1).any()
    # A size change scales the ink's amount with the area, within (1 +- 0.2)^2.
    ratio = augment(images, [0, 0, 0.2, 0, 0], seed).numpy().sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert ratio.min() >= 0.8 ** 2 - 0.05 and ratio.max() <= 1.2 ** 2 + 0.05 and np.ptp(ratio) > 0.1


def test_augmentation_is_reproducible_with_a_seed(sample_dataset):
    images = digits(sample_dataset)
    first = augment(images, EVERYTHING, tf.constant([5, 9])).numpy()
    np.testing.assert_array_equal(first, augment(images, EVERYTHING, tf.constant([5, 9])).numpy())
    assert not np.array_equal(first, augment(images, EVERYTHING, tf.constant([5, 10])).numpy())


def test_each_digit_gets_the_same_variation_however_the_steps_are_grouped_into_calls(sample_dataset):
    """An augmented call varies all its digits at once, with the numbers of their places in the epoch's
    order: a run's chunk sizes follow the machine's speed, so its variations must not depend on them."""
    config = TrainConfig(epochs=1, batch_size=50, augment_shift=2.0, augment_rotation=15.0, augment_scale=0.15,
                         augment_thickness=0.5)
    split = split_for_config(sample_dataset, config)
    images, labels = tf.constant(split.train_images), tf.constant(split.train_labels, tf.int32)
    order = tf.constant(np.random.default_rng(0).permutation(len(split.train_labels)), tf.int32)

    def losses_and_weights(chunk_sizes):
        trainer = CompiledTrainer(config)
        trainer.reset(build_model(config), config, steps_per_epoch=sum(chunk_sizes))
        trainer.start_epoch(config.seed, 1, len(split.train_labels))
        losses, step = [], 0
        for size in chunk_sizes:
            chunk_losses, _right = trainer.train_chunk(images, labels, order, tf.constant(50), tf.constant(step), tf.constant(size))
            losses.extend(chunk_losses.numpy())
            step += size
        return np.array(losses), trainer.model.get_weights()[0]

    whole_losses, whole_weights = losses_and_weights([8])
    grouped_losses, grouped_weights = losses_and_weights([3, 1, 4])
    np.testing.assert_allclose(grouped_losses, whole_losses, rtol=1e-5)
    np.testing.assert_allclose(grouped_weights, whole_weights, rtol=1e-4, atol=1e-6)
    # Each call varies at most AUGMENTED_CHUNK_DIGITS digits, whatever its batch size; a plain run's calls may take an epoch.
    trainer = CompiledTrainer(config)
    assert trainer.most_steps(50, 1000) * 50 <= AUGMENTED_CHUNK_DIGITS and trainer.most_steps(10_000, 1000) == 1
    assert CompiledTrainer(dataclasses.replace(config, augment_shift=0.0, augment_rotation=0.0, augment_scale=0.0,
                                               augment_thickness=0.0)).most_steps(50, 1000) == 1000


def history_of(config, dataset):
    training = train(config, dataset)
    history = list(training)
    assert training.status == RunStatus.COMPLETED
    return history, training


def test_an_augmented_run_repeats_with_its_seed_learns_its_labels_and_never_varies_what_it_measures(sample_dataset):
    config = TrainConfig(epochs=2, batch_size=50, augment_shift=2.0, augment_rotation=15.0, augment_scale=0.15,
                         augment_thickness=0.5)
    history, training = history_of(config, sample_dataset)
    again, _ = history_of(config, sample_dataset)
    assert [dataclasses.astuple(result)[:5] for result in again] == [dataclasses.astuple(result)[:5] for result in history]
    plain, _ = history_of(dataclasses.replace(config, augment_shift=0.0, augment_rotation=0.0, augment_scale=0.0,
                                              augment_thickness=0.0), sample_dataset)
    assert plain[-1].train_loss != history[-1].train_loss  # the variations changed what it learned
    # The labels still belong to their digits: it learns to read (the sample's validation digits are plain).
    assert history[-1].val_acc > 0.75
    # The validation digits and the training-metric digits are measured as they are, never varied:
    # measuring the final model on them again, plainly, gives exactly the numbers the run recorded.
    split = split_for_config(sample_dataset, config)
    val_loss, val_acc = evaluate(training.model, split.validation_images, split.validation_labels)
    assert val_loss == pytest.approx(history[-1].val_loss, abs=1e-6) and val_acc == history[-1].val_acc
    sample = metrics_sample(config.seed, len(split.train_labels), config.train_metrics_sample)
    train_loss, train_acc = evaluate(training.model, split.train_images[sample], split.train_labels[sample])
    assert train_loss == pytest.approx(history[-1].train_loss, abs=1e-6) and train_acc == history[-1].train_acc


def test_the_amounts_are_variables_so_runs_that_vary_them_share_one_compiled_step(sample_dataset):
    config = TrainConfig(epochs=1, batch_size=50, hidden_units=33, augment_shift=1.0)
    for shift in (1.0, 3.0):
        history_of(dataclasses.replace(config, augment_shift=shift, augment_rotation=shift * 5), sample_dataset)
    with borrowed_trainer(config, build_model(config), 10) as trainer:
        assert trainer.train_chunk.experimental_get_tracing_count() == 1
    # A run without augmentation has none in its compiled step: another shape of step.
    assert graph_key(config) != graph_key(dataclasses.replace(config, augment_shift=0.0))
    assert graph_key(config) == graph_key(dataclasses.replace(config, augment_shift=2.5, augment_thickness=0.25))


@pytest.mark.parametrize("field, value", [("augment_shift", -1.0), ("augment_rotation", 90.0), ("augment_scale", 0.9),
                                          ("augment_thickness", float("nan"))])
def test_impossible_amounts_are_refused_with_the_setting_named(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_a_run_saved_before_augmentation_existed_loads_without_it():
    old = TrainConfig().to_dict()
    for name in AUGMENTATION_SETTINGS:
        old.pop(name)
    config = TrainConfig.from_dict(old)
    assert [getattr(config, name) for name in AUGMENTATION_SETTINGS] == [0] * len(AUGMENTATION_SETTINGS)


@pytest.mark.pages
def test_the_sidebar_sets_augmentation_and_the_train_page_says_what_it_does(runs_root):
    app = open_page("pages/train.py")
    app.slider(key="widget_augment_shift").set_value(2.0).run()
    app.slider(key="widget_augment_rotation").set_value(15.0).run()
    train_on_the_train_page(app, epochs=1, training_examples=300, name="augmented")
    assert not app.exception and not app.error
    captions = [shown(caption) for caption in app.caption]
    assert any("shift (pixels) 2" in caption and "rotation (degrees) 15" in caption for caption in captions), captions
    assert any(caption.startswith("**Augmented:** its training digits are varied at random") for caption in captions)
    (config_file,) = runs_root.glob("*/*/config.json")
    saved = TrainConfig.from_json(config_file.read_text())
    assert (saved.augment_shift, saved.augment_rotation, saved.augment_scale) == (2.0, 15.0, 0.0)
