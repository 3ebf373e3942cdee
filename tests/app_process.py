"""The real app as a child process: start it headless on loopback, kill it, and check that
nothing it started outlives it."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_app(data_dir: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    """`main.py --headless` on 127.0.0.1:`port`, returned once it answers HTTP."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--headless",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "WARNING",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if proc.poll() is not None:
                break
            try:
                async with http.get(f"http://127.0.0.1:{port}/api/system/status") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def descendants(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """Every process the app started (fork server, pool workers, resource tracker)."""
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _describe(p: psutil.Process) -> str:
    try:
        return f"{p.pid} {' '.join(p.cmdline())[:80]}"
    except psutil.Error:
        return str(p.pid)


def kill_app(proc: subprocess.Popen[bytes], *, within: float = 10.0) -> None:
    """SIGKILL the app, then check that every process it had started is gone too."""
    helpers = descendants(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    _gone, alive = psutil.wait_procs(helpers, timeout=within)
    left = [_describe(p) for p in alive if p.is_running()]
    for p in alive:
        try:
            p.kill()  # do not leak them into the rest of the run, even when failing
        except psutil.NoSuchProcess:
            pass
    assert not left, f"processes of the killed app still running: {left}"
