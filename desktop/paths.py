"""Where the desktop's resource files live (icons, stylesheets, sample photos)."""

from __future__ import annotations

from typing import Final

from bridge_server.resources import resources_dir

RESOURCES: Final = resources_dir()
ICONS: Final = RESOURCES / "icons"
QSS: Final = RESOURCES / "qss"
SAMPLES: Final = RESOURCES / "samples"
THEMES: Final = ("dark", "light")


def sample_photos() -> list[str]:
    """The bundled sample JPEGs, sorted by name."""
    return sorted(str(p) for p in SAMPLES.glob("*.jpg"))
