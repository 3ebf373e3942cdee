"""The overview lists the newest sessions only: a new shoot shows at the top, the oldest of the
few drops out, and older sessions paged in for the Sessions page never reach it."""

from __future__ import annotations

from PyQt6.QtCore import QModelIndex
from PyQt6.QtWidgets import QApplication

from desktop.models.sessions import RECENT_SESSIONS, RecentSessionsProxy, SessionsModel
from desktop.models.table import KeyRole


def _session(n: int) -> dict[str, object]:
    return {"session_id": f"s_{n:03d}", "session_name": f"Shoot {n}", "created_at": f"2026-{n:03d}"}


async def _no_loader(offset: int, limit: int) -> tuple[list[dict[str, object]], bool]:
    raise AssertionError("the overview paged older sessions in")


def _shown(proxy: RecentSessionsProxy) -> list[str]:
    return [proxy.index(r, 0).data(KeyRole) for r in range(proxy.rowCount())]


def test_the_overview_keeps_the_newest_sessions_as_shoots_come_and_go(qapp: QApplication) -> None:
    sessions = SessionsModel()
    proxy = RecentSessionsProxy(sessions)
    first_page = [_session(n) for n in range(20, 8, -1)]  # newest first, as the service pages
    sessions.set_rows(first_page)
    newest = [f"s_{n:03d}" for n in range(20, 20 - RECENT_SESSIONS, -1)]
    assert _shown(proxy) == newest
    # Its view never pages older sessions in: they would not show there.
    sessions.set_page_loader(_no_loader, first_page, True)
    assert sessions.canFetchMore(QModelIndex()) and not proxy.canFetchMore(QModelIndex())

    sessions.add_page([_session(n) for n in range(8, 0, -1)])  # older ones, for the Sessions page
    assert sessions.rowCount() == 20 and _shown(proxy) == newest

    sessions.upsert(_session(21), at_top=True)  # a new shoot
    assert _shown(proxy) == ["s_021", *newest[:-1]]

    sessions.remove("s_021")  # deleted: the one that dropped out comes back
    assert _shown(proxy) == newest

    sessions.upsert({**_session(18), "session_name": "Wedding"})  # renamed in place
    assert proxy.index(2, 0).data() == "Wedding" and _shown(proxy) == newest
