"""Browser tests: the app as a student sees it, in a real Chromium against a real `streamlit run`."""

from playwright.sync_api import expect


def test_the_app_opens_on_the_overview_with_real_data(app_url, page):
    page.goto(app_url)
    expect(page.get_by_role("heading", name="MNIST Lab")).to_be_visible()
    expect(page.get_by_text("54,000")).to_be_visible()
    expect(page.get_by_text("Test digits")).to_be_visible()
    expect(page.get_by_text("label 7").first).to_be_visible()
