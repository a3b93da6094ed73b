"""File names as people and programs see them.

A Linux file name is bytes; Python hands undecodable bytes to us as lone surrogates, which crash
``print``, UTF-8 file writes and OpenCV. A newline or tab in a name would split a text-output row.
``shown`` gives one printable, single-line spelling for messages, reports and text output (JSON output
escapes on its own).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


def shown(name: str | os.PathLike) -> str:
    """A one-line, printable, UTF-8-encodable spelling of a path: ``\\n``, ``\\t`` and other control
    characters escaped, undecodable bytes as ``\\xff``."""
    s = os.fspath(name)
    if isinstance(s, bytes):
        s = os.fsdecode(s)
    if s.isprintable():
        try:
            s.encode("utf-8")
            return s
        except UnicodeEncodeError:
            pass
    out = []
    for ch in s:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        elif not ch.isprintable() and ch != " ":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def brief(value: object, limit: int = 60) -> str:
    """A value from a user's file (a CSV cell, a yaml entry), for a message: JSON spelling, one line, at most
    ``limit`` characters, escaped like a name."""
    try:
        s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        s = type(value).__name__
    s = shown(s)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def is_utf8_name(path: str | os.PathLike) -> bool:
    """True when the path can be handed to libraries that take UTF-8 strings (OpenCV, FFmpeg)."""
    s = os.fspath(path)
    try:
        (os.fsdecode(s) if isinstance(s, bytes) else s).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def regular_file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a data file, or None: a FIFO, socket or device would block or never
    end, so only regular files (or links to them) are read."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        if stat.S_ISSOCK(st.st_mode):
            kind = "a socket"
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            kind = "a device"
        return f"is {kind}, not a regular file"
    return None


@contextlib.contextmanager
def utf8_alias(path: str | os.PathLike) -> Iterator[str]:
    """A name OpenCV and FFmpeg can take for ``path``: the path itself when it is UTF-8, else a link with a
    plain name in a private temp folder (removed afterwards). A non-UTF-8 name handed to OpenCV crashes the
    process (a segfault), so every OpenCV open of a user's file goes through here. The link may point at a
    file that does not exist yet: a writer opening it creates the file under its real name."""
    if is_utf8_name(path):
        yield os.fspath(path)
        return
    folder = tempfile.mkdtemp(prefix="aslkit-name-")
    try:
        alias = os.path.join(folder, "file" + safe_suffix(path))
        os.symlink(os.path.abspath(os.fspath(path)), alias)
        yield alias
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def safe_suffix(path: str | os.PathLike) -> str:
    """The file's extension if it is plain ASCII (OpenCV picks codecs by it), else empty."""
    suffix = Path(os.fsdecode(os.fspath(path))).suffix
    return suffix if suffix.isascii() and suffix.isprintable() else ""
