"""Errors raised by the imaging layer; each carries a message fit to show a photographer."""

from __future__ import annotations


class ImageError(Exception):
    """Base class: the message is human-readable and names the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnsupportedImage(ImageError):
    """The file is not a format the bridge handles."""


class CorruptImage(ImageError):
    """The file claims a supported format but cannot be decoded completely."""


class ExportError(ImageError):
    """An export could not be written; nothing half-written is left behind."""
