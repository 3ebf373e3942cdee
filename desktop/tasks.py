"""The one way the GUI starts background work: `run_service(coro, on_success, on_error)`.

Service functions are coroutines; the GUI never awaits them in a slot. `run_service` schedules
one as a task on the running (qasync) loop and routes its result to `on_success`, and any
exception to `on_error` or, by default, to the error reporter (log + visible banner). Nothing
fails silently.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from PyQt6.QtCore import QObject, pyqtSignal

from bridge_server.services.errors import ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")

_tasks: set[asyncio.Task[Any]] = set()


class ErrorReporter(QObject):
    """Collects errors from tasks, slots and the loop, and re-emits them for the banner."""

    error_reported = pyqtSignal(str)

    def report(self, message: str, exc: BaseException | None = None) -> None:
        """Log an error (with traceback when there is one) and show it."""
        if exc is not None and not isinstance(exc, ServiceError):
            log.error("%s", message, exc_info=(type(exc), exc, exc.__traceback__))
        else:
            log.warning("%s", message)
        self.error_reported.emit(message)


reporter = ErrorReporter()


def describe(exc: BaseException) -> str:
    """A user-facing one-liner for an exception."""
    if isinstance(exc, ServiceError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def run_service(
    coro: Coroutine[Any, Any, T],
    on_success: Callable[[T], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    *,
    what: str = "",
) -> asyncio.Task[T]:
    """Run a service coroutine in the background; report its outcome, never drop an error."""
    loop = asyncio.get_event_loop()
    task = loop.create_task(coro)
    _tasks.add(task)  # keep a strong reference until done

    def done(t: asyncio.Task[T]) -> None:
        _tasks.discard(t)
        if t.cancelled():
            return
        exc = t.exception()
        if exc is not None:
            if on_error is not None:
                try:
                    on_error(exc)
                except Exception as handler_exc:
                    reporter.report(f"Error handler failed: {describe(handler_exc)}", handler_exc)
            else:
                prefix = f"{what} failed: " if what else ""
                reporter.report(prefix + describe(exc), exc)
            return
        if on_success is not None:
            try:
                on_success(t.result())
            except Exception as cb_exc:
                reporter.report(f"Updating the window failed: {describe(cb_exc)}", cb_exc)

    task.add_done_callback(done)
    return task


def pending_tasks() -> list[asyncio.Task[Any]]:
    """Tasks started by run_service that have not finished."""
    return [t for t in _tasks if not t.done()]


def install_exception_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Route exceptions in slots (sys.excepthook) and in loop callbacks to the reporter."""

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        exc.__traceback__ = tb
        reporter.report(f"Unexpected error: {describe(exc)}", exc)

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message") or "Error in the event loop")
        if exc is None:
            log.error("%s", message)
            return
        reporter.report(f"{message}: {describe(exc)}", exc)

    sys.excepthook = excepthook
    loop.set_exception_handler(loop_handler)
