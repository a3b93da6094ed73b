"""On-disk landmark cache keyed by file content, so a second pass over a dataset skips MediaPipe.

SQLite gives atomic writes and safe concurrent readers; values are JSON (never pickle).
The key is sha256(file bytes) + the extractor's settings signature, so moving or renaming
files keeps their cache entries, and changing extractor settings never returns stale results.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS landmarks (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def default_cache_dir() -> Path:
    """``$ASLKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/aslkit``, else ``~/.cache/aslkit``."""
    env = os.environ.get("ASLKIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "aslkit"


def content_key(data: bytes, signature: str) -> str:
    """Cache key for file bytes under one extractor configuration."""
    return hashlib.sha256(data).hexdigest() + ":" + signature


class LandmarkCache:
    """A small key -> JSON store in ``<cache_dir>/landmarks.sqlite``; disabled when cache_dir is None."""

    def __init__(self, cache_dir: str | Path | None) -> None:
        self.path: Path | None = None
        self._conn: sqlite3.Connection | None = None
        if cache_dir is None:
            return
        d = Path(cache_dir).expanduser()
        try:
            d.mkdir(parents=True, exist_ok=True)
            self.path = d / "landmarks.sqlite"
            self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error):
            # An unwritable cache slows things down but must never stop recognition.
            self.path, self._conn = None, None

    @property
    def enabled(self) -> bool:
        return self._conn is not None

    def get(self, key: str) -> dict | None:
        if self._conn is None:
            return None
        try:
            row = self._conn.execute("SELECT value FROM landmarks WHERE key=?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return json.loads(row[0]) if row else None

    def put_many(self, items: list[tuple[str, dict]]) -> None:
        if self._conn is None or not items:
            return
        rows = [(k, json.dumps(v, separators=(",", ":"))) for k, v in items]
        try:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO landmarks VALUES (?, ?)", rows)
            self._conn.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def put(self, key: str, value: dict) -> None:
        self.put_many([(key, value)])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
