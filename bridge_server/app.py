"""BridgeServer: starts and stops everything that is not GUI on the running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Final

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from .broker import EventBroker, PublishedEvent
from .config import Settings
from .context import BridgeContext
from .long_lived import release_long_lived, settle_long_lived
from .pipeline.runtime import Pipeline
from .services.pairing import PairingCodes
from .services.queue_status import QueueStatusPublisher
from .services.system import SystemMonitor
from .store.db import Database
from .store.event_log import EventLog
from .store.schema_version import at_newest_revision
from .studio.settings import StudioUnavailable, check_studio_settings
from .web.app import make_app
from .web.ws import ClientConnection
from .web.ws_messages import CLOSE_GOING_AWAY

if TYPE_CHECKING:  # imported when used: the embedded bridge never loads the Redis client
    from .studio.backplane import RedisBackplane
    from .studio.members import Heartbeat

log = logging.getLogger(__name__)

# Seconds after the start before the retained events older than the eager part load (at once
# when a resume or a history view needs them): a 50,000-event log takes about a second of the
# loop and the store, which the window's first pages need more.
OLDER_HISTORY_DELAY: Final = 5.0


class BridgeServer:
    """The bridge on the current loop: store, broker, pipeline, HTTP and WebSocket server."""

    def __init__(
        self,
        settings: Settings,
        *,
        serve_http: bool = True,
        worker_name: str = "",
        owns_process: bool = False,
    ) -> None:
        self.settings = settings
        self.serve_http = serve_http
        # The process lives as long as this bridge (the app, the headless server): its
        # long-lived heap is settled out of the collector's full passes (long_lived.py).
        self.owns_process = owns_process
        # A studio worker (`autodev-bridge-worker`): runs jobs, serves nothing, watches nothing.
        self.worker_name = worker_name
        self._backplane: RedisBackplane | None = None
        self._heartbeat: Heartbeat | None = None
        self.ctx: BridgeContext | None = None
        self._event_log: EventLog | None = None
        self._older_history: asyncio.Task[None] | None = None
        self._older_history_waiting = False
        self._restored_from = 0  # the oldest event the start restored (the rest loads later)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._monitor: SystemMonitor | None = None
        self._pipeline: Pipeline | None = None
        self.port: int = settings.port

    @property
    def context(self) -> BridgeContext:
        """The running bridge's shared parts (after start)."""
        if self.ctx is None:
            raise RuntimeError("BridgeServer is not started")
        return self.ctx

    @property
    def pipeline(self) -> Pipeline:
        """The running pipeline (after start)."""
        if self._pipeline is None:
            raise RuntimeError("BridgeServer is not started")
        return self._pipeline

    async def start(self) -> None:
        """Open the store, restore the broker, start the pipeline and listen."""
        settings = self.settings
        check_studio_settings(settings)
        db = Database(settings.database_path, settings.database_url)
        try:
            try:
                if not await at_newest_revision(db):
                    await db.migrate()
            except (OSError, DBAPIError) as exc:
                if not settings.studio:
                    raise
                raise StudioUnavailable(f"PostgreSQL is unreachable: {exc}") from exc
            broker = await self._open_broker(db)
        except BaseException:
            await self._close_backplane()
            await db.close()
            raise
        ctx = BridgeContext(settings=settings, db=db, broker=broker, pairing=PairingCodes())
        ctx.backplane = self._backplane
        if self.worker_name:
            ctx.instance_name = self.worker_name
        else:
            ctx.queue_status = QueueStatusPublisher(db, broker)
        self.ctx = ctx
        await self._start_pipeline(ctx)
        if not self.worker_name:
            self._monitor = SystemMonitor(ctx)
            await self._monitor.start()
        if self.serve_http:
            app = make_app(ctx)
            self._runner = web.AppRunner(
                app, handle_signals=False, access_log=None, shutdown_timeout=2.0
            )
            await self._runner.setup()
            self._site = web.TCPSite(self._runner, settings.host, settings.port)
            await self._site.start()
            server = self._site._server
            sockets = getattr(server, "sockets", None) or []
            if sockets:
                self.port = sockets[0].getsockname()[1]
            log.info("Bridge listening on %s:%d", settings.host, self.port)
        if ctx.queue_status is not None:
            await ctx.queue_status.publish_now()
        if not broker.history_complete:
            self._older_history = asyncio.get_running_loop().create_task(
                self._load_older_history(broker), name="event-log-older-history"
            )
        if self._backplane is not None:
            from .studio.members import Heartbeat

            self._heartbeat = Heartbeat(ctx, self._backplane, self._member_info)
            self._heartbeat.start()

    async def _open_broker(self, db: Database) -> EventBroker:
        """The in-process broker, numbered by the local event log or by the studio's stream."""
        settings = self.settings
        if settings.studio:
            from .studio.backplane import RedisBackplane

            self._backplane = RedisBackplane(
                settings.redis_url, settings.studio_key, db, settings.event_history_size
            )
            history, last, epoch = await self._backplane.open()
            broker = EventBroker(
                history_size=settings.event_history_size,
                next_seq=last + 1,
                history=history,
                epoch=epoch,
            )
            self._backplane.start(broker)
            return broker
        self._event_log = EventLog(db, settings.event_history_size)
        boot = await self._event_log.open()
        self._restored_from = boot.history[0].seq if boot.history else 0
        return EventBroker(
            history_size=settings.event_history_size,
            next_seq=boot.next_seq,
            history=boot.history,
            unrecoverable_below=boot.unrecoverable_below,
            sink=self._event_log,
            epoch=boot.epoch,
            history_complete=boot.complete,
        )

    async def settled(self) -> None:
        """Return once the start's background work is done: the catch-up scans, the pixel
        workers spawned, the older retained events loaded (asked for now)."""
        await self.pipeline.caught_up()
        if self.context.pool is not None:
            await self.context.pool.warm_up()
        if self._older_history is not None:
            await self.context.broker.history_loaded()
            await asyncio.gather(asyncio.shield(self._older_history), return_exceptions=True)

    async def _load_older_history(self, broker: EventBroker) -> None:
        """Bring the retained events the start did not restore into the broker's history:
        after OLDER_HISTORY_DELAY, so the start's own reads (the desk's first pages) have the
        loop and the store to themselves, or at once when a resume or a history view waits."""
        assert self._event_log is not None
        self._older_history_waiting = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(broker.history_wanted(), OLDER_HISTORY_DELAY)
        self._older_history_waiting = False
        older: list[PublishedEvent] = []
        try:
            older = await self._event_log.load_older(self._restored_from)
        except Exception:  # resumes from before the loaded part are then answered unrecoverable
            log.exception("Event log: loading the older retained events failed")
        finally:
            broker.add_older(older)
        if self.owns_process:
            settle_long_lived()  # tens of thousands of events, alive until the process ends

    async def _close_backplane(self) -> None:
        backplane, self._backplane = self._backplane, None
        if backplane is not None:
            with contextlib.suppress(Exception):  # stopping must go on without Redis
                await backplane.close()

    def _member_info(self) -> dict[str, object]:
        """What this instance tells the studio about itself (the Clients view's studio list)."""
        ctx = self.context
        scheduler = self.pipeline.scheduler
        return {
            "role": "worker" if self.worker_name else "bridge",
            "url": "" if self.worker_name else f"http://{self.settings.host}:{self.port}/",
            "running_jobs": scheduler.running_count,
            "capacity": scheduler.capacity,
            "clients": len(ctx.clients),
        }

    async def _start_pipeline(self, ctx: BridgeContext) -> None:
        self._pipeline = Pipeline(ctx, worker=bool(self.worker_name))
        await self._pipeline.start()

    async def stop(self) -> None:
        """Stop accepting, stop the pipeline, flush the event log, then close clients with 1001.

        In this order a phone cannot reconnect mid-stop only to be cut, every event published
        while the pipeline winds down is persisted and still reaches the connected clients, and
        the 1001 tells them to resume later from a number the next start will not reissue.
        """
        ctx = self.ctx
        if ctx is None:
            return
        if self._site is not None:
            await self._site.stop()  # the listening socket closes; open connections stay
            self._site = None
        if self._heartbeat is not None:
            await self._heartbeat.stop()
        if self._pipeline is not None:
            await self._pipeline.stop()
        if self._monitor is not None:
            await self._monitor.stop()
        if ctx.queue_status is not None:
            ctx.queue_status.close()
        if self.owns_process:
            release_long_lived()
        if self._older_history is not None:
            if self._older_history_waiting:  # not loading yet: nobody needs them any more
                self._older_history.cancel()
            await asyncio.gather(self._older_history, return_exceptions=True)
            self._older_history = None
        if self._event_log is not None:
            await self._event_log.close(ctx.broker.issued_seq)
        await self._close_backplane()
        closing = [
            c.flush_and_close(CLOSE_GOING_AWAY, "Server shutting down")
            for c in ctx.clients.all()
            if isinstance(c, ClientConnection)
        ]
        await asyncio.gather(*closing, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        await ctx.db.close()
        self.ctx = None
