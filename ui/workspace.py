"""The workspace: whose runs this browser session sees.

Every browser session trains in its own workspace, so forty students see forty separate run
histories. A workspace's name is the key to its runs (anyone who has it can see and stop them), and
a teacher's screen is projected to the class, so the name is never shown on the page or left in the
address bar. The browser keeps it in a cookie instead: a refresh, a new tab or a dropped connection
comes back to the same runs. The sidebar shows a nickname that opens nothing ("Workspace 7F3A"), and
a private link for another computer only when asked.

Only names this server handed out (runs.new_workspace, checked by runs.is_minted_workspace) are taken
from an address or a cookie: a hand-picked `?workspace=alice` is refused, so nobody opens runs by
guessing a name. The read-only `?workspace=shared` (the command line's runs) is no key and stays in
the address.

A workspace open in two live browser sessions at once (a student opened the teacher's private link,
two people share a computer) is said in both sidebars, and the later one is offered a workspace of its
own in one click; a student's own second tab reads the same words and nothing is blocked. Which
sessions are live, and why so: mnist_core/workspace_sessions.py.
"""

import json
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from mnist_core.runs import SHARED_WORKSPACE, is_minted_workspace, list_runs, new_workspace, workspace_nickname
from mnist_core.workspace_sessions import HEARTBEAT_SECONDS, WorkspaceSessions
from ui.failures import guarded_fragment
from ui.i18n import _
from ui.plain import plain
from ui.server_stores import server_store

COOKIE_NAME = "mnist_lab_workspace"
COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600  # a school year and more
ADDRESS_KEY = "workspace"  # ?workspace=... in a private link
PRIVATE_LINK, PRIVATE_LINK_PAGE = "private_link", "private_link_page"  # its expander's state, and the page it is on
SESSION_TOKEN = "workspace_session_token"  # this session's name in the server's record of who uses which workspace
TOOK_OWN_WORKSPACE = "took_own_workspace"  # set by the button's action, until the whole page is drawn again
# Streamlit's runtime method that says whether a session's browser is still connected (not in its documented API:
# browser_connected guards it, tests/test_workspace_sessions.py fails if an upgrade moves it).
LIVENESS_METHOD = "is_active_session"


def workspace() -> str:
    """This session's workspace, chosen on its first page run: the address's (a private link), else
    this browser's (its cookie), else a new one. The key is then taken out of the address bar."""
    name = st.session_state.get("workspace")
    if name is None:
        name = st.session_state["workspace"] = choose_workspace()
    if name == SHARED_WORKSPACE:
        if st.query_params.get(ADDRESS_KEY) != name:  # a page change clears the address's query
            st.query_params[ADDRESS_KEY] = name
    elif ADDRESS_KEY in st.query_params:
        del st.query_params[ADDRESS_KEY]  # never left where a projector shows it
    return name


def choose_workspace() -> str:
    requested = st.query_params.get(ADDRESS_KEY)
    if requested == SHARED_WORKSPACE or is_minted_workspace(requested):
        return requested
    remembered = st.context.cookies.get(COOKIE_NAME)
    name = remembered if is_minted_workspace(remembered) else new_workspace()
    if requested is not None:
        st.session_state["refused_workspace"] = (requested, name == remembered)
    return name


def remember_in_browser(name: str) -> None:
    """Keep `name` in this browser's cookie: Streamlit reads cookies (st.context.cookies) but cannot set
    them, so a script of our own, with no user text in it, sets it on the app's page."""
    cookie = f"{COOKIE_NAME}={name}; path=/; SameSite=Strict; max-age={COOKIE_MAX_AGE_SECONDS}"
    st.sidebar.html(f"<style>[data-testid=stElementContainer]:has(#{COOKIE_NAME}) {{display: none;}}</style>"  # no gap
                    f"<span id='{COOKIE_NAME}'></span><script>document.cookie = {json.dumps(cookie)};</script>",
                    unsafe_allow_javascript=True)


def private_link(name: str, page_path: str) -> str:
    """The address that opens `name` in another browser: the app's own address (without the page's
    `page_path`: a page's address, opened first after a server restart, goes round through the landing
    page and would lose its query)."""
    address = urlsplit(st.context.url or "")
    path = address.path.removesuffix("/").removesuffix(f"/{page_path}" if page_path else "") + "/"
    return urlunsplit((address.scheme, address.netloc, path, f"{ADDRESS_KEY}={name}", ""))


def workspace_sidebar(page_path: str = "") -> None:
    """The workspace's part of the sidebar; `page_path` is the current page's address (st.Page.url_path)."""
    name = workspace()
    refused = st.session_state.pop("refused_workspace", None)
    if refused is not None:
        requested, back_to_remembered = refused
        if back_to_remembered:
            st.sidebar.warning(_("“{name}” is not a workspace this server handed out, so it was not opened: this is the "
                                 "workspace this browser used before.", name=plain(requested)))
        else:
            st.sidebar.warning(_("“{name}” is not a workspace this server handed out, so this is a new, empty "
                                 "workspace.", name=plain(requested)))
    if name == SHARED_WORKSPACE:
        st.sidebar.caption(_("Workspace **shared**: the runs trained from the command line. It is read-only here: open the "
                             "app without ?workspace=shared to train in a workspace of your own."))
        return
    st.sidebar.caption(_("Workspace **{nickname}**: your runs are saved here, and this browser finds them again after a "
                         "refresh.", nickname=workspace_nickname(name)))
    with st.sidebar:
        guarded_fragment(shared_workspace_notice, run_every=HEARTBEAT_SECONDS)()
    # Lazy: the link is sent to the browser only while the expander is open, never hidden in a closed one.
    # Opened on one page, it closes when the student moves to another, so it is not left open by mistake.
    if st.session_state.get(PRIVATE_LINK_PAGE, page_path) != page_path:
        st.session_state[PRIVATE_LINK] = False
    st.session_state[PRIVATE_LINK_PAGE] = page_path
    expander = st.sidebar.expander(_("Open my runs on another computer"), icon=":material/key:", on_change="rerun",
                                   key=PRIVATE_LINK)
    if expander.open:
        with expander:
            st.warning(_("This link is the key to your runs: whoever has it can see them and stop your training. "
                         "Never show it on a projector or a shared screen."))
            st.code(private_link(name, page_path), language=None, wrap_lines=True)
    if st.context.cookies.get(COOKIE_NAME) != name:  # the page's source holds the key only until the cookie does
        remember_in_browser(name)


def session_token() -> str:
    """This browser session's own token, made on its first page run (see mnist_core/workspace_sessions.py)."""
    token = st.session_state.get(SESSION_TOKEN)
    if token is None:
        token = st.session_state[SESSION_TOKEN] = uuid.uuid4().hex
    return token


def browser_connected(connection: str) -> bool | None:
    """Whether the browser of Streamlit session `connection` is still connected; None where Streamlit cannot
    say: no server runs (its test harness stands a mock in for the runtime, whose answer is no bool), or an
    upgrade moved the method. Then mnist_core.workspace_sessions goes by when the session was last seen."""
    if not runtime.exists():
        return None
    ask = getattr(runtime.get_instance(), LIVENESS_METHOD, None)
    answer = ask(connection) if callable(ask) else None
    return answer if isinstance(answer, bool) else None


def shared_workspace_notice() -> None:
    """Note this session in the server's record and say whether another live session uses its workspace.
    Run on every page run and, as a fragment, every HEARTBEAT_SECONDS, so the session that was there first
    hears of a newcomer without a click. The nickname only: a teacher's screen may be on the projector."""
    if st.session_state.pop(TOOK_OWN_WORKSPACE, False):
        st.rerun()  # the click reran only this fragment: the whole page, its runs and nickname, is the new workspace's
    name = workspace()
    sessions = WorkspaceSessions(server_store("workspace sessions"))
    context = get_script_run_ctx()
    now = time.monotonic()
    sessions.note(session_token(), name, context.session_id if context is not None else "", now)
    company = sessions.company(session_token(), browser_connected, now)
    if not company.others:
        return
    elsewhere = (_("another browser tab or window") if company.others == 1 else
                 _("{count} other browser tabs or windows", count=company.others))
    if not company.came_later:
        st.info(_("This workspace (Workspace {nickname}) is open in {elsewhere} too: runs started in one show in the "
                  "other, and either can stop them. If that is you, nothing needs doing. If it is someone else, they "
                  "are offered a workspace of their own.", nickname=workspace_nickname(name), elsewhere=elsewhere),
                icon=":material/group:")
        return
    st.info(_("This workspace (Workspace {nickname}) is open in {elsewhere} too: runs started in one show in the other, "
              "and either can stop them. If that is you, nothing needs doing. If it is someone else, take a workspace "
              "of your own: a new, empty one, which this browser then keeps.", nickname=workspace_nickname(name),
              elsewhere=elsewhere), icon=":material/group:")
    st.button(_("Take a workspace of my own"), icon=":material/person_add:", on_click=take_own_workspace)


def take_own_workspace() -> None:
    """The button's action: a new, empty workspace for this session; the sidebar then writes it into this
    browser's cookie. A callback, so the workspace changes before any part of the page is drawn again."""
    st.session_state["workspace"] = new_workspace()
    st.session_state[TOOK_OWN_WORKSPACE] = True


def workspace_runs():
    """(this workspace's runs, newest first; a message per damaged run folder)."""
    return list_runs(workspace=workspace())
