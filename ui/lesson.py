"""A lesson on the page: its step, what to do, a tick when the student's own run passes the step's
check, a question with a message for each answer, and Back / Next.

The lesson and its step live in the session and in the address (`?lesson=note&step=3`), so a refresh
comes back to the step and a teacher can hand a step out as a link. Entering a step loads its settings
into the sidebar (as a preset does, with a toast naming what changed) and opens its page; after that
the student may change anything. The lessons themselves are data (mnist_core/lessons/).
"""

import hashlib

import streamlit as st

from mnist_core.i18n import Message
from mnist_core.lessons import Lesson, LessonError, Step, lesson_names, load_lesson, with_settings
from mnist_core.share_links import LESSON_KEY, STEP_KEY
from ui.i18n import _, in_page_language, say
from ui.settings import announce_changes, apply_settings, current_config, settings
from ui.workspace import workspace_runs

LESSON_STATE = "lesson"  # (lesson name, step number from 1) while the session follows a lesson
ADDRESS_READ = "lesson_address_read"  # set on a session's first page run, once the address has been read


def page_file(step: Step) -> str:
    return f"pages/{step.page}.py"


def current_lesson() -> tuple[Lesson, int] | None:
    """(the lesson this session follows, its step number from 1), or None."""
    state = st.session_state.get(LESSON_STATE)
    if state is None:
        return None
    return load_lesson(state[0]), state[1]


def enter_step(lesson: Lesson, number: int) -> None:
    """Make step `number` the session's: its settings loaded (a hidden control keeps the link's value)."""
    st.session_state[LESSON_STATE] = (lesson.name, number)
    step = lesson.steps[number - 1]
    if step.settings:
        before = dict(settings())
        # The step's values win over a link's hidden ones: a lesson's later step (the CNN's own rate) must not
        # keep the value an earlier step loaded (a rate of 10) because the control is hidden.
        apply_settings(with_settings(current_config(), step).to_dict())
        announce_changes(before, settings(), _("Step {number}'s settings", number=number))


def go_to_step(lesson: Lesson, number: int) -> None:
    enter_step(lesson, number)
    st.switch_page(page_file(lesson.steps[number - 1]))


def open_lesson_from_address(page_path: str) -> None:
    """On a session's first page run: follow the lesson and step the address names, on the step's page,
    or say why not."""
    if st.session_state.get(ADDRESS_READ):
        return
    st.session_state[ADDRESS_READ] = True
    name = st.query_params.get(LESSON_KEY)
    if name is None:
        return
    try:
        lesson = load_lesson(name)
    except LessonError:
        st.warning(_("This link names a lesson this app does not have, so no lesson was opened. The lessons: {lessons}.",
                     lessons=", ".join(say(Message(load_lesson(known).title)) for known in lesson_names())),
                   icon=":material/menu_book:")
        del st.query_params[LESSON_KEY]
        return
    text = st.query_params.get(STEP_KEY, "1")
    number = int(text) if text.isdigit() and 1 <= int(text) <= len(lesson.steps) else None
    if number is None:
        st.warning(_("This link names a step the lesson does not have, so it opens at step 1."), icon=":material/menu_book:")
        number = 1
    enter_step(lesson, number)
    if lesson.steps[number - 1].page != page_path:
        st.switch_page(page_file(lesson.steps[number - 1]))


def keep_in_address(lesson: Lesson | None, number: int) -> None:
    """The lesson's step in the address, so a refresh or a copied address comes back to it (a page change
    clears the address's query)."""
    if lesson is None:
        for key in (LESSON_KEY, STEP_KEY):
            if key in st.query_params:
                del st.query_params[key]
        return
    if st.query_params.get(LESSON_KEY) != lesson.name or st.query_params.get(STEP_KEY) != str(number):
        st.query_params[LESSON_KEY], st.query_params[STEP_KEY] = lesson.name, str(number)


def lesson_sidebar() -> None:
    """Starting a lesson, in the sidebar, while the session follows none."""
    if current_lesson() is not None:
        return
    with st.sidebar.expander(_("Lessons"), icon=":material/menu_book:"):
        # A radio, not a select box: a lesson's title is a sentence, which a select box cuts short.
        name = st.radio(_("Lesson"), lesson_names(), format_func=in_page_language(lambda known: say(Message(load_lesson(known).title))),
                        key="lesson_choice")
        st.caption(say(Message(load_lesson(name).summary)))
        if st.button(_("Start the lesson"), icon=":material/play_lesson:", key="lesson_start"):
            go_to_step(load_lesson(name), 1)


def lesson_panel(page_path: str) -> None:
    """The lesson's step at the top of the page: its text, the task, the check, the question, Back and Next."""
    followed = current_lesson()
    keep_in_address(*(followed or (None, 0)))
    if followed is None:
        return
    lesson, number = followed
    step = lesson.steps[number - 1]
    with st.container(border=True, key="lesson-panel"):
        st.markdown(_("**{lesson}**, step {number} of {count}: **{step}**", lesson=say(Message(lesson.title)),
                      number=number, count=len(lesson.steps), step=say(Message(step.title))))
        row = st.container(horizontal=True)  # the buttons at their own width, side by side
        if row.button(_("Previous step"), icon=":material/arrow_back:", disabled=number == 1, key="lesson_back"):
            go_to_step(lesson, number - 1)
        if row.button(_("Next step"), icon=":material/arrow_forward:", disabled=number == len(lesson.steps), key="lesson_next",
                      type="primary"):
            go_to_step(lesson, number + 1)
        if row.button(_("Leave"), icon=":material/close:", key="lesson_leave",
                      help=_("Leave the lesson: the pages and your runs stay as they are.")):
            del st.session_state[LESSON_STATE]
            keep_in_address(None, 0)
            st.rerun()
        with st.expander(_("What this step is about"), expanded=True):
            st.markdown(say(Message(step.text)))
        if step.page != page_path:
            st.page_link(page_file(step), label=_("This step happens on the {page} page: open it", page=_(step.page.capitalize())),
                         icon=":material/arrow_outward:")
        st.markdown(_("**Your task:** {task}", task=say(Message(step.task))))
        if step.check is not None:
            runs, _damaged = workspace_runs()
            result = step.check.on(runs)
            if result.passed:
                st.success(_("Done. {what}", what=say(result.says)), icon=":material/check_circle:")
            else:
                st.caption(say(result.says))
        if step.question is not None:
            question_of(lesson, number, step)


def answer_order(question) -> list[int]:
    """The answers in an order of their own, the same for everyone and at every rerun: the lesson files
    write the right answer first, and a class would soon learn to click the first."""
    return sorted(range(len(question.answers)),
                  key=lambda index: hashlib.sha256(f"{question.text}|{question.answers[index].text}".encode()).digest())


def question_of(lesson: Lesson, number: int, step: Step) -> None:
    answers = step.question.answers
    chosen = st.radio(say(Message(step.question.text)), answer_order(step.question), index=None,
                      format_func=in_page_language(lambda index: say(Message(answers[index].text))), key=f"lesson_{lesson.name}_{number}_answer")
    if chosen is None:
        return
    answer = answers[chosen]
    if answer.correct:
        st.success(say(Message(answer.message)), icon=":material/check_circle:")
    else:
        st.warning(say(Message(answer.message)), icon=":material/lightbulb:")
