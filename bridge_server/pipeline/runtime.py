"""Pipeline: wires the pool, scheduler, selection, thumbnails and hot-folder watcher."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import select

from ..broker import PublishedEvent
from ..context import BridgeContext
from ..services.jobs import PRIORITY_HIGH
from ..services.sessions import refresh_session
from ..store.enums import JobKind
from ..store.models import Photo
from ..store.tallies import TallyFolder
from .analysis_job import make_analyze_handler, queue_outdated_analyses
from .coalesce import KeyedCoalescer
from .export_job import export_handler
from .importer import import_paths, shoot_session_name
from .library_files import recover_file_intents
from .metadata_sync import metadata_coordinator, unsynced_photos
from .pool import PixelPool
from .profile_job import ProfileTrainer
from .scheduler import JobRun, JobScheduler
from .selection import COALESCE_SECONDS, reselect_handler, selection_coordinator
from .thumbnails import ThumbnailCache
from .watcher import HotFolderWatcher

log = logging.getLogger(__name__)


class Pipeline:
    """Everything that processes photos, started and stopped with the bridge."""

    def __init__(self, ctx: BridgeContext, *, worker: bool = False) -> None:
        self.ctx = ctx
        # A studio worker only runs jobs: imports (hot folders, file intents) belong to bridges.
        self.worker = worker
        self.pool = PixelPool(ctx.settings.worker_count)
        self.selection = selection_coordinator(ctx)
        # Session progress and completion, recounted once per burst of finished jobs.
        self.sessions = KeyedCoalescer(
            "Session refresh", COALESCE_SECONDS, lambda sid: refresh_session(ctx, sid)
        )
        self.profile = ProfileTrainer(ctx, self.selection)
        self.scheduler = JobScheduler(
            ctx,
            {
                JobKind.ANALYZE: make_analyze_handler(self.selection, previews=not worker),
                JobKind.EXPORT: export_handler,
                JobKind.TRAIN_PROFILE: self.profile.train,
                JobKind.RESELECT: reselect_handler,
            },
            concurrency=self.pool.workers,
            after_job=self._after_job,
            claims=worker or ctx.settings.local_jobs,
        )
        self.metadata = metadata_coordinator(ctx)
        self.watcher = HotFolderWatcher(ctx.settings.hot_folders, self._import_from_hot_folder)
        ctx.metadata = self.metadata
        ctx.pool = self.pool
        ctx.runner = self.scheduler
        ctx.thumbnails = ThumbnailCache(ctx)
        self._catching_up: asyncio.Task[None] | None = None
        self.tallies = TallyFolder(ctx.db)  # keeps the maintained counts' rows few

    async def start(self) -> None:
        """Recover interrupted imports, requeue interrupted jobs, dispatch, watch, start workers.

        Photos analysed by an older analysis version are queued for re-analysis (low priority).
        A studio worker only runs jobs: imports, hot folders and re-queuing belong to bridges.
        """
        if not self.worker:
            await recover_file_intents(self.ctx)  # before anything can import or run a job
        self.profile.start()
        await self.scheduler.start()  # interrupted jobs are requeued before it returns
        if not self.worker:
            self.watcher.start()
            self.tallies.start()
        if self.ctx.backplane is not None:
            self.ctx.broker.add_listener(self._on_studio_event)
        self.pool.start_in_background()
        # These read the whole library, so they run while the bridge already serves: neither
        # is recovery a request could see half done (each photo's write is its own step).
        self._catching_up = asyncio.get_running_loop().create_task(
            self._catch_up(), name="pipeline-catch-up"
        )

    async def _catch_up(self) -> None:
        """Write the decisions a crash left out of their files; redo older analyses."""
        try:
            for photo_id in await unsynced_photos(self.ctx):
                self.metadata.schedule(photo_id)
            if not self.worker:
                outdated = await queue_outdated_analyses(self.ctx)
                if outdated:
                    log.info("Re-analysing %d photo(s) analysed by an older version", outdated)
        except Exception:  # the next start tries again
            log.exception("Start-up catch-up failed")

    async def caught_up(self) -> None:
        """Return once the start-up catch-up (file sync, re-analysis of old versions) is done."""
        if self._catching_up is not None:
            await asyncio.gather(asyncio.shield(self._catching_up), return_exceptions=True)

    def _on_studio_event(self, event: PublishedEvent) -> None:
        """A job queued on another machine: look for work now rather than at the next poll."""
        if event.type == "job_created" or (
            event.type == "job_progress" and event.payload.get("stage") == "queued"
        ):
            self.scheduler.wake()

    async def set_hot_folders(self, folders: list[str]) -> None:
        """Watch these folders from now on (the settings change applies at once)."""
        self.ctx.settings.hot_folders = list(folders)
        await self.watcher.stop()
        self.watcher = HotFolderWatcher(folders, self._import_from_hot_folder)
        self.watcher.start()

    async def stop(self) -> None:
        """Stop watching, let running jobs reach a safe point, stop the workers."""
        await self.watcher.stop()
        await self.tallies.stop()
        if self._catching_up is not None:
            # Not cancelled: a commit in flight would land without its jobs announced.
            await asyncio.gather(self._catching_up, return_exceptions=True)
        await self.profile.stop()
        await self.scheduler.stop()
        await self.selection.stop()
        await self.sessions.stop()
        await self.metadata.stop()
        await self.pool.close()

    @property
    def busy(self) -> bool:
        """Whether selection, a session refresh, the profile or a metadata write is pending."""
        catching_up = self._catching_up is not None and not self._catching_up.done()
        return (
            catching_up
            or self.selection.busy
            or self.sessions.busy
            or self.profile.busy
            or self.metadata.busy
        )

    async def _after_job(self, run: JobRun) -> None:
        """A finished job may complete its session (or move its progress)."""
        if run.photo_id is None:
            return
        async with self.ctx.db.session() as s:
            session_id = (
                await s.execute(select(Photo.session_id).where(Photo.id == run.photo_id))
            ).scalar()
        if session_id is not None:
            self.sessions.schedule(session_id)

    async def _import_from_hot_folder(self, folder: Path, files: list[Path]) -> None:
        # A new arrival is what the photographer is waiting for: its analysis goes ahead of any
        # import's backlog. The session is named for the day the photos were shot.
        name = await shoot_session_name(self.ctx, folder, files)
        report = await import_paths(self.ctx, [str(f) for f in files], name, priority=PRIORITY_HIGH)
        if report["imported"]:
            self.scheduler.wake_express()  # the arrivals may take the express worker
        log.info(
            "Hot folder %s: %d imported, %d duplicates",
            folder,
            len(report["imported"]),
            len(report["duplicates"]),
        )
