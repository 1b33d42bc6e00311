"""Class board: everyone's posted runs on one projector, ranked by validation accuracy as a contest's
public leaderboard is, until the teacher reveals the exam. A class that posts runs of several datasets
gets one ranking per dataset, chosen above the board: an accuracy on MNIST says nothing against one
on Fashion-MNIST."""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from mnist_core.classes import (
    MAX_CLASS_NAME_CHARACTERS,
    ClassBoardError,
    NoSuchClassError,
    board,
    board_csv,
    class_link_query,
    clear_board,
    close_class,
    common_to_the_top,
    differing_settings,
    hide_entry,
    new_class,
    reopen_class,
    reveal_exam,
    same_settings_spread,
    teacher_link_query,
    test_accuracy_of_run,
    unhide_entry,
    withdraw_entry,
)
from mnist_core.classes.class_folder import read_class
from mnist_core.share_links import qr_code
from ui.charts import overlay, show_chart
from ui.class_board import is_teacher, join_class, leave_class, session_class, session_teacher_key
from ui.dataset import dataset_or_stop, dataset_title
from ui.exam_results import exam_results
from ui.failures import guarded_fragment
from ui.heavy_work import in_turn
from ui.i18n import _, in_page_language, listed, number, say
from ui.navigation import require_navigation
from ui.plain import plain
from ui.settings import model_name, setting_label, setting_text, settings
from ui.share_link import app_address
from ui.workspace import workspace

REFRESH_SECONDS = 5  # the projector follows the class without a reload
PAGE_PATH = "board"
QR_CODE_PIXELS = 260
CURVES_SHOWN = 5  # the overlay's entries at first: the top of the board


def settings_words(config) -> str:
    """The entry's settings that differ from its model's start, in words (the model and the dataset have
    their own columns)."""
    differing = {name: value for name, value in differing_settings(config).items() if name not in ("model", "dataset")}
    if not differing:
        return _("the model's starting settings")
    return listed(_("{setting} {value}", setting=setting_label(name), value=setting_text(name, value))
                  for name, value in differing.items())


def say_error(error: ClassBoardError) -> None:
    st.error(plain(say(error)), icon=":material/block:")


def sidebar_dataset() -> str:
    """The dataset of this session's sidebar: its ranking is shown first."""
    return settings()["dataset"]


def entry_name(entry, mixed: bool) -> str:
    """An entry's nickname (plain text), with its dataset where the class posts on several."""
    return _("{nickname} ({dataset})", nickname=entry.nickname, dataset=dataset_title(entry.dataset)) if mixed \
        else entry.nickname


# -- without a class: what a board is, and making one ------------------------------------------------------

def no_class_page() -> None:
    st.write(_("A class board puts everyone's runs on one screen, ranked by best validation accuracy, as the public "
               "leaderboard of a contest is. The test accuracy stays hidden until the teacher reveals the exam: then "
               "the class sees whose choices were tuned to the validation set."))
    st.info(_("Students: open the link your teacher gives you. Teachers: make a class here, then hand out its link."),
            icon=":material/info:")
    with st.form("new_class", border=True):
        name = st.text_input(_("Class name"), max_chars=MAX_CLASS_NAME_CHARACTERS, key="new_class_name",
                             placeholder=_("e.g. Year 11, Tuesday"))
        if st.form_submit_button(_("Create a class"), icon=":material/add:", type="primary"):
            try:
                keys = new_class(name)
            except ClassBoardError as error:
                say_error(error)
                return
            join_class(keys)
            st.session_state["class_just_made"] = True
            st.rerun()


# -- the links, for the teacher ------------------------------------------------------------------------------

def class_links(class_id: str) -> None:
    root = app_address(PAGE_PATH)
    students = f"{root}?{urlencode(class_link_query(class_id))}"
    with st.expander(_("The students' link"), icon=":material/qr_code_2:",
                     expanded=st.session_state.pop("class_just_made", False)):
        code_column, link_column = st.columns([1, 2], vertical_alignment="center")
        code_column.image(qr_code(students, QR_CODE_PIXELS), width="content", caption=_("Scan to join the class"))
        link_column.code(students, language=None, wrap_lines=True)
        link_column.caption(_("Each student who opens it joins this class in a workspace of their own, and can post "
                              "finished runs from the Train page."))
    teacher = st.expander(_("The teacher's link (private)"), icon=":material/key:", on_change="rerun", key="teacher_link")
    if teacher.open:  # sent to the browser only while open: never hidden in a closed expander
        with teacher:
            st.warning(_("This link holds the teacher key: whoever has it can reveal the exam, hide entries and clear the "
                         "board. Keep it to yourself; never show it on a projector."), icon=":material/warning:")
            st.code(f"{root}?{urlencode(teacher_link_query(class_id, session_teacher_key()))}", language=None,
                    wrap_lines=True)


# -- the board -----------------------------------------------------------------------------------------------

def board_table(shown_board, by_test: bool) -> None:
    entries = shown_board.ranked_by_test_accuracy() if by_test else list(shown_board.entries)
    validation_rank = {entry.entry_id: place for place, entry in enumerate(shown_board.entries, start=1)}
    rows = []
    for place, entry in enumerate(entries, start=1):
        row = {_("rank"): place}
        if by_test:
            row[_("rank by validation")] = validation_rank[entry.entry_id]
        row.update({_("nickname"): entry.nickname, _("dataset"): dataset_title(entry.dataset),
                    _("best validation accuracy"): number(entry.best_val_acc, ".2%"), _("at epoch"): entry.best_epoch})
        if shown_board.revealed:
            row[_("test accuracy")] = "-" if entry.test_acc is None else number(entry.test_acc, ".2%")
        row.update({_("model"): model_name(entry.config.model), _("settings"): settings_words(entry.config)})
        row[_("yours")] = "✓" if entry.yours else ""
        if entry.hidden:
            row[_("hidden")] = "✓"
        rows.append(row)
    # A dataframe shows every cell as text: a nickname's Markdown or HTML stays characters.
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        _("settings"): st.column_config.TextColumn(width="medium"),
        _("nickname"): st.column_config.TextColumn(width="medium")})


def your_entries(class_id: str, whole_board) -> None:
    """The reader's entries on every dataset, each with a button to withdraw it."""
    yours = [entry for entry in whole_board.entries if entry.yours]
    if not yours:
        return
    mixed = len(whole_board.datasets()) > 1
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption(_("Your entries:"))
    for entry in yours:
        label = _("Withdraw “{nickname}” ({dataset})", nickname=plain(entry.nickname), dataset=dataset_title(entry.dataset)) \
            if mixed else _("Withdraw “{nickname}”", nickname=plain(entry.nickname))
        if row.button(label, key=f"withdraw_{entry.entry_id}", icon=":material/undo:"):
            try:
                withdraw_entry(class_id, entry.entry_id, workspace())
            except ClassBoardError as error:
                say_error(error)
                return
            st.rerun(scope="fragment")


def what_the_class_found(shown_board) -> None:
    groups = same_settings_spread(shown_board)
    top = common_to_the_top(shown_board)
    if not groups and not top:
        return
    st.subheader(_("What the class found"))
    if top:
        st.write(_("The top {count} all share: {settings}.", count=min(5, len(shown_board.entries)),
                   settings=listed(_("{setting} {value}", setting=setting_label(name), value=setting_text(name, value))
                                   for name, value in top.items())))
    for group in groups[:3]:
        words = listed(_("{setting} {value}", setting=setting_label(name), value=setting_text(name, value))
                       for name, value in group.settings.items()) or _("the starting settings")
        st.write(_("The same settings ({settings}), {count} entries: best validation accuracy from {lowest} to {highest}. "
                   "Only the random start differs: one result is no proof a choice is better.", settings=words,
                   count=len(group.entries), lowest=number(group.lowest, ".2%"), highest=number(group.highest, ".2%")))


def curves(shown_board) -> None:
    entries = {entry.entry_id: entry for entry in shown_board.entries}
    labels = {entry_id: f"{place}. {entry.nickname}" for place, (entry_id, entry) in enumerate(entries.items(), start=1)}
    top = list(entries)[:CURVES_SHOWN]
    # Keyed by the top of the board: while it stands, the choice stays; when a new post enters it, the chart
    # follows the new top, as a projector should.
    chosen = st.multiselect(_("Entries to draw"), list(entries), default=top, format_func=labels.get,
                            key=f"board_curves_{'_'.join(top)}")
    if chosen:
        dataset = dataset_title(entries[chosen[0]].dataset)  # a board of one dataset: every entry's
        show_chart(overlay({labels[entry_id]: ([epoch.epoch for epoch in entries[entry_id].history],
                                               [epoch.val_acc for epoch in entries[entry_id].history])
                            for entry_id in chosen}, _("validation accuracy"), as_percent=True, height=360,
                           title=_("Validation accuracy on {dataset}", dataset=dataset)),
                   key="board_overlay")


def exam_podium(shown_board) -> None:
    """The exam's top three, large for the projector: each test accuracy beside what validation promised."""
    examined = [entry for entry in shown_board.ranked_by_test_accuracy() if entry.test_acc is not None][:3]
    for place, (entry, column) in enumerate(zip(examined, st.columns(3)), start=1):
        column.metric(_("{place}. {nickname} on the exam", place=place, nickname=plain(entry.nickname)),
                      # Streamlit reads the arrow's direction from the delta's first character: the signed
                      # number comes first in every language.
                      number(entry.test_acc, ".2%"), delta=_("{points:+.1f} points against validation",
                                                             points=(entry.test_acc - entry.best_val_acc) * 100))


def board_dataset(whole_board) -> str:
    """The dataset whose ranking is shown: the only one, or where the class posts runs of several, the one
    chosen above the board (at first the sidebar's, or the one with the most entries). The entries of two
    datasets are never ranked together."""
    datasets = whole_board.datasets(first=sidebar_dataset())
    if len(datasets) == 1:
        return datasets[0]
    # The options' labels stay the same as entries come and go, so the choice stays while the projector refreshes.
    chosen = st.radio(_("Dataset"), datasets, horizontal=True, key="board_dataset",
                      format_func=in_page_language(dataset_title))
    chosen = chosen if chosen in datasets else datasets[0]
    counts = whole_board.dataset_counts()
    st.caption(_("Each dataset has its own ranking: an accuracy on one says nothing against an accuracy on another. "
                 "Entries per dataset: {counts}.",
                 counts=listed(f"{dataset_title(name)} {counts[name]:,}" for name in datasets)))
    return chosen


def live_board(class_id: str) -> None:
    """The board as it stands, read again every REFRESH_SECONDS."""
    try:
        shown_board = board(class_id, include_hidden=is_teacher(), viewer_workspace=workspace())
    except NoSuchClassError as error:
        say_error(error)
        return
    except ClassBoardError as error:
        say_error(error)
        return
    for problem in shown_board.problems:
        st.warning(plain(say(problem)), icon=":material/broken_image:")
    state = []
    if shown_board.closed:
        state.append(_("The class is closed: the teacher is not taking new posts."))
    if not shown_board.revealed:
        state.append(_("Ranked by best validation accuracy, the public score. The test accuracy stays hidden until the "
                       "teacher reveals the exam."))
    if state:
        st.caption(" ".join(state))
    if not shown_board.entries:
        st.info(_("No entries yet. Train a run on the Train page, then post it to the class board from there."),
                icon=":material/hourglass_empty:")
        return
    whole_board = shown_board
    shown_board = whole_board.of_dataset(board_dataset(whole_board))  # everything below: one dataset's entries
    by_test = False
    if shown_board.revealed:
        ranking = st.radio(_("Rank by"), ["validation", "test"], horizontal=True, key="board_ranking",
                           format_func=in_page_language(lambda choice: _("best validation accuracy") if choice == "validation"
                                                        else _("test accuracy (the exam)")))
        by_test = ranking == "test"
        st.info(_("The exam is revealed. If the order changes between validation and test, a choice tuned on the "
                  "validation set has overfitted it: the validation score promised more than the model gives on examples "
                  "it has never seen. The test ranking is the honest one, and no choice may be made from it."),
                icon=":material/school:")
    if shown_board.revealed:
        exam_podium(shown_board)
    board_table(shown_board, by_test)
    your_entries(class_id, whole_board)
    chart_column, found_column = st.columns([3, 2])
    with chart_column:
        curves(shown_board)
    with found_column:
        what_the_class_found(shown_board)


# -- the teacher's hand ---------------------------------------------------------------------------------------

def reveal(class_id: str, teacher_key: str, needed: set[str]) -> None:
    """Every entry's run sits the exam on the test set of its own dataset: each dataset `needed` (those of
    the entries not examined yet) is loaded first, so a dataset this server has not provisioned yet shows
    its provisioning before the exam starts. The datasets are the server's store (dataset_or_stop): one
    posted meanwhile is loaded when its first entry needs it."""
    for name in sorted(needed):
        dataset_or_stop(name)
    exams = exam_results()

    def exam_accuracy_of(run) -> float:
        kept = exams.get((run.workspace, *run.stamp))  # the student's own exam of this very run, if the server kept it
        return kept.accuracy if kept is not None else test_accuracy_of_run(run, dataset_or_stop)

    bar = st.progress(0.0, text=_("Sitting the exam for each entry..."))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=_("Sitting the exam: {done} of {total} entries",
                                                            done=done, total=total))

    try:
        report = in_turn(lambda: reveal_exam(class_id, teacher_key, exam_accuracy_of, progress=progress))
    except ClassBoardError as error:
        say_error(error)
        return
    bar.empty()
    st.success(_("The exam is revealed: {count} entries sat it now, {before} had sat it before.",
                 count=report.examined, before=report.already_examined), icon=":material/school:")
    for problem in report.problems:
        st.warning(plain(say(problem)))


def teacher_controls(class_id: str) -> None:
    teacher_key = session_teacher_key()
    with st.container(border=True, key="teacher-controls"):
        st.markdown(_("**The teacher's controls**"))
        try:
            shown_board = board(class_id, include_hidden=True)
        except ClassBoardError as error:
            say_error(error)
            return
        row = st.container(horizontal=True, vertical_alignment="bottom")
        reveal_pressed = row.button(_("Reveal the exam"), type="primary", icon=":material/school:", key="board_reveal",
                                    help=_("Every entry's model sits the exam on the 10,000 test pictures of its own "
                                           "dataset; the board then shows the test accuracies."))
        if shown_board.closed:
            if row.button(_("Reopen the class"), icon=":material/lock_open:", key="board_reopen"):
                act(lambda: reopen_class(class_id, teacher_key))
        elif row.button(_("Close the class"), icon=":material/lock:", key="board_close",
                        help=_("No new posts; the board stays.")):
            act(lambda: close_class(class_id, teacher_key))
        row.download_button(_("Download the board (CSV)"), board_csv(shown_board, first=sidebar_dataset()),
                            file_name="class-board.csv",
                            mime="text/csv", icon=":material/download:", key="board_csv", on_click="ignore")
        if reveal_pressed:
            reveal(class_id, teacher_key, shown_board.datasets_to_examine())
        if shown_board.entries:
            hide_row = st.container(horizontal=True, vertical_alignment="bottom")
            entries = {entry.entry_id: entry for entry in shown_board.entries}
            mixed = len(shown_board.datasets()) > 1  # then each entry is named with its dataset
            chosen = hide_row.selectbox(_("Entry"), list(entries), key="board_hide_choice",
                                        format_func=in_page_language(lambda entry_id: entry_name(entries[entry_id], mixed) + (
                                            _(" (hidden)") if entries[entry_id].hidden else "")))
            if chosen is not None and entries[chosen].hidden:
                if hide_row.button(_("Show it again"), icon=":material/visibility:", key="board_unhide"):
                    act(lambda: unhide_entry(class_id, teacher_key, chosen))
            elif chosen is not None and hide_row.button(_("Hide it"), icon=":material/visibility_off:", key="board_hide",
                                                        help=_("A rude nickname, say: the entry leaves the board.")):
                act(lambda: hide_entry(class_id, teacher_key, chosen))
            confirm = hide_row.checkbox(_("Yes, remove every entry"), key="board_clear_confirm")
            hide_row.button(_("Clear the board"), icon=":material/delete:", key="board_clear", disabled=not confirm,
                            on_click=clear_action, args=(class_id, teacher_key))
        refusal = st.session_state.pop("board_clear_refused", None)
        if refusal is not None:
            say_error(refusal)


def clear_action(class_id: str, teacher_key: str) -> None:
    """Clear's action: a callback, so the confirmation can be unticked before the page is drawn again."""
    st.session_state["board_clear_confirm"] = False
    try:
        clear_board(class_id, teacher_key)
    except ClassBoardError as error:
        st.session_state["board_clear_refused"] = error


def act(action) -> None:
    try:
        action()
    except ClassBoardError as error:
        say_error(error)
        return
    st.rerun()


def board_page() -> None:
    class_id = session_class()
    if class_id is None:
        st.title(_("Class board"))
        no_class_page()
        return
    try:
        name = read_class(class_id).name  # the title needs class.json alone; the fragment reads the entries
    except NoSuchClassError as error:
        st.title(_("Class board"))
        say_error(error)
        leave_class()
        return
    except ClassBoardError:
        name = ""
    st.title(_("Class board: {name}", name=plain(name)) if name else _("Class board"))
    guarded_fragment(live_board, run_every=REFRESH_SECONDS)(class_id)
    if is_teacher():  # under the board: at 1280x720 the table is what the projector shows first
        teacher_controls(class_id)
        class_links(class_id)
    if st.button(_("Leave the class"), icon=":material/logout:", key="board_leave",
                 help=_("This browser stops following the class; your runs and entries stay.")):
        leave_class()
        st.rerun()


require_navigation()
board_page()
