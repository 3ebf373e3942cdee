"""AutoDev Bridge: the desktop window (default) or the server alone (`--headless`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bridge_server.app import BridgeServer
from bridge_server.config import Settings, SettingsError, load_settings

log = logging.getLogger("autodev")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="autodev-bridge", description=__doc__)
    parser.add_argument("--headless", action="store_true", help="run the server without a window")
    parser.add_argument("--minimized", action="store_true", help="start in the tray")
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port (default 5100)")
    parser.add_argument("--data-dir", help="keep database, settings and caches in this folder")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings file plus command-line overrides."""
    return load_settings(args.data_dir, host=args.host, port=args.port)


async def run_headless(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly."""
    server = BridgeServer(settings)
    await server.start()
    print(f"AutoDev Bridge listening on http://{settings.host}:{server.port}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = settings_from(args)
    except SettingsError as exc:
        print(f"autodev-bridge: {exc}", file=sys.stderr)
        return 2
    if args.headless:
        try:
            asyncio.run(run_headless(settings))
        except OSError as exc:
            print(f"autodev-bridge: cannot start the server: {exc}", file=sys.stderr)
            return 1
        return 0
    from desktop.main import run_desktop

    return run_desktop(settings, minimized=args.minimized)


if __name__ == "__main__":
    sys.exit(main())
