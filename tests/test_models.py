"""The three models: shapes, parameter counts, probabilities."""

import numpy as np
import pytest

from mnist_core import TrainConfig, build_model, count_parameters, predict_probabilities


def test_the_linear_model_is_softmax_of_x_w_plus_b():
    model = build_model(TrainConfig.for_model("linear"))
    variables = {variable.name: tuple(variable.shape) for variable in model.trainable_variables}
    assert variables == {"W": (784, 10), "b": (10,)}
    assert count_parameters(model) == 7850


def test_the_linear_prediction_equals_the_formula(sample_dataset):
    model = build_model(TrainConfig.for_model("linear"))
    rng = np.random.default_rng(0)
    weights = {variable.name: variable for variable in model.trainable_variables}
    weights["W"].assign(rng.normal(size=(784, 10)).astype(np.float32) * 0.01)
    weights["b"].assign(rng.normal(size=10).astype(np.float32))
    (images, _), _ = sample_dataset
    x = images[:5].reshape(5, 784).astype(np.float32) / 255
    logits = x @ weights["W"].numpy() + weights["b"].numpy()
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(predict_probabilities(model, images[:5]), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_name", ["linear", "mlp", "cnn"])
def test_every_model_gives_ten_probabilities_per_image(sample_dataset, model_name):
    model = build_model(TrainConfig.for_model(model_name))
    (images, _), _ = sample_dataset
    probabilities = predict_probabilities(model, images[:7])
    assert probabilities.shape == (7, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    # A single 28x28 image works too, and float input in [0, 1] gives the same answer as uint8.
    np.testing.assert_allclose(predict_probabilities(model, images[0]), probabilities[:1], rtol=1e-5)
    np.testing.assert_allclose(predict_probabilities(model, images[:7] / 255.0), probabilities, rtol=1e-4, atol=1e-6)


def test_the_mlp_follows_its_width_and_depth():
    model = build_model(TrainConfig.for_model("mlp", hidden_units=32, hidden_layers=3))
    assert count_parameters(model) == (784 * 32 + 32) + 2 * (32 * 32 + 32) + (32 * 10 + 10)


def test_every_model_a_config_can_name_has_a_builder():
    from mnist_core.config import MODEL_NAMES
    from mnist_core.models import BUILDERS

    assert tuple(BUILDERS) == MODEL_NAMES


@pytest.mark.parametrize("model_name", ["linear", "mlp", "cnn"])
def test_the_l2_setting_penalises_every_models_weights(model_name):
    """The sidebar offers L2 for every model, so every model must feel it, the linear model included."""
    import numpy as np

    model = build_model(TrainConfig.for_model(model_name, l2=1e-2, seed=3))
    kernels = [variable for variable in model.trainable_variables if len(variable.shape) > 1]
    for variable in kernels:
        variable.assign(np.ones(variable.shape, np.float32))
    expected = 1e-2 * sum(float(np.prod(variable.shape)) for variable in kernels)
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)
