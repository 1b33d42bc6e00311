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
"""

import json
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from mnist_core.runs import SHARED_WORKSPACE, is_minted_workspace, list_runs, new_workspace, workspace_nickname
from ui.i18n import _
from ui.plain import plain

COOKIE_NAME = "mnist_lab_workspace"
COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600  # a school year and more
ADDRESS_KEY = "workspace"  # ?workspace=... in a private link
PRIVATE_LINK, PRIVATE_LINK_PAGE = "private_link", "private_link_page"  # its expander's state, and the page it is on


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


def workspace_runs():
    """(this workspace's runs, newest first; a message per damaged run folder)."""
    return list_runs(workspace=workspace())
