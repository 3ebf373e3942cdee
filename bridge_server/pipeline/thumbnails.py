"""Cached previews: made once in the pool, then served from the cache folder."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from ..context import BridgeContext
from ..imaging.atomic import remove_quietly
from ..imaging.errors import ImageError
from ..imaging.formats import is_jpeg
from ..imaging.thumbnails import THUMBNAIL_SIZES, cached_files, thumbnail_paths
from ..services.errors import Conflict, InvalidArguments
from ..services.queries import get_or_404
from ..store.models import Photo
from . import worker

SIZES: Final = tuple(THUMBNAIL_SIZES)


class ThumbnailCache:
    """Generates each photo's previews once; concurrent requests share one generation."""

    def __init__(self, ctx: BridgeContext) -> None:
        self._ctx = ctx
        self._inflight: dict[str, asyncio.Future[dict[str, str]]] = {}

    @property
    def directory(self) -> Path:
        """The cache folder for previews."""
        return self._ctx.settings.cache_dir / "thumbnails"

    async def path(self, photo_id: str, size: str) -> Path:
        """The preview file of `size` ('small' or 'large'), made if missing."""
        if size not in SIZES:
            raise InvalidArguments(f"'size' must be one of: {', '.join(SIZES)}")
        async with self._ctx.db.session() as s:
            photo = await get_or_404(s, Photo, photo_id, "photo")
            source = self._ctx.local_path(photo.file_path)
        paths = thumbnail_paths(str(self.directory), photo_id)
        target = Path(paths[size])
        if await asyncio.to_thread(target.exists):
            return target
        made = self._inflight.get(photo_id)
        if made is None:
            made = asyncio.ensure_future(self._make(source, photo_id))
            self._inflight[photo_id] = made
            made.add_done_callback(lambda _f: self._inflight.pop(photo_id, None))
        try:
            result = await asyncio.shield(made)
        except (ImageError, FileNotFoundError) as exc:
            raise Conflict(f"No preview for {photo_id}: {exc}") from None
        return Path(result[size])

    async def _make(self, source: str, photo_id: str) -> dict[str, str]:
        assert self._ctx.pool is not None
        made = await self._ctx.pool.run(worker.thumbnails, source, str(self.directory), photo_id)
        if await self.drop_if_removed(photo_id):
            raise FileNotFoundError(f"{photo_id} was removed from the library")
        return made

    async def drop_if_removed(self, photo_id: str) -> bool:
        """After pixels were worked for a photo: if its session was deleted meanwhile, remove
        the files just written for it (and say so), so nothing is left behind."""
        async with self._ctx.db.session() as s:
            gone = await s.get(Photo, photo_id) is None
        if gone:
            await self._remove_files([photo_id])
        return gone

    async def full_size(self, photo_id: str) -> Path:
        """The photo at full resolution: a JPEG original itself, else a JPEG rendition of it.

        The path comes from the store, never from the caller.
        """
        async with self._ctx.db.session() as s:
            photo = await get_or_404(s, Photo, photo_id, "photo")
            source = photo.file_path
        if is_jpeg(source):
            if not await asyncio.to_thread(Path(source).is_file):
                raise Conflict(f"The original of {photo_id} is missing from disk")
            return Path(source)
        assert self._ctx.pool is not None
        try:
            made = await self._ctx.pool.run(
                worker.full_rendition, source, str(self.directory), photo_id
            )
        except (ImageError, FileNotFoundError) as exc:
            raise Conflict(f"No full-size image for {photo_id}: {exc}") from None
        if await self.drop_if_removed(photo_id):
            raise Conflict(f"No full-size image for {photo_id}: removed from the library")
        return Path(made)

    async def forget(self, photo_ids: list[str]) -> None:
        """Remove the cached previews of photos the library no longer has (off the loop),
        after any of their previews being made now is written."""
        making = [self._inflight[p] for p in photo_ids if p in self._inflight]
        if making:
            await asyncio.gather(*making, return_exceptions=True)
        await self._remove_files(photo_ids)

    async def _remove_files(self, photo_ids: list[str]) -> None:
        directory = str(self.directory)

        def remove_all() -> None:
            for photo_id in photo_ids:
                for path in cached_files(directory, photo_id):
                    remove_quietly(path)

        if photo_ids:
            await asyncio.to_thread(remove_all)
