"""The Inside, Robustness and Draw pages on Fashion-MNIST, with Streamlit's AppTest and the real engine
and data: a run's own dataset gives the pictures and the names of the classes; the Robustness page
compares runs of one dataset only; the Draw page reads digits and says so to a Fashion-MNIST class.

The runs are written by the store's own recorder with random weights (tests/helpers.py's
run_written_with_numpy: real models, no training), which is all these pages need to draw. Their made-up
curves reach a best validation accuracy of 0.58 + 0.1 x epochs, so the run with more epochs comes first."""

import json

import numpy as np
import pytest

from mnist_core import TrainConfig
from mnist_core.data import dataset_facts
from mnist_core.runs import new_workspace
from tests.helpers import button, open_page, run_written_with_numpy, shown

FASHION_NAMES = list(dataset_facts("fashion_mnist").class_names)  # English, as the tests read the pages


def written_runs(runs_root, *specs) -> str:
    """A new workspace holding a run per (dataset, model, epochs, name) in `specs`: its name."""
    workspace = new_workspace(runs_root)
    for seed, (dataset, model, epochs, name) in enumerate(specs):
        config = TrainConfig.for_model(model, dataset=dataset, epochs=epochs, batch_size=50, seed=seed)
        run_written_with_numpy(runs_root, config, workspace=workspace, name=name, seed=seed)
    return workspace


def texts(app) -> list[str]:
    return [shown(element) for element in (*app.markdown, *app.caption, *app.subheader, *app.info)]


def image_captions(app) -> list[str]:
    return [image.proto.imgs[0].caption for image in app.get("image")]


def charts(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def tick_names(chart: dict) -> list[str]:
    return list(chart["layout"]["xaxis"]["ticktext"])


def drawn_one() -> np.ndarray:
    drawn = np.zeros((28, 28), np.float32)
    drawn[4:24, 13:15] = 1.0  # a "1", as if drawn on the Draw page
    return drawn


# -- Inside --------------------------------------------------------------------------------------------

@pytest.mark.pages
def test_the_inside_page_looks_inside_a_fashion_run_on_its_own_pictures_named_as_clothes(runs_root):
    workspace = written_runs(runs_root, ("fashion_mnist", "linear", 3, "clothes"), ("mnist", "linear", 2, "digits"))
    app = open_page("pages/inside.py", workspace=workspace)
    assert not app.exception and not app.error, [error.value for error in app.error]
    assert app.selectbox(key="inside_run_en").value.config.dataset == "fashion_mnist"  # the best run first
    # Fashion-MNIST's test picture 0 is an ankle boot (label 9); MNIST's is a 7.
    assert "Looking at test picture 0 (labelled Ankle boot)." in texts(app)
    assert app.number_input(key="inside_test_number").label.startswith("Test picture number")
    (metric,) = app.metric
    assert metric.label == "The model reads" and metric.value in FASHION_NAMES
    all_charts = charts(app)
    (bars,) = [chart for chart in all_charts if chart["layout"]["title"]["text"].startswith("Output: the probability of each class")]
    assert tick_names(bars) == FASHION_NAMES
    maps = [chart for chart in all_charts if any(trace.get("name") == "read wrong" for trace in chart["data"])]
    assert len(maps) == 2  # the random start beside the last epoch
    assert {trace["name"] for trace in maps[-1]["data"]} >= set(FASHION_NAMES)
    assert "this picture" in {trace["name"] for trace in maps[-1]["data"]}
    assert "The map of all pictures" in texts(app)
    votes = [caption for caption in image_captions(app) if ": votes " in caption]
    assert [caption.split(": votes")[0] for caption in votes] == FASHION_NAMES
    neighbours = [caption.removeprefix("label ") for caption in image_captions(app) if caption.startswith("label ")]
    assert len(neighbours) == 8 and set(neighbours) <= set(FASHION_NAMES)
    explain = next(box for box in app.selectbox if box.label == "Explain the score of class")
    assert explain.options == FASHION_NAMES
    explain.set_value(7).run()
    assert any(text.startswith("**Saliency**: how the score of Sneaker would change") for text in texts(app))
    # A digit drawn on the Draw page is not offered to a model that reads clothes.
    app.session_state["drawn_digit"] = drawn_one()
    app.run()
    assert not any(button.label == "The digit you drew" for button in app.button)
    # The MNIST run of the same workspace: its own test digits, named as digits.
    app.selectbox(key="inside_run_en").select_index(1).run()
    assert not app.exception and not app.error
    assert app.selectbox(key="inside_run_en").value.config.dataset == "mnist"
    assert "Looking at test digit 0 (labelled 7)." in texts(app)
    (bars,) = [chart for chart in charts(app) if chart["layout"]["title"]["text"].startswith("Output: the probability of each digit")]
    assert tick_names(bars) == [str(digit) for digit in range(10)]
    assert any(button.label == "The digit you drew" for button in app.button)


# -- Robustness ----------------------------------------------------------------------------------------

def run_datasets(app) -> set[str]:
    return {run.config.dataset for run in app.multiselect(key="robust_runs").value}


def offered_datasets(app) -> set[str]:
    """The datasets of the runs the multiselect offers, as its labels name them."""
    return {"Fashion-MNIST" if " · Fashion-MNIST · " in option else "MNIST" for option in app.multiselect(key="robust_runs").options}


@pytest.mark.pages
def test_the_robustness_page_compares_runs_of_one_dataset_and_names_fashion_s_classes(runs_root):
    workspace = written_runs(runs_root, ("mnist", "linear", 3, "digits-linear"), ("mnist", "mlp", 2, "digits-mlp"),
                             ("fashion_mnist", "linear", 2, "clothes-linear"), ("fashion_mnist", "cnn", 1, "clothes-cnn"))
    app = open_page("pages/robustness.py", workspace=workspace)
    assert not app.exception and not app.error, [error.value for error in app.error]
    choice = app.radio(key="robust_dataset")
    assert choice.options == ["MNIST", "Fashion-MNIST"] and choice.value == "mnist"  # the sidebar's dataset
    assert run_datasets(app) == {"mnist"} and offered_datasets(app) == {"MNIST"}
    assert "(labelled 7)" in " ".join(image_captions(app))
    assert app.radio(key="robust_source").label == "Digit"

    choice.set_value("fashion_mnist").run()
    assert not app.exception and not app.error
    assert run_datasets(app) == {"fashion_mnist"} and offered_datasets(app) == {"Fashion-MNIST"}
    assert sorted(run.name for run in app.multiselect(key="robust_runs").value) == ["clothes-cnn", "clothes-linear"]
    assert "as it was (labelled Ankle boot)" in image_captions(app)
    readings = next(text for text in texts(app) if text.startswith("Read as"))
    assert sum(f": {name} (" in readings for name in FASHION_NAMES) == 2  # each run's answer, named
    changed, attacked = [chart for chart in charts(app) if chart["layout"]["title"]["text"].startswith("Probability of each class")]
    assert tick_names(changed) == tick_names(attacked) == FASHION_NAMES
    captions = [caption for caption in image_captions(app) if caption.startswith("attacked: read as ")]
    assert len(captions) == 2 and all(caption.removeprefix("attacked: read as ").rsplit(" (", 1)[0] in FASHION_NAMES
                                      for caption in captions)
    # Turned and bolder: the changes still apply to clothes.
    app.slider(key="robust_rotation").set_value(30.0).run()
    app.slider(key="robust_thickness").set_value(0.5).run()
    assert not app.exception
    # No digit drawn on the Draw page for models of clothes, and no way to add an MNIST run to them.
    app.session_state["drawn_digit"] = drawn_one()
    app.run()
    assert not app.exception and not any(radio.key == "robust_source" for radio in app.radio)
    assert app.number_input(key="robust_test_number").label.startswith("Test picture number")
    assert offered_datasets(app) == {"Fashion-MNIST"}
    # The curves of a Fashion-MNIST run, measured on its own validation pictures.
    app.multiselect(key="robust_runs").set_value([run for run in app.multiselect(key="robust_runs").value
                                                  if run.name == "clothes-linear"]).run()
    button(app, "Measure the curves").click().run()
    assert not app.exception and not app.error
    assert any(chart["layout"]["title"]["text"] == "Accuracy as the change grows" for chart in charts(app))

    # Back to MNIST: its own runs again, never one of each.
    app.radio(key="robust_dataset").set_value("mnist").run()
    assert not app.exception and run_datasets(app) == {"mnist"} and offered_datasets(app) == {"MNIST"}


@pytest.mark.pages
def test_a_workspace_of_fashion_runs_only_compares_them_without_a_dataset_choice(runs_root):
    workspace = written_runs(runs_root, ("fashion_mnist", "linear", 2, "clothes"))
    app = open_page("pages/robustness.py", workspace=workspace)
    assert not app.exception and not app.error, [error.value for error in app.error]
    assert not any(radio.key == "robust_dataset" for radio in app.radio)
    assert run_datasets(app) == {"fashion_mnist"}
    assert "as it was (labelled Ankle boot)" in image_captions(app)


# -- Draw ----------------------------------------------------------------------------------------------

DIGITS_ONLY = "This page reads handwritten digits"


@pytest.mark.pages
def test_the_draw_page_with_only_a_fashion_run_says_it_reads_digits_and_offers_no_fashion_run(runs_root):
    workspace = written_runs(runs_root, ("fashion_mnist", "cnn", 2, "clothes"))
    app = open_page("pages/draw.py", workspace=workspace)
    assert not app.exception and not app.error
    assert any(shown(info).startswith(DIGITS_ONLY) for info in app.info)
    assert any("not a photograph like Fashion-MNIST's pictures of clothes" in shown(info) for info in app.info)
    assert any("Exam or Inside page" in text for text in texts(app))
    assert any("There is no trained MNIST model yet" in shown(info) for info in app.info)
    assert not any(box.key == "draw_run" for box in app.selectbox)  # the Fashion-MNIST run is not offered
    assert any(button.label.startswith("Quick-train a CNN") for button in app.button)


@pytest.mark.pages
def test_the_draw_page_on_a_fashion_sidebar_says_so_and_offers_only_mnist_runs_and_quick_trains_mnist(runs_root):
    from mnist_core.jobs import job_board

    workspace = written_runs(runs_root, ("fashion_mnist", "linear", 3, "clothes"), ("mnist", "linear", 2, "digits"))
    app = open_page("pages/train.py", workspace=workspace)
    app.selectbox(key="widget_dataset").set_value("fashion_mnist").run()
    assert not app.exception
    app.switch_page("pages/draw.py").run()
    assert not app.exception and not app.error
    assert any(shown(info).startswith(DIGITS_ONLY) for info in app.info)
    box = app.selectbox(key="draw_run")
    assert box.value.name == "digits" and len(box.options) == 1 and " · MNIST · " in box.options[0]
    assert any("Draw a digit on the black square" in shown(info) for info in app.info)
    assert not app.metric  # no prediction before a digit is drawn

    # A workspace without any run, the sidebar still on Fashion-MNIST: the quick training trains MNIST's CNN.
    empty = new_workspace(runs_root)
    app = open_page("pages/train.py", workspace=empty)
    app.selectbox(key="widget_dataset").set_value("fashion_mnist").run()
    app.switch_page("pages/draw.py").run()
    assert not app.exception and any(shown(info).startswith(DIGITS_ONLY) for info in app.info)
    button(app, "Quick-train a CNN").click().run()
    assert not app.exception
    (job,) = job_board.current(empty).jobs
    try:
        assert job.config.dataset == "mnist" and job.config.model == "cnn"
    finally:
        job.stop()
        assert job.join(120)
