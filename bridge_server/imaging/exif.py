"""Read camera EXIF into a JSON-safe dict; missing or broken tags become None."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from typing import Any

from PIL import Image

from .formats import is_raw

# EXIF tag ids (IFD0, Exif IFD, GPS IFD).
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_EXPOSURE_TIME, _FNUMBER, _ISO = 0x829A, 0x829D, 0x8827
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_TIME_ORIGINAL, _SUBSEC_ORIGINAL = 0x9011, 0x9291
_FOCAL_LENGTH, _LENS_MAKE, _LENS_MODEL = 0x920A, 0xA433, 0xA434
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003

EXIF_KEYS = (
    "make", "model", "lens", "focal_length", "aperture", "shutter", "exposure_time",
    "iso", "captured_at", "gps", "width", "height",
)  # fmt: skip


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _number(value: Any) -> float | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def format_shutter(seconds: float | None) -> str | None:
    """Photographers' notation: '1/250' below a second, '2s' or '2.5s' above."""
    if seconds is None or seconds <= 0:
        return None
    if seconds < 1:
        # 0.3 s is written 1/3, not 1/3.33: round the denominator.
        return f"1/{max(1, round(1 / seconds))}"
    return f"{seconds:.1f}".rstrip("0").rstrip(".") + "s"


def _captured_at(exif_ifd: dict[int, Any], ifd0: dict[int, Any]) -> str | None:
    raw = _text(exif_ifd.get(_DATETIME_ORIGINAL)) or _text(exif_ifd.get(_DATETIME_DIGITIZED))
    raw = raw or _text(ifd0.get(_DATETIME))
    if not raw or len(raw) < 19 or raw.startswith("0000"):
        return None
    date, _, time = raw[:19].partition(" ")
    parts = date.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(time) != 8:
        return None
    out = f"{'-'.join(parts)}T{time}"
    subsec = _text(exif_ifd.get(_SUBSEC_ORIGINAL))
    if subsec and subsec.isdigit():
        out += "." + subsec[:6]
    offset = _text(exif_ifd.get(_OFFSET_TIME_ORIGINAL))
    if offset and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        out += offset
    return out


def _dms(value: Any, ref: Any, negative: str) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    d, m, s = (_number(v) for v in value)
    if d is None or m is None or s is None:
        return None
    degrees = d + m / 60 + s / 3600
    return round(-degrees if _text(ref) == negative else degrees, 7)


def _gps(gps_ifd: dict[int, Any]) -> dict[str, float | None] | None:
    lat = _dms(gps_ifd.get(2), gps_ifd.get(1), "S")
    lon = _dms(gps_ifd.get(4), gps_ifd.get(3), "W")
    if lat is None or lon is None:
        return None
    alt = _number(gps_ifd.get(6))
    ref = gps_ifd.get(5)
    if alt is not None and (ref == 1 or ref == b"\x01"):
        alt = -alt
    return {"lat": lat, "lon": lon, "alt": None if alt is None else round(alt, 2)}


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:  # one odd tag must never cost the rest of the metadata
        return None


def exif_from_image(im: Image.Image) -> dict[str, Any]:
    """Extract the bridge's EXIF fields from an opened Pillow image (no pixel decode)."""
    result: dict[str, Any] = dict.fromkeys(EXIF_KEYS)
    exif = _safe(im.getexif)
    if exif is None:
        return result
    ifd0 = dict(exif)
    exif_ifd = _safe(lambda: dict(exif.get_ifd(_EXIF_IFD))) or {}
    gps_ifd = _safe(lambda: dict(exif.get_ifd(_GPS_IFD))) or {}
    result["make"] = _safe(lambda: _text(ifd0.get(_MAKE)))
    result["model"] = _safe(lambda: _text(ifd0.get(_MODEL)))
    result["lens"] = _safe(lambda: _text(exif_ifd.get(_LENS_MODEL)))
    focal = _safe(lambda: _number(exif_ifd.get(_FOCAL_LENGTH)))
    result["focal_length"] = None if focal is None else round(focal, 1)
    fnum = _safe(lambda: _number(exif_ifd.get(_FNUMBER)))
    result["aperture"] = None if fnum is None else round(fnum, 1)
    exposure = _safe(lambda: _number(exif_ifd.get(_EXPOSURE_TIME)))
    result["exposure_time"] = exposure
    result["shutter"] = format_shutter(exposure)
    iso = _safe(lambda: _number(exif_ifd.get(_ISO)))
    result["iso"] = None if iso is None else int(iso)
    result["captured_at"] = _safe(lambda: _captured_at(exif_ifd, ifd0))
    result["gps"] = _safe(lambda: _gps(gps_ifd))
    w, h = im.size
    if ifd0.get(_ORIENTATION) in (5, 6, 7, 8):
        w, h = h, w
    result["width"], result["height"] = w, h
    return result


def _read_raw(path: str) -> dict[str, Any]:
    import rawpy  # lazily: only RAW files need libraw

    result: dict[str, Any] = dict.fromkeys(EXIF_KEYS)
    thumb_bytes: bytes | None = None
    try:
        with rawpy.imread(path) as raw:
            sizes = raw.sizes
            w, h = int(sizes.width), int(sizes.height)
            if int(sizes.flip) in (5, 6):
                w, h = h, w
            result["width"], result["height"] = w, h
            try:
                thumb = raw.extract_thumb()
                if thumb.format == rawpy.ThumbFormat.JPEG:
                    thumb_bytes = bytes(thumb.data)
            except rawpy.LibRawError:
                pass
    except (rawpy.LibRawError, OSError):
        return result
    # TIFF-based RAWs (CR2, NEF, ARW, DNG) carry EXIF Pillow can parse without decoding.
    sources: list[Callable[[], Image.Image]] = [lambda: Image.open(path)]
    if thumb_bytes:
        sources.append(lambda: Image.open(io.BytesIO(thumb_bytes)))
    for opener in sources:
        found = _exif_from_opener(opener)
        if found and any(found.get(k) is not None for k in ("make", "model", "captured_at")):
            for key in EXIF_KEYS:
                if key not in ("width", "height") and found.get(key) is not None:
                    result[key] = found[key]
            break
    return result


def _exif_from_opener(opener: Callable[[], Image.Image]) -> dict[str, Any] | None:
    try:
        with opener() as im:
            return exif_from_image(im)
    except Exception:  # not every RAW is TIFF-based; a failed parse just means no data
        return None


def read_exif(path: str) -> dict[str, Any]:
    """JSON-safe EXIF summary; every key present, None when unknown; never raises for bad data."""
    if is_raw(path):
        return _read_raw(path)
    try:
        with Image.open(path) as im:
            return exif_from_image(im)
    except (OSError, SyntaxError, ValueError):
        if not os.path.exists(path):
            raise
        return dict.fromkeys(EXIF_KEYS)
