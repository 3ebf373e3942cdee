"""Photo thumbnails and previews, decoded off the GUI thread and cached by photo id."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Final

from PyQt6.QtCore import QObject, QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QImage, QImageIOHandler, QImageReader

from .tasks import run_service

log = logging.getLogger(__name__)

THUMB_EDGE: Final = 320
PREVIEW_EDGE: Final = 1600
FULL_RESOLUTION: Final = 0  # an edge of 0: decode every pixel (the loupe at 100 %)
MAX_CACHED: Final = 600
MAX_FULL_CACHED: Final = 2  # a 24 MP photo is ~96 MB decoded
MAX_PARALLEL: Final = 2
RECENT_WANTED: Final = 160  # loads still wanted: the newest requests (a screenful or two)


class Superseded(Exception):
    """A load nobody waits for any more (its tile scrolled away before its turn)."""


def load_scaled(path: str, edge: int) -> QImage:
    """Decode an image file scaled to fit `edge` (JPEG DCT scaling; 0: full size); in a thread."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)  # EXIF orientation
    size = reader.size()
    if edge > 0 and size.isValid() and max(size.width(), size.height()) > edge:
        size.scale(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatio)
        reader.setScaledSize(size)
    image = reader.read()
    if image.isNull():
        raise OSError(f"Cannot read {path}: {reader.errorString()}")
    return image


def load_region(path: str, region: QRect) -> QImage:
    """Decode one region of a photo at full resolution (upright); runs in a worker thread."""
    reader = QImageReader(path)
    if reader.transformation() != QImageIOHandler.Transformation.TransformationNone:
        # The clip applies before EXIF rotation: decode upright, then cut.
        return load_scaled(path, FULL_RESOLUTION).copy(region)
    reader.setClipRect(region)
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
        *,
        max_cached: int = MAX_CACHED,
        parallel: int = MAX_PARALLEL,
    ) -> None:
        super().__init__(parent)
        self._edge = edge
        self._max_cached = max_cached
        self._locate = locate
        self._images: OrderedDict[str, QImage] = OrderedDict()
        self._loading: set[str] = set()
        self._failed: set[str] = set()
        self._gate = asyncio.Semaphore(parallel)
        self._requests = 0
        self._asked_at: dict[str, int] = {}  # photo id -> request number (newest wins)

    def get(self, photo_id: str, path: str | None) -> QImage | None:
        """The cached image, or None after starting to load it (path None: by id alone)."""
        image = self._images.get(photo_id)
        if image is not None:
            self._images.move_to_end(photo_id)
            return image
        self._requests += 1
        self._asked_at[photo_id] = self._requests
        if len(self._asked_at) > 4 * RECENT_WANTED:
            oldest = self._requests - RECENT_WANTED
            self._asked_at = {k: v for k, v in self._asked_at.items() if v > oldest}
        known = path or self._locate is not None  # the bridge finds a photo's preview by id
        if known and photo_id not in self._loading and photo_id not in self._failed:
            self._loading.add(photo_id)
            run_service(
                self._load(photo_id, path or ""),
                partial(self._loaded, photo_id),
                partial(self._load_failed, photo_id),
            )
        return None

    def peek(self, photo_id: str) -> QImage | None:
        """The cached image, without starting a load."""
        return self._images.get(photo_id)

    def prefetch(self, photos: list[tuple[str, str | None]]) -> None:
        """Start loading these (id, path) so that showing them later is instant."""
        for photo_id, path in photos:
            self.get(photo_id, path)

    def is_loading(self, photo_id: str) -> bool:
        """A load of this photo is under way."""
        return photo_id in self._loading

    def clear(self) -> None:
        """Forget every cached image (benchmarks compare cold and warm)."""
        self._images.clear()

    async def _load(self, photo_id: str, path: str) -> QImage:
        async with self._gate:
            # A fast scroll asks for hundreds of tiles; decode only those still on screen.
            if self._asked_at.get(photo_id, 0) <= self._requests - RECENT_WANTED:
                raise Superseded(photo_id)
            if self._locate is not None:
                # The bridge's cached preview, when it can make one: small and fast to decode.
                try:
                    path = await self._locate(photo_id, path)
                except Exception as exc:
                    if not path:
                        raise
                    log.debug("No cached preview for %s (%s); using the original", photo_id, exc)
            return await asyncio.to_thread(load_scaled, path, self._edge)

    def _loaded(self, photo_id: str, image: QImage) -> None:
        self._loading.discard(photo_id)
        self._images[photo_id] = image
        while len(self._images) > self._max_cached:
            self._images.popitem(last=False)
        self.image_ready.emit(photo_id)

    def _load_failed(self, photo_id: str, exc: BaseException) -> None:
        # A missing or broken file shows a placeholder tile; it is not an app error.
        self._loading.discard(photo_id)
        if isinstance(exc, Superseded):
            return  # asked for again when its tile is painted again
        self._failed.add(photo_id)
        log.warning("No thumbnail for %s: %s", photo_id, exc)
