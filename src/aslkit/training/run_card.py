"""The model card (README.md) of a run folder or a sign dictionary, from what the run itself wrote.

Why here: only training knows how its test side was chosen. A random split of one's own data gives an
in-distribution figure, and the card says so in words; whole signers or groups held out give a figure for people
the model never saw, and the card names them. The card never carries the machine's folders (models/card.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aslkit.kinds import InputKind
from aslkit.metrics import worst_classes
from aslkit.models.card import (
    CARD_NAME,
    CardFacts,
    Result,
    data_facts,
    data_name,
    pipeline_for,
    portable_command,
    reads_text,
    render_card,
)
from aslkit.models.io import TrainedModel
from aslkit.names import shown
from aslkit.outputs import atomic_write

FEW_EXAMPLES = 10  # a class with fewer examples than this is named in the limits
SMALL_SPLIT = 100  # a scored split smaller than this is said to be small
_USE = (
    "It recognizes isolated {what}; it is not a translator of ASL. Do not rely on it where a misread sign matters "
    "without a person checking."
)


def _codes(items: list[str]) -> str:
    return ", ".join(f"`{shown(x)}`" for x in items)


def split_facts(config: dict[str, Any]) -> tuple[str, bool, str]:
    """(how the test side was chosen, whether it holds only people never trained on, what they are called)."""
    t = config.get("train", {})
    held = [g for g in str(t.get("holdout") or "").split(",") if g]
    if t.get("group_pattern"):
        names = _codes(held) if held else "the last group in sorted order"
        pattern = shown(str(t["group_pattern"]))
        return (
            f"whole groups held out (groups found in file names by `{pattern}`): the test side is {names}",
            True,
            "group",
        )
    if held:
        return (f"signers held out: every clip of {_codes(held)} is on the test side; valid is a random 15% of the "
                "other signers' clips", True, "signer")  # fmt: skip
    return f"a random stratified split of all the data (`--split {t.get('split')}`, seed {t.get('seed')})", False, ""


def _score_rows(metrics: dict[str, Any], independent: bool, hands: bool) -> list[str]:
    """The table of each split's scores, each row saying what its figure is."""
    what = {"test": "held out: never trained on" if independent else "random split: in-distribution",
            "valid": "chose the best epoch", "train": "fitted to"}  # fmt: skip
    head = "| split | items | accuracy | macro F1 |" + (" hand found |" if hands else "")
    rows = [head, "|---|---|---|---|" + ("---|" if hands else "")]
    for split in ("test", "valid", "train"):
        m = metrics.get(split)
        if not m:
            continue
        row = f"| {split} ({what[split]}) | {m['n']} | {100 * m['accuracy']:.2f}% | {m['macro_f1']:.3f} |"
        rows.append(row + (f" {100 * m.get('detection_rate', 0):.2f}% |" if hands else ""))
    return rows


def _scores(config: dict[str, Any], metrics: dict[str, Any], kind: InputKind) -> str:
    """How the run was scored, its figures and whether they say anything about other people."""
    how, independent, who = split_facts(config)
    hands = metrics.get("detection_rate_all") is not None
    split = "test" if "test" in metrics else "valid"
    path = "each clip" if kind is InputKind.SEQUENCE else "one view of each photo"
    if hands:
        path += "; a photo where no hand is found counts as wrong unless its label is Nothing"
    lines = [f"Measured by `aslkit train` when the run finished, through `predict`'s own path ({path}). "
             f"Split: {how}.", "", *_score_rows(metrics, independent and split == "test", hands), ""]  # fmt: skip
    if independent and split == "test":
        lines.append(f"**{'Signer' if who == 'signer' else 'Group'}-independent**: the test figure is on "
                     f"{who}s the model never saw.")  # fmt: skip
    else:
        lines.append(f"**In-distribution**: the {split} figure is on the same people, cameras and rooms as the "
                     "training side, so it is not a figure for other people.")  # fmt: skip
    return "\n".join(lines)


def _limits(config: dict[str, Any], metrics: dict[str, Any], model: TrainedModel) -> list[str]:
    """Whom and what the run fails, from its own scores, and what its figures cannot say."""
    how, independent, who = split_facts(config)
    split = "test" if "test" in metrics else "valid"
    out = []
    if independent and split == "test":
        out.append(f"Scored on the held-out {who}(s) only ({metrics['test']['n']} items): a figure for them, not a "
                   "promise for the next person; `--cv signer` (clips) scores every signer once.")  # fmt: skip
    else:
        out.append("Scored on a random split of your own data: not a figure for other people. To measure one: "
                   "`aslkit evaluate OTHER_PEOPLE --model THIS_FOLDER`, or train with whole people held out "
                   "(`--group-pattern REGEX --holdout NAME` for photos, `--holdout SIGNER` or `--cv signer` for clips).")  # fmt: skip  # noqa: E501
    if split == "valid":
        out.append("No test split: the figures are the validation split's, which also chose the best epoch.")
    n = metrics[split]["n"]
    if 0 < n < SMALL_SPLIT:
        out.append(f"The {split} split holds only {n} items: one mistake more or less moves its accuracy by "
                   f"{100 / n:.1f} points.")  # fmt: skip
    worst = worst_classes(metrics[split])
    if worst:
        out.append(f"Weakest on the {split} split (recall; read as): " + "; ".join(
            f"`{shown(w['label'])}` {w['recall']:.2f} ({', '.join(f'{k} {n}' for k, n in w['read_as'].items())})"
            for w in worst) + ".")  # fmt: skip
    few = [lab for lab, n in config.get("counts", {}).items() if n < FEW_EXAMPLES]
    if few:
        out.append(f"Classes with fewer than {FEW_EXAMPLES} examples: {_codes(few)}; a few takes rarely stand for "
                   "everyone's way of signing them.")  # fmt: skip
    if metrics.get("test_left_out"):
        out.append(f"Not scored: held-out items of classes no training {who or 'item'} had: "
                   f"{_codes(list(metrics['test_left_out']))}.")  # fmt: skip
    if metrics.get("unreadable"):
        out.append(f"{metrics['unreadable']} unreadable file(s) were left out of training and scoring.")
    rate = metrics.get("detection_rate_all")
    if rate is not None and rate < 1:
        out.append(f"MediaPipe found no hand in {100 * (1 - rate):.2f}% of the readable photos; those are answered "
                   "`Nothing`, right only for photos of no letter.")  # fmt: skip
    out.append(f"It answers with one of its {len(model.labels)} labels: anything else is read as the nearest.")
    return out


def _results(metrics: dict[str, Any], config: dict[str, Any], pipeline: str) -> list[Result]:
    """The headline split's figures for the front matter's model-index."""
    split = "test" if "test" in metrics else "valid"
    how, independent, _ = split_facts(config)
    label = "held out" if independent and split == "test" else "random split, in-distribution"
    names = [data_name(p) for p in config.get("data", [])]
    dataset = f"{' + '.join(names)} ({split}, {label})"
    m = metrics[split]
    kind = names[0] if names else "data"
    return [
        Result(dataset, kind, split, "accuracy", round(100 * m["accuracy"], 2), "accuracy (%)"),
        Result(dataset, kind, split, "f1", round(m["macro_f1"], 3), "macro F1"),
    ]


def run_card(run_dir: Path, model: TrainedModel, config: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The README.md of a finished run folder."""
    kind = model.kind
    pipeline, tags = pipeline_for(kind)
    what = "signs in clips" if kind is InputKind.SEQUENCE else "letters in photos"
    total = sum(config.get("counts", {}).values())
    summary = (f"A `{model.architecture}` model trained with `aslkit train` on {total} examples of "
               f"{len(model.labels)} classes (best epoch {metrics.get('best_epoch')} of "
               f"{model.meta.get('epochs_run', '?')}, {metrics.get('train_seconds', '?')} s).")  # fmt: skip
    finetune = config.get("train", {}).get("finetune")
    if finetune:
        summary += f" Fine-tuned from `{data_name(finetune)}`."
    example = "clip.mp4" if kind is InputKind.SEQUENCE else "photo.jpg"
    facts = CardFacts(
        name=shown(run_dir.name or "run"), summary=summary, architecture=model.architecture, labels=model.labels,
        pipeline_tag=pipeline, tags=tags, data=[data_facts(p) for p in config.get("data", [])],
        command=portable_command(config.get("command")),
        reads=reads_text(kind, model.preprocessing, model.in_features),
        scores=_scores(config, metrics, kind),
        intended_use=f"Recognizing {what} of the people, cameras and rooms of its training data, offline on a CPU "
        f"(`aslkit predict`, `aslkit live`, `aslkit serve`). " + _USE.format(what=what.split()[0]),
        limits=_limits(config, metrics, model), results=_results(metrics, config, pipeline),
        files="`model.safetensors` (weights) and `model.json` (labels, preprocessing); `config.json` (every option), "
        "`metrics.json` (each split's scores), `report.md`, `curves.png`, `confusion_matrix.png`. "
        f"Use it: `aslkit predict {example} --model THIS_FOLDER`.",
    )  # fmt: skip
    return render_card(facts)


def write_run_card(run_dir: Path, model: TrainedModel, config: dict[str, Any], metrics: dict[str, Any]) -> Path:
    """Write the run folder's README.md (atomically) and return its path."""
    path = run_dir / CARD_NAME
    atomic_write(path, run_card(run_dir, model, config, metrics).encode("utf-8"))
    return path


def _dictionary_scores(model: TrainedModel, metrics: dict[str, Any]) -> tuple[str, list[Result]]:
    """The dictionary's own check (its examples against each other) and, for the shipped encoder, where the
    method's figures on other signers are."""
    loo = metrics.get("leave_one_out")
    if loo:
        text = (f"Leave-one-example-out, measured by `aslkit train` when the dictionary was written: each example "
                "of a word with 2+ examples is scored against the dictionary without itself "
                f"({loo['examples']} examples): top-1 {100 * loo['top1']:.1f}%, top-5 {100 * loo['top5']:.1f}%."
                "\n\n**In-distribution**: the examples' own signers and recordings; not a figure for other "
                "people.")  # fmt: skip
        results = [Result("own examples (leave one out, in-distribution)", "examples", "all", "accuracy",
                          round(100 * loo["top1"], 1), "top-1 accuracy (%)")]  # fmt: skip
    else:
        text, results = "Not scored: no word has two examples, so none could be checked against the others.", []
    if model.meta.get("encoder") == "sign-encoder":
        text += ("\n\nHow this method does on signs and signers its encoder never saw, and on real videos across "
                 "sources: `aslkit models sign-encoder`.")  # fmt: skip
    return text, results


def dictionary_card(run_dir: Path, model: TrainedModel, metrics: dict[str, Any]) -> str:
    """The README.md of a sign dictionary (train --model sign-dictionary): its words, examples and encoder."""
    pipeline, tags = pipeline_for(InputKind.SEQUENCE)
    counts = dict(zip(model.labels, [int(c) for c in model.tensors["counts"]], strict=True))
    scores, results = _dictionary_scores(model, metrics)
    single = [w for w, c in counts.items() if c < 2]
    limits = [
        "Its only score is on its own examples: to measure it on other people, `aslkit evaluate THEIR_CLIPS "
        "--model THIS_FOLDER` (top-1 and top-5).",
        "There is no 'no sign' answer: every clip gets the nearest word.",
        f"Words are told apart only as well as the encoder `{shown(str(model.meta.get('encoder')))}` tells them "
        "apart: signs that share a hand shape and place and differ in movement are the hard ones for a pooled "
        "embedding.",
    ]
    if single:
        limits.append(f"Words with a single example (nothing checked them): {_codes(single)}.")
    added = model.meta.get("added_to")
    facts = CardFacts(
        name=shown(run_dir.name or "dictionary"),
        summary=f"A sign dictionary of {len(model.labels)} words: the `{shown(str(model.meta.get('encoder')))}` "
        f"encoder's trunk (weights {model.meta.get('encoder_id')}) and one prototype per word, the mean of its "
        "examples' unit embeddings. Nothing was trained: a clip is answered with the word whose prototype is "
        "nearest (cosine)." + (f" Grown from `{shown(str(added))}`." if added else ""),
        architecture=model.architecture, labels=model.labels, pipeline_tag=pipeline,
        tags=[*tags, "few-shot", "sign-dictionary"], data=[data_facts(p) for p in model.meta.get("data", [])],
        command=portable_command(model.meta.get("command")),
        reads=reads_text(InputKind.SEQUENCE, model.preprocessing, model.in_features), scores=scores,
        intended_use="Recognizing signs from a few examples each, for the signers and cameras of those examples, "
        "offline on a CPU. " + _USE.format(what="signs"),
        limits=limits, results=results,
        files="`model.safetensors` + `model.json` (the dictionary), `words.csv` (each example and the seconds of it "
        "that were kept), `metrics.json`, `report.md`. "
        "Use it: `aslkit predict clip.mp4 --model THIS_FOLDER --top-k 5`.",
    )  # fmt: skip
    return render_card(facts)
