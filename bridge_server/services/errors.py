"""Errors a caller can cause, each with a protocol code and an HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a code and a message meant for the user."""

    code = "invalid_arguments"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArguments(ServiceError):
    """Arguments of the wrong type, range or shape."""


class NotFound(ServiceError):
    """An id that names nothing."""

    code = "not_found"
    status = 404


class Conflict(ServiceError):
    """The operation does not fit the current state."""

    code = "conflict"
    status = 409


class Unauthorized(ServiceError):
    """Missing or bad credentials."""

    code = "unauthorized"
    status = 401


class StoreUnavailable(ServiceError):
    """The database cannot be reached (studio mode: the shared PostgreSQL is down)."""

    code = "store_unavailable"
    status = 503


def store_unavailable(exc: BaseException) -> StoreUnavailable | None:
    """The refusal for a failure to reach the database, or None for any other failure."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(exc, (OSError, InterfaceError, OperationalError)):
        return StoreUnavailable(
            "The library database cannot be reached; nothing was changed. Try again shortly."
        )
    return None


class Forbidden(ServiceError):
    """Credentials fine, operation not allowed for this caller."""

    code = "forbidden"
    status = 403
