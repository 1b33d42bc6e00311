"""Browser tests of robustness: the Robustness page ("Break the reader") driven as a student drives it, and
digits drawn with the mouse on the Draw page's real canvas, read by a CNN trained with and without
augmentation, in a real Chromium against a real `streamlit run`."""

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from benchmarks.drawn_digits import corner, pen_path
from tests.app_server import clear_canvas, open_workspace_page
from tests.helpers import choose, copy_workspace, reading, stroke

LINEAR, PLAIN_CNN, AUGMENTED_CNN = "lab-linear", "lab-cnn", "lab-cnn-augmented"
# The settings' suggested amounts: 2 px is as far as MNIST's own centring errors, 15 degrees covers most
# slanted handwriting, and scale and pen cover drawings of every size and pen.
AUGMENTATION = {"augment_shift": 2.0, "augment_rotation": 15.0, "augment_scale": 0.15, "augment_thickness": 0.5}
CNN_EPOCHS = 1  # on all 54,000 training digits: good enough that a drawing it misses is a hard one

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def robustness_workspace(app_runs_root, cnn_template):
    """A workspace holding a linear run, a CNN and the same CNN trained with augmentation. Its own workspace
    (the other browser tests' runs are left as they are), minted with the app's secret. The plain CNN is
    the session's (conftest.py's cnn_template: the CNN's preset, CNN_EPOCHS on all of MNIST), copied."""
    from mnist_core import TrainConfig, load_mnist, train_and_record

    assert CNN_EPOCHS == 1  # the template's
    workspace = copy_workspace(cnn_template, app_runs_root, names={"cnn": PLAIN_CNN})
    dataset = load_mnist()
    for name, config in ((LINEAR, TrainConfig.for_model("linear", epochs=2)),
                         (AUGMENTED_CNN, TrainConfig.for_model("cnn", epochs=CNN_EPOCHS, **AUGMENTATION))):
        list(train_and_record(config, dataset, runs_root=app_runs_root, workspace=workspace, name=name))
    return workspace


def run_option(name: str) -> re.Pattern:
    """A run's label in a picker ("lab-cnn · CNN · 1 epoch · validation accuracy ..."): by its exact name,
    so "lab-cnn" is not "lab-cnn-augmented"."""
    return re.compile(rf"^{re.escape(name)} · ")


def slider(page, label: str):
    return page.get_by_test_id("stSlider").filter(has_text=label).get_by_role("slider")


def press_right(page, label: str, presses: int, expected: str) -> None:
    """Move the slider `label` `presses` steps to the right with the keyboard, as a student can."""
    thumb = slider(page, label)
    thumb.focus()
    for _ in range(presses):
        thumb.press("ArrowRight")
    expect(thumb).to_have_value(expected)


def idle(page) -> None:
    """Wait until the app has no script run pending or running."""
    page.wait_for_function("() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'")


def test_the_lab_compares_runs_on_a_changed_and_an_attacked_digit_and_draws_their_curves(app_url, robustness_workspace, page):
    open_workspace_page(page, app_url, robustness_workspace, "Robustness")
    expect(page.get_by_role("heading", name="Break the reader")).to_be_visible()
    sentence = page.get_by_text(re.compile(r"^Read as: "))
    expect(sentence).to_be_visible()

    # The best run of each model and the augmented one are compared from the start.
    chosen = page.get_by_test_id("stMultiSelect").filter(has_text="Runs to compare").locator("[data-tag]")
    expect(chosen).to_have_count(3)
    for position, name in enumerate((LINEAR, PLAIN_CNN, AUGMENTED_CNN)):
        expect(chosen.nth(position)).to_have_attribute("aria-label", run_option(name))
    labels = (f"{LINEAR} (Linear)", f"{PLAIN_CNN} (CNN)", f"{AUGMENTED_CNN} (CNN, augmented)")
    for label in labels:
        expect(sentence).to_contain_text(re.compile(rf"{re.escape(label)}: \d \(\d+%\)"))

    # Test digit 0 (a 7) moved 4 pixels right: at least one run's confidence moves.
    before = sentence.inner_text()
    press_right(page, "Move right (pixels)", 8, "4")
    expect(sentence).not_to_have_text(before)
    for label in labels:
        expect(sentence).to_contain_text(re.compile(rf"{re.escape(label)}: \d \(\d+%\)"))

    # A harder attack: each run's column shows the attacked digit and, under it, what that run reads in it.
    columns = page.locator(".st-key-wrapping-robust_attacks").get_by_test_id("stColumn")
    attacked = page.get_by_text(re.compile(r"^attacked: read as \d \(\d+%\)$"))
    expect(columns).to_have_count(3)
    for position, label in enumerate(labels):
        expect(columns.nth(position).get_by_text(label, exact=True)).to_be_visible()
        expect(columns.nth(position).get_by_test_id("stImage").filter(has=attacked)).to_have_count(1)
    pictures = columns.get_by_test_id("stImage").filter(has=attacked).locator("img")
    weaker = pictures.evaluate_all("images => images.map(image => image.src)")
    press_right(page, "Strength (epsilon)", 10, "0.2")
    for position, source in enumerate(weaker):
        expect(pictures.nth(position)).not_to_have_attribute("src", source)  # pushed further
    idle(page)
    expect(columns.get_by_test_id("stImage").filter(has=attacked)).to_have_count(3)
    print("\nTest digit 0 moved 4 px right, attacked with epsilon 0.2:",
          ", ".join(f"{label}: {text}" for label, text in zip(labels, attacked.all_inner_texts())))

    page.get_by_role("button", name="Measure the curves (3 runs)").click()
    chart = page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text="Accuracy as the change grows"))
    expect(chart).to_have_count(1, timeout=180_000)
    expect(chart.locator(".legendtext")).to_have_text(list(labels))
    traces = chart.evaluate("""plot => plot._fullData.map(trace => [trace.name, trace.xaxis,
        Array.from(trace.x).map(Number), Array.from(trace.y).map(Number)])""")
    panels = {"x": "moved", "x2": "turned", "x3": "FGSM"}
    curves = {(name, panels[axis]): dict(zip(sizes, accuracies)) for name, axis, sizes, accuracies in traces}
    for (name, panel), points in curves.items():
        print(f"{name:<36}{panel:<7}", " ".join(f"{size:g}:{accuracy:.0%}" for size, accuracy in points.items()))
    # Trained on digits moved up to 2 px, the augmented CNN still reads most digits moved 4 px; the plain one
    # about half. The bound, 15 points apart, is far inside that gap (the printed table gives this run's).
    assert curves[labels[2], "moved"][4] > curves[labels[1], "moved"][4] + 0.15
    expect(page.get_by_role("button", name=re.compile(r"^Measure the curves"))).to_have_count(0)

    page.get_by_role("button", name="Undo every change to the digit").click()
    expect(slider(page, "Move right (pixels)")).to_have_value("0")
    thumb_value = page.get_by_test_id("stSlider").filter(has_text="Move right (pixels)").get_by_test_id("stSliderThumbValue")
    expect(thumb_value).to_have_text("0.0")  # half pixels, shown as such (not "0.00")
    expect(sentence).to_have_text(before)  # the digit as it was, read as it was


# -- digits drawn with the mouse ----------------------------------------------------------------------
# Each way of writing a digit: its pen strokes in a unit box (x to the right, y down), each a list of
# points the mouse passes through, smoothly, as a hand moves; a corner(x, y) is a sharp turn.
CANVAS_SIZE = 280  # the Draw page's canvas, drawn on with its 22-pixel pen


def oval(turns: float = 1.06, points: int = 14) -> list:
    """From the top, anticlockwise as most people write a 0, ending a little past where it began."""
    return [(0.5 - 0.5 * np.sin(angle), 0.5 - 0.5 * np.cos(angle)) for angle in np.linspace(0, 2 * np.pi * turns, points)]


NINE_LOOP = [(0.9, 0.25), (0.55, 0.02), (0.12, 0.2), (0.25, 0.45), (0.6, 0.45), corner(0.9, 0.28)]
WAYS = {
    "0": [oval()],
    "1": [[(0.55, 0.0), (0.48, 1.0)]],
    "1 with a flag": [[(0.15, 0.25), corner(0.6, 0.0), (0.6, 1.0)]],
    "2": [[(0.08, 0.25), (0.3, 0.03), (0.62, 0.02), (0.88, 0.22), (0.8, 0.48), corner(0.08, 1.0), (0.95, 0.98)]],
    "3": [[(0.1, 0.12), (0.5, 0.0), (0.88, 0.17), (0.8, 0.38), corner(0.4, 0.48), (0.9, 0.62), (0.9, 0.86), (0.5, 1.0),
           (0.08, 0.88)]],
    "4 closed": [[(0.7, 1.0), corner(0.7, 0.0), corner(0.02, 0.66), (0.98, 0.66)]],
    "4 open": [[(0.15, 0.0), corner(0.08, 0.62), (0.95, 0.62)], [(0.7, 0.05), (0.7, 1.0)]],
    "5": [[(0.9, 0.02), corner(0.18, 0.02), corner(0.12, 0.45), (0.5, 0.38), (0.88, 0.58), (0.82, 0.86), (0.45, 1.0),
           (0.05, 0.88)]],
    "6": [[(0.8, 0.0), (0.35, 0.28), (0.1, 0.65), (0.25, 0.93), (0.6, 0.98), (0.88, 0.78), (0.72, 0.56), (0.38, 0.52),
           (0.12, 0.68)]],
    "7": [[(0.02, 0.03), corner(0.98, 0.03), (0.4, 1.0)]],
    "7 crossed": [[(0.02, 0.03), corner(0.98, 0.03), (0.4, 1.0)], [(0.3, 0.52), (0.85, 0.5)]],
    "8": [[(0.75, 0.1), (0.5, 0.0), (0.2, 0.1), (0.22, 0.3), (0.5, 0.48), (0.85, 0.68), (0.78, 0.92), (0.5, 1.0), (0.15, 0.92),
           (0.15, 0.68), (0.5, 0.48), (0.8, 0.3), (0.8, 0.1), (0.6, 0.02)]],
    "9": [NINE_LOOP + [corner(0.9, 0.02), (0.82, 1.0)]],
}
# Where a style puts the digit: its centre and height in canvas pixels, and its slant (degrees, the top to the right).
STYLES = {
    "centred": {"centre": (140, 140), "height": 200, "slant": 0},
    "slanted": {"centre": (140, 140), "height": 190, "slant": 22},
    "small, top left": {"centre": (62, 62), "height": 80, "slant": 0},
    "small, bottom right": {"centre": (212, 208), "height": 80, "slant": 0},
}
# (digit, way, style): every digit centred, slanted and small in a corner; the other ways centred.
DRAWINGS = [(int(way[0]), way, style) for way in ("0", "1", "2", "3", "4 closed", "5", "6", "7", "8", "9")
            for style in ("centred", "slanted", "small, top left" if int(way[0]) % 2 else "small, bottom right")]
DRAWINGS += [(1, "1 with a flag", "centred"), (4, "4 open", "centred"), (4, "4 open", "slanted"), (7, "7 crossed", "centred")]


def smooth(points, per_piece: int = 4) -> np.ndarray:
    """The mouse's path through `points` (a third value marks a corner): the drawn-digit benchmark's pen path."""
    xy, corners = np.array([point[:2] for point in points], float), [len(point) == 3 for point in points]
    return pen_path(xy, corners, per_piece)


def pen_strokes(way: str, style: str) -> list[list[tuple[float, float]]]:
    """The strokes of `way` drawn in `style`, in canvas pixels."""
    settings = STYLES[style]
    height = settings["height"]
    width = height * (0.62 if way != "0" else 0.7)
    slant = np.tan(np.deg2rad(settings["slant"]))
    strokes = []
    for points in WAYS[way]:
        path = (smooth(points) - 0.5) * [width, height]
        path[:, 0] -= slant * path[:, 1]  # y points down: the top leans right
        path += settings["centre"]
        strokes.append([(round(float(x), 1), round(float(y), 1)) for x, y in np.clip(path, 4, CANVAS_SIZE - 4)])
    return strokes


def draw(page, way: str, style: str, screenshots) -> int:
    """Draw on a blank canvas, one mouse stroke after another, and wait until the app has read the whole
    drawing. Returns how many times it had to be drawn again, after a drawing never reached the app (see
    clear_canvas; a screenshot of each such page goes in `screenshots`)."""
    for again in range(3):
        for points in pen_strokes(way, style):
            stroke(page, points)
        page.wait_for_timeout(400)  # the canvas sends its drawing 200 ms after the last change
        try:
            expect(page.get_by_text("Draw a digit on the black square")).to_have_count(0, timeout=10_000)
        except AssertionError:  # it never reached the app: draw it again, and say so in the report
            page.screenshot(path=screenshots / (re.sub(r"\W+", "-", f"lost {way} {style} {again}") + ".png"))
            clear_and_settle(page)
            continue
        idle(page)
        return again
    raise AssertionError(f"the canvas lost a {way} drawn {style} three times")


def settled_reading(page) -> str:
    """What the chosen model reads once the app has caught up ("-" where the page refuses the drawing)."""
    idle(page)
    value = reading(page).get_by_test_id("stMetricValue")
    if value.count() == 0:
        return "-"
    return value.inner_text().strip()


def choose_model(page, name: str) -> None:
    choose(page, "Model (the best run first)", run_option(name))
    expect(page.get_by_role("combobox", name="Model (the best run first)", exact=True)).to_have_value(run_option(name))
    page.wait_for_timeout(300)


def clear_and_settle(page) -> None:
    """Clear the canvas and wait until the new one takes strokes. Drawn as soon as the new canvas shows
    while the app still runs, a drawing can be lost, the canvas left blank; once the app has finished
    and a moment has passed, the canvas takes it."""
    clear_canvas(page)
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
    idle(page)
    page.wait_for_timeout(300)


def test_digits_drawn_with_the_mouse_are_read_by_the_cnn_with_and_without_augmentation(app_url, robustness_workspace, page,
                                                                                       tmp_path):
    open_workspace_page(page, app_url, robustness_workspace, "Draw")
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
    page.locator("canvas").first.wait_for()
    models = (PLAIN_CNN, AUGMENTED_CNN)
    chosen, rows, redrawn = None, [], 0
    for position, (digit, way, style) in enumerate(DRAWINGS):
        if position:
            clear_and_settle(page)
        redrawn += draw(page, way, style, tmp_path)
        read = {}
        for name in (models if chosen != AUGMENTED_CNN else models[::-1]):  # one model change a drawing
            if name != chosen:
                choose_model(page, name)
                chosen = name
            read[name] = settled_reading(page)
        rows.append((digit, way, style, read[PLAIN_CNN], read[AUGMENTED_CNN]))

    right = {name: sum(str(row[0]) == row[3 + column] for row in rows) for column, name in enumerate(models)}
    lines = [f"{'digit':<6}{'way':<15}{'style':<21}{'plain CNN':<11}{'augmented CNN'}"]
    lines += [f"{digit:<6}{way:<15}{style:<21}{plain:<11}{augmented}" for digit, way, style, plain, augmented in rows]
    lines += [f"{name}: read {right[name]} of {len(rows)} right ({right[name] / len(rows):.0%})" for name in models]
    lines += [f"drawings the canvas lost and that were drawn again: {redrawn}"]
    table = "\n".join(lines)
    (tmp_path / "hand-drawn-digits.txt").write_text(table + "\n")
    print(f"\nDigits drawn with the mouse on the Draw page ({tmp_path / 'hand-drawn-digits.txt'}):\n{table}")
    assert all(re.fullmatch(r"\d", row[3]) and re.fullmatch(r"\d", row[4]) for row in rows), table  # every drawing read
    # Both CNNs read nearly all of these drawings (the table printed above gives this run's count). The
    # bound, 85% (29 of 34), leaves room for a few misses (other training, another TensorFlow); a broken
    # pen, canvas or preprocessing reads far fewer.
    for name in models:
        assert right[name] >= 0.85 * len(rows), table
