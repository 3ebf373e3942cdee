"""`autodev-bridge-server` and `python -m bridge_server`: the bridge without a window."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from .config import Settings, SettingsError, load_settings
from .instance import AlreadyRunning, InstanceLock
from .long_lived import settle_long_lived
from .studio.settings import StudioUnavailable

if TYPE_CHECKING:
    from .app import BridgeServer

log = logging.getLogger("autodev")


def server_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options every way of starting the bridge shares."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port (default 5100; 0 picks a free one)")
    parser.add_argument("--data-dir", help="keep database, settings and caches in this folder")
    parser.add_argument("--log-level", default="INFO")
    add_studio_options(parser)
    parser.add_argument(
        "--no-local-jobs",
        dest="local_jobs",
        action="store_const",
        const=False,
        help="studio mode: leave analysis and export to the studio's workers",
    )
    return parser


def add_studio_options(parser: argparse.ArgumentParser) -> None:
    """The studio-mode options bridges and workers share (docs/operations.md)."""
    studio = parser.add_argument_group("studio mode")
    studio.add_argument("--database-url", help="shared PostgreSQL, postgresql://user:pw@host/db")
    studio.add_argument("--redis-url", help="Redis for the shared event stream, redis://host:6379")
    studio.add_argument("--studio-key", help="prefix of this studio's Redis keys")
    studio.add_argument(
        "--path-map",
        action="append",
        metavar="FROM=TO",
        help="read originals recorded under FROM from TO on this machine (repeatable)",
    )


def setup_logging(level: str) -> None:
    """Log to stderr at `level`."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings file plus command-line overrides."""
    return load_settings(
        args.data_dir,
        host=args.host,
        port=args.port,
        database_url=args.database_url,
        redis_url=args.redis_url,
        studio_key=args.studio_key,
        path_map=args.path_map,
        local_jobs=args.local_jobs,
    )


def listening_url(settings: Settings, port: int) -> str:
    """The address printed and recorded for a server on `port`."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{port}/"


async def run_headless(settings: Settings, lock: InstanceLock | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly."""
    # Imported here: --help, a refused second start and the launcher options stay quick.
    from .app import BridgeServer

    server = BridgeServer(settings, owns_process=True)
    await server.start()
    settle_long_lived()
    url = listening_url(settings, server.port)
    if lock is not None:
        lock.record(url)
    print(f"AutoDev Bridge listening on {url}", flush=True)
    await serve_until_signalled(server)


async def serve_until_signalled(server: BridgeServer) -> None:
    """Wait for SIGINT or SIGTERM, then stop the started server cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def serve(settings: Settings) -> int:
    """Hold the data folder and serve headless; return the process exit code."""
    lock = InstanceLock(settings.data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"autodev-bridge: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:
        print(f"autodev-bridge: cannot use the data folder: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(run_headless(settings, lock))
    except (OSError, SettingsError) as exc:
        print(f"autodev-bridge: cannot start the server: {exc}", file=sys.stderr)
        return 1
    except StudioUnavailable as exc:
        print(f"autodev-bridge: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `autodev-bridge-server`."""
    args = server_parser("autodev-bridge-server", __doc__ or "").parse_args(argv)
    setup_logging(args.log_level)
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        print(f"autodev-bridge: {exc}", file=sys.stderr)
        return 2
    return serve(settings)
