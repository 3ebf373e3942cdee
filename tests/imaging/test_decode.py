"""Opening files: formats, broken files, draft decoding, the full-resolution noise band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from bridge_server.imaging.decode import full_res_noise_band, load_for_analysis
from bridge_server.imaging.errors import CorruptImage, ImageError, UnsupportedImage
from bridge_server.imaging.formats import is_raw, is_supported


def test_supported_extensions() -> None:
    for name in ("a.jpg", "B.JPEG", "c.png", "d.tif", "e.TIFF", "IMG_1.CR2", "x.cr3", "y.NEF"):
        assert is_supported(name), name
    for name in ("a.ARW", "b.dng", "c.RAF", "d.orf", "e.rw2"):
        assert is_raw(name) and is_supported(name), name
    assert not is_raw("a.jpg")
    assert not is_supported("notes.txt") and not is_supported("movie.mp4") and not is_supported("x")


def test_truncated_jpeg_is_corrupt(photos: dict[str, Path]) -> None:
    with pytest.raises(CorruptImage, match=r"file is truncated or corrupt: truncated\.jpg"):
        load_for_analysis(str(photos["truncated"]))


def test_truncated_jpeg_is_corrupt_even_with_pillow_tolerance_on(photos: dict[str, Path]) -> None:
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(CorruptImage, match="truncated or corrupt"):
            load_for_analysis(str(photos["truncated"]))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_text_file_named_jpg_is_corrupt(photos: dict[str, Path]) -> None:
    with pytest.raises(CorruptImage, match=r"not_an_image\.jpg"):
        load_for_analysis(str(photos["not_an_image"]))


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(UnsupportedImage, match=r"unsupported file type '\.txt'"):
        load_for_analysis(str(path))


def test_gif_named_png_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "anim.png"
    Image.new("RGB", (20, 20), "red").save(path, "GIF")
    with pytest.raises(UnsupportedImage, match="GIF"):
        load_for_analysis(str(path))


def test_garbage_raw_raises_image_error(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.CR2"
    path.write_bytes(b"\x00" * 4096)
    with pytest.raises(ImageError) as info:
        load_for_analysis(str(path))
    assert "IMG_0001.CR2" in str(info.value)


def test_working_size_and_full_size(large_jpeg: Path) -> None:
    decoded = load_for_analysis(str(large_jpeg), 1024)
    assert (decoded.width, decoded.height) == (6000, 4000)
    assert decoded.image.size == (1024, 683)
    assert decoded.image.mode == "L"
    assert decoded.quantization and len(decoded.quantization[0]) == 64


def test_exif_orientation_applied(tmp_path: Path, photos: dict[str, Path]) -> None:
    with Image.open(photos["coffee"]) as im:
        exif = im.getexif()
        exif[0x0112] = 6  # camera held upright: display rotated 90° clockwise
        im.save(tmp_path / "rotated.jpg", quality=90, exif=exif.tobytes())
        landscape = im.size
    decoded = load_for_analysis(str(tmp_path / "rotated.jpg"), 800)
    assert landscape[0] > landscape[1]
    assert (decoded.width, decoded.height) == (landscape[1], landscape[0])
    assert decoded.image.height == 800 and decoded.image.width < 800


def test_noise_band_matches_full_decode(large_jpeg: Path) -> None:
    crop = full_res_noise_band(str(large_jpeg), 512)
    with Image.open(large_jpeg) as im:
        im.draft("L", None)
        full = np.asarray(im.crop((3000 - 256, 0, 3000 + 256, 512)))
    assert crop.shape == (512, 512)
    assert np.array_equal(crop, full)


def test_noise_band_png_and_small_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "small.png")
    crop = full_res_noise_band(str(tmp_path / "small.png"), 512)
    assert crop.shape == (300, 400)


def test_noise_band_reaching_a_truncation_raises(photos: dict[str, Path]) -> None:
    # A band above the cut decodes (load_for_analysis refuses the file); one reaching it fails.
    with pytest.raises(CorruptImage):
        full_res_noise_band(str(photos["truncated"]), 10_000)
