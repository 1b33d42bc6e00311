"""Browser tests: the app as a student sees it, in a real Chromium against a real `streamlit run`."""

import math
import re
import subprocess

import pytest
from playwright.sync_api import expect

from mnist_core import TrainConfig
from mnist_core.runs import list_runs, new_workspace
from tests.app_server import clear_canvas, open_app, open_train_page, running_app, workspace_of
from tests.helpers import again_until_seen, choose, copy_workspace, reading, stroke

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def trained_workspace(app_runs_root, cnn_template):
    """A workspace holding one trained CNN (good at drawn digits: one epoch on all of MNIST, trained once
    per test session and copied), as a student's would after training: one the app's server could have
    handed out (the tests share its runs folder, so its secret)."""
    return copy_workspace(cnn_template, app_runs_root, names={"cnn": "browser-cnn"})


def add_epochs(page, count: int) -> None:
    """Move the Epochs slider `count` stops to the right with the keyboard, as a student can."""
    slider = page.locator("[data-testid=stSlider]").filter(has_text="Epochs").get_by_role("slider")
    before = int(slider.input_value())
    # One stop at a time, each seen before the next: a key pressed while the rerun of the last redraws the
    # sidebar can be lost on a busy machine (in CI, once, for good). A lost press is pressed again, but only
    # while the slider still shows the stop before, so a slow one is never doubled.
    for stop in range(before + 1, before + count + 1):
        def press_unless_moved(previous=str(stop - 1)):
            if slider.input_value() == previous:
                slider.focus()
                slider.press("ArrowRight")

        def moved_on(timeout, stop=str(stop)):
            expect(slider).to_have_value(stop, timeout=timeout)

        again_until_seen(press_unless_moved, moved_on)


def wait_for_chart_points(page, count: int, at_least: bool = False) -> None:
    """Wait until the first chart's first series holds `count` points (the chart redraws after the text),
    or `count` or more: a run still training may add an epoch between two looks."""
    comparison = ">=" if at_least else "==="
    page.wait_for_function(f"() => document.querySelector('.js-plotly-plot')?.data?.[0]?.x?.length {comparison} {count}",
                           timeout=120_000)


def press_stop(page) -> None:
    """The page's Stop, not Streamlit's own "Stop" in the header, which shows while a page run takes long (a
    busy machine: the Dask cluster's workers train beside the server, tests/test_browser_dask.py)."""
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True).click()


def test_the_app_opens_on_the_overview_with_real_data(app_url, page):
    page.goto(app_url)
    expect(page.get_by_role("heading", name="MNIST Lab")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Training digits")).to_contain_text("54,000")
    expect(page.get_by_test_id("stMetric").filter(has_text="Test digits")).to_contain_text("10,000")
    expect(page.get_by_text("label 7").first).to_be_visible()


def test_a_run_trains_and_its_chart_gains_a_point_per_epoch(app_url, page):
    open_train_page(page, app_url)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Finished all 5 epoch(s).")).to_be_visible(timeout=120_000)
    wait_for_chart_points(page, 5)
    expect(page.locator(".js-plotly-plot")).to_have_count(2)
    for chart in page.locator(".js-plotly-plot").all():  # each tick label once (".0%" would print 93%, 93%, 92%...)
        for axis in (".xtick text", ".ytick text"):
            labels = chart.locator(axis).all_text_contents()  # SVG text has no innerText
            assert labels and len(labels) == len(set(labels)), labels


def test_stop_during_a_longer_run_keeps_the_finished_epochs(app_url, app_runs_root, page):
    open_train_page(page, app_url)
    choose(page, "Model", "MLP (hidden layers)")  # its preset: 10 epochs of about two seconds, time to press Stop
    page.get_by_role("button", name="Train", exact=True).click()
    # The chart appears after the first epoch and gains a point with the second.
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=120_000)
    wait_for_chart_points(page, 2, at_least=True)
    press_stop(page)
    # A Stop that lands between two epochs (the MLP's epochs are short) stops "after" the last
    # finished one rather than "during" the next: both keep every finished epoch.
    message = page.get_by_text(re.compile(
        r"Stopped (during|after) epoch \d+; its (\d+ epochs and their|1 epoch and its) weights are kept\."))
    expect(message).to_be_visible(timeout=60_000)
    finished = int(re.search(r"its (\d+) epoch", message.inner_text()).group(1))
    assert finished >= 2
    wait_for_chart_points(page, finished)
    # The run history (and the runs folder behind it) keeps the stopped run with its epochs.
    (stopped_run,) = [run for run in list_runs(app_runs_root, workspace=workspace_of(page))[0]]
    assert stopped_run.status == "stopped" and len(stopped_run.history) == finished


def test_settings_follow_the_student_from_page_to_page(app_url, page):
    page.goto(app_url)
    expect(page.get_by_role("heading", name="MNIST Lab")).to_be_visible()
    choose(page, "Model", "MLP (hidden layers)")
    expect(page.locator("[data-testid=stSlider]").filter(has_text="Hidden layers")).to_be_visible()
    expect(page.get_by_test_id("stToast").filter(has_text="Epochs 5 → 10")).to_be_visible()  # the preset says what it changed
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible()
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_have_value("MLP (hidden layers)")
    epochs = page.locator("[data-testid=stSlider]").filter(has_text="Epochs")
    expect(epochs).to_contain_text("10")  # the MLP preset's epochs, not the slider's minimum


def test_a_digit_drawn_with_the_mouse_is_read_and_a_cleared_canvas_shows_no_prediction(app_url, trained_workspace, page):
    open_app(page, f"{app_url}/?workspace={trained_workspace}")
    page.get_by_role("link", name="Draw").click()
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
    expect(reading(page)).to_have_count(0)

    stroke(page, [(140, 40 + 10 * step) for step in range(21)])  # a vertical bar: a one
    expect(reading(page)).to_contain_text("1")

    clear_canvas(page)
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
    expect(reading(page)).to_have_count(0)

    loop = [(140 + 70 * math.sin(angle / 20 * 2 * math.pi), 140 - 105 * math.cos(angle / 20 * 2 * math.pi)) for angle in range(22)]
    stroke(page, loop)  # a closed oval: a zero
    expect(reading(page)).to_contain_text("0")

    # A single click is a dot, not a digit (scaled up, a blob read confidently as a digit): no reading, a message saying why.
    clear_canvas(page)
    expect(reading(page)).to_have_count(0)
    stroke(page, [(140, 140), (141, 140)])
    expect(page.get_by_text("That is a dot, not a digit")).to_be_visible()
    expect(reading(page)).to_have_count(0)


def test_a_stroke_begun_in_the_canvas_top_right_corner_is_kept(app_url, trained_workspace, page):
    """The canvas package's invisible toolbar sits over the top-right corner until the pointer has rested
    there a moment: a stroke begun there at once (always, with a finger) would be lost, and a 7 written
    high and right keep only its bar (ui/drawing_canvas.py). The pointer arrives from outside the canvas
    and presses at once."""
    open_app(page, f"{app_url}/?workspace={trained_workspace}")
    page.get_by_role("link", name="Draw").click()
    expect(page.get_by_text("Draw a digit on the black square")).to_be_visible()
    box = page.locator("canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] + 40, box["y"] - 40)  # outside the canvas: no hover yet
    stroke(page, [(190, 10 + 12 * step) for step in range(21)])  # a one, from (190, 10) straight down
    expect(reading(page)).to_contain_text("1")


def test_the_exam_shows_the_confusion_matrix(app_url, trained_workspace, page):
    open_app(page, f"{app_url}/?workspace={trained_workspace}")
    page.get_by_role("link", name="Exam").click()
    page.get_by_role("button", name="Sit the final exam on the 10,000 test digits").click()
    expect(page.get_by_role("heading", name="Confusion matrix")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_contain_text("%")
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.data?.[0]?.type === 'heatmap')")

    # A click on the cell "true 9, predicted 4" opens its mistakes in the gallery.
    matrix = page.locator(".js-plotly-plot").filter(has=page.locator(".heatmaplayer")).first
    matrix.scroll_into_view_if_needed()
    x, y = matrix.evaluate("""plot => {
        const layout = plot._fullLayout, box = plot.getBoundingClientRect();
        return [box.left + layout._size.l + layout.xaxis.l2p(4), box.top + layout._size.t + layout.yaxis.l2p(9)];
    }""")
    page.mouse.click(x, y)
    expect(page.get_by_text(re.compile(r"mistakes? on a true 9 read as 4"))).to_be_visible()
    expect(page.get_by_role("combobox", name="True digit", exact=True)).to_have_value("9")
    expect(page.get_by_role("combobox", name="Predicted digit", exact=True)).to_have_value("4")

    # A refresh starts a new session: the exam's results are still there, without sitting it again.
    page.reload()
    expect(page.get_by_test_id("stMetric").filter(has_text="Test accuracy")).to_contain_text("%")


CNN_PRESET = TrainConfig.for_model("cnn")


def choose_a_cnn_with_a_long_first_epoch(page) -> None:
    """The CNN at batch 32, a quarter of its preset's: its first epoch takes some 15 s rather than 4, so a
    test sees it still training on a loaded machine, whose page may take seconds to draw."""
    choose(page, "Model", "CNN (convolutions)")
    # The preset drawn first: a press sent before it is would send the linear model's other settings back.
    expect(page.get_by_test_id("stToast").filter(has_text=f"Batch size 100 → {CNN_PRESET.batch_size}")).to_be_visible()
    batch_size = page.get_by_test_id("stSidebar").locator("[data-testid=stSlider]").filter(has_text="Batch size")
    slider = batch_size.get_by_role("slider")
    for _ in range(6):  # a stop at a time (a press may move it two while the page reruns)
        if slider.get_attribute("aria-valuetext") == "32":
            break
        slider.press("ArrowLeft")
        page.wait_for_timeout(700)
    expect(slider).to_have_attribute("aria-valuetext", "32")


def test_the_iteration_curve_streams_in_during_the_first_epoch(app_url, page):
    """A teacher narrates a run as it starts: per iteration, the batches' loss is drawn while the first
    epoch is still training (a CNN's first epoch is long enough to see it)."""
    open_train_page(page, app_url)
    choose_a_cnn_with_a_long_first_epoch(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("radio", name="per iteration").click()  # beside the run's name, once it has started
    page.wait_for_function(f"""() => document.body.innerText.includes('Epoch 1 of {CNN_PRESET.epochs}')
        && document.querySelector('.js-plotly-plot')?.data?.[0]?.x?.length > 0""", timeout=120_000)
    press_stop(page)
    expect(page.get_by_text(re.compile(r"Stopped during epoch \d+"))).to_be_visible(timeout=60_000)


def iterations_done(page) -> int:
    """The iterations the run has trained in all, from its progress bar ("Epoch 1 of 5: iteration 12 of 844")."""
    text = page.get_by_test_id("stProgress").inner_text().replace(",", "")
    epoch, step, steps = map(int, re.search(r"Epoch (\d+) of \d+: iteration (\d+) of (\d+)", text).groups())
    return (epoch - 1) * steps + step


def test_a_live_run_pauses_steps_one_batch_and_resumes(app_url, page):
    open_train_page(page, app_url)
    choose_a_cnn_with_a_long_first_epoch(page)  # it is still in its first epoch when paused
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Pause", exact=True).click()
    rule = page.get_by_text(re.compile(r"Paused: this run has given its training slot to others.*stops by itself in about"))
    expect(rule).to_be_visible(timeout=120_000)
    weights = page.get_by_test_id("stImage")
    expect(weights).to_have_count(1)  # the weights; what a step changed in them comes with the first step
    expect(page.get_by_text("Step one batch to see what a single step changes in them.")).to_be_visible()
    before, picture_before = iterations_done(page), weights.locator("img").get_attribute("src")

    page.get_by_role("button", name="Step one batch", exact=True).click()
    page.wait_for_function(f"""() => document.querySelector('[data-testid=stProgress]')?.innerText
        .replace(/,/g, '').match(/Epoch 1 of {CNN_PRESET.epochs}: iteration {before + 1} of/)""", timeout=60_000)
    expect(rule).to_be_visible()
    expect(weights).to_have_count(2)  # the weights, and what the step changed in them
    expect(weights.first.locator("img")).not_to_have_attribute("src", picture_before)  # the weights moved
    expect(page.get_by_text("What the last step changed in them")).to_be_visible()
    assert iterations_done(page) == before + 1

    page.get_by_role("button", name="Resume", exact=True).click()
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    expect(weights).to_have_count(0)
    page.wait_for_function(f"""() => +document.querySelector('[data-testid=stProgress]')?.innerText
        .replace(/,/g, '').match(/iteration (\\d+) of/)?.[1] > {before + 1}""", timeout=60_000)  # training again
    press_stop(page)
    expect(page.get_by_text(re.compile(r"Stopped during epoch \d+"))).to_be_visible(timeout=60_000)


def test_a_student_switches_to_chinese_trains_and_reads_the_result_in_chinese(app_url, page):
    open_train_page(page, app_url)
    choose(page, "Model", "MLP (hidden layers)")  # a choice made in English survives the switch
    page.get_by_test_id("stSidebar").get_by_role("radio", name="中文").click()
    expect(page.get_by_role("heading", name="训练模型")).to_be_visible()
    expect(page.get_by_role("combobox", name="模型", exact=True)).to_have_value("多层感知机（隐藏层）")
    assert "lang=zh" in page.url
    page.get_by_role("button", name="训练", exact=True).click()
    expect(page.get_by_text(re.compile(r"已完成全部 \d+ 轮。"))).to_be_visible(timeout=120_000)
    wait_for_chart_points(page, 1, at_least=True)
    axis_titles = page.locator(".js-plotly-plot").first.locator(".xtitle, .ytitle, .gtitle").all_text_contents()
    assert "轮次" in axis_titles and "交叉熵" in axis_titles, axis_titles
    # Plotly's own toolbar in Chinese too (it said "Download plot as a PNG", "Zoom", "Pan").
    page.locator(".js-plotly-plot").first.hover()
    expect(page.locator(".modebar-btn[data-title='下载为 PNG 图片']").first).to_be_attached()
    expect(page.locator(".modebar-btn[data-title='平移']").first).to_be_attached()
    page.reload()  # the address keeps the language
    expect(page.get_by_role("heading", name="训练模型")).to_be_visible()
    # Chromium finds its fonts through fontconfig: without a font for Chinese it draws empty boxes.
    chinese_fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    assert "CJK" in chinese_fonts, "no Chinese font installed (.ci/run installs fonts-noto-cjk)"


def test_a_browser_set_to_chinese_opens_the_app_in_chinese(app_url, chromium):
    context = chromium.new_context(locale="zh-CN")  # st.context.locale: the browser's language
    try:
        page = context.new_page()
        page.goto(app_url)
        expect(page.get_by_role("heading", name="MNIST 实验室")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stSidebar").get_by_role("radio", name="中文")).to_be_checked()
        assert "lang=zh" in page.url
    finally:
        context.close()


def test_two_students_training_at_once_each_get_their_own_chart_and_runs(app_url, app_runs_root, page, chromium):
    # Two browsers, two Streamlit sessions in two workspaces (two tabs of one browser share its workspace).
    other_browser = chromium.new_context(viewport=page.viewport_size)
    try:
        first, second = page, other_browser.new_page()
        second.set_default_timeout(60_000)
        for tab, name in ((first, "tab one"), (second, "tab two")):
            open_train_page(tab, app_url)
            tab.get_by_role("textbox", name="Run name (optional)").fill(name)
            tab.get_by_role("textbox", name="Run name (optional)").press("Enter")
        add_epochs(second, 2)  # the second tab trains 7 epochs, the first the default 5: each chart must show its own
        first.get_by_role("button", name="Train", exact=True).click()
        second.get_by_role("button", name="Train", exact=True).click()

        expect(first.get_by_text("Finished all 5 epoch(s).")).to_be_visible(timeout=180_000)
        expect(second.get_by_text("Finished all 7 epoch(s).")).to_be_visible(timeout=180_000)
        wait_for_chart_points(first, 5)
        wait_for_chart_points(second, 7)
        assert workspace_of(first) != workspace_of(second)
        for tab, name in ((first, "tab one"), (second, "tab two")):
            runs, _ = list_runs(app_runs_root, workspace=workspace_of(tab))
            assert [(run.name, run.status) for run in runs] == [(name, "completed")]
    finally:
        other_browser.close()


def sidebar_nickname(page) -> str:
    """The workspace's public nickname, as the sidebar shows it ("Workspace 7F3A: your runs are saved here ...")."""
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text(re.compile(r"Workspace [0-9A-F]{4}: your runs are saved here"))
    return re.search(r"Workspace ([0-9A-F]{4}):", sidebar.inner_text()).group(1)


def test_the_key_to_a_workspace_stays_off_the_screen_and_a_reload_comes_back_to_it(app_url, page, chromium):
    """A teacher's screen is projected: neither the page nor the address bar may show the workspace's name,
    which opens its runs. The browser remembers it, so a reload (or a new tab) comes back to the same runs."""
    from mnist_core.runs import workspace_nickname

    open_app(page, app_url)
    key = workspace_of(page)  # the browser's cookie
    nickname = sidebar_nickname(page)
    assert nickname == workspace_nickname(key)
    assert key not in page.locator("body").inner_text() and key not in page.url and "workspace" not in page.url

    page.reload()
    expect(page.get_by_role("heading", name="MNIST Lab")).to_be_visible()
    assert sidebar_nickname(page) == nickname and workspace_of(page) == key
    assert key not in page.content()  # once the browser remembers it, not even the page's source holds it
    new_tab = page.context.new_page()
    open_train_page(new_tab, app_url)
    assert sidebar_nickname(new_tab) == nickname and "workspace" not in new_tab.url and "lang=en" in new_tab.url

    # Asked for, the private link (for the student's other computer) is shown, with its warning: the
    # app's address, not the page's (a page's address opened first after a restart would lose its query).
    new_tab.get_by_test_id("stSidebar").get_by_text("Open my runs on another computer").click()
    warning = new_tab.get_by_text("Never show it on a projector or a shared screen.")
    expect(warning).to_be_visible()
    link = new_tab.get_by_test_id("stCode").filter(has_text="?workspace=").inner_text().strip()  # the Train page shows code too
    assert link == f"{app_url}/?workspace={key}"
    new_tab.get_by_role("link", name="Overview").click()  # not left open by mistake: another page closes it
    expect(new_tab.get_by_role("heading", name="MNIST Lab")).to_be_visible()
    expect(warning).to_have_count(0)
    assert key not in new_tab.content()
    new_tab.close()

    another_student, another_computer = chromium.new_context(), chromium.new_context()
    try:
        other = another_student.new_page()
        open_app(other, app_url)
        assert sidebar_nickname(other) != nickname and workspace_of(other) != key  # a workspace of their own
        elsewhere = another_computer.new_page()
        open_app(elsewhere, link)
        assert sidebar_nickname(elsewhere) == nickname and workspace_of(elsewhere) == key
        expect(elsewhere).not_to_have_url(re.compile("workspace="))  # taken out of the address once read
    finally:
        another_student.close()
        another_computer.close()


def test_a_run_killed_with_its_server_is_listed_as_interrupted_after_a_restart(tmp_path, page):
    """Kill the real server mid-run (SIGKILL: it cannot save anything), start it again, look."""
    runs_root = tmp_path / "runs"
    with running_app(runs_root, tmp_path / "first-server.log") as (server, url):
        open_train_page(page, url)
        choose(page, "Model", "MLP (hidden layers)")  # 10 epochs of about two seconds: time to kill it mid-run
        page.get_by_role("button", name="Train", exact=True).click()
        wait_for_chart_points(page, 1, at_least=True)
        workspace = workspace_of(page)
        (run,) = list_runs(runs_root, workspace=workspace)[0]
        assert run.status == "running"
        server.kill()
        server.wait()

    with running_app(runs_root, tmp_path / "second-server.log") as (_, url):
        open_app(page, f"{url}/?workspace={workspace}")
        page.get_by_role("link", name="Train").click()
        expect(page.get_by_text(re.compile(r"Interrupted during epoch \d+: the program training it stopped"))).to_be_visible()
        (run,) = list_runs(runs_root, workspace=workspace)[0]
        assert run.status == "interrupted" and len(run.history) >= 1
        page.get_by_role("link", name="Exam").click()  # its last saved weights load and sit the exam
        page.get_by_role("button", name="Sit the final exam on the 10,000 test digits").click()
        expect(page.get_by_role("heading", name="Confusion matrix")).to_be_visible()


HOSTILE_NAME = "**bold** [prize](http://e.example) <b>tag</b> :red[red] $x$"


def test_users_text_reads_as_typed_in_messages_tables_and_legends(app_url, app_runs_root, page, sample_dataset):
    """A run name full of Markdown and HTML, echoed in a warning, the run history and a chart legend:
    shown exactly as typed, with no link, no bold, no tag anywhere."""
    import json

    from mnist_core import TrainConfig, train_and_record

    workspace = new_workspace(app_runs_root)
    for _ in range(2):  # two runs, so the Compare chart has a legend
        training = train_and_record(TrainConfig(epochs=1, batch_size=50), sample_dataset, runs_root=app_runs_root,
                                    name=HOSTILE_NAME, workspace=workspace)
        list(training)
    run_json = training.recorder.folder / "run.json"  # as if its server had been killed: the warning names the run
    run_json.write_text(json.dumps({**json.loads(run_json.read_text()), "status": "running"}))
    open_app(page, f"{app_url}/?workspace={workspace}")
    page.get_by_role("link", name="Train").click()
    warning = page.locator("[data-testid=stAlert]").filter(has_text="Interrupted during epoch")
    expect(warning).to_contain_text(f"Run {HOSTILE_NAME}: Interrupted")
    page.get_by_role("link", name="Compare").click()
    expect(page.locator(".legendtext").first).to_contain_text(HOSTILE_NAME)
    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible()
    for url in (None, f"{app_url}/?workspace=**x**%20[y](http://e.example)"):
        if url is not None:
            open_app(page, url)
        expect(page.locator("[data-testid=stSidebar]")).to_be_visible()
        assert page.locator("a[href*='e.example']").count() == 0
        assert page.locator("[data-testid=stMarkdownContainer] strong, [data-testid=stMarkdownContainer] b").filter(
            has_text=re.compile("bold|tag|x")).count() == 0
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text(
        "“**x** [y](http://e.example)” is not a workspace this server handed out")
