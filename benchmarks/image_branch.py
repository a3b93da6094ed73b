"""Does a small image branch on the hand crop help the landmark letter model on people it never saw?

Issue 17, item 3. The shipped letter model reads MediaPipe's 21 hand landmarks. Some letters differ in
what landmarks cannot carry: the fists M, N, S, T, E (the thumb hidden under the fingers, where MediaPipe
guesses), and J/I, Z/D/X, V/U. This measures whether a frozen ImageNet EfficientNet-Lite0 embedding of
the hand crop (1280-d, global-average-pooled, the crop made exactly as aslkit's image models make it:
``aslkit.landmarks.image_set.prepare_image``), with a linear softmax head, fused with the landmark model's
probabilities, raises accuracy on held-out people, and what it would cost the live path.

Protocol: leave one person out over the five people of ``letters-more-people``. For each held-out person P

* the landmark model is the one already trained without P (``--runs``/P, a run folder made by
  ``benchmarks/lopo_letters.py``; views=1);
* the image head (standardized features, linear softmax, L2 weight decay ``WEIGHT_DECAY``, ``LBFGS_STEPS``
  full-batch L-BFGS steps; fixed before any held-out result was seen, never tuned on the five people) is
  trained on every other source: the four other people plus asl-alphabet-photos, asl-alphabet-kaggle
  and asl-letters-detection/train;
* fusion is a weighted geometric mean p_lm^(1-w) * p_img^w, renormalized, for each w in ``FUSE_WEIGHTS``
  (the same w for every person: no per-person choice), plus "fists only": fused with w=0.5 only where
  the landmark model's top-1 is one of M, N, S, T, E, A, the landmark answer elsewhere.

Accuracy is end to end: a photo where MediaPipe finds no hand counts as wrong (the landmark model answers
"Nothing" there, and there is no crop for the image branch). Features are cached in ``--cache``
(/tmp/imgbranch) so reruns only train heads. The cost section times the Lite0 forward on one hand crop
(batch 1, median of 50 after warm-up) with 1 and 2 torch threads, and the crop itself (``prepare_image``),
and turns them into live FPS as 1000 / (LIVE_MS + cost), LIVE_MS being the live path with the landmark
model alone (~15 ms/frame, ~66 FPS), if the branch ran on every frame.

    .venv/bin/python benchmarks/image_branch.py [--json] [--crops hand-mask hand] [--per-class N]

``--per-class N`` subsamples the three photo sets to N photos per class (fixed seed) if extraction is too
slow; the default (0) uses them whole. Timings depend on what else runs on the machine: the load average
at timing is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PEOPLE = ("lisadounia", "kynmiiso", "carbonara21", "prasukj7", "zarakiliz")
PHOTO_SETS = ("asl-alphabet-photos", "asl-alphabet-kaggle", "asl-letters-detection/train")
CLASSES = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ("Del", "Nothing", "Space")
FISTS = ("M", "N", "S", "T", "E", "A")  # "fists only" fusion: where the landmark top-1 is one of these
FOCUS = ("M", "N", "S", "T", "E", "J", "Z", "V", "U")  # the letters the landmarks are weak on
FUSE_WEIGHTS = (0.25, 0.5)
FISTS_WEIGHT = 0.5
WEIGHT_DECAY = 1e-3  # fixed in advance (not tuned on the held-out people)
LBFGS_STEPS = 100
SIZE = 224  # EfficientNet-Lite0's input side in aslkit
BATCH = 4
LIVE_MS = 15.0  # live path per frame with the landmark model alone (~66 FPS)
FEATURE_DIM = 1280


def set_key(name: str) -> str:
    return name.replace("/", "-")


def set_path(name: str) -> Path:
    return DATA / "letters-more-people" / name if name in PEOPLE else DATA / name


# ---- image features -------------------------------------------------------------------------------------
def backbone():
    from aslkit.models.efficientnet_lite import efficientnet_lite0

    model = efficientnet_lite0(3, len(CLASSES), dropout=0.0, drop_connect=0.0, pretrained="imagenet").eval()
    return model.to(memory_format=torch.channels_last)  # matches to_tensor_batch's layout, as aslkit predicts


def hands_of(ds, progress: bool) -> list:
    """MediaPipe's main hand per sample (None: no hand or unreadable), from aslkit's landmark cache,
    exactly as ``images_for`` gets it."""
    from aslkit.landmarks.batch import ImageSource, extract_sources

    results = extract_sources(
        [ImageSource(s.path, s.crop) for s in ds.samples],
        cache_dir="default",
        workers=1,
        progress=progress,
        desc=f"hand boxes {Path(ds.root).name}",
    )
    return [None if isinstance(r, Exception) else r.main_hand() for r in results]


def subsample(ds, per_class: int, seed: int = 0):
    from aslkit.data.dataset import ImageDataset

    if per_class <= 0:
        return ds
    rng = np.random.default_rng(seed)
    by: dict[str, list[int]] = {}
    for i, s in enumerate(ds.samples):
        by.setdefault(s.label, []).append(i)
    keep = sorted(j for idx in by.values() for j in rng.permutation(idx)[:per_class])
    return ImageDataset(ds.root, [ds.samples[i] for i in keep])


def extract(name: str, crops: list[str], cache: Path, per_class: int, model, progress: bool) -> dict:
    """Features (N, 1280) per crop mode (NaN rows where no hand), labels, paths and hand flags of one set,
    from the cache when it holds this exact sample list."""
    from aslkit.data.dataset import load_dataset
    from aslkit.data.images import crop_box, load_image
    from aslkit.errors import ImageError
    from aslkit.labels import canonical_label
    from aslkit.landmarks.image_set import prepare_image, to_tensor_batch

    ds = load_dataset(set_path(name))
    if name in PHOTO_SETS:
        ds = subsample(ds, per_class)
    ids = [f"{s.path}|{s.crop}" for s in ds.samples]
    key = set_key(name) + (f".sub{per_class}" if name in PHOTO_SETS and per_class > 0 else "")
    meta_file = cache / f"{key}.meta.json"
    files = {c: cache / f"{key}.{c}.npy" for c in crops}
    if meta_file.exists() and all(f.exists() for f in files.values()):
        meta = json.loads(meta_file.read_text())
        if meta["ids"] == ids:
            out = {c: np.load(f) for c, f in files.items()}
            return {"feats": out, "labels": meta["labels"], "paths": meta["paths"], "has": np.array(meta["has"])}
    hands = hands_of(ds, progress)
    n = len(ds)
    feats = {c: np.full((n, FEATURE_DIM), np.nan, np.float32) for c in crops}
    has = np.array([h is not None for h in hands])
    todo = np.flatnonzero(has)
    bar = tqdm(total=len(todo), desc=f"lite0 features {name}", unit="img", disable=not progress)
    with torch.inference_mode():
        for start in range(0, len(todo), BATCH):
            idx = todo[start : start + BATCH]
            batch: dict[str, list] = {c: [] for c in crops}
            kept = []
            for i in idx:
                s = ds.samples[i]
                try:
                    img = crop_box(load_image(s.path), s.crop)
                except ImageError:
                    has[i] = False
                    continue
                for c in crops:
                    batch[c].append(prepare_image(img, SIZE, hands[i], c))
                kept.append(i)
            for c in crops:
                if kept:
                    feats[c][kept] = model.forward_features(to_tensor_batch(np.stack(batch[c]))).numpy()
            bar.update(len(idx))
    bar.close()
    labels = [canonical_label(s.label) for s in ds.samples]
    paths = [str(s.path) for s in ds.samples]
    cache.mkdir(parents=True, exist_ok=True)
    for c, f in files.items():
        np.save(f, feats[c])
    meta_file.write_text(json.dumps({"ids": ids, "labels": labels, "paths": paths, "has": has.tolist()}))
    return {"feats": feats, "labels": labels, "paths": paths, "has": has}


# ---- landmark probabilities -------------------------------------------------------------------------------
def landmark_probs(person: str, runs: Path, paths: list[str], progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """(probs (N, 29) in CLASSES order, has_hand (N,)) of the landmark model trained without ``person``
    on that person's photos (in ``paths`` order), views=1."""
    from aslkit.data.dataset import load_dataset
    from aslkit.inference.recognizer import Recognizer
    from aslkit.models.io import load_model

    rec = Recognizer(load_model(runs / person), views=1)
    d, probs, has_hand, _ = rec.dataset_probabilities(load_dataset(set_path(person)), 1, progress)
    rec.close()
    cols = [list(rec.labels).index(c) for c in CLASSES]
    row = {p: i for i, p in enumerate(d.paths)}
    out = np.zeros((len(paths), len(CLASSES)))
    hand = np.zeros(len(paths), bool)
    for j, p in enumerate(paths):
        if p in row:
            out[j] = probs[row[p]][cols]
            hand[j] = has_hand[row[p]]
    return out, hand


# ---- the image head ----------------------------------------------------------------------------------------
def train_head(x: np.ndarray, y: np.ndarray):
    """Standardize, then a linear softmax fitted by full-batch L-BFGS with L2 weight decay; returns
    a function features -> probabilities (N, 29)."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xs = torch.from_numpy((x - mu) / sd).float()
    yt = torch.from_numpy(y).long()
    w = torch.zeros(x.shape[1], len(CLASSES), requires_grad=True)
    b = torch.zeros(len(CLASSES), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=LBFGS_STEPS, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xs @ w + b, yt) + 0.5 * WEIGHT_DECAY * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)

    def predict(f: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return (torch.from_numpy((f - mu) / sd).float() @ w + b).softmax(-1).double().numpy()

    return predict


def fuse(p_lm: np.ndarray, p_img: np.ndarray, w: float) -> np.ndarray:
    logp = (1 - w) * np.log(np.clip(p_lm, 1e-12, 1)) + w * np.log(np.clip(p_img, 1e-12, 1))
    p = np.exp(logp - logp.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def evaluate(sets: dict, crop: str, progress: bool) -> dict:
    """LOPO over the five people for one crop mode: per person, accuracy of every variant, and the
    per-photo predictions (for pooled per-letter recall)."""
    idx = {c: i for i, c in enumerate(CLASSES)}
    per_person, pooled = {}, {"y": [], **{v: [] for v in variants()}}
    for person in tqdm(PEOPLE, desc=f"LOPO heads ({crop})", unit="person", disable=not progress):
        train = [sets[s] for s in (*PHOTO_SETS, *PEOPLE) if s != person]
        x = np.concatenate([s["feats"][crop][s["has"]] for s in train])
        y = np.array([idx[lab] for s in train for lab, h in zip(s["labels"], s["has"], strict=True) if h])
        head = train_head(x, y)
        test = sets[person]
        yt = np.array([idx[lab] for lab in test["labels"]])
        p_lm, lm_hand = test["lm_probs"], test["lm_hand"]
        img_hand = test["has"]
        p_img = np.zeros_like(p_lm)
        p_img[img_hand] = head(test["feats"][crop][img_hand])
        both = lm_hand & img_hand
        preds = {"landmark": np.where(lm_hand, p_lm.argmax(1), -1), "image": np.where(img_hand, p_img.argmax(1), -1)}
        for w in FUSE_WEIGHTS:
            f = p_lm.copy()
            f[both] = fuse(p_lm[both], p_img[both], w)
            preds[f"fused w={w}"] = np.where(lm_hand, f.argmax(1), -1)
        fist = both & np.isin(p_lm.argmax(1), [idx[c] for c in FISTS])
        f = p_lm.copy()
        f[fist] = fuse(p_lm[fist], p_img[fist], FISTS_WEIGHT)
        preds["fists only"] = np.where(lm_hand, f.argmax(1), -1)
        per_person[person] = {
            "n": len(yt),
            "no_hand": int((~lm_hand).sum()),
            "hand_flag_mismatch": int((lm_hand != img_hand).sum()),
            "train_n": len(y),
            **{v: float((p == yt).mean()) for v, p in preds.items()},
        }
        pooled["y"].append(yt)
        for v, p in preds.items():
            pooled[v].append(p)
    y = np.concatenate(pooled["y"])
    recall = {
        v: {c: float((np.concatenate(pooled[v])[y == idx[c]] == idx[c]).mean()) for c in FOCUS} for v in variants()
    }
    recall["support"] = {c: int((y == idx[c]).sum()) for c in FOCUS}
    summary = {v: {"mean": statistics.mean(r[v] for r in per_person.values())} for v in variants()}
    for v in variants():
        summary[v]["worst"] = min(r[v] for r in per_person.values())
        summary[v]["pooled"] = float(np.mean(np.concatenate(pooled[v]) == y))
    return {"per_person": per_person, "summary": summary, "recall": recall}


def variants() -> list[str]:
    return ["landmark", "image", *(f"fused w={w}" for w in FUSE_WEIGHTS), "fists only"]


# ---- cost -------------------------------------------------------------------------------------------------------
def timing(sets: dict, runs: int = 50, warmup: int = 10) -> dict:
    """Median ms per hand crop, batch 1: the Lite0 forward with 1 and 2 torch threads, and making the
    crop itself (prepare_image, hand and hand-mask) on real photos of one person."""
    from aslkit.data.dataset import load_dataset
    from aslkit.data.images import load_image
    from aslkit.landmarks.image_set import prepare_image, to_tensor_batch

    model = backbone()
    ds = load_dataset(set_path(PEOPLE[0]))
    hands = hands_of(ds, progress=False)
    pick = [i for i, h in enumerate(hands) if h is not None][:: max(1, len(ds) // 60)][:runs]
    imgs = [(load_image(ds.samples[i].path), hands[i]) for i in pick]
    out: dict = {"load_average": os.getloadavg()[0]}
    for crop in ("hand", "hand-mask"):
        for img, hand in imgs[:warmup]:
            prepare_image(img, SIZE, hand, crop)
        ts = []
        for img, hand in imgs:
            t = time.perf_counter()
            prepare_image(img, SIZE, hand, crop)
            ts.append(time.perf_counter() - t)
        out[f"crop {crop} ms"] = 1000 * statistics.median(ts)
    x = to_tensor_batch(prepare_image(imgs[0][0], SIZE, imgs[0][1], "hand-mask")[None])
    threads = torch.get_num_threads()
    for n in (1, 2):
        torch.set_num_threads(n)
        with torch.inference_mode():
            for _ in range(warmup):
                model.forward_features(x)
            ts = []
            for _ in range(runs):
                t = time.perf_counter()
                model.forward_features(x)
                ts.append(time.perf_counter() - t)
        out[f"lite0 {n} thread ms"] = 1000 * statistics.median(ts)
    torch.set_num_threads(threads)
    for n in (1, 2):
        fwd = out[f"lite0 {n} thread ms"]
        out[f"live fps {n} thread (forward only)"] = 1000 / (LIVE_MS + fwd)
        out[f"live fps {n} thread (hand-mask crop + forward)"] = 1000 / (LIVE_MS + out["crop hand-mask ms"] + fwd)
    out["live fps landmark only"] = 1000 / LIVE_MS
    return out


# ---- report -------------------------------------------------------------------------------------------------------
def table(res: dict, crop: str) -> str:
    cols = variants()
    lines = [f"== crop {crop}: end-to-end accuracy % on the held-out person (no hand = wrong) =="]
    lines.append(f"{'held out':<12} {'n':>4} {'nohand':>6} " + " ".join(f"{c:>12}" for c in cols))
    for p, r in res["per_person"].items():
        lines.append(f"{p:<12} {r['n']:>4} {r['no_hand']:>6} " + " ".join(f"{100 * r[c]:>12.2f}" for c in cols))
    for k in ("mean", "worst", "pooled"):
        lines.append(f"{k:<12} {'':>4} {'':>6} " + " ".join(f"{100 * res['summary'][c][k]:>12.2f}" for c in cols))
    lines.append(f"-- recall % per letter, pooled over the five held-out people (crop {crop}) --")
    lines.append(f"{'letter':<8} {'n':>4} " + " ".join(f"{c:>12}" for c in cols))
    for letter in FOCUS:
        rec = res["recall"]
        lines.append(
            f"{letter:<8} {rec['support'][letter]:>4} " + " ".join(f"{100 * rec[c][letter]:>12.1f}" for c in cols)
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--crops", nargs="+", default=["hand-mask", "hand"], choices=["hand-mask", "hand"])
    ap.add_argument("--per-class", type=int, default=0, help="subsample the 3 photo sets to N per class (0: all)")
    ap.add_argument(
        "--runs",
        type=Path,
        default=ROOT / "runs" / "lopo",
        help="leave-one-person-out landmark runs, one folder per person (made by benchmarks/lopo_letters.py --out)",
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/imgbranch"), help="feature cache folder")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (extraction, heads)")
    ap.add_argument("--no-timing", action="store_true")
    a = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"no data at {DATA}")
    missing = [p for p in PEOPLE if not (a.runs / p / "model.json").exists()]
    if missing:
        sys.exit(f"no landmark run for {', '.join(missing)} in {a.runs}: run benchmarks/lopo_letters.py")
    torch.set_num_threads(a.threads)
    progress = sys.stderr.isatty() or not a.json
    model = backbone()
    t0 = time.perf_counter()
    sets = {name: extract(name, a.crops, a.cache, a.per_class, model, progress) for name in (*PHOTO_SETS, *PEOPLE)}
    for person in PEOPLE:
        probs, hand = landmark_probs(person, a.runs, sets[person]["paths"], progress)
        sets[person]["lm_probs"], sets[person]["lm_hand"] = probs, hand
    results = {crop: evaluate(sets, crop, progress) for crop in a.crops}
    res = {
        "protocol": {
            "people": PEOPLE,
            "photo_sets": PHOTO_SETS,
            "per_class": a.per_class,
            "train_sizes": {s: int(sets[s]["has"].sum()) for s in sets},
            "set_sizes": {s: len(sets[s]["labels"]) for s in sets},
            "weight_decay": WEIGHT_DECAY,
            "lbfgs_steps": LBFGS_STEPS,
            "fuse_weights": FUSE_WEIGHTS,
            "fists": FISTS,
            "landmark_runs": str(a.runs),
            "views": 1,
        },
        "results": results,
        "seconds": time.perf_counter() - t0,
    }
    if not a.no_timing:
        res["timing"] = timing(sets)
    if a.json:
        print(json.dumps(res, indent=1))
        return
    for crop in a.crops:
        print(table(results[crop], crop))
        print()
    if "timing" in res:
        print("== cost per hand crop, batch 1, median of 50 ==")
        for k, v in res["timing"].items():
            print(f"{k:<48} {v:8.2f}")
    print(f"(features + heads: {res['seconds']:.0f} s; w fixed in advance, the same for every person)")


if __name__ == "__main__":
    main()
