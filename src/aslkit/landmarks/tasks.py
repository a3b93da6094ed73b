"""MediaPipe's Tasks API (HandLandmarker, PoseLandmarker) from ``.task`` bundles built out of the mediapipe wheel.

Why: mediapipe 0.10.30+ dropped the legacy ``mp.solutions`` graphs and 1.x ships no models, so aslkit pins
0.10.21 (which also keeps numpy below 2). The Tasks API is what newer releases keep, but it wants ``.task``
bundles that the wheel does not hold. A bundle is only an uncompressed, 4-byte-aligned zip of tflite files under
fixed member names (``hand_detector.tflite`` + ``hand_landmarks_detector.tflite``; ``pose_detector.tflite`` +
``pose_landmarks_detector.tflite``: the names the task graphs look up), so aslkit builds them from the same
tflite files the legacy graphs run (``mediapipe/modules/``) with the wheel's own bundle writer, once, into the
aslkit cache folder. Two of those files carry no input-normalization metadata, which the Tasks graphs require
for float inputs; it is written in with the wheel's metadata writer, with the ranges the legacy graphs use.

``TasksHands`` puts the Tasks HandLandmarker behind the legacy ``Hands.process`` interface, so the extractor's
retry ladder, borders and caching run unchanged on either API (see ``extractor.mediapipe_api``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from aslkit.data.sequences import HAND_POINTS, POSE_HANDS, POSE_POINTS
from aslkit.errors import AslkitError
from aslkit.landmarks.cache import default_cache_dir

# bundle name -> {member name in the bundle: (file under mediapipe/modules/, normalization to write or None)}.
# Normalization (mean, std) is written only where the wheel's file has no metadata: [0, 1] input, as the legacy
# palm_detection_cpu (lite) and pose_landmark_by_roi_cpu graphs feed those models.
BUNDLES: dict[str, dict[str, tuple[str, tuple[float, float] | None]]] = {
    "hand_landmarker_full": {
        "hand_detector.tflite": ("palm_detection/palm_detection_full.tflite", None),
        "hand_landmarks_detector.tflite": ("hand_landmark/hand_landmark_full.tflite", None),
    },
    "hand_landmarker_lite": {
        "hand_detector.tflite": ("palm_detection/palm_detection_lite.tflite", (0.0, 255.0)),
        "hand_landmarks_detector.tflite": ("hand_landmark/hand_landmark_lite.tflite", None),
    },
    "pose_landmarker_full": {
        "pose_detector.tflite": ("pose_detection/pose_detection.tflite", None),
        "pose_landmarks_detector.tflite": ("pose_landmark/pose_landmark_full.tflite", (0.0, 255.0)),
    },
}
VIDEO_STEP_MS = 33  # VIDEO mode wants rising timestamps; the hand graphs only use them for order


def bundle_dir(cache_dir: str | Path | None = None) -> Path:
    """Where bundles live: ``<aslkit cache>/mediapipe-tasks/<mediapipe version>`` (a new wheel, new bundles)."""
    import mediapipe

    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / "mediapipe-tasks" / str(mediapipe.__version__)


def _modules_dir() -> Path:
    import mediapipe

    return Path(mediapipe.__file__).parent / "modules"


def _with_normalization(model: bytes, mean: float, std: float) -> bytes:
    """The tflite model with image-input metadata (normalization) written in, as the Tasks graphs require."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model)).add_image_input(norm_mean=[mean], norm_std=[std])
    return bytes(writer.populate()[0])


def bundle_members(name: str) -> dict[str, bytes]:
    """The bundle's members, read from the installed wheel (AslkitError when the wheel has no such models)."""
    members = {}
    for member, (source, norm) in BUNDLES[name].items():
        path = _modules_dir() / source
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AslkitError(
                f"cannot build the MediaPipe Tasks bundle {name}: {path} is missing ({exc.strerror}); "
                "this mediapipe wheel does not ship its models (aslkit pins mediapipe 0.10.21)"
            ) from None
        members[member] = _with_normalization(data, *norm) if norm else data
    return members


def bundle_ok(path: Path, name: str) -> bool:
    """Whether ``path`` is a whole bundle: a zip with exactly the expected members, every CRC right, each a tflite."""
    try:
        with zipfile.ZipFile(path) as z:
            if sorted(z.namelist()) != sorted(BUNDLES[name]) or z.testzip() is not None:
                return False
            return all(
                i.compress_type == zipfile.ZIP_STORED and z.read(i)[4:8] == b"TFL3" for i in z.infolist()
            )  # the Tasks API maps members in place: stored, never compressed
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


_BUNDLE_ALIGNMENT = 4  # as model_asset_bundle_utils.create_model_asset_bundle aligns stored members


def _write_bundle(dest: Path, name: str) -> None:
    """Build into a temporary file beside ``dest`` and rename it into place: readers never see half a bundle."""
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        # mediapipe's own bundle writer, with each member dated 1980-01-01 instead of now: a rebuilt bundle is then
        # byte for byte the one it replaces (mediapipe stamps the build time, which differs across a 2 s tick)
        with model_asset_bundle_utils.AlignZipFile(tmp, mode="w", alignment=_BUNDLE_ALIGNMENT) as zf:
            for member, data in bundle_members(name).items():
                zf.writestr(zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0)), data)
        if not bundle_ok(Path(tmp), name):
            raise AslkitError(f"the MediaPipe Tasks bundle {name} built from the wheel does not check out")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache folder may be shared
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def bundle_path(name: str = "hand_landmarker_full", cache_dir: str | Path | None = None) -> Path:
    """The ``.task`` bundle ``name``, built on first use; a missing, partial or corrupt one is built again.

    An unwritable cache folder falls back to the temporary folder, so the cache never stops recognition."""
    if name not in BUNDLES:
        raise AslkitError(f"unknown MediaPipe Tasks bundle {name!r}; choose one of {', '.join(BUNDLES)}")
    dest = bundle_dir(cache_dir) / f"{name}.task"
    if bundle_ok(dest, name):
        return dest
    try:
        _write_bundle(dest, name)
    except OSError:
        dest = Path(tempfile.gettempdir()) / f"aslkit-{os.getuid() if hasattr(os, 'getuid') else 0}" / dest.name
        if not bundle_ok(dest, name):
            _write_bundle(dest, name)
    return dest


def _hand_result(res) -> SimpleNamespace:
    """A Tasks HandLandmarkerResult in the legacy ``Hands.process`` shape (``multi_hand_landmarks`` ...).

    Handedness is swapped: the Tasks graph names the hand as seen in the image, the legacy graph as if the image
    were mirrored (measured: opposite on every photo where both find the hand), and aslkit's features and trained
    models follow the legacy names."""
    if not res.hand_landmarks:
        return SimpleNamespace(multi_hand_landmarks=None, multi_hand_world_landmarks=None, multi_handedness=None)
    swap = {"Left": "Right", "Right": "Left"}
    return SimpleNamespace(
        multi_hand_landmarks=[SimpleNamespace(landmark=lms) for lms in res.hand_landmarks],
        multi_hand_world_landmarks=[SimpleNamespace(landmark=w) for w in res.hand_world_landmarks] or None,
        multi_handedness=[
            SimpleNamespace(classification=[SimpleNamespace(label=swap.get(c[0].category_name, ""), score=c[0].score)])
            for c in res.handedness
        ],
    )


class TasksHands:
    """The Tasks HandLandmarker with the legacy ``mp.solutions.hands.Hands`` interface (``process``, ``close``).

    Static (photos) runs IMAGE mode; otherwise VIDEO mode, which tracks the hand between frames as the legacy
    graph does. Complexity 1 is the full model, 0 the lite one, as in the legacy API."""

    def __init__(
        self,
        static: bool = True,
        max_hands: int = 2,
        complexity: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        cache_dir: str | Path | None = None,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self.static = static
        self.bundle = bundle_path("hand_landmarker_full" if complexity else "hand_landmarker_lite", cache_dir)
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.bundle)),
            running_mode=vision.RunningMode.IMAGE if static else vision.RunningMode.VIDEO,
            num_hands=max_hands,
            min_hand_detection_confidence=min_detection_confidence,
            min_hand_presence_confidence=min_tracking_confidence,  # the legacy graph thresholds presence with it
            min_tracking_confidence=min_tracking_confidence,
        )
        self._landmarker = vision.HandLandmarker.create_from_options(options)
        self._ms = 0

    def process(self, image: np.ndarray) -> SimpleNamespace:
        """Hands in an RGB uint8 image, in the legacy result shape."""
        import mediapipe as mp

        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if self.static:
            return _hand_result(self._landmarker.detect(frame))
        self._ms += VIDEO_STEP_MS
        return _hand_result(self._landmarker.detect_for_video(frame, self._ms))

    def close(self) -> None:
        self._landmarker.close()


def assign_hands(wrists: np.ndarray | None, hands: list[np.ndarray], labels: list[str], aspect: float) -> list[int]:
    """Which block each found hand fills: 0 = the signer's left hand, 1 = the right (Holistic's meaning).

    Holistic finds hands from the pose's wrists, so a hand belongs to the pose wrist it is nearest to (pose points
    15 and 16: the signer's left and right); two hands take the pairing that is nearer in all. Without a pose
    the hand model's own label decides (legacy names: "Left" is the signer's right hand in an unmirrored frame).
    ``wrists``: (2, 2) image fractions of the left and right pose wrists, or None; ``hands``: (21, 3) each."""
    if wrists is None or not len(hands):
        return [1 if lab == "Left" else 0 for lab in labels]
    scale = np.array([aspect, 1.0])
    d = np.array([[np.linalg.norm((h[0, :2] - w) * scale) for w in wrists] for h in hands])  # (hands, 2)
    if len(hands) == 1:
        return [int(d[0].argmin())]
    straight, crossed = d[0, 0] + d[1, 1], d[0, 1] + d[1, 0]
    return [0, 1] if straight <= crossed else [1, 0]


class TasksBody:
    """Pose + both hands per video frame from the Tasks PoseLandmarker and HandLandmarker (VIDEO mode): the
    Holistic layout (258 wide) that the word-sign models read, without the legacy Holistic graph.

    Holistic itself has no Tasks bundle that the 0.10.21 wheel's models can build, so its two parts run side by
    side and each hand is given to the pose wrist it is nearest to, as Holistic does (``assign_hands``)."""

    def __init__(
        self, min_detection: float = 0.5, min_tracking: float = 0.5, cache_dir: str | Path | None = None
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self._pose = vision.PoseLandmarker.create_from_options(
            vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(bundle_path("pose_landmarker_full", cache_dir))),
                running_mode=vision.RunningMode.VIDEO,
                min_pose_detection_confidence=min_detection,
                min_pose_presence_confidence=min_tracking,
                min_tracking_confidence=min_tracking,
            )
        )
        self._hands = TasksHands(False, 2, 1, min_detection, min_tracking, cache_dir)
        self._ms = 0

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """(258,) float32: pose 33 x (x, y, z, visibility), left hand 21 x 3, right hand 21 x 3; zeros where a part
        was not found (the layout of data.sequences.POSE_HANDS)."""
        import mediapipe as mp

        row = np.zeros(POSE_HANDS.width, np.float32)
        self._ms += VIDEO_STEP_MS
        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        pose = self._pose.detect_for_video(frame, self._ms)
        wrists = None
        if pose.pose_landmarks:
            pts = np.asarray([(p.x, p.y, p.z, p.visibility) for p in pose.pose_landmarks[0][:POSE_POINTS]], np.float32)
            row[slice(*POSE_HANDS.pose)] = pts.ravel()
            wrists = pts[[15, 16], :2]
        res = self._hands.process(rgb)
        if res.multi_hand_landmarks:
            hands = [
                np.asarray([(p.x, p.y, p.z) for p in h.landmark[:HAND_POINTS]], np.float32)
                for h in res.multi_hand_landmarks
            ]
            labels = [c.classification[0].label for c in res.multi_handedness]
            taken: set[int] = set()
            for hand, side in zip(hands, assign_hands(wrists, hands, labels, rgb.shape[1] / rgb.shape[0]), strict=True):
                if side in taken:  # two hands claimed one side (no pose, same label): keep the first
                    continue
                taken.add(side)
                row[slice(*(POSE_HANDS.left if side == 0 else POSE_HANDS.right))] = hand.ravel()
        return row

    def close(self) -> None:
        self._pose.close()
        self._hands.close()
