"""Functions that run inside the worker processes: plain arguments in, JSON-ready dicts out."""

from __future__ import annotations

import logging
import os
from typing import Any

from ..imaging.analysis import WORK_EDGE, analyze_decoded
from ..imaging.decode import load_for_analysis
from ..imaging.errors import ImageError
from ..imaging.exif import read_exif
from ..imaging.export_render import render_to_temp
from ..imaging.hashing import sha256_file
from ..imaging.profile import train_genres
from ..imaging.thumbnails import make_full_rendition, make_thumbnails, thumbnails_from_decode

log = logging.getLogger(__name__)


def ping() -> int:
    """Prove the worker is alive."""
    return os.getpid()


def probe_file(path: str) -> dict[str, Any]:
    """What import needs: content hash, size and EXIF (never raises for a bad image)."""
    info: dict[str, Any] = {"sha256": sha256_file(path), "file_size": os.path.getsize(path)}
    try:
        info["exif"] = read_exif(path)
    except (ImageError, OSError, ValueError) as exc:
        info["exif"] = {}
        info["exif_error"] = str(exc)
    return info


def capture_times(paths: list[str]) -> list[str]:
    """EXIF capture times (ISO text) of the files that have one; unreadable files are skipped."""
    found = []
    for path in paths:
        try:
            when = read_exif(path).get("captured_at")
        except (ImageError, OSError, ValueError):
            continue
        if isinstance(when, str):
            found.append(when)
    return found


def analyze(
    path: str, exif: dict[str, Any] | None, preview_dir: str | None = None, stem: str = ""
) -> dict[str, Any]:
    """The full analysis of one photo (raises ImageError for unreadable files).

    With `preview_dir`, the previews its decode is big enough for are written there too, so
    the first grid view needs no decode of its own.
    """
    decoded = load_for_analysis(path, WORK_EDGE, colour=preview_dir is not None)
    result = analyze_decoded(path, decoded, exif)
    if preview_dir is not None and decoded.colour is not None:
        try:
            thumbnails_from_decode(
                decoded.colour, decoded.shown_size, decoded.icc, preview_dir, stem
            )
        except OSError as exc:  # a cache: the first request makes the preview instead
            log.warning("Preview of %s not written: %s", os.path.basename(path), exc)
    return result


def thumbnails(path: str, out_dir: str, stem: str) -> dict[str, str]:
    """Small and large cached previews."""
    return make_thumbnails(path, out_dir, stem)


def full_rendition(path: str, out_dir: str, stem: str) -> str:
    """A full-size upright JPEG of a non-JPEG original."""
    return make_full_rendition(path, out_dir, stem)


def export(
    src: str,
    preset: dict[str, Any],
    temp_path: str,
    rating: int,
    label: str | None,
    keywords: list[str],
) -> dict[str, Any]:
    """Render one export to a temp file with the decision's XMP; the caller records the content
    hash, then puts the file in place (sidecars follow decisions: pipeline/metadata_sync)."""
    return render_to_temp(src, preset, temp_path, rating, label, keywords)


def train_profile_genres(
    examples: list[tuple[str, list[float], int]],
) -> dict[str, dict[str, Any]]:
    """Fit the photographer's culling profiles by genre (scikit-learn; kept off the event loop)."""
    return train_genres(examples)
