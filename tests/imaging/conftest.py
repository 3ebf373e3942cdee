"""Session-wide photo fixtures for the imaging tests (generated once, a few seconds)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bridge_server.imaging.analysis import analyze_file
from tests.fixtures.culling import Case, write_culling_set
from tests.fixtures.photos import write_large_jpeg


@pytest.fixture(scope="session")
def photos(photo_set: dict[str, Path]) -> dict[str, Path]:
    """The shared photo set (tests/conftest.py); tests must not modify these files."""
    return photo_set


@pytest.fixture(scope="session")
def large_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 24-megapixel camera-like JPEG."""
    return write_large_jpeg(tmp_path_factory.mktemp("large") / "large.jpg", megapixels=24)


class _Analyses(dict[str, dict[str, Any]]):
    def __init__(self, photos: dict[str, Path]) -> None:
        super().__init__()
        self._photos = photos

    def __missing__(self, name: str) -> dict[str, Any]:
        result = analyze_file(str(self._photos[name]))
        self[name] = result
        return result


@pytest.fixture(scope="session")
def analyses(photos: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """analyze_file results by photo name, computed on first use."""
    return _Analyses(photos)


@pytest.fixture
def exiftool() -> str:
    """Path to exiftool; skipped when missing, except under CI=true where that is a failure."""
    path = shutil.which("exiftool")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("exiftool is required under CI (Debian package libimage-exiftool-perl)")
    pytest.skip(
        "exiftool not installed (apt install libimage-exiftool-perl); CI=true makes this fail"
    )


@pytest.fixture(scope="session")
def culling_set(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """The culling evaluation set (tests/fixtures/culling.py): photos with a known verdict."""
    return write_culling_set(tmp_path_factory.mktemp("culling"))


@pytest.fixture(scope="session")
def culling(culling_set: dict[str, Case]) -> dict[str, dict[str, Any]]:
    """analyze_file results for the culling set, computed on first use."""
    return _Analyses({name: case.path for name, case in culling_set.items()})
