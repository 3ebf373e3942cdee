"""Photo thumbnails and previews, decoded off the GUI thread and cached by photo id."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Final

from PyQt6.QtCore import QObject, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QImage, QImageReader

from .tasks import run_service

log = logging.getLogger(__name__)

THUMB_EDGE: Final = 320
PREVIEW_EDGE: Final = 1600
MAX_CACHED: Final = 600
MAX_PARALLEL: Final = 2


def load_scaled(path: str, edge: int) -> QImage:
    """Decode an image file scaled to fit `edge` (JPEG DCT scaling); runs in a worker thread."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)  # EXIF orientation
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > edge:
        size.scale(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatio)
        reader.setScaledSize(size)
    image = reader.read()
    if image.isNull():
        raise OSError(f"Cannot read {path}: {reader.errorString()}")
    return image


class ImageCache(QObject):
    """Loads images by photo id on demand; `image_ready(photo_id)` when one arrives."""

    image_ready = pyqtSignal(str)

    def __init__(
        self,
        edge: int,
        locate: Callable[[str, str], Awaitable[str]] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._edge = edge
        self._locate = locate
        self._images: OrderedDict[str, QImage] = OrderedDict()
        self._loading: set[str] = set()
        self._failed: set[str] = set()
        self._gate = asyncio.Semaphore(MAX_PARALLEL)

    def get(self, photo_id: str, path: str | None) -> QImage | None:
        """The cached image, or None after starting to load it."""
        image = self._images.get(photo_id)
        if image is not None:
            self._images.move_to_end(photo_id)
            return image
        if path and photo_id not in self._loading and photo_id not in self._failed:
            self._loading.add(photo_id)
            run_service(
                self._load(photo_id, path),
                partial(self._loaded, photo_id),
                partial(self._load_failed, photo_id),
            )
        return None

    async def _load(self, photo_id: str, path: str) -> QImage:
        async with self._gate:
            if self._locate is not None:
                # The bridge's cached preview, when it can make one: small and fast to decode.
                try:
                    path = await self._locate(photo_id, path)
                except Exception as exc:
                    log.debug("No cached preview for %s (%s); using the original", photo_id, exc)
            return await asyncio.to_thread(load_scaled, path, self._edge)

    def _loaded(self, photo_id: str, image: QImage) -> None:
        self._loading.discard(photo_id)
        self._images[photo_id] = image
        while len(self._images) > MAX_CACHED:
            self._images.popitem(last=False)
        self.image_ready.emit(photo_id)

    def _load_failed(self, photo_id: str, exc: BaseException) -> None:
        # A missing or broken file shows a placeholder tile; it is not an app error.
        self._loading.discard(photo_id)
        self._failed.add(photo_id)
        log.warning("No thumbnail for %s: %s", photo_id, exc)
