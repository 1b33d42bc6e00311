"""Workspace names the server hands out, and the public nickname of each."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

from ..files import read_bounded
from .store_format import runs_directory

logger = logging.getLogger(__name__)


# A workspace the server hands out: 64 random bits and a tag, the start of an HMAC of them under a
# secret kept in the runs folder. Only such a name is taken from a browser's address or cookie, so
# nobody opens runs by typing a name (`?workspace=alice`), and a name is a key nobody can guess.
MINTED_WORKSPACE_PATTERN = re.compile(r"([0-9a-f]{16})-([0-9a-f]{8})")
WORKSPACE_SECRET_FILE = ".workspace-secret"  # hidden, so never listed as a workspace; mode 0600
WORKSPACE_SECRET_PATTERN = re.compile(rb"[0-9a-f]{64}\n?")


def workspace_secret(runs_root: Path | None = None, create: bool = True) -> bytes:
    """The server's secret for workspace names, made once (32 random bytes, as hex) on first use.
    Race-safe: it is written whole under a temporary name and linked into place only if no other
    process got there first, so a reader never sees it half-written. Raises OSError if it cannot be
    read or made (FileNotFoundError if it does not exist and `create` is false), ValueError if it is
    damaged."""
    path = Path(runs_root or runs_directory()) / WORKSPACE_SECRET_FILE
    if create and not os.path.lexists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        content = secrets.token_hex(32).encode() + b"\n"
        temporary = path.with_name(f"{WORKSPACE_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            write_exclusively(temporary, content)
            try:
                os.link(temporary, path)  # fails if another process made it first: theirs is kept
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links: made in place, exclusively all the same
                try:
                    write_exclusively(path, content)
                except FileExistsError:
                    pass
        finally:
            temporary.unlink(missing_ok=True)
    secret = read_bounded(path, 1024)
    if not WORKSPACE_SECRET_PATTERN.fullmatch(secret):
        raise ValueError(f"{path} is damaged (it should hold 64 hexadecimal digits); delete it and a new one is made "
                         "(every workspace name handed out before then stops working)")
    return secret.strip()


def write_exclusively(path: Path, content: bytes) -> None:
    """Create `path` (raising FileExistsError if anything is there, a link included), readable and
    writable by its owner only, holding `content`."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def workspace_tag(secret: bytes, random_part: str) -> str:
    return hmac.new(secret, b"workspace:" + random_part.encode(), hashlib.sha256).hexdigest()[:8]


def new_workspace(runs_root: Path | None = None) -> str:
    """A fresh workspace name minted by this server: 64 random bits, so nobody finds another
    student's runs by guessing, and a tag that says this server handed it out (is_minted_workspace).
    If the secret cannot be read or made (a read-only runs folder, where nothing can be saved
    anyway), the name is random but not minted: it serves this session only, and the log says why."""
    random_part = secrets.token_hex(8)
    try:
        secret = workspace_secret(runs_root)
    except (OSError, ValueError) as error:
        logger.warning("cannot mint workspace names with the secret in %s (%s): this workspace lasts one session",
                       Path(runs_root or runs_directory()), error)
        return random_part
    return f"{random_part}-{workspace_tag(secret, random_part)}"


def is_minted_workspace(text, runs_root: Path | None = None) -> bool:
    """Whether `text` is a workspace name this server handed out (new_workspace), checked in
    constant time. Hand-picked names (`alice`) and the bare hex names of earlier versions are not."""
    match = MINTED_WORKSPACE_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return False
    try:
        secret = workspace_secret(runs_root, create=False)
    except (OSError, ValueError):
        return False  # no secret, nothing was ever handed out
    return hmac.compare_digest(workspace_tag(secret, match.group(1)), match.group(2))


def workspace_nickname(workspace: str) -> str:
    """A short public name for a workspace ("7F3A"), for the sidebar and a projector: four hex digits of
    a hash of the name, which show nothing of the name itself, so seeing it opens nobody's runs."""
    return hashlib.sha256(b"nickname:" + workspace.encode()).hexdigest()[:4].upper()
