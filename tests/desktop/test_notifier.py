"""Notifications: bursts are coalesced into one notice; muting silences them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.notifier import Notice, Notifier
from tests.desktop.conftest import Desk, import_and_settle


@dataclass
class FakeClock:
    """A schedule() that runs callbacks only when the test advances time."""

    now: float = 0.0
    timers: list[tuple[float, Callable[[], None], Handle]] = field(default_factory=list)

    def schedule(self, delay: float, callback: Callable[[], None]) -> Handle:
        handle = Handle()
        self.timers.append((self.now + delay, callback, handle))
        return handle

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _when, callback, handle in due:
            if not handle.cancelled:
                callback()


@dataclass
class Handle:
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


def _notifier(muted: bool = False) -> tuple[Notifier, FakeClock, list[Notice]]:
    clock, shown = FakeClock(), []
    notifier = Notifier(shown.append, clock.schedule, is_muted=lambda: muted, window=3.0)
    return notifier, clock, shown


def test_a_burst_of_arrivals_is_one_notice() -> None:
    notifier, clock, shown = _notifier()
    for i in range(5):
        notifier.on_event("photo_selected", {"photo_id": f"p_{i}"})
        clock.advance(0.4)
    notifier.on_event("approval_queue_updated", {"queue_count": 7})
    assert shown == []
    clock.advance(3.0)
    assert len(shown) == 1
    assert shown[0].kind == "approval"
    assert shown[0].message == "5 new photos; 7 waiting in total"
    # A later arrival is a new notice; a photo back after an undo is not news.
    notifier.on_event("photo_selected", {"photo_id": "p_0"})
    notifier.on_event("photo_selected", {"photo_id": "p_new"})
    clock.advance(3.0)
    assert [n.message for n in shown[1:]] == ["1 new photo; 7 waiting in total"]


def test_failures_are_coalesced_and_cancellations_ignored() -> None:
    notifier, clock, shown = _notifier()
    notifier.on_event("job_failed", {"error_message": "a", "error_details": {"cancelled": True}})
    notifier.on_event("job_failed", {"error_message": "b", "error_details": {"will_retry": True}})
    clock.advance(5)
    assert shown == []
    notifier.on_event("job_failed", {"error_message": "disk full", "error_details": {}})
    notifier.on_event("job_failed", {"error_message": "corrupt file", "error_details": {}})
    clock.advance(3)
    assert [(n.kind, n.title, n.message) for n in shown] == [
        ("failure", "2 jobs failed", "Last: corrupt file")
    ]


def test_immediate_notices_and_muting() -> None:
    notifier, _clock, shown = _notifier()
    notifier.on_event(
        "session_completed",
        {
            "session_name": "Wedding",
            "approved_photos": 1,
            "total_photos": 3,
            "approval_rate": 33.33,
        },
    )
    notifier.on_event("resource_warning", {"message": "Only 1.2 GiB free"})
    notifier.device_paired({"device_name": "Pixel 8"})
    assert [n.kind for n in shown] == ["session", "warning", "paired"]
    assert shown[0].message == "Wedding: 1 of 3 approved (33%)"

    muted, clock, quiet = _notifier(muted=True)
    muted.on_event("photo_selected", {"photo_id": "p"})
    muted.device_paired({"device_name": "Pixel 8"})
    clock.advance(5)
    assert quiet == []


def test_window_without_tray_shows_one_live_toast_for_an_import(desk: Desk) -> None:
    # Arrivals are coalesced in 3 s windows; on a loaded machine analysis spans several, so
    # the old test saw two notices, or a banner whose "waiting" lagged the sidebar. Now every
    # window's notice lands in one toast, and its "waiting" is the sidebar's own count.
    async def scenario() -> None:
        await import_and_settle(desk)
        desk.app.notifier.flush()
        toasts = desk.window.banners
        waiting = desk.models.approval_count
        expected = f"Photos to approve: {waiting} photos wait for a decision"
        await desk.until(
            lambda: (
                [b.text for b in toasts.banners() if b.text.startswith("Photos to approve")]
                == [expected]
            ),
            what="one toast whose count agrees with the sidebar",
        )
        assert f"Approvals  ({waiting})" in [
            desk.window.nav.item(i).text() for i in range(desk.window.nav.count())
        ]

    desk.run(scenario(), timeout=120)


def test_muted_setting_silences_the_window(desk: Desk) -> None:
    async def scenario() -> None:
        desk.app.settings.notifications_muted = True
        desk.app.notifier.device_paired({"device_name": "Pixel 8"})
        assert desk.app.notices == []

    desk.run(scenario())
