"""Where the project's static resources live (the phone page, sample photos, icons)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The `resources/` folder (overridable with AUTODEV_RESOURCES)."""
    override = os.environ.get("AUTODEV_RESOURCES")
    return Path(override) if override else REPO_ROOT / "resources"


def web_root() -> Path:
    """The phone web client's static files."""
    return resources_dir() / "web"
