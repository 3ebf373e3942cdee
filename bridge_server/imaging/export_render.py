"""Render an approved photo to a preset: resize, colour, sharpen, watermark, EXIF + XMP; atomic."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
from datetime import datetime
from typing import Any, BinaryIO

from PIL import Image, ImageCms, ImageDraw, ImageFilter, ImageFont

from .atomic import fsync_dir, link_no_clobber, open_temp, remove_quietly
from .decode import icc_for_mode, load_oriented, to_mode
from .errors import ExportError, ImageError
from .formats import is_raw
from .xmp import build_packet

MAX_NAME_SUFFIX = 9999  # stem-1 ... stem-9999 before giving up
EXIF_MAX_BYTES = 65533  # one JPEG APP1 segment
WATERMARK_HEIGHT = 0.025  # text height as a fraction of the short edge
_ORIENTATION, _EXIF_IFD, _GPS_IFD, _MAKER_NOTE = 0x0112, 0x8769, 0x8825, 0x927C
# IFD0 tags worth carrying from a RAW; the rest describe the RAW's own TIFF layout.
_KEEP_IFD0 = (0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)  # make, model, software, ...
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003

_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
_RESERVED_NAMES |= {f"LPT{i}" for i in range(1, 10)}
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def sanitise_filename(name: str, fallback: str = "photo") -> str:
    """Make a name safe on Windows, macOS and Linux file systems (no path separators)."""
    name = _UNSAFE_CHARS.sub("_", name).strip().strip(".").strip()
    name = re.sub(r"\s+", " ", name)[:180].rstrip(" .")
    if not name:
        return fallback
    if name.split(".")[0].upper() in _RESERVED_NAMES:
        name = "_" + name
    return name


def format_filename(
    template: str, *, original_stem: str, captured_at: str | datetime | None, sequence: int
) -> str:
    """Expand {date} (YYYY-MM-DD), {time} (HHMMSS), {sequence} (0001), {original}; sanitised."""
    when: datetime | None
    if isinstance(captured_at, datetime):
        when = captured_at
    else:
        try:
            when = datetime.fromisoformat(captured_at) if captured_at else None
        except ValueError:
            when = None
    values = {
        "date": when.strftime("%Y-%m-%d") if when else "undated",
        "time": when.strftime("%H%M%S") if when else "000000",
        "sequence": f"{sequence:04d}",
        "original": original_stem,
    }

    def expand(match: re.Match[str]) -> str:
        """One placeholder's value."""
        key = match.group(1)
        if key not in values:
            raise ValueError(f"unknown placeholder {{{key}}} in file name template {template!r}")
        return values[key]

    return sanitise_filename(_PLACEHOLDER.sub(expand, template), fallback=original_stem or "photo")


def _preset(preset: dict[str, Any]) -> dict[str, Any]:
    fmt = str(preset.get("format", "jpeg")).lower()
    if fmt not in ("jpeg", "jpg"):
        raise ExportError(f"preset {preset.get('name')!r}: unsupported format {fmt!r} (only jpeg)")
    long_edge = preset.get("long_edge")
    if long_edge is not None and (not isinstance(long_edge, int) or long_edge < 16):
        raise ExportError(f"preset {preset.get('name')!r}: long_edge must be an integer >= 16")
    quality = int(preset.get("quality", 90))
    return {
        "long_edge": long_edge,
        "quality": min(100, max(1, quality)),
        "convert_to_srgb": bool(preset.get("convert_to_srgb", True)),
        "sharpen": min(2.0, max(0.0, float(preset.get("sharpen") or 0.0))),
        "watermark": preset.get("watermark") or None,
        "copy_exif": bool(preset.get("copy_exif", True)),
    }


def _to_srgb(im: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """Convert from an embedded non-sRGB profile; returns the image and the profile to embed."""
    if not icc:
        return to_mode(im, "RGB"), None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(source).lower() and im.mode == "RGB":
            return im, icc
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        converted = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        # An unreadable or mismatched profile: plain conversion, and only a profile that fits.
        rgb = to_mode(im, "RGB")
        return rgb, icc_for_mode(icc, "RGB")
    return (converted if converted is not None else to_mode(im, "RGB")), srgb.tobytes()


def _watermark(im: Image.Image, text: str) -> Image.Image:
    size = max(10, round(min(im.size) * WATERMARK_HEIGHT))
    font = ImageFont.load_default(size=size)
    overlay = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    margin = size
    x = im.width - (right - left) - margin - left
    y = im.height - (bottom - top) - margin - top
    shadow = max(1, size // 12)  # a soft dark offset keeps white text legible on light skies
    draw.text((x + shadow, y + shadow), text, font=font, fill=(0, 0, 0, 110))
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 170))
    return Image.alpha_composite(im.convert("RGBA"), overlay).convert("RGB")


def _raw_exif(src: str) -> Image.Exif | None:
    """Camera EXIF of a TIFF-based RAW (CR2, NEF, ARW, DNG), minus its TIFF structure tags."""
    try:
        with Image.open(src) as raw:
            full = raw.getexif()
            out = Image.Exif()
            for tag in _KEEP_IFD0:
                if tag in full:
                    out[tag] = full[tag]
            for ifd_tag in (_EXIF_IFD, _GPS_IFD):
                ifd = full.get_ifd(ifd_tag)
                if ifd:
                    out.get_ifd(ifd_tag).update(ifd)
            return out if len(out) else None
    except Exception:  # CR3, RAF, ORF, RW2 aren't TIFF; an export without EXIF is still fine
        return None


def _exif_bytes(exif: Image.Exif | None, size: tuple[int, int]) -> bytes | None:
    if not exif:
        return None
    exif[_ORIENTATION] = 1  # pixels are already upright
    ifd = exif.get_ifd(_EXIF_IFD)
    if ifd:
        ifd[_PIXEL_X], ifd[_PIXEL_Y] = size
    data = exif.tobytes()
    if len(data) > EXIF_MAX_BYTES and _MAKER_NOTE in ifd:
        del ifd[_MAKER_NOTE]  # maker notes are the usual bulk and only the camera maker reads them
        data = exif.tobytes()
    return data if len(data) <= EXIF_MAX_BYTES else None


def _render(src: str, opts: dict[str, Any]) -> tuple[Image.Image, bytes | None, bytes | None]:
    source, upright = load_oriented(src, opts["long_edge"])
    with source:
        icc = source.info.get("icc_profile")
        im = upright
        # CMYK (print) files always go through their profile: an RGB export needs RGB colours.
        if (opts["convert_to_srgb"] and im.mode in ("RGB", "CMYK")) or im.mode == "CMYK":
            im, icc = _to_srgb(im, icc)
        elif im.mode not in ("RGB", "L"):
            im = to_mode(im, "RGB")
        icc = icc_for_mode(icc, im.mode)
        edge = opts["long_edge"]
        if edge and max(im.size) > edge:
            scale = edge / max(im.size)
            size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
            im = im.resize(size, Image.Resampling.LANCZOS)
        if opts["sharpen"] > 0:
            percent = round(opts["sharpen"] * 100)
            im = im.filter(ImageFilter.UnsharpMask(radius=1.0, percent=percent, threshold=2))
        if opts["watermark"]:
            im = _watermark(im, str(opts["watermark"]))
        exif = None
        if opts["copy_exif"]:
            # A RAW preview carries at most libraw's abridged EXIF; the RAW's own tags are whole.
            found = (_raw_exif(src) if is_raw(src) else None) or source.getexif()
            exif = _exif_bytes(found, im.size)
    return im, icc, exif


def _encode(
    src: str, preset: dict[str, Any], rating: int, label: str | None, keywords: list[str]
) -> tuple[bytes, int, int]:
    """The finished JPEG in memory, with its width and height; raises ExportError."""
    opts = _preset(preset)
    try:
        packet = build_packet(rating, label, keywords)
    except ValueError as exc:
        raise ExportError(f"invalid metadata for export: {exc}") from exc
    try:
        im, icc, exif = _render(src, opts)
    except ImageError as exc:
        raise ExportError(f"cannot read {os.path.basename(src)}: {exc}") from exc
    except (ValueError, Image.DecompressionBombError) as exc:
        raise ExportError(f"cannot render {os.path.basename(src)}: {exc}") from exc
    except OSError as exc:
        raise ExportError(f"cannot read {os.path.basename(src)}: {exc.strerror or exc}") from exc

    params: dict[str, Any] = {"quality": opts["quality"], "optimize": True, "xmp": packet}
    if opts["quality"] >= 90:
        params["subsampling"] = 0  # full-resolution colour for high-quality presets
    if icc:
        params["icc_profile"] = icc
    if exif:
        params["exif"] = exif
    # Encode in memory: Pillow's direct-to-fd writes don't notice a short write (disk full).
    buffer = io.BytesIO()
    try:
        im.save(buffer, "JPEG", **params)
    except (ValueError, OSError) as exc:
        raise ExportError(f"cannot encode {os.path.basename(src)} as JPEG: {exc}") from exc
    return buffer.getvalue(), im.width, im.height


def _make_folder(dest_dir: str) -> None:
    try:
        os.makedirs(dest_dir, exist_ok=True)
    except OSError as exc:
        raise ExportError(
            f"cannot create destination folder {dest_dir}: {exc.strerror or exc}"
        ) from exc


def _write_fully(fh: BinaryIO, data: bytes) -> None:
    fh.write(data)
    fh.flush()
    os.fsync(fh.fileno())
    if os.fstat(fh.fileno()).st_size != len(data):
        raise OSError(errno.EIO, "short write")


def _write_error(dest_dir: str, exc: OSError) -> ExportError:
    if exc.errno == errno.ENOSPC:
        return ExportError(f"not enough disk space in {dest_dir}")
    return ExportError(f"cannot write export to {dest_dir}: {exc.strerror or exc}")


def render_to_temp(
    src: str,
    preset: dict[str, Any],
    temp_path: str,
    rating: int,
    label: str | None,
    keywords: list[str],
) -> dict[str, Any]:
    """Write one export to `temp_path` (not yet in place) and return its size and SHA-256."""
    dest_dir = os.path.dirname(temp_path)
    _make_folder(dest_dir)
    data, width, height = _encode(src, preset, rating, label, keywords)
    try:
        with open(temp_path, "wb") as fh:
            _write_fully(fh, data)
    except OSError as exc:
        remove_quietly(temp_path)
        raise _write_error(dest_dir, exc) from exc
    except BaseException:
        remove_quietly(temp_path)
        raise
    return {
        "temp_path": temp_path,
        "file_size": len(data),
        "content_hash": hashlib.sha256(data).hexdigest(),
        "width": width,
        "height": height,
    }


def render_export(
    src: str,
    preset: dict[str, Any],
    dest_dir: str,
    filename_stem: str,
    rating: int,
    label: str | None,
    keywords: list[str],
) -> dict[str, Any]:
    """Write one export; never overwrites (stem-1.jpg, ...); raises ExportError, leaves no temp."""
    stem = sanitise_filename(filename_stem)
    _make_folder(dest_dir)
    data, width, height = _encode(src, preset, rating, label, keywords)
    tmp = ""
    try:
        tmp, fh = open_temp(dest_dir, stem)
        with fh:
            _write_fully(fh, data)
        names = [os.path.join(dest_dir, f"{stem}.jpg")]
        names += [os.path.join(dest_dir, f"{stem}-{i}.jpg") for i in range(1, MAX_NAME_SUFFIX + 1)]
        output = link_no_clobber(tmp, names)
        fsync_dir(dest_dir)
    except OSError as exc:
        if tmp:
            remove_quietly(tmp)
        raise _write_error(dest_dir, exc) from exc
    except BaseException:
        if tmp:
            remove_quietly(tmp)
        raise
    return {
        "output_path": output,
        "file_size": os.path.getsize(output),
        "width": width,
        "height": height,
    }
