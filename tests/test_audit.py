"""`aslkit audit`: near-duplicate groups of the shared detection set's augmented copies, every finding
on a small box set built with known faults, mislabels planted in a real class-folder set, the report
files, and that the audited set is never changed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import jpeg_bytes, link_subset, shared_dir, snapshot, write_grey

from aslkit.cli import main
from aslkit.data.duplicates import near_duplicate_groups, sha1_groups, thumbnail
from aslkit.data.images import load_image


def _stem(p: Path) -> str:
    """The source photo a Roboflow export's augmented copy came from (A11_jpg.rf.<hash>.jpg -> A11)."""
    return re.sub(r"_jpg\.rf\..*", "", p.name)


def test_sha1_groups() -> None:
    assert sha1_groups([b"a", b"b", b"a", None, b"a", b"b"]) == [[0, 2, 4], [1, 5]]
    assert sha1_groups([None, None]) == []


def test_augmented_copies_are_grouped_by_source_photo() -> None:
    """The detection train split is a 3x augmented export (crop, zoom, shear, mirror, grey, light):
    the copies of each source photo must come out as one group, and no group may mix photos."""
    images = shared_dir("asl-letters-detection", "train", "images")
    files = sorted(f for f in images.glob("*.jpg") if _stem(f)[0] in "ABC")[:60]
    truth = [_stem(f) for f in files]
    nd = near_duplicate_groups([thumbnail(load_image(f)) for f in files])
    found = [{truth[i] for i in g} for g in nd.groups]
    assert all(len(s) == 1 for s in found), f"groups mixing source photos: {[s for s in found if len(s) > 1]}"
    complete = sum(1 for stem in set(truth) if any(set(np.flatnonzero(np.array(truth) == stem)) == set(g)
                                                   for g in nd.groups))  # fmt: skip
    assert complete >= 0.85 * len(set(truth)), f"only {complete} of {len(set(truth))} source photos grouped whole"


@pytest.fixture(scope="module")
def faulty_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A YOLO set with train/ and valid/ holding known faults (see the test below), built from real photos."""
    src = shared_dir("asl-letters-detection", "train")
    root = tmp_path_factory.mktemp("faulty") / "set"
    names = (src / "data.yaml").read_text()
    by_stem: dict[str, list[Path]] = {}
    for f in sorted((src / "images").glob("*.jpg")):
        by_stem.setdefault(_stem(f), []).append(f)
    stems = [s for letter in "BLVWY" for s in [x for x in sorted(by_stem) if x[0] == letter][:2]]
    for split in ("train", "valid"):
        (root / split / "images").mkdir(parents=True)
        (root / split / "labels").mkdir()
        (root / split / "data.yaml").write_text(names)

    def put(f: Path, split: str, name: str | None = None, label_text: str | None = None) -> None:
        name = name or f.name
        shutil.copyfile(f, root / split / "images" / name)
        text = label_text if label_text is not None else (src / "labels" / f"{f.stem}.txt").read_text()
        (root / split / "labels" / f"{Path(name).stem}.txt").write_text(text)

    for s in stems[:-1]:
        for f in by_stem[s][:2]:
            put(f, "train")
    leak = by_stem[stems[-1]]
    put(leak[0], "train")
    put(leak[1], "valid")  # an augmented copy of a train photo in valid: leakage
    first = by_stem[stems[0]][0]
    put(first, "train", "copy_of_first.jpg")  # byte-identical file under another name
    line = (src / "labels" / f"{first.stem}.txt").read_text().strip()
    put(by_stem[stems[1]][2], "valid", "doubled.jpg", line + "\n" + line + "\n")  # the same box twice
    (root / "train" / "images" / "broken.jpg").write_bytes(jpeg_bytes(np.zeros((64, 64, 3), np.uint8))[:200])
    (root / "train" / "labels" / "broken.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    write_grey(root / "train" / "images" / "grey.jpg", 416)
    (root / "train" / "labels" / "grey.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "train" / "labels" / "gone.txt").write_text("0 0.5 0.5 0.2 0.2\n")  # its image is missing
    return root


def test_audit_reports_every_planted_fault(faulty_set: Path, tmp_path: Path, capsys, real_cache: Path) -> None:
    before = snapshot(faulty_set)
    out = tmp_path / "report"
    args = ["audit", str(faulty_set), "--out", str(out), "--manifest", "--json", "--folds", "0"]
    assert main([*args, "--cache-dir", str(real_cache)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r["splits"]) == {"train", "valid"} and r["kind"] == "boxes (yolo)"
    names = lambda rows, key="path": {Path(x[key]).name for x in rows}  # noqa: E731
    assert names(r["unreadable"]) == {"broken.jpg"}
    assert any("gone" in p["where"] for p in r["annotation_problems"])
    assert names(r["multi_box"]) == {"doubled.jpg"} and r["multi_box"][0]["boxes"] == 2
    assert r["duplicate_boxes"][0]["kind"] == "duplicate" and r["duplicate_boxes"][0]["iou"] == 1.0
    exact = [sorted(Path(p).name for p in g["paths"]) for g in r["exact_duplicates"]]
    assert len(exact) == 1 and "copy_of_first.jpg" in exact[0]
    assert len(r["leakage"]) >= 1 and all(set(g["splits"]) == {"train", "valid"} for g in r["leakage"])
    assert "grey.jpg" in names(r["no_hand"])
    assert r["label_conflicts"] == [] and r["balance"]["unit"] == "boxes"
    assert sum(len(g["paths"]) for g in r["near_duplicates"]) >= 12, "the pairs of copies are found"
    for f in ("report.md", "report.html", "audit.json", "class_distribution.png", "manifest.csv"):
        assert (out / f).is_file()
    md = (out / "report.md").read_text()
    thumbs = re.findall(r"!\[\]\((thumbs/\d+\.jpg)\)", md)
    assert thumbs and all((out / t).is_file() for t in thumbs)
    assert "Leakage across splits: " in md and "<figure>" in (out / "report.html").read_text()
    assert r["mislabel_settings"]["model_check"].startswith("off") and "cross-validated model was off" in md
    rows = (out / "manifest.csv").read_text().splitlines()
    assert len(rows) == 1 + r["images"]
    dropped = [row.split(",")[0] for row in rows[1:] if ",False," in row]
    assert {Path(p).name for p in dropped} == {"broken.jpg", "copy_of_first.jpg"}, "the later copy is dropped"
    assert snapshot(faulty_set) == before, "the audited set was changed"


def test_audit_refuses_to_write_into_the_set_or_a_full_folder(faulty_set: Path, tmp_path: Path, capsys) -> None:
    before = snapshot(faulty_set)
    assert main(["audit", str(faulty_set), "--out", str(faulty_set / "report"), "--no-landmarks"]) == 1
    assert "inside the audited set" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    assert main(["audit", str(faulty_set), "--out", str(full), "--no-landmarks"]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert main(["audit", str(tmp_path / "nothing")]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert snapshot(faulty_set) == before and (full / "notes.txt").read_text() == "mine"


def test_audit_finds_mislabels_planted_in_real_photos(tmp_path: Path, capsys, real_cache: Path) -> None:
    """Massey photos of six letters (five signers); four are put in another letter's folder."""
    massey = shared_dir("massey-letters")
    letters = {c: c.upper() for c in "bcdlvy"}
    data = link_subset(tmp_path / "set", massey, letters, per_class=20)
    moved = {}
    for k, (src, dst) in enumerate((("B", "L"), ("C", "Y"), ("V", "B"), ("Y", "D"))):
        f = sorted((data / src).iterdir())[3 * k]
        target = data / dst / f.name
        f.rename(target)
        moved[str(target)] = src
    out = tmp_path / "report"
    assert main(["audit", str(data), "--out", str(out), "--json", "--folds", "3", "--cache-dir", str(real_cache)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["kind"] == "class folders" and r["balance"]["unit"] == "images"
    sus = {x["path"]: x for x in r["suspected_mislabels"]}
    found = [p for p in moved if p in sus]
    print(f"found {len(found)} of 4; {len(sus) - len(found)} false suspects")
    assert len(found) >= 3, f"found {len(found)} of 4 planted mislabels"
    assert sum(sus[p]["suggested"] == moved[p] for p in found) >= 2, "the suggested label is the true one"
    assert len(sus) - len(found) <= 4, f"{len(sus) - len(found)} correct photos suspected"


def test_a_tiny_set_is_audited_without_guessing_mislabels(tmp_path: Path, capsys, real_cache: Path) -> None:
    """Two photos per class: too few for neighbours to outvote or for folds to learn from."""
    data = link_subset(tmp_path / "tiny", shared_dir("massey-letters"), {"a": "A", "b": "B"}, per_class=2)
    assert main(["audit", str(data), "--out", str(tmp_path / "r"), "--json", "--cache-dir", str(real_cache)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["images"] == 4 and r["hand_samples"] == 4 and r["suspected_mislabels"] == []
    assert r["balance"]["total"] == {"A": 2, "B": 2} and r["balance"]["max_min_ratio"] == 1.0


def test_one_copied_photo_is_one_leakage_group(tmp_path: Path, capsys) -> None:
    """Its byte-identical pair is also a near-duplicate pair: it was counted once as each."""
    massey = shared_dir("massey-letters")
    root = tmp_path / "set"
    photos = {c: sorted((massey / c).iterdir())[0] for c in "abc"}
    for split, letters in (("train", "ab"), ("valid", "c")):
        for c in letters:
            (root / split / c).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(photos[c], root / split / c / photos[c].name)
    (root / "valid" / "a").mkdir()
    shutil.copyfile(photos["a"], root / "valid" / "a" / "copy.png")
    shutil.copyfile(photos["a"], root / "valid" / "c" / "conflict.png")  # the same photo, another class
    assert main(["audit", str(root), "--json", "--no-landmarks", "--out", str(tmp_path / "rep")]) == 0
    s = json.loads(capsys.readouterr().out)["summary"]
    assert (s["exact_duplicate_groups"], s["leakage_groups"], s["label_conflict_groups"]) == (1, 1, 1), s


def test_the_report_says_when_the_cross_validated_model_did_not_judge(tmp_path: Path, capsys) -> None:
    from aslkit.evaluation.audit import model_check

    assert model_check(40, 5) == "ran"
    assert model_check(18, 5).startswith("skipped: 18 hands are too few for 5 folds")
    assert model_check(18, 0).startswith("off (--folds 0)")
    with pytest.raises(SystemExit):
        main(["audit", str(tmp_path), "--folds", "1"])
    assert "a fold has nothing to train on" in capsys.readouterr().err
