"""BridgeServer: starts and stops everything that is not GUI on the running event loop."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from .broker import EventBroker
from .config import Settings
from .context import BridgeContext
from .pipeline.runtime import Pipeline
from .services.pairing import PairingCodes
from .services.queue_status import QueueStatusPublisher
from .services.system import SystemMonitor
from .store.db import Database
from .store.event_log import EventLog
from .web.app import make_app
from .web.ws import ClientConnection
from .web.ws_messages import CLOSE_GOING_AWAY

log = logging.getLogger(__name__)


class BridgeServer:
    """The bridge on the current loop: store, broker, pipeline, HTTP and WebSocket server."""

    def __init__(self, settings: Settings, *, serve_http: bool = True) -> None:
        self.settings = settings
        self.serve_http = serve_http
        self.ctx: BridgeContext | None = None
        self._event_log: EventLog | None = None
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
        db = Database(settings.database_path)
        await db.migrate()
        self._event_log = EventLog(db, settings.event_history_size)
        boot = await self._event_log.open()
        broker = EventBroker(
            history_size=settings.event_history_size,
            next_seq=boot.next_seq,
            history=boot.history,
            unrecoverable_below=boot.unrecoverable_below,
            sink=self._event_log,
            epoch=boot.epoch,
        )
        ctx = BridgeContext(settings=settings, db=db, broker=broker, pairing=PairingCodes())
        ctx.queue_status = QueueStatusPublisher(db, broker)
        self.ctx = ctx
        await self._start_pipeline(ctx)
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
        await ctx.queue_status.publish_now()

    async def _start_pipeline(self, ctx: BridgeContext) -> None:
        self._pipeline = Pipeline(ctx)
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
        if self._pipeline is not None:
            await self._pipeline.stop()
        if self._monitor is not None:
            await self._monitor.stop()
        if ctx.queue_status is not None:
            ctx.queue_status.close()
        if self._event_log is not None:
            await self._event_log.close(ctx.broker.issued_seq)
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
