"""`autodev-bridge-worker`: a studio machine that runs analysis and export jobs, serving nothing.

It claims jobs from the studio's PostgreSQL with a lease it renews while working, publishes its
events to the studio's Redis stream, and reads originals through its path map.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile

from .cli import add_studio_options, serve_until_signalled, setup_logging
from .config import Settings, SettingsError, load_settings
from .studio.settings import StudioUnavailable


def worker_parser() -> argparse.ArgumentParser:
    """The worker's options."""
    parser = argparse.ArgumentParser(prog="autodev-bridge-worker", description=__doc__)
    add_studio_options(parser)
    parser.add_argument("--name", help="how jobs and the Clients view name this worker")
    parser.add_argument("--jobs", type=int, help="jobs run at once (default: one per core)")
    parser.add_argument("--lease-seconds", type=float, help="job lease (default 30)")
    parser.add_argument("--data-dir", help="settings (export presets) and caches of this worker")
    parser.add_argument("--log-level", default="INFO")
    return parser


def worker_settings(args: argparse.Namespace) -> Settings:
    """Settings file plus options; a worker is always in studio mode."""
    data_dir = args.data_dir or os.path.join(tempfile.gettempdir(), "autodev-bridge-worker")
    settings = load_settings(
        data_dir,
        database_url=args.database_url,
        redis_url=args.redis_url,
        studio_key=args.studio_key,
        path_map=args.path_map,
        workers=args.jobs,
        job_lease_seconds=args.lease_seconds,
        hot_folders=[],
    )
    if not settings.studio:
        raise SettingsError("a worker needs --database-url and --redis-url (studio mode)")
    return settings


async def run_worker(settings: Settings, name: str) -> None:
    """Run jobs until SIGINT or SIGTERM, then stop cleanly (running jobs are given time)."""
    from .app import BridgeServer

    server = BridgeServer(settings, serve_http=False, worker_name=name)
    await server.start()
    print(f"AutoDev Bridge worker {name} running {settings.worker_count} job(s)", flush=True)
    await serve_until_signalled(server)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `autodev-bridge-worker`."""
    args = worker_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        settings = worker_settings(args)
    except SettingsError as exc:
        print(f"autodev-bridge-worker: {exc}", file=sys.stderr)
        return 2
    name = args.name or f"{socket.gethostname()}/{os.getpid()}"
    try:
        asyncio.run(run_worker(settings, name))
    except (StudioUnavailable, SettingsError, OSError) as exc:
        print(f"autodev-bridge-worker: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
