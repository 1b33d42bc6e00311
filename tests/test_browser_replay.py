"""Browser test of the Replay page: the player's own timer moves every view, in a real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.app_server import open_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def replay_workspace(app_runs_root):
    """A workspace holding one finished four-epoch run of the linear model."""
    from mnist_core import TrainConfig, load_mnist, train_and_record
    from mnist_core.runs import new_workspace

    workspace = new_workspace(app_runs_root)  # one the app's server could have handed out: it shares the secret
    list(train_and_record(TrainConfig(epochs=4), load_mnist(), runs_root=app_runs_root, name="to-replay",
                          workspace=workspace))
    return workspace


def points_of_first_chart() -> str:
    return "document.querySelector('.js-plotly-plot')?.data?.[0]?.x?.length"


def test_play_replays_a_run_epoch_by_epoch_and_every_view_follows(app_url, replay_workspace, page):
    open_app(page, f"{app_url}/?workspace={replay_workspace}")
    page.get_by_role("link", name="Replay").click()
    expect(page.get_by_role("heading", name="Replay a run")).to_be_visible()
    expect(page.get_by_text("epoch 0: the random start").first).to_be_visible()
    page.wait_for_function(f"() => {points_of_first_chart()} === 0")  # nothing trained yet: no point drawn
    # All-zero weights give every digit a probability of 10% and read each as a 0: only the two 0s are right.
    expect(page.get_by_text("✓ 0 · 10%")).to_have_count(2)
    expect(page.get_by_text("✗ 0 · 10%")).to_have_count(18)
    page.get_by_role("radio", name="1 s").click()
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    for epoch in (1, 2, 3, 4):  # the player's timer, not a click, moves it on: each epoch in turn
        # The chart and the epoch's sentence together, in one look: asked one after the other, a loaded machine
        # let the player move on between the two (CI saw the chart at 3 and then only "Epoch 4").
        page.wait_for_function(f"() => {points_of_first_chart()} === {epoch} && "
                               f"document.body.innerText.includes('Epoch {epoch}: training accuracy')", timeout=30_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible()  # it stopped at the last epoch
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(page.get_by_text("of the 6,000 validation digits read right at this epoch")).to_be_visible()
    page.get_by_role("button", name="Back").click()
    page.wait_for_function(f"() => {points_of_first_chart()} === 3")

    # The exports are made when their button is pressed, then download as what they say they are.
    page.get_by_role("button", name="Make the weights' animation (GIF)").click()
    with page.expect_download() as gif:
        page.get_by_role("button", name="Download to-replay-weights.gif").click()
    assert gif.value.suggested_filename == "to-replay-weights.gif"
    assert open(gif.value.path(), "rb").read(6) == b"GIF89a"
    page.get_by_role("button", name="Make the trained model's file (.keras)").click()
    with page.expect_download() as model_file:
        page.get_by_role("button", name="Download to-replay.keras").click()
    assert model_file.value.suggested_filename == "to-replay.keras"
    assert open(model_file.value.path(), "rb").read(2) == b"PK"  # a .keras file is a zip


def test_the_code_behind_the_run_shows_the_note_beside_the_engine_and_downloads_the_program(app_url, replay_workspace, page):
    import nbformat

    open_app(page, f"{app_url}/?workspace={replay_workspace}")
    page.get_by_role("link", name="Replay").click()
    expect(page.get_by_role("heading", name="Replay a run")).to_be_visible()
    page.get_by_text("The code behind this run").click()
    expect(page.get_by_text("config.epochs = 4")).to_be_visible()  # the run's own settings
    page.get_by_role("tab", name="grad", exact=True).click()
    grad_tab = page.get_by_role("tabpanel", name="grad", exact=True)
    expect(grad_tab.get_by_text("def grad(model, x, y):")).to_be_visible()  # the note
    expect(grad_tab.get_by_text("gradients = tape.gradient(loss, model.trainable_variables)")).to_be_visible()  # the app
    expect(grad_tab.get_by_text("make_train_step")).to_be_visible()
    with page.expect_download() as notebook_file:
        page.get_by_role("button", name="Notebook (.ipynb)").click()
    assert notebook_file.value.suggested_filename == "to-replay.ipynb"
    book = nbformat.read(notebook_file.value.path(), as_version=4)
    nbformat.validate(book)
    assert "KERAS_FILE = 'to-replay.keras'" in "".join(cell.source for cell in book.cells)
    with page.expect_download() as script_file:
        page.get_by_role("button", name="Script (.py)").click()
    assert script_file.value.suggested_filename == "to-replay.py"
    script = open(script_file.value.path(), encoding="utf-8").read()
    compile(script, "to-replay.py", "exec")  # Python, whole: CI runs such a script in tests/test_take_home.py
    assert "with tf.GradientTape() as tape:" in script and "mnist_core" not in script


def test_the_run_picker_speaks_the_language_it_is_switched_to(app_url, replay_workspace, page):
    """The picker's shown run once kept the words it was first drawn with: English on a Chinese page."""
    open_app(page, f"{app_url}/?workspace={replay_workspace}")
    page.get_by_role("link", name="Replay").click()
    shown_run = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").first.locator("input")
    expect(shown_run).to_have_value(re.compile("^to-replay · MNIST · Linear · 4 epochs · validation accuracy"))
    page.get_by_test_id("stSidebar").get_by_text("中文").click()
    expect(page.get_by_role("heading", name="回放训练过程")).to_be_visible()
    shown_run = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").first.locator("input")
    expect(shown_run).to_have_value(re.compile("^to-replay · MNIST · 线性模型 · 4 轮 · 最佳轮次的验证准确率"))
