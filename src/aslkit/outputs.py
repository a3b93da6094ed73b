"""Where commands write: a new or empty folder, outside every folder they read, so results never
overwrite files, mix with earlier ones, or land inside the user's data (where a later scan would
take them for data)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aslkit.errors import AslkitError


def check_new_folder(
    out: str | Path,
    read_from: Iterable[str | Path] = (),
    what: str = "the input folder",
    why: str = "write the results somewhere else",
) -> None:
    """AslkitError unless ``out`` is new or empty and not inside any folder of ``read_from``."""
    dest = Path(out).resolve()
    for src in map(Path, read_from):
        if src.is_dir() and (dest == src.resolve() or src.resolve() in dest.parents):
            raise AslkitError(f"--out {out} is inside {what} {src}; {why}")
    if Path(out).exists() and (not Path(out).is_dir() or any(Path(out).iterdir())):
        raise AslkitError(f"--out {out} already exists and is not an empty folder; give a new one")
