"""Browser test: a lesson followed step by step, and handed to a class at a step by the link for students."""

import re

import pytest
from playwright.sync_api import expect

from tests.app_server import open_app, workspace_of

pytestmark = pytest.mark.browser


def lesson_panel(page):
    return page.locator(".st-key-lesson-panel")


def test_a_teacher_starts_a_lesson_and_hands_its_step_to_a_class(app_url, chromium, page):
    open_app(page, app_url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Lessons", exact=True).click()
    sidebar.get_by_role("button", name="Start the lesson").click()
    panel = lesson_panel(page)
    expect(panel).to_contain_text("step 1 of 11: Load the dataset")
    expect(panel.get_by_role("button", name="Previous step")).to_be_disabled()
    panel.get_by_role("button", name="Next step").click()
    expect(panel).to_contain_text("step 2 of 11: Split the dataset")
    expect(page).to_have_url(re.compile(r"lesson=note&step=2"))  # a refresh comes back to the step

    page.get_by_role("button", name="Link for students").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Open the class at this lesson step")).to_be_visible()
    link = dialog.locator("code")
    expect(link).to_have_text(re.compile(r"lesson=note&step=2"))

    student = chromium.new_context(viewport={"width": 1280, "height": 720})
    try:
        student_page = student.new_page()
        student_page.goto(link.inner_text())
        student_panel = lesson_panel(student_page)
        expect(student_panel).to_contain_text("step 2 of 11: Split the dataset", timeout=60_000)
        assert workspace_of(student_page) != workspace_of(page)
        student_panel.get_by_text("The test set's").click()  # a wrong answer is told why
        expect(student_panel).to_contain_text("a test score used to choose settings is no longer an honest exam")
        student_panel.get_by_text("The validation set's").click()
        expect(student_panel.get_by_test_id("stAlertContentSuccess")).to_contain_text("the validation set is there to choose settings")

        # A step on another page, opened from an address: its page, and its settings in the sidebar.
        student_page.goto(re.sub(r"step=2", "step=7", link.inner_text()))
        expect(student_page.get_by_role("heading", name="Train a model")).to_be_visible(timeout=60_000)
        expect(lesson_panel(student_page)).to_contain_text("step 7 of 11: Define the hyperparameters")
        learning_rate = student_page.get_by_test_id("stSidebar").locator("[data-testid=stSlider]").filter(has_text="Learning rate")
        expect(learning_rate).to_contain_text("10")
    finally:
        student.close()
