"""The training loop on real digits: it learns, it stops, it diverges honestly, it repeats itself."""

import dataclasses
import json
import math

import numpy as np
import pytest

from mnist_core import EpochResult, RunStatus, TrainConfig, split_dataset, train
from mnist_core.config import split_for_config, steps_per_epoch
from mnist_core.models import build_model, evaluate, get_weights, make_optimizer
from mnist_core.precision import FLOAT32, MIXED_BFLOAT16, PRECISIONS
from mnist_core.training import shuffled_order


def quick_config(**overrides):
    return TrainConfig.for_model(overrides.pop("model", "linear"), **{"epochs": 3, "batch_size": 50, **overrides})


def test_the_loss_falls_and_each_epoch_reports_plain_numbers(sample_dataset):
    training = train(quick_config(), sample_dataset)
    history = list(training)
    assert training.status == RunStatus.COMPLETED
    assert [result.epoch for result in history] == [1, 2, 3]
    assert history[-1].train_loss < history[0].train_loss
    assert history[-1].val_loss < history[0].val_loss
    assert history[-1].val_acc > 0.6
    steps_per_epoch = math.ceil(1080 / 50)
    assert [result.iterations for result in history] == [steps_per_epoch, 2 * steps_per_epoch, 3 * steps_per_epoch]
    for result in history:
        for field in dataclasses.fields(EpochResult):
            assert type(getattr(result, field.name)) in (int, float), field.name


def test_training_metrics_are_measured_at_the_end_of_the_epoch_with_the_final_weights(sample_dataset):
    config = quick_config(epochs=1, train_metrics_sample=100000)
    split = split_dataset(sample_dataset, validation_fraction=config.validation_fraction, seed=config.seed)
    training = train(config, split=split)
    (result,) = list(training)
    train_loss, train_acc = evaluate(training.model, split.train_images, split.train_labels)
    val_loss, val_acc = evaluate(training.model, split.validation_images, split.validation_labels)
    assert result.train_acc == pytest.approx(train_acc) and result.train_loss == pytest.approx(train_loss, rel=1e-5)
    assert result.val_acc == pytest.approx(val_acc) and result.val_loss == pytest.approx(val_loss, rel=1e-5)


def test_progress_is_reported_inside_each_epoch(sample_dataset):
    reports = []
    training = train(quick_config(epochs=2, batch_size=10), sample_dataset, on_progress=lambda *report: reports.append(report))
    list(training)
    assert reports[-1] == (2, 108, 108)
    first_epoch_steps = [step for epoch, step, total in reports if epoch == 1]
    assert first_epoch_steps == sorted(first_epoch_steps) and first_epoch_steps[-1] == 108 and len(first_epoch_steps) > 1


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("model_name", ["linear", "mlp", "cnn"])
def test_same_seed_and_config_give_the_same_numbers(sample_dataset, model_name, precision):
    config = quick_config(model=model_name, epochs=2, dropout=0.2 if model_name != "linear" else 0.0)

    def metrics():
        return [(r.train_loss, r.train_acc, r.val_loss, r.val_acc) for r in train(config, sample_dataset, precision=precision)]

    assert metrics() == metrics()
    other_seed = [(r.train_loss, r.val_loss) for r in train(dataclasses.replace(config, seed=1), sample_dataset)]
    assert other_seed != [(loss, val) for loss, _, val, _ in metrics()]


# The layers' arithmetic on each path: the logits' layer computes in float32 on both.
EXPECTED_PRODUCTS = {FLOAT32: "float32", MIXED_BFLOAT16: "bfloat16"}
# How close the compiled loop comes to the eager one on each path, after 34 steps.
# - float32: within float32's rounding of sums taken in another order (measured: 1e-6 of how far training
#   moved the weights).
# - mixed bfloat16 keeps 8 bits of each product. The compiled graph's fused kernels (Grappler's remapper:
#   a matmul or convolution with its bias and ReLU in one kernel) round in other places than the eager
#   loop's one-by-one ops, and Adam, which divides each step by the gradient's own size, carries a
#   rounding difference on. The first step is the same to float32's rounding; after 34 steps the weights
#   differed by 10% of how far training moved them (the CNN; the MLP 4.5%, the linear model 0), and the
#   batch losses by at most 1.9%. With the remapper off, the MLP's two loops agreed to the last bit.
#   The bounds are tight enough to fail where something other than rounding differs: the CNN against an
#   eager loop in float32 lay at 0.18 and 5.4%, against one at a learning rate 10% higher at 0.22 and 8.3%.
EAGER_TOLERANCES = {FLOAT32: {"weights": 1e-5, "losses": 1e-4, "accuracies": 1e-6},
                    MIXED_BFLOAT16: {"weights": 0.15, "losses": 0.03, "accuracies": 2 / 64}}


def relative_distance(weights: dict, reference: dict, start: dict) -> float:
    """How far `weights` lie from `reference`, as a share of how far training moved `reference` from `start`."""
    def norm(difference):
        return math.sqrt(sum(float(np.sum(np.square(part))) for part in difference))

    return norm(weights[name] - reference[name] for name in reference) / norm(reference[name] - start[name] for name in reference)


def textbook_eager_run(config, split, precision: str = FLOAT32) -> tuple[dict, list[float], list[float]]:
    """The reference: TensorFlow's custom-training guide written out plainly, one batch at a time,
    eagerly, with numpy doing the batching and scaling, on the same data, order and seed as the engine,
    and the same arithmetic (`precision`). Returns the final weights, and each step's batch cross-entropy
    and accuracy (before its update)."""
    import keras
    import tensorflow as tf

    model = build_model(config, precision)
    steps = steps_per_epoch(len(split.train_labels), config.batch_size)
    optimizer = make_optimizer(config, steps)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    batch_losses, batch_accuracies = [], []
    for epoch in range(1, config.epochs + 1):
        order = shuffled_order(config.seed, epoch, len(split.train_labels))
        for step in range(steps):
            batch = order[step * config.batch_size:(step + 1) * config.batch_size]
            images = split.train_images[batch].astype(np.float32) / 255.0
            labels = split.train_labels[batch].astype(np.int32)
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                loss = cross_entropy(labels, logits)
                batch_losses.append(float(loss))
                batch_accuracies.append(float(np.mean(np.argmax(logits.numpy(), axis=1) == labels)))
                if model.losses:
                    loss += tf.add_n(model.losses)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return get_weights(model), batch_losses, batch_accuracies


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("model_name", ["linear", "mlp", "cnn"])
def test_the_compiled_chunked_loop_gives_the_weights_of_a_plain_eager_loop(sample_dataset, model_name, precision):
    """The speed-ups (a compiled step, chunks of steps in one call, batches gathered inside the graph)
    must not change what is computed, on either arithmetic path (precision.py: a server may choose
    either for every model). Each model's own preset (cosine schedule, L2 on), minus dropout, whose
    random masks the reference could not draw the same way."""
    config = TrainConfig.for_model(model_name, epochs=2, batch_size=64, dropout=0.0, l2=1e-4)
    split = split_for_config(sample_dataset, config)
    training = train(config, split=split, precision=precision)
    list(training)
    assert training.status == RunStatus.COMPLETED
    assert training.steps_per_epoch == 17  # 1,080 digits in batches of 64: the last batch is smaller
    assert {layer.compute_dtype for layer in training.model.layers} == {"float32", EXPECTED_PRODUCTS[precision]}
    engine = get_weights(training.model)
    reference, reference_losses, reference_accuracies = textbook_eager_run(config, split, precision)
    assert engine.keys() == reference.keys()
    tolerance = EAGER_TOLERANCES[precision]
    start = get_weights(build_model(config, precision))
    assert relative_distance(engine, reference, start) <= tolerance["weights"]
    # Every iteration's batch loss and accuracy, collected inside the compiled loop: 17 steps an epoch,
    # fewer than POINTS_PER_EPOCH, so each point is one step. The first is the same start, data and
    # arithmetic on both sides, whatever the path.
    points = training.iterations.points
    assert [point.iteration for point in points] == list(range(1, 2 * 17 + 1))
    assert points[0].loss == pytest.approx(reference_losses[0], rel=1e-6)
    np.testing.assert_allclose([point.loss for point in points], reference_losses, rtol=tolerance["losses"])
    np.testing.assert_allclose([point.accuracy for point in points], reference_accuracies, atol=tolerance["accuracies"])


def test_stop_keeps_the_finished_epochs_and_their_weights(sample_dataset):
    progress = []
    training = train(quick_config(epochs=5, batch_size=10), sample_dataset,
                     on_progress=lambda epoch, step, total: progress.append(epoch),
                     stop_requested=lambda: bool(progress) and progress[-1] == 3)
    weights_after_each_epoch = []
    for _ in training:
        weights_after_each_epoch.append(get_weights(training.model))
    assert training.status == RunStatus.STOPPED
    assert [result.epoch for result in training.history] == [1, 2]
    assert "epoch 3" in str(training.message)
    for name, value in get_weights(training.model).items():
        np.testing.assert_array_equal(value, weights_after_each_epoch[-1][name])


def test_closing_the_generator_counts_as_a_stop(sample_dataset):
    training = train(quick_config(epochs=4), sample_dataset)
    next(training)
    training.close()
    assert training.status == RunStatus.STOPPED
    assert len(training.history) == 1


def test_a_huge_learning_rate_ends_as_diverged_without_nan_in_the_history(sample_dataset):
    training = train(quick_config(model="mlp", optimizer="sgd", learning_rate=90.0, epochs=3), sample_dataset)
    history = list(training)
    assert training.status == RunStatus.DIVERGED
    assert "learning rate" in str(training.message) and "try 9" in str(training.message)
    assert all(math.isfinite(value) for result in history for value in (result.train_loss, result.val_loss))
    assert all(np.all(np.isfinite(value)) for value in get_weights(training.model).values())


def test_early_stopping_restores_the_best_weights(sample_dataset):
    # A big model on 100 digits with a fast optimizer overfits within a few epochs.
    config = quick_config(model="mlp", train_subset_size=100, batch_size=10, epochs=40, learning_rate=0.01,
                          learning_rate_schedule="constant", dropout=0.0, early_stopping_patience=2)
    split = split_dataset(sample_dataset, train_subset_size=100, seed=config.seed)
    training = train(config, split=split)
    history = list(training)
    assert training.status == RunStatus.EARLY_STOPPED
    assert len(history) < 40
    best = min(history, key=lambda result: result.val_loss)
    assert training.best_epoch == best.epoch and len(history) == best.epoch + 2
    val_loss, _ = evaluate(training.model, split.validation_images, split.validation_labels)
    assert val_loss == pytest.approx(best.val_loss, rel=1e-5)


def test_a_batch_larger_than_the_training_set_is_refused_with_a_clear_message(sample_dataset):
    with pytest.raises(ValueError, match=r"batch size \(500\) is larger than the training set \(300 examples\)"):
        train(quick_config(batch_size=500, train_subset_size=300), sample_dataset)


def test_the_config_round_trips_through_json():
    config = TrainConfig.for_model("cnn", label_noise=0.1, train_subset_size=500)
    assert TrainConfig.from_json(config.to_json()) == config
    assert json.loads(config.to_json())["model"] == "cnn"


@pytest.mark.parametrize("field, value", [
    ("epochs", 0), ("epochs", 2.5), ("batch_size", -1), ("learning_rate", 0.0), ("learning_rate", float("nan")),
    ("optimizer", "magic"), ("model", "transformer"), ("dropout", 1.0), ("label_noise", -0.1),
    ("validation_fraction", 1.0), ("train_subset_size", 0), ("restore_best_weights", "yes"),
])
def test_bad_values_raise_a_message_naming_the_setting(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_unknown_settings_in_json_are_reported():
    with pytest.raises(ValueError, match="Unknown setting"):
        TrainConfig.from_dict({"epochs": 3, "learnig_rate": 0.1})


def test_every_setting_says_what_it_is_then_why_it_has_its_default():
    """A help that gives only the default's reason leaves a student guessing what the setting is (L2, say)."""
    for field in dataclasses.fields(TrainConfig):
        what, _, why = str(TrainConfig.help(field.name)).partition(" Default ")
        assert what == str(TrainConfig.what(field.name)) and len(what) > 20 and len(why) > 10, field.name
    assert "squared weights" in str(TrainConfig.help("l2")) and "Default 0.003:" in str(TrainConfig.help("learning_rate"))


def test_a_finished_run_lets_go_of_its_training_data(sample_dataset):
    """A job or a page may keep the Training (its model, its history) long after it ends: not its data."""
    training = train(quick_config(epochs=1), sample_dataset)
    assert training.split is not None
    list(training)
    assert training.split is None and training.history and training.model is not None


def test_overshooting_steps_get_advice_even_when_nothing_becomes_nan():
    """A rate far too high need not blow up to NaN: the training loss may bounce up between epochs, or sit
    above guessing's 2.30. Either way the page says so and suggests a lower rate."""
    from mnist_core.results import overshooting_advice

    def history(*losses):
        return [EpochResult(epoch=epoch, train_loss=loss, train_acc=0.9, val_loss=loss, val_acc=0.9, seconds=1.0, iterations=epoch)
                for epoch, loss in enumerate(losses, start=1)]

    sgd, momentum = TrainConfig(optimizer="sgd", learning_rate=10.0), TrainConfig(optimizer="momentum", learning_rate=10.0)
    bouncing = str(overshooting_advice(sgd, history(4.19, 1.29, 1.97)))
    assert "went up from 1.29 to 1.97 in epoch 3" in bouncing and "try 1, or SGD's usual starting rate, 0.1." in bouncing
    assert "above the 2.30 of guessing" in str(overshooting_advice(momentum, history(9.47, 9.87, 7.64)))
    healthy = TrainConfig()
    assert overshooting_advice(healthy, history(0.31, 0.27, 0.26, 0.25)) is None
    assert overshooting_advice(healthy, history(0.01, 0.002, 0.003)) is None  # a memorising run's noise is no bounce
    # The overfitting preset on Fashion-MNIST (seed 0): a bump it has fallen back below is no bounce either.
    assert overshooting_advice(healthy, history(0.256, 0.222, 0.229, 0.283, 0.271, 0.181, 0.133, 0.005)) is None
    assert "went up from 0.23 to 0.28" in str(overshooting_advice(healthy, history(0.256, 0.222, 0.229, 0.283, 0.271)))
    assert overshooting_advice(healthy, []) is None


def test_the_iteration_curve_averages_long_epochs_into_stretches_that_end_with_each_epoch():
    from mnist_core.results import POINTS_PER_EPOCH, IterationLog

    log = IterationLog(steps_per_epoch=540)  # the default linear run: 54,000 digits in batches of 100
    losses = np.linspace(2.3, 0.3, 2 * 540)
    for start in range(0, len(losses), 97):  # chunks of any size
        log.add(losses[start:start + 97], np.full(len(losses[start:start + 97]), 0.5))
    assert log.stretch == 3 and len(log.points) == 2 * 180 <= 2 * POINTS_PER_EPOCH
    assert log.points[0].iteration == 3 and log.points[0].loss == pytest.approx(losses[:3].mean())
    assert log.points[179].iteration == 540 and log.points[-1].iteration == 1080  # no stretch crosses an epoch's end

    odd = IterationLog(steps_per_epoch=7)  # 7 steps, stretch 1; a NaN step is left out, never drawn
    odd.add([1.0, float("nan"), 0.5], [0.1, 0.2, 0.3])
    assert [(point.iteration, point.loss) for point in odd.points] == [(1, 1.0), (3, 0.5)]


def test_a_cure_is_offered_only_where_it_changes_something_and_never_weakens_a_setting():
    from mnist_core.config import OVERFITTING_PRESET, cure_config

    preset = TrainConfig(**OVERFITTING_PRESET)
    assert cure_config(preset, "more_digits").train_subset_size == 5000
    assert cure_config(TrainConfig(), "more_digits") is None  # all the digits already
    assert cure_config(TrainConfig(), "dropout") is None  # the linear model has no dropout
    augmented = cure_config(preset, "augmentation")
    assert cure_config(augmented, "augmentation") is None
    bolder = cure_config(TrainConfig(**{**OVERFITTING_PRESET, "augment_shift": 4.0}), "augmentation")
    assert bolder.augment_shift == 4.0 and bolder.augment_rotation == 15.0
