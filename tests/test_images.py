"""Image loading: every bad file is one clear ImageError, odd-but-valid files load as RGB uint8."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import jpeg_bytes, png_header_only, snapshot
from PIL import Image

from aslkit.data.images import ALPHA_BACKGROUND, MAX_PIXELS, MIN_SIDE, decode_image, is_image_path, load_image
from aslkit.errors import AslkitError, ImageError

BAD_REASONS = {
    "zero_byte": "empty file",
    "text_as_jpg": "not an image",
    "truncated_jpeg": "truncated",
    "one_pixel": "too small",
    "huge_header": "too large",
    "over_max_pixels": "too large",
}


@pytest.mark.parametrize("kind", sorted(BAD_REASONS))
def test_bad_file_gives_one_line_image_error(bad_files: dict[str, Path], kind: str) -> None:
    folder = bad_files[kind].parent
    before = snapshot(folder)
    with pytest.raises(ImageError) as info:
        load_image(bad_files[kind])
    msg = str(info.value)
    assert isinstance(info.value, AslkitError)
    assert BAD_REASONS[kind] in msg
    assert str(bad_files[kind]) in msg, "the message names the file"
    assert "\n" not in msg
    assert snapshot(folder) == before


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)


def test_alpha_png_composited_on_grey(odd_files: dict[str, Path]) -> None:
    img = load_image(odd_files["alpha_png"])
    assert img.dtype == np.uint8 and img.shape == (48, 40, 3)
    assert tuple(img[10, 5]) == (255, 0, 0), "opaque pixels keep their colour"
    assert tuple(img[10, 35]) == ALPHA_BACKGROUND, "transparent pixels become the neutral background"


def test_grayscale_becomes_rgb(odd_files: dict[str, Path]) -> None:
    img = load_image(odd_files["grayscale_jpeg"])
    assert img.shape == (50, 60, 3) and img.dtype == np.uint8
    assert np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2])
    assert abs(int(img.mean()) - 90) <= 2


def test_16_bit_grayscale_is_scaled_to_8_bit(odd_files: dict[str, Path]) -> None:
    img = load_image(odd_files["gray16_png"])
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert img[:, 0].max() == 0 and img[:, -1].min() == 255, "the full 16-bit range maps onto 0..255"
    assert np.all(np.diff(img[0, :, 0].astype(int)) >= 0)


def test_palette_png_becomes_rgb(odd_files: dict[str, Path]) -> None:
    img = load_image(odd_files["palette_png"])
    assert img.shape == (32, 32, 3)
    assert tuple(img[0, 0]) == (10, 200, 30)


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    p = Image.new("P", (20, 20), 0)
    p.putpalette([0, 0, 0, 250, 0, 0] + [0] * (256 * 3 - 6))
    p.paste(1, (0, 0, 10, 20))
    p.info["transparency"] = 0
    path = tmp_path / "pal_t.png"
    p.save(path, transparency=0)
    img = load_image(path)
    assert tuple(img[5, 2]) == (250, 0, 0)
    assert tuple(img[5, 15]) == ALPHA_BACKGROUND


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    arr = np.zeros((40, 80, 3), np.uint8)  # landscape as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees when displayed
    path = tmp_path / "rotated.jpg"
    path.write_bytes(jpeg_bytes(arr, exif=exif.tobytes()))
    assert load_image(path).shape == (80, 40, 3)


def test_size_limits_are_configurable_and_exact() -> None:
    side = MIN_SIDE
    buf = io.BytesIO()
    Image.new("RGB", (side, side)).save(buf, "PNG")
    assert decode_image(buf.getvalue()).shape == (side, side, 3), "exactly the minimum size is accepted"
    with pytest.raises(ImageError, match="too large"):
        decode_image(buf.getvalue(), max_pixels=side * side - 1)
    buf = io.BytesIO()
    Image.new("RGB", (side - 1, 200)).save(buf, "PNG")
    with pytest.raises(ImageError, match="too small"):
        decode_image(buf.getvalue())


def test_large_header_is_refused_before_decoding() -> None:
    # 8000x8000 = 64 MP is the documented limit: exactly that passes the size check (then fails for lack of data)
    side = int(MAX_PIXELS**0.5)
    with pytest.raises(ImageError) as info:
        decode_image(png_header_only(side + 1, side + 1), "claims.png")
    assert "too large" in str(info.value) and "claims.png" in str(info.value)
    with pytest.raises(ImageError) as info:
        decode_image(png_header_only(side, side), "ok-size.png")
    assert "too large" not in str(info.value)


def test_decode_error_names_the_source() -> None:
    with pytest.raises(ImageError, match=r"^holiday\.jpg: "):
        decode_image(b"GIF89a-but-not-really", "holiday.jpg")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jpg", True),
        ("a.JPEG", True),
        ("b.Png", True),
        ("c.webp", True),
        ("d.tiff", True),
        ("e.txt", False),
        ("f.jpg.txt", False),
        ("noext", False),
        ("g.gif", False),
    ],
)
def test_is_image_path(name: str, expected: bool) -> None:
    assert is_image_path(Path(name)) is expected


def test_real_photo_loads(shared_data: Path) -> None:
    f = sorted((shared_data / "asl-alphabet-photos" / "B").glob("*.jpg"))[0]
    img = load_image(f)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    with Image.open(f) as ref:
        assert img.shape[:2] == (ref.height, ref.width)


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 5, 3), (7, 0, 3)])
def test_empty_array_is_an_image_error(shape: tuple[int, int, int]) -> None:
    """An empty array reached MediaPipe's border code and raised ZeroDivisionError or IndexError."""
    from aslkit.data.images import image_input

    with pytest.raises(ImageError, match="empty image"):
        image_input(np.zeros(shape, np.uint8))
