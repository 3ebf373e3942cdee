"""Choosing a folder without a nested event loop (the qasync loop keeps running normally)."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QFileDialog, QWidget


def pick_folder(
    parent: QWidget | None, title: str, on_chosen: Callable[[str], None], start: str = ""
) -> QFileDialog:
    """Open a folder chooser; `on_chosen(path)` runs when the user picks one."""
    dialog = QFileDialog(parent, title, start)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    dialog.fileSelected.connect(lambda path: on_chosen(path) if path else None)
    dialog.finished.connect(lambda _r: dialog.deleteLater())
    dialog.open()
    return dialog
