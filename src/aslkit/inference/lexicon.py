"""Snap fingerspelled words to a word list, but only where the reading was unsure.

A spelling decoder misreads letters that look alike (M/N/S/T/E, fists) or runs through them fast;
a word list can fix those, but it must not "correct" a name or a word the list lacks that was read
clearly. So the decision weighs each change by how sure the decoder was of the letters it touches.

The rule (``Lexicon.snap``), for each word of the decoded text (split on spaces):

1. A word already in the list, a word of one letter (a single letter is all the evidence there is), or
   a word with a letter of unknown confidence (a word sign, not spelled) is kept.
2. Candidates are list words within a plain Levenshtein distance ``k = max(1, 25% of the word's length,
   rounded down)``, and never the whole word (``d < len``).
3. Each candidate gets a *confidence-weighted* edit distance: substituting or deleting a decoded letter
   costs that letter's confidence (the decoder's mean probability over its frames, 0-1), inserting a
   letter the decoder missed costs the mean confidence of the decoded letters beside the gap (a clean
   read on both sides makes a missed letter unlikely). Matches cost nothing.
4. The candidate with the lowest weighted cost (ties: the smaller plain distance, then the one listed
   first, so put common words first) replaces the word when that cost is at most ``max_cost``
   (default 0.8): one changed letter the decoder was less than 80% sure of, or two it was less than
   about 40% sure of. A confident letter (e.g. 0.95) is never changed: names pass through letter by letter.

Pure Python: no MediaPipe, no NumPy needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aslkit.errors import AslkitError
from aslkit.names import regular_file_problem, shown

MAX_LEXICON_BYTES = 64 * 1024 * 1024  # a word list, not a corpus: refuse anything larger before reading it
_WORD = re.compile(r"^[A-Z]+$")


class LexiconError(AslkitError):
    """A word-list file aslkit cannot use (missing, empty, binary, or a line that is not a word)."""


def levenshtein(a: str, b: str, limit: int | None = None) -> int:
    """Plain edit distance (insert, delete, substitute: 1 each). With ``limit``, any distance above it
    is returned as ``limit + 1`` as soon as it is certain (a long word list stays fast)."""
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if limit is not None and min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def weighted_distance(word: str, confidences: Sequence[float], target: str) -> float:
    """The confidence-weighted edit distance from the decoded ``word`` to ``target`` (see the module
    docstring): substituting or deleting decoded letter i costs ``confidences[i]``; inserting a letter
    before decoded letter i costs the mean confidence of letters i-1 and i (the one there is at an end)."""
    n, m = len(word), len(target)
    conf = [min(max(float(c), 0.0), 1.0) for c in confidences]

    def gap(i: int) -> float:  # inserting before decoded letter i (i == n: at the end)
        side = conf[max(i - 1, 0) : i + 1]
        return sum(side) / len(side) if side else 1.0

    prev = [0.0] * (m + 1)
    for j in range(1, m + 1):
        prev[j] = prev[j - 1] + gap(0)
    for i in range(1, n + 1):
        cur = [prev[0] + conf[i - 1]] + [0.0] * m
        for j in range(1, m + 1):
            same = word[i - 1] == target[j - 1]
            cur[j] = min(
                prev[j] + conf[i - 1],  # the decoder read a letter that is not there
                cur[j - 1] + gap(i),  # the decoder missed target[j-1]
                prev[j - 1] + (0.0 if same else conf[i - 1]),
            )
        prev = cur
    return prev[-1]


@dataclass
class Lexicon:
    """Upper-case words A-Z, in the order given (earlier wins ties); see the module docstring for ``snap``."""

    words: list[str]
    max_cost: float = 0.8
    source: str = ""
    _by_length: dict[int, list[tuple[int, str]]] = field(default_factory=dict, init=False, repr=False)
    _known: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        ordered = []
        for w in (w.strip().upper() for w in self.words):
            if not _WORD.match(w):
                raise LexiconError(f"lexicon word {w!r}: use the letters A-Z only")
            if w not in seen:
                seen.add(w)
                ordered.append(w)
        if not ordered:
            raise LexiconError("the lexicon has no words")
        self.words = ordered
        self._known = seen
        for rank, w in enumerate(ordered):
            self._by_length.setdefault(len(w), []).append((rank, w))

    def snap(self, word: str, confidences: Sequence[float | None]) -> str:
        """The list word to read instead of ``word`` (its letters' confidences), or ``word`` itself."""
        if len(confidences) != len(word):
            raise ValueError("one confidence per letter")
        if len(word) < 2 or word in self._known or any(c is None for c in confidences) or not _WORD.match(word):
            return word
        conf = [float(c) for c in confidences]  # type: ignore[arg-type]
        k = max(1, len(word) // 4)
        best: tuple[float, int, int, str] | None = None
        for length in range(len(word) - k, len(word) + k + 1):
            for rank, cand in self._by_length.get(length, ()):
                d = levenshtein(word, cand, k)
                if d > k or d >= len(word):
                    continue
                key = (weighted_distance(word, conf, cand), d, rank, cand)
                if best is None or key < best:
                    best = key
        if best is not None and best[0] <= self.max_cost + 1e-9:
            return best[3]
        return word

    def snap_text(self, chars: Sequence[tuple[str, float | None]]) -> str:
        """Text as (character, confidence) pairs -> the text with each space-separated word snapped.
        Spaces are kept as they are; a character with confidence None is never changed."""
        out: list[str] = []
        word: list[tuple[str, float | None]] = []

        def flush() -> None:
            if word:
                out.append(self.snap("".join(c for c, _ in word), [p for _, p in word]))
                word.clear()

        for ch, conf in chars:
            if ch == " ":
                flush()
                out.append(" ")
            else:
                word.append((ch, conf))
        flush()
        return "".join(out)


def parse_lexicon(lines: Iterable[str], source: str = "lexicon") -> list[str]:
    """Words from the lines of a word list: one a line, ``#`` comments and blank lines skipped,
    any case; a line that is not letters A-Z is a LexiconError naming the line."""
    words = []
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word = line.upper()
        if not _WORD.match(word):
            shown_line = line if len(line) <= 40 else line[:40] + "..."
            raise LexiconError(f"{source} line {number}: {shown_line!r} is not a word of letters A-Z")
        words.append(word)
    if not words:
        raise LexiconError(f"{source}: no words in this word list (one word a line, letters A-Z)")
    return words


def load_lexicon(path: str | Path, max_cost: float = 0.8) -> Lexicon:
    """A word list file (UTF-8 text, one word a line, ``#`` comments) as a Lexicon; LexiconError with
    one line for a missing, special, empty, binary or malformed file."""
    name = shown(path)
    why = regular_file_problem(path)
    if why is not None:
        raise LexiconError(f"--lexicon {name}: {why}")
    try:
        size = Path(path).stat().st_size
        if size > MAX_LEXICON_BYTES:
            raise LexiconError(f"--lexicon {name}: {size // 2**20} MiB is too large for a word list")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LexiconError(f"--lexicon {name}: cannot read it ({exc.strerror or exc})") from None
    if not data.strip():
        raise LexiconError(f"--lexicon {name}: the file is empty; give a word list (one word a line)")
    if b"\x00" in data:
        raise LexiconError(f"--lexicon {name}: a binary file, not a word list (one word a line, UTF-8 text)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LexiconError(f"--lexicon {name}: not UTF-8 text (byte {exc.start}); give a word list") from None
    lines = [line.rstrip("\r") for line in text.split("\n")]  # splitlines() would also split on \x0c, \x1c, ...
    return Lexicon(parse_lexicon(lines, f"--lexicon {name}"), max_cost=max_cost, source=str(path))
