"""Helpers for tests that kill the real app mid-file and check what it left on disk."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from tests.app_process import start_app


async def start_headless(
    data_dir: Path, port: int, settings: dict[str, Any]
) -> subprocess.Popen[bytes]:
    """`main.py --headless` (tests/app_process.py) with this settings file in its data folder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.json").write_text(json.dumps(settings))
    return await start_app(data_dir, port)


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
