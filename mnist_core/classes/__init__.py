"""Class boards: everyone's runs on one projector, ranked as a contest is judged.

A teacher makes a class (`python -m mnist_core class new NAME`, or a page) and gets two links: the
students' (`?class=<class id>`) and the teacher's (`?class=<class id>&teacher=<teacher key>`). A
student posts a finished run with a nickname; the board ranks the entries by best validation
accuracy, the public leaderboard. The test accuracy of each stays hidden until the teacher reveals
the exam: then a change of order shows which choices were tuned to the validation set.

A class is a folder in the runs store, beside the workspaces and never taken for one:

    runs/.classes/<class id>/
        class.json          its name (a label only), when it was made, the SHA-256 of its teacher key,
                            its owner secret, whether it is closed, when the exam was revealed, the
                            entries the teacher hid
        class.lock          the class's lock, held while a post or a teacher's action changes the folder
        entries/<entry id>.json   one per entry: nickname, owner token, run id and stamp, settings,
                            curves per epoch, best validation accuracy and epoch
        exam.json           after the reveal: each entry's test accuracy and the run id that earned it

The class id is minted (64 random bits and an HMAC tag under the server's secret), so nobody finds a
class by guessing and a stranger's id is refused before anything is read. The teacher key is another
128 random bits; the server keeps only its SHA-256, compared in constant time. No file of a class
holds a workspace name: a poster is known by an owner token, an HMAC of their workspace under the
class's secret (entries.py says how replacing, withdrawing and the reveal use it).

Every change is made under the class's lock (class_folder.class_lock: a lock in memory for the
server's threads, a lock file for other processes) and every file is written whole and renamed into
place, so forty students posting in the same second lose nothing and a reader never meets half a file.
Every file is read with a size bound, and a damaged entry is reported by name, never a broken board.

The parts, each importing only those above it:

    class_folder.py   names, limits, ids and keys, plain text for names and nicknames, the lock, class.json
    entries.py        Entry: posting, withdrawing, reading entries back
    board.py          Board: the ranking, the CSV, what the class found (settings that differ, the spread
                      of the same settings, what the top entries share), each within one dataset: an
                      entry's config names its dataset (MNIST for one posted before there were two),
                      and entries of different datasets are never ranked or compared together
    teacher.py        hide, close, clear, and the reveal of the exam (each entry on its own dataset's test set)
"""

from .board import (
    Board,
    SettingsGroup,
    board,
    board_csv,
    common_to_the_top,
    differing_settings,
    same_settings_spread,
)
from .class_folder import (
    CLASS_ADDRESS_KEY,
    CLASSES_FOLDER,
    MAX_CLASS_NAME_CHARACTERS,
    MAX_CLASSES,
    MAX_ENTRIES,
    MAX_NICKNAME_CHARACTERS,
    TEACHER_ADDRESS_KEY,
    ClassBoardError,
    ClassKeys,
    ClassSaveError,
    NoSuchClassError,
    TeacherKeyError,
    check_teacher_key,
    class_link_query,
    clean_class_name,
    clean_nickname,
    is_minted_class,
    is_teacher_key,
    new_class,
    teacher_link_query,
)
from .entries import BoardEpoch, Entry, post_entry, withdraw_entry
from .teacher import (
    RevealReport,
    clear_board,
    close_class,
    hide_entry,
    reopen_class,
    reveal_exam,
    test_accuracy_of_run,
    unhide_entry,
)

__all__ = [
    "CLASS_ADDRESS_KEY", "CLASSES_FOLDER", "MAX_CLASS_NAME_CHARACTERS", "MAX_CLASSES", "MAX_ENTRIES", "MAX_NICKNAME_CHARACTERS",
    "TEACHER_ADDRESS_KEY",
    "Board", "BoardEpoch", "ClassBoardError", "ClassKeys", "ClassSaveError", "Entry", "NoSuchClassError", "RevealReport",
    "SettingsGroup", "TeacherKeyError",
    "board", "board_csv", "check_teacher_key", "class_link_query", "clean_class_name", "clean_nickname", "clear_board",
    "close_class", "common_to_the_top", "differing_settings", "hide_entry", "is_minted_class", "is_teacher_key",
    "new_class", "post_entry", "reopen_class", "reveal_exam", "same_settings_spread", "teacher_link_query",
    "test_accuracy_of_run", "unhide_entry", "withdraw_entry",
]
