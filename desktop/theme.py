"""Themes: a Fusion palette plus a stylesheet from resources/qss, and the view icons."""

from __future__ import annotations

import functools
import logging

from PyQt6.QtGui import QColor, QIcon, QPalette
from PyQt6.QtWidgets import QApplication

from .paths import ICONS, QSS, THEMES

log = logging.getLogger(__name__)

_PALETTES: dict[str, dict[QPalette.ColorRole, str]] = {
    "dark": {
        QPalette.ColorRole.Window: "#1e2125",
        QPalette.ColorRole.WindowText: "#d8dce1",
        QPalette.ColorRole.Base: "#181a1e",
        QPalette.ColorRole.AlternateBase: "#202328",
        QPalette.ColorRole.Text: "#d8dce1",
        QPalette.ColorRole.Button: "#2a2e34",
        QPalette.ColorRole.ButtonText: "#d8dce1",
        QPalette.ColorRole.Highlight: "#4f8cc9",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2a2e34",
        QPalette.ColorRole.ToolTipText: "#d8dce1",
        QPalette.ColorRole.PlaceholderText: "#7d8590",
        QPalette.ColorRole.Mid: "#3a3f46",
        QPalette.ColorRole.Dark: "#121417",
    },
    "light": {
        QPalette.ColorRole.Window: "#f3f4f6",
        QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f6f7f9",
        QPalette.ColorRole.Text: "#1f2328",
        QPalette.ColorRole.Button: "#e8eaee",
        QPalette.ColorRole.ButtonText: "#1f2328",
        QPalette.ColorRole.Highlight: "#2f6fb0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2328",
        QPalette.ColorRole.PlaceholderText: "#8b949e",
        QPalette.ColorRole.Mid: "#c9ced6",
        QPalette.ColorRole.Dark: "#9aa1ab",
    },
}


def apply_theme(app: QApplication, name: str) -> str:
    """Apply the named theme (unknown names fall back to dark); return the one applied."""
    theme = name if name in THEMES else "dark"
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in _PALETTES[theme].items():
        palette.setColor(role, QColor(color))
    app.setPalette(palette)
    path = QSS / f"{theme}.qss"
    try:
        qss = path.read_text(encoding="utf-8")  # a few KiB, read once per theme change
    except OSError:
        log.warning("Stylesheet %s is missing", path)
        qss = ""
    app.setStyleSheet(qss.replace("@ICONS@", ICONS.as_posix()))
    app.setProperty("theme", theme)
    return theme


@functools.cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons (SVG)."""
    return QIcon(str(ICONS / f"{name}.svg"))
