"""Break the reader: digits changed by hand or by FGSM, and robustness curves, with real trained models
on real MNIST digits; the Robustness page with Streamlit's AppTest."""

import numpy as np
import pytest

from mnist_core import TrainConfig, train
from mnist_core.models import build_model
from mnist_core.quiet_tensorflow import tf
from mnist_core.robustness import CURVE_SIZES, changed_digits, fgsm, robustness_curves, varied_digit
from tests.helpers import TEST_WORKSPACE, button, centre_of_ink, open_page


def mean_loss(model, images, labels) -> float:
    """The model's mean cross-entropy on float `images` with true `labels` (models.evaluate takes uint8 digits)."""
    logits = model(images.astype(np.float32), training=False)
    return float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=np.asarray(labels, np.int64),
                                                                               logits=logits)))


@pytest.fixture(scope="module")
def trained_linear(sample_dataset):
    training = train(TrainConfig(epochs=2, batch_size=50), sample_dataset)
    list(training)
    return training.model


def test_fgsm_raises_the_loss_within_epsilon_of_each_pixel(sample_dataset, trained_linear):
    (_train, (images, labels)) = sample_dataset
    images, labels = images[:200] / 255.0, labels[:200]
    for model in (trained_linear, build_model(TrainConfig.for_model("cnn", cnn_filters=8, hidden_units=32))):
        before = mean_loss(model, images, labels)
        adversarial, perturbation = fgsm(model, images, labels, 0.1)
        assert mean_loss(model, adversarial, labels) > before + 0.05
        assert np.abs(perturbation).max() <= 0.1 + 1e-6 and adversarial.min() >= 0 and adversarial.max() <= 1
        np.testing.assert_allclose(adversarial - images, perturbation, atol=1e-6)
        unchanged, nothing = fgsm(model, images, labels, 0.0)
        np.testing.assert_array_equal(unchanged, images.astype(np.float32))
        assert not nothing.any()


def test_a_changed_digit_is_changed_as_asked_and_nothing_asked_is_nothing_done(sample_dataset):
    (_train, (images, _labels)) = sample_dataset
    digit = images[0] / 255.0
    np.testing.assert_allclose(varied_digit(digit), digit, atol=1e-6)
    moved = varied_digit(digit, shift_x=3.0)
    np.testing.assert_allclose(moved[:, 3:], digit[:, :-3], atol=1e-5)  # a whole-pixel shift moves the pixels themselves
    noisy = varied_digit(digit, noise=0.2, seed=4)
    np.testing.assert_array_equal(noisy, varied_digit(digit, noise=0.2, seed=4))
    assert noisy.min() >= 0 and noisy.max() <= 1 and np.abs(noisy - digit).mean() > 0.05
    assert varied_digit(digit, thickness=1.0).sum() > digit.sum() > varied_digit(digit, thickness=-1.0).sum()


def test_robustness_curves_start_at_the_plain_accuracy_fall_as_the_change_grows_and_repeat(sample_dataset, trained_linear):
    (_train, (images, labels)) = sample_dataset
    images, labels = images[:300], labels[:300]
    shares = []
    curves = robustness_curves(trained_linear, images, labels, progress=shares.append)
    plain = float((np.argmax(trained_linear(images / 255.0), axis=1) == labels).mean())
    for kind, sizes in CURVE_SIZES.items():
        points = curves.points[kind]
        assert [size for size, _accuracy in points] == list(sizes)
        assert points[0][1] == pytest.approx(plain)  # size 0: the digits as they are
        assert points[-1][1] < points[0][1] - 0.2     # far past what it saw: much worse
    assert curves.points["fgsm"][-1][1] < 0.1         # a linear model has no defence against FGSM
    assert shares[-1] == 1.0 and shares == sorted(shares) and len(shares) == sum(map(len, CURVE_SIZES.values()))
    assert robustness_curves(trained_linear, images, labels).points == curves.points
    # A shift of n pixels moves each digit's ink by n pixels, each its own way.
    shifted = changed_digits("shift", 3, images / 255.0, labels, trained_linear)
    distances = np.linalg.norm(centre_of_ink(shifted) - centre_of_ink(images / 255.0), axis=1)
    assert np.median(distances) == pytest.approx(3.0, abs=0.3)


# -- the page ----------------------------------------------------------------------------------------

@pytest.mark.pages
def test_the_robustness_page_changes_a_digit_attacks_it_and_draws_the_curves(runs_root):
    import json

    from mnist_core import load_mnist, train_and_record

    dataset = load_mnist()
    for config, name in ((TrainConfig(epochs=1, train_subset_size=1000), "plain-linear"),
                         (TrainConfig(epochs=1, train_subset_size=1000, augment_shift=2.0), "shifted-linear")):
        list(train_and_record(config, dataset, runs_root=runs_root, workspace=TEST_WORKSPACE, name=name))
    app = open_page("pages/robustness.py", workspace=TEST_WORKSPACE)
    assert not app.exception and not app.error
    assert sorted(run.name for run in app.multiselect(key="robust_runs").value) == ["plain-linear", "shifted-linear"]

    def readings(app):
        return next(markdown.value for markdown in app.markdown if markdown.value.startswith("Read as"))

    assert "(labelled 7)" in " ".join(image.proto.imgs[0].caption for image in app.get("image"))
    before = readings(app)
    app.slider(key="robust_shift_x").set_value(6.0).run()
    app.slider(key="robust_rotation").set_value(45.0).run()
    assert readings(app) != before  # moved and turned, the answers change
    app.slider(key="robust_epsilon").set_value(0.3).run()
    assert not app.exception
    attacked = [image.proto.imgs[0].caption for image in app.get("image") if "attacked" in image.proto.imgs[0].caption]
    assert len(attacked) == 2
    button(app, "Measure the curves").click().run()
    assert not app.exception
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    (curves,) = [chart for chart in charts if chart["layout"]["title"]["text"] == "Accuracy as the change grows"]
    assert {trace["name"] for trace in curves["data"]} == {"plain-linear (Linear)", "shifted-linear (Linear, augmented)"}
    assert len(curves["data"]) == 2 * 3  # two runs, three panels
    button(app, "Undo every change to the digit").click().run()
    assert app.slider(key="robust_shift_x").value == 0.0 and readings(app) == before
    # The digit drawn on the Draw page, when there is one.
    drawn = np.zeros((28, 28), np.float32)
    drawn[4:24, 13:15] = 1.0
    app.session_state["drawn_digit"] = drawn
    app.run()
    app.radio(key="robust_source").set_value("drawn").run()
    assert not app.exception
    assert any(image.proto.imgs[0].caption == "as it was" for image in app.get("image"))
    # A chosen run that trains on (its label changes) stays chosen.
    from mnist_core.runs import load_run

    (plain_folder,) = [run_json.parent for run_json in runs_root.glob(f"{TEST_WORKSPACE}/*/run.json")
                       if "plain" in run_json.read_text()]
    plain_run = load_run(plain_folder.name, runs_root, TEST_WORKSPACE)
    metrics = plain_folder / "metrics.csv"
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join([*lines, lines[-1].replace(lines[-1].split(",")[0], "2", 1)]) + "\n")
    app.run()
    assert not app.exception and len(app.multiselect(key="robust_runs").value) == 2
    assert plain_run.history != load_run(plain_folder.name, runs_root, TEST_WORKSPACE).history
    # A run chosen here whose folder has gone drops out of the choice; the other stays.
    import shutil

    (gone,) = [run_json.parent for run_json in runs_root.glob(f"{TEST_WORKSPACE}/*/run.json") if "shifted" in run_json.read_text()]
    shutil.rmtree(gone)
    app.run()
    assert not app.exception and [run.name for run in app.multiselect(key="robust_runs").value] == ["plain-linear"]
