"""Qt timers built the one way the type stubs understand."""

from __future__ import annotations

from PyQt6.QtCore import QObject, QTimer


def make_timer(parent: QObject | None, interval_ms: int, *, single_shot: bool = False) -> QTimer:
    """A stopped timer with its interval and single-shot flag set."""
    timer = QTimer(parent)
    timer.setInterval(interval_ms)
    timer.setSingleShot(single_shot)
    return timer
