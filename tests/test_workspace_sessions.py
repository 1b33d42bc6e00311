"""A workspace open in two live browser sessions is noticed: the server's record of who uses which
workspace (mnist_core/workspace_sessions.py), the Streamlit method it asks whether a browser is still
connected, and both sessions told on the real pages (AppTest)."""

import dataclasses
import inspect
import re
from types import SimpleNamespace

import pytest

from mnist_core import workspace_sessions
from mnist_core.stores import SERVER_STORES
from mnist_core.workspace_sessions import SEEN_RECENTLY_SECONDS, Company, WorkspaceSessions
from tests.helpers import button, has_button, open_page, shown

TEACHER, STUDENT, SECOND_STUDENT = "session-teacher", "session-student", "session-second-student"
WORKSPACE, OTHER_WORKSPACE = "0123456789abcdef-01234567", "fedcba9876543210-76543210"


def new_record() -> WorkspaceSessions:
    return WorkspaceSessions(SERVER_STORES["workspace sessions"].new_store())


def connected_unless(*closed):
    """The runtime's answer for browsers that are all connected but `closed` (connections are named like sessions)."""
    return lambda connection: connection not in closed


def unknown(connection):
    return None  # no runtime to ask: the record goes by when each session was last seen


# -- the record, without Streamlit ---------------------------------------------------------------------

def test_two_sessions_in_one_workspace_are_both_told_and_the_later_one_is_the_newcomer():
    record = new_record()
    record.note(TEACHER, WORKSPACE, TEACHER, now=0)
    assert record.company(TEACHER, connected_unless(), now=0) == Company(others=0, came_later=False)
    record.note(STUDENT, WORKSPACE, STUDENT, now=5)
    assert record.company(STUDENT, connected_unless(), now=5) == Company(others=1, came_later=True)
    record.note(TEACHER, WORKSPACE, TEACHER, now=20)  # the teacher's next page run or heartbeat: still the first
    assert record.company(TEACHER, connected_unless(), now=20) == Company(others=1, came_later=False)
    record.note(SECOND_STUDENT, WORKSPACE, SECOND_STUDENT, now=30)
    assert record.company(SECOND_STUDENT, connected_unless(), now=30) == Company(others=2, came_later=True)


def test_sessions_in_different_workspaces_and_sessions_not_noted_are_alone():
    record = new_record()
    record.note(TEACHER, WORKSPACE, TEACHER, now=0)
    record.note(STUDENT, OTHER_WORKSPACE, STUDENT, now=0)
    assert record.company(TEACHER, connected_unless(), now=1).others == 0
    assert record.company(STUDENT, connected_unless(), now=1).others == 0
    assert record.company("never-noted", connected_unless(), now=1).others == 0


def test_a_session_whose_browser_has_gone_no_longer_counts_at_once_and_is_forgotten_later():
    store = SERVER_STORES["workspace sessions"].new_store()
    record = WorkspaceSessions(store)
    record.note(TEACHER, WORKSPACE, TEACHER, now=0)
    record.note(STUDENT, WORKSPACE, STUDENT, now=1)
    # The student closes the tab (or refreshes it: the old page's connection closes, a new session opens).
    assert record.company(TEACHER, connected_unless(STUDENT), now=2).others == 0
    assert STUDENT in dict(store.items())  # a connection that drops for a moment comes back as the same session
    record.company(TEACHER, connected_unless(STUDENT), now=2 + SEEN_RECENTLY_SECONDS + 1)
    assert STUDENT not in dict(store.items()) and TEACHER in dict(store.items())


def test_a_refresh_is_not_a_second_window():
    record = new_record()
    record.note("before-refresh", WORKSPACE, "before-refresh", now=0)
    record.note("after-refresh", WORKSPACE, "after-refresh", now=1)
    assert record.company("after-refresh", connected_unless("before-refresh"), now=1) == Company(0, False)


def test_without_the_runtime_s_answer_a_session_is_live_while_seen_recently():
    record = new_record()
    record.note(TEACHER, WORKSPACE, TEACHER, now=0)
    record.note(STUDENT, WORKSPACE, STUDENT, now=1)
    assert record.company(STUDENT, unknown, now=SEEN_RECENTLY_SECONDS) == Company(1, True)
    record.note(STUDENT, WORKSPACE, STUDENT, now=2 + SEEN_RECENTLY_SECONDS)  # the teacher's page went quiet
    assert record.company(STUDENT, unknown, now=2 + SEEN_RECENTLY_SECONDS).others == 0


def test_a_session_that_takes_another_workspace_leaves_the_first_and_arrives_anew():
    record = new_record()
    record.note(TEACHER, WORKSPACE, TEACHER, now=0)
    record.note(STUDENT, WORKSPACE, STUDENT, now=1)
    record.note(STUDENT, OTHER_WORKSPACE, STUDENT, now=2)
    assert record.company(TEACHER, connected_unless(), now=3).others == 0
    assert record.company(STUDENT, connected_unless(), now=3).others == 0
    record.note(STUDENT, WORKSPACE, STUDENT, now=4)  # back again: now it came after the teacher's arrival at 0 anyway
    record.note(TEACHER, OTHER_WORKSPACE, TEACHER, now=5)
    record.note(TEACHER, WORKSPACE, TEACHER, now=6)  # the teacher left and came back: later than the student now
    assert record.company(STUDENT, connected_unless(), now=6) == Company(1, False)
    assert record.company(TEACHER, connected_unless(), now=6) == Company(1, True)


def test_the_record_keeps_to_its_budget_and_forgets_the_least_recently_seen():
    budget = SERVER_STORES["workspace sessions"]
    record = WorkspaceSessions(store := budget.new_store())
    sessions = [f"session-{number}" for number in range(budget.max_kept + 50)]
    for moment, session in enumerate(sessions):
        record.note(session, WORKSPACE, session, now=moment)
    assert len(store) == budget.max_kept and store.held_bytes() <= budget.max_bytes
    kept = dict(store.items())
    assert sessions[0] not in kept and sessions[-1] in kept
    last = len(sessions)
    assert record.company(sessions[-1], connected_unless(), now=last).others == budget.max_kept - 1


# -- the Streamlit method the pages ask ----------------------------------------------------------------

def test_the_streamlit_method_that_says_a_browser_is_connected_still_exists():
    """The pages ask Streamlit's runtime whether a session's browser is still connected, through a method
    outside Streamlit's documented API. If an upgrade renames it, this fails here first; the pages then go
    by when each session was last seen, so a closed tab or a refresh counts as a second window for a while."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    from ui.workspace import LIVENESS_METHOD

    method = getattr(runtime.Runtime, LIVENESS_METHOD, None)
    assert callable(method) and list(inspect.signature(method).parameters) == ["self", "session_id"]
    assert callable(runtime.exists) and callable(runtime.get_instance) and callable(get_script_run_ctx)
    assert "session_id" in {field.name for field in dataclasses.fields(ScriptRunContext)}


def test_the_pages_take_the_runtime_s_answer_and_go_by_time_where_it_has_none(monkeypatch):
    from streamlit.runtime import Runtime

    from ui.workspace import LIVENESS_METHOD, browser_connected

    assert not Runtime.exists() and browser_connected("any") is None  # no server in this process
    monkeypatch.setattr(Runtime, "_instance", SimpleNamespace(**{LIVENESS_METHOD: lambda session_id: session_id == "open"}))
    assert browser_connected("open") is True and browser_connected("closed") is False
    monkeypatch.setattr(Runtime, "_instance", SimpleNamespace())  # an upgrade moved the method
    assert browser_connected("open") is None
    monkeypatch.setattr(Runtime, "_instance", SimpleNamespace(**{LIVENESS_METHOD: lambda session_id: object()}))
    assert browser_connected("open") is None  # the test harness's mock runtime answers with a mock, not a bool


# -- the pages, with AppTest ---------------------------------------------------------------------------

NEWCOMER_SAYS = "take a workspace of your own"
FIRST_SAYS = "they are offered a workspace of their own"
TAKE_OWN = "Take a workspace of my own"


def notices(app) -> str:
    return " ".join(shown(info) for info in app.sidebar.info if "is open in" in info.value)


def next_page_run(app):
    """The session's next page run as a browser makes it: through dashboard.py, which draws the sidebar.
    (After a session's first run, AppTest runs the page's own script alone, as a server does for an address
    asked for before its entry script has run; the pages' navigation guard then sends it round through
    dashboard.py, as here.)"""
    from ui.navigation import NAVIGATION_READY

    app.session_state[NAVIGATION_READY] = False
    return app.run()


@pytest.fixture
def seen_long_enough(monkeypatch):
    """AppTest has no server, so no connections to ask about: a session counts as live while it was seen
    recently (the fallback above). A slow machine must not make the first session count as gone between
    two page runs, so here "recently" lasts the whole test."""
    monkeypatch.setattr(workspace_sessions, "SEEN_RECENTLY_SECONDS", 3600)


@pytest.mark.pages
def test_two_sessions_on_one_workspace_are_both_told_and_the_newcomer_takes_its_own(runs_root, seen_long_enough):
    from mnist_core.runs import is_minted_workspace, workspace_nickname
    from ui.workspace import COOKIE_NAME

    teacher = open_page()
    key = teacher.session_state["workspace"]
    assert not notices(teacher) and not has_button(teacher, TAKE_OWN)

    student = open_page(address=key)  # the teacher's private link, opened by a student
    assert student.session_state["workspace"] == key and not student.exception
    told = notices(student)
    assert f"(Workspace {workspace_nickname(key)}) is open in another browser tab or window too" in told
    assert NEWCOMER_SAYS in told and key not in told and has_button(student, TAKE_OWN)

    next_page_run(teacher)  # in a browser, the sidebar's heartbeat tells it too, without a click
    assert FIRST_SAYS in notices(teacher) and key not in notices(teacher) and not has_button(teacher, TAKE_OWN)

    button(student, TAKE_OWN).click()
    next_page_run(student)
    own = student.session_state["workspace"]
    assert own != key and is_minted_workspace(own) and not student.exception
    assert not notices(student) and not has_button(student, TAKE_OWN)
    assert any(f"{COOKIE_NAME}={own}" in html.value for html in student.sidebar.get("html"))  # this browser keeps it
    next_page_run(teacher)
    assert not notices(teacher)


@pytest.mark.pages
def test_a_third_session_hears_of_both_and_the_shared_workspace_is_never_noticed(runs_root, seen_long_enough):
    first = open_page()
    key = first.session_state["workspace"]
    open_page(workspace=key)  # the same browser's second tab
    third = open_page(workspace=key)
    assert "is open in 2 other browser tabs or windows too" in notices(third) and has_button(third, TAKE_OWN)

    shared = [open_page(address="shared") for _ in range(2)]  # the command line's runs, shown to the class
    assert all(app.session_state["workspace"] == "shared" and not notices(app) for app in shared)


# -- a real server and Chromium: what "live" means there -----------------------------------------------

@pytest.mark.browser
def test_in_a_browser_the_first_is_told_without_a_click_and_a_closed_tab_or_a_refresh_stops_counting(app_url, page,
                                                                                                      chromium):
    from playwright.sync_api import expect

    from mnist_core.workspace_sessions import HEARTBEAT_SECONDS
    from tests.app_server import WORKSPACE_COOKIE, open_app, workspace_of

    def told(tab):
        return tab.get_by_test_id("stSidebar").get_by_text(re.compile(r"This workspace \(Workspace [0-9A-F]{4}\) is open in"))

    within_a_heartbeat = {"timeout": (2 * HEARTBEAT_SECONDS + 10) * 1000}
    open_app(page, app_url)  # the teacher
    key = workspace_of(page)
    page.reload()  # the old page's connection closes: a refresh is no second window
    expect(page.get_by_role("heading", name="MNIST Lab")).to_be_visible()
    expect(told(page)).to_have_count(0)

    student_browser = chromium.new_context()
    try:
        student = student_browser.new_page()
        open_app(student, f"{app_url}/?workspace={key}")  # the teacher's private link
        expect(told(student)).to_contain_text("take a workspace of your own")
        expect(told(page)).to_contain_text(FIRST_SAYS, **within_a_heartbeat)  # no click: the sidebar's heartbeat
        assert key not in page.locator("body").inner_text() and key not in student.locator("body").inner_text()
        student.get_by_role("button", name=TAKE_OWN).click()
        student.wait_for_function(f"() => document.cookie.includes('{WORKSPACE_COOKIE}=') && "
                                  f"!document.cookie.includes('{WORKSPACE_COOKIE}={key}')")  # a workspace of its own
        expect(told(student)).to_have_count(0)
        expect(told(page)).to_have_count(0, **within_a_heartbeat)
    finally:
        student_browser.close()

    second_tab = page.context.new_page()  # the teacher's own second tab: both told, nothing blocked
    open_app(second_tab, app_url)
    expect(told(second_tab)).to_be_visible()
    expect(told(page)).to_be_visible(**within_a_heartbeat)
    second_tab.close()
    expect(told(page)).to_have_count(0, **within_a_heartbeat)
