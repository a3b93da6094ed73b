"""Reading ``.npy`` and ``.npz`` arrays safely: never with pickle, every failure one DatasetError line.

Before any data is read, the header is checked against the file: a FIFO (which would block), an empty or
truncated file, a crafted header that claims a giant shape (numpy would try to allocate it) and arrays that
are not numbers (objects, strings, complex numbers, records) are refused with a message saying which.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import IO

import numpy as np
import numpy.lib.format as npformat

from aslkit.errors import DatasetError
from aslkit.names import regular_file_problem, shown

MAX_ARRAY_BYTES = 2**30  # one clip or one set of landmarks; real ones are a few MB

_NOT_NUMBERS = {
    "b": "true/false values",
    "c": "complex numbers",
    "O": "Python objects (dtype object)",
    "U": "text",
    "S": "bytes",
    "V": "records (a structured dtype)",
    "M": "dates",
    "m": "time spans",
}


def number_problem(dtype: np.dtype) -> str | None:
    """What an array of this dtype holds instead of real numbers (ints or floats), or None."""
    kind = np.dtype(dtype).kind
    if kind in "iuf":
        return None
    return f"{_NOT_NUMBERS.get(kind, 'values of dtype ' + str(dtype))} ({np.dtype(dtype)})"


def _reason(exc: BaseException) -> str:
    return shown((str(exc).strip().splitlines() or [""])[0][:200] or type(exc).__name__)


def _check_header(f: IO[bytes], size: int, where: str, what: str, max_bytes: int, numbers: bool = True) -> None:
    """Read the .npy header at the start of ``f`` (``size`` bytes long) and check it fits the file (and, with
    ``numbers``, that it holds real numbers)."""
    if size == 0:
        raise DatasetError(f"{where}: empty file (0 bytes), not a .npy array")
    version = npformat.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = npformat.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = npformat.read_array_header_2_0(f)
    else:
        raise DatasetError(f"{where}: .npy format version {version[0]}.{version[1]} is not supported")
    why = number_problem(dtype) if numbers else None
    if why is not None:
        raise DatasetError(f"{where}: {what} arrays must hold numbers, not {why}")
    if any(d < 0 for d in shape):
        raise DatasetError(f"{where}: not a readable .npy array (negative shape {shape} in its header)")
    need = math.prod(shape) * dtype.itemsize
    have = size - f.tell()
    if need > have:
        promise = f"its header promises shape {shape} ({need} bytes)"
        raise DatasetError(f"{where}: truncated: {promise} but only {have} bytes follow")
    if need > max_bytes:
        raise DatasetError(f"{where}: too large ({need} bytes of data; at most {max_bytes})")


def _regular(path: str | Path) -> str:
    """The path's printable name; DatasetError unless it is a regular file (a FIFO would block the read)."""
    why = regular_file_problem(path)
    if why is not None:
        raise DatasetError(f"{shown(path)}: {why}")
    return shown(path)


def read_npy(path: str | Path, what: str = "landmark", max_bytes: int = MAX_ARRAY_BYTES) -> np.ndarray:
    """The array of a ``.npy`` file, real numbers only (see the module docstring); ``what`` names the kind
    of data in errors."""
    p, where = Path(path), _regular(path)
    try:
        with open(p, "rb") as f:
            _check_header(f, os.fstat(f.fileno()).st_size, where, what, max_bytes)
            f.seek(0)
            return np.load(f, allow_pickle=False)
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{where}: not a readable .npy array ({_reason(exc)})") from None


def read_npz(path: str | Path, what: str, max_bytes: int = MAX_ARRAY_BYTES) -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` file (object arrays refused: no pickle); ``what`` names the kind of
    file in the error ("landmark", "sequence")."""
    p, where = Path(path), _regular(path)
    try:
        with zipfile.ZipFile(p) as z:  # each member's header first: nothing giant is allocated
            for info in z.infolist():
                if info.filename.endswith(".npy"):
                    with z.open(info) as f:
                        name = f"{where}[{shown(info.filename)}]"
                        _check_header(f, info.file_size, name, what, max_bytes, numbers=False)  # labels are text
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{where}: not a readable .npz {what} file ({_reason(exc)})") from None
