"""Settings: folders, import mode, export presets, selection, network, notifications, theme.

Saved with save_settings. Changes to RESTART_REQUIRED settings are written to the file and
take effect after a restart; every other change is applied to the live Settings at once.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from typing import Any, Final

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bridge_server.config import IMPORT_MODES, RESTART_REQUIRED, Settings, save_settings
from bridge_server.context import BridgeContext

from ..launcher import autostart_supported
from ..paths import THEMES
from ..tasks import run_service
from .culling_profile import CullingProfileBox
from .folders import pick_folder

# Values saved but not yet live (restart required), per data folder, so reopening the dialog
# shows what was chosen rather than what is running.
_pending_restart: dict[str, dict[str, Any]] = {}
IMPORT_MODE_NAMES: Final = {
    "reference": "Reference in place (leave files where they are)",
    "copy": "Copy into the library",
    "move": "Move into the library",
}


def _folder_row(edit: QLineEdit, parent: QWidget, title: str) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    browse = QPushButton("Browse…")

    browse.clicked.connect(lambda: pick_folder(parent, title, edit.setText, edit.text()))
    row.addWidget(browse)
    return row


def _form_page() -> tuple[QWidget, QFormLayout]:
    """A tab page whose form sits at the top, labels right-aligned."""
    page = QWidget()
    outer = QVBoxLayout(page)
    outer.setContentsMargins(16, 16, 16, 16)
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(10)
    outer.addLayout(form)
    outer.addStretch(1)
    return page, form


class PresetEditor(QWidget):
    """The export presets: a list on the left, the selected one's fields on the right."""

    def __init__(self, presets: list[dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presets = copy.deepcopy(presets)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(16)
        self.list = QListWidget()
        self.list.setFixedWidth(220)
        for preset in self.presets:
            self.list.addItem(str(preset.get("name", "")))
        layout.addWidget(self.list)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(10)
        self.name = QLineEdit()
        self.long_edge = QSpinBox()
        self.long_edge.setRange(0, 20000)
        self.long_edge.setSingleStep(100)
        self.long_edge.setSuffix(" px")
        self.long_edge.setSpecialValueText("Original size")
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.sharpen = QDoubleSpinBox()
        self.sharpen.setRange(0.0, 3.0)
        self.sharpen.setSingleStep(0.1)
        self.watermark = QLineEdit()
        self.watermark.setToolTip("Text drawn in a corner of each export; leave empty for none")
        form.addRow("Name", self.name)
        form.addRow("Long edge", self.long_edge)
        form.addRow("JPEG quality", self.quality)
        form.addRow("Sharpen", self.sharpen)
        form.addRow("Watermark text", self.watermark)
        hint = QLabel("Long edge 0 keeps the original size; an empty watermark adds none.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        form.addRow("", hint)
        column = QVBoxLayout()
        column.addLayout(form)
        column.addStretch(1)
        layout.addLayout(column, 1)
        self._row = -1
        self.list.currentRowChanged.connect(self._select)
        if self.presets:
            self.list.setCurrentRow(0)

    def _select(self, row: int) -> None:
        self._store()
        self._row = row
        if row < 0:
            return
        p = self.presets[row]
        self.name.setText(str(p.get("name", "")))
        self.long_edge.setValue(int(p.get("long_edge") or 0))
        self.quality.setValue(int(p.get("quality") or 85))
        self.sharpen.setValue(float(p.get("sharpen") or 0.0))
        self.watermark.setText(str(p.get("watermark") or ""))

    def _store(self) -> None:
        if not 0 <= self._row < len(self.presets):
            return
        p = self.presets[self._row]
        p["name"] = self.name.text().strip() or p.get("name", "Preset")
        p["long_edge"] = self.long_edge.value() or None
        p["quality"] = self.quality.value()
        p["sharpen"] = round(self.sharpen.value(), 2)
        p["watermark"] = self.watermark.text().strip() or None
        item = self.list.item(self._row)
        if item is not None:
            item.setText(p["name"])

    def value(self) -> list[dict[str, Any]]:
        """The edited presets."""
        self._store()
        return copy.deepcopy(self.presets)


class SettingsDialog(QDialog):
    """Edit and save the settings."""

    theme_changed = pyqtSignal(str)
    settings_applied = pyqtSignal(list)  # names of the settings that changed live
    restart_pending = pyqtSignal(list)  # names saved that take effect after restart

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        ctx: BridgeContext | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(640)
        self.settings = settings
        shown = dataclasses.replace(settings, **_pending_restart.get(settings.data_dir, {}))
        layout = QVBoxLayout(self)
        tabs = QTabWidget()
        layout.addWidget(tabs)

        # Folders
        folders, form = _form_page()
        self.hot_folders = QListWidget()
        self.hot_folders.addItems(shown.hot_folders)
        self.hot_folders.setMaximumHeight(110)
        add, remove = QPushButton("Add…"), QPushButton("Remove")
        add.clicked.connect(self._add_hot_folder)
        remove.clicked.connect(
            lambda: [self.hot_folders.takeItem(self.hot_folders.row(i))
                     for i in self.hot_folders.selectedItems()]
        )  # fmt: skip
        hot = QVBoxLayout()
        hot.addWidget(self.hot_folders)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        hot.addLayout(buttons)
        form.addRow("Hot folders", hot)
        self.import_mode = QComboBox()
        for mode in IMPORT_MODES:
            self.import_mode.addItem(IMPORT_MODE_NAMES.get(mode, mode), mode)
        self.import_mode.setCurrentIndex(max(0, IMPORT_MODES.index(shown.import_mode)))
        form.addRow("Import", self.import_mode)
        self.library_dir = QLineEdit(shown.library_dir)
        form.addRow("Library folder", _folder_row(self.library_dir, self, "Library folder"))
        self.export_dir = QLineEdit(shown.export_dir)
        form.addRow("Export folder", _folder_row(self.export_dir, self, "Export folder"))
        tabs.addTab(folders, "Folders")

        # Export presets
        self.presets = PresetEditor(shown.export_presets)
        tabs.addTab(self.presets, "Export presets")

        # Selection and network
        general, form = _form_page()
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(1.0, 5.0)
        self.threshold.setSingleStep(0.1)
        self.threshold.setDecimals(1)
        self.threshold.setValue(shown.selection_threshold)
        form.addRow("Keeper threshold (score 1–5)", self.threshold)
        # Acts at once through the profile service (not saved with the settings).
        self.culling_profile = CullingProfileBox(ctx, self) if ctx is not None else None
        if self.culling_profile is not None:
            form.addRow(self.culling_profile)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(shown.port or 5100)
        form.addRow("Port", self.port)
        self.allow_remote = QCheckBox("Phones on the network may connect")
        self.allow_remote.setChecked(shown.allow_remote)
        form.addRow("", self.allow_remote)
        self.muted = QCheckBox("Mute notifications")
        self.muted.setChecked(shown.notifications_muted)
        form.addRow("", self.muted)
        self.theme = QComboBox()
        for theme in THEMES:
            self.theme.addItem(theme.capitalize(), theme)
        self.theme.setCurrentIndex(max(0, self.theme.findData(shown.theme)))
        form.addRow("Theme", self.theme)
        self.start_at_login = QCheckBox("Start at login, in the tray")
        self.start_at_login.setChecked(shown.start_at_login)
        if not autostart_supported():
            self.start_at_login.setEnabled(False)
            self.start_at_login.setToolTip("Available on Linux desktops (XDG autostart)")
        form.addRow("", self.start_at_login)
        tabs.addTab(general, "General")

        note = QLabel("Port and network access take effect after restart; the rest at once.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        layout.addWidget(note)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.save)
        box.rejected.connect(self.reject)
        layout.addWidget(box)

    def _add_hot_folder(self) -> None:
        pick_folder(self, "Hot folder", self._hot_folder_chosen)

    def _hot_folder_chosen(self, folder: str) -> None:
        if not self.hot_folders.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.hot_folders.addItem(folder)

    def values(self) -> dict[str, Any]:
        """The dialog's values as settings fields."""
        return {
            "hot_folders": [
                self.hot_folders.item(i).text()  # type: ignore[union-attr]
                for i in range(self.hot_folders.count())
            ],
            "import_mode": self.import_mode.currentData(),
            "library_dir": self.library_dir.text().strip() or self.settings.library_dir,
            "export_dir": self.export_dir.text().strip() or self.settings.export_dir,
            "export_presets": self.presets.value(),
            "selection_threshold": round(self.threshold.value(), 1),
            "port": self.port.value(),
            "allow_remote": self.allow_remote.isChecked(),
            "notifications_muted": self.muted.isChecked(),
            "theme": self.theme.currentData(),
            "start_at_login": self.start_at_login.isChecked(),
        }

    def apply(self) -> tuple[list[str], list[str]]:
        """Save; apply live what can be; return (applied, after_restart) setting names."""
        values = self.values()
        live: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for name, value in values.items():
            if getattr(self.settings, name) == value:
                continue
            (later if name in RESTART_REQUIRED else live)[name] = value
        pending = _pending_restart.setdefault(self.settings.data_dir, {})
        pending.update(later)
        for name in [n for n in pending if n in values and values[n] == getattr(self.settings, n)]:
            pending.pop(name)  # changed back to what is running
        to_save = dataclasses.replace(self.settings, **live, **pending)
        self.saving = run_service(asyncio.to_thread(save_settings, to_save), what="Saving settings")
        for name, value in live.items():
            setattr(self.settings, name, value)
        if "theme" in live:
            self.theme_changed.emit(live["theme"])
        self.settings_applied.emit(sorted(live))
        return sorted(live), sorted(pending)

    def save(self) -> None:
        """Save and close, or say what waits for a restart."""
        _applied, later = self.apply()
        if later:
            self.restart_pending.emit(later)
        self.accept()
