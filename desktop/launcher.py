"""The freedesktop menu entry with its icons, and the XDG autostart entry ("start at login").

Paths follow the XDG base directory spec: menu entries and icons under $XDG_DATA_HOME
(~/.local/share), autostart entries under $XDG_CONFIG_HOME/autostart (~/.config/autostart).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path
from typing import Final

import platformdirs

from bridge_server.config import APP_NAME
from bridge_server.resources import resources_dir

APP_ID: Final = "autodev-bridge"
DESKTOP_FILE_ID: Final = APP_ID  # Qt's desktopFileName: the entry's name without ".desktop"
ICON_SIZES: Final = (16, 22, 24, 32, 48, 64, 128, 256, 512)
# Characters that make a desktop-entry Exec argument need quoting (spec, "The Exec key").
_RESERVED: Final = frozenset(" \t\n\"'\\><~|&;$*?#()`")


def autostart_supported() -> bool:
    """Whether this platform reads XDG autostart entries (Linux and the BSDs)."""
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def _xdg_home(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    # The spec says a relative path in these variables is invalid and must be ignored.
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share."""
    return _xdg_home("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    """$XDG_CONFIG_HOME, or ~/.config."""
    return _xdg_home("XDG_CONFIG_HOME", ".config")


def launch_command() -> list[str]:
    """How to start this copy of the app from a menu: the bundle, the installed script, or -m."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.executable).with_name(APP_ID)
    if script.is_file():
        return [str(script)]
    found = shutil.which(APP_ID)
    return [found] if found else [sys.executable, "-m", "autodev_bridge"]


def _quote_exec_arg(arg: str) -> str:
    if not arg or any(c in _RESERVED for c in arg):
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        arg = f'"{escaped}"'
    # The Exec value is itself a string value, whose own escape character is the backslash;
    # a literal percent sign is written twice (field codes).
    return arg.replace("\\", "\\\\").replace("%", "%%")


def exec_line(args: list[str]) -> str:
    """An Exec= value that runs exactly `args`."""
    return " ".join(_quote_exec_arg(a) for a in args)


def _data_dir_args(data_dir: str | None) -> list[str]:
    """`--data-dir X` unless X is the default folder (then the entry follows the default)."""
    if not data_dir:
        return []
    default = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)).resolve()
    chosen = Path(data_dir).expanduser().resolve()
    return [] if chosen == default else ["--data-dir", str(chosen)]


def desktop_entry_text(args: list[str], *, autostart: bool = False) -> str:
    """The text of the menu entry (or, with `autostart`, of the login entry) running `args`."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # the newest desktop-file-validate 0.26 (Debian 12) knows
        "Name=AutoDev Bridge",
        "GenericName=Photo Culling",
        "Comment=Import, analyse and cull a shoot; approve from the desk or a phone",
        f"Exec={exec_line(args)}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Graphics;Photography;",
        "Keywords=photo;culling;approve;export;raw;",
        "StartupNotify=true",
    ]
    if autostart:
        lines += ["X-GNOME-Autostart-enabled=true", "X-KDE-autostart-after=panel"]
    return "\n".join(lines) + "\n"


def menu_entry_path() -> Path:
    """Where the menu entry goes."""
    return data_home() / "applications" / f"{APP_ID}.desktop"


def _icon_targets() -> list[tuple[Path, Path]]:
    """(source, destination) of every icon the menu entry uses."""
    source = resources_dir() / "icons"
    theme = data_home() / "icons" / "hicolor"
    pairs = [(source / "app.svg", theme / "scalable" / "apps" / f"{APP_ID}.svg")]
    for size in ICON_SIZES:
        rel = Path(f"{size}x{size}") / "apps" / f"{APP_ID}.png"
        pairs.append((source / "hicolor" / rel, theme / rel))
    return pairs


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a menu never sees half an entry


def install_desktop_entry(data_dir: str | None = None) -> list[Path]:
    """Write the menu entry and its icons; return the files written, the entry first."""
    entry = menu_entry_path()
    _write(entry, desktop_entry_text([*launch_command(), *_data_dir_args(data_dir)]))
    written = [entry]
    for source, target in _icon_targets():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written


def uninstall_desktop_entry() -> list[Path]:
    """Remove the menu entry and its icons; return the files that were there."""
    removed = []
    for path in [menu_entry_path(), *(target for _source, target in _icon_targets())]:
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def autostart_path(data_dir: str) -> Path:
    """The login entry for `data_dir` (one per data folder: the setting lives in each)."""
    extra = _data_dir_args(data_dir)
    suffix = "" if not extra else "-" + hashlib.sha256(extra[1].encode()).hexdigest()[:10]
    return config_home() / "autostart" / f"{APP_ID}{suffix}.desktop"


def set_autostart(enabled: bool, data_dir: str) -> Path:
    """Write (or remove) the entry that starts the app in the tray at login; return its path."""
    path = autostart_path(data_dir)
    if enabled:
        args = [*launch_command(), "--minimized", *_data_dir_args(data_dir)]
        _write(path, desktop_entry_text(args, autostart=True))
    else:
        path.unlink(missing_ok=True)
    return path
