"""Path maps: an original recorded as `/Volumes/NAS/…` on one machine is `/mnt/nas/…` here."""

from __future__ import annotations

from collections.abc import Iterable


class PathMapError(ValueError):
    """A path-map entry that is not `FROM=TO` with two absolute folders."""


def parse_path_map(entries: Iterable[str]) -> list[tuple[str, str]]:
    """`FROM=TO` pairs, longest FROM first (the most specific mapping wins)."""
    pairs: list[tuple[str, str]] = []
    for entry in entries:
        source, sep, target = str(entry).partition("=")
        source, target = source.rstrip("/"), target.rstrip("/")
        if not sep or not source.startswith("/") or not target.startswith("/"):
            raise PathMapError(f"path map {entry!r} must be FROM=TO with two absolute folders")
        pairs.append((source, target))
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def map_path(pairs: list[tuple[str, str]], path: str) -> str:
    """`path` as this machine sees it (unchanged when no mapping applies)."""
    for source, target in pairs:
        if path == source or path.startswith(source + "/"):
            return target + path[len(source) :]
    return path
