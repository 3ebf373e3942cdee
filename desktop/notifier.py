"""What deserves the photographer's attention, as notices; arrivals are coalesced.

Qt-free: it is told about events and calls `show(notice)`; timers come from a `schedule`
callable (the asyncio loop's `call_later` in the app, a fake clock in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

COALESCE_SECONDS: Final = 3.0


class Cancellable(Protocol):
    """A scheduled call that can be cancelled (asyncio.TimerHandle fits)."""

    def cancel(self) -> None:
        """Do not call it after all."""


Schedule = Callable[[float, Callable[[], None]], Cancellable]


@dataclass(frozen=True)
class Notice:
    """One notification: its kind (approval, session, failure, warning, paired) and text."""

    kind: str
    title: str
    message: str
    count: int = 0  # how many things it is about (new photos for an approval notice)


class Notifier:
    """Turns broker events into notices; bursts of arrivals or failures become one notice."""

    def __init__(
        self,
        show: Callable[[Notice], None],
        schedule: Schedule,
        *,
        is_muted: Callable[[], bool] = lambda: False,
        window: float = COALESCE_SECONDS,
    ) -> None:
        self._show = show
        self._schedule = schedule
        self._is_muted = is_muted
        self._window = window
        self._seen_in_queue: set[str] = set()
        self._arrivals = 0
        self._failures: list[str] = []
        self._queue_count: int | None = None
        self._timers: dict[str, Cancellable] = {}

    # --- input ----------------------------------------------------------------------------

    def on_event(self, event_type: str, payload: Mapping[str, Any]) -> None:
        """Consider one published event."""
        if event_type == "photo_selected":
            photo_id = str(payload.get("photo_id", ""))
            if photo_id in self._seen_in_queue:
                return  # back in the queue after an undo: the photographer knows
            self._seen_in_queue.add(photo_id)
            self._arrivals += 1
            self._later("approval", self._flush_arrivals)
        elif event_type == "approval_queue_updated":
            self._queue_count = int(payload.get("queue_count", 0))
        elif event_type == "job_failed":
            details = payload.get("error_details") or {}
            if details.get("cancelled") or details.get("will_retry"):
                return
            self._failures.append(str(payload.get("error_message") or "unknown error"))
            self._later("failure", self._flush_failures)
        elif event_type == "session_completed":
            name = payload.get("session_name") or "A session"
            approved, total = payload.get("approved_photos", 0), payload.get("total_photos", 0)
            message = f"{name}: {approved} of {total} approved"
            rate = payload.get("approval_rate")  # a percentage, 0-100
            if isinstance(rate, (int, float)) and not isinstance(rate, bool):
                message += f" ({rate:.0f}%)"
            self._emit(Notice("session", "Session complete", message))
        elif event_type == "resource_warning":
            self._emit(Notice("warning", "Resource warning", str(payload.get("message", ""))))

    def device_paired(self, device: Mapping[str, Any]) -> None:
        """A phone completed pairing."""
        name = device.get("device_name") or "A device"
        self._emit(Notice("paired", "Phone paired", f"{name} can now approve photos"))

    def flush(self) -> None:
        """Show what is being coalesced now (used on quit and by tests)."""
        for key in list(self._timers):
            self._timers.pop(key).cancel()
        self._flush_arrivals()
        self._flush_failures()

    def close(self) -> None:
        """Drop pending notices."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # --- coalescing -----------------------------------------------------------------------

    def _later(self, key: str, flush: Callable[[], None]) -> None:
        if key not in self._timers:

            def fire() -> None:
                self._timers.pop(key, None)
                flush()

            self._timers[key] = self._schedule(self._window, fire)

    def _flush_arrivals(self) -> None:
        count, self._arrivals = self._arrivals, 0
        if count == 0:
            return
        waiting = self._queue_count if self._queue_count is not None else count
        new = "1 new photo" if count == 1 else f"{count} new photos"
        self._emit(
            Notice("approval", "Photos to approve", f"{new}; {waiting} waiting in total", count)
        )

    def _flush_failures(self) -> None:
        failures, self._failures = self._failures, []
        if not failures:
            return
        if len(failures) == 1:
            self._emit(Notice("failure", "A job failed", failures[0]))
        else:
            self._emit(Notice("failure", f"{len(failures)} jobs failed", f"Last: {failures[-1]}"))

    def _emit(self, notice: Notice) -> None:
        if not self._is_muted():
            self._show(notice)
