"""Canvas preprocessing (drawn digit -> MNIST-style input) and the final exam, on real data."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_core import TrainConfig, predict_probabilities, train
from mnist_core.canvas import preprocess_canvas, stroke_width
from mnist_core.exam import linear_weight_images, sit_exam, validation_verdict
from mnist_core.models import build_model, evaluate


def canvas_with(draw, size=280) -> np.ndarray:
    """An RGBA canvas like the page's (white ink on opaque black) with `draw(pencil)` applied."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    draw(ImageDraw.Draw(image))
    return np.asarray(image)


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, columns = np.flatnonzero((image > 0.1).any(axis=1)), np.flatnonzero((image > 0.1).any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


def test_a_blank_canvas_gives_no_input():
    digit, steps = preprocess_canvas(canvas_with(lambda pencil: None))
    assert digit is None and steps.grey.shape == (280, 280)
    transparent = np.zeros((280, 280, 4), np.uint8)
    transparent[..., :3] = 255  # white but fully transparent: nothing was drawn
    assert preprocess_canvas(transparent)[0] is None


@pytest.mark.parametrize("left, top, width, height, pen", [
    (10, 10, 40, 90, 8),        # small, top-left corner
    (150, 120, 110, 150, 22),   # large, bottom-right
    (100, 30, 40, 220, 16),     # tall and thin, like a "1"
    (20, 160, 240, 100, 12),    # wide (flatter than 0.35 is a dash, refused)
])
def test_a_digit_anywhere_at_any_size_comes_out_centred_with_its_longer_side_20_px(left, top, width, height, pen):
    canvas = canvas_with(lambda pencil: pencil.rectangle((left, top, left + width, top + height), outline="white", width=pen))
    digit, steps = preprocess_canvas(canvas)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0 and digit.max() > 0.5
    assert max(ink_box(digit)) in (19, 20, 21)
    row, column = centre_of_mass(digit)
    assert abs(row - 13.5) <= 1.0 and abs(column - 13.5) <= 1.0
    assert steps.cropped.shape == (height + 1, width + 1)


def test_the_naive_resize_leaves_a_small_corner_digit_small_and_off_centre():
    canvas = canvas_with(lambda pencil: pencil.line((30, 20, 30, 80), fill="white", width=10))
    naive, _ = preprocess_canvas(canvas, method="naive")
    mnist_style, _ = preprocess_canvas(canvas, method="mnist")
    assert max(ink_box(naive)) < 10 and max(ink_box(mnist_style)) >= 19
    assert centre_of_mass(naive)[1] < 6


@pytest.mark.parametrize("method", ["mnist", "naive"])
def test_an_all_ink_canvas_gives_no_input_and_says_why(method):
    digit, steps = preprocess_canvas(canvas_with(lambda pencil: pencil.rectangle((0, 0, 279, 279), fill="white")), method)
    assert digit is None and "More than half of the canvas is ink" in steps.problem


def test_a_big_bold_digit_gets_an_answer_not_a_crash():
    model = build_model(TrainConfig.for_model("linear"))
    digit, steps = preprocess_canvas(canvas_with(lambda pencil: pencil.ellipse((10, 5, 270, 275), outline="white", width=40)))
    assert steps.problem is None
    probabilities = predict_probabilities(model, digit)
    assert probabilities.shape == (1, 10) and np.isclose(probabilities.sum(), 1.0)


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        preprocess_canvas(np.zeros((28, 28), np.uint8), method="magic")


def test_the_exam_counts_every_test_digit_once(sample_dataset):
    training = train(TrainConfig(epochs=2, batch_size=50), sample_dataset)
    list(training)
    (_, _), (test_images, test_labels) = sample_dataset
    result = sit_exam(training.model, test_images, test_labels)
    assert result.confusion.sum() == len(test_labels)
    assert result.confusion.sum(axis=1).tolist() == np.bincount(test_labels, minlength=10).tolist()
    loss, accuracy = evaluate(training.model, test_images, test_labels)
    assert result.accuracy == pytest.approx(accuracy) and result.loss == pytest.approx(loss, rel=1e-4)
    assert np.trace(result.confusion) == round(accuracy * len(test_labels))
    np.testing.assert_allclose(result.per_class_accuracy, np.diag(result.confusion) / np.bincount(test_labels))
    mistakes = result.mistakes(test_labels)
    assert len(mistakes) == len(test_labels) - np.trace(result.confusion)
    assert np.all(np.diff(result.confidences[mistakes]) <= 0)  # most confident mistakes first
    true_digit, predicted_digit = np.unravel_index(np.argmax(result.confusion - np.diag(np.diag(result.confusion))), (10, 10))
    cell = result.mistakes(test_labels, int(true_digit), int(predicted_digit))
    assert len(cell) == result.confusion[true_digit, predicted_digit]
    assert np.all(test_labels[cell] == true_digit) and np.all(result.predictions[cell] == predicted_digit)


def test_the_linear_model_shows_its_weights_as_ten_images():
    linear = build_model(TrainConfig.for_model("linear"))
    assert linear_weight_images(linear).shape == (10, 28, 28)
    assert linear_weight_images(build_model(TrainConfig.for_model("cnn"))) is None


@pytest.mark.parametrize("method", ["mnist", "naive"])
@pytest.mark.parametrize("size", [1, 22, 40])
def test_a_dot_or_a_speck_is_not_a_digit(method, size):
    """One click (a dot the pen's width across), scaled up, is a blob the models read confidently as a digit: refused."""
    canvas = canvas_with(lambda pencil: pencil.ellipse((120, 120, 120 + size, 120 + size), fill="white"))
    digit, steps = preprocess_canvas(canvas, method)
    assert digit is None
    assert size < 4 or "not a digit" in steps.problem  # a one-pixel speck is simply a blank canvas


@pytest.mark.parametrize("method", ["mnist", "naive"])
@pytest.mark.parametrize("length", [90, 150, 250])
def test_a_lone_dash_is_not_a_digit(method, length):
    """A horizontal dash, stretched to 20 px, reads confidently as a digit: refused. No MNIST digit is that flat."""
    canvas = canvas_with(lambda pencil: pencil.line((20, 140, 20 + length, 140), fill="white", width=22))
    digit, steps = preprocess_canvas(canvas, method)
    assert digit is None and "dash, not a digit" in steps.problem


def test_a_wide_digit_is_still_read():
    """A seven drawn wide (200 px across, 110 px tall) is no dash."""
    canvas = canvas_with(lambda pencil: pencil.line((40, 80, 240, 80, 120, 190), fill="white", width=22))
    digit, steps = preprocess_canvas(canvas)
    assert digit is not None and steps.problem is None


def test_a_small_but_real_digit_is_still_read():
    canvas = canvas_with(lambda pencil: pencil.line((140, 100, 140, 150), fill="white", width=8))  # a "1" 50 px tall
    digit, steps = preprocess_canvas(canvas)
    assert digit is not None and steps.problem is None


@pytest.mark.parametrize("height", [50, 80, 140, 200])
def test_a_digit_drawn_small_has_strokes_as_thin_as_mnist_s(height, sample_dataset):
    """The fixed 22 px pen, scaled up with a small digit, would make its strokes very thick. At every size the
    model's input has strokes within the middle 80% of MNIST's own widths (measured the same way)."""
    (train_images, _), _ = sample_dataset
    mnist_widths = [stroke_width(image / 255.0) for image in train_images]
    thinnest, thickest = np.percentile(mnist_widths, [10, 90])
    top = 140 - height // 2
    seven = canvas_with(lambda pencil: pencil.line((100, top, 100 + height * 0.6, top, 110, top + height), fill="white",
                                                   width=22, joint="curve"))
    digit, steps = preprocess_canvas(seven)
    assert thinnest <= stroke_width(digit) <= thickest, (stroke_width(digit), thinnest, thickest)
    assert (steps.thinned_by > 0) == (height < 100)  # a digit of about full height keeps its strokes as drawn
    assert max(ink_box(digit)) in (19, 20, 21)


def test_the_server_keeps_the_most_recent_exams_per_workspace_and_run():
    from ui.exam_results import ExamResults

    exams = ExamResults(max_kept=2)
    exams.put(("class-a", "run-1", 5, "completed"), "first")
    exams.put(("class-a", "run-2", 5, "completed"), "second")
    assert exams.get(("class-b", "run-1", 5, "completed")) is None  # another workspace's key finds nothing
    assert exams.get(("class-a", "run-1", 6, "completed")) is None  # the run trained on: its old exam is stale
    assert exams.get(("class-a", "run-1", 5, "completed")) == "first"  # read last: kept over "second"
    exams.put(("class-a", "run-3", 5, "completed"), "third")
    assert exams.get(("class-a", "run-2", 5, "completed")) is None
    assert exams.get(("class-a", "run-1", 5, "completed")) == "first"


@pytest.mark.parametrize("height, pen, triangle_width", [(90, 22, 0.35), (80, 18, 0.3), (188, 40, 0.45)])
def test_thinning_a_bold_closed_four_keeps_its_stem_and_bar(height, pen, triangle_width):
    """A closed 4 drawn with a bold pen (benchmarks/drawn_digits.py draws some) fills its triangle, and
    thinning guided by the filled triangle's width would go on until the stem and the bar were wiped
    out, leaving a slash, no longer a 4. A pass takes a pixel off each side of every stroke, so
    the ink's box shrinks by about that much a pass, and by far more when a stroke is lost."""
    top, left = 140 - height // 2, 60

    def closed_four(pencil):
        stem_x, bar_y, bar_end = left + height * triangle_width, top + height * 0.62, left + height * 0.6
        pencil.line((stem_x, top + height, stem_x, top, left, bar_y, bar_end, bar_y), fill="white", width=pen, joint="curve")
        for x, y in ((stem_x, top + height), (bar_end, bar_y)):  # a round pen's ends
            pencil.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill="white")

    digit, steps = preprocess_canvas(canvas_with(closed_four))
    assert digit is not None
    drawn_height, drawn_width = ink_box(steps.grey)
    kept_height, kept_width = np.array(steps.cropped.shape) + 2 * steps.thinned_by
    assert kept_height >= 0.95 * drawn_height and kept_width >= 0.95 * drawn_width, (steps.cropped.shape, steps.thinned_by)


@pytest.mark.parametrize("validation, test, agrees", [(0.975, 0.972, True), (0.975, 0.985, True), (0.975, 0.90, False),
                                                      (0.80, 0.95, False)])
def test_the_exam_calls_validation_an_honest_guide_only_when_the_scores_agree(validation, test, agrees):
    """Both languages say what the numbers show: neither calls validation reliable, as a fact, when the
    two scores are points apart."""
    verdict = validation_verdict(validation, test)
    english, chinese = verdict.render("en"), verdict.render("zh")
    assert ("honest guide" in english) == agrees
    assert ("可靠" in chinese) == agrees
    if not agrees:
        assert ("lower" in english) == (test < validation) and ("higher" in english) == (test > validation)


def test_the_server_counts_the_exams_each_run_has_sat():
    from ui.exam_results import ExamResults

    exams = ExamResults(max_kept=2)
    result = "an exam"
    for stamp in (1, 1, 2):  # the same run sat twice, then again after more epochs
        exams.put(("alice", "run-a", stamp), result)
    exams.put(("bob", "run-a", 1), result)
    assert exams.times_sat("alice", "run-a") == 3 and exams.times_sat("bob", "run-a") == 1
    assert exams.times_sat("alice", "run-b") == 0
