"""Shutter speeds on the desk read as photographers write them (never "1s s")."""

from __future__ import annotations

from desktop.formatting import shutter_text
from desktop.views.approvals import camera_line


def test_one_second_reads_one_s_and_fractions_keep_their_unit() -> None:
    assert [shutter_text(v) for v in ("1s", "1/250", "2.5s", "30 s", "", None)] == [
        "1 s",
        "1/250 s",
        "2.5 s",
        "30 s",
        "",
        "",
    ]
    line = camera_line({"exif": {"aperture": 2.8, "shutter": "1s", "iso": 100}})
    assert line == "f/2.8 · 1 s · ISO 100"
