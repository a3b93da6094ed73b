"""Canonical labels: one spelling per class across datasets, user classes untouched."""

from __future__ import annotations

import pytest

from aslkit.labels import DEL, LETTER_CLASSES, LETTERS, NOTHING, SPACE, canonical_label, sort_labels


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Del", DEL),
        ("del", DEL),
        ("DELETE", DEL),
        ("delete", DEL),
        ("backspace", DEL),
        ("a", "A"),
        ("A", "A"),
        ("z", "Z"),
        (" q ", "Q"),
        ("Nothing", NOTHING),
        ("nothing", NOTHING),
        ("NOTHING", NOTHING),
        ("none", NOTHING),
        ("no-sign", NOTHING),
        ("space", SPACE),
        ("Space", SPACE),
        ("SPACE", SPACE),
        ("spacebar", SPACE),
    ],
)
def test_aliases_map_to_one_spelling(raw: str, expected: str) -> None:
    assert canonical_label(raw) == expected


@pytest.mark.parametrize("raw", ["hello", "thank-you", "Coffee", "ab", "7", "Ä-word"])
def test_unknown_words_pass_through(raw: str) -> None:
    assert canonical_label(raw) == raw


def test_unknown_words_are_trimmed_only() -> None:
    assert canonical_label("  hello ") == "hello"


def test_canonical_label_is_idempotent() -> None:
    for lab in (*LETTER_CLASSES, "hello", "thank-you"):
        assert canonical_label(canonical_label(lab)) == canonical_label(lab)


def test_letter_classes() -> None:
    assert len(LETTERS) == 26 and LETTERS[0] == "A" and LETTERS[-1] == "Z"
    assert LETTER_CLASSES[26:] == (DEL, NOTHING, SPACE)


def test_sort_labels_letters_then_specials_then_words() -> None:
    got = sort_labels(["hello", SPACE, "B", NOTHING, "A", DEL, "coffee", "A"])
    assert got == ["A", "B", DEL, NOTHING, SPACE, "coffee", "hello"]
