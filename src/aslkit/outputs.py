"""Where commands write, and how: one rule for every command that writes.

* A results folder is new or empty, and outside every input: a new folder means results never
  overwrite files or mix with earlier ones; outside the inputs means they never land inside the
  user's data, where a later scan would take them for data (a ``run/`` folder read as a class).
* A single output file (a preview PNG, an exported model) is new: an existing file is never replaced.
* An input file is never written over. Where its folder is data too (a photo, a video, an annotation
  file: ``beside_files``), results may not be written directly beside it, as a sibling folder that a
  scan of that folder would read. A deeper ``runs/...`` tree under the same folder is allowed (the
  usual place for runs).
* Results are written into a hidden staging folder beside the destination and moved into place
  only when complete (``new_folder``): a crash leaves no half-written folder that blocks a rerun. A single
  file is written the same way, through a temp file renamed into place (``atomic_write``).

Everything checks before any work starts, so a wrong ``--out`` costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from aslkit.errors import AslkitError
from aslkit.names import shown


def _guarded(read_from: Iterable[str | Path]) -> list[tuple[Path, Path, bool]]:
    """(given, resolved, is_folder) for every input; inputs that do not exist guard nothing."""
    out = []
    for src in map(Path, read_from):
        with contextlib.suppress(OSError, ValueError):
            if src.is_dir():
                out.append((src, src.resolve(), True))
            elif src.exists():
                out.append((src, src.resolve(), False))
    return out


def read_only_folder(path: Path) -> Path | None:
    """``path``, or the nearest folder above it that exists, when its mode lets nobody write (a data set marked
    read-only, such as ../shared/data): aslkit never writes there, even running as root, whom the mode does not stop."""
    for p in (path, *path.parents):
        try:
            mode = p.stat().st_mode
        except OSError:
            continue
        return p if stat.S_ISDIR(mode) and not mode & 0o222 else None
    return None


def check_outside(
    out: str | Path,
    read_from: Iterable[str | Path] = (),
    flag: str = "--out",
    what: str = "",
    beside_files: bool = False,
) -> Path:
    """AslkitError if ``out`` is an input, inside an input folder, (``beside_files``) directly beside an
    input file, or inside a read-only folder."""
    dest = Path(out).resolve()
    locked = read_only_folder(dest)
    if locked is not None:
        raise AslkitError(
            f"{flag} {shown(out)} is inside the read-only folder {shown(locked)} (data is read, never written into); "
            "write the results elsewhere"
        )
    for src, real, is_folder in _guarded(read_from):
        if is_folder:
            if dest == real or real in dest.parents:
                inside = what or "the input folder"
                raise AslkitError(f"{flag} {shown(out)} is inside {inside} {shown(src)}; write the results elsewhere")
        elif dest == real:
            raise AslkitError(f"{flag} {shown(out)} is the input {shown(src)}; write the results elsewhere")
        elif beside_files and (dest == real.parent or dest.parent == real.parent):
            raise AslkitError(
                f"{flag} {shown(out)} would be written beside the input {shown(src)}, in the user's own folder; "
                "write the results elsewhere (for example runs/...)"
            )
    return dest


def check_new_folder(
    out: str | Path,
    read_from: Iterable[str | Path] = (),
    flag: str = "--out",
    what: str = "",
    beside_files: bool = False,
) -> None:
    """AslkitError unless ``out`` is a new or empty folder outside every input (see the module docstring)."""
    if not str(out).strip():  # Path("") is the current folder
        raise AslkitError(f"{flag}: give a folder name")
    check_outside(out, read_from, flag, what, beside_files)
    p = Path(out)
    if p.is_symlink() and not p.exists():
        raise AslkitError(f"{flag} {shown(out)} is a broken link; give a new folder")
    if p.exists():
        if not p.is_dir():
            raise AslkitError(f"{flag} {shown(out)} already exists and is not a folder; give a new folder")
        try:
            empty = not any(p.iterdir())
        except OSError as exc:
            raise AslkitError(f"{flag} {shown(out)}: cannot list this folder ({exc.strerror or exc})") from None
        if not empty:
            raise AslkitError(f"{flag} {shown(out)} already exists and is not an empty folder; give a new one")


def check_new_file(
    out: str | Path,
    read_from: Iterable[str | Path] = (),
    flag: str = "--out",
    what: str = "",
    beside_files: bool = False,
) -> None:
    """AslkitError unless ``out`` names no existing file or folder and lies outside every input."""
    if not str(out).strip():  # Path("") is the current folder, which "already exists"
        raise AslkitError(f"{flag}: give a file name")
    check_outside(out, read_from, flag, what, beside_files)
    p = Path(out)
    if p.exists() or p.is_symlink():
        raise AslkitError(f"{flag} {shown(out)} already exists; give a new file name (nothing is overwritten)")
    if p.parent.exists() and not p.parent.is_dir():
        raise AslkitError(f"{flag} {shown(out)}: {shown(p.parent)} is not a folder")


def _publish(stage: Path, dest: Path) -> None:
    """Move the complete staging folder to ``dest`` (which is absent or an empty folder)."""
    try:
        os.rename(stage, dest)  # replaces an empty folder in one step on POSIX
    except OSError as exc:
        raise AslkitError(
            f"{shown(dest)} changed while the results were written ({exc.strerror or exc}); they are in {shown(stage)}"
        ) from None


@contextlib.contextmanager
def new_folder(
    out: str | Path,
    read_from: Iterable[str | Path] = (),
    flag: str = "--out",
    what: str = "",
    beside_files: bool = False,
) -> Iterator[Path]:
    """Check ``out`` (``check_new_folder``), then yield a staging folder to write into; on success it
    becomes ``out``, on any failure it is removed, and ``out`` is left as it was."""
    check_new_folder(out, read_from, flag, what, beside_files)
    dest = Path(out)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{safe_component(dest.name)}.partial-", dir=dest.parent))
    except OSError as exc:
        raise AslkitError(f"{flag} {shown(out)}: cannot create a folder there ({exc.strerror or exc})") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes 0700; results are an ordinary folder
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _publish(stage, dest)


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, so a crash never leaves a half-written file (a model, a checkpoint,
    a preview): the file is either the old one or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a saved model is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def safe_component(name: str) -> str:
    """A file-name component any tool can write and read back: undecodable bytes (lone surrogates from
    a non-UTF-8 name) become ``%XX``, control characters and path separators ``_``."""
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the raw byte 0x80-0xFF
            out.append(f"%{code - 0xDC00:02X}")
        elif 0xD800 <= code <= 0xDFFF or code < 32 or code == 127 or ch in "/\\":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out) or "_"


def safe_relpath(rel: Path) -> Path:
    """``safe_component`` on every part of a relative path."""
    return Path(*[safe_component(p) for p in rel.parts]) if rel.parts else rel


def new_run_folder(base: str | Path) -> Path:
    """base, or base-2, base-3, ...: the first that does not exist yet (a default folder never overwrites)."""
    base = Path(base)
    k, out = 1, base
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def claim_numbered_folder(parent: str | Path, stem: str = "exp", limit: int = 100_000) -> Path:
    """parent/stem, parent/stem2, parent/stem3, ... (Ultralytics' runs/train/exp, exp2): the first that does not
    exist, created here with mkdir(exist_ok=False), so two runs started at once never get the same folder and an
    existing one (a file too) is never written into: whoever loses the race moves on to the next number."""
    parent = Path(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AslkitError(f"cannot create {shown(parent)} for the run folder ({exc.strerror or exc})") from None
    for k in range(1, limit + 1):
        folder = parent / (stem if k == 1 else f"{stem}{k}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise AslkitError(f"cannot create the run folder {shown(folder)} ({exc.strerror or exc})") from None
        return folder
    raise AslkitError(f"{shown(parent)} already holds {stem} to {stem}{limit}; give --out")


def remove_if_empty(folder: Path) -> None:
    """Undo ``claim_numbered_folder`` when the work failed before writing anything: no empty run folders pile up."""
    with contextlib.suppress(OSError):
        folder.rmdir()  # only ever removes an empty folder
