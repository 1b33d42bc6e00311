"""A link for students: the teacher's settings, language and hidden controls in an address's query,
and the same query read back as strictly as the sidebar's widgets would take it.

A link is written as the difference from where the sidebar starts for its model (the model's preset,
the linear model's being the defaults), so a CNN at 0.01 is `?model=cnn&learning_rate=0.01`: opening
it is choosing the CNN in the sidebar, then the rate. It carries only the settings that change the
run (setting_applies), and never a workspace: a link meant for a class gives each student a
workspace of their own.

Whatever arrives in an address is a stranger's text. Each value must be one the sidebar offers
(setting_ranges.py), the whole must make a TrainConfig and a model a shared server may train
(fair_share.check_model_size); anything else is left out with a Message that names it, never applied
and never an exception.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import qrcode

from .classes import CLASS_ADDRESS_KEY, TEACHER_ADDRESS_KEY
from .config import TrainConfig, differing_settings
from .fair_share import check_model_size
from .i18n import LANGUAGES, Message, carried_message
from .setting_ranges import SETTING_RANGES

HIDE_KEY = "hide"  # ?hide=learning_rate,epochs: the settings whose widgets the sidebar leaves out
LANGUAGE_KEY = "lang"  # ui/i18n.py reads it: the page's language
LESSON_KEY, STEP_KEY = "lesson", "step"  # ?lesson=note&step=3: a lesson and its step (ui/lesson.py reads them)
# The app's own keys: the language (ui/i18n.py), a private link's workspace (ui/workspace.py), the
# lesson's step, and a class and its teacher's key (classes/). They are read by their owners; a link
# never writes the workspace.
APP_ADDRESS_KEYS = frozenset({LANGUAGE_KEY, "workspace", LESSON_KEY, STEP_KEY, CLASS_ADDRESS_KEY, TEACHER_ADDRESS_KEY})
# The longest value an honest link holds is every setting in `hide=`; anything longer is not the app's.
VALUE_LENGTH_LIMIT = len(",".join(SETTING_RANGES))
# Every setting, `hide=` and the app's keys, with as many again for a hand-edited link's typos; the
# rest of an address holding more keys than this is not read at all.
KEY_COUNT_LIMIT = 2 * (len(SETTING_RANGES) + 1 + len(APP_ADDRESS_KEYS))
SHOWN_LENGTH = 40  # how much of a stranger's key or value a note repeats
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
ALL_DIGITS = "all"  # train_subset_size's None: all of the training part


def written(value) -> str:
    """A setting's value as a link writes it (and a note shows it): 0.01, 1e-05, 64, all."""
    if value is None:
        return ALL_DIGITS
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def link_query(config: TrainConfig, language: str, hide: Sequence[str] = ()) -> dict[str, str]:
    """The query of a link that opens `config` in `language`, with the sidebar's widgets for `hide`
    left out: {"model": "cnn", "learning_rate": "0.01", "hide": "learning_rate", "lang": "en"}."""
    if language not in LANGUAGES:
        raise ValueError(Message("{name} must be one of {options} (got {value!r}).", name=LANGUAGE_KEY,
                                 options=", ".join(LANGUAGES), value=language))
    unknown = [name for name in hide if name not in SETTING_RANGES]
    if unknown:
        raise ValueError(Message("Unknown setting(s) in the configuration: {settings}.", settings=", ".join(unknown)))
    query = {name: written(value) for name, value in differing_settings(config).items() if name in SETTING_RANGES}
    if hide:
        query[HIDE_KEY] = ",".join(dict.fromkeys(hide))
    query[LANGUAGE_KEY] = language
    return query


@dataclasses.dataclass
class LinkSettings:
    """What a link's query gives a session: the settings it carries (only values the sidebar offers),
    the config they make, the settings to hide, and a note for each value left out."""

    settings: dict
    config: TrainConfig
    hidden: tuple[str, ...]
    dropped: list[Message]


def shown(text: str) -> str:
    """A stranger's key or value, short enough to repeat in a note."""
    return text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH] + "…"


def parsed_value(name: str, text: str):
    """The value `text` gives the setting `name`, or a Message saying why it gives none."""
    allowed = SETTING_RANGES[name]
    if not allowed.numbers:  # a choice by name: a model, an optimizer, a schedule
        value = text
    elif None in allowed.choices and text == ALL_DIGITS:
        value = None
    elif NUMBER.fullmatch(text) is None or not math.isfinite(float(text)):
        return Message("{key}={value} is not a number, so it was left out.", key=name, value=shown(text))
    elif allowed.whole_numbers:
        number = float(text)
        if number != int(number):
            return Message("{key}={value} is not a whole number, so it was left out.", key=name, value=shown(text))
        value = int(number)
    else:
        value = float(text)
    if allowed.allows(value):
        return value
    if allowed.choices and allowed.between_choices:
        return Message("{key}={value} is outside what the sidebar offers (from {lowest} to {highest}), so it was left out.",
                       key=name, value=shown(text), lowest=written(min(allowed.numbers)), highest=written(max(allowed.numbers)))
    if allowed.choices:
        return Message("{key}={value} is not one of the sidebar's choices ({choices}), so it was left out.", key=name,
                       value=shown(text), choices=", ".join(written(choice) for choice in allowed.choices))
    if allowed.step == 1:
        return Message("{key}={value} is outside what the sidebar offers (from {lowest} to {highest}), so it was left out.",
                       key=name, value=shown(text), lowest=written(allowed.minimum), highest=written(allowed.maximum))
    return Message("{key}={value} is outside what the sidebar offers (from {lowest} to {highest} in steps of {step}), so "
                   "it was left out.", key=name, value=shown(text), lowest=written(allowed.minimum),
                   highest=written(allowed.maximum), step=written(allowed.step))


def hidden_settings(text: str, dropped: list[Message]) -> tuple[str, ...]:
    """The settings `hide=text` names, in order, once each; a note for each name that is no setting."""
    hidden = {}
    for name in filter(None, (part.strip() for part in text.split(","))):
        if name in SETTING_RANGES:
            hidden[name] = True
        else:
            dropped.append(Message("{key}={value}: “{name}” is not a setting of the sidebar, so nothing was hidden for it.",
                                   key=HIDE_KEY, value=shown(text), name=shown(name)))
    return tuple(hidden)


def last_value(value) -> str:
    """One value for a key: the last where an address repeats it (as Streamlit's st.query_params does)."""
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def settings_from_link(query: Mapping[str, str | list]) -> LinkSettings:
    """The settings a link's `query` carries, each checked as the sidebar's widget would take it, the
    whole checked as a run would be; a Message for each value left out. The app's own keys (the
    language, a workspace) are not the link's and are passed over."""
    settings, dropped, hidden = {}, [], ()
    keys = [key for key in query if key not in APP_ADDRESS_KEYS]
    if len(keys) > KEY_COUNT_LIMIT:
        dropped.append(Message("The link holds {count:,} values, more than any link of this app; only the first {limit} "
                               "were read.", count=len(keys), limit=KEY_COUNT_LIMIT))
        keys = keys[:KEY_COUNT_LIMIT]
    for key in keys:
        text = last_value(query[key])
        if key not in (*SETTING_RANGES, HIDE_KEY):
            dropped.append(Message("“{key}” is not a setting a link can carry, so it was left out.", key=shown(key)))
        elif len(text) > VALUE_LENGTH_LIMIT:
            dropped.append(Message("The link's {key} is {length:,} characters long, far longer than any setting, so it was "
                                   "left out.", key=key, length=len(text)))
        elif key == HIDE_KEY:
            hidden = hidden_settings(text, dropped)
        else:
            value = parsed_value(key, text)
            if isinstance(value, Message):
                dropped.append(value)
            else:
                settings[key] = value
    try:
        start = TrainConfig.for_model(settings.get("model", TrainConfig().model), dataset=settings.get("dataset", "mnist"))
        config = TrainConfig.from_dict({**start.to_dict(), **settings})
        check_model_size(config)
    except ValueError as error:
        dropped.append(Message("The link's settings do not go together, so none of them were applied: {reason}",
                               reason=carried_message(error)))
        settings, config = {}, TrainConfig()
    return LinkSettings(settings=settings, config=config, hidden=hidden, dropped=dropped)


def is_link_key(key: str) -> bool:
    """Whether `key` in an address is the link's to read (and then take out), not the app's own."""
    return key not in APP_ADDRESS_KEYS


def reaches_only_this_computer(address: str) -> bool:
    """Whether `address` names the computer it is opened on (localhost, 127.0.0.1): a link for students
    made from it opens nothing on theirs."""
    host = urlsplit(address).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def qr_code(address: str, size_pixels: int = 400):
    """`address` as a QR code, a black-and-white PIL image of about `size_pixels` a side: each module
    a whole number of pixels, so it stays sharp when shown at its own size on a projector. Error
    correction M (up to 15% of the code may be unreadable), the usual level for a code on a screen."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(address)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(2, size_pixels // modules)
    return code.make_image(fill_color="black", back_color="white").get_image()
