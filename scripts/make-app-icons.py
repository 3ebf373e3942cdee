"""Render resources/icons/app.svg into the PNG sizes a freedesktop menu entry uses.

Run from the repository root after changing app.svg:
    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make-app-icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QGuiApplication, QImage, QPainter
from PyQt6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop.launcher import APP_ID, ICON_SIZES  # noqa: E402


def main() -> None:
    """Write resources/icons/hicolor/<size>x<size>/apps/<id>.png for each size."""
    _app = QGuiApplication(sys.argv)
    icons = ROOT / "resources" / "icons"
    renderer = QSvgRenderer(str(icons / "app.svg"))
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = icons / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(out))
        print(out.relative_to(ROOT))


if __name__ == "__main__":
    main()
