"""Where the desktop's resource files live (icons, stylesheets, sample photos)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

RESOURCES: Final = Path(__file__).resolve().parent.parent / "resources"
ICONS: Final = RESOURCES / "icons"
QSS: Final = RESOURCES / "qss"
SAMPLES: Final = RESOURCES / "samples"
THEMES: Final = ("dark", "light")


def sample_photos() -> list[str]:
    """The bundled sample JPEGs, sorted by name."""
    return sorted(str(p) for p in SAMPLES.glob("*.jpg"))
