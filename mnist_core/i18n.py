"""English and Chinese: every sentence a person reads, by message id and parameters.

The engine stays free of Streamlit: it says what happened as a `Message` (English text with named
fields, and the values for them), and whoever shows it, a page or the command line, renders it in
its reader's language. The English text is the message id, as gettext does it: the catalogs in
mnist_core/locales map it to each language (`make translations` extracts and updates them with
Babel, `make run` and `make test` compile them).

Numbers and percentages in a message are formatted for the language by Babel: a message keeps
Python's format specs ("{accuracy:.2%}", "{count:,}") and `render` turns them into the locale's
own digits, grouping and percent sign.
"""

from __future__ import annotations

import functools
import gettext
import os
import re
import string
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal, format_percent

LANGUAGES = {"en": "English", "zh": "中文"}  # language code -> its name in itself, as the switch shows it
DEFAULT_LANGUAGE = "en"
LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}  # the Babel locale that formats each language's numbers
LOCALES_DIRECTORY = Path(__file__).parent / "locales"
DOMAIN = "mnist_lab"
# "{value:.2%}" and "{value:,}" or "{value:,.3f}": the format specs rendered by Babel.
PERCENT_SPEC = re.compile(r"\.(\d+)%|%")
GROUPED_SPEC = re.compile(r",(?:\.(\d+)f)?|,d")


def N_(text: str) -> str:
    """Marks text for the catalogs without translating it yet: a label defined once, at import, and
    translated each time it is shown, in that reader's language."""
    return text


def language_of(code: str | None) -> str:
    """A supported language for a browser's or environment's locale ("zh-CN", "zh_TW.UTF-8", "en-GB"),
    or the default."""
    prefix = re.split(r"[-_.@]", code or "")[0].lower()
    return prefix if prefix in LANGUAGES else DEFAULT_LANGUAGE


def environment_language() -> str:
    """The command line's language: Chinese where the environment's is (LANG=zh_CN.UTF-8), else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(variable):
            return language_of(os.environ[variable])
    return DEFAULT_LANGUAGE


@functools.cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language`; English (the message ids themselves) where there is none."""
    return gettext.translation(DOMAIN, LOCALES_DIRECTORY, languages=[language], fallback=True)


def translate(text: str, language: str) -> str:
    return catalog(language).gettext(text) if text else text


class _LocaleFormatter(string.Formatter):
    """str.format, with numbers and percentages in the language's format and nested messages in the
    same language."""

    def __init__(self, language: str):
        self.language, self.locale = language, Locale.parse(LOCALES[language])

    def format_field(self, value, format_spec: str) -> str:
        if isinstance(value, Message):
            return format(value.render(self.language), format_spec)
        if isinstance(value, (list, tuple)):  # lines, each in the same language
            return "\n".join(in_language(line, self.language) for line in value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            percent = PERCENT_SPEC.fullmatch(format_spec)
            if percent:
                decimals = int(percent.group(1) or 0)
                return format_percent(value, "#,##0" + ("." + "0" * decimals if decimals else "") + "%", locale=self.locale)
            grouped = GROUPED_SPEC.fullmatch(format_spec)
            if grouped:
                decimals = int(grouped.group(1) or 0)
                return format_decimal(value, "#,##0" + ("." + "0" * decimals if decimals else ""), locale=self.locale)
        return super().format_field(value, format_spec)


def format_number(value, format_spec: str, language: str) -> str:
    """One number as `format(value, format_spec)` would write it, in the language's format ("{:.0%}", "{:,}")."""
    return _LocaleFormatter(language).format_field(value, format_spec)


def render(text: str, language: str, **parameters) -> str:
    """`text` translated into `language`, its {fields} filled in."""
    translated = translate(text, language)
    return _LocaleFormatter(language).format(translated, **parameters) if parameters else translated


class Message:
    """A sentence for a person: English text with {named} fields (the message id) and their values,
    rendered in any language. str() gives the English, for logs and saved files."""

    def __init__(self, text: str, **parameters):
        self.text, self.parameters = text, parameters

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        return render(self.text, language, **self.parameters)

    def __str__(self) -> str:
        return self.render(DEFAULT_LANGUAGE)

    def __repr__(self) -> str:
        return f"Message({self.text!r}, **{self.parameters!r})"


def carried_message(error: BaseException) -> Message | str:
    """What an error says: the Message it was raised with (as its argument, or as its `message` where
    the error's arguments are fixed, as an OSError's are), else its text (a library's own words)."""
    carried = error.args[0] if len(error.args) == 1 else getattr(error, "message", None)
    return carried if isinstance(carried, Message) else str(error)


def in_language(thing, language: str) -> str:
    """Anything the engine says, in `language`: a Message, an error raised with one, or plain text
    (a user's own words, an error from a library) as it is."""
    if isinstance(thing, BaseException):
        thing = carried_message(thing)
    return thing.render(language) if isinstance(thing, Message) else str(thing)
