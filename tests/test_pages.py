"""Page tests with Streamlit's AppTest: the real app script, the real engine, no browser."""

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def open_page(page: str | None = None) -> AppTest:
    """Open the app at its landing page, then go to `page`, as a visitor clicking the navigation would."""
    app = AppTest.from_file(DASHBOARD, default_timeout=120).run()
    if page:
        app.switch_page(page).run()
    return app


def chart_points(app: AppTest) -> dict[str, int]:
    """Points per series over every Plotly chart on the page."""
    return {trace["name"]: len(trace["x"]) for chart in app.get("plotly_chart")
            for trace in json.loads(chart.proto.spec)["data"]}


def rerun_until(app: AppTest, condition, seconds=120) -> None:
    deadline = time.monotonic() + seconds
    while not condition(app):
        assert time.monotonic() < deadline, "timed out waiting for the page"
        time.sleep(0.5)
        app.run()


def test_the_overview_page_renders_the_split_of_real_mnist():
    app = open_page()
    assert not app.exception
    assert app.title[0].value == "MNIST Lab"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Training digits"] == "54,000" and metrics["Validation digits"] == "6,000" and metrics["Test digits"] == "10,000"


def test_the_train_page_completes_a_tiny_run_with_one_point_per_epoch_per_series(runs_root):
    app = open_page("pages/train.py")
    assert not app.exception
    app.select_slider(key="widget_train_subset_size").set_value(300)
    app.slider(key="widget_epochs").set_value(2)
    app.button[0].click().run()
    rerun_until(app, lambda page: page.success or page.error)
    assert not app.error, [error.value for error in app.error]
    assert app.success[0].value == "Finished all 2 epoch(s)."
    assert chart_points(app) == {"training loss": 2, "validation loss": 2, "training accuracy": 2, "validation accuracy": 2}
    history = app.dataframe[0].value
    assert history.iloc[0]["status"] == "completed" and history.iloc[0]["epochs"] == 2


def test_a_batch_larger_than_the_training_subset_is_explained(runs_root):
    app = open_page("pages/train.py")
    app.select_slider(key="widget_train_subset_size").set_value(100)
    app.select_slider(key="widget_batch_size").set_value(256)
    app.button[0].click().run()
    rerun_until(app, lambda page: page.error or page.success)
    assert "batch size (256) is larger than the training set (100 examples)" in app.error[0].value


def test_changing_the_model_loads_its_preset():
    app = open_page("pages/train.py")
    app.selectbox(key="widget_model").set_value("cnn").run()
    assert not app.exception
    assert app.select_slider(key="widget_batch_size").value == 64
    assert app.slider(key="widget_dropout").value == 0.25
