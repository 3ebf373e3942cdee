"""The real app as a child process: start it headless on loopback (from the checkout, an installed
copy or the bundle), read what it prints, kill it, and check that nothing it started outlives it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def descendants(proc: subprocess.Popen[Any]) -> list[psutil.Process]:
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


def kill_app(proc: subprocess.Popen[Any], *, within: float = 10.0) -> None:
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


LISTENING = re.compile(r"AutoDev Bridge listening on (http://\S+/)")


class AppProcess:
    """A running app process whose output is read line by line in the background."""

    def __init__(self, args: Sequence[str | Path], *, cwd: Path, env: dict[str, str]) -> None:
        self.args = [str(a) for a in args]
        self.proc = subprocess.Popen(
            self.args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first output line matching `pattern`; fails if the process ends or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern.pattern!r}:\n{self.output()}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait()
                raise AssertionError(f"exited with {code} first:\n{self.output()}")
            self.lines.append(line)
            if match := pattern.search(line):
                return match

    def wait_for_url(self, timeout: float = 120.0) -> str:
        """The address the app prints once it listens."""
        return self.wait_for_line(LISTENING, timeout).group(1)

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for the exit code, collecting the rest of the output."""
        code = self.proc.wait(timeout=timeout)
        # Pool workers of a killed app may hold the pipe open for a moment: no EOF to wait for.
        with contextlib.suppress(queue.Empty):
            while (line := self._queue.get(timeout=2)) is not None:
                self.lines.append(line)
        return code

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (a clean stop) and the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.finish(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def output(self) -> str:
        """Everything printed so far."""
        return "\n".join(self.lines)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point Python at the source tree."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUTODEV_RESOURCES")}
    env.update(PYTHONUNBUFFERED="1", QT_QPA_PLATFORM="offscreen", **extra)
    return env


def get(url: str, timeout: float = 10.0) -> tuple[int, str, bytes]:
    """GET `url`: status, content type, body."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # loopback only
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def get_json(url: str) -> Any:
    """GET `url` and parse the JSON body."""
    status, _type, body = get(url)
    assert status == 200, status
    return json.loads(body)


def post_json(url: str, body: Any) -> tuple[int, Any]:
    """POST a JSON body to `url`: status and the parsed reply."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as resp:  # loopback only
        return resp.status, json.loads(resp.read())


WORKER_RUNNING = re.compile(r"AutoDev Bridge worker (\S+) running")


def start_worker(
    data_dir: Path, name: str, *extra: str, jobs: int = 1, lease_seconds: float = 3.0
) -> AppProcess:
    """`autodev-bridge-worker` as a separate "machine", returned once it runs (studio mode:
    `extra` carries --database-url, --redis-url, --studio-key and any --path-map)."""
    worker = AppProcess(
        [
            sys.executable,
            "-m",
            "bridge_server.worker_cli",
            "--name",
            name,
            "--jobs",
            str(jobs),
            "--lease-seconds",
            str(lease_seconds),
            "--data-dir",
            data_dir,
            "--log-level",
            "WARNING",
            *extra,
        ],
        cwd=ROOT,
        env=clean_env(),
    )
    worker.wait_for_line(WORKER_RUNNING, timeout=120)
    return worker


def kill_worker(worker: AppProcess) -> None:
    """SIGKILL a worker mid-work; its pool processes must follow it."""
    kill_app(worker.proc)
