"""Fashion-MNIST in a real Chromium against a real `streamlit run`: a student switches the sidebar's
dataset, trains, sits the exam and reads the names of clothes on the confusion matrix, in English and
in Chinese."""

from playwright.sync_api import expect

from tests.app_server import open_app
from tests.helpers import choose


def tick_labels(page) -> list[str]:
    """The confusion matrix's tick labels, both axes (SVG text has no innerText)."""
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.data?.[0]?.type === 'heatmap')")
    matrix = page.locator(".js-plotly-plot").filter(has=page.locator(".heatmaplayer")).first
    matrix.scroll_into_view_if_needed()
    return matrix.locator(".xtick text, .ytick text").all_text_contents()


def test_a_student_switches_to_fashion_mnist_trains_and_reads_clothes_on_the_confusion_matrix(app_url, page, fashion_dataset):
    open_app(page, f"{app_url}/?train_subset_size=1000")  # a link for students: a small run
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible()
    choose(page, "Dataset", "Fashion-MNIST")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("combobox", name="Dataset", exact=True)).to_have_value("Fashion-MNIST")
    # The linear model's preset on Fashion-MNIST is in the sidebar before Train is pressed: a click sent while the
    # page still showed MNIST's 5 epochs sent those back with it (seen in CI, where the switch provisions the data).
    epochs = sidebar.locator("[data-testid=stSlider]").filter(has_text="Epochs").get_by_role("slider")
    expect(epochs).to_have_value("10")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Finished all 10 epoch(s).")).to_be_visible(timeout=180_000)  # the linear preset on clothes
    expect(page.get_by_role("dataframe").or_(page.get_by_test_id("stDataFrame")).first).to_be_visible()

    page.get_by_role("link", name="Exam").click()
    page.get_by_role("button", name="Sit the final exam on the 10,000 test pictures").click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_contain_text("%")
    labels = tick_labels(page)
    for name in ("T-shirt/top", "Trouser", "Sneaker", "Ankle boot"):
        assert name in labels, labels
    assert "7" not in labels  # not the digits' axis

    sidebar.get_by_role("radio", name="中文").click()
    expect(page.get_by_test_id("stMetric").filter(has_text="测试准确率")).to_contain_text("%")
    labels = tick_labels(page)
    for name in ("T恤/上衣", "裤子", "运动鞋", "短靴"):
        assert name in labels, labels
