"""Pair a phone: a QR code for http://<address>:<port>/#pair=<one-time code>."""

from __future__ import annotations

import html
import io
from typing import Any, Final

import segno
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from bridge_server.services import pairing

from ..controller import BridgeModels
from ..views.common import plain_label

CLOSE_AFTER_PAIRED_MS: Final = 1800


def qr_png(url: str, scale: int = 7) -> bytes:
    """A QR code of `url` as PNG bytes (dark on white, with the standard quiet zone)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


class PairingDialog(QDialog):
    """Shows the QR and the URL for one address; closes when a phone completes pairing."""

    def __init__(
        self, models: BridgeModels, addresses: list[str], port: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pair a phone")
        self.setModal(False)
        self.setMinimumWidth(380)
        self.models = models
        self.paired_device: dict[str, Any] | None = None
        self._addresses = addresses
        self._pairing = pairing.start_pairing(
            models.ctx, [f"http://{ip}:{port}" for ip in addresses]
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        intro = QLabel(
            "Scan this code with the phone's camera, on the same Wi-Fi as this computer. "
            "The code works once, for five minutes."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.address = QComboBox()
        for ip in addresses:
            self.address.addItem(ip + ("  (this computer only)" if ip.startswith("127.") else ""))
        self.address.setVisible(len(addresses) > 1)
        layout.addWidget(self.address)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setObjectName("qr")
        layout.addWidget(self.qr)
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setObjectName("pairUrl")
        layout.addWidget(self.url)
        self.code = QLabel(f"Code: <b>{html.escape(self._pairing['code'])}</b>")
        self.code.setTextFormat(Qt.TextFormat.RichText)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.code)
        self.status = plain_label("Waiting for the phone…")  # shows the device's own name
        self.status.setObjectName("pairStatus")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.address.currentIndexChanged.connect(self._show_address)
        models.link.device_paired.connect(self._paired)
        self._show_address(0)

    @property
    def code_text(self) -> str:
        """The one-time code shown."""
        return str(self._pairing["code"])

    def current_url(self) -> str:
        """The URL the QR code encodes."""
        return self.url.text()

    def _show_address(self, index: int) -> None:
        url = self._pairing["urls"][max(0, index)]
        self.url.setText(url)
        self.url.setCursorPosition(0)
        pixmap = QPixmap()
        pixmap.loadFromData(qr_png(url), "PNG")
        self.qr.setPixmap(pixmap)
        self.qr.setMinimumSize(pixmap.size())

    def _paired(self, device: dict[str, Any]) -> None:
        if self.paired_device is not None or not self.isVisible():
            return
        self.paired_device = device
        self.status.setText(f"Paired: {device.get('device_name', 'phone')}")
        self.status.setProperty("ok", True)
        style = self.status.style()
        if style is not None:
            style.unpolish(self.status)
            style.polish(self.status)
        QTimer.singleShot(CLOSE_AFTER_PAIRED_MS, self.accept)

    def done(self, a0: int) -> None:
        """Stop listening for pairings when closed."""
        try:
            self.models.link.device_paired.disconnect(self._paired)
        except TypeError:
            pass
        super().done(a0)
