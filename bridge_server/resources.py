"""Where the app's static resources live (the phone page, sample photos, icons, stylesheets).

Installed (wheel, pipx, PyInstaller bundle) they ship inside the `autodev_bridge` package and
are found with importlib.resources; in a source checkout they are the `resources/` folder at the
top of the repository.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Final

PACKAGE: Final = "autodev_bridge"
REPO_ROOT: Final = Path(__file__).resolve().parent.parent


def packaged_resources() -> Path | None:
    """The resources shipped inside the installed package, if this is an installed copy."""
    try:
        found = resources.files(PACKAGE) / "resources"
    except ModuleNotFoundError:
        return None
    # A wheel and a PyInstaller bundle both unpack to real files, so the Traversable is a Path.
    return Path(str(found)) if found.is_dir() else None


def resources_dir() -> Path:
    """The resources folder (overridable with AUTODEV_RESOURCES)."""
    override = os.environ.get("AUTODEV_RESOURCES")
    if override:
        return Path(override)
    return packaged_resources() or REPO_ROOT / "resources"


def web_root() -> Path:
    """The phone web client's static files."""
    return resources_dir() / "web"
