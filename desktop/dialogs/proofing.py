"""Share for proofing: a link to one session as a QR code, its guests, and withdrawing it."""

from __future__ import annotations

from typing import Any, Final

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bridge_server.services import client_favourites, pairing, proofing_links
from bridge_server.store.enums import ColorLabel

from ..controller import BridgeModels
from ..tasks import run_service
from ..views.common import plain_label
from .pairing import qr_png

VISIBILITY_CHOICES: Final = (
    ("Approved photos only", "picks"),
    ("Approved and proposed photos", "picks_and_proposals"),
)
EXPIRY_CHOICES: Final = (("1 day", 24), ("3 days", 72), ("1 week", 168), ("30 days", 720))


class ShareDialog(QDialog):
    """Creates a proofing link for a session and shows it as a QR code for the client."""

    def __init__(
        self,
        models: BridgeModels,
        session_id: str,
        session_name: str,
        base_urls: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Share “{session_name}” for proofing")
        self.setModal(False)
        self.setMinimumWidth(420)
        self.models = models
        self.session_id = session_id
        self._base_urls = base_urls
        self.link: dict[str, Any] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        intro = QLabel(
            "Your client scans this code on the same Wi-Fi, gives a name and sees the photos "
            "live as you approve them; they can heart and comment. Rejected photos are never "
            "shown. Each guest can be removed alone."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.visibility = QComboBox()
        for label, value in VISIBILITY_CHOICES:
            self.visibility.addItem(label, value)
        self.expiry = QComboBox()
        for label, hours in EXPIRY_CHOICES:
            self.expiry.addItem(label, hours)
        self.expiry.setCurrentIndex(1)
        form.addRow("Show", self.visibility)
        form.addRow("Link works for", self.expiry)
        layout.addLayout(form)
        self.create_button = QPushButton("Create link")
        self.create_button.setObjectName("primary")
        self.create_button.clicked.connect(self.create_link)
        layout.addWidget(self.create_button)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setObjectName("qr")
        layout.addWidget(self.qr)
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setVisible(False)
        layout.addWidget(self.url)
        self.status = plain_label("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Guests"))
        self.guests = QListWidget()
        self.guests.setMaximumHeight(120)
        layout.addWidget(self.guests)
        actions = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh guests")
        self.refresh_button.clicked.connect(self.refresh)
        self.remove_button = QPushButton("Remove guest")
        self.remove_button.clicked.connect(self.remove_guest)
        self.withdraw_button = QPushButton("Withdraw link")
        self.withdraw_button.clicked.connect(self.withdraw)
        self.withdraw_button.setEnabled(False)
        for button in (self.refresh_button, self.remove_button, self.withdraw_button):
            actions.addWidget(button)
        layout.addLayout(actions)
        hearts = QHBoxLayout()
        hearts.addWidget(QLabel("Hearted photos get"))
        self.heart_stars = QComboBox()
        self.heart_stars.addItem("no stars", None)
        for n in range(1, 6):
            self.heart_stars.addItem("★" * n, n)
        self.heart_label = QComboBox()
        self.heart_label.addItem("no label", None)
        for label in ColorLabel:
            self.heart_label.addItem(label.value.capitalize(), label.value)
        self.apply_button = QPushButton("Apply hearts")
        self.apply_button.setToolTip(
            "Adds the keyword “Client favourite: <name>” (Lightroom reads it from the XMP), "
            "and the stars and label chosen here"
        )
        self.apply_button.clicked.connect(self.apply_hearts)
        for widget in (self.heart_stars, self.heart_label, self.apply_button):
            hearts.addWidget(widget)
        layout.addLayout(hearts)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.refresh()

    def current_url(self) -> str:
        """The URL the QR code encodes ('' before a link exists)."""
        return self.url.text()

    def create_link(self) -> None:
        """Ask the bridge for a new link with the chosen visibility and lifetime."""
        self.create_button.setEnabled(False)
        run_service(
            proofing_links.create_link(
                self.models.ctx,
                self.session_id,
                str(self.visibility.currentData()),
                float(self.expiry.currentData()),
                self._base_urls,
            ),
            self._created,
            lambda exc: self._failed(str(exc)),
            what="Sharing for proofing",
        )

    def _created(self, link: dict[str, Any]) -> None:
        self.link = link
        url = str(link["urls"][0])
        self.url.setText(url)
        self.url.setCursorPosition(0)
        self.url.setVisible(True)
        pixmap = QPixmap()
        pixmap.loadFromData(qr_png(url), "PNG")
        self.qr.setPixmap(pixmap)
        self.qr.setMinimumSize(pixmap.size())
        self.status.setText(f"Link active until {link['expires_at'][:16].replace('T', ' ')} UTC")
        self.withdraw_button.setEnabled(True)
        self.create_button.setEnabled(True)
        self.create_button.setText("Create another link")

    def _failed(self, message: str) -> None:
        self.create_button.setEnabled(True)
        self.status.setText(message)

    def refresh(self) -> None:
        """Reload the guests of this session's links."""
        run_service(
            proofing_links.list_links(self.models.ctx, self.session_id),
            self._show_guests,
            what="Listing proofing guests",
        )

    def _show_guests(self, links: list[dict[str, Any]]) -> None:
        self.guests.clear()
        for link in links:
            if link["state"] != "active":
                continue
            for guest in link["guests"]:
                item = QListWidgetItem(str(guest["device_name"]))
                item.setData(Qt.ItemDataRole.UserRole, guest["device_id"])
                self.guests.addItem(item)

    def remove_guest(self) -> None:
        """Revoke the selected guest alone (its gallery closes at once)."""
        item = self.guests.currentItem()
        if item is None:
            return
        device_id = str(item.data(Qt.ItemDataRole.UserRole))
        run_service(
            pairing.revoke_device(self.models.ctx, device_id),
            lambda _d: self.refresh(),
            what="Removing a guest",
        )

    def withdraw(self) -> None:
        """Revoke the link shown: nobody can join any more and its guests are removed."""
        if self.link is None:
            return
        link_id = str(self.link["link_id"])
        run_service(
            proofing_links.revoke_link(self.models.ctx, link_id),
            lambda _d: self._withdrawn(),
            what="Withdrawing the proofing link",
        )

    def apply_hearts(self) -> None:
        """Turn this session's hearts into keywords, and the chosen stars and label."""
        label = self.heart_label.currentData()
        run_service(
            client_favourites.apply_favorites(
                self.models.ctx,
                self.session_id,
                self.heart_stars.currentData(),
                ColorLabel(label) if label else None,
            ),
            lambda result: self.status.setText(f"Hearts applied to {result['count']} photo(s)"),
            what="Applying the clients' hearts",
        )

    def _withdrawn(self) -> None:
        self.link = None
        self.qr.clear()
        self.url.clear()
        self.url.setVisible(False)
        self.withdraw_button.setEnabled(False)
        self.status.setText("Link withdrawn: it no longer opens the gallery.")
        self.refresh()
