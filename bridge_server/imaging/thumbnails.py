"""Small and large JPEG previews for the desktop grid and the phone."""

from __future__ import annotations

import io
import os
from functools import partial
from typing import BinaryIO

from PIL import Image

from .atomic import write_replacing
from .decode import icc_for_mode, load_oriented, to_mode
from .errors import ImageError

THUMBNAIL_SIZES = {"small": 320, "large": 1600}
THUMBNAIL_QUALITY = 82


def thumbnail_paths(out_dir: str, stem: str) -> dict[str, str]:
    """Where make_thumbnails writes each size."""
    return {name: os.path.join(out_dir, f"{stem}_{name}.jpg") for name in THUMBNAIL_SIZES}


def _fresh(paths: dict[str, str], src: str) -> bool:
    try:
        src_mtime = os.stat(src).st_mtime_ns
    except FileNotFoundError as exc:
        raise ImageError(f"file not found: {src}") from exc
    try:
        return all(os.stat(p).st_mtime_ns >= src_mtime for p in paths.values())
    except FileNotFoundError:
        return False


def preview_size(shown: tuple[int, int], edge: int) -> tuple[int, int]:
    """A preview's size: the image as shown, its long edge fitted to `edge` (never enlarged)."""
    w, h = shown
    if max(w, h) <= edge:
        return w, h
    scale = edge / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _fit(im: Image.Image, edge: int, shown: tuple[int, int]) -> Image.Image:
    # Sized from the header, not from the decode: the same preview whatever DCT scale it
    # was decoded at (on demand, or from the analysis' decode).
    size = preview_size(shown, edge)
    if im.size == size:
        return im
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def make_thumbnails(src: str, out_dir: str, stem: str) -> dict[str, str]:
    """Write {stem}_small.jpg (320) and {stem}_large.jpg (1600); skip if newer than the source."""
    paths = thumbnail_paths(out_dir, stem)
    if _fresh(paths, src):
        return paths
    os.makedirs(out_dir, exist_ok=True)
    # One DCT-scaled decode big enough for the large size; the small one is derived from it.
    source, upright = load_oriented(src, THUMBNAIL_SIZES["large"])
    with source:
        icc = icc_for_mode(source.info.get("icc_profile"), "RGB")
        shown = source.info["shown_size"]
        large = _fit(to_mode(upright, "RGB"), THUMBNAIL_SIZES["large"], shown)
    small = _fit(large, THUMBNAIL_SIZES["small"], shown)
    for name, im in (("large", large), ("small", small)):
        write_replacing(paths[name], partial(_save_jpeg, im, icc))
    return paths


def thumbnails_from_decode(
    colour: Image.Image,
    shown: tuple[int, int],
    icc: bytes | None,
    out_dir: str,
    stem: str,
) -> dict[str, str]:
    """Write the previews a decode made for something else (the analysis) is big enough for.

    A size it would have to enlarge to is left to `make_thumbnails` on first request (the
    large one of a camera photo, whose analysis decode is about 1,500 px wide).
    """
    paths = thumbnail_paths(out_dir, stem)
    icc = icc_for_mode(icc, "RGB")
    made: dict[str, str] = {}
    for name, edge in THUMBNAIL_SIZES.items():
        target = preview_size(shown, edge)
        if colour.width < target[0] or colour.height < target[1]:
            continue
        os.makedirs(out_dir, exist_ok=True)
        preview = to_mode(_fit(colour, edge, shown), "RGB")
        write_replacing(paths[name], partial(_save_jpeg, preview, icc))
        made[name] = paths[name]
    return made


def _save_jpeg(im: Image.Image, icc: bytes | None, fh: BinaryIO) -> None:
    # Encode in memory first: Pillow's direct-to-fd writes don't notice a short write.
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY, icc_profile=icc)
    fh.write(buffer.getbuffer())


FULL_QUALITY = 90


def full_rendition_path(out_dir: str, stem: str) -> str:
    """Where make_full_rendition writes a photo's full-size JPEG."""
    return os.path.join(out_dir, f"{stem}_full.jpg")


def make_full_rendition(src: str, out_dir: str, stem: str) -> str:
    """A full-resolution, upright JPEG of a non-JPEG original (RAW, TIFF, PNG), for 100 % zoom."""
    path = full_rendition_path(out_dir, stem)
    if _fresh({"full": path}, src):
        return path
    os.makedirs(out_dir, exist_ok=True)
    source, upright = load_oriented(src, None)
    with source:
        icc = icc_for_mode(source.info.get("icc_profile"), "RGB")
        full = to_mode(upright, "RGB")
    write_replacing(path, partial(_save_full, full, icc))
    return path


def _save_full(im: Image.Image, icc: bytes | None, fh: BinaryIO) -> None:
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=FULL_QUALITY, icc_profile=icc)
    fh.write(buffer.getbuffer())


def cached_files(out_dir: str, stem: str) -> list[str]:
    """Every file the cache may hold for a photo: its previews and its full rendition."""
    return [*thumbnail_paths(out_dir, stem).values(), full_rendition_path(out_dir, stem)]
