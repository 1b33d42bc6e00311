"""Inside a model: the maths of mnist_core.inside with the real engine (real Keras models, real MNIST
digits), and the Inside page with Streamlit's AppTest on real, tiny training runs (each trained on the
Train page once per test session, conftest.py's train_page_template, and copied into the test's workspace)."""

import threading
import time

import numpy as np
import pytest

from mnist_core import TrainConfig
from mnist_core.inside import (
    digit_map,
    features_of,
    gradient_times_input,
    layer_outputs,
    linear_contributions,
    nearest_digits,
    occlusion_map,
    pca,
    penultimate_features,
    score_gradient,
    tsne,
)
from mnist_core.models import build_model
from mnist_core.pictures import digits_as_braille
from mnist_core.stores import ComputedOnce
from tests.helpers import button, copy_workspace, open_page


def digit_of(sample_dataset, index: int = 0) -> np.ndarray:
    (images, _labels), _test = sample_dataset
    return images[index] / 255.0


def randomised_linear_model(seed: int = 0):
    """A linear model with random (not all-zero) weights and biases, as after some training."""
    model = build_model(TrainConfig())
    rng = np.random.default_rng(seed)
    layer = model.get_layer("linear_softmax")
    layer.W.assign(rng.normal(size=layer.W.shape).astype(np.float32) * 0.1)
    layer.b.assign(rng.normal(size=layer.b.shape).astype(np.float32))
    return model


def test_the_linear_contribution_maps_add_up_to_each_score_minus_its_bias(sample_dataset):
    model, image = randomised_linear_model(), digit_of(sample_dataset)
    layer = model.get_layer("linear_softmax")
    contributions = linear_contributions(layer.W.numpy(), image)
    assert contributions.shape == (10, 28, 28)
    scores = layer_outputs(model, image)[-1].values
    np.testing.assert_allclose(contributions.sum(axis=(1, 2)), scores - layer.b.numpy(), rtol=1e-4, atol=1e-4)
    # Blank paper casts no vote: a pixel of value 0 contributes 0 to every digit.
    assert np.all(contributions[:, image == 0] == 0)
    # Gradient x input is the same map for the linear model: its gradient is the column of W.
    np.testing.assert_allclose(gradient_times_input(score_gradient(model, image, 7), image), contributions[7], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("filters, hidden_units", [(8, 32), (16, 64)])
def test_the_cnn_s_feature_maps_have_the_shapes_of_its_layers(sample_dataset, filters, hidden_units):
    model = build_model(TrainConfig.for_model("cnn", cnn_filters=filters, hidden_units=hidden_units, dropout=0.25))
    outputs = layer_outputs(model, digit_of(sample_dataset))
    assert [(output.kind, output.values.shape) for output in outputs] == [
        ("convolution", (28, 28, filters)), ("pooling", (14, 14, filters)),
        ("convolution", (14, 14, 2 * filters)), ("pooling", (7, 7, 2 * filters)),
        ("dense", (hidden_units,)), ("output", (10,))]
    assert all(np.all(output.values >= 0) for output in outputs[:-1])  # after ReLU (and pooling of ReLU maps)
    # Each layer's output is what the model itself computes: the last is exactly its scores.
    np.testing.assert_allclose(outputs[-1].values, model(digit_of(sample_dataset)[np.newaxis], training=False)[0],
                               rtol=1e-5, atol=1e-5)


def test_the_mlp_shows_each_hidden_layer_and_the_penultimate_features_are_its_last(sample_dataset):
    config = TrainConfig.for_model("mlp", hidden_layers=2, hidden_units=48, dropout=0.2)
    model = build_model(config)
    image = digit_of(sample_dataset)
    outputs = layer_outputs(model, image)
    assert [(output.name, output.kind, output.values.shape) for output in outputs] == [
        ("hidden_1", "dense", (48,)), ("hidden_2", "dense", (48,)), ("output", "output", (10,))]
    features = penultimate_features(model, image[np.newaxis])
    np.testing.assert_allclose(features[0], outputs[1].values, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(features_of(outputs), outputs[1].values)  # the page's, from the same pass
    # The linear model has no hidden layer: its features are its ten scores.
    linear = randomised_linear_model()
    np.testing.assert_allclose(penultimate_features(linear, image[np.newaxis])[0], layer_outputs(linear, image)[-1].values,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(features_of(layer_outputs(linear, image)), layer_outputs(linear, image)[-1].values)


def test_saliency_is_zero_where_a_pixel_cannot_matter(sample_dataset):
    image = digit_of(sample_dataset)
    # The linear model with no weight on the top four rows of pixels: they cannot change any score.
    linear = randomised_linear_model()
    weights = linear.get_layer("linear_softmax").W.numpy().reshape(28, 28, 10)
    weights[:4] = 0
    linear.get_layer("linear_softmax").W.assign(weights.reshape(784, 10))
    # The MLP with no connection from the left six columns of pixels to its first hidden layer.
    mlp = build_model(TrainConfig.for_model("mlp", hidden_units=32))
    kernel = mlp.get_layer("hidden_1").kernel.numpy().reshape(28, 28, 32)
    kernel[:, :6] = 0
    mlp.get_layer("hidden_1").kernel.assign(kernel.reshape(784, 32))
    for model, cannot_matter in ((linear, np.s_[:4, :]), (mlp, np.s_[:, :6])):
        for digit in (0, 3, 9):
            saliency = score_gradient(model, image, digit)
            assert saliency.shape == (28, 28)
            assert np.all(saliency[cannot_matter] == 0)
            assert np.abs(saliency).max() > 0  # and not zero everywhere: the other pixels matter
    # Gradient x input is zero on blank paper, for any model.
    cnn = build_model(TrainConfig.for_model("cnn", cnn_filters=8, hidden_units=32))
    assert np.all(gradient_times_input(score_gradient(cnn, image, 5), image)[image == 0] == 0)


def test_occluding_a_blank_area_changes_nothing_and_covering_the_ink_does(sample_dataset):
    image = digit_of(sample_dataset).copy()
    image[:10, :10] = 0  # a blank corner, whatever the digit
    model = build_model(TrainConfig.for_model("cnn", cnn_filters=8, hidden_units=32))
    digit = int(np.argmax(model(image[np.newaxis], training=False)))
    drops = occlusion_map(model, image, digit)
    assert drops.shape == (28, 28)
    # A 5x5 square centred on (row, column) with row, column <= 7 lies inside the blank 10x10 corner.
    assert np.abs(drops[:8, :8]).max() < 1e-6
    assert np.abs(drops).max() > 1e-4
    # A grey patch is new ink: on the same blank corner it changes the answer.
    assert np.abs(occlusion_map(model, image, digit, fill=0.5)[:8, :8]).max() > 1e-6


def test_the_projections_are_deterministic_with_a_seed():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, 16)) * 5
    features = (centres[rng.integers(0, 4, 200)] + rng.normal(size=(200, 16))).astype(np.float32)
    first, again = pca(features), pca(features.copy())
    np.testing.assert_array_equal(first.coordinates, again.coordinates)
    assert first.coordinates.shape == (200, 2) and first.explained[0] >= first.explained[1] > 0
    # A digit placed on the axes afterwards lands where it would have been among them.
    np.testing.assert_allclose(first.place(features[:3]), first.coordinates[:3], rtol=1e-6, atol=1e-6)
    shares = []
    embedding = tsne(features, seed=3, progress=shares.append)
    np.testing.assert_array_equal(embedding, tsne(features, seed=3))
    assert embedding.shape == (200, 2) and not np.allclose(embedding, tsne(features, seed=4))
    assert shares == sorted(shares) and shares[-1] == 1.0 and len(shares) >= 10  # a progress bar that fills
    # The linear model before training scores every digit 0: its map is one point, without an error.
    assert np.all(tsne(np.zeros((200, 10))) == 0) and np.all(pca(np.zeros((200, 10))).coordinates == 0)


def test_an_embedding_is_computed_once_per_run_and_epoch_then_kept(sample_dataset):
    (images, _labels), _test = sample_dataset
    model = build_model(TrainConfig.for_model("mlp", hidden_units=32))
    store, computed = ComputedOnce(max_kept=2), []

    def compute(key):
        def embedding():
            computed.append(key)
            time.sleep(0.2)  # long enough for the other threads to ask while it is being computed
            return digit_map(model, images[:300])
        return embedding

    # Four sessions ask for the same run and epoch at once: one computation, one shared map.
    maps = []
    threads = [threading.Thread(target=lambda: maps.append(store.get(("run", 3), compute(("run", 3))))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert computed == [("run", 3)] and all(found is maps[0] for found in maps)
    assert maps[0].features.shape == (300, 32) and maps[0].projection.coordinates.shape == (300, 2)
    assert store.get(("run", 3), compute(("run", 3))) is maps[0] and computed == [("run", 3)]
    # Another epoch is another map; beyond max_kept the least recently used one is dropped.
    store.get(("run", 4), compute(("run", 4)))
    store.get(("run", 5), compute(("run", 5)))
    assert store.peek(("run", 3)) is None and store.peek(("run", 5)) is not None
    # A computation that fails keeps nothing, and the next request tries again.
    # A budget in bytes too: a big value pushes the older ones out, and is kept itself.
    by_size = ComputedOnce(max_kept=10, max_bytes=1000)
    by_size.get("small", lambda: np.zeros(100, np.float32))  # 400 bytes
    by_size.get("big", lambda: np.zeros(200, np.float32))    # 800 bytes: 1,200 in all is over the budget
    assert by_size.peek("small") is None and by_size.peek("big") is not None
    by_size.get("huge", lambda: np.zeros(1000, np.float32))
    assert by_size.peek("huge") is not None and by_size.peek("big") is None
    with pytest.raises(ZeroDivisionError):
        store.get(("run", 6), lambda: 1 / 0)
    assert store.get(("run", 6), lambda: "computed") == "computed"


def test_a_digit_s_nearest_neighbours_are_nearest_first():
    features = np.array([[0.0, 0.0], [5.0, 5.0], [1.0, 0.0], [0.0, 2.0], [9.0, 9.0]])
    assert list(nearest_digits(np.array([0.1, 0.0]), features, count=3)) == [0, 2, 3]


def test_a_digit_in_braille_shows_its_ink_and_nothing_else(sample_dataset):
    (images, _labels), _test = sample_dataset
    pictures = digits_as_braille(images[:5] / 255.0)
    assert len(pictures) == 5
    lines = pictures[0].split("<br>")
    assert len(lines) == 6 and all(len(line) == 12 for line in lines)  # the middle 24x24: 6 lines of 12 characters
    assert all(0x2800 <= ord(character) <= 0x28FF for line in lines for character in line)
    assert any(character != "\u2800" for line in lines for character in line)
    assert set(digits_as_braille(np.zeros((28, 28)))[0].replace("<br>", "")) == {"\u2800"}
    single = np.zeros((28, 28))
    single[2 + 5, 2 + 3] = 1.0  # in the middle 24x24: row 5 = the second dot row of line 2; column 3 = the right dots of character 2
    lines = digits_as_braille(single)[0].split("<br>")
    assert lines[1][1] == chr(0x2800 | 0x10)
    assert set(lines[0] + lines[1][0] + lines[1][2:] + "".join(lines[2:])) == {"\u2800"}


# -- the page ----------------------------------------------------------------------------------------

def image_captions(app) -> list[str]:
    return [image.proto.imgs[0].caption for image in app.get("image")]


def texts(app) -> list[str]:
    return [element.value for element in (*app.markdown, *app.caption, *app.subheader)]


def values_of(array) -> np.ndarray:
    """A Plotly spec's array: a list, or numpy's bytes in base64 (Plotly's "bdata")."""
    import base64

    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
    return np.asarray(array)


def map_charts(app) -> list[dict]:
    """The maps of all digits on the page (the charts with a trace per digit), as Plotly specs."""
    import json

    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return [chart for chart in charts if any(trace.get("name") == "read wrong" for trace in chart["data"])]


def open_inside_on_a_copy(template, runs_root, before_opening=lambda: None):
    """The Inside page opened on a copy of `template`'s run (trained on the Train page: train_page_template)."""
    workspace = copy_workspace(template, runs_root)
    before_opening()
    app = open_page("pages/inside.py", workspace=workspace)
    assert not app.exception and not app.error, [error.value for error in app.error]
    return app


@pytest.mark.pages
@pytest.mark.parametrize("model_name", ["linear", "mlp", "cnn"])
def test_the_inside_page_follows_a_test_digit_through_each_model(runs_root, train_page_template, model_name):
    app = open_inside_on_a_copy(train_page_template(model_name, epochs=2), runs_root)
    assert app.select_slider(key=next(key for key in app.session_state if str(key).startswith("inside_epoch_"))).value == 2
    assert "Looking at test digit 0 (labelled 7)." in texts(app)
    assert [metric.label for metric in app.metric] == ["The model reads"]
    shown_texts = " ".join(texts(app))
    if model_name == "linear":
        captions = [caption for caption in image_captions(app) if "votes" in caption]
        assert len(captions) == 10 and captions[0].startswith("0: votes")
        for caption in captions:  # votes + bias = score, as printed
            votes, bias, score = (float(part.split()[-1]) for part in caption.split(": ", 1)[1].split(", "))
            assert abs(votes + bias - score) < 0.011
    elif model_name == "mlp":
        assert "**Hidden layer 1**: 256 units" in shown_texts and "Its most active units, and what each has learned to look for" in shown_texts
        assert sum(caption.startswith("unit ") for caption in image_captions(app)) >= 1
    else:
        for part in ("**Convolution 1, after its ReLU**: 16 feature maps of 28x28", "**Max pooling 1**: 16 maps of 14x14",
                     "**Convolution 2, after its ReLU**: 32 feature maps of 14x14", "**Max pooling 2**: 32 maps of 7x7",
                     "**Hidden layer 1**: 128 units"):
            assert part in shown_texts
    assert "What it looked at" in shown_texts and "**Occlusion**" in shown_texts
    first, last = map_charts(app)  # the random start beside the last epoch
    assert first["layout"]["title"]["text"] == "At the random start (epoch 0)"
    assert last["layout"]["title"]["text"].startswith("After epoch 2: ")
    digits_on_the_map = sum(len(values_of(trace["x"])) for trace in last["data"] if trace["name"] in list("0123456789"))
    assert digits_on_the_map == 2000
    assert last["data"][-1]["name"] == "this digit" and last["data"][-1]["marker"]["symbol"] == "star"  # placed by PCA
    assert sum(caption.startswith("label ") for caption in image_captions(app)) == 8  # the neighbours

    # Another digit, another class explained, an earlier epoch: every view follows.
    app.number_input(key="inside_test_number").set_value(2).run()
    assert "Looking at test digit 2 (labelled 1)." in texts(app)
    explain = next(box for box in app.selectbox if box.label == "Explain the score of digit")
    explain.set_value(4).run()
    assert any(text.startswith("**Saliency**: how the score of 4 would change") for text in texts(app))
    app.select_slider(key=next(key for key in app.session_state if str(key).startswith("inside_epoch_"))).set_value(0).run()
    assert not app.exception
    (only,) = map_charts(app)
    assert only["layout"]["title"]["text"] == "At the random start (epoch 0)"


@pytest.mark.pages
def test_a_digit_from_the_map_the_draw_page_or_an_exam_mistake_opens_inside(runs_root, train_page_template):
    app = open_inside_on_a_copy(train_page_template("linear", epochs=1), runs_root)
    # A click on the map chooses a validation digit (the chart's callback sets this choice).
    app.session_state["inside_digit"] = ("validation", 5, app.selectbox(key="inside_run_en").value.run_id)
    app.run()
    assert any(text.startswith("Looking at validation digit 5 (labelled ") and text.endswith("picked on the map.")
               for text in texts(app))
    last = map_charts(app)[-1]
    assert last["data"][-1]["marker"]["symbol"] == "circle-open"  # circled where it is, not placed again
    # The digit drawn on the Draw page.
    drawn = np.zeros((28, 28), np.float32)
    drawn[4:24, 13:15] = 1.0  # a "1"
    app.session_state["drawn_digit"] = drawn
    app.run()
    button(app, "The digit you drew").click().run()
    assert "Looking at the digit you drew on the Draw page." in texts(app)
    # An exam mistake's "Inside" button opens this page on that test digit.
    app.switch_page("pages/exam.py").run()
    button(app, "Sit the final exam").click().run()
    inside = next(button for button in app.button if button.key and button.key.startswith("exam_inside_"))
    index = int(inside.key.rsplit("_", 1)[1])
    inside.click().run()
    assert not app.exception
    assert app.title[0].value == "Look inside the model"
    assert any(text.startswith(f"Looking at test digit {index} (labelled ") for text in texts(app))
    assert app.warning and app.warning[0].value.startswith("Wrong: its label is")


@pytest.mark.pages
def test_the_t_sne_maps_are_drawn_on_request_with_progress(runs_root, train_page_template):
    app = open_inside_on_a_copy(train_page_template("mlp", epochs=1), runs_root)
    pca_map = map_charts(app)[-1]
    app.radio(key="inside_projection").set_value("tsne").run()
    assert not map_charts(app)  # not drawn until asked for: it takes seconds
    button(app, "Draw the t-SNE maps").click().run()
    assert not app.exception
    first, last = map_charts(app)
    assert not np.allclose(values_of(last["data"][0]["x"]), values_of(pca_map["data"][0]["x"]))
    assert "t-SNE arranges only the digits it was given" in " ".join(texts(app))
    app.run()  # computed once: the next page run finds them at once, without the button
    assert len(map_charts(app)) == 2


@pytest.mark.pages
def test_a_run_saved_before_checkpoints_is_looked_inside_at_its_final_weights(runs_root, train_page_template):
    import shutil

    def remove_the_checkpoints():
        (checkpoints,) = runs_root.glob("*/*/checkpoints")
        shutil.rmtree(checkpoints)

    app = open_inside_on_a_copy(train_page_template("linear", epochs=1), runs_root, before_opening=remove_the_checkpoints)
    assert any("kept only its final weights" in caption.value for caption in app.caption)
    (only,) = map_charts(app)
    assert only["layout"]["title"]["text"] == "Its final weights"


@pytest.mark.pages
def test_a_damaged_checkpoint_is_named_and_the_other_epochs_still_open(runs_root, train_page_template):
    def damage_epochs_0_and_1():
        (folder,) = runs_root.glob("*/*/checkpoints")
        for epoch in (0, 1):
            (folder / f"epoch-000{epoch}.npz").unlink()
            (folder / f"epoch-000{epoch}.npz").write_bytes(b"not a zip")  # a new file: a hard link's target stays intact

    app = open_inside_on_a_copy(train_page_template("linear", epochs=2), runs_root, before_opening=damage_epochs_0_and_1)
    slider = app.select_slider(key=next(key for key in app.session_state if str(key).startswith("inside_epoch_")))
    slider.set_value(1).run()
    assert not app.exception
    assert any(error.value.startswith("This epoch's weights cannot be read") and "epoch-0001.npz" in error.value
               for error in app.error)
    slider.set_value(2).run()  # the last epoch opens, its map alone: the random start's weights are damaged too
    assert not app.exception and not app.error
    assert any("The random start's weights cannot be read" in warning.value for warning in app.warning)
    (only,) = map_charts(app)
    assert only["layout"]["title"]["text"].startswith("After epoch 2: ")


@pytest.mark.pages
def test_weights_gone_to_nan_are_named_on_every_page_that_reads_them(runs_root, train_page_template):
    """NaN weights would show as "NaN%" and "+nan" without a word, and fail Inside's map with the generic
    error (LinAlgError in PCA). The weights reader refuses numbers that are not finite, so each page
    names the file instead."""
    workspace = copy_workspace(train_page_template("linear", epochs=1), runs_root)
    for weights_file in runs_root.glob("*/*/**/*.npz"):
        arrays = dict(np.load(weights_file))
        weights_file.unlink()  # a file of its own: the hard links to it are left alone
        np.savez(weights_file, **{name: np.full_like(values, np.nan) for name, values in arrays.items()})
    for page in ("pages/exam.py", "pages/inside.py", "pages/replay.py", "pages/draw.py", "pages/robustness.py"):
        visit = open_page(page, workspace=workspace)
        assert not visit.exception, page
        assert any("not finite (NaN or infinity)" in error.value for error in visit.error), page
        shown = " ".join(element.value for kind in ("markdown", "caption", "metric") for element in visit.get(kind)
                         if isinstance(element.value, str))
        assert "nan%" not in shown.lower() and "+nan" not in shown.lower(), page
