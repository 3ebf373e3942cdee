"""Fault-injection soak: the real app, a mixed workload, SIGKILL at a chosen phase, restart,
and invariants that must hold whatever moment the kill landed on.

Each trial starts `main.py --headless` on loopback with a hot folder in `move` mode, drops a
shoot into it (two sub-folders holding files of the same names, so exports collide), approves
every proposal from two WebSocket clients and REST at once, and sends SIGKILL at a moment drawn
from one phase (trial i takes phase i mod 5, with a random delay from its seed):

  mid-move      a file has reached the library, its row may not be written yet
  mid-analysis  an analysis job has started
  mid-render    an export has started rendering
  mid-publish   within a burst of events
  mid-flush     within an event-log flush interval after a burst of approvals

Then it restarts the app on the same data, lets the work settle (approving what is still
proposed), and checks the invariants. It prints the trials run, the kills per phase, and for
each invariant the number of checks and of violations (the goal is 0).

    .venv/bin/python bench/chaos.py --trials 20 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from bench import _common
except ImportError:  # run as `python bench/chaos.py`
    import _common  # type: ignore[no-redef]

import aiohttp
import psutil
from PIL import Image

from tests.app_process import descendants, free_port, start_app

PHASES = ("mid-move", "mid-analysis", "mid-render", "mid-publish", "mid-flush")
INVARIANTS = (
    "source file exactly once, at its source or known to the library",
    "no photo or job stuck in a transient state",
    "one export file per approved photo, with its pixels",
    "no two exports claim one path",
    "no sequence number reused",
    "no process of the killed app left",
    "resume exact or recovered: false",
)
SAMPLES = _common.REPO / "resources" / "samples"
SETTLE_SECONDS = 180.0


@dataclass
class Tally:
    """Checks and violations per invariant, and what went wrong."""

    checks: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def check(self, invariant: str, ok: bool, note: str = "") -> None:
        """Count one check of `invariant`."""
        self.checks[invariant] += 1
        if not ok:
            self.violations[invariant] += 1
            self.notes.append(f"{invariant}: {note}")


# --- the shoot ------------------------------------------------------------------------------


def make_shoot(folder: Path, per_folder: int) -> dict[str, Path]:
    """Distinct photos in two sub-folders with the same file names; content hash -> path."""
    sources = sorted(SAMPLES.glob("*.jpg"))
    made: dict[str, Path] = {}
    for f, sub in enumerate(("A", "B")):
        for i in range(per_folder):
            n = f * per_folder + i
            with Image.open(sources[n % len(sources)]) as im:
                im = im.convert("RGB")
                # A different crop for every photo, so no two share content.
                crop = im.crop((n * 3, n * 2, im.width - n, im.height - 2 * n))
            path = folder / sub / f"IMG_{i + 1:04d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            crop.save(path, quality=92)
            made[hashlib.sha256(path.read_bytes()).hexdigest()] = path
    return made


def copy_into(shoot: dict[str, Path], shoot_root: Path, hot: Path) -> None:
    """Drop the shoot into the hot folder as a card reader would (dot-file, then rename)."""
    for path in shoot.values():
        target = hot / path.relative_to(shoot_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        shutil.copyfile(path, partial)
        partial.rename(target)


def write_settings(data: Path, hot: Path) -> None:
    """Move-mode hot folder, a low threshold so most photos are proposed, two workers."""
    data.mkdir(parents=True, exist_ok=True)
    settings = {
        "hot_folders": [str(hot)],
        "import_mode": "move",
        "selection_threshold": 1.0,
        "workers": 2,
    }
    (data / "settings.json").write_text(json.dumps(settings), encoding="utf-8")


# --- clients ----------------------------------------------------------------------------


class Watcher:
    """A WebSocket client on every channel: records each frame by seq, approves proposals."""

    def __init__(self, url: str, http: aiohttp.ClientSession, approve: bool) -> None:
        self.url, self.http, self.approve = url, http, approve
        self.frames: dict[int, str] = {}
        self.types: list[tuple[int, str]] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.task: asyncio.Task[None] | None = None
        self._command = 0

    async def connect(self) -> None:
        """Connect and subscribe to everything."""
        self.ws = await self.http.ws_connect(f"{self.url}/ws")
        await self.ws.receive_json()
        await self.ws.send_json({"type": "register", "client_type": "chaos", "client_name": "soak"})
        await self.ws.send_json({"type": "subscribe", "channels": ["*"]})
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            seq = data.get("seq")
            if isinstance(seq, int) and "channel" in data:
                self.frames[seq] = msg.data
                self.types.append((seq, data["type"]))
                if self.approve and data["type"] == "photo_selected":
                    self._command += 1
                    await self.ws.send_json(
                        {
                            "type": "command",
                            "id": self._command,
                            "command": "approve_photo",
                            "photo_id": data["photo_id"],
                        }
                    )

    def seen(self, kind: str) -> int:
        """How many events of `kind` arrived."""
        return sum(1 for _, t in self.types if t == kind)

    async def close(self) -> None:
        """Stop reading (the app may already be gone)."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()


async def approve_by_rest(url: str, http: aiohttp.ClientSession) -> int:
    """Approve everything in the approval queue over REST; returns how many were asked."""
    try:
        async with http.get(f"{url}/api/approval/queue?limit=500") as resp:
            if resp.status != 200:
                return 0
            items = (await resp.json())["items"]
        for item in items:
            async with http.post(f"{url}/api/approval/{item['photo_id']}/approve") as r:
                await r.read()
        return len(items)
    except (aiohttp.ClientError, OSError):
        return 0


# --- one trial --------------------------------------------------------------------------


async def _until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.005)
    return False


async def _kill_at_phase(
    phase: str, rng: random.Random, watcher: Watcher, library: Path, url: str, http: Any
) -> str:
    """Wait for the phase's moment (plus a random delay), return what was waited for."""
    if phase == "mid-move":
        hit = await _until(lambda: any(p.is_file() for p in library.rglob("*.jpg")), 30)
        await asyncio.sleep(rng.uniform(0, 0.03))
        return "first file in the library" if hit else "timeout"
    if phase == "mid-analysis":
        hit = await _until(lambda: watcher.seen("job_started") > 0, 60)
        await asyncio.sleep(rng.uniform(0, 0.3))
        return "analysis started" if hit else "timeout"
    if phase == "mid-render":
        hit = await _until(lambda: watcher.seen("export_started") > 0, 90)
        await asyncio.sleep(rng.uniform(0, 0.3))
        return "export started" if hit else "timeout"
    if phase == "mid-publish":
        target = rng.randint(10, 60)
        hit = await _until(lambda: len(watcher.types) >= target, 60)
        return f"{target} events seen" if hit else "timeout"
    # mid-flush: right after a burst of approvals, within one 250 ms flush interval.
    hit = await _until(lambda: watcher.seen("photo_selected") > 0, 60)
    await approve_by_rest(url, http)
    await asyncio.sleep(rng.uniform(0, 0.25))
    return "approvals just sent" if hit else "timeout"


def _db_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql).fetchall())
    finally:
        conn.close()


def _thumb(path: Path) -> list[int]:
    with Image.open(path) as im:
        return list(im.convert("L").resize((24, 24)).tobytes())


def _distance(a: list[int], b: list[int]) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


async def _settle(url: str, http: aiohttp.ClientSession, expected_photos: int) -> bool:
    """Approve what is proposed until all photos are analysed and no job is left to run."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        await approve_by_rest(url, http)
        try:
            async with http.get(f"{url}/api/photos?limit=1") as r:
                total = (await r.json())["total"]
            busy = 0
            for status in ("pending", "running"):
                async with http.get(f"{url}/api/jobs?status={status}&limit=1") as r:
                    busy += (await r.json())["total"]
            async with http.get(f"{url}/api/approval/queue?limit=1") as r:
                waiting = (await r.json())["total"]
        except (aiohttp.ClientError, OSError, KeyError):
            await asyncio.sleep(0.2)
            continue
        if total >= expected_photos and busy == 0 and waiting == 0:
            return True
        await asyncio.sleep(0.2)
    return False


async def run_trial(index: int, seed: int, per_folder: int, tally: Tally) -> str:
    """One trial: start, load, kill at the phase, restart, settle, check; returns the phase."""
    phase = PHASES[index % len(PHASES)]
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix=f"chaos-{index}-"))
    try:
        shoot_root, hot, data = root / "shoot", root / "hot", root / "data"
        hot.mkdir()
        shoot = make_shoot(shoot_root, per_folder)
        write_settings(data, hot)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = await start_app(data, port)
        async with aiohttp.ClientSession() as http:
            desk = Watcher(url, http, approve=True)
            phone = Watcher(url, http, approve=True)
            await desk.connect()
            await phone.connect()
            copy_into(shoot, shoot_root, hot)
            reached = await _kill_at_phase(phase, rng, desk, data / "library", url, http)
            helpers = descendants(proc)
            proc.kill()
            proc.wait(timeout=10)
            await desk.close()
            await phone.close()
        _gone, alive = psutil.wait_procs(helpers, timeout=10)
        left = [p for p in alive if p.is_running()]
        tally.check(INVARIANTS[5], not left, f"trial {index}: {len(left)} process(es) left")
        for p in left:
            p.kill()
        seen = {**phone.frames, **desk.frames}
        print(f"  trial {index:2d} seed {seed} {phase:12s} killed at: {reached}", flush=True)

        proc = await start_app(data, port)
        try:
            async with aiohttp.ClientSession() as http:
                await _check_resume(url, http, seen, tally, index)
                after = Watcher(url, http, approve=True)
                await after.connect()
                settled = await _settle(url, http, len(shoot))
                await after.close()
                for seq, frame in after.frames.items():
                    if seq in seen:
                        tally.check(INVARIANTS[4], frame == seen[seq], f"trial {index}: seq {seq}")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        tally.check(INVARIANTS[1], settled, f"trial {index}: work did not settle")
        _check_store(data, hot, shoot, tally, index)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return phase


async def _check_resume(
    url: str, http: aiohttp.ClientSession, seen: dict[int, str], tally: Tally, index: int
) -> None:
    """A client that saw `seen` before the kill resumes: exact replay or recovered: false."""
    if not seen:
        tally.check(INVARIANTS[6], True)
        return
    seqs = sorted(seen)
    since = seqs[max(0, len(seqs) - 25)] - 1  # resume from a little before the end
    ws = await http.ws_connect(f"{url}/ws")
    await ws.receive_json()
    await ws.send_json({"type": "register", "client_type": "chaos", "client_name": "resume"})
    await ws.send_json({"type": "subscribe", "channels": ["*"], "since": since})
    replayed: dict[int, str] = {}
    while True:
        msg = await ws.receive(timeout=30)
        data = json.loads(msg.data)
        if data.get("type") == "subscription_confirmed":
            break
        if isinstance(data.get("seq"), int) and "channel" in data:
            replayed[data["seq"]] = msg.data
    await ws.close()
    if data.get("recovered"):
        expected = {s for s in seen if s > since}
        got = {s for s in replayed if s <= seqs[-1]}
        same = expected == got and all(replayed[s] == seen[s] for s in expected)
        tally.check(INVARIANTS[6], same, f"trial {index}: replay differs from what was seen")
    else:
        tally.check(INVARIANTS[6], not replayed, f"trial {index}: replay with recovered false")
    for seq, frame in replayed.items():
        if seq in seen:
            tally.check(INVARIANTS[4], frame == seen[seq], f"trial {index}: seq {seq} reissued")


def _check_store(data: Path, hot: Path, shoot: dict[str, Path], tally: Tally, index: int) -> None:
    db = data / "bridge.sqlite3"
    photos = _db_rows(db, "SELECT id, file_path, status, approval FROM photos")
    known_paths = {Path(r[1]).resolve() for r in photos}
    files = [p for p in list(hot.rglob("*")) + list((data / "library").rglob("*")) if p.is_file()]
    by_hash: dict[str, list[Path]] = {}
    for f in files:
        by_hash.setdefault(hashlib.sha256(f.read_bytes()).hexdigest(), []).append(f)
    for digest, source in shoot.items():
        where = by_hash.get(digest, [])
        ok = len(where) == 1 and (where[0].is_relative_to(hot) or where[0].resolve() in known_paths)
        tally.check(INVARIANTS[0], ok, f"trial {index}: {source.name} found at {where}")

    stuck = _db_rows(
        db,
        "SELECT p.id FROM photos p WHERE p.status IN ('imported', 'analyzing') AND NOT EXISTS "
        "(SELECT 1 FROM jobs j WHERE j.photo_id = p.id AND j.status IN ('pending', 'running'))",
    )
    running = _db_rows(db, "SELECT id FROM jobs WHERE status = 'running'")
    tally.check(INVARIANTS[1], not stuck and not running, f"trial {index}: {stuck} {running}")

    exports = _db_rows(
        db,
        "SELECT e.photo_id, e.output_path, p.file_path FROM exports e "
        "JOIN photos p ON p.id = e.photo_id WHERE e.status = 'completed'",
    )
    approved = {r[0] for r in photos if r[3] == "approved"}
    exported = Counter(r[0] for r in exports)
    originals = {r[0]: _thumb(Path(r[1])) for r in photos if Path(r[1]).exists()}
    for photo_id in approved:
        tally.check(
            INVARIANTS[2],
            exported[photo_id] == 1,
            f"trial {index}: {photo_id} exported {exported[photo_id]} times",
        )
    for photo_id, output, _original in exports:
        out = Path(output)
        if not out.exists():
            tally.check(INVARIANTS[2], False, f"trial {index}: {out.name} missing")
            continue
        pixels = _thumb(out)
        nearest = min(originals, key=lambda pid: _distance(pixels, originals[pid]))
        tally.check(
            INVARIANTS[2],
            nearest == photo_id,
            f"trial {index}: {out.name} has the pixels of {nearest}, not {photo_id}",
        )
    export_files = [p for p in (data / "exports").rglob("*.jpg") if p.is_file()]
    tally.check(
        INVARIANTS[2],
        len(export_files) == len(exports),
        f"trial {index}: {len(export_files)} files for {len(exports)} exports",
    )
    paths = Counter(r[0] for r in _db_rows(db, "SELECT output_path FROM exports") if r[0])
    tally.check(INVARIANTS[3], all(n == 1 for n in paths.values()), f"trial {index}: {paths}")
    seqs = _db_rows(db, "SELECT count(*) - count(DISTINCT seq) FROM events")
    tally.check(INVARIANTS[4], seqs[0][0] == 0, f"trial {index}: duplicate seq in the log")


# --- report ------------------------------------------------------------------------------


async def run(trials: int, seed: int, per_folder: int) -> Tally:
    """Run `trials` trials; returns the tally (also printed)."""
    tally = Tally()
    phases: Counter[str] = Counter()
    print(_common.machine_line(), flush=True)
    started = time.monotonic()
    for i in range(trials):
        phases[await run_trial(i, seed + i, per_folder, tally)] += 1
    print(
        f"\ntrials run: {trials} (seeds {seed}..{seed + trials - 1}), "
        f"{time.monotonic() - started:.0f} s"
    )
    print("kills per phase: " + ", ".join(f"{p} {phases[p]}" for p in PHASES))
    print(f"\n{'invariant':66s} {'checks':>7s} {'violations':>10s}")
    for name in INVARIANTS:
        print(f"{name:66s} {tally.checks[name]:7d} {tally.violations[name]:10d}")
    for note in tally.notes[:40]:
        print("  violation:", note)
    print(_common.machine_line())
    return tally


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--photos-per-folder", type=int, default=4)
    args = parser.parse_args()
    tally = asyncio.run(run(args.trials, args.seed, args.photos_per_folder))
    return 1 if sum(tally.violations.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
