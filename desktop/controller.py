"""The window's view of the bridge: Qt models kept current from services and broker events.

Views only show these models and call the actions here; every action is a service call
started with `run_service`, and its effect comes back as an event like anyone else's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from PyQt6.QtCore import QObject, Qt, pyqtSignal

from bridge_server.broker import PublishedEvent
from bridge_server.context import BridgeContext
from bridge_server.services import approvals, jobs, pairing, photos, sessions, system
from bridge_server.services.library import LibraryPage
from bridge_server.studio.members import list_members, studio_summary
from bridge_server.web.ws_messages import CLOSE_BY_OPERATOR

from . import importing
from .bridge import BridgeLink
from .decision_service import library_page
from .desk_decisions import DeskDecisions, with_change
from .event_words import describe_event
from .models.activity import ActivityModel
from .models.approvals import PAGE_PHOTOS, ApprovalQueueModel
from .models.clients import ClientsModel, DevicesModel, StudioModel
from .models.jobs import JobsModel
from .models.library import LibraryModel, LibraryQuery, Page
from .models.sessions import SessionsModel
from .models.table import PAGE_ROWS
from .tasks import run_service
from .thumbnails import FULL_RESOLUTION, MAX_FULL_CACHED, PREVIEW_EDGE, THUMB_EDGE, ImageCache
from .timers import make_timer

log = logging.getLogger(__name__)

INITIAL_ACTIVITY: Final = 500
RESYNC_MS: Final = 300
STACK_LIMIT: Final = 50
JOB_EVENTS: Final = frozenset(
    {
        "job_created",
        "job_started",
        "job_progress",
        "job_completed",
        "job_failed",
        "priority_changed",
    }
)
PHOTO_EVENTS: Final = frozenset(
    {
        "photo_imported",
        "photo_analyzed",
        "photo_selected",
        "photo_approved",
        "photo_rejected",
        "photo_unflagged",
        "photo_rating_changed",
        "export_completed",
        "export_withdrawn",
    }
)


class BridgeModels(QObject):
    """Owns the models the views show, and the actions the views may take."""

    overview_changed = pyqtSignal()
    paused_changed = pyqtSignal(bool)
    library_empty_changed = pyqtSignal(bool)
    decision_made = pyqtSignal(str, str)  # photo_id, the flag stored: "pick" | "reject" | "none"
    photo_event = pyqtSignal(str, dict)  # a photo event's type and payload (the library follows)
    reselected = pyqtSignal()  # selection ran again over the library (the settings changed)
    stopping = pyqtSignal()  # the bridge is stopping: views stop their timers (no new work)
    imported = pyqtSignal(dict)
    info = pyqtSignal(str)

    def __init__(self, ctx: BridgeContext, link: BridgeLink, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.link = link
        self.thumbnails = ImageCache(THUMB_EDGE, self._preview_path("small"), self)
        self.previews = ImageCache(PREVIEW_EDGE, self._preview_path("large"), self)
        self.full = ImageCache(FULL_RESOLUTION, None, self, max_cached=MAX_FULL_CACHED, parallel=1)
        self.desk = DeskDecisions(ctx, self)
        self.desk.decided.connect(self._decided)
        self.desk.applying.connect(self._applying)
        self.library = LibraryModel(self._library_page, self.thumbnails, self)
        self.jobs = JobsModel(self)
        self.queue = ApprovalQueueModel(self.thumbnails, self)
        self.sessions = SessionsModel(self)
        self.clients = ClientsModel(self)
        self.devices = DevicesModel(self)
        self.studio = StudioModel(self)
        self.studio_status = ""  # studio mode: what the Clients view says about the studio
        self.activity = ActivityModel(self, words=self._event_words, thumbnails=self.thumbnails)
        self.queue_counts: dict[str, int] = dict.fromkeys(
            ("pending", "processing", "completed", "failed", "total"), 0
        )
        self.approval_count = 0
        self.photo_total = 0
        self.session_counts = {"total": 0, "in_progress": 0}  # every session, not the paged-in
        self.system: dict[str, Any] = {}
        self.paused = False
        self.loaded = False
        self._session_refresh: set[str] = set()
        self._devices_seen: set[str] = set()
        # Events published while `load()` awaits its queries; applied, in order, once the
        # snapshot is in the models (applying them earlier would be wiped by the snapshot).
        self._held: list[PublishedEvent] | None = []
        self._listed_upto = 0  # newest event the loaded Activity list already shows
        self._queue_resync = make_timer(self, RESYNC_MS, single_shot=True)
        self._queue_resync.timeout.connect(self.reload_queue)
        self._sessions_timer = make_timer(self, RESYNC_MS, single_shot=True)
        self._sessions_timer.timeout.connect(self._refresh_sessions)
        link.event_published.connect(self.on_event)
        link.clients_changed.connect(self.refresh_clients)
        link.device_paired.connect(lambda _device: self.reload_devices())

    def _event_words(self, event: PublishedEvent) -> tuple[str, str | None]:
        p = event.payload
        photo_id = p.get("photo_id")
        if not photo_id and p.get("job_id"):
            job = self.jobs.job(str(p["job_id"]))
            photo_id = job.get("photo_id") if job else None
            p = {**p, "photo_id": photo_id, "kind": (job or {}).get("kind")}
        if p.get("file_name") and photo_id:
            self.jobs.photo_names.setdefault(str(photo_id), str(p["file_name"]))
        return describe_event(event.type, p, self._photo_name, self._session_name), photo_id

    def _photo_name(self, photo_id: str | None) -> str:
        return self.jobs.photo_names.get(photo_id or "") or "a photo"

    def _session_name(self, session_id: str | None) -> str:
        row = self.sessions.get(session_id) if session_id else None
        return str(row.get("session_name") or "") if row else ""

    def _preview_path(self, size: str) -> Any:
        async def locate(photo_id: str, original: str) -> str:
            cache = self.ctx.thumbnails
            if cache is None:
                return original
            return str(await cache.path(photo_id, size))

        return locate

    def load_stack(
        self,
        photo: dict[str, Any],
        done: Callable[[dict[str, Any], list[dict[str, Any]]], None],
    ) -> None:
        """Every frame of the photo's burst or scene, best first, then `done(photo, frames)`."""
        query = LibraryQuery(session_id=photo.get("session_id"), group_id=photo.get("group_id"))

        async def frames() -> list[dict[str, Any]]:
            page = await library_page(self.ctx, query, None, STACK_LIMIT)
            return sorted(page.photos, key=lambda p: (p.get("group_rank") or 99, p["photo_id"]))

        run_service(frames(), lambda found: done(photo, found), what="Loading the stack")

    async def _library_page(self, query: LibraryQuery, cursor: str | None, limit: int) -> Page:
        return await library_page(self.ctx, query, cursor, limit)

    # --- loading --------------------------------------------------------------------------

    async def load(self) -> None:
        """Fill every model from the services (called once, after the bridge started).

        Events that arrive during the queries are held and applied after the snapshot, with
        no await in between, so nothing published meanwhile is lost or shown twice.
        """
        try:
            await self._load_snapshot()
        finally:
            self._release_held()

    async def _load_snapshot(self) -> None:
        ctx = self.ctx
        job_rows, more_jobs = await self._job_page(0, PAGE_ROWS)
        queue = await self._queue_page(None, PAGE_PHOTOS)
        self.approval_count = queue.total or 0
        session_rows, more_sessions = await self._session_page(0, PAGE_ROWS)
        self.session_counts = await sessions.session_status_counts(ctx)
        _, self.photo_total = await photos.list_photos(ctx, limit=1)
        devices = await pairing.list_devices(ctx)
        self.system = await asyncio.to_thread(system.snapshot, ctx)
        self.paused = bool(self.system.get("paused"))
        if ctx.queue_status is not None:
            self.queue_counts = dict(ctx.queue_status.latest)
        self.jobs.set_jobs(job_rows)
        self.jobs.set_page_loader(self._job_page, job_rows, more_jobs)
        self.queue.set_page_loader(self._queue_page, queue)
        self.sessions.set_rows(session_rows)
        self.sessions.set_page_loader(self._session_page, session_rows, more_sessions)
        self.devices.set_rows(devices)
        listed = ctx.broker.recent(INITIAL_ACTIVITY)
        self.activity.extend(listed)
        self._listed_upto = listed[-1].seq if listed else 0
        self.refresh_clients()
        self.overview_changed.emit()
        self.paused_changed.emit(self.paused)
        self.library_empty_changed.emit(self.photo_total == 0)

    def _release_held(self) -> None:
        held, self._held = self._held or [], None
        recount = False
        for event in held:
            # The queries may already count these; their ids make re-applying harmless.
            recount = recount or event.type == "photo_imported"
            self._apply(event, in_activity=event.seq <= self._listed_upto)
        if recount:
            run_service(photos.list_photos(self.ctx, limit=1), self._photo_count_loaded)
        self.loaded = True
        self.overview_changed.emit()

    def _photo_count_loaded(self, result: tuple[list[dict[str, Any]], int]) -> None:
        self.photo_total = result[1]
        self.library_empty_changed.emit(self.photo_total == 0)
        self.overview_changed.emit()

    def stop(self) -> None:
        """Stop pending refreshes (the bridge is stopping; no service may be started now)."""
        self._queue_resync.stop()
        self._sessions_timer.stop()
        self.stopping.emit()

    def reload_queue(self) -> None:
        """Read the held part of the approval queue again (after a change the events do not
        describe)."""

        def done(total: int) -> None:
            self.approval_count = total
            self.overview_changed.emit()

        run_service(self.queue.reload(), done, what="Loading queue")

    async def _queue_page(self, cursor: str | None, limit: int) -> LibraryPage:
        # Only the first page is counted (the total is shown; later pages need no count).
        return await approvals.approval_queue_page(
            self.ctx, None, limit, cursor=cursor, count=cursor is None
        )

    def reload_devices(self) -> None:
        """Fetch paired devices again."""
        run_service(pairing.list_devices(self.ctx), self.devices.set_rows, what="Loading devices")

    def refresh_clients(self) -> None:
        """Re-read the connected clients (cheap: in memory)."""
        rows = [client.info() for client in self.ctx.clients.all()]
        names = {d["device_id"]: d["device_name"] for d in self.devices.rows()}
        devices = {r["device_id"] for r in rows if r.get("device_id")}
        if devices - self._devices_seen:
            self.reload_devices()  # a phone connected: its "last seen" moved
        self._devices_seen = devices
        for row in rows:
            if row.get("device_id") in names:
                row["device_name"] = names[row["device_id"]]
        self.clients.sync(rows)
        self.overview_changed.emit()

    def refresh_studio(self) -> None:
        """Studio mode: re-read the studio's bridges and workers (a no-op otherwise)."""
        backplane = self.ctx.backplane
        if backplane is None:
            return

        def show(members: list[dict[str, Any]]) -> None:
            self.studio.sync(members)
            self.studio_status = studio_summary(members, backplane.status())
            self.overview_changed.emit()

        def unreachable(exc: BaseException) -> None:
            self.studio_status = studio_summary([], {"ok": False, "error": str(exc)})
            self.overview_changed.emit()

        run_service(list_members(self.ctx), show, unreachable, what="")

    # --- events ---------------------------------------------------------------------------

    def on_event(self, event: PublishedEvent) -> None:
        """Route one broker event to the models it changes (held while loading)."""
        if self._held is not None:
            self._held.append(event)
            return
        self._apply(event)

    def _apply(self, event: PublishedEvent, *, in_activity: bool = False) -> None:
        if not in_activity:
            self.activity.add(event)
        kind, p = event.type, event.payload
        if kind in PHOTO_EVENTS and self.loaded:
            self.photo_event.emit(kind, p)
        if kind in JOB_EVENTS:
            job = self.jobs.job(str(p.get("job_id"))) if kind == "job_completed" else None
            self.jobs.apply_event(event)
            if job is not None and job.get("kind") == "reselect":
                self.reload_queue()  # proposals changed for many photos at once
                self.reselected.emit()
            if kind == "job_created" and p.get("photo_id") not in self.jobs.photo_names:
                self._learn_photo_name(p.get("photo_id"))
        elif kind == "queue_status":
            self.queue_counts = {k: int(p.get(k, 0)) for k in self.queue_counts}
            self.overview_changed.emit()
        elif kind == "photo_imported":
            self.jobs.set_photo_name(p["photo_id"], p.get("file_name", ""))
            if self.loaded:
                self.photo_total += 1
                if self.photo_total == 1:
                    self.library_empty_changed.emit(False)
        elif kind == "photo_selected":
            # One queue query per burst of arrivals, not one per photo.
            if not self._queue_resync.isActive():
                self._queue_resync.start()
            if self.jobs.has_active_job(p["photo_id"], "export"):
                self._refresh_photo_jobs(p["photo_id"])  # an undo cancelled its export
        elif kind in ("photo_approved", "photo_rejected"):
            self.queue.remove(p["photo_id"])
            if kind == "photo_rejected" and self.jobs.has_active_job(p["photo_id"], "export"):
                self._refresh_photo_jobs(p["photo_id"])
        elif kind == "approval_queue_updated":
            self.approval_count = int(p.get("queue_count", 0))
            if self.approval_count != self.queue.rowCount() and not self._queue_resync.isActive():
                self._queue_resync.start()  # settles after a burst; cheap when it matches
            if p.get("session_id"):
                # The session's "Waiting" is the same count: re-read it (regrouping moves it
                # without any session event).
                self._session_refresh.add(p["session_id"])
                if not self._sessions_timer.isActive():
                    self._sessions_timer.start()
            self.overview_changed.emit()
        elif kind == "session_deleted":
            self.sessions.remove(p["session_id"])
            if not self._sessions_timer.isActive():
                self._sessions_timer.start()  # the overview's session counts
            self.reload_queue()
            run_service(photos.list_photos(self.ctx, limit=1), self._photo_count_loaded)
            if self.library.query.session_id in (p["session_id"], None):
                self.library.reload()
        elif kind in ("session_created", "session_updated", "session_completed"):
            if kind == "session_created":
                self.sessions.upsert(
                    {
                        "session_id": p["session_id"],
                        "session_name": p.get("session_name"),
                        "import_folder": p.get("import_folder"),
                        "status": "active",
                        "created_at": event.timestamp,
                    },
                    at_top=True,
                )
            self._session_refresh.add(p["session_id"])
            if not self._sessions_timer.isActive():
                self._sessions_timer.start()
            self.overview_changed.emit()
        elif kind == "system_status":
            details = p.get("details") or {}
            if "cpu_percent" in details:
                self.system.update(details)
            if "paused" in details and bool(details["paused"]) != self.paused:
                self.paused = bool(details["paused"])
                self.paused_changed.emit(self.paused)
            self.overview_changed.emit()

    async def _job_page(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """A page of jobs, most urgent first, with its photos' names learned."""
        rows, more = await jobs.jobs_page(self.ctx, limit, offset)
        wanted = {j["photo_id"] for j in rows if j.get("photo_id")} - self.jobs.photo_names.keys()
        self.jobs.photo_names.update(await photos.photo_names(self.ctx, sorted(wanted)))
        return rows, more

    async def _session_page(self, offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """A page of sessions, newest first, with their counts."""
        return await sessions.sessions_page(self.ctx, limit, offset)

    def _learn_photo_name(self, photo_id: str | None) -> None:
        if photo_id:
            run_service(
                photos.get_photo(self.ctx, photo_id),
                lambda p: self.jobs.set_photo_name(p["photo_id"], p["file_name"]),
            )

    def _refresh_photo_jobs(self, photo_id: str) -> None:
        # A changed decision cancels pending exports without a per-job event; re-read them.
        def done(result: tuple[list[dict[str, Any]], int]) -> None:
            for job in result[0]:
                self.jobs.upsert(job)

        run_service(jobs.list_jobs(self.ctx, photo_id=photo_id), done)

    def _refresh_sessions(self) -> None:
        ids, self._session_refresh = self._session_refresh, set()
        for session_id in ids:
            run_service(sessions.get_session(self.ctx, session_id), self._session_loaded)
        run_service(sessions.session_status_counts(self.ctx), self._session_counts_loaded)

    def _session_counts_loaded(self, counts: dict[str, int]) -> None:
        self.session_counts = counts
        self.overview_changed.emit()

    def _session_loaded(self, session: dict[str, Any]) -> None:
        self.sessions.upsert(session)
        self.overview_changed.emit()

    # --- actions --------------------------------------------------------------------------

    def approve(self, photo_ids: list[str]) -> None:
        """Pick photos (one undo step; the queue updates when photo_approved arrives)."""
        self.desk.decide(self._photos_for(photo_ids), {"flag": "pick"})

    def reject(self, photo_ids: list[str]) -> None:
        """Reject photos (one undo step)."""
        self.desk.decide(self._photos_for(photo_ids), {"flag": "reject"})

    def _photos_for(self, photo_ids: list[str]) -> list[dict[str, Any]]:
        # The decision before the change comes from what the window shows.
        found = []
        for photo_id in photo_ids:
            row = self.queue.row_of(photo_id)
            photo = self.library.photo(photo_id)
            if photo is None and row is not None:
                photo = self.queue.index(row).data(Qt.ItemDataRole.UserRole + 1)
            found.append(photo or {"photo_id": photo_id, "approval": "pending"})
        return found

    def _applying(self, photo_id: str, change: dict[str, Any]) -> None:
        photo = self.library.photo(photo_id)
        if photo is not None:
            self.library.update_photo(with_change(photo, change))

    def _decided(self, photo_id: str, photo: dict[str, Any]) -> None:
        self.library.update_photo(photo)
        flag = photo.get("flag") or {"approved": "pick", "rejected": "reject"}.get(
            str(photo.get("approval")), "none"
        )
        self.decision_made.emit(photo_id, flag)

    def undo_last(self) -> bool:
        """Undo the newest decision made in this window; False when there is none."""
        if not self.desk.stack.canUndo():
            return False
        self.desk.stack.undo()
        return True

    def rename_session(self, session_id: str, name: str) -> None:
        """Give a session another name (every view follows session_updated)."""
        run_service(
            sessions.update_session(self.ctx, session_id, name=name),
            self._session_loaded,
            what="Renaming the session",
        )

    def delete_session(self, session_id: str) -> None:
        """Forget a session and its photos' rows; no file is touched."""

        def done(result: dict[str, Any]) -> None:
            self.sessions.remove(session_id)
            name = result.get("session_name") or "The session"
            self.report_info(f"{name} deleted; its photos and exports are still on disk")

        run_service(
            sessions.delete_session(self.ctx, session_id), done, what="Deleting the session"
        )

    def cancel_job(self, job_id: str) -> None:
        """Cancel a waiting or running job."""
        run_service(jobs.cancel_job(self.ctx, job_id), self.jobs.upsert, what="Cancel")

    def retry_job(self, job_id: str) -> None:
        """Run a failed or cancelled job again."""
        run_service(jobs.retry_job(self.ctx, job_id), self.jobs.upsert, what="Retry")

    def set_priority(self, job_id: str, priority: int) -> None:
        """Re-prioritise a job."""
        run_service(
            jobs.set_job_priority(self.ctx, job_id, priority), self.jobs.upsert, what="Priority"
        )

    def set_paused(self, paused: bool) -> None:
        """Pause or resume processing."""

        async def change() -> dict[str, Any]:
            return jobs.set_processing_paused(self.ctx, paused)

        def done(result: dict[str, Any]) -> None:
            self.paused = bool(result["paused"])
            self.paused_changed.emit(self.paused)

        run_service(change(), done, what="Pause" if paused else "Resume")

    def disconnect_client(self, client_id: str) -> bool:
        """Close a client's connection with 4009 (disconnected by the operator)."""
        client = self.ctx.clients.get(client_id)
        if client is None:
            return False
        client.close_soon(CLOSE_BY_OPERATOR, "Disconnected by the operator")
        return True

    def revoke_device(self, device_id: str) -> None:
        """Forget a paired device and close its connections."""
        run_service(
            pairing.revoke_device(self.ctx, device_id),
            lambda d: self.devices.remove(d["device_id"]),
            what="Revoke",
        )

    def import_paths(self, paths: list[str], session_name: str | None) -> asyncio.Task[Any]:
        """Import files or folders into a new session."""
        return run_service(
            importing.import_paths(self.ctx, paths, session_name), self.imported.emit, what="Import"
        )

    def report_info(self, message: str) -> None:
        """A passing notice in the window (not an error)."""
        self.info.emit(message)
