"""Page tests with Streamlit's AppTest: the real app script, the real engine, no browser."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def test_the_overview_page_renders_the_split_of_real_mnist():
    app = AppTest.from_file(DASHBOARD, default_timeout=120).run()
    assert not app.exception
    assert app.title[0].value == "MNIST Lab"
    assert {metric.label: metric.value for metric in app.metric} == {
        "Training digits": "54,000", "Validation digits": "6,000", "Test digits": "10,000"}
