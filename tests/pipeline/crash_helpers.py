"""Helpers for tests that run the real app headless, kill it, and check what it left."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_headless(data_dir: Path, port: int, settings: dict[str, Any]) -> subprocess.Popen:
    """`main.py --headless` on loopback with these settings; returns once it answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.json").write_text(json.dumps(settings))
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
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/api/system/status") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query against the app's database."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return list(conn.execute(sql, args).fetchall())
    finally:
        conn.close()


def sha256(path: Path) -> str:
    """The file's content hash."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unaccounted(
    sources: dict[Path, str], library: Path, photos: list[tuple[str, str]], mode: str
) -> list[Any]:
    """What breaks "every file is where it was, or known to the library": an empty list when
    every source is at its place or recorded (once) with the same content, a moved file is not
    in both places, and the library holds no file that no photo names. `photos` are
    (original_path, file_path) rows."""
    problems: list[Any] = []
    recorded: dict[str, list[str]] = {}
    for original, stored in photos:
        recorded.setdefault(original, []).append(stored)
    for source, digest in sources.items():
        stored = recorded.get(str(source), [])
        in_library = [Path(p) for p in stored if p != str(source)]
        if len(stored) > 1:
            problems.append(("recorded twice", source, stored))
        if in_library:
            if not in_library[0].exists():
                problems.append(("recorded but missing from the library", source))
            elif sha256(in_library[0]) != digest:
                problems.append(("library copy differs", source))
            if mode == "move" and source.exists():
                problems.append(("moved file still at its source", source))
        elif not source.exists():
            problems.append(("lost", source))
        elif sha256(source) != digest:
            problems.append(("source changed", source))
    known = {Path(p) for _, p in photos}
    problems += [("unknown file in library", p) for p in library.rglob("*") if p.is_file()]
    problems = [p for p in problems if not (p[0] == "unknown file in library" and p[1] in known)]
    return problems
