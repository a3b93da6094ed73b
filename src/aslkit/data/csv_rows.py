"""Reading a user's small CSV files (box corners, label fixes) one way: a bad file is one clear line.

Why one reader: every CSV a user hands aslkit can be a FIFO, binary, empty or missing a column, and each
must fail the same way (DatasetError naming the file), with headers matched whatever their case.
"""

from __future__ import annotations

import csv
from pathlib import Path

from aslkit.errors import DatasetError
from aslkit.names import regular_file_problem, shown


def read_csv_rows(
    path: str | Path, columns: tuple[str, ...], expected: str, strict: bool = False
) -> list[dict[str, str]]:
    """The rows of a CSV, keys lower-cased and values stripped; DatasetError (one line) for a file that is
    not a regular file or cannot be read, no rows, or missing one of ``columns`` (``expected`` says what
    a right header looks like); with ``strict``, also for a row with more fields than the header."""
    p = Path(path)
    why = regular_file_problem(p)
    if why:
        raise DatasetError(f"{shown(p)}: {why}")
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            raw = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{shown(p)}: cannot read CSV ({exc})") from None
    if not raw:
        raise DatasetError(f"{shown(p)}: no rows; expected {expected}")
    have = {(c or "").strip().lower() for c in raw[0]}
    missing = sorted(set(columns) - have)
    if missing:
        raise DatasetError(f"{shown(p)}: missing columns {missing}; expected {expected}")
    extra = next((n for n, row in enumerate(raw, 2) if None in row), None) if strict else None
    if extra is not None:  # csv.DictReader keeps surplus fields under None: they would be dropped unread
        raise DatasetError(f"{shown(p)}, line {extra}: more fields than the header's; expected {expected}")
    return [
        {(k or "").strip().lower(): (v if isinstance(v, str) else "").strip() for k, v in row.items() if k}
        for row in raw
    ]
