"""The application menu entry and "Start at login, in the tray", as a desktop session reads them.

Both are checked with freedesktop's own validator (Debian package desktop-file-utils) and by
running the command their Exec line names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from desktop.launcher import APP_ID, ICON_SIZES
from tests.desktop.conftest import start_desk

ROOT = Path(__file__).resolve().parents[2]


def validate(entry: Path) -> None:
    """desktop-file-validate accepts the entry without a single complaint."""
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("desktop-file-validate is missing (scripts/install-system-deps)")
        pytest.skip("desktop-file-validate is not installed (Debian package desktop-file-utils)")
    done = subprocess.run([tool, str(entry)], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def entry_values(entry: Path) -> dict[str, str]:
    """The [Desktop Entry] keys of a file."""
    lines = entry.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def exec_args(entry: Path) -> list[str]:
    """The Exec line as the argument list a launcher runs: string escapes, then the quoting rules
    of the spec (inside double quotes a backslash escapes one of " ` $ and itself)."""
    value = entry_values(entry)["Exec"].replace("\\\\", "\\").replace("%%", "%")
    args: list[str] = []
    current: str | None = None
    quoted = False
    chars = iter(value)
    for c in chars:
        if quoted and c == "\\":
            current = (current or "") + next(chars)
        elif c == '"':
            quoted = not quoted
            current = current or ""
        elif c == " " and not quoted:
            if current is not None:
                args.append(current)
            current = None
        else:
            current = (current or "") + c
    assert not quoted, value
    return [*args, current] if current is not None else args


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m autodev_bridge ARGS` from the checkout."""
    return subprocess.run(
        [sys.executable, "-m", "autodev_bridge", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_menu_entry_installs_with_its_icons_validates_and_uninstalls(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    data_dir = tmp_path / "Studio A (2nd) $HOME"  # needs quoting in Exec
    done = run_cli("--install-desktop-entry", "--data-dir", str(data_dir), env=env)
    assert done.returncode == 0, done.stderr
    entry = tmp_path / "xdg" / "applications" / f"{APP_ID}.desktop"
    assert str(entry) in done.stdout
    validate(entry)
    values = entry_values(entry)
    assert values["Name"] == "AutoDev Bridge"
    assert values["Icon"] == APP_ID
    assert "Photography" in values["Categories"].split(";")
    args = exec_args(entry)
    assert args[-2:] == ["--data-dir", str(data_dir)]
    # The command the menu runs really is this app.
    launched = subprocess.run(
        [*args[:-2], "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert launched.returncode == 0 and "--install-desktop-entry" in launched.stdout
    icons = tmp_path / "xdg" / "icons" / "hicolor"
    for size in ICON_SIZES:
        with Image.open(icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png") as png:
            assert png.size == (size, size)
    assert (icons / "scalable" / "apps" / f"{APP_ID}.svg").read_text().startswith("<svg")
    assert not (tmp_path / "home" / ".local").exists()  # XDG_DATA_HOME was respected

    done = run_cli("--uninstall-desktop-entry", env=env)
    assert done.returncode == 0, done.stderr
    assert not entry.exists()
    assert not list(icons.rglob(f"{APP_ID}.*"))


def test_start_at_login_writes_and_removes_the_autostart_entry(
    qloop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    autostart = tmp_path / "config" / "autostart"
    desk = start_desk(qloop, tmp_path / "Photos & more")

    async def save(checked: bool) -> dict[str, object]:
        dialog = desk.app.open_settings()
        assert dialog.start_at_login.isChecked() is not checked
        dialog.start_at_login.setChecked(checked)
        dialog.save()
        await dialog.saving
        return dict(json.loads((Path(desk.app.settings.data_dir) / "settings.json").read_text()))

    async def scenario() -> None:
        saved = await save(True)
        assert saved["start_at_login"] is True
        entries = await desk.until(lambda: list(autostart.glob("*.desktop")), what="autostart")
        (entry,) = entries
        validate(entry)
        assert entry_values(entry)["X-GNOME-Autostart-enabled"] == "true"
        args = exec_args(entry)
        assert args[-3:] == ["--minimized", "--data-dir", str(tmp_path / "Photos & more")]

        saved = await save(False)
        assert saved["start_at_login"] is False
        await desk.until(lambda: not entry.exists(), what="the autostart entry to go")

    try:
        desk.run(scenario())
    finally:
        desk.run(desk.app.stop())
        desk.window.deleteLater()
