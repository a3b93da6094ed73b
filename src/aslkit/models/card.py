"""Model cards: a README.md with YAML front matter (Hugging Face's model-card format) beside every model.

A model file says what a model reads and answers; its card says what it was trained on and under which licence,
how it was scored and on whom, what it is for and whom it fails. Shipped models have theirs in
``weights/<name>.md`` (written by scripts/write_model_cards.py), a run folder in ``README.md`` (written by
``train``). ``aslkit models NAME`` prints one (``read_model_card``).

The front matter is written with PyYAML and reads back with ``huggingface_hub.ModelCard.load``; nothing here
talks to the Hub. Model files and cards never carry the folders of the machine a model was trained on: data
sets are named by ``data_name`` and commands by ``portable_command``.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from aslkit.errors import ModelError
from aslkit.kinds import InputKind
from aslkit.names import regular_file_problem, shown

CARD_NAME = "README.md"  # a run folder's card: the name Hugging Face and GitHub show
MAX_CARD_BYTES = 2**20  # a card is a few KB
UNKNOWN = "unknown"

# The public sets aslkit was built with (../shared/data/README.md): name -> (licence, what it is). Found in a data
# path by any of its folder names, so a card can give each set's licence.
KNOWN_DATA: dict[str, tuple[str, str]] = {
    "asl-alphabet-photos": ("Apache-2.0", "phone photos of several people's hands in several rooms, 29 classes"),
    "asl-alphabet-kaggle": ("GPL-2.0", 'the Kaggle "ASL Alphabet" set: one signer, one wall, near-identical frames'),
    "asl-letters-detection": ("public domain", '"American Sign Language Letters" photos; the hand boxes, cropped'),
    "massey-letters": (UNKNOWN, "Massey University gesture set: 5 signers, hands cut out on black"),
    "letters-more-people": (
        UNKNOWN,
        "webcam or laptop photos of one person per set (five sets), each from a public repository",
    ),
    "hand-landmarks-letters": (UNKNOWN, "MediaPipe hand landmarks of one signer's video frames"),
    "sign-sequences/words-pose-hands.npz": (UNKNOWN, "word and letter signs of 3 signers, pose and hand landmarks"),
    "sign-sequences/letters-hands.npz": (UNKNOWN, "letters incl. the moving J and Z, 3 signers, hand landmarks"),
    "sign-sequences/words-many-signers.npz": (UNKNOWN, "word signs of 65 signers, one public repository each"),
    "sign-sequences": (UNKNOWN, "landmark clips of signs"),
    "fingerspelling-idle.npz": (
        UNKNOWN,
        "letters-hands.npz's fingerspelled letters (every 4th clip, not A) as `-` (scripts/fingerspelling_idle.py)",
    ),
    "word-videos": (UNKNOWN, "word-sign videos from three public sources"),
    "fingerspelling-videos": (UNKNOWN, "one teacher fingerspelling A to Z"),
}
OWN_DATA = (UNKNOWN, "not a set aslkit knows: its source and licence are for its owner to state")
_GENERIC_PARTS = {"train", "valid", "val", "validation", "test", "images", "labels", "clips", "videos"}
_KNOWN_FOLDERS = {k.split("/")[0] for k in KNOWN_DATA}
_KEY_VALUE = re.compile(r"^-{0,2}[A-Za-z_][\w-]*=")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline (CRLF is read as LF)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


# ---- names without the machine's folders -----------------------------------------------------------------------
def data_name(path: str | os.PathLike) -> str:
    """A data path as a name that means the same on any machine: from a known set's folder on
    (``asl-letters-detection/train``), else its last part, with its parent when that part is generic
    (``mine/train``). Never a home folder, a drive or ``..``."""
    p = PurePath(os.fspath(path))
    if p.name in ("", ".", ".."):  # "." or "..": the folder's own name
        p = Path(p).resolve()
    parts = [x for x in p.parts if x not in (p.anchor, ".", "..", "~")]
    if not parts:
        return "data"
    for i, part in enumerate(parts):
        if part in _KNOWN_FOLDERS:
            return "/".join(parts[i:])
    if len(parts) >= 2 and parts[-1].lower() in _GENERIC_PARTS and not _is_home(p.parent):
        return "/".join(parts[-2:])
    return parts[-1]


def _is_home(folder: PurePath) -> bool:
    """Whether ``folder`` is a home folder (whose name is a user's name, never written into a model file)."""
    name = str(folder)
    return name == "~" or folder.parent.name in ("home", "Users") or Path(name).expanduser() == Path.home()


def data_facts(path: str | os.PathLike) -> tuple[str, str, str]:
    """(name, licence, what it is) of a training source: a known set's, else ``OWN_DATA``."""
    name = data_name(path)
    for key in (name, "/".join(name.split("/")[:2]), name.split("/")[0]):
        if key in KNOWN_DATA:
            return (name, *KNOWN_DATA[key])
    return (name, *OWN_DATA)


def _is_machine_path(value: str) -> bool:
    """An absolute path, one under ``~`` or ``..``, a path through a known set's folder, or an existing relative
    path with a folder part (a label list or a regex never exists as a file)."""
    if not value:
        return False
    if os.path.isabs(value) or value.startswith(("~", "./", "../")) or PurePath(value).anchor:
        return True
    if "/" not in value and os.sep not in value:
        return False
    return bool(_KNOWN_FOLDERS & set(PurePath(value).parts)) or os.path.exists(value)


def portable_command(command: str | None) -> str | None:
    """``command`` with every path in it (a data set, ``--out``, ``out=...``) as its ``data_name``, so a model
    file or card never carries the folders of the machine it was trained on; None when it cannot be parsed."""
    if not command:
        return command
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    out = []
    for arg in argv:
        key, value = "", arg
        if _KEY_VALUE.match(arg):
            key, value = arg[: arg.index("=") + 1], arg[arg.index("=") + 1 :]
        out.append(key + (data_name(value) if _is_machine_path(value) else value))
    return shlex.join(out)


def portable_meta(command: str | None, data: list) -> dict[str, Any]:
    """The ``command`` and ``data`` entries of a model.json's meta, without the machine's folders."""
    return {"command": portable_command(command), "data": [data_name(p) for p in data]}


# ---- what a card says -----------------------------------------------------------------------------------------
@dataclass
class Result:
    """One measured figure, for the front matter's ``model-index`` (what the Hub shows as evaluation results)."""

    dataset: str  # what was scored, in words
    dataset_type: str  # its short name
    split: str
    metric: str  # "accuracy", "f1", ...
    value: float
    name: str  # the figure's own name, with its unit


@dataclass
class CardFacts:
    """Everything a card says; ``render_card`` turns it into the README.md."""

    name: str
    summary: str
    architecture: str
    labels: list[str]
    pipeline_tag: str
    tags: list[str]
    data: list[tuple[str, str, str]]  # (name, licence, what it is)
    command: str | None
    reads: str
    scores: str
    intended_use: str
    limits: list[str]
    results: list[Result] = field(default_factory=list)
    files: str = ""


def card_license(data: list[tuple[str, str, str]]) -> str:
    """The front matter's licence: ``unknown`` when any training set's licence is unknown (the weights' terms then
    are too), else ``other`` (the data's own licences apply, as the card lists them)."""
    return UNKNOWN if not data or any(lic == UNKNOWN for _, lic, _ in data) else "other"


def pipeline_for(kind: InputKind) -> tuple[str, list[str]]:
    """The Hub task and tags for what a model reads: photos (through MediaPipe Hands or as pixels) are
    image-classification, clips of landmarks from videos are video-classification."""
    if kind is InputKind.SEQUENCE:
        return "video-classification", ["pose-landmarks", "hand-landmarks", "mediapipe", "sign-recognition"]
    if kind is InputKind.LANDMARKS:
        return "image-classification", ["hand-landmarks", "mediapipe", "fingerspelling"]
    return "image-classification", ["fingerspelling"]


def reads_text(kind: InputKind, pre: dict[str, Any], in_features: int) -> str:
    """What the model reads, from its preprocessing as saved in model.json."""
    if kind is InputKind.LANDMARKS:
        views = {"auto": "and also its mirror image when the photo alone leaves it unsure", "2": "and its mirror image"}
        return (
            "A photo (or a video frame). MediaPipe Hands finds the hand and its 21 landmarks; the network reads "
            f"{in_features} numbers computed from them (`{pre.get('features', '?')}`: centred on the palm, scaled by "
            f"its size, left hands mirrored). It looks at the photo {views.get(str(pre.get('views')), 'as it is')}. "
            f"No hand found: `{pre.get('no_hand_label', 'Nothing')}`."
        )
    if kind is InputKind.IMAGE:
        crop = {"none": "the whole image", "hand": "the square around MediaPipe's hand box",
                "hand-mask": "the square around MediaPipe's hand box, background masked"}  # fmt: skip
        return (
            f"An RGB photo: {crop.get(str(pre.get('crop')), str(pre.get('crop')))}, resized to "
            f"{pre.get('size')}x{pre.get('size')} pixels."
        )
    text = (
        "A clip: a video (MediaPipe Holistic gives the pose and both hands of every frame; videos are cut to their "
        f"signing first) or landmark arrays (.npy/.npz), frame layout `{pre.get('layout')}`, resampled to "
        f"{pre.get('length')} frames; {in_features} features per frame (`{pre.get('features')}`)."
    )
    if pre.get("pose_optional"):
        text += " Clips without a pose (hands only) are read too."
    if pre.get("idle_label"):
        text += f" `{pre['idle_label']}` means no sign"
        text += (
            f"; a sign less sure than {pre['min_confidence']} is answered `{pre['idle_label']}`."
            if pre.get("min_confidence")
            else "."
        )
    return text


# ---- the README.md --------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    """One printable line that cannot end a Markdown table cell."""
    return shown(text).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code that a backtick in ``text`` cannot close early."""
    t = shown(text)
    return f"`` {t} ``" if "`" in t else f"`{t}`"


def _model_index(f: CardFacts) -> list[dict[str, Any]]:
    """The Hub's ``model-index``: one result per scored set and split, each with its figures."""
    groups: dict[tuple[str, str, str], list[Result]] = {}
    for r in f.results:
        groups.setdefault((r.dataset, r.dataset_type, r.split), []).append(r)
    results = [
        {
            "task": {"type": f.pipeline_tag},
            "dataset": {"name": name, "type": kind, "split": split},
            "metrics": [{"type": r.metric, "value": r.value, "name": r.name} for r in rs],
        }
        for (name, kind, split), rs in groups.items()
    ]
    return [{"name": f.name, "results": results}]


def front_matter(f: CardFacts) -> dict[str, Any]:
    """The card's YAML metadata: language ``ase`` (American Sign Language, ISO 639-3), licence, task, labels."""
    meta: dict[str, Any] = {
        "language": ["ase"],
        "license": card_license(f.data),
        "library_name": "aslkit",
        "pipeline_tag": f.pipeline_tag,
        "tags": list(dict.fromkeys(["aslkit", "american-sign-language", "sign-language", *f.tags, f.architecture])),
        "datasets": list(dict.fromkeys(n for n, _, _ in f.data)),
        "metrics": sorted({r.metric for r in f.results}) or ["accuracy"],
        "labels": list(f.labels),
    }
    if f.results:
        meta["model-index"] = _model_index(f)
    return meta


def licence_text(data: list[tuple[str, str, str]]) -> str:
    """Why the weights carry the licence the front matter gives: the data's own licences, set by set."""
    known: dict[str, list[str]] = {}
    for name, lic, _ in data:
        known.setdefault(lic, []).append(name)
    unknown = known.pop(UNKNOWN, [])
    text = (
        f"Licence of the weights: **{card_license(data)}**. aslkit's code is Apache-2.0, which does not license "
        "weights fitted to other people's data."
    )
    if known:
        text += " Training data under known licences: " + "; ".join(
            f"{lic} ({', '.join(_code(n) for n in names)})" for lic, names in known.items()
        )
        text += "."
    if unknown:
        text += (
            f" Licence unknown: {', '.join(_code(n) for n in unknown)}, so the terms of the weights are unknown too."
        )
    return text + " Check the data's terms before you redistribute the weights."


def render_card(f: CardFacts) -> str:
    """The model card: YAML front matter, then what it reads, labels, data, command, scores, use and limits."""
    import yaml

    head = yaml.safe_dump(front_matter(f), sort_keys=False, allow_unicode=True, width=1000)
    command = shown(f.command) if f.command else "(no command recorded: trained from Python; see config.json)"
    lines = ["---", head.rstrip("\n"), "---", "", f"# {_cell(f.name)}", "", f.summary, ""]
    lines += ["## What it reads", "", f.reads, ""]
    lines += ["## Labels", "", f"{len(f.labels)} labels: " + ", ".join(_code(lab) for lab in f.labels) + ".", ""]
    lines += ["## Training data", "", "| data | what it is | licence |", "|---|---|---|"]
    lines += [f"| {_cell(n)} | {_cell(what)} | {_cell(lic)} |" for n, lic, what in f.data]
    lines += ["", licence_text(f.data), "", "## Training command", "", "```bash", command, "```", "",
              "Data and folders are named without the folders of the machine it was trained on.", ""]  # fmt: skip
    lines += ["## Scores", "", f.scores.strip(), "", "## Intended use", "", f.intended_use, ""]
    lines += ["## Limits", "", *[f"- {item}" for item in f.limits], ""]
    if f.files:
        lines += ["## Files", "", f.files, ""]
    return "\n".join(lines)


# ---- reading a card back ---------------------------------------------------------------------------------------
@dataclass
class ModelCardFile:
    """A model card as read from disk: where, its text and its front matter."""

    path: Path
    text: str
    metadata: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """What `aslkit models NAME --json` prints (front matter values the YAML made dates of, as text)."""
        import json

        return {"card": str(self.path), "metadata": json.loads(json.dumps(self.metadata, default=str)),
                "text": self.text}  # fmt: skip


def card_path(json_path: Path) -> Path:
    """A model's card: README.md beside a run folder's model.json, ``<name>.md`` beside any other JSON."""
    return json_path.parent / CARD_NAME if json_path.name == "model.json" else json_path.with_suffix(".md")


def parse_card(text: str, where: str) -> dict[str, Any]:
    """The front matter of a card as a dict; ModelError (one line) for anything a card should not be."""
    import yaml

    if _CONTROL.search(text):
        raise ModelError(f"{where}: the model card holds control characters; not printed")
    m = _FRONT_MATTER.match(text)
    if m is None:
        raise ModelError(f"{where}: not a model card (no YAML front matter: it starts with a '---' block)")
    try:
        if any(isinstance(t, (yaml.AliasToken, yaml.AnchorToken)) for t in yaml.scan(m.group(1))):
            raise ModelError(f"{where}: the model card's front matter uses YAML anchors or aliases; not read")
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 2}" if mark is not None else ""
        raise ModelError(f"{where}: the model card's front matter is not valid YAML{at}") from None
    except RecursionError:
        raise ModelError(f"{where}: the model card's front matter is nested too deeply") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{where}: the model card's front matter is not a mapping of keys to values")
    return meta


def read_model_card(name_or_path: str | Path | None) -> ModelCardFile:
    """The card of a shipped model (by name), a run folder or a model JSON: what `aslkit models NAME` prints."""
    from aslkit.models.io import resolve_model_path

    path = card_path(resolve_model_path(name_or_path))
    where = shown(path)
    why = regular_file_problem(path)
    if why is None and path.stat().st_size > MAX_CARD_BYTES:
        why = f"too large: {path.stat().st_size} bytes, at most {MAX_CARD_BYTES}"
    if why == "no such file":
        raise ModelError(
            f"{shown(path.parent)}: no model card ({path.name}); a run trained before aslkit wrote cards has none "
            "(its config.json and metrics.json say how it was trained and scored)"
        )
    if why is not None:
        raise ModelError(f"{where}: cannot read the model card ({why})")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{where}: the model card is not UTF-8 text") from None
    except OSError as exc:
        raise ModelError(f"{where}: cannot read the model card ({exc.strerror or exc})") from None
    text = text.replace("\r\n", "\n")
    return ModelCardFile(path, text, parse_card(text, where))
