"""English and Chinese: the catalogs are complete, no sentence escapes them, and every page reads in Chinese."""

import ast
import json
import re
import subprocess
import sys
import time

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from mnist_core.i18n import Message, format_number, in_language, language_of
from tests.app_server import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "mnist_core" / "locales" / "zh" / "LC_MESSAGES" / "mnist_lab.po"
# What `make translations` extracts (babel.cfg): every file a person's sentences come from.
SOURCES = sorted([PROJECT_ROOT / "dashboard.py", *(PROJECT_ROOT / "pages").glob("*.py"), *(PROJECT_ROOT / "ui").glob("*.py"),
                  *(PROJECT_ROOT / "mnist_core").rglob("*.py")])
PAGE_SOURCES = [path for path in SOURCES if path.parent.name in ("pages", "ui") or path.name == "dashboard.py"]
KEYWORDS = {"_": None, "N_": None, "Message": None}
FIELD = re.compile(r"\{[^{}]*\}")


def extracted_messages() -> dict[str, str]:
    """Every message id in the sources, as `make translations` extracts them, with where it was found."""
    messages = {}
    for path in SOURCES:
        for line, text, _comments, _context in extract_from_file("python", path, keywords=KEYWORDS):
            messages.setdefault(text, f"{path.relative_to(PROJECT_ROOT)}:{line}")
    return messages


def chinese_catalog() -> dict:
    with open(CATALOG, "rb") as file:
        return {message.id: message for message in read_po(file) if message.id}


def test_every_message_in_the_sources_has_a_chinese_translation_with_the_same_fields():
    catalog = chinese_catalog()
    problems = []
    for text, where in extracted_messages().items():
        message = catalog.get(text)
        if message is None:
            problems.append(f"{where}: not in the catalog (run `make translations`): {text!r}")
        elif not message.string or message.fuzzy:
            problems.append(f"{where}: no Chinese translation yet: {text!r}")
        elif sorted(FIELD.findall(text)) != sorted(FIELD.findall(message.string)):
            problems.append(f"{where}: the translation's fields differ: {text!r} -> {message.string!r}")
        elif re.search(r"[\u4e00-\u9fff]", message.string) is None and re.search(r"[A-Za-z]{3,}", FIELD.sub("", text)):
            if message.string == text and not re.fullmatch(r"[A-Z0-9][A-Za-z0-9 ()+]*", text):  # names stay: "MLP", "CNN"
                problems.append(f"{where}: the 'translation' is the English: {text!r}")
    assert not problems, "\n".join(problems)


# Streamlit calls whose text a person reads, and the keyword arguments that are text.
DISPLAY_CALLS = {"title", "header", "subheader", "caption", "write", "markdown", "info", "warning", "error", "success",
                 "toast", "button", "download_button", "selectbox", "multiselect", "radio", "slider", "select_slider",
                 "number_input", "text_input", "toggle", "checkbox", "metric", "progress", "spinner", "status",
                 "segmented_control", "expander", "tabs", "page_link", "image"}
TEXT_KEYWORDS = {"label", "help", "placeholder", "caption", "text", "body", "title", "value_label"}


def untranslated_text(node) -> bool:
    """A literal sentence (or an f-string) where a person reads text: it would reach the page in English."""
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"[A-Za-z]{2,}", node.value) is not None


def test_no_sentence_on_a_page_bypasses_the_catalog():
    """Every text argument of a Streamlit display call goes through `_` (or comes from a function
    that does); `_`, `N_` and `Message` never get an f-string, which no catalog could hold; and no
    function hides `_` behind a local variable of the same name (a `(_, _) = dataset` would)."""
    problems = []
    for path in PAGE_SOURCES + [path for path in SOURCES if path.parent.name == "mnist_core"]:
        tree = ast.parse(path.read_text(), str(path))

        def where(node, path=path):
            return f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"

        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in ("_", "N_", "Message") and node.args and isinstance(node.args[0], ast.JoinedStr):
                problems.append(f"{where(node)}: {name}() of an f-string cannot be in a catalog")
            if path in PAGE_SOURCES and isinstance(node.func, ast.Attribute) and name in DISPLAY_CALLS:
                texts = node.args[:1] + [keyword.value for keyword in node.keywords if keyword.arg in TEXT_KEYWORDS]
                problems += [f"{where(node)}: untranslated text in {name}()" for text in texts if untranslated_text(text)]
        if path in PAGE_SOURCES:
            for function in (node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.Lambda))):
                shadowing = [node for node in ast.walk(function) if isinstance(node, ast.Name) and node.id == "_"
                             and isinstance(node.ctx, ast.Store)]
                problems += [f"{where(node)}: a local variable named _ hides the translation function" for node in shadowing]
    assert not problems, "\n".join(problems)


def test_messages_render_in_each_language_with_the_language_s_numbers():
    message = Message("Finished all {epochs} epoch(s).", epochs=5)
    assert str(message) == "Finished all 5 epoch(s)." and message.render("zh") == "已完成全部 5 轮。"
    nested = Message("Stopped {when}; {kept}.", when=Message("during epoch {epoch}", epoch=3),
                     kept=Message("its {epochs} and their weights are kept", epochs=Message("{count} epochs", count=2)))
    assert "第 3 轮" in nested.render("zh") and "2 轮" in nested.render("zh") and "epoch" not in nested.render("zh")
    assert in_language(ValueError(Message("Back to the defaults")), "zh") == "恢复默认设置"
    assert in_language(ValueError("a library's own words"), "zh") == "a library's own words"
    assert format_number(0.9253, ".1%", "zh") == "92.5%" and format_number(54000, ",", "en") == "54,000"
    assert [language_of(code) for code in ("zh-CN", "zh_TW.UTF-8", "en-GB", "fr", None)] == ["zh", "zh", "en", "en", "en"]


def test_the_command_line_speaks_chinese_where_the_environment_does(runs_root):
    for language, expected in (("zh_CN.UTF-8", "还没有训练"), ("en_US.UTF-8", "No runs yet")):
        completed = subprocess.run([sys.executable, "-m", "mnist_core", "runs"], cwd=PROJECT_ROOT, capture_output=True,
                                   text=True, env={"PATH": "/usr/bin:/bin", "LANG": language, "MNIST_LAB_RUNS_DIR": str(runs_root)})
        assert completed.returncode == 0 and expected in completed.stdout, completed


# --- every page in Chinese, under AppTest --------------------------------------------------------------

CHINESE_WORKSPACE = "chinese-pages"
# Words that stay as they are in Chinese text: names, code (and any `code span`), the dataset, the optimizers.
KEPT_AS_THEY_ARE = re.compile(r"`[^`]*`|MNIST Lab|MNIST|softmax|xW \+ b|SGD|Adam|RMSprop|Adagrad|python -m mnist_core[\w -]*|"
                              r"\?workspace=\w+|MNIST_LAB_\w+|[\w-]+\.(npz|json|csv)|%\{[^}]*\}|<[^>]*>|run-[a-z]+")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}(?:[ ,'-]+[A-Za-z]{2,}){2,}")  # three English words in a row


def chart_texts(chart) -> list[str]:
    """Titles, axis titles, legend names, annotations and hover templates of a Plotly chart's JSON."""
    spec = json.loads(chart.proto.spec)
    texts = []

    def walk(value, key=None):
        if isinstance(value, dict):
            for child_key, child in value.items():
                walk(child, child_key)
        elif isinstance(value, list):
            for child in value:
                walk(child, key)
        elif isinstance(value, str) and key in ("text", "name", "hovertemplate", "title", "texttemplate"):
            texts.append(value)

    walk({"data": spec["data"], "layout": {name: part for name, part in spec["layout"].items() if name != "template"}})
    return texts


def page_texts(app: AppTest) -> list[str]:
    """Everything a person reads on the page as AppTest sees it."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "toast"):
        texts += [element.value for element in app.get(kind)]
    for metric in app.metric:
        texts += [metric.label, metric.value, metric.proto.delta, metric.proto.help]
    for kind in ("button", "selectbox", "multiselect", "radio", "slider", "select_slider", "number_input", "text_input",
                 "toggle", "segmented_control"):
        for widget in app.get(kind):
            texts += [widget.label, getattr(widget.proto, "help", ""), getattr(widget.proto, "placeholder", "")]
            texts += [str(option) for option in getattr(widget, "options", [])]
    for table in app.dataframe:
        texts += [str(column) for column in table.value.columns]
        texts += [str(cell) for cell in table.value.select_dtypes(include=["object", "string"]).to_numpy().ravel()]
    for chart in app.get("plotly_chart"):
        texts += chart_texts(chart)
    return [text for text in texts if text]


def english_left(texts: list[str]) -> list[str]:
    return sorted({text for text in texts if ENGLISH_PHRASE.search(KEPT_AS_THEY_ARE.sub(" ", text))})


@pytest.mark.pages
def test_every_page_renders_in_chinese_with_no_english_sentence_left(runs_root):
    from mnist_core import TrainConfig, load_mnist, train_and_record

    for name, optimizer in (("race-sgd", "sgd"), ("run-two", "adam")):  # the first named as the race names its runs
        config = TrainConfig(optimizer=optimizer, epochs=2, train_subset_size=300, batch_size=50)
        list(train_and_record(config, load_mnist(), runs_root=runs_root, workspace=CHINESE_WORKSPACE, name=name))
    app = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    app.session_state["workspace"] = CHINESE_WORKSPACE  # as its browser's cookie would bring it back
    app.query_params["lang"] = "zh"
    app.run()
    seen = {}
    for page in ("pages/overview.py", "pages/train.py", "pages/replay.py", "pages/compare.py", "pages/exam.py",
                 "pages/draw.py", "pages/robustness.py", "pages/inside.py"):
        app.switch_page(page).run()
        if page == "pages/train.py":  # a run of its own: the progress, the result, the charts and the cards
            app.select_slider(key="widget_train_subset_size").set_value(300)
            app.slider(key="widget_epochs").set_value(2)
            next(button for button in app.button if button.label == "训练").click().run()
            deadline = time.monotonic() + 120
            while not app.success and time.monotonic() < deadline:
                time.sleep(0.5)
                app.run()
            assert app.success and len(app.get("plotly_chart")) == 2
            history = app.dataframe[0].value.to_string()  # the app's own run names in Chinese too
            assert "竞赛-SGD" in history and "race-sgd" not in history and "run-two" in history
        if page == "pages/exam.py":
            next(button for button in app.button if "期末考试" in button.label).click().run()
        if page == "pages/replay.py":  # past the random start: the epoch's sentence, the curves and the digits
            app.select_slider(key="replay_epoch").set_value(1).run()
            assert len(app.get("plotly_chart")) == 3 and len(app.get("image")) >= 21
        if page == "pages/inside.py":  # a linear run: its ten vote maps, the three maps of what it looked at, two maps
            assert len(app.get("plotly_chart")) == 3 and len(app.get("image")) >= 1 + 10 + 3 + 8
        assert not app.exception, [exception.value for exception in app.exception]
        texts = page_texts(app) + page_texts_of_sidebar(app)
        assert any(re.search(r"[\u4e00-\u9fff]", text) for text in texts), page
        seen[page] = english_left(texts)
    assert not any(seen.values()), json.dumps(seen, ensure_ascii=False, indent=1)
    assert app.query_params["lang"] == "zh"  # kept in the address from page to page


def page_texts_of_sidebar(app: AppTest) -> list[str]:
    return [element.value for element in app.sidebar.get("caption")] + [header.value for header in app.sidebar.get("header")]


@pytest.mark.pages
def test_the_language_follows_the_address_and_the_switch():
    app = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    app.run()
    assert app.title[0].value == "MNIST Lab" and app.query_params["lang"] == "en"  # no browser locale: English
    app.segmented_control(key="language_switch").set_value("zh").run()
    assert app.query_params["lang"] == "zh" and any("训练集" in text for text in page_texts(app))
    app.switch_page("pages/train.py").run()
    assert app.title[0].value == "训练模型" and app.query_params["lang"] == "zh"
    refreshed = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    refreshed.query_params["lang"] = "zh"  # a refresh, or a link a teacher shared
    refreshed.run()
    assert refreshed.segmented_control(key="language_switch").value == "zh"
    for unknown in ("fr", "<script>"):  # a language the app does not have: English, and the address says so
        stranger = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
        stranger.query_params["lang"] = unknown
        stranger.run()
        assert not stranger.exception and stranger.title[0].value == "MNIST Lab" and stranger.query_params["lang"] == "en"


def literal_asterisks(markdown: str) -> int:
    """How many `**` a reader would see as text: Markdown rendered as CommonMark (as Streamlit does),
    with its tags left out."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").render(markdown)
    return re.sub(r"<[^>]+>", "", rendered).count("**")


@pytest.mark.parametrize("field_value", ["7", "字"], ids=["a number in each field", "a Han character in each field"])
def test_no_chinese_translation_shows_bold_markers_the_english_hides(field_value):
    """CommonMark closes bold only where the closing `**` follows a letter, or is followed by a space
    or punctuation: `**观察要点：**{look_for}` (full-width punctuation, then a Han character) showed
    its asterisks. Every message with `**`, its fields filled in, rendered in both languages."""
    problems = []
    for text, message in chinese_catalog().items():
        if "**" not in text + str(message.string):
            continue
        english, chinese = (literal_asterisks(FIELD.sub(field_value, markdown)) for markdown in (text, message.string))
        if chinese > english:
            problems.append(f"{message.string!r} shows {chinese} literal ** (its English {english})")
    assert not problems, "\n".join(problems)
