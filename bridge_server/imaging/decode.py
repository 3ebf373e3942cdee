"""Open images cheaply: JPEG draft (DCT-scaled) decoding, RAW embedded previews, strict loading."""

from __future__ import annotations

import functools
import io
import math
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import CorruptImage, ImageError, UnsupportedImage
from .formats import PILLOW_FORMATS, SUPPORTED_EXTENSIONS, extension, is_raw

# libraw "flip" values -> the transpose that shows the preview upright.
_RAW_FLIP = {
    3: Image.Transpose.ROTATE_180,
    5: Image.Transpose.ROTATE_90,
    6: Image.Transpose.ROTATE_270,
}
# EXIF orientations that swap width and height.
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


@dataclass
class Decoded:
    """A working-size image (mode "L" unless asked otherwise) plus facts about the original."""

    image: Image.Image
    width: int
    height: int
    format: str
    quantization: dict[int, list[int]] | None
    # Asked for with colour=True: the same decode, upright RGB or YCbCr at its decoded size, for the
    # previews (so they need no decode of their own), and the header facts they are made from.
    colour: Image.Image | None = None
    shown_size: tuple[int, int] = (0, 0)  # the decoded image's header size, upright
    icc: bytes | None = None


def _name(path: str) -> str:
    return os.path.basename(path)


def open_image(path: str) -> Image.Image:
    """Open (not decode) a supported image; RAW files yield their embedded preview JPEG."""
    ext = extension(path)
    if ext not in SUPPORTED_EXTENSIONS:
        raise UnsupportedImage(f"unsupported file type '{ext or 'none'}': {_name(path)}")
    if is_raw(path):
        return _open_raw_preview(path)
    try:
        im = Image.open(path)
    except FileNotFoundError as exc:
        raise ImageError(f"file not found: {path}") from exc
    except UnidentifiedImageError as exc:
        raise CorruptImage(
            f"file is truncated or corrupt (not a readable image): {_name(path)}"
        ) from exc
    except Image.DecompressionBombError as exc:
        raise UnsupportedImage(f"image is too large to process safely: {_name(path)}") from exc
    except OSError as exc:
        raise CorruptImage(f"file is truncated or corrupt: {_name(path)} ({exc})") from exc
    if im.format not in PILLOW_FORMATS:
        im.close()
        raise UnsupportedImage(f"unsupported image format {im.format}: {_name(path)}")
    return im


@functools.lru_cache(maxsize=2)
def _raw_preview(
    path: str, _stamp: tuple[int, int]
) -> tuple[bytes | np.ndarray, int, tuple[int, int]]:
    """(preview JPEG bytes or RGB array, libraw flip, sensor size); cached per file version."""
    # analyze_file reads a RAW's preview twice (working image, noise crop): libraw opens it
    # once. The (mtime, size) stamp keeps a rewritten file from being served stale.
    import rawpy  # imported lazily: only RAW imports pay for libraw

    try:
        with rawpy.imread(path) as raw:
            flip = int(raw.sizes.flip)
            raw_size = (int(raw.sizes.width), int(raw.sizes.height))
            thumb = raw.extract_thumb()
    except FileNotFoundError as exc:
        raise ImageError(f"file not found: {path}") from exc
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError) as exc:
        raise UnsupportedImage(f"RAW file has no usable embedded preview: {_name(path)}") from exc
    except rawpy.LibRawFileUnsupportedError as exc:
        raise UnsupportedImage(
            f"RAW file not recognised (unsupported camera, or not a RAW file): {_name(path)}"
        ) from exc
    except (rawpy.LibRawError, OSError) as exc:
        raise CorruptImage(f"file is truncated or corrupt: {_name(path)} ({exc})") from exc
    if thumb.format == rawpy.ThumbFormat.JPEG:
        return bytes(thumb.data), flip, raw_size
    return np.asarray(thumb.data, dtype=np.uint8), flip, raw_size


def _open_raw_preview(path: str) -> Image.Image:
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise ImageError(f"file not found: {path}") from exc
    data, flip, raw_size = _raw_preview(path, (st.st_mtime_ns, st.st_size))
    im: Image.Image
    if isinstance(data, bytes):
        try:
            im = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, OSError) as exc:
            raise CorruptImage(f"embedded preview is corrupt: {_name(path)}") from exc
    else:
        im = Image.fromarray(data)
    im.info["raw_flip"] = flip
    im.info["raw_size"] = raw_size  # the sensor image's size, not the preview's
    return im


def load_strict(im: Image.Image, path: str) -> None:
    """Decode pixels, refusing truncated data even if Pillow's global tolerance is switched on."""
    # Worker processes are single-threaded, so flipping the global for one load is safe there.
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        im.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptImage(f"file is truncated or corrupt: {_name(path)} ({exc})") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved
    if getattr(im, "_ended", False):  # JPEG plugin padded a premature end of file
        raise CorruptImage(f"file is truncated or corrupt: {_name(path)}")


def request_draft(im: Image.Image, mode: str | None, min_long_edge: int | None) -> None:
    """Ask the JPEG decoder for the smallest DCT scale whose long edge is still >= min_long_edge."""
    if min_long_edge is None:
        if mode is not None:
            im.draft(mode, None)
        return
    w, h = im.size
    factor = min_long_edge / max(w, h)
    if factor >= 1:
        im.draft(mode, None)
        return
    im.draft(mode, (max(1, math.ceil(w * factor)), max(1, math.ceil(h * factor))))


def orient(im: Image.Image) -> Image.Image:
    """Apply EXIF orientation (or a RAW file's flip when its preview carries none)."""
    orientation = im.getexif().get(0x0112, 1)
    if orientation not in (None, 1):
        out = ImageOps.exif_transpose(im)
        return out if out is not None else im
    flip = im.info.get("raw_flip")
    if isinstance(flip, int) and flip in _RAW_FLIP:
        return im.transpose(_RAW_FLIP[flip])
    return im


def oriented_size(im: Image.Image) -> tuple[int, int]:
    """Full-resolution size as displayed, read from the header (before any draft)."""
    return _upright(im, im.info.get("raw_size") or im.size)


def shown_size(im: Image.Image) -> tuple[int, int]:
    """The opened image's own size as displayed (a RAW's preview's, not its sensor's), read
    before any draft: previews are sized from it whatever scale they were decoded at."""
    return _upright(im, im.size)


def _upright(im: Image.Image, size: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    orientation = im.getexif().get(0x0112, 1)
    flip = im.info.get("raw_flip")
    if orientation in _SWAPPING_ORIENTATIONS or (orientation in (None, 1) and flip in (5, 6)):
        return h, w
    return w, h


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB (16-bit greyscale scaled, not clipped)."""
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        top = 65535.0 if im.mode != "F" else max(float(arr.max()), 1.0)
        arr8 = np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8).convert("RGB")
    return im.convert("RGB")


_ICC_SPACES = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK"}


def icc_for_mode(icc: bytes | None, mode: str) -> bytes | None:
    """The profile if it describes `mode`'s colour space, else None (never mislabel pixels)."""
    if not icc:
        return None
    from PIL import ImageCms  # lazily: littleCMS is only needed when writing files

    try:
        space = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space.strip()
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    return icc if space == _ICC_SPACES.get(mode) else None


def load_oriented(path: str, min_long_edge: int | None = None) -> tuple[Image.Image, Image.Image]:
    """(opened source, decoded upright image), long edge >= min_long_edge when possible."""
    # The caller closes the source; it keeps the header data (EXIF, ICC profile, quantization).
    src = open_image(path)
    try:
        src.info["shown_size"] = shown_size(src)
        request_draft(src, "RGB" if src.mode in ("RGB", "YCbCr") else None, min_long_edge)
        load_strict(src, path)
        return src, orient(src)
    except BaseException:
        src.close()
        raise


def to_mode(im: Image.Image, mode: str) -> Image.Image:
    """Convert to 8-bit "RGB" or "L" from any Pillow mode."""
    if im.mode == mode:
        return im
    rgb = to_rgb(im)
    return rgb if mode == "RGB" else rgb.convert(mode)


def load_for_analysis(
    path: str, long_edge: int = 1024, mode: str = "L", colour: bool = False
) -> Decoded:
    """Decode at a working size: upright, long edge exactly long_edge (never upscaled).

    With `colour`, the same decode also yields the upright colour image at its decoded size
    (`Decoded.colour`, RGB or YCbCr: convert it after resizing), for the previews.
    """
    # mode "L" (the default) lets libjpeg skip the chroma planes entirely. With colour, libjpeg
    # gives YCbCr, whose Y plane is exactly what the "L" decode gives.
    src = open_image(path)
    with src:
        width, height = oriented_size(src)
        shown = shown_size(src)
        icc = src.info.get("icc_profile") if colour else None
        # A RAW preview's JPEG quality says nothing about the photo itself.
        quant = None if is_raw(path) else getattr(src, "quantization", None)
        quantization = {int(k): [int(v) for v in t] for k, t in quant.items()} if quant else None
        fmt = "RAW" if is_raw(path) else str(src.format)
        draft = "YCbCr" if colour and mode == "L" else mode
        request_draft(src, draft if src.mode in ("RGB", "YCbCr") else None, long_edge)
        load_strict(src, path)
        upright = orient(src)
        # YCbCr is kept as decoded: the previews are converted to RGB after they are resized,
        # a 20th of the pixels (the conversion is linear, so the order changes nothing visible).
        shown_colour = None
        if colour:
            shown_colour = upright if upright.mode == "YCbCr" else to_mode(upright, "RGB")
        im = upright.getchannel(0) if draft == "YCbCr" == upright.mode else to_mode(upright, mode)
    if max(im.size) > long_edge:
        scale = long_edge / max(im.size)
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        # BOX is enough once DCT scaling has left at most 2x excess; larger steps need a filter.
        resample = (
            Image.Resampling.BOX if max(im.size) <= 2 * long_edge else Image.Resampling.BILINEAR
        )
        im = im.resize(size, resample, reducing_gap=2.0)
    return Decoded(im, width, height, fmt, quantization, shown_colour, shown, icc)


def _jpeg_top_rows(im: ImageFile.ImageFile, rows: int) -> bool:
    """Limit a JPEG decode to its first `rows` rows of luma; False when Pillow won't allow it."""
    im.draft("L", None)  # noise is measured on luminance; skips chroma work
    if len(im.tile) != 1 or rows >= im.size[1]:
        return False
    tile_type = getattr(ImageFile, "_Tile", None)  # private Pillow API: fall back if it goes
    if tile_type is None or not hasattr(im, "_size"):
        return False
    decoder, _extents, offset, args = im.tile[0]
    im.tile = [tile_type(decoder, (0, 0, im.size[0], rows), offset, args)]
    im._size = (im.size[0], rows)
    return True


def full_res_noise_band(path: str, size: int = 512, at_top: bool = True) -> np.ndarray:
    """Greyscale uint8 full-resolution square for noise: in the top `size` rows (or at the
    centre), centred across.

    Downscaling averages noise away, so noise is read at full resolution; the band sits in
    the top rows because a JPEG decode can stop there (luma only, ~10 ms for 24 MP against
    ~50 ms down to the centre). libjpeg then reports the unread rows as a broken stream; that
    error is expected and ignored here, so validate the file with load_for_analysis, which
    decodes it all.
    """
    src = open_image(path)
    with src:
        w, h = src.size
        cw, ch = min(size, w), min(size, h)
        left, top = (w - cw) // 2, 0 if at_top else (h - ch) // 2
        partial = (
            src.format in ("JPEG", "MPO")
            and isinstance(src, ImageFile.ImageFile)
            and _jpeg_top_rows(src, top + ch)
        )
        if partial:
            saved = ImageFile.LOAD_TRUNCATED_IMAGES
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                src.load()
            except OSError as exc:
                # "broken data stream" is libjpeg refusing to finish with rows left unread.
                if "broken data stream" not in str(exc):
                    raise CorruptImage(
                        f"file is truncated or corrupt: {_name(path)} ({exc})"
                    ) from exc
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = saved
        else:
            load_strict(src, path)
        crop = src.crop((left, top, left + cw, top + ch))
    if crop.mode != "L":
        crop = to_rgb(crop).convert("L")
    return np.asarray(crop, dtype=np.uint8)


def luma_for_regions(
    path: str, min_long_edge: int, bottom: float
) -> tuple[np.ndarray, tuple[int, int]]:
    """(upright greyscale, its full (w, h)) at the smallest DCT scale with long edge >= given.

    `bottom` (0..1) is the lowest row, as a fraction of the height, any region will need: a
    full-resolution JPEG shown as stored decodes only the rows down to it (luma only).
    """
    src = open_image(path)
    with src:
        w, h = src.size
        upright = src.getexif().get(0x0112, 1) in (None, 1) and "raw_flip" not in src.info
        full_scale = min_long_edge >= max(w, h)
        rows = min(h, math.ceil(bottom * h) + 8)
        if (
            upright
            and full_scale
            and src.format in ("JPEG", "MPO")
            and isinstance(src, ImageFile.ImageFile)
            and _jpeg_top_rows(src, rows)
        ):
            saved = ImageFile.LOAD_TRUNCATED_IMAGES
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                src.load()
            except OSError as exc:
                if "broken data stream" not in str(exc):  # expected: rows left unread
                    raise CorruptImage(
                        f"file is truncated or corrupt: {_name(path)} ({exc})"
                    ) from exc
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = saved
            # Only `rows` rows exist; fractional boxes still map onto the full height.
            return np.asarray(to_mode(src, "L"), dtype=np.uint8), (w, h)
        request_draft(src, "L" if src.mode in ("RGB", "YCbCr") else None, min_long_edge)
        load_strict(src, path)
        arr = np.asarray(to_mode(orient(src), "L"), dtype=np.uint8)
        return arr, (arr.shape[1], arr.shape[0])
