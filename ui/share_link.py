"""A link for students: the teacher's settings, shown large with a QR code for the projector, and
opened by each student into a workspace of their own.

The address a teacher's browser shows is no link for a class: it names no settings, and a copy of
it with a private workspace link in it would put every student in one workspace. So the sidebar
makes a link of its own (mnist_core/share_links.py): the settings that differ from the model's
starting point, the language, the controls to hide, never the workspace. Opening it, a session
takes each value the sidebar would take, says which it left out, and then takes the link's keys
out of the address: from there the session's settings carry on from page to page, as any
student's do.
"""

from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from mnist_core.i18n import Message
from mnist_core.setting_ranges import SETTING_RANGES
from mnist_core.share_links import (
    LESSON_KEY,
    STEP_KEY,
    is_link_key,
    link_query,
    qr_code,
    reaches_only_this_computer,
    settings_from_link,
)
from ui.failures import guarded
from ui.i18n import LANGUAGES, _, language, listed, say
from ui.lesson import current_lesson
from ui.plain import plain
from ui.settings import apply_settings, current_config, hidden_settings, hide_settings, setting_label, setting_text

LINK_READ = "students_link_read"  # set on a session's first page run, once the address has been read
QR_CODE_PIXELS = 380  # big for a phone across a classroom, yet beside the link in the dialog at 1280x720


def open_link_from_address() -> None:
    """On a session's first page run: apply the settings a link for students carries, hide the controls
    it names, say what was left out, and take the link's keys out of the address (the language and a
    private link's workspace are read and kept, or removed, by their own modules)."""
    if st.session_state.get(LINK_READ):
        return
    st.session_state[LINK_READ] = True
    keys = [key for key in st.query_params if is_link_key(key)]
    if not keys:
        return
    link = settings_from_link({key: st.query_params.get_all(key) for key in keys})
    apply_settings(link.config.to_dict())
    hide_settings(link.hidden)
    for key in keys:
        del st.query_params[key]
    if link.dropped:
        notes = "\n".join(f"- {plain(say(note))}" for note in link.dropped)
        st.warning(_("This link held values the sidebar does not offer. They were left out, and the sidebar shows the "
                     "settings in use:") + "\n\n" + notes, icon=":material/link_off:")


def app_address(page_path: str) -> str:
    """The app's own address, without the current page's `page_path`: a page's address, opened first after
    a server restart, goes round through the landing page and would lose its query."""
    address = urlsplit(st.context.url or "")
    path = address.path.removesuffix("/").removesuffix(f"/{page_path}" if page_path else "") + "/"
    return urlunsplit((address.scheme, address.netloc, path, "", ""))


def students_link(root: str, hide: list[str], lesson_step: tuple[str, int] | None = None) -> tuple[str, dict]:
    """(the link for students to the app at `root`, its query): this session's settings and language, and
    `lesson_step` (a lesson's name, a step number) for the class to open at that step."""
    query = link_query(current_config(), language(), hide)
    if lesson_step is not None:
        query.update({LESSON_KEY: lesson_step[0], STEP_KEY: str(lesson_step[1])})
    return f"{root}?{urlencode(query, safe=',')}", query


def what_the_link_sets(query: dict) -> str:
    config = current_config()
    changed = [_("{setting} {value}", setting=setting_label(name), value=setting_text(name, getattr(config, name)))
               for name in query if name in SETTING_RANGES]
    if not changed:
        return _("It carries no settings: students start from the defaults.")
    return _("It sets: {settings}.", settings=listed(changed))


def link_for_students_button(page_path: str) -> None:
    """At the sidebar's end: a button that shows the link for students in a large dialog, for the projector."""

    def link_dialog(root: str) -> None:
        hide = st.multiselect(_("Controls to hide in the students' sidebar"), list(SETTING_RANGES), default=hidden_settings(),
                              format_func=setting_label, key="students_link_hide",
                              help=_("A hidden control keeps the link's value: students see the rest of the sidebar only."))
        followed, lesson_step = current_lesson(), None
        if followed is not None and st.checkbox(
                _("Open the class at this lesson step ({lesson}, step {number})", lesson=say(Message(followed[0].title)),
                  number=followed[1]), value=True, key="students_link_lesson"):
            lesson_step = (followed[0].name, followed[1])
        link, query = students_link(root, hide, lesson_step)
        if reaches_only_this_computer(link):
            st.warning(_("This address opens the app on this computer only: students' computers cannot reach it. Start "
                         "the app for the classroom's network (the README's “In a classroom”), open it here at this "
                         "computer's network address, and make the link again."), icon=":material/wifi_off:")
        code_column, link_column = st.columns([2, 3], vertical_alignment="center")
        code_column.image(qr_code(link, QR_CODE_PIXELS), width="content",
                          caption=_("Scan to open the link"))
        with link_column:
            # The link in large type for the projector: our own fixed style, no user text.
            st.html("<style>.st-key-students-link code {font-size: 1.35rem; line-height: 1.5;}</style>")
            st.container(key="students-link").code(link, language=None, wrap_lines=True)
            st.caption(what_the_link_sets(query))
            st.caption(_("Each student who opens it starts with these settings in a workspace of their own, in {name}: "
                         "the link never carries your workspace or your runs.", name=LANGUAGES[language()]))

    # A dialog reruns on its own, outside the page's guard: guarded, a fault in it is the app's message.
    dialog = st.dialog(_("Link for students"), width="large", icon=":material/qr_code_2:")(guarded(link_dialog))

    if st.sidebar.button(_("Link for students"), icon=":material/qr_code_2:", width="stretch",
                         help=_("A link and a QR code for the class: your settings and language, each student in a "
                                "workspace of their own.")):
        dialog(app_address(page_path))
