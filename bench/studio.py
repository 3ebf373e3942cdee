"""Studio-mode benchmarks (PostgreSQL + Redis on loopback), reached through two options:

    .venv/bin/python bench/fanout.py --instances 2     # 1,000 clients over 2 studio bridges
    .venv/bin/python bench/pipeline.py --worker-hosts 2  # analysis by 2 worker processes

`fanout --instances N`: in one run, the same clients and events (1) on one embedded bridge alone,
then (2) spread over N studio bridges sharing PostgreSQL and Redis, the events POSTed in turn to
each bridge (fanout.py's publisher). Prints both phases as fanout.py does, and the backplane's
cost per event: the median time from the POST until a bridge shows the event, studio minus one
bridge (the Redis round trip that gives every instance one order).

`pipeline --worker-hosts N`: a studio bridge that runs no jobs itself imports the photos;
N `autodev-bridge-worker` processes (separate "machines" on loopback, one job each) claim and
analyse them. Prints photos per second, the jobs each worker ran, and the claim overhead per
job: the gap between a worker finishing one job and starting its next (claim query, SKIP
LOCKED, lease write and the wake-up), from the job rows.

Both need the servers scripts/start-studio-services starts (or AUTODEV_TEST_POSTGRES /
AUTODEV_TEST_REDIS); each run uses a fresh database and Redis key prefix and removes them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

try:
    from bench import _common
except ImportError:  # run as `python bench/x.py`
    import _common  # type: ignore[no-redef]

ADMIN_URL = os.environ.get(
    "AUTODEV_TEST_POSTGRES", "postgresql://autodev:autodev@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("AUTODEV_TEST_REDIS", "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def fresh_studio() -> AsyncIterator[dict[str, Any]]:
    """Settings overrides for a studio on a new database and key prefix (removed after)."""
    import asyncpg
    from redis import asyncio as aioredis

    name = f"autodev_bench_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    key = f"autodev-bench-{secrets.token_hex(5)}"
    try:
        yield {
            "database_url": ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
            "redis_url": REDIS_URL,
            "studio_key": key,
        }
    finally:
        client: Any = aioredis.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{key}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        admin = await asyncpg.connect(ADMIN_URL, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- fan-out over several instances --------------------------------------------------------


def _latency_recorder(servers: list[Any]) -> list[float]:
    """Publish -> shown on each bridge, for every measured event (listeners on the brokers)."""
    seen: list[float] = []

    def shown(event: Any) -> None:
        message = str(event.payload.get("message", ""))
        if message.startswith("pub=") and ";i=-" not in message:
            seen.append(time.time() - float(message[4 : message.index(";")]))

    for server in servers:
        server.context.broker.add_listener(shown)
    return seen


async def start_studio_bridges(data_dir: Path, studio: dict[str, Any], instances: int) -> Any:
    """N studio bridges as one fanout Target: clients spread over them, the publisher POSTs
    to each in turn (bench/fanout.py's Target.extra_ports)."""
    from bench.fanout import Target
    from bridge_server.app import BridgeServer
    from tests.helpers import make_settings

    servers = [
        BridgeServer(make_settings(data_dir / f"b{k}", workers=1, local_jobs=False, **studio))
        for k in range(instances)
    ]
    for server in servers:
        await server.start()

    async def stop() -> None:
        for server in servers:
            await server.stop()

    target = Target(
        f"studio x{instances}",
        "bridge",
        servers[0].port,
        servers[0].port,
        lambda: sum(s.context.broker.subscriber_count("jobs") for s in servers),
        stop,
        extra_ports=tuple(s.port for s in servers[1:]),
    )
    return target, servers


async def fanout_instances(
    clients: int, rate: float, n_events: int, procs: int, instances: int
) -> None:
    """One embedded bridge alone, then the same clients spread over N studio bridges."""
    from bench import fanout
    from bridge_server.app import BridgeServer
    from tests.helpers import make_settings

    _common.raise_fd_limit(2 * clients + 1024)
    print(
        f"\n=== {clients} clients, {n_events} events at {rate:g}/s: one embedded bridge, "
        f"then {instances} studio bridges (PostgreSQL + Redis on loopback) ==="
    )
    print(_common.machine_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        alone = BridgeServer(make_settings(Path(tmp) / "alone", workers=1))
        await alone.start()
        one_shown = _latency_recorder([alone])
        broker = alone.context.broker
        target = fanout.Target("bridge", "bridge", alone.port, alone.port,
                               lambda: broker.subscriber_count("jobs"), alone.stop)  # fmt: skip
        try:
            one = await fanout.run_phase(target, clients, procs, rate, n_events)
        finally:
            await alone.stop()
        async with fresh_studio() as studio:
            target, servers = await start_studio_bridges(Path(tmp), studio, instances)
            spread_shown = _latency_recorder(servers)
            try:
                spread = await fanout.run_phase(target, clients, procs, rate, n_events)
                sent = sum(s.context.backplane.sent for s in servers if s.context.backplane)
            finally:
                await target.stop()
    a, b = sorted(one_shown), sorted(spread_shown)

    def ms(values: list[float], q: float) -> str:
        return f"{_common.percentile(values, q) * 1000:.2f}"

    print(
        _common.table(
            ["metric", "one bridge", f"{instances} studio bridges"],
            [
                ["delivered / expected", f"{one.delivered}/{one.expected}",
                 f"{spread.delivered}/{spread.expected}"],
                ["duplicates", one.dups, spread.dups],
                ["p50 latency to phones (ms)", f"{one.p50_ms:.2f}", f"{spread.p50_ms:.2f}"],
                ["p99 latency to phones (ms)", f"{one.p99_ms:.2f}", f"{spread.p99_ms:.2f}"],
                ["throughput (frames/s)", f"{one.throughput:,.0f}", f"{spread.throughput:,.0f}"],
                ["publish -> shown on a bridge p50 (ms)", ms(a, 50), ms(b, 50)],
                ["publish -> shown on a bridge p99 (ms)", ms(a, 99), ms(b, 99)],
                ["server CPU (us/frame, all bridges)", f"{one.server_cpu_us_per_frame:.2f}",
                 f"{spread.server_cpu_us_per_frame:.2f}"],
            ],
        )
    )  # fmt: skip
    cost = (_common.percentile(b, 50) - _common.percentile(a, 50)) * 1000
    print(
        f"backplane cost per event: {cost:+.2f} ms (median publish -> shown, studio minus one "
        f"bridge); {sent} events appended to the stream"
    )
    print(_common.machine_line(), flush=True)


# --- workers on separate "machines" ---------------------------------------------------------


def _start_worker(studio: dict[str, Any], name: str, data_dir: Path) -> subprocess.Popen[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "bridge_server.worker_cli", "--name", name, "--jobs", "1",
            "--data-dir", str(data_dir), "--log-level", "WARNING",
            "--database-url", studio["database_url"], "--redis-url", studio["redis_url"],
            "--studio-key", studio["studio_key"],
        ],
        cwd=_common.REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for _ in range(200):  # bounded: a few log lines at most precede it
        line = proc.stdout.readline()
        if not line or ("worker" in line and "running" in line):
            break
    if proc.poll() is not None:
        raise RuntimeError(f"worker {name} did not start")
    # Keep reading its output, so a chatty worker never blocks on a full pipe.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc


async def pipeline_worker_hosts(paths: list[Path], hosts: int) -> dict[str, Any]:
    """Import on a studio bridge that runs no jobs; N worker processes analyse; time it."""
    from sqlalchemy import select

    from bridge_server.app import BridgeServer
    from bridge_server.pipeline.importer import import_paths
    from bridge_server.store.models import Job
    from tests.helpers import make_settings

    async with fresh_studio() as studio:
        with tempfile.TemporaryDirectory(prefix="bench-hosts-") as tmp:
            server = BridgeServer(
                make_settings(Path(tmp) / "desk", workers=1, local_jobs=False, **studio),
                serve_http=False,
            )
            await server.start()
            workers = []
            try:
                for k in range(hosts):
                    name = f"host-{k + 1}"
                    workers.append(
                        await asyncio.to_thread(_start_worker, studio, name, Path(tmp) / name)
                    )
                await asyncio.sleep(2.0)  # pools warm (their start-up is not timed)
                ctx = server.context
                finished: set[str] = set()
                changed = asyncio.Event()

                def listen(event: Any) -> None:
                    if event.type in ("job_completed", "job_failed"):
                        finished.add(event.payload["job_id"])
                        changed.set()

                ctx.broker.add_listener(listen)
                started = time.perf_counter()
                report = await import_paths(ctx, [str(p) for p in paths], "bench hosts")
                wanted = len(report["imported"])
                deadline = started + max(120.0, 15.0 * len(paths))
                while len(finished) < wanted and time.perf_counter() < deadline:
                    changed.clear()
                    try:
                        await asyncio.wait_for(changed.wait(), deadline - time.perf_counter())
                    except TimeoutError:
                        break
                elapsed = time.perf_counter() - started
                async with ctx.db.session() as s:
                    jobs = (await s.execute(select(Job))).scalars().all()
            finally:
                for proc in workers:
                    proc.terminate()
                for proc in workers:
                    await asyncio.to_thread(proc.wait, 30)
                await server.stop()
    by_worker: dict[str, list[Any]] = {}
    for job in jobs:
        if job.worker and job.started_at and job.finished_at:
            by_worker.setdefault(job.worker, []).append(job)
    gaps: list[float] = []
    for runs in by_worker.values():
        runs.sort(key=lambda j: j.started_at)
        gaps += [
            (b.started_at - a.finished_at).total_seconds() for a, b in itertools.pairwise(runs)
        ]
    return {
        "imported": wanted,
        "done": len(finished),
        "seconds": elapsed,
        "per_worker": {w: len(r) for w, r in sorted(by_worker.items())},
        "claim_gaps": sorted(gaps),
    }


def print_worker_hosts(run: dict[str, Any], hosts: int) -> None:
    """The figures of one --worker-hosts run."""
    rate = run["done"] / run["seconds"] if run["seconds"] else 0.0
    gaps = run["claim_gaps"]
    print(
        f"  {hosts} worker host(s), one job each: {run['done']}/{run['imported']} analysed in "
        f"{run['seconds']:.2f} s = {rate:.2f} photos/s"
    )
    for worker, count in run["per_worker"].items():
        print(f"    {worker}: {count} jobs = {count / run['seconds']:.2f} photos/s")
    if gaps:
        print(
            f"  claim overhead per job (a worker's previous finish -> next start): p50 "
            f"{statistics.median(gaps) * 1000:.1f} ms, mean {statistics.fmean(gaps) * 1000:.1f} "
            f"ms, p90 {_common.percentile(gaps, 90) * 1000:.1f} ms ({len(gaps)} claims)"
        )
