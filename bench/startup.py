"""Start-up time: from launching the headless app until its phone page answers.

The PyInstaller bundle (dist/autodev-bridge, built by `make bundle`) against the same app started
from the project's virtualenv (`python -m bridge_server`) in the same run, alternated. Each start
gets a new data folder (first start: the database is created and migrated), then the same folder
is started once more (a usual start). Loopback only, ephemeral ports; every wait is bounded.

    .venv/bin/python bench/startup.py               # 3 rounds
    .venv/bin/python bench/startup.py --rounds 5
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import REPO, machine_line, table

LISTENING = re.compile(rb"listening on (http://\S+/)")
BUNDLE = REPO / "dist" / "autodev-bridge"
TIMEOUT = 180.0


def start_once(command: list[str], data_dir: Path) -> float:
    """Seconds from launch until GET / answers 200; the app is stopped with SIGTERM after."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir),
         "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=data_dir.parent,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = ""
        while not url:
            line = proc.stdout.readline()
            if not line or time.perf_counter() - began > TIMEOUT:
                raise RuntimeError(f"{command[0]} did not start")
            if match := LISTENING.search(line):
                url = match.group(1).decode()
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:  # loopback only
                    if resp.status == 200:
                        return time.perf_counter() - began
            except OSError:
                if time.perf_counter() - began > TIMEOUT:
                    raise
                time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def folder_size(path: Path) -> int:
    """Bytes of every file under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    """Print start-up times of the bundle and of the virtualenv, and the bundle's size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    exe = BUNDLE / "autodev-bridge"
    if not exe.is_file():
        sys.exit("No bundle: run `make bundle` first")
    commands = {
        "bundle": [str(exe), "--headless"],
        "virtualenv": [sys.executable, "-m", "bridge_server"],
    }
    print(machine_line())
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        for round_ in range(args.rounds):
            for name, command in commands.items():
                data = Path(tmp) / f"{name}-{round_}" / "data"
                data.parent.mkdir()
                times.setdefault((name, "first start"), []).append(start_once(command, data))
                times.setdefault((name, "usual start"), []).append(start_once(command, data))
    rows = [
        [name, kind, f"{statistics.median(v):.2f}", f"{min(v):.2f}", f"{max(v):.2f}", len(v)]
        for (name, kind), v in sorted(times.items())
    ]
    print(table(["app", "start", "median s", "min s", "max s", "runs"], rows))
    print(f"bundle: {folder_size(BUNDLE) / 2**20:.0f} MiB in {BUNDLE.relative_to(REPO)}/")
    print(machine_line())


if __name__ == "__main__":
    main()
