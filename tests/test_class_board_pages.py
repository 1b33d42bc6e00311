"""The class board's pages under Streamlit's AppTest: hostile nicknames, forged teacher keys, unknown
classes, and posting from the Train page (the engine's own tests are in test_class_board.py)."""

import pytest

from mnist_core.classes import board, new_class, post_entry
from mnist_core.runs import list_runs
from tests.helpers import button, copy_workspace, has_button, open_page, shown
from ui.plain import plain

pytestmark = pytest.mark.pages

BOARD = "pages/board.py"
TEACHER_BUTTONS = ("Reveal the exam", "Close the class", "Clear the board")


@pytest.fixture
def a_class(runs_root):
    return new_class("Year 11")


@pytest.fixture
def student(runs_root, sample_run_template):
    """A workspace holding one finished run (two epochs on the sample digits)."""
    return copy_workspace(sample_run_template.parent, runs_root)


def board_cells(app) -> list[str]:
    """Every cell of the board's table, as the dataframe holds it (plain text)."""
    frame = app.dataframe[0].value
    return [str(value) for column in frame.columns for value in frame[column]]


def test_a_class_link_opens_its_board_and_keeps_the_class_in_the_address(runs_root, a_class):
    app = open_page(BOARD, query={"class": a_class.class_id})
    assert not app.exception
    assert app.title[0].value == "Class board: Year 11"
    assert app.query_params["class"] == a_class.class_id
    assert not any(has_button(app, label) for label in TEACHER_BUTTONS)


def test_the_teachers_link_gives_the_controls_and_its_key_leaves_the_address_at_once(runs_root, a_class):
    app = open_page(query={"class": a_class.class_id, "teacher": a_class.teacher_key})
    assert "teacher" not in app.query_params  # gone on the very first page run, before any page is drawn
    app.switch_page(BOARD).run()
    assert not app.exception
    assert has_button(app, "Reveal the exam") and has_button(app, "Close the class")
    assert "teacher" not in app.query_params
    assert all(a_class.teacher_key not in element.value for element in app.code)  # the private link's expander is closed


@pytest.mark.parametrize("key", ["0" * 32, "forged", "<script>alert(1)</script>", "x" * 10_000, ""])
def test_a_forged_teacher_key_is_a_note_and_no_controls(runs_root, a_class, key):
    app = open_page(query={"class": a_class.class_id, "teacher": key})
    assert "teacher" not in app.query_params
    assert any("teacher key does not open this class" in warning.value for warning in app.warning)
    app.switch_page(BOARD).run()
    assert not app.exception
    assert app.title[0].value == "Class board: Year 11"  # the board opens, for a student
    assert not any(has_button(app, label) for label in TEACHER_BUTTONS)


def test_a_missing_teacher_key_gives_no_controls(runs_root, a_class):
    app = open_page(BOARD, query={"class": a_class.class_id})
    assert not any(has_button(app, label) for label in TEACHER_BUTTONS)


@pytest.mark.parametrize("class_id", ["deadbeefdeadbeef-00000000", "../../etc", "<b>x</b>", "A" * 10_000])
def test_an_unknown_class_is_a_note_and_no_board(runs_root, class_id):
    app = open_page(query={"class": class_id, "teacher": "0" * 32})
    assert not app.exception
    assert any("class does not exist on this server" in warning.value for warning in app.warning)
    assert "class" not in app.query_params and "teacher" not in app.query_params
    app.switch_page(BOARD).run()
    assert app.title[0].value == "Class board" and has_button(app, "Create a class")


HOSTILE_NICKNAMES = ["**b** [l](http://e.ex)", "<b>t</b><img src=x>", ":red[red] $x$",
                     "\u202eevil\u202c name", "مرحبا abc"]


@pytest.mark.parametrize("nickname", HOSTILE_NICKNAMES)
def test_a_hostile_nickname_is_shown_as_plain_text_on_the_board(runs_root, a_class, student, nickname):
    (run,), _damaged = list_runs(workspace=student)
    entry = post_entry(a_class.class_id, run, nickname)
    app = open_page(BOARD, workspace=student, query={"class": a_class.class_id})
    assert not app.exception
    assert entry.nickname in board_cells(app)  # a dataframe cell: text, never Markdown or HTML
    assert "yours" in app.dataframe[0].value.columns
    # A button's label is Markdown: the nickname in it is escaped, so it reads as typed.
    assert has_button(app, f"Withdraw “{plain(entry.nickname)}”")


def test_the_train_page_posts_the_newest_finished_run_and_names_its_rank(runs_root, a_class, student):
    app = open_page("pages/train.py", workspace=student, query={"class": a_class.class_id})
    app.text_input(key="board_nickname").input("**Ada** <b>")
    button(app, "Post to the class board").click().run()
    assert not app.exception
    assert any(shown(message).startswith("Posted as “**Ada** <b>”: number 1 of 1") for message in app.success)
    (entry,) = board(a_class.class_id).entries
    assert entry.nickname == "**Ada** <b>"


@pytest.mark.parametrize("nickname", ["", "   ", "\u202e\u200b"])
def test_an_empty_or_invisible_nickname_is_refused_with_a_message(runs_root, a_class, student, nickname):
    app = open_page("pages/train.py", workspace=student, query={"class": a_class.class_id})
    app.text_input(key="board_nickname").set_value(nickname)
    button(app, "Post to the class board").click().run()
    assert not app.exception
    assert any("A nickname cannot be empty" in shown(error) for error in app.error)
    assert board(a_class.class_id).entries == ()


def test_a_10_kb_nickname_is_cut_to_the_boxs_24_characters(runs_root, a_class, student):
    app = open_page("pages/train.py", workspace=student, query={"class": a_class.class_id})
    app.text_input(key="board_nickname").set_value("x" * 10_000)  # the server keeps the box's max_chars
    button(app, "Post to the class board").click().run()
    assert not app.exception
    (entry,) = board(a_class.class_id).entries
    assert entry.nickname == "x" * 24


def test_without_a_class_the_train_page_offers_no_post(runs_root, student):
    app = open_page("pages/train.py", workspace=student)
    assert not has_button(app, "Post to the class board")


def test_a_teacher_creates_a_class_and_gets_the_students_link(runs_root):
    app = open_page(BOARD)
    app.text_input(key="new_class_name").input("Tuesday ../../etc")
    button(app, "Create a class").click().run()
    assert not app.exception
    assert app.title[0].value == "Class board: Tuesday ../../etc".replace(".", "\\.").replace("/", "\\/")
    assert any("?class=" in code.value for code in app.code)
    assert has_button(app, "Reveal the exam")
    assert "teacher" not in app.query_params and "class" in app.query_params


def test_replay_posts_the_run_it_shows(runs_root, a_class, student):
    app = open_page("pages/replay.py", workspace=student, query={"class": a_class.class_id})
    (run,), _damaged = list_runs(runs_root, student)
    assert any(shown(caption).startswith(f"Posts this run ({run.name})") for caption in app.caption)
    app.text_input(key="board_nickname").input("Bo")
    button(app, "Post to the class board").click().run()
    assert not app.exception
    (entry,) = board(a_class.class_id).entries
    assert (entry.nickname, entry.run_id) == ("Bo", run.run_id)


def test_the_exam_s_difference_starts_with_its_sign_in_every_language():
    """st.metric takes the arrow's direction from the delta's first character: "比验证集 -5.0" showed a green
    arrow up for a drop."""
    from babel.messages.pofile import read_po

    from mnist_core.i18n import LOCALES_DIRECTORY

    with open(LOCALES_DIRECTORY / "zh" / "LC_MESSAGES" / "mnist_lab.po", "rb") as file:
        catalog = read_po(file)
    assert catalog["{points:+.1f} points against validation"].string.startswith("{points:+.1f}")
