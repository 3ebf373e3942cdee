"""Which files the bridge handles, by extension."""

from __future__ import annotations

import os

JPEG_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe"})
PNG_EXTENSIONS = frozenset({".png"})
TIFF_EXTENSIONS = frozenset({".tif", ".tiff"})
RAW_EXTENSIONS = frozenset({".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2"})
RASTER_EXTENSIONS = JPEG_EXTENSIONS | PNG_EXTENSIONS | TIFF_EXTENSIONS
SUPPORTED_EXTENSIONS = RASTER_EXTENSIONS | RAW_EXTENSIONS

# Pillow format names accepted for raster files (MPO is a multi-picture JPEG from some cameras).
PILLOW_FORMATS = frozenset({"JPEG", "MPO", "PNG", "TIFF"})


def extension(path: str | os.PathLike[str]) -> str:
    """Lower-case extension including the dot ('' when there is none)."""
    return os.path.splitext(os.fspath(path))[1].lower()


def is_supported(path: str | os.PathLike[str]) -> bool:
    """True when the extension is one the bridge imports."""
    return extension(path) in SUPPORTED_EXTENSIONS


def is_raw(path: str | os.PathLike[str]) -> bool:
    """True for camera RAW extensions."""
    return extension(path) in RAW_EXTENSIONS


def is_jpeg(path: str | os.PathLike[str]) -> bool:
    """True for JPEG extensions."""
    return extension(path) in JPEG_EXTENSIONS
