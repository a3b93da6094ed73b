"""Build a sign dictionary from example clips: new signs with no training of the network.

`aslkit train VIDEO_DIR --model sign-dictionary --out DICT` embeds every example with a sequence encoder
trained across many signers (default: the shipped ``sign-encoder``) and writes a ``sign-dictionary``
model: the encoder's weights plus one prototype per word (see models/sign_dictionary.py). ``add=OLD``
starts from an existing dictionary, so words (or more examples of a word) are added without touching
the others. Videos are cut to their signing (rest before and after dropped) before they are embedded,
as ``predict`` cuts the clips it reads. The folder gets a model card (README.md, training/run_card.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aslkit.data.sequences import MIN_FRAMES, SequenceSet, concat_sequences, is_video_path
from aslkit.errors import AslkitError, DatasetError, ModelError
from aslkit.labels import match_labels, same_label_twice, sort_labels
from aslkit.models.card import CARD_NAME, data_name, portable_meta
from aslkit.models.io import TrainedModel, load_model
from aslkit.models.registry import get_model_info
from aslkit.names import shown
from aslkit.outputs import atomic_write
from aslkit.training.checkpoint import check_run_folder
from aslkit.training.run_card import dictionary_card

DICTIONARY = "sign-dictionary"
DEFAULT_ENCODER = "sign-encoder"
ENCODERS = ("seq-tcn",)  # architectures whose trunk (stem, blocks, pooling) a dictionary holds


@dataclass
class DictionaryResult:
    """A written dictionary: its folder, the model, and what went into it."""

    run_dir: Path
    model: TrainedModel
    metrics: dict[str, Any]


def _encoder_id(enc: TrainedModel) -> str:
    """A short fingerprint of the encoder's weights: a dictionary only grows with the encoder it was built with."""
    h = hashlib.sha256()
    for k in sorted(enc.tensors):
        h.update(k.encode())
        h.update(np.ascontiguousarray(enc.tensors[k], np.float32).tobytes())
    return h.hexdigest()[:16]


def _signing_part(data: SequenceSet, cache_dir="default") -> tuple[SequenceSet, list[tuple[float, float] | None]]:
    """Each video cut to its signing (first span's start to the last one's end, see landmarks/segments.py);
    landmark clips are taken whole. Returns the cut set and each clip's kept seconds (None: whole), by the
    video's own clock."""
    from aslkit.landmarks.holistic import clip_clock
    from aslkit.landmarks.segments import signing_segments
    from aslkit.landmarks.video import video_fps

    seqs, spans = [], []
    for i, (seq, src) in enumerate(zip(data.sequences, data.paths, strict=True)):
        span = None
        if is_video_path(src) and Path(src).is_file():
            times = clip_clock(data, i, cache_dir)  # the file's clock, read with its landmarks
            fps = video_fps(src)
            segs = signing_segments(seq, data.layout, fps, times=times)
            if segs:
                seq = seq[segs[0].start : segs[-1].end]
                start, end = segs[0].seconds(fps, times)[0], segs[-1].seconds(fps, times)[1]
                span = (round(start, 2), round(end, 2))
        seqs.append(seq)
        spans.append(span)
    cut = SequenceSet(seqs, data.labels, data.layout, data.signers, data.sources, data.errors, None, data.aspects)
    return cut, spans


def embed_clips(enc: TrainedModel, data: SequenceSet, batch: int = 256) -> np.ndarray:
    """(N, D) unit-length embeddings of every clip, by the encoder's trunk (its head is not used)."""
    import torch

    from aslkit.inference.sequence_recognizer import model_input, sequence_arrays

    if enc.architecture not in (*ENCODERS, DICTIONARY):
        raise ModelError(f"a sign dictionary embeds with a seq-tcn encoder; {enc.architecture!r} is not one")
    data = model_input(enc, data)  # its layout, and videos at the encoder's camera shape
    x, m = sequence_arrays(data, int(enc.preprocessing["length"]))
    net = enc.torch_module()
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            z = net.embed(torch.from_numpy(x[i : i + batch]), torch.from_numpy(m[i : i + batch]))
            out.append(torch.nn.functional.normalize(z, dim=1).numpy())
    return np.concatenate(out).astype(np.float32)


def _start(encoder: str | Path | None, add: str | Path | None) -> tuple[TrainedModel, dict[str, np.ndarray], str]:
    """The encoder to embed with and the words already in the dictionary (``add``): (encoder, sums, name)."""
    if add is None:
        enc = load_model(encoder or DEFAULT_ENCODER)
        if enc.architecture not in ENCODERS:
            raise ModelError(f"--encoder must be a seq-tcn sign model; {shown(str(encoder))} is {enc.architecture}")
        return enc, {}, data_name(encoder or DEFAULT_ENCODER)  # a shipped name, or a run folder's own name
    old = load_model(add)
    if old.architecture != DICTIONARY:
        raise ModelError(f"--add takes a sign dictionary; {shown(str(add))} is a {old.architecture} model")
    if encoder is not None:
        raise AslkitError("--add keeps the dictionary's own encoder; leave out --encoder")
    p, c = old.tensors["prototypes"], old.tensors["counts"]
    sums = {lab: (p[i], float(c[i])) for i, lab in enumerate(old.labels)}
    return old, sums, data_name(str(old.meta.get("encoder", "?")))


def _dictionary_model(enc: TrainedModel, sums: dict, encoder_name: str, meta: dict[str, Any]) -> TrainedModel:
    """The dictionary as a model file: the encoder's trunk (under ``encoder.``) and one row per word."""
    labels = sort_labels(sums)
    if enc.architecture == DICTIONARY:
        trunk = {k: v for k, v in enc.tensors.items() if k.startswith("encoder.")}
        kwargs = dict(enc.kwargs)
    else:
        trunk = {f"encoder.{k}": v for k, v in enc.tensors.items() if not k.startswith("head.")}
        kwargs = {k: enc.kwargs[k] for k in ("dim", "blocks", "kernel")}
        kwargs["scale"] = get_model_info(DICTIONARY).defaults["scale"]
    tensors = {
        **trunk,
        "prototypes": np.stack([sums[lab][0] for lab in labels]).astype(np.float32),
        "counts": np.array([sums[lab][1] for lab in labels], np.float32),
    }
    pre = dict(enc.preprocessing)
    for key in ("idle_label", "min_confidence"):  # no threshold: the nearest word is the answer
        pre.pop(key, None)
    meta = {**meta, "encoder": encoder_name, "encoder_id": enc.meta.get("encoder_id") or _encoder_id(enc)}
    return TrainedModel(DICTIONARY, kwargs, labels, enc.in_features, pre, tensors, meta)


def _leave_one_out(z: np.ndarray, labels: list[str], sums: dict) -> dict[str, Any] | None:
    """Each example scored against the dictionary without itself (words with 2+ examples): a quick check
    that a word's examples agree with each other, not a held-out-signer figure."""
    words = sort_labels(sums)
    p = np.stack([sums[w][0] for w in words])
    ranks = []
    for zi, lab in zip(z, labels, strict=True):
        if sums[lab][1] < 2:
            continue
        q = p.copy()
        q[words.index(lab)] -= zi
        q /= np.linalg.norm(q, axis=1, keepdims=True) + 1e-9
        s = q @ zi
        ranks.append(int((s > s[words.index(lab)]).sum()) + 1)
    if not ranks:
        return None
    r = np.array(ranks)
    return {"examples": len(r), "top1": float(np.mean(r == 1)), "top5": float(np.mean(r <= 5))}


def _words_csv(model: TrainedModel, data: SequenceSet, spans: list, earlier: list[list[str]] = ()) -> str:
    """Every example of the dictionary (``earlier``: the rows of the one it grew from) with its word's count now."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["word", "examples_in_dictionary", "file", "signing_start_s", "signing_end_s"])
    counts = dict(zip(model.labels, model.tensors["counts"].tolist(), strict=True))
    for lab, _, src, start, end in earlier:
        if lab in counts:
            w.writerow([lab, int(counts[lab]), src, start, end])
    for lab, src, span in zip(data.labels, data.paths, spans, strict=True):
        w.writerow([lab, int(counts[lab]), src, *(span or ("", ""))])
    return buf.getvalue()


def _report(model: TrainedModel, metrics: dict[str, Any]) -> str:
    lines = [f"# Sign dictionary: {len(model.labels)} words", "",
             f"Encoder: `{model.meta['encoder']}` (weights {model.meta['encoder_id']}). "
             f"Examples added in this run: {metrics['examples_added']}; words added: {metrics['words_added']}.",
             ""]  # fmt: skip
    loo = metrics.get("leave_one_out")
    if loo:
        lines += [f"Leave-one-example-out over words with 2+ examples ({loo['examples']} examples): top-1 "
                  f"{100 * loo['top1']:.1f}%, top-5 {100 * loo['top5']:.1f}% (the dictionary's own examples, "
                  "against the others of their word: not a figure for other people).", ""]  # fmt: skip
    lines += ["| word | examples |", "|---|---|"]
    lines += [f"| {w} | {int(c)} |" for w, c in zip(model.labels, model.tensors["counts"], strict=True)]
    lines += ["", "Examples and the seconds of each video that were kept: `words.csv`."]
    return "\n".join(lines) + "\n"


def build_dictionary(
    data: str | Path | list[str | Path],
    out: str | Path,
    encoder: str | Path | None = None,
    add: str | Path | None = None,
    cache_dir: str | Path | None = "default",
    progress: bool = True,
    command: str | None = None,
) -> DictionaryResult:
    """Embed example clips (``<word>/<take>`` videos or landmark arrays, or .npz sets) and write a sign
    dictionary to ``out`` (a new or empty folder outside the data), or a grown copy of ``add``."""
    from aslkit.landmarks.holistic import load_sequences

    t0 = time.time()
    paths = [data] if isinstance(data, (str, Path)) else list(data)
    if not paths:
        raise DatasetError("no example clips given")
    run_dir = Path(out)
    check_run_folder(run_dir, paths + ([add] if add else []))
    enc, sums, encoder_name = _start(encoder, add)
    clips = _usable(concat_sequences([load_sequences(p, cache_dir, progress) for p in paths]))
    if len(clips) == 0:
        why = f" ({len(clips.errors)} left out; first: {clips.errors[0][1]})" if clips.errors else ""
        raise DatasetError(f"no usable example clips{why}")
    labels = match_labels(clips.labels, list(sums))  # --add: "Hello" joins the dictionary's own "hello"
    twice = same_label_twice([*labels, *sums])
    if twice is not None:
        raise DatasetError(f"the words {twice[0]!r} and {twice[1]!r} name one sign (they differ only in case or "
                           "spelling): rename one folder")  # fmt: skip
    clips.labels = labels
    if add:  # the dictionary's own examples given again would count twice (and find themselves in the self-check)
        clips = _not_yet_in(clips, _earlier_rows((Path(add) if Path(add).is_dir() else Path(add).parent) / "words.csv"))
    clips, spans = _signing_part(clips, cache_dir)
    z = embed_clips(enc, clips)
    before = set(sums)
    for zi, lab in zip(z, clips.labels, strict=True):
        s, c = sums.get(lab, (np.zeros_like(zi), 0.0))
        sums[lab] = (s + zi, c + 1.0)
    if len(sums) < 2:
        raise DatasetError(f"a dictionary needs at least 2 words, found {sort_labels(sums)}")
    metrics: dict[str, Any] = {
        "dictionary": True,
        "words": len(sums),
        "words_added": len(set(sums) - before),
        "examples_added": len(clips),
        "left_out_files": [why for _, why in clips.errors],
        "leave_one_out": _leave_one_out(z, clips.labels, sums),
    }
    model = _dictionary_model(enc, sums, encoder_name, _meta(command, paths, add, enc))
    metrics["build_seconds"] = round(time.time() - t0, 1)
    earlier = _earlier_rows((Path(add) if Path(add).is_dir() else Path(add).parent) / "words.csv") if add else []
    _write_dictionary(run_dir, model, metrics, _words_csv(model, clips, spans, earlier))
    return DictionaryResult(run_dir, model, metrics)


def _usable(clips: SequenceSet) -> SequenceSet:
    """The clips that can stand for a word: at least MIN_FRAMES frames, with a hand in one (predict refuses a
    shorter clip, and a clip with no hand embeds as no sign at all); the others join the clips left out."""
    from aslkit.inference.sequence_recognizer import hands_seen

    keep, left = [], []
    for i, (seq, src) in enumerate(zip(clips.sequences, clips.paths, strict=True)):
        if len(seq) < MIN_FRAMES:
            left.append((src, f"{shown(src)}: the clip has {len(seq)} frame(s); a sign needs at least {MIN_FRAMES}"))
        elif not hands_seen(seq, clips.layout):
            left.append((src, f"{shown(src)}: no hand in any frame"))
        else:
            keep.append(i)
    out = clips.subset(keep)
    out.errors = [*clips.errors, *left]
    return out


def _not_yet_in(clips: SequenceSet, earlier: list[list[str]]) -> SequenceSet:
    """The clips that are not already examples of the dictionary (by file, its links followed); the others join
    the clips left out, named."""
    known = {os.path.realpath(r[2]) for r in earlier if r[2]}
    again = [i for i, src in enumerate(clips.paths) if os.path.realpath(src) in known]
    if not again:
        return clips
    keep = clips.subset([i for i in range(len(clips)) if i not in set(again)])
    keep.errors += [(clips.paths[i], f"{shown(clips.paths[i])}: already an example of this dictionary") for i in again]
    if len(keep) == 0:
        raise DatasetError(f"every example given ({len(again)}) is already in the dictionary: nothing to add")
    return keep


def _earlier_rows(path: Path) -> list[list[str]]:
    """The rows of the dictionary grown by --add (its words.csv, without the header), so the new one lists every
    example; none when it has no words.csv."""
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    return [r for r in rows[1:] if len(r) == 5]


def _meta(command: str | None, paths: list, add: str | Path | None, start: TrainedModel) -> dict[str, Any]:
    """The dictionary's meta without the machine's folders: its command, every set its words came from (those of
    the dictionary it grew from first) and what it grew from, by name."""
    earlier = [data_name(p) for p in start.meta.get("data", [])] if add else []
    meta = portable_meta(command, paths)
    return {**meta, "data": earlier + meta["data"], "added_to": data_name(add) if add else None}


def _write_dictionary(run_dir: Path, model: TrainedModel, metrics: dict[str, Any], words_csv: str) -> None:
    """The dictionary folder: model, metrics, words.csv, report and model card (README.md)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    model.save(run_dir, "model")
    atomic_write(run_dir / "metrics.json", json.dumps(metrics, indent=2).encode())
    atomic_write(run_dir / "words.csv", words_csv.encode())
    atomic_write(run_dir / "report.md", _report(model, metrics).encode())
    atomic_write(run_dir / CARD_NAME, dictionary_card(run_dir, model, metrics).encode("utf-8"))


def dictionary_text(res: DictionaryResult) -> str:
    """What `aslkit train --model sign-dictionary` prints."""
    m = res.metrics
    out = [f"dictionary: {res.run_dir}",
           f"{m['words']} words ({m['words_added']} new), {m['examples_added']} example(s) embedded "
           f"in {m['build_seconds']} s"]  # fmt: skip
    if m.get("leave_one_out"):
        loo = m["leave_one_out"]
        out.append(
            f"leave-one-example-out (its own examples): top-1 {100 * loo['top1']:.1f}%, top-5 {100 * loo['top5']:.1f}%"
        )
    if m["left_out_files"]:
        out.append(f"examples left out: {len(m['left_out_files'])} (first: {shown(m['left_out_files'][0])})")
    return "\n".join(out)
