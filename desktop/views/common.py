"""Small building blocks shared by the views: page headers, stat cards, empty states."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows its text literally: names from files, EXIF and devices are never
    markup (Qt would otherwise guess rich text from a `<b>` in a device name)."""
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def page_layout(page: QWidget, title: str, subtitle: str, spacing: int = 12) -> QVBoxLayout:
    """The layout every view starts with: page margins, then its title and subtitle."""
    layout = QVBoxLayout(page)
    layout.setContentsMargins(24, 20, 24, 20)
    layout.setSpacing(spacing)
    layout.addWidget(page_header(title, subtitle))
    return layout


def page_header(title: str, subtitle: str = "") -> QWidget:
    """A page title with an optional quiet subtitle."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 4)
    layout.setSpacing(2)
    heading = QLabel(title)
    heading.setObjectName("pageTitle")
    layout.addWidget(heading)
    if subtitle:
        sub = QLabel(subtitle)
        sub.setObjectName("pageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)
    return box


class StatCard(QFrame):
    """A number with a caption and a detail line."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(2)
        self.caption = plain_label(caption.upper())
        self.caption.setObjectName("cardCaption")
        self.value = plain_label("0")
        self.value.setObjectName("cardValue")
        self.detail = plain_label(" ")
        self.detail.setObjectName("cardDetail")
        self.detail.setWordWrap(True)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)
        layout.addStretch(1)

    def set(self, value: str, detail: str = "") -> None:
        """Update the number and the detail line."""
        self.value.setText(value)
        self.detail.setText(detail or " ")


def data_table(parent: QWidget | None = None) -> QTableView:
    """A table configured the same way everywhere: rows, sorting, no grid, stretchy last column."""
    table = QTableView(parent)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setSortingEnabled(True)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    rows = table.verticalHeader()
    header = table.horizontalHeader()
    assert rows is not None and header is not None  # a QTableView always has both
    rows.setVisible(False)
    rows.setDefaultSectionSize(30)
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)
    return table


def row_layout(*widgets: QWidget, stretch_at: int | None = None) -> QHBoxLayout:
    """Widgets in a row with standard spacing; optional stretch before index `stretch_at`."""
    layout = QHBoxLayout()
    layout.setSpacing(8)
    for i, widget in enumerate(widgets):
        if stretch_at == i:
            layout.addStretch(1)
        layout.addWidget(widget)
    if stretch_at is None or stretch_at >= len(widgets):
        layout.addStretch(1)
    return layout
