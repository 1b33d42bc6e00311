"""The command line's own words in the reader's language: argparse's fixed strings through the catalog,
and help text wrapped by display width (a Han character takes two columns of a terminal).

argparse looks its words up through its module-level `_` (gettext.gettext) and `ngettext` as it builds
a parser, formats help and reports a mistake; `argparse_in(language)` points them at the project's
catalog while the command line does those things, and puts them back afterwards.
"""

from __future__ import annotations

import argparse
import unicodedata
from contextlib import contextmanager

from .i18n import N_, translate

# argparse's own words that a person can meet here (Python 3.11's msgids, extracted into the catalog).
# ngettext's singular and plural forms are two messages: the one that fits the count is translated.
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("expected %s argument"),
    N_("expected %s arguments"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("not allowed with argument %s"),
)
SECTION_HEADINGS = ("positional arguments", "options")

# Line breaking as Chinese typesetting does it: closing punctuation never starts a line, opening never ends one.
NO_LINE_START = frozenset("。，、；：？！）」』】〕》〉…～%,.;:!?)]}’”")
NO_LINE_END = frozenset("（「『【〔《〈([{‘“")


def character_width(character: str) -> int:
    if unicodedata.combining(character):
        return 0
    return 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1


def display_width(text: str) -> int:
    """How many terminal columns `text` takes: two for a Han character or a full-width mark, one for ASCII."""
    return sum(character_width(character) for character in text)


def padded(text: str, width: int) -> str:
    """`text` filled with spaces to `width` columns, as f"{text:{width}s}" does for ASCII."""
    return text + " " * max(0, width - display_width(text))


def _pieces(text: str) -> list[tuple[str, bool]]:
    """The unbreakable pieces of `text`, each with whether a space came before it: a run of narrow characters
    (an English word, a number, a flag), or one wide character, with the punctuation that may not be
    parted from it."""
    pieces: list[list] = []
    space_before = False
    for character in text:
        if character.isspace():
            space_before = True
            continue
        previous = pieces[-1] if pieces else None
        wide = character_width(character) == 2
        if previous and character in NO_LINE_START:
            previous[0] += " " + character if space_before else character
        elif previous and not space_before and (previous[0][-1] in NO_LINE_END or
                                                (not wide and character_width(previous[0][-1]) < 2)):
            previous[0] += character
        else:
            pieces.append([character, space_before])
        space_before = False
    return [(text, space) for text, space in pieces]


def _cut(piece: str, width: int) -> list[str]:
    """A piece wider than a line, cut into lines of at most `width` columns."""
    lines, line = [], ""
    for character in piece:
        if line and display_width(line + character) > width:
            lines.append(line)
            line = ""
        line += character
    return lines + [line]


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` display columns, broken between words or Han characters, never
    before a closing mark such as "。" or "，"."""
    lines: list[str] = []
    line, used = "", 0
    for piece, space_before in _pieces(text):
        separator = " " if space_before and line else ""
        piece_width = display_width(piece)
        if line and used + len(separator) + piece_width > width:
            lines.append(line)
            line, used = piece, piece_width
        else:
            line, used = line + separator + piece, used + len(separator) + piece_width
        if used > width:
            *full, line = _cut(line, width)
            lines += full
            used = display_width(line)
    return lines + ([line] if line else [])


def is_narrow(text: str) -> bool:
    return all(character_width(character) == 1 for character in text)


class DisplayWidthHelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, measuring text in terminal columns: English is wrapped exactly as argparse
    wraps it, text with Han characters by `wrap`."""

    def _split_lines(self, text, width):
        if is_narrow(text):
            return super()._split_lines(text, width)
        return wrap(text, width)

    def _fill_text(self, text, width, indent):
        if is_narrow(text):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))

    def _format_usage(self, usage, actions, groups, prefix):
        # argparse indents the usage's later lines by the prefix's length in characters: measure it in columns.
        if prefix is None:
            prefix = argparse._("usage: ")
        stand_in = " " * display_width(prefix)
        return prefix + super()._format_usage(usage, actions, groups, stand_in)[len(stand_in):]

    def format_help(self):
        # A heading ends with argparse's ":"; a Chinese one with the full-width "：".
        text = super().format_help()
        for heading in SECTION_HEADINGS:
            translated = argparse._(heading)
            if not is_narrow(translated):
                text = text.replace(f"\n{translated}:\n", f"\n{translated}：\n")
        return text


@contextmanager
def argparse_in(language: str):
    """argparse's own words in `language`, from the project's catalog, while the block runs."""
    saved = argparse._, argparse.ngettext

    def gettext(message):
        return translate(message, language)

    def ngettext(singular, plural, count):
        return translate(singular if count == 1 else plural, language)

    argparse._, argparse.ngettext = gettext, ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved
