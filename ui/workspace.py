"""The workspace: whose runs this browser session sees.

Every browser session trains in its own workspace, so forty students see forty separate run
histories. The workspace's name is kept in the address (?workspace=...), so a refresh, a dropped
connection or a bookmark brings the student back to their runs.
"""

import streamlit as st

from mnist_core.runs import SHARED_WORKSPACE, is_valid_identifier, list_runs, new_workspace
from ui.i18n import _
from ui.plain import plain


def workspace() -> str:
    """This session's workspace, chosen on its first page run and written into the address bar."""
    name = st.session_state.get("workspace")
    if name is None:
        requested = st.query_params.get("workspace")
        name = requested if is_valid_identifier(requested) else new_workspace()
        if requested and requested != name:
            st.session_state["refused_workspace"] = requested
        st.session_state["workspace"] = name
    if st.query_params.get("workspace") != name:  # a page change clears the address's query
        st.query_params["workspace"] = name
    return name


def workspace_sidebar() -> None:
    name = workspace()
    refused = st.session_state.pop("refused_workspace", None)
    if refused is not None:
        st.sidebar.warning(_("“{name}” is not a workspace name (letters, digits, '.', '-' and '\\_' only), so this is a new, "
                             "empty workspace.", name=plain(refused)))
    if name == SHARED_WORKSPACE:
        st.sidebar.caption(_("Workspace **shared**: the runs trained from the command line. It is read-only here: open the "
                             "app without ?workspace=shared to train in a workspace of your own."))
    else:
        st.sidebar.caption(_("Workspace **{name}**: your runs are saved here. Bookmark this page to come back to them.",
                             name=plain(name)))


def workspace_runs():
    """(this workspace's runs, newest first; a message per damaged run folder)."""
    return list_runs(workspace=workspace())
