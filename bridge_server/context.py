"""The running bridge's shared parts, handed to every service function."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .broker import EventBroker
from .clients import ClientRegistry
from .config import Settings
from .store.db import Database
from .studio.pathmap import map_path, parse_path_map

if TYPE_CHECKING:
    from .pipeline.coalesce import KeyedCoalescer
    from .pipeline.pool import PixelPool
    from .pipeline.thumbnails import ThumbnailCache
    from .services.pairing import PairingCodes
    from .services.profiles import Rescorer
    from .services.queue_status import QueueStatusPublisher
    from .services.system import SystemMonitor
    from .studio.backplane import RedisBackplane


class JobRunner(Protocol):
    """What services need from the job scheduler."""

    @property
    def paused(self) -> bool:
        """Whether processing is paused."""

    def wake(self) -> None:
        """New or changed runnable jobs exist."""

    def cancel_running(self, job_id: str) -> bool:
        """Stop a running job at its next safe point; False if it is not running here."""

    def set_paused(self, paused: bool) -> None:
        """Pause or resume starting jobs."""


@dataclass
class BridgeContext:
    """Settings, store, broker, clients and scheduler of one running bridge."""

    settings: Settings
    db: Database
    broker: EventBroker
    clients: ClientRegistry = field(default_factory=ClientRegistry)
    pairing: PairingCodes | None = None
    runner: JobRunner | None = None
    queue_status: QueueStatusPublisher | None = None
    system: SystemMonitor | None = None
    pool: PixelPool | None = None
    thumbnails: ThumbnailCache | None = None
    rescorer: Rescorer | None = None  # recomputes scores when the learned profile changes
    metadata: KeyedCoalescer | None = None  # writes decisions into sidecars and exports' XMP
    # Studio mode: the shared event stream, and the name jobs record as their worker.
    backplane: RedisBackplane | None = None
    instance_name: str = field(default_factory=lambda: f"{socket.gethostname()}/{os.getpid()}")
    path_map: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path_map = parse_path_map(self.settings.path_map)

    def local_path(self, path: str) -> str:
        """Where an original recorded as `path` is found on this machine (the path map)."""
        return map_path(self.path_map, path)
