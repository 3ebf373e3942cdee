"""The "Culling profile" section of Settings: what the learned profile does, reset, export, import.

Every action calls the same service as the REST routes; files are read and written off the
loop, and file choosers open without a nested event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bridge_server.context import BridgeContext
from bridge_server.services import profiles
from bridge_server.services.errors import InvalidArguments

from ..tasks import describe, run_service

FILE_FILTER = "Culling profile (*.json)"
MAX_FILE_BYTES = 1_000_000  # a profile is a few kilobytes of numbers


def _write(path: str, document: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(document, indent=1), encoding="utf-8")


def _read(path: str) -> Any:
    file = Path(path)
    if file.stat().st_size > MAX_FILE_BYTES:
        raise ValueError("that file is far too large to be a culling profile")
    return json.loads(file.read_text(encoding="utf-8"))


def _choose_file(
    parent: QWidget, title: str, save: bool, on_chosen: Callable[[str], None]
) -> QFileDialog:
    dialog = QFileDialog(parent, title, "", FILE_FILTER)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("json")
        dialog.selectFile("culling-profile.json")
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.fileSelected.connect(lambda path: on_chosen(path) if path else None)
    dialog.finished.connect(lambda _r: dialog.deleteLater())
    dialog.open()
    return dialog


class CullingProfileBox(QGroupBox):
    """Status line and Reset / Export… / Import… for the photographer's learned profile."""

    def __init__(self, ctx: BridgeContext, parent: QWidget | None = None) -> None:
        super().__init__("Culling profile", parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        self.status = QLabel("Reading the profile…")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.reset_button = QPushButton("Reset")
        self.export_button = QPushButton("Export…")
        self.import_button = QPushButton("Import…")
        self.reset_button.clicked.connect(self._confirm_reset)
        self.export_button.clicked.connect(
            lambda: _choose_file(self, "Export culling profile", True, self.export_to)
        )
        self.import_button.clicked.connect(
            lambda: _choose_file(self, "Import culling profile", False, self.import_from)
        )
        for button in (self.reset_button, self.export_button, self.import_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.task: asyncio.Task[Any] | None = None
        self.refresh()

    def refresh(self) -> None:
        """Read the profile's status again."""
        self.task = run_service(profiles.profile_status(self.ctx), self._show, self._failed)

    def _show(self, status: dict[str, Any]) -> None:
        self.status.setText(status["status"])
        self.reset_button.setEnabled(bool(status["active"]) or bool(status["decisions"]))

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))

    def _confirm_reset(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Reset the culling profile",
            "Forget what was learned from your decisions? Scores become the analysis alone "
            "until new decisions teach it again.",
            QMessageBox.StandardButton.Reset | QMessageBox.StandardButton.Cancel,
            self,
        )

        def clicked(button: Any) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Reset:
                self.reset()

        box.buttonClicked.connect(clicked)
        box.finished.connect(lambda _r: box.deleteLater())
        box.open()

    def reset(self) -> None:
        """Forget the learned profile."""
        self.task = run_service(profiles.reset_profile(self.ctx), self._show, self._failed)

    def export_to(self, path: str) -> None:
        """Write the profile to `path` as JSON."""

        async def export() -> dict[str, Any]:
            document = await profiles.export_profile(self.ctx)
            await asyncio.to_thread(_write, path, document)
            return await profiles.profile_status(self.ctx)

        def done(status: dict[str, Any]) -> None:
            self._show(status)
            self.status.setText(f"{status['status']}. Exported to {Path(path).name}")

        self.task = run_service(export(), done, self._failed)

    def import_from(self, path: str) -> None:
        """Adopt the profile in the JSON file at `path` (refused unless it is one)."""

        async def load() -> dict[str, Any]:
            try:
                document = await asyncio.to_thread(_read, path)
            except (OSError, ValueError) as exc:
                raise InvalidArguments(f"Could not read {Path(path).name}: {exc}") from exc
            return await profiles.import_profile(self.ctx, document)

        self.task = run_service(load(), self._show, self._failed)
