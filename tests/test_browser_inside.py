"""Browser tests of the Inside page: reached from an exam mistake and from a drawn digit, and its map
of all digits hovered and clicked, in a real Chromium against a real `streamlit run`."""

import re

import pytest
from playwright.sync_api import expect

from tests.app_server import open_workspace_page
from tests.helpers import copy_workspace, reading, stroke

pytestmark = pytest.mark.browser

MISTAKE_CAPTION = re.compile(r"^true (\d), said (\d) \(\d+%\)$")
MAP_PLOTS = "[...document.querySelectorAll('.js-plotly-plot')].filter(plot => plot._fullData?.some(trace => trace.type === 'scatter' && trace.customdata))"
SCRIPT_IDLE = "() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'"
TOP_OF_THE_PAGE = "document.querySelector('[data-testid=\"stMain\"]').scrollTop === 0"
BRAILLE = re.compile("[\u2801-\u28ff]")  # a dot at least: the blank pattern U+2800 alone would be an empty picture


@pytest.fixture(scope="module")
def inside_workspace(app_runs_root, cnn_template):
    """A workspace holding one CNN trained for one epoch on all of MNIST (once per test session, copied): it
    keeps its random start (epoch 0) and epoch 1. Its own workspace (the runs of tests/test_browser.py's are
    left as they are), minted with the app's secret."""
    return copy_workspace(cnn_template, app_runs_root, names={"cnn": "inside-cnn"})


def expect_inside_page(page) -> None:
    expect(page.get_by_role("heading", name="Look inside the model")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Looking at "))).to_be_visible(timeout=120_000)


def read_digit(page) -> str:
    value = reading(page).get_by_test_id("stMetricValue")
    expect(value).to_have_text(re.compile(r"^\d$"))
    return value.inner_text().strip()


def wait_for_the_maps(page) -> None:
    """Both maps (the random start and epoch 1) drawn, each with its 2,000 digits."""
    page.wait_for_function(f"""() => {{
        const maps = {MAP_PLOTS};
        return maps.length === 2 && maps.every(plot => plot.querySelectorAll('.scatterlayer .trace .points path').length >= 2000);
    }}""", timeout=120_000)


def test_an_exam_mistake_opens_inside_the_model_on_that_test_digit(app_url, inside_workspace, page):
    open_workspace_page(page, app_url, inside_workspace, "Exam")
    page.get_by_role("button", name="Sit the final exam on the 10,000 test digits").click()
    expect(page.get_by_role("heading", name="The digits it got wrong")).to_be_visible(timeout=120_000)
    page.wait_for_function(SCRIPT_IDLE)  # the gallery as the finished page run drew it
    # The first mistake's column: its caption and its button (keyed by the test digit's number) together.
    column = page.get_by_test_id("stColumn").filter(has=page.locator("[class*='st-key-exam_inside_']")).first
    caption = column.get_by_text(MISTAKE_CAPTION)
    expect(caption).to_be_visible()
    true_digit, said = MISTAKE_CAPTION.match(caption.inner_text().strip()).groups()
    inside_button = column.locator("[class*='st-key-exam_inside_']")
    test_number = re.search(r"st-key-exam_inside_(\d+)", inside_button.get_attribute("class")).group(1)
    inside_button.get_by_role("button").click()

    expect_inside_page(page)
    expect(page.get_by_text(f"Looking at test digit {test_number} (labelled {true_digit}).")).to_be_visible()
    page.wait_for_function(TOP_OF_THE_PAGE, timeout=30_000)  # it opens at the digit, not where the Exam was scrolled
    assert read_digit(page) == said
    expect(page.get_by_text(f"Wrong: its label is {true_digit}. The views below show why the model said {said}.")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Test digit number")).to_have_value(test_number)
    for section in ("Layer by layer", "What it looked at", "The map of all digits",
                    "Its nearest neighbours"):
        expect(page.get_by_role("heading", name=section)).to_be_visible()
    expect(page.get_by_text("Convolution 1, after its ReLU").first).to_be_visible()
    wait_for_the_maps(page)
    titles = page.locator(".js-plotly-plot .gtitle").all_text_contents()
    assert "At the random start (epoch 0)" in titles, titles
    assert any(re.fullmatch(r"After epoch 1: \d+% read right", title) for title in titles), titles
    expect(page.get_by_text(re.compile(r"^The 8 training digits closest to this one"))).to_be_visible()


def test_a_drawn_digit_opens_inside_the_model_reading_the_same_digit(app_url, inside_workspace, page):
    open_workspace_page(page, app_url, inside_workspace, "Draw")
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
    page.locator("canvas").first.wait_for()
    stroke(page, [(140, 40 + 10 * step) for step in range(21)])  # a vertical bar: a one
    drawn_reading = read_digit(page)
    page.get_by_role("button", name="Look inside the model as it reads this digit").click()

    expect_inside_page(page)
    expect(page.get_by_text("Looking at the digit you drew on the Draw page.")).to_be_visible()
    assert read_digit(page) == drawn_reading
    expect(page.get_by_role("heading", name="Its nearest neighbours")).to_be_visible(timeout=120_000)


def test_a_point_on_the_map_shows_its_digit_on_hover_and_opens_it_on_click(app_url, inside_workspace, page):
    open_workspace_page(page, app_url, inside_workspace, "Inside")
    expect_inside_page(page)
    expect(page.get_by_text("Looking at test digit 0 (labelled 7).")).to_be_visible()
    wait_for_the_maps(page)
    trained_map = page.locator(".js-plotly-plot").filter(has=page.locator(".scatterlayer")).nth(1)
    trained_map.scroll_into_view_if_needed()
    # The digit whose point lies farthest from every other digit's (its own copy among the mistakes
    # aside): where the mouse lands there, no other point is nearer.
    x, y, index, label, read_as = trained_map.evaluate("""plot => {
        const layout = plot._fullLayout, box = plot.getBoundingClientRect();
        const points = [];
        // _fullData: the traces as drawn, their arrays decoded (plot.data may hold them base64-encoded).
        plot._fullData.forEach(trace => Array.from(trace.customdata || []).forEach((index, position) => points.push({
            index: Number(index), label: trace.name, dataX: trace.x[position], dataY: trace.y[position],
            x: layout.xaxis.l2p(trace.x[position]), y: layout.yaxis.l2p(trace.y[position])})));
        const digits = points.filter(point => /^\\d$/.test(point.label));
        let best = null, bestDistance = -1;
        for (const point of digits.filter((_, position) => position % 7 === 0)) {
            const inside = point.x > 40 && point.x < layout._size.w - 40 && point.y > 40 && point.y < layout._size.h - 40;
            if (!inside) continue;
            let nearest = Infinity;
            for (const other of points) {
                if (other.index !== point.index) nearest = Math.min(nearest, Math.hypot(other.x - point.x, other.y - point.y));
            }
            if (nearest > bestDistance) { best = point; bestDistance = nearest; }
        }
        const wrong = plot._fullData.find(trace => trace.name === 'read wrong');
        // The mistakes' crosses carry no index (no hover of their own): a mistake is a cross on the point.
        const readWrong = Array.from(wrong.x).some((crossX, position) => crossX === best.dataX && wrong.y[position] === best.dataY);
        return [box.left + layout._size.l + best.x, box.top + layout._size.t + best.y, best.index, best.label, readWrong];
    }""")
    page.mouse.move(x, y)
    hover = trained_map.locator(".hoverlayer .hovertext")
    expect(hover).to_be_visible(timeout=10_000)
    hover_text = hover.text_content()
    assert BRAILLE.search(hover_text), hover_text
    said = re.search(r"true (\d), read as (\d)", hover_text)
    assert said and said.group(1) == label and (said.group(2) != label) == read_as, hover_text

    page.mouse.click(x, y)
    expect(page.get_by_text(f"Looking at validation digit {index} (labelled {label}), picked on the map.")).to_be_visible()
    # The picked digit is shown at the top of the page, far above the map: the page scrolls there.
    page.wait_for_function(TOP_OF_THE_PAGE, timeout=30_000)
    assert read_digit(page) == said.group(2)
