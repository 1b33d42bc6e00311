"""The session's class board: which class it follows, whether it holds the teacher's key, and posting a
finished run to the board (the Train page's panel). The board page itself is pages/board.py.

A class's students' link (`?class=<class id>`) puts the session in the class: the class id is kept in
the session and in the address, like a lesson's step, so a refresh comes back to it and it follows the
session from page to page. The teacher's link adds `&teacher=<key>`: the key is checked (in constant
time, by the engine), kept in the session, and taken out of the address on the same page run, so a
projector never shows it. A forged or stale key, or a class this server does not have, is a note on
the page; the board then opens without the teacher's controls, or not at all.
"""

import streamlit as st

from mnist_core.classes import (
    CLASS_ADDRESS_KEY,
    TEACHER_ADDRESS_KEY,
    ClassBoardError,
    ClassKeys,
    NoSuchClassError,
    board,
    is_minted_class,
    is_teacher_key,
    post_entry,
)
from mnist_core.classes.class_folder import MAX_NICKNAME_CHARACTERS, read_class
from ui.dataset import dataset_title
from ui.i18n import _, run_name, say
from ui.plain import plain
from ui.workspace import workspace

CLASS_STATE = "class_id"  # the class this session follows
TEACHER_STATE = "class_teacher_key"  # the teacher key, only once checked; never shown, never in the address
CLASS_NOTE = "class_note"  # a note about the address's class or key, shown once on the next page drawn
BOARD_PAGE = "pages/board.py"


def session_class() -> str | None:
    """The class this session follows, or None."""
    return st.session_state.get(CLASS_STATE)


def session_teacher_key() -> str | None:
    """The teacher key of the session's class, if the session holds a right one."""
    return st.session_state.get(TEACHER_STATE) if session_class() is not None else None


def is_teacher() -> bool:
    return session_teacher_key() is not None


def join_class(keys: ClassKeys | str, teacher_key: str | None = None) -> None:
    """Make `keys`'s class the session's (and with a teacher key, the session the teacher's)."""
    if isinstance(keys, ClassKeys):
        keys, teacher_key = keys.class_id, keys.teacher_key
    st.session_state[CLASS_STATE] = keys
    if teacher_key is None:
        st.session_state.pop(TEACHER_STATE, None)
    else:
        st.session_state[TEACHER_STATE] = teacher_key
    st.query_params[CLASS_ADDRESS_KEY] = keys


def leave_class() -> None:
    for key in (CLASS_STATE, TEACHER_STATE):
        st.session_state.pop(key, None)
    if CLASS_ADDRESS_KEY in st.query_params:
        del st.query_params[CLASS_ADDRESS_KEY]


def open_class_from_address() -> None:
    """On every page run: take a class and a teacher key from the address, take the key out of it at once,
    keep the session's class in it (a page change clears the address's query), and say what was refused."""
    requested = st.query_params.get(CLASS_ADDRESS_KEY)
    offered_key = st.query_params.get(TEACHER_ADDRESS_KEY)
    if TEACHER_ADDRESS_KEY in st.query_params:
        del st.query_params[TEACHER_ADDRESS_KEY]  # never left where a projector shows it
    if requested is not None and requested != session_class():
        if is_minted_class(requested) and class_exists(requested):
            join_class(requested)
        else:
            del st.query_params[CLASS_ADDRESS_KEY]
            st.session_state[CLASS_NOTE] = _("This link's class does not exist on this server, so no class board was "
                                             "opened: ask the teacher for the link again.")
            offered_key = None
    if offered_key is not None:
        if session_class() is not None and is_teacher_key(session_class(), offered_key):
            st.session_state[TEACHER_STATE] = offered_key
        else:
            st.session_state.pop(TEACHER_STATE, None)
            st.session_state[CLASS_NOTE] = _("This link's teacher key does not open this class, so its board opens "
                                             "without the teacher's controls. Only the teacher's own link holds the key.")
    if session_class() is not None and st.query_params.get(CLASS_ADDRESS_KEY) != session_class():
        st.query_params[CLASS_ADDRESS_KEY] = session_class()
    note = st.session_state.pop(CLASS_NOTE, None)
    if note is not None:
        st.warning(note, icon=":material/leaderboard:")


def class_exists(class_id: str) -> bool:
    try:
        read_class(class_id)  # class.json alone: the entries are the board page's to read
    except NoSuchClassError:
        return False
    except ClassBoardError:
        return True  # a damaged class.json: the board page says so
    return True


def newest_finished_run(runs):
    """The newest of `runs` (newest first) that has finished with at least one epoch, or None."""
    return next((run for run in runs if run.status.finished and run.history), None)


def post_panel(runs, newest: bool = True) -> None:
    """For a session in a class: post the newest finished of `runs` to the class board (the Train page
    passes the workspace's runs; Replay, with `newest` false, the run it shows)."""
    class_id, run = session_class(), newest_finished_run(runs)
    if class_id is None or run is None:
        return
    with st.container(border=True, key="post-to-board"):
        row = st.container(horizontal=True, vertical_alignment="bottom")
        nickname = row.text_input(_("Nickname on the class board"), max_chars=MAX_NICKNAME_CHARACTERS, key="board_nickname",
                                  help=_("Shown to the whole class, as typed. Posting again under the same nickname "
                                         "replaces your earlier entry."))
        again = row.checkbox(_("Keep my earlier entry"), key="board_keep_earlier",
                             help=_("Post this run as one more entry, beside the one already under this nickname."))
        if row.button(_("Post to the class board"), icon=":material/leaderboard:", key="board_post"):
            try:
                entry = post_entry(class_id, run, nickname, replace=not again)
                # Ranked among the entries of its own dataset only: the board ranks each dataset on its own.
                ranked = board(class_id, viewer_workspace=workspace()).of_dataset(entry.dataset).entries
                rank = next((place for place, shown in enumerate(ranked, start=1) if shown.entry_id == entry.entry_id), None)
            except ClassBoardError as error:
                st.error(plain(say(error)), icon=":material/block:")
                return
            if rank is None:
                st.success(_("Posted as “{nickname}”. The teacher has hidden this entry from the board.",
                             nickname=plain(entry.nickname)))
            else:
                st.success(_("Posted as “{nickname}”: number {rank} of {count} {dataset} entries on the class board, by "
                             "best validation accuracy ({accuracy:.2%}).", nickname=plain(entry.nickname), rank=rank,
                             count=len(ranked), dataset=dataset_title(entry.dataset), accuracy=entry.best_val_acc),
                           icon=":material/leaderboard:")
        name = plain(run_name(run.name) if run.name else run.run_id)
        st.caption(_("Posts your newest finished run ({name}) with its settings and curves; never your workspace.", name=name)
                   if newest else _("Posts this run ({name}) with its settings and curves; never your workspace.", name=name))


def class_sidebar() -> None:
    """The class this session follows, in the sidebar on every page: its name (plain text) and its board."""
    class_id = session_class()
    if class_id is None:
        return
    try:
        name = read_class(class_id).name  # class.json alone: every page run of every student draws this link
    except ClassBoardError:
        return  # the board page says why
    st.sidebar.page_link(BOARD_PAGE, label=_("Class board: {name}", name=plain(name)), icon=":material/leaderboard:")
