"""A fingerspelling video built from letter photos: each letter's photo held for a while, with a
short empty frame between letters (the hand "leaves", which also separates double letters).

Why: live recognition (webcam to text) needs videos of spelled words with a known answer to be
tested and benchmarked, and a labelled photo set is what most users have. Photos are picked at
random (seeded) from the set's class folders; a doubled letter gets two different photos.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aslkit.data.dataset import load_dataset
from aslkit.data.images import load_image
from aslkit.errors import AslkitError, DatasetError, ImageError
from aslkit.labels import LETTERS, SPACE
from aslkit.names import shown, utf8_alias
from aslkit.outputs import atomic_write, check_new_file


@dataclass
class SpellingVideo:
    """What was written: the video, the text it spells, and each letter's photo and frames."""

    path: Path
    text: str
    fps: float
    frames: int
    letters: list[dict]

    def to_json(self) -> dict:
        return {"path": str(self.path), "text": self.text, "fps": self.fps, "frames": self.frames,
                "letters": self.letters}  # fmt: skip

    def text_line(self) -> str:
        """What `aslkit make-spelling-video` prints: the file, what it spells, and where the photos are listed."""
        listed = f"{self.path.name}.json"
        return f"{self.path}: {self.text!r}, {self.frames} frames at {self.fps:g} FPS (photos listed in {listed})"


MAX_WORD = 1000  # characters: about 25 minutes of video at the default pace; more is a slip, not a test video


def _publish_new(stage: Path, out: Path) -> None:
    """Move the finished video to ``out``, never over a file that appeared there meanwhile."""
    appeared = f"--out {shown(out)} appeared while the video was written; nothing was replaced"
    try:
        os.link(stage, out)  # fails if out exists (os.replace would overwrite it)
    except FileExistsError:
        raise AslkitError(appeared) from None
    except OSError:  # a file system without hard links
        if out.exists() or out.is_symlink():
            raise AslkitError(appeared) from None
        os.replace(stage, out)


def _classes_of(word: str) -> list[str]:
    if len(word) > MAX_WORD:
        raise AslkitError(f"a word of {len(word)} characters: a spelling video takes {MAX_WORD} at most")
    out = []
    for ch in word.upper():
        if ch in LETTERS:
            out.append(ch)
        elif ch == " ":
            out.append(SPACE)
        else:
            raise AslkitError(f"cannot spell {ch!r}: only the letters A-Z and spaces have signs here")
    if not out:
        raise AslkitError("nothing to spell: give a word of letters A-Z")
    return out


def _frame_of(img: np.ndarray, width: int, height: int, hand_share: float) -> tuple[np.ndarray, np.ndarray]:
    """(BGR frame with the photo centred at ``hand_share`` of the frame height, the empty frame):
    both on the photo's own border colour, so the gap shows the same room without the hand."""
    import cv2

    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).mean(0)
    bg = np.empty((height, width, 3), np.uint8)
    bg[:] = np.clip(border, 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    scale = min(hand_share * height / h, 0.95 * width / w)
    small = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    frame = bg.copy()
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), cv2.cvtColor(bg, cv2.COLOR_RGB2BGR)


def make_spelling_video(
    word: str,
    data: str | Path,
    out: str | Path,
    fps: float = 15.0,
    hold_s: float = 1.0,
    gap_s: float = 0.4,
    size: tuple[int, int] = (640, 480),
    hand_share: float = 0.6,
    seed: int = 0,
) -> SpellingVideo:
    """Write ``out`` (.mp4): ``word`` spelled with photos from ``data`` (a folder of class folders),
    each held ``hold_s`` seconds and followed by ``gap_s`` seconds without a hand; also writes
    ``out`` + ``.json`` with the photos used. Spaces use the set's Space photos."""
    import cv2

    for target in (Path(out), Path(out).with_name(Path(out).name + ".json")):  # nothing is overwritten
        check_new_file(target, [data], what="the photo folder")
    classes = _classes_of(word)
    ds = load_dataset(data)
    by_class: dict[str, list[Path]] = {}
    for s in ds.samples:
        if s.crop is None:
            by_class.setdefault(s.label, []).append(s.path)
    missing = sorted({c for c in classes if c not in by_class})
    if missing:
        raise DatasetError(f"{data}: no photos of {missing} to spell {word!r} with")
    rng = np.random.default_rng(seed)
    out = Path(out)
    if out.suffix.lower() not in (".mp4", ".avi"):
        raise AslkitError(f"{out}: write the video as .mp4 or .avi")
    out.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if out.suffix.lower() == ".mp4" else "MJPG"))
    # written under a hidden name and moved into place when complete: Ctrl-C leaves no cut video at OUT
    fd, partial = tempfile.mkstemp(dir=out.parent, prefix=".partial-", suffix=out.suffix.lower())
    os.close(fd)
    stage = Path(partial)
    with utf8_alias(stage) as name:  # a non-UTF-8 name would crash OpenCV
        writer = cv2.VideoWriter(name, fourcc, fps, (width, height))
    if not writer.isOpened():
        stage.unlink(missing_ok=True)
        raise AslkitError(f"{shown(out)}: OpenCV cannot write this video")
    hold, gap = max(1, round(hold_s * fps)), max(1, round(gap_s * fps))
    used: list[dict] = []
    n = 0
    try:
        for c in classes:
            pool = list(by_class[c])
            rng.shuffle(pool)
            last = used[-1]["photo"] if used else None
            for photo in pool:
                if str(photo) == last:
                    continue
                try:
                    img = load_image(photo)
                except ImageError:
                    continue
                break
            else:
                raise DatasetError(f"{data}: no readable photo of {c}")
            frame, empty = _frame_of(img, width, height, hand_share)
            used.append({"letter": c, "photo": str(photo), "first_frame": n, "last_frame": n + hold - 1})
            for _ in range(hold):
                writer.write(frame)
            for _ in range(gap):
                writer.write(empty)
            n += hold + gap
        writer.release()
        _publish_new(stage, out)
    finally:
        writer.release()
        stage.unlink(missing_ok=True)
    text = "".join(" " if c == SPACE else c for c in classes)
    video = SpellingVideo(out, text, fps, n, used)
    atomic_write(out.with_name(out.name + ".json"), json.dumps(video.to_json(), indent=1).encode("utf-8"))
    return video
