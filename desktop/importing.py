"""Importing photos by hand: the one call into the pipeline's importer."""

from __future__ import annotations

from typing import Any

from bridge_server.context import BridgeContext
from bridge_server.services.errors import Conflict


async def import_paths(
    ctx: BridgeContext, paths: list[str], session_name: str | None
) -> dict[str, Any]:
    """Import files or folders into a session (bridge_server.pipeline.importer.import_paths)."""
    try:
        from bridge_server.pipeline.importer import import_paths as pipeline_import
    except ImportError as exc:
        raise Conflict(
            "Importing is not available: bridge_server.pipeline.importer is missing"
        ) from exc
    return await pipeline_import(ctx, paths, session_name)
