"""``.pose`` files (pose-format, the sign-language community's format) read and written as aslkit clips.

A ``.pose`` file names its parts: components (MediaPipe Holistic's are ``POSE_LANDMARKS``,
``FACE_LANDMARKS``, ``LEFT_HAND_LANDMARKS``, ``RIGHT_HAND_LANDMARKS``, ``POSE_WORLD_LANDMARKS``), each with
named points. They are mapped to aslkit's layouts by those names, never by position, so a file with its
components in another order, extra components (face, world landmarks) or a reduced pose (pose-format's
``reduce_holistic`` keeps 8 body points) reads right, and one that is not Holistic's (OpenPose, AlphaPose)
is refused in one line instead of read as garbage.

How the values map (pose-format's holistic writer stores x and y in pixels, z as MediaPipe gives it, and
the pose's visibility, or 1 for a found hand point, as confidence):

* x / width and y / height of the header's frame size: aslkit keeps image fractions;
* a point with confidence 0 (masked) is "not found": zeros. A hand with any point missing in a frame is
  not found in that frame (a hand shape with holes is no hand shape); a pose point missing is just that
  point, with visibility 0, which the features already treat as unseen;
* the first person only (sign-language files hold one signer).

Writing is the reverse, with the components and point names of pose-format's holistic, so its own tools
(``pose_info``, the visualizer, ``reduce_holistic``) read what aslkit writes. pose-format is optional
(``pip install 'aslkit[pose]'``); without it a ``.pose`` input is one line saying so.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from aslkit.errors import DatasetError
from aslkit.names import regular_file_problem, shown

POSE_SUFFIX = ".pose"
INSTALL_HINT = "pip install 'aslkit[pose]'"
MAX_POSE_BYTES = 2**31  # a long video with the 468-point face is a few hundred MB; more is not a clip
CANVAS = 1024  # frame size written when a clip's is unknown (landmark arrays): x * 1024 is exact in float32

POSE, LEFT_HAND, RIGHT_HAND = "POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"
# MediaPipe's own names (mp.solutions.holistic.PoseLandmark / HandLandmark), in aslkit's order
POSE_POINT_NAMES = (
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE", "RIGHT_EYE_OUTER",
    "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW",
    "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX",
    "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE",
    "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
)  # fmt: skip
HAND_POINT_NAMES = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP", "INDEX_FINGER_PIP",
    "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP",
    "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP", "PINKY_MCP",
    "PINKY_PIP", "PINKY_DIP", "PINKY_TIP",
)  # fmt: skip
# mp.solutions.holistic.POSE_CONNECTIONS / HAND_CONNECTIONS: the limbs a viewer draws
POSE_LIMBS = (
    (0, 1), (0, 4), (1, 2), (2, 3), (3, 7), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13), (11, 23), (12, 14),
    (12, 24), (13, 15), (14, 16), (15, 17), (15, 19), (15, 21), (16, 18), (16, 20), (16, 22), (17, 19), (18, 20),
    (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (27, 31), (28, 30), (28, 32), (29, 31), (30, 32),
)  # fmt: skip
HAND_LIMBS = (
    (0, 1), (0, 5), (0, 17), (1, 2), (2, 3), (3, 4), (5, 6), (5, 9), (6, 7), (7, 8), (9, 10), (9, 13), (10, 11),
    (11, 12), (13, 14), (13, 17), (14, 15), (15, 16), (17, 18), (18, 19), (19, 20),
)  # fmt: skip


@dataclass
class PoseClip:
    """One ``.pose`` file as an aslkit clip: (T, 258) pose + hands frames (or (T, 126) hands only, when the file
    has no pose), the file's frame rate (0: none stated) and frame size."""

    frames: np.ndarray
    fps: float
    width: int
    height: int


def is_pose_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() == POSE_SUFFIX


def require_pose_format() -> ModuleType:
    """The ``pose_format`` package; DatasetError with the install line when it is missing (an optional extra)."""
    try:
        import pose_format
    except ImportError:
        raise DatasetError(f"reading or writing .pose files needs pose-format: {INSTALL_HINT}") from None
    return pose_format


def _component_arrays(pose: Any, name: str, want: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(T, len(want), 3) x, y, z and (T, len(want)) confidence of the first person for component ``name``, by
    point name: a point the component lacks has confidence 0 (and its x, y, z are 0)."""
    comps = pose.header.components
    k = next(i for i, c in enumerate(comps) if c.name == name)
    comp, start = comps[k], sum(len(c.points) for c in comps[:k])
    fmt = comp.format.upper().replace("C", "")
    t = pose.body.data.shape[0]
    xyz, conf = np.zeros((t, len(want), 3), np.float64), np.zeros((t, len(want)), np.float64)
    data = np.ma.getdata(pose.body.data)[:, 0].astype(np.float64)
    masked = np.ma.getmaskarray(pose.body.data)[:, 0].any(-1)
    confidence = np.asarray(pose.body.confidence, np.float64)[:, 0]
    index = {p: i for i, p in enumerate(comp.points)}
    for j, point in enumerate(want):
        i = index.get(point)
        if i is None:
            continue
        for axis, letter in enumerate("XYZ"):
            if letter in fmt:
                xyz[:, j, axis] = data[:, start + i, fmt.index(letter)]
        c = confidence[:, start + i]
        conf[:, j] = np.where(masked[:, start + i] | ~np.isfinite(c), 0.0, c)
    return xyz, conf


def _check_components(pose: Any, where: str) -> bool:
    """Whether the file has a pose to read; DatasetError when its components are not Holistic's (or a hand
    lacks some of MediaPipe's 21 points, or its pose shares none of MediaPipe's point names)."""
    comps = {c.name: c for c in pose.header.components}
    if LEFT_HAND not in comps and RIGHT_HAND not in comps:
        names = ", ".join(sorted(comps)) or "none"
        raise DatasetError(
            f"{where}: components {names} are not MediaPipe Holistic's; aslkit reads {POSE}, {LEFT_HAND} and "
            f"{RIGHT_HAND} (pose-format's holistic)"
        )
    for hand in (LEFT_HAND, RIGHT_HAND):
        if hand in comps and (missing := [p for p in HAND_POINT_NAMES if p not in comps[hand].points]):
            raise DatasetError(f"{where}: {hand} lacks the hand point(s) {', '.join(missing[:4])}; aslkit needs "
                               f"MediaPipe's 21")  # fmt: skip
    if POSE in comps and not set(comps[POSE].points) & set(POSE_POINT_NAMES):
        raise DatasetError(f"{where}: {POSE} has none of MediaPipe's pose point names (NOSE, LEFT_SHOULDER, ...)")
    return POSE in comps


def pose_to_frames(pose: Any, where: str = "pose") -> np.ndarray:
    """A pose-format ``Pose`` -> (T, 258) float32 frames in aslkit's pose + hands order (pose 33 x (x, y, z,
    visibility), left hand 21 x 3, right hand 21 x 3), or (T, 126) hands only when the file has no pose
    component. See the module docstring for the mapping."""
    has_pose = _check_components(pose, where)
    shape = pose.body.data.shape
    if shape[0] == 0:
        raise DatasetError(f"{where}: the file has no frames")
    if shape[1] == 0:
        raise DatasetError(f"{where}: the file holds no person")
    w, h = float(pose.header.dimensions.width), float(pose.header.dimensions.height)
    if not (w > 0 and h > 0):
        raise DatasetError(f"{where}: its header gives no frame size ({w:g} x {h:g}), so its pixels cannot be "
                           f"read as fractions of the image")  # fmt: skip
    scale = np.array([w, h, 1.0])
    names = {c.name for c in pose.header.components}
    blocks = []
    if has_pose:
        xyz, conf = _component_arrays(pose, POSE, POSE_POINT_NAMES)
        block = np.concatenate([xyz / scale, conf[..., None]], axis=-1)
        block[conf <= 0] = 0.0
        blocks.append(block.reshape(shape[0], -1))
    for hand in (LEFT_HAND, RIGHT_HAND):
        block = np.zeros((shape[0], len(HAND_POINT_NAMES) * 3))
        if hand in names:
            xyz, conf = _component_arrays(pose, hand, HAND_POINT_NAMES)
            found = (conf > 0).all(1)
            block[found] = (xyz[found] / scale).reshape(-1, block.shape[1])
        blocks.append(block)
    return np.concatenate(blocks, axis=1).astype(np.float32)


def read_pose_file(path: str | Path) -> PoseClip:
    """A ``.pose`` file as a clip; DatasetError (one line) when pose-format is missing, the file is not one
    it can read, or its components cannot be mapped to aslkit's."""
    p = Path(path)
    where = shown(p)
    why = regular_file_problem(p)
    if why is not None:
        raise DatasetError(f"{where}: {why}")
    require_pose_format()
    from pose_format import Pose

    if os.stat(p).st_size > MAX_POSE_BYTES:
        raise DatasetError(f"{where}: larger than {MAX_POSE_BYTES >> 20} MB; not one clip")
    try:
        pose = Pose.read(p.read_bytes())
    except OSError as exc:
        raise DatasetError(f"{where}: cannot read ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001 - pose-format fails on a bad file with any exception type
        kind = "truncated or corrupt" if isinstance(exc, struct.error) else type(exc).__name__
        reason = (str(exc).strip().splitlines() or [""])[0][:160]
        raise DatasetError(f"{where}: not a .pose file pose-format can read ({kind}: {reason})") from None
    frames = pose_to_frames(pose, where)
    fps = round(float(pose.body.fps), 3)  # stored as float32: 29.97 reads 29.969999
    dims = pose.header.dimensions
    return PoseClip(frames, fps if np.isfinite(fps) and fps > 0 else 0.0, int(dims.width), int(dims.height))


def pose_from_blocks(
    pose: np.ndarray | None, left: np.ndarray, right: np.ndarray, fps: float, width: int = CANVAS, height: int = CANVAS
) -> Any:
    """aslkit's blocks (pose (T, 33, 4) or None, hands (T, 21, 3), image fractions) -> a pose-format ``Pose``
    with Holistic's components (see the module docstring).

    A hand not found in a frame (all zeros) gets confidence 0 there; a pose point's confidence is its visibility
    (a found point of visibility 0 reads back as not found: the features ignore it either way)."""
    require_pose_format()
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import VERSION, PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    t = len(left)
    scale = np.array([width, height, 1.0])
    comps, data, conf = [], [], []
    if pose is not None:
        block = np.asarray(pose, np.float64)
        comps.append(PoseHeaderComponent(POSE, list(POSE_POINT_NAMES), list(POSE_LIMBS), [(255, 0, 0)], "XYZC"))
        data.append(block[..., :3] * scale)
        conf.append(block[..., 3])
    for name, hand, colour in ((LEFT_HAND, left, (0, 255, 0)), (RIGHT_HAND, right, (0, 0, 255))):
        hand = np.asarray(hand, np.float64)
        found = np.abs(hand).reshape(t, -1).sum(1) > 0
        comps.append(PoseHeaderComponent(name, list(HAND_POINT_NAMES), list(HAND_LIMBS), [colour], "XYZC"))
        data.append(hand * scale)
        conf.append(np.repeat(found[:, None], len(HAND_POINT_NAMES), 1).astype(np.float64))
    header = PoseHeader(VERSION, PoseHeaderDimensions(int(width), int(height), 0), comps)
    xyz = np.concatenate(data, axis=1)[:, None].astype(np.float32)
    c = np.concatenate(conf, axis=1)[:, None].astype(np.float32)
    return Pose(header, NumPyPoseBody(fps=float(fps), data=xyz, confidence=c))
