"""The Exam, Replay and Overview pages on Fashion-MNIST, with Streamlit's AppTest and the real engine and
data: the Exam marks a run on its own dataset's test set and names the classes in the confusion matrix,
the bars and the gallery; the Replay names them in its confusion matrix and under its pictures; the
Overview follows the sidebar's dataset and shows the study note's table of Keras' datasets. A run saved
before the dataset setting still opens on the Exam as an MNIST run.

The runs are written by the store's own recorder with random weights (tests/helpers.py's
run_written_with_numpy: real models, no training), which is all these pages need to mark and draw.
Their made-up curves reach a best validation accuracy of 0.58 + 0.1 x epochs, so the run with more
epochs is listed first on the Exam. Fashion-MNIST's test set holds exactly 1,000 pictures of each
class, MNIST's 980 zeros, 1,135 ones..., so a confusion matrix's row totals tell which test set was marked."""

import json
import re

import numpy as np
import pytest

from mnist_core import TrainConfig
from mnist_core.data import DATASET_NAMES, MNIST, dataset_facts
from mnist_core.keras_datasets import KERAS_DATASETS
from mnist_core.runs import new_workspace
from tests.helpers import button, open_page, run_written_with_numpy, shown

pytestmark = pytest.mark.pages

FASHION_NAMES = list(dataset_facts("fashion_mnist").class_names)  # English, as the tests read the pages
DIGITS = [str(digit) for digit in range(10)]
KERAS_NAMES = ["boston_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist", "reuters"]


def written_runs(runs_root, *specs) -> str:
    """A new workspace holding a run per (dataset, epochs, name) in `specs`, each a linear model: its name."""
    workspace = new_workspace(runs_root)
    for seed, (dataset, epochs, name) in enumerate(specs):
        config = TrainConfig.for_model("linear", dataset=dataset, epochs=epochs, batch_size=50, seed=seed)
        run_written_with_numpy(runs_root, config, workspace=workspace, name=name, seed=seed)
    return workspace


def texts(app) -> list[str]:
    return [shown(element) for element in (*app.markdown, *app.caption, *app.subheader, *app.info, *app.title)]


def image_captions(app) -> list[str]:
    return [image.proto.imgs[0].caption for image in app.get("image")]


def charts(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def confusion_matrix(chart: dict) -> np.ndarray:
    """The counts of a confusion heatmap as drawn: the right answers in one layer, the mistakes in another."""
    right, mistakes = chart["data"][:2]
    return np.array([[a if a is not None else b for a, b in zip(*rows)] for rows in zip(right["z"], mistakes["z"])])


def class_ticks(chart: dict) -> tuple[list[str], list[str]]:
    return list(chart["layout"]["xaxis"]["ticktext"]), list(chart["layout"]["yaxis"].get("ticktext", []))


def sat_exam(app):
    """Press the Exam's one primary button (in any language) and return the page."""
    (sit,) = [found for found in app.button if found.proto.type == "primary"]
    return sit.click().run()


# -- Exam ----------------------------------------------------------------------------------------------

def test_the_exam_marks_a_fashion_run_on_fashion_mnists_test_set_and_names_the_clothes(runs_root):
    workspace = written_runs(runs_root, ("mnist", 1, "digits"), ("fashion_mnist", 3, "clothes"))
    app = open_page("pages/exam.py", workspace=workspace)
    assert not app.exception and not app.error, [error.value for error in app.error]
    picker = app.selectbox(key="exam_run_en")
    assert picker.value.config.dataset == "fashion_mnist"  # the best run first
    assert any(" · Fashion-MNIST · " in option for option in picker.options)  # each run named with its dataset
    assert any(" · MNIST · " in option for option in picker.options)
    assert any("10,000 pictures of clothes" in text for text in texts(app))
    assert "What each class looks for" in texts(app)  # the linear model's templates, before the exam
    assert image_captions(app) == FASHION_NAMES
    button(app, "Sit the final exam on the 10,000 test pictures").click().run()
    assert not app.exception and not app.error
    confusion, per_class = charts(app)[:2]
    cells = confusion_matrix(confusion)
    assert cells.sum(axis=1).tolist() == [1000] * 10  # Fashion-MNIST's test set, not MNIST's
    assert class_ticks(confusion) == (FASHION_NAMES, FASHION_NAMES)
    assert confusion["layout"]["xaxis"]["title"]["text"] == "predicted class"
    assert list(per_class["layout"]["xaxis"]["ticktext"]) == FASHION_NAMES
    assert per_class["layout"]["title"]["text"].startswith("Accuracy per class")
    assert "The pictures it got wrong" in texts(app)
    # The gallery names the classes: its filters, its caption and each picture's caption.
    true_class, predicted_class = app.selectbox(key="exam_true_digit"), app.selectbox(key="exam_predicted_digit")
    assert (true_class.label, predicted_class.label) == ("True class", "Predicted class")
    assert true_class.options == ["any", *FASHION_NAMES]
    gallery = [caption for caption in image_captions(app) if caption.startswith("true ")]
    assert gallery
    for caption in gallery:
        found = re.fullmatch(r"true (.+), said (.+) \(\d+%\)", caption)
        assert found and found[1] in FASHION_NAMES and found[2] in FASHION_NAMES and found[1] != found[2], caption
    true_class.set_value(6).run()
    predicted_class.set_value(0).run()
    assert any(re.fullmatch(r"[\d,]+ mistakes? on a true Shirt read as T-shirt/top\..*", text) for text in texts(app))
    assert all(caption.startswith("true Shirt, said T-shirt/top (") for caption in image_captions(app)
               if caption.startswith("true "))
    assert not app.exception


def test_the_exam_and_the_replay_name_fashions_classes_in_chinese(runs_root):
    workspace = written_runs(runs_root, ("fashion_mnist", 2, "clothes"))
    sat_exam(open_page("pages/exam.py", workspace=workspace))  # kept by the server: a refresh finds it again
    app = open_page("pages/exam.py", workspace=workspace, query={"lang": "zh"})
    assert not app.exception and not app.error
    confusion = charts(app)[0]
    assert confusion_matrix(confusion).sum(axis=1).tolist() == [1000] * 10
    ticks, _rows = class_ticks(confusion)
    assert "短靴" in ticks and "Ankle boot" not in ticks
    app.switch_page("pages/replay.py").run()
    assert not app.exception and not app.error
    (matrix,) = [chart for chart in charts(app) if chart["data"][0]["type"] == "heatmap"]
    assert "短靴" in class_ticks(matrix)[0]


# -- Replay --------------------------------------------------------------------------------------------

def test_the_replay_of_a_fashion_run_names_the_clothes_in_its_matrix_and_under_its_pictures(runs_root):
    workspace = written_runs(runs_root, ("mnist", 1, "digits"), ("fashion_mnist", 2, "clothes"))
    app = open_page("pages/replay.py", workspace=workspace)
    assert not app.exception and not app.error, [error.value for error in app.error]
    assert app.selectbox(key="replay_run_choice_en").value.config.dataset == "fashion_mnist"  # the newest first
    (matrix,) = [chart for chart in charts(app) if chart["data"][0]["type"] == "heatmap"]
    assert class_ticks(matrix) == (FASHION_NAMES, FASHION_NAMES)
    validation_counts = confusion_matrix(matrix).sum(axis=1)
    assert validation_counts.sum() == 6000 and validation_counts.tolist() == [600] * 10  # stratified, of 6,000 each
    assert "Twenty pictures, as this epoch reads them" in texts(app)
    assert any(text.endswith("of the 6,000 validation pictures read right at this epoch.") for text in texts(app))
    answers = [caption for caption in image_captions(app) if caption[:2] in ("✓ ", "✗ ")]
    assert len(answers) == 20
    assert all(re.fullmatch(r"[✓✗] (.+) · \d+%", caption)[1] in FASHION_NAMES for caption in answers)
    app.button(key="replay_next").click().run()  # epoch 1: the run's first checkpoint
    assert not app.exception and not app.error
    assert any(text.startswith("Epoch 1: training accuracy") for text in texts(app))
    (matrix,) = [chart for chart in charts(app) if chart["data"][0]["type"] == "heatmap"]
    assert class_ticks(matrix)[0] == FASHION_NAMES
    # The MNIST run, picked: the digits again.
    app.selectbox(key="replay_run_choice_en").select_index(1).run()
    assert not app.exception and app.selectbox(key="replay_run_choice_en").value.config.dataset == "mnist"
    (matrix,) = [chart for chart in charts(app) if chart["data"][0]["type"] == "heatmap"]
    assert class_ticks(matrix)[0] == DIGITS
    assert "Twenty digits, as this epoch reads them" in texts(app)


# -- a run saved before the dataset setting -------------------------------------------------------------

def test_a_run_saved_before_the_dataset_setting_opens_on_the_exam_as_an_mnist_run(runs_root):
    workspace = new_workspace(runs_root)
    made = run_written_with_numpy(runs_root, TrainConfig(epochs=2, batch_size=50), workspace=workspace, name="old")
    config_file = made.folder / "config.json"
    config = json.loads(config_file.read_text())
    del config["dataset"]  # as every run saved before the setting
    config_file.write_text(json.dumps(config))
    app = open_page("pages/exam.py", workspace=workspace)
    assert not app.exception and not app.error, [error.value for error in app.error]
    picker = app.selectbox(key="exam_run_en")
    assert picker.value.config.dataset == "mnist" and " · MNIST · " in picker.options[0]
    assert any("10,000 digits that no run has trained on" in text for text in texts(app))
    button(app, "Sit the final exam on the 10,000 test digits").click().run()
    assert not app.exception and not app.error
    confusion = charts(app)[0]
    assert confusion_matrix(confusion).sum(axis=1).tolist() == MNIST.label_counts["y_test"]
    assert class_ticks(confusion) == (DIGITS, DIGITS)
    assert app.selectbox(key="exam_true_digit").label == "True digit"
    assert image_captions(app)[-10:] == [f"digit {digit}" for digit in range(10)]  # the templates, as before


# -- Overview ------------------------------------------------------------------------------------------

def test_the_keras_datasets_are_the_notes_seven_and_the_lab_trains_on_its_own_two():
    assert [dataset.name for dataset in KERAS_DATASETS] == KERAS_NAMES
    assert {dataset.name for dataset in KERAS_DATASETS if dataset.in_lab} == set(DATASET_NAMES)
    counts = {dataset.name: dataset.examples for dataset in KERAS_DATASETS}
    assert counts == {"boston_housing": 506, "cifar10": 60_000, "cifar100": 60_000, "fashion_mnist": 70_000,
                      "imdb": 50_000, "mnist": 70_000, "reuters": 11_228}


def test_the_overview_shows_the_notes_table_of_keras_datasets_in_both_languages():
    app = open_page()
    assert not app.exception and not app.error
    (table,) = app.table
    rows = table.value
    assert rows["Dataset"].tolist() == KERAS_NAMES
    in_lab = dict(zip(rows["Dataset"], rows["In this lab?"]))
    assert in_lab["mnist"].startswith("Yes") and in_lab["fashion_mnist"].startswith("Yes")
    assert all(in_lab[name].startswith("No. ") for name in KERAS_NAMES if name not in ("mnist", "fashion_mnist"))
    assert "regression" in in_lab["boston_housing"] and "classroom server" in in_lab["cifar10"]
    assert "100 classes" in in_lab["cifar100"]
    assert "another kind of model" in in_lab["imdb"] and in_lab["imdb"] == in_lab["reuters"]
    assert dict(zip(rows["Dataset"], rows["Examples"]))["reuters"] == "11,228"
    assert any("load_data()" in text for text in texts(app))
    chinese = open_page(query={"lang": "zh"})
    assert not chinese.exception and not chinese.error
    (table,) = chinese.table
    assert table.value.iloc[:, 0].tolist() == KERAS_NAMES  # Keras' own names, the same in every language


def test_the_overview_follows_the_sidebars_dataset_to_fashion_mnist():
    app = open_page()
    assert {metric.label: metric.value for metric in app.metric}["Training digits"] == "54,000"
    app.selectbox(key="widget_dataset").set_value("fashion_mnist").run()
    assert not app.exception and not app.error, [error.value for error in app.error]
    intro = next(text for text in texts(app) if text.startswith("Teach a computer"))
    assert "Zalando" in intro and "MIT licence" in intro and "70,000" in intro and "28x28 grey" in intro
    assert all(name in intro for name in FASHION_NAMES)
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {"Training pictures": "54,000", "Validation pictures": "6,000", "Test pictures": "10,000"}
    (histograms,) = [chart for chart in charts(app) if chart["data"][0]["type"] == "bar"]
    assert list(histograms["layout"]["xaxis"]["ticktext"]) == FASHION_NAMES
    assert histograms["data"][2]["y"] == [1000] * 10  # Fashion-MNIST's test set: 1,000 of each class
    assert "Some training pictures" in texts(app)
    assert set(image_captions(app)) == set(FASHION_NAMES)
    assert len(app.table) == 1  # the table of Keras' datasets stays
    app.selectbox(key="widget_dataset").set_value("mnist").run()
    assert {metric.label for metric in app.metric} == {"Training digits", "Validation digits", "Test digits"}
    assert "label 7" in image_captions(app)
