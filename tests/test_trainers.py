"""Reused trainers: a run on a borrowed, already-compiled trainer computes exactly what a run on a
fresh one would, whatever ran on it before (weights, optimizer state, dropout's random state and
the learning rate are all reset), and runs of one shape trace their step only once."""

import dataclasses

import numpy as np
import pytest

from mnist_core import RunStatus, TrainConfig, train
from mnist_core.models import build_model, get_weights
from mnist_core.trainers import CompiledTrainer, borrowed_trainer, graph_key


def finished_run(config, dataset):
    training = train(config, dataset)
    history = [(r.train_loss, r.train_acc, r.val_loss, r.val_acc) for r in training]
    assert training.status == RunStatus.COMPLETED
    return history, get_weights(training.model)


@pytest.mark.parametrize("overrides", [
    {"model": "mlp", "dropout": 0.3, "learning_rate_schedule": "cosine"},  # dropout's random masks, a decaying rate
    {"model": "linear", "optimizer": "adagrad", "learning_rate": 0.05},    # Adagrad's state starts at 0.1, not 0
    {"model": "linear", "optimizer": "momentum", "learning_rate": 0.05},
])
def test_a_run_on_a_reused_trainer_repeats_a_run_on_a_fresh_one(sample_dataset, overrides):
    overrides = dict(overrides)
    config = TrainConfig.for_model(overrides.pop("model"), epochs=2, batch_size=64, hidden_units=32, **overrides)
    # In between, a run of the same shape with another seed, rate, schedule and batch size.
    other = dataclasses.replace(config, seed=7, learning_rate=config.learning_rate * 3, batch_size=32,
                                learning_rate_schedule="constant" if config.learning_rate_schedule == "cosine" else "cosine")
    first_history, first_weights = finished_run(config, sample_dataset)
    other_history, _ = finished_run(other, sample_dataset)
    again_history, again_weights = finished_run(config, sample_dataset)
    assert other_history != first_history
    assert again_history == first_history
    for name in first_weights:
        np.testing.assert_array_equal(again_weights[name], first_weights[name], err_msg=name)


def test_runs_of_one_shape_trace_their_step_once_and_share_no_trainer_at_the_same_time(sample_dataset):
    config = TrainConfig(epochs=1, batch_size=50, hidden_units=77)
    start_model = build_model(config)
    with borrowed_trainer(config, start_model, 10) as first:
        with borrowed_trainer(config, start_model, 10) as second:  # two students' runs at once
            assert first is not second
    for batch_size in (50, 20):
        finished_run(dataclasses.replace(config, batch_size=batch_size, seed=batch_size), sample_dataset)
    with borrowed_trainer(config, start_model, 10) as later:
        assert later in (first, second)
        assert later.train_chunk.experimental_get_tracing_count() == 1


def test_only_the_settings_a_model_uses_make_a_new_shape():
    linear = TrainConfig()
    assert graph_key(linear) == graph_key(dataclasses.replace(linear, hidden_units=7, dropout=0.5, momentum=0.5))
    assert graph_key(linear) != graph_key(dataclasses.replace(linear, l2=1e-3))
    mlp = TrainConfig.for_model("mlp")
    assert graph_key(mlp) != graph_key(dataclasses.replace(mlp, dropout=0.5))
    assert graph_key(mlp) == graph_key(dataclasses.replace(mlp, learning_rate=0.1, batch_size=7, epochs=3, seed=4))
    assert isinstance(CompiledTrainer(linear).parameter_count, int)
