"""The face panel: every detected face cropped at 100 % with its eye and focus verdict."""

from __future__ import annotations

from typing import Any, Final

from PyQt6.QtCore import QPointF, QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from bridge_server.imaging.analysis import BLUR_BLURRED, BLUR_CRISP

from .common import plain_label

EYE_LINE: Final = 0.42  # eyes sit this far down a detected face box
CROP_EDGE: Final = 176  # px shown per face (100 % of the photo, centred on the face)
PANEL_WIDTH: Final = 212
EYE_WORDS: Final = {"open": "Eyes open", "closed": "Eyes closed", "unknown": "Eyes not judged"}


def focus_verdict(face: dict[str, Any]) -> str:
    """'Sharp', 'Slightly soft' or 'Blurred' from the face's edge blur (analysis thresholds)."""
    blur = face.get("blur")
    if not isinstance(blur, int | float):
        return "Focus not judged"
    if blur <= BLUR_CRISP:
        return "Sharp"
    if blur >= BLUR_BLURRED:
        return "Blurred"
    return "Slightly soft"


def faces_of(photo: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The faces analysis found: the main (largest) face first, then the rest as read."""
    faces = list(((photo or {}).get("analysis_results") or {}).get("faces") or [])
    if not faces:
        return []

    def box(face: dict[str, Any]) -> list[float]:
        return list(face.get("box") or [0.0, 0.0, 0.0, 0.0])

    main = max(faces, key=lambda f: box(f)[2])
    rest = [f for f in faces if f is not main]
    # Reading order: rows of faces (a face's height apart), left to right within a row.
    rest.sort(key=lambda f: (round(box(f)[1] / max(box(f)[3], 0.01)), box(f)[0]))
    return [main, *rest]


def face_centre(face: dict[str, Any]) -> QPointF:
    """Where to look in a face, as fractions of the photo: its eyes (focus is judged there)."""
    x, y, w, h = (face.get("box") or [0.5, 0.5, 0, 0])[:4]
    return QPointF(x + w / 2, y + h * EYE_LINE)


def crop_at_100(image: QImage, face: dict[str, Any], full_size: QSize) -> QImage:
    """A CROP_EDGE square of `image` around the face, at the photo's full resolution."""
    centre = face_centre(face)
    scale = image.width() / max(1, full_size.width())  # < 1 while only a preview is decoded
    side = max(8, round(CROP_EDGE * scale))
    rect = QRect(0, 0, side, side)
    rect.moveCenter(
        QRect(round(centre.x() * image.width()), round(centre.y() * image.height()), 0, 0).center()
    )
    crop = image.copy(rect.intersected(image.rect()))
    if crop.width() != CROP_EDGE:
        crop = crop.scaled(
            QSize(CROP_EDGE, CROP_EDGE),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return crop


class FaceTile(QFrame):
    """One face: the crop, then its eyes and focus in words; a click zooms there."""

    clicked = pyqtSignal(int)

    def __init__(self, number: int, face: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self.setObjectName("faceTile")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.image = QLabel()
        self.image.setFixedSize(CROP_EDGE, CROP_EDGE)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setObjectName("faceCrop")
        self.eyes = plain_label(EYE_WORDS.get(str(face.get("eye_state")), "Eyes not judged"))
        self.focus = plain_label(focus_verdict(face))
        for label in (self.eyes, self.focus):
            label.setObjectName("faceVerdict")
        self.eyes.setProperty("bad", face.get("eye_state") == "closed")
        self.focus.setProperty("bad", self.focus.text() != "Sharp")
        layout.addWidget(self.image)
        layout.addWidget(self.eyes)
        layout.addWidget(self.focus)

    def set_crop(self, crop: QImage) -> None:
        """Show the face's pixels."""
        self.image.setPixmap(QPixmap.fromImage(crop))

    def mousePressEvent(self, a0: Any) -> None:
        """Zoom the loupe to this face."""
        self.clicked.emit(self.number)


class FacePanel(QScrollArea):
    """A fixed-width column of face tiles (the loupe's layout never changes with it)."""

    face_clicked = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("facePanel")
        self.setFixedWidth(PANEL_WIDTH)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.faces: list[dict[str, Any]] = []
        self.tiles: list[FaceTile] = []
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(8)
        self.title = plain_label("Faces")
        self.title.setObjectName("sectionLabel")
        self._layout.addWidget(self.title)
        self._layout.addStretch(1)
        self.setWidget(self._body)

    def show_faces(self, photo: dict[str, Any] | None) -> None:
        """One tile per detected face of this photo."""
        for tile in self.tiles:
            tile.deleteLater()
        self.tiles = []
        self.faces = faces_of(photo)
        count = len(self.faces)
        self.title.setText(
            f"{count} face{'s' if count != 1 else ''} at 100 %" if count else "No faces found"
        )
        for number, face in enumerate(self.faces):
            tile = FaceTile(number, face)
            tile.clicked.connect(self.face_clicked)
            self._layout.insertWidget(self._layout.count() - 1, tile)
            self.tiles.append(tile)

    def set_image(self, image: QImage | None, full_size: QSize) -> None:
        """Crop every face from the best decode so far (the full resolution when it is in)."""
        if image is None or image.isNull():
            return
        for tile, face in zip(self.tiles, self.faces, strict=True):
            tile.set_crop(crop_at_100(image, face, full_size))
