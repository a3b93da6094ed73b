"""Reading ``.npz`` arrays safely: never with pickle, every failure one DatasetError line."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aslkit.errors import DatasetError


def read_npz(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` file (object arrays refused: no pickle); ``what`` names the kind of
    file in the error ("landmark", "sequence")."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: no such file")
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{p}: not a readable .npz {what} file ({exc})") from None
