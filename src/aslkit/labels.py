"""One canonical label set across datasets, without renaming anyone's files.

Public ASL sets spell the same class differently (``Del``/``del``/``delete``, ``a``/``A``,
``Nothing``/``nothing``). Everything inside aslkit uses the canonical spelling below.
"""

from __future__ import annotations

from collections.abc import Iterable

from aslkit.names import shown

LETTERS: tuple[str, ...] = tuple(chr(c) for c in range(ord("A"), ord("Z") + 1))
DEL, NOTHING, SPACE = "Del", "Nothing", "Space"
LETTER_CLASSES: tuple[str, ...] = (*LETTERS, DEL, NOTHING, SPACE)

_ALIASES: dict[str, str] = {
    "del": DEL,
    "delete": DEL,
    "backspace": DEL,
    "nothing": NOTHING,
    "none": NOTHING,
    "blank": NOTHING,
    "empty": NOTHING,
    "no_sign": NOTHING,
    "space": SPACE,
    "spacebar": SPACE,
}


def canonical_label(name: str) -> str:
    """Map a folder or CSV class name to aslkit's spelling; unknown names are kept (trimmed).

    Single letters become upper case; known aliases of Del/Nothing/Space are unified;
    anything else (a user's own word classes, say) passes through unchanged, except that a name that
    is not UTF-8 or holds control characters (a folder name is bytes) gets its printable spelling
    (``\xffA``), which every report, chart and model file can carry.
    """
    raw = shown(name).strip()
    key = raw.lower().replace("-", "_").replace(" ", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    if len(raw) == 1 and raw.isalpha():
        return raw.upper()
    return raw


def label_list(text: str | None) -> list[str] | None:
    """Comma-separated class names (``--classes a,B``) in aslkit's spelling, blanks left out; None when no text
    is given, which callers read as every class."""
    return [canonical_label(c) for c in text.split(",") if c.strip()] if text else None


def sort_labels(labels: set[str] | list[str]) -> list[str]:
    """Letters A..Z first, then Del/Nothing/Space, then any other classes alphabetically."""
    order = {lab: i for i, lab in enumerate(LETTER_CLASSES)}
    return sorted(set(labels), key=lambda s: (order.get(s, len(order)), s))


IDLE = "-"  # "no sign" in the word and motion-letter sets: hands down, resting or out of view
_IDLE_KEYS = {"-", "idle", "rest", "no-sign", "nosign", "nothing", "none", "blank", "empty", "background"}


def label_key(name: str) -> str:
    """A spelling-free key for matching one set's labels to another's (``Thank_You`` = ``thank-you``,
    ``idle`` = ``-``): used where labels meet a trained model, never to rename anything."""
    key = canonical_label(name).lower().replace("_", "-").replace(" ", "-")
    return IDLE if key in _IDLE_KEYS else key


def same_label_twice(names: Iterable[str]) -> tuple[str, str] | None:
    """Two spellings of one label (``Hello`` and ``hello``, ``thank_you`` and ``thank-you``), or None: trained as
    two classes they split one sign's examples, while evaluation, which matches by ``label_key``, merges them."""
    seen: dict[str, str] = {}
    for n in sorted(set(names)):
        other = seen.setdefault(label_key(n), n)
        if other != n:
            return other, n
    return None


def match_labels(names: list[str], known: list[str]) -> list[str]:
    """Each name as spelled in ``known`` when it matches one by ``label_key``, else unchanged."""
    by_key = {label_key(k): k for k in known}
    return [n if n in known else by_key.get(label_key(n), n) for n in names]
