"""`autodev-bridge`: the window (default), the server alone (`--headless`), or the launcher."""

from __future__ import annotations

import argparse
import sys

from bridge_server.cli import serve, server_parser, settings_from, setup_logging
from bridge_server.config import SettingsError
from bridge_server.instance import AlreadyRunning, InstanceLock


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = server_parser("autodev-bridge", "AutoDev Bridge: photo culling at the desk and phone.")
    parser.add_argument("--headless", action="store_true", help="run the server without a window")
    parser.add_argument("--minimized", action="store_true", help="start in the tray")
    launcher = parser.add_mutually_exclusive_group()
    launcher.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add AutoDev Bridge to the application menu (with its icons) and exit",
    )
    launcher.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove it (and its icons) from the application menu and exit",
    )
    return parser.parse_args(argv)


def _launcher(args: argparse.Namespace) -> int:
    from desktop import launcher

    if args.install_desktop_entry:
        written = launcher.install_desktop_entry(args.data_dir)
        print(f"Added AutoDev Bridge to the application menu: {written[0]}")
    else:
        removed = launcher.uninstall_desktop_entry()
        print(
            f"Removed {len(removed)} file(s) of AutoDev Bridge's menu entry."
            if removed
            else "AutoDev Bridge had no menu entry to remove."
        )
    return 0


def _run_window(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    lock = InstanceLock(settings.data_dir)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        from desktop.single_instance import ask_running_window_to_show

        if ask_running_window_to_show(settings.data_dir):
            print("AutoDev Bridge already runs on this data folder: brought its window forward.")
            return 0
        print(f"autodev-bridge: {exc}", file=sys.stderr)
        return 3
    try:
        from desktop.main import run_desktop

        return run_desktop(settings, minimized=args.minimized, lock=lock)
    finally:
        lock.release()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `autodev-bridge`, `python -m autodev_bridge` and `main.py`."""
    args = parse_args(argv)
    setup_logging(args.log_level)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return _launcher(args)
    try:
        if args.headless:
            return serve(settings_from(args))
        return _run_window(args)
    except SettingsError as exc:
        print(f"autodev-bridge: {exc}", file=sys.stderr)
        return 2
