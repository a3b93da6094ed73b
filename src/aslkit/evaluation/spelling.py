"""How well fingerspelled videos are read: exact words, the Kaggle fingerspelling score, CER, speed.

Truth comes from a ``labels.csv`` (columns ``file,text``) in the folder when there is one, else from each
file's name (``horse.mp4`` -> HORSE, ``horse-2.mp4`` -> HORSE). Texts are compared the way a reader would:
upper case, letters A-Z and single spaces between words.

Metrics, over the videos that could be read (an unreadable video is a row with its error, counted in
``errors`` and left out of the figures: it says nothing about the decoder):

- ``score``: the metric of the Kaggle "Google - American Sign Language Fingerspelling Recognition"
  competition, the normalized total Levenshtein distance ``(N - D) / N``, where N is the total number of
  truth characters over all videos (letters and the spaces between words) and D the total Levenshtein
  distance between each truth and what was read. Summed over the set, not averaged per video, and not
  clipped: more wrong characters than truth characters give a negative score, as in the competition.
- ``cer``: the character error rate ``D / N`` (so ``score = 1 - cer``).
- ``exact`` / ``exact_share``: videos read exactly (after the normalisation above).
- ``letters_per_second``: truth letters (spaces not counted) per second of signing, over the set: the
  signing of a video runs from its first decoded letter's start to its last decoded letter's end (plus
  one frame); a video where nothing was read counts its whole duration. This is how fast the signer
  spelled, the speed at which the figures above were reached.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aslkit.errors import AslkitError, DatasetError
from aslkit.inference.lexicon import Lexicon, levenshtein, load_lexicon
from aslkit.inference.transcribe import SpellingResult, collect_videos, iter_transcribe
from aslkit.names import regular_file_problem, shown
from aslkit.outputs import check_new_folder, new_folder

if TYPE_CHECKING:
    from aslkit.models.io import TrainedModel

LABELS_FILE = "labels.csv"
LABEL_COLUMNS = ("file", "text")
_TAKE = re.compile(r"[-_]\d+$")
_NOT_LETTER = re.compile(r"[^A-Z\s]+")  # whitespace of any kind separates words


def normalize_text(text: str) -> str:
    """Upper case, letters A-Z and single spaces only (other characters dropped)."""
    return " ".join(_NOT_LETTER.sub("", text.upper()).split())


def truth_from_name(path: str | Path) -> str:
    """The word a file's name spells: its stem without a take number (``-2``, ``_2``), normalized."""
    return normalize_text(_TAKE.sub("", Path(path).stem))


def read_labels(path: str | Path) -> dict[str, str]:
    """``labels.csv`` (``file,text``, UTF-8) -> {file as written: normalized text}. DatasetError with one
    line for wrong columns, a binary file, a repeated file or a row without a file name."""
    name = shown(path)
    why = regular_file_problem(path)
    if why is not None:
        raise DatasetError(f"{name}: {why}")
    data = Path(path).read_bytes()
    if b"\x00" in data:
        raise DatasetError(f"{name}: a binary file, not a CSV of {','.join(LABEL_COLUMNS)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, [])
        header = [h.strip().lower() for h in first]
        if any(c not in header for c in LABEL_COLUMNS):
            got = repr(",".join(first)[:80]) if first else "an empty file"
            raise DatasetError(f"{name}: expected the columns {','.join(LABEL_COLUMNS)}, got {got}")
        fi, ti = header.index("file"), header.index("text")
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise DatasetError(f"{name} line {reader.line_num}: not a CSV row ({exc})") from None
    out: dict[str, str] = {}
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(fi, ti) or not row[fi].strip():
            raise DatasetError(f"{name} line {number}: expected {','.join(LABEL_COLUMNS)}, got {','.join(row)[:80]!r}")
        file = row[fi].strip()
        if file in out:
            raise DatasetError(f"{name} line {number}: {file!r} is listed twice")
        out[file] = normalize_text(row[ti])
    if not out:
        raise DatasetError(f"{name}: no rows under the header {','.join(LABEL_COLUMNS)}")
    return out


def spelling_truth(inputs: Iterable[str | Path]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(video, truth) for every video to score, and (path, problem) for inputs that cannot be. A folder with a
    labels.csv is scored on the files it lists (relative to the folder); any other folder on its videos,
    and a file on its own, with the truth from the file name."""
    found: list[tuple[Path, str]] = []
    problems: list[tuple[str, str]] = []
    for arg in map(Path, inputs):
        labels = arg / LABELS_FILE if arg.is_dir() else arg
        if (arg.is_dir() and (labels.exists() or labels.is_symlink())) or arg.suffix.lower() == ".csv":
            found += [(labels.parent / file, text) for file, text in read_labels(labels).items()]
            continue
        files, probs = collect_videos([arg])
        problems += probs
        found += [(f, truth_from_name(f)) for f in files]
    pairs: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for f, text in found:
        key = os.path.realpath(f)
        if key in seen:  # the same video given twice (a folder twice, a file and its folder) is scored once
            continue
        seen.add(key)
        if text:
            pairs.append((f, text))
        else:  # nothing to score against: an error row, not a score of nothing
            problems.append((str(f), f"{shown(f)}: its truth has no letter A-Z (name the file by its word, or list "
                                     f"it in {LABELS_FILE})"))  # fmt: skip
    return pairs, problems


def score_row(truth: str, text: str) -> dict[str, Any]:
    """Distance, exactness and score of one video (the texts normalized first)."""
    t, r = normalize_text(truth), normalize_text(text)
    d = levenshtein(t, r)
    return {"exact": t == r, "distance": d, "score": (len(t) - d) / len(t) if t else None, "truth_chars": len(t)}


def signing_seconds(result: SpellingResult) -> float:
    """How long the signing lasted: first letter's start to last letter's end plus one frame, or the
    whole video when no letter was read."""
    if not result.letters:
        return result.duration
    frame = result.duration / max(result.frames, 1)
    return max(result.letters[-1].end - result.letters[0].start + frame, frame)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Set metrics (see the module docstring) from per-video rows: score_row fields plus ``seconds``."""
    ok = [r for r in rows if r.get("error") is None]
    n_chars = sum(r["truth_chars"] for r in ok)
    dist = sum(r["distance"] for r in ok)
    letters = sum(len(r["truth"].replace(" ", "")) for r in ok)
    seconds = sum(r["seconds"] for r in ok)
    exact = sum(bool(r["exact"]) for r in ok)
    return {
        "n": len(ok),
        "errors": len(rows) - len(ok),
        "exact": exact,
        "exact_share": exact / len(ok) if ok else None,
        "truth_chars": n_chars,
        "distance": dist,
        "score": (n_chars - dist) / n_chars if n_chars else None,
        "cer": dist / n_chars if n_chars else None,
        "letters_per_second": letters / seconds if seconds > 0 else None,
    }


def evaluate_spelling(
    dir_or_files: str | Path | Iterable[str | Path],
    model: str | Path | TrainedModel | None = None,
    lexicon: Lexicon | str | Path | None = None,
    report_dir: str | Path | None = None,
    progress: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """Read every video of ``dir_or_files`` with the spelling decoder and score it against its truth (see
    the module docstring). ``report_dir``: a new or empty folder outside the inputs for report.md and
    results.json. ``overrides``: live settings (defaults.toml [live]). Returns the metrics with ``rows``."""
    from aslkit.models.io import TrainedModel, load_model

    inputs = [dir_or_files] if isinstance(dir_or_files, (str, Path)) else list(dir_or_files)
    if not inputs:
        raise AslkitError("nothing to evaluate: give a folder of fingerspelling videos")
    pairs, problems = spelling_truth(inputs)  # reads labels.csv files only: cheap
    guarded = [*inputs, *(p for p, _ in pairs)]  # a labels.csv may list videos elsewhere
    if report_dir is not None:  # before any work: a wrong --report costs nothing
        check_new_folder(report_dir, guarded, flag="--report", what="the evaluated videos", beside_files=True)
    lex = load_lexicon(lexicon) if isinstance(lexicon, (str, Path)) else lexicon
    if not pairs and not problems:
        raise DatasetError(f"{shown(inputs[0])}: no videos to evaluate")
    if not pairs:  # nothing to score: one line, not a report of zero videos
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DatasetError(f"nothing to evaluate: {problems[0][1]}{more}")
    loaded = model if isinstance(model, TrainedModel) else load_model(model)
    truth = {str(p): t for p, t in pairs}
    rows: list[dict[str, Any]] = [
        {"path": p, "truth": None, "text": None, "exact": None, "distance": None, "score": None,
         "letters_per_second": None, "error": why, "truth_chars": 0, "seconds": 0.0}
        for p, why in problems
    ]  # fmt: skip
    # Listed files are taken as given (a missing one is its own row); collect_paths keeps files whatever their name.
    for res in iter_transcribe([p for p, _ in pairs], loaded, lex, progress, **overrides):
        t = truth.get(res.path, "")
        row: dict[str, Any] = {"path": res.path, "truth": t, "text": res.text}
        if res.error is not None:
            row.update(exact=None, distance=None, score=None, letters_per_second=None, error=res.error,
                       truth_chars=0, seconds=0.0)  # fmt: skip
        else:
            row.update(score_row(t, res.text))
            row["seconds"] = signing_seconds(res)
            n_letters = len(t.replace(" ", ""))
            row["letters_per_second"] = n_letters / row["seconds"] if row["seconds"] > 0 else None
            row["error"] = None
            if res.raw_text is not None:
                row["raw_text"] = res.raw_text
            row["letters"] = [x.to_json() for x in res.letters]
        rows.append(row)
    metrics: dict[str, Any] = {
        "data": [str(p) for p in inputs] if len(inputs) > 1 else str(inputs[0]),
        "model": loaded.source or loaded.architecture,
        "lexicon": (lex.source or "given") if lex is not None else None,
        **summarize(rows),
        "rows": rows,
    }
    if report_dir is not None:
        with new_folder(report_dir, guarded, flag="--report", what="the evaluated videos", beside_files=True) as out:
            (out / "results.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
            (out / "report.md").write_text(report_markdown(metrics), encoding="utf-8")
    return metrics


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _cell(v: Any) -> str:
    """A table cell: printable, no pipes or line breaks."""
    return shown(str(v)).replace("|", "\\|") if v is not None else "-"


def report_markdown(m: dict[str, Any]) -> str:
    """The metrics as a page a person can read: the figures, then one row per video."""
    data = m["data"] if isinstance(m["data"], str) else ", ".join(m["data"])
    lps = m["letters_per_second"]
    lines = [
        f"# Fingerspelling on {_cell(data)}",
        "",
        f"- model: {_cell(m['model'])}" + (f", word list {_cell(m['lexicon'])}" if m.get("lexicon") else ""),
        f"- videos read: {m['n']}" + (f" ({m['errors']} could not be read, left out)" if m["errors"] else ""),
        f"- exact: {m['exact']} of {m['n']} ({_pct(m['exact_share'])})",
        f"- score (Kaggle, (N - D) / N): {'-' if m['score'] is None else format(m['score'], '.4f')}"
        f" (N = {m['truth_chars']} truth characters, D = {m['distance']} edits)",
        f"- character error rate: {_pct(m['cer'])}",
        f"- signing speed: {'-' if lps is None else format(lps, '.2f')} letters per second",
        "",
        "| video | truth | read | exact | edits | score | letters/s | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = _row_names(m["rows"])
    for r in m["rows"]:
        score = "-" if r["score"] is None else f"{r['score']:.3f}"
        speed = "-" if r["letters_per_second"] is None else f"{r['letters_per_second']:.2f}"
        exact = "-" if r["exact"] is None else ("yes" if r["exact"] else "no")
        read = r["text"] if r["text"] is not None else None
        if r.get("raw_text"):
            read = f"{r['text']} (read {r['raw_text']})"
        lines.append(
            f"| {_cell(names[r['path']])} | {_cell(r['truth'])} | {_cell(read)} | {exact} | "
            f"{_cell(r['distance'])} | {score} | {speed} | {_cell(r['error'])} |"
        )
    return "\n".join(lines) + "\n"


def _row_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each row's video by its file name, or by its path where two videos share a name (a/horse.mp4, b/horse.mp4)."""
    count = Counter(Path(r["path"]).name for r in rows)
    return {r["path"]: Path(r["path"]).name if count[Path(r["path"]).name] == 1 else r["path"] for r in rows}


def spelling_text(m: dict[str, Any], report_dir: str | Path | None = None) -> str:
    """What `aslkit evaluate-spelling` prints for the metrics of ``evaluate_spelling``."""
    data = m["data"] if isinstance(m["data"], str) else ", ".join(m["data"])
    out = [f"data: {shown(data)}", f"model: {shown(m['model'])}", f"videos: {m['n']}"]
    names = _row_names(m["rows"])
    for r in m["rows"]:
        if r["error"] is None:
            out.append(f"  {shown(names[r['path']])}: {r['truth']} -> {r['text'] or '(nothing read)'} "
                       f"({r['distance']} edits)")  # fmt: skip
    if m["n"]:
        pct = "-" if m["exact_share"] is None else f"{100 * m['exact_share']:.1f}%"
        out.append(f"exact: {m['exact']} of {m['n']} ({pct})")
    if m["score"] is not None:
        out.append(f"score (Kaggle, (N - D) / N): {m['score']:.4f}   character error rate: {100 * m['cer']:.2f}%")
    if m["letters_per_second"] is not None:
        out.append(f"signing speed: {m['letters_per_second']:.2f} letters per second")
    out += [f"  could not be read: {shown(r['error'])}" for r in m["rows"] if r["error"] is not None]
    if report_dir:
        out.append(f"report: {shown(Path(report_dir) / 'report.md')}")
    return "\n".join(out)
