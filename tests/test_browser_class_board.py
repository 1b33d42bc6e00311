"""Browser test: a class board live in Chromium. Two students post runs, the projector sees them arrive
without a reload, the teacher reveals the exam, and a student with a wrong key cannot."""

import re

import pytest
from playwright.sync_api import expect

from mnist_core.classes import new_class

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 720}
QUICK_RUN = "train_subset_size=1000&epochs=1"  # a link for students' settings: a linear run in a second


def open_app(page, address: str) -> None:
    """Open the app at `address` and wait for its landing page (the server's first page run loads MNIST)."""
    page.goto(address)
    expect(page.get_by_role("heading", name="MNIST Lab")).to_be_visible(timeout=60_000)


def open_board(page) -> None:
    page.get_by_role("link", name="Class board", exact=True).first.click()
    expect(page.get_by_role("heading", name=re.compile("^Class board: Period 3"))).to_be_visible()


def drawn_entry(page, nickname: str):
    """The entry's curve chosen for the overlay (the board's table draws on a canvas, out of the page's text)."""
    return page.get_by_text(re.compile(rf"^\d+\. {re.escape(nickname)}$")).first


def train_and_post(page, nickname: str) -> None:
    page.get_by_role("link", name="Train", exact=True).click()
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible()
    page.get_by_role("button", name="Train", exact=True).click()
    nickname_box = page.get_by_role("textbox", name="Nickname on the class board")
    expect(nickname_box).to_be_visible(timeout=120_000)
    nickname_box.fill(nickname)
    nickname_box.press("Enter")
    page.get_by_role("button", name="Post to the class board").click()
    expect(page.get_by_text(re.compile(f"^Posted as “{nickname}”: number"))).to_be_visible()


def test_two_students_post_the_projector_follows_and_only_the_teacher_reveals(app_url, app_runs_root, chromium):
    keys = new_class("Period 3", runs_root=app_runs_root)
    contexts = [chromium.new_context(viewport=VIEWPORT) for _ in range(5)]
    try:
        teacher, projector, ada, bo, stranger = (context.new_page() for context in contexts)
        open_app(teacher, f"{app_url}/{keys.teacher_query}")
        expect(teacher).not_to_have_url(re.compile("teacher="))  # the key left the address before anything was drawn
        open_board(teacher)
        expect(teacher.get_by_role("button", name="Reveal the exam")).to_be_visible()

        open_app(projector, f"{app_url}/{keys.student_query}")
        open_board(projector)
        expect(projector.get_by_text("No entries yet.", exact=False)).to_be_visible()

        for student, nickname in ((ada, "Ada"), (bo, "Bo <b>")):
            open_app(student, f"{app_url}/{keys.student_query}&{QUICK_RUN}")
            train_and_post(student, nickname)
        for nickname in ("Ada", "Bo <b>"):  # no reload: the board reads itself again every few seconds
            expect(drawn_entry(projector, nickname)).to_be_visible(timeout=20_000)

        open_app(stranger, f"{app_url}/{keys.student_query}&teacher={'0' * 32}")
        expect(stranger.get_by_text("teacher key does not open this class", exact=False)).to_be_visible()
        expect(stranger).not_to_have_url(re.compile("teacher="))
        open_board(stranger)
        expect(drawn_entry(stranger, "Ada")).to_be_visible()
        expect(stranger.get_by_role("button", name="Reveal the exam")).to_have_count(0)

        teacher.get_by_role("button", name="Reveal the exam").click()
        expect(teacher.get_by_text(re.compile(r"^The exam is revealed: 2 entries sat it now"))).to_be_visible(timeout=120_000)
        expect(projector.get_by_text("The exam is revealed.", exact=False)).to_be_visible(timeout=20_000)
        exam = projector.get_by_test_id("stMetric").filter(has_text="on the exam")
        expect(exam).to_have_count(2)
        for nickname in ("Ada", "Bo <b>"):
            expect(exam.filter(has_text=nickname)).to_contain_text(re.compile(r"\d+\.\d\d%"))
        expect(projector.get_by_role("radiogroup", name="Rank by")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
