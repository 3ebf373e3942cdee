"""Settings: one JSON file in the data directory, with embedded defaults for everything."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

import platformdirs

APP_NAME: Final = "AutoDevBridge"
SETTINGS_FILE: Final = "settings.json"
DEFAULT_PORT: Final = 5100

# Settings whose change only takes effect after the server restarts.
RESTART_REQUIRED: Final = frozenset(
    {"host", "port", "allow_remote", "database_url", "redis_url", "studio_key", "path_map"}
)

IMPORT_MODES: Final = ("reference", "copy", "move")


def default_export_presets() -> list[dict[str, Any]]:
    """The presets a new library starts with."""
    base = {
        "format": "jpeg",
        "convert_to_srgb": True,
        "watermark": None,
        "copy_exif": True,
        "filename_template": "{date}_{original}",
        "destination": "",  # empty: <export_dir>/<preset name>
    }
    return [
        {**base, "name": "SNS 2048 px q85", "long_edge": 2048, "quality": 85, "sharpen": 0.6},
        {
            **base,
            "name": "Web portfolio 3000 px q90",
            "long_edge": 3000,
            "quality": 90,
            "sharpen": 0.4,
        },
        {**base, "name": "Print 4096 px q95", "long_edge": 4096, "quality": 95, "sharpen": 0.2},
        {**base, "name": "Archive", "long_edge": None, "quality": 97, "sharpen": 0.0},
    ]


def default_preset_mapping() -> dict[str, str]:
    """Which export preset a keeper gets, by its context tag."""
    return {
        "portrait": "Web portfolio 3000 px q90",
        "group": "SNS 2048 px q85",
        "low light": "SNS 2048 px q85",
        "landscape": "Print 4096 px q95",
        "general": "SNS 2048 px q85",
    }


@dataclass
class Settings:
    """Everything the user can configure; defaults make a working app with no file at all."""

    data_dir: str = ""
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    allow_remote: bool = True
    require_token_on_loopback: bool = False
    allowed_origins: list[str] = field(default_factory=list)
    extra_host_names: list[str] = field(default_factory=list)
    # Reverse proxies (addresses or networks) whose Forwarded / X-Forwarded-For header is believed.
    trusted_proxies: list[str] = field(default_factory=list)
    hot_folders: list[str] = field(default_factory=list)
    # Folders below which `POST /api/import` may read, besides the hot folders.
    import_roots: list[str] = field(default_factory=list)
    import_mode: str = "reference"
    library_dir: str = ""
    export_dir: str = ""
    selection_threshold: float = 3.0
    # Whose decisions the learned culling profile learns from (one profile per photographer).
    photographer: str = "default"
    # Seconds of quiet after a decision before the profile retrains (a burst of decisions: once).
    profile_retrain_seconds: float = 5.0
    burst_gap_seconds: float = 2.0
    burst_hash_distance: int = 12
    export_presets: list[dict[str, Any]] = field(default_factory=default_export_presets)
    preset_mapping: dict[str, str] = field(default_factory=default_preset_mapping)
    write_raw_sidecars: bool = True
    # An .xmp sidecar beside JPEG originals too (a RAW+JPEG pair shares one, as Lightroom's does).
    write_jpeg_sidecars: bool = False
    notifications_muted: bool = False
    theme: str = "dark"
    studio_name: str = ""  # shown to proofing guests ("Anna & Ben, by <studio>")
    start_at_login: bool = False  # the desktop writes or removes the XDG autostart entry
    event_history_size: int = 50_000
    # A resume further behind than this many events answers `recovered: false` at once.
    ws_recovery_limit: int = 1_000
    # Seconds a WebSocket may stay open without registering (closed with 4002).
    ws_register_timeout: float = 10.0
    # Seconds a client may stay above the pending-frame peak before it is closed with 4008.
    ws_pending_peak_seconds: float = 5.0
    # Seconds a WebSocket frame may wait for others to be written with it (0: at once, unless
    # the last round of writes was busy; at most 0.1): less CPU per frame with many clients,
    # that much more latency (web/fanout.py).
    ws_write_delay: float = 0.0
    workers: int = 0  # 0: one per core
    disk_warning_mb: int = 2_048
    memory_warning_percent: float = 90.0
    # Studio mode (docs/operations.md): empty keeps the embedded SQLite file and in-process
    # broker. `database_url` is a PostgreSQL URL shared by every bridge and worker of a studio;
    # `redis_url` the Redis whose stream carries their events.
    database_url: str = ""
    redis_url: str = ""
    # The prefix of this studio's Redis keys: two studios (or two tests) on one Redis never mix.
    studio_key: str = "autodev"
    # "FROM=TO" pairs: an original recorded as FROM/… is read here as TO/… (a NAS elsewhere).
    path_map: list[str] = field(default_factory=list)
    # Whether this bridge runs jobs itself; a studio desk may leave them to its workers.
    local_jobs: bool = True
    # Seconds a studio worker owns a running job without renewing its lease.
    job_lease_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.data_dir:
            self.data_dir = platformdirs.user_data_dir(APP_NAME, appauthor=False)
        if not self.library_dir:
            self.library_dir = str(Path(self.data_dir) / "library")
        if not self.export_dir:
            self.export_dir = str(Path(self.data_dir) / "exports")

    @property
    def database_path(self) -> Path:
        """The SQLite file."""
        return Path(self.data_dir) / "bridge.sqlite3"

    @property
    def studio(self) -> bool:
        """Whether this bridge shares its store and events with other machines."""
        return bool(self.database_url)

    @property
    def cache_dir(self) -> Path:
        """Thumbnails and other regenerable files."""
        return Path(self.data_dir) / "cache"

    @property
    def worker_count(self) -> int:
        """Processes in the pixel pool: the configured count, or one per core."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)

    def preset(self, name: str) -> dict[str, Any] | None:
        """The export preset called `name`, if any."""
        return next((p for p in self.export_presets if p.get("name") == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


def load_settings(data_dir: str | None = None, **overrides: Any) -> Settings:
    """Read the settings file in `data_dir` (or the default one) and apply overrides."""
    data_dir = data_dir or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    path = Path(data_dir) / SETTINGS_FILE
    values: dict[str, Any] = {}
    if path.exists():
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"Cannot read settings file {path}: {exc}") from exc
        if not isinstance(values, dict):
            raise SettingsError(f"Settings file {path} must hold a JSON object")
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in values.items() if k in known}
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["data_dir"] = data_dir
    return Settings(**values)


def save_settings(settings: Settings) -> Path:
    """Write the settings file atomically (temporary file, then rename)."""
    directory = Path(settings.data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SETTINGS_FILE
    data = settings.to_dict()
    data.pop("data_dir", None)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class SettingsError(Exception):
    """The settings file exists but cannot be used."""
