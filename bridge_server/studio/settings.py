"""Which combinations of the studio settings make sense, checked before anything starts."""

from __future__ import annotations

from ..config import Settings, SettingsError
from .pathmap import PathMapError, parse_path_map


class StudioUnavailable(Exception):
    """PostgreSQL or Redis cannot be reached (the message says which and where)."""


def check_studio_settings(settings: Settings) -> None:
    """Raise SettingsError for a half-configured studio or an unusable path map."""
    url = settings.database_url
    if url and not url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        raise SettingsError(f"database_url must be a PostgreSQL URL (postgresql://…), not {url!r}")
    if bool(settings.database_url) != bool(settings.redis_url):
        raise SettingsError(
            "Studio mode needs both database_url (PostgreSQL) and redis_url (Redis); "
            "leave both empty for the embedded library"
        )
    if settings.redis_url and not settings.redis_url.startswith(("redis://", "rediss://")):
        raise SettingsError(f"redis_url must start with redis://, not {settings.redis_url!r}")
    try:
        parse_path_map(settings.path_map)
    except PathMapError as exc:
        raise SettingsError(str(exc)) from exc
