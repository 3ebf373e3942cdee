"""Pipeline throughput: import + analysis of camera-size JPEGs through a real BridgeServer.

1. N 24-megapixel JPEGs (tests.fixtures.photos.write_large_jpeg, distinct seeds, so distinct
   content hashes) are made once and cached (default: <tmp>/autodev-bench-photos, or --cache).
2. Baseline: a plain full-resolution Pillow decode (`Image.open(p).load()`) of the same files on
   the same number of worker processes (ProcessPoolExecutor), workers started beforehand.
3. Bridge: a real BridgeServer (serve_http=False, workers = cores, fresh temporary data dir,
   pool warmed up beforehand); timed from the `import_paths` call until every analysis job has
   published job_completed / job_failed on the broker.
4. Optional per-stage breakdown in this one process (mean seconds per file) and a cProfile of
   analyze_file + probe_file.

Usage (from the repo root):
    .venv/bin/python bench/pipeline.py                       # 40 photos, workers = cores
    .venv/bin/python bench/pipeline.py --photos 20 --cache /tmp/photos --stages 3 --profile
    .venv/bin/python bench/pipeline.py --worker-hosts 2      # studio workers (bench/studio.py)
Every loop is bounded in count and time; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# This folder first: the shared virtualenv's path also holds another checkout's `bench`, whose
# _common would put that checkout's bridge_server on the path instead of this one's.
try:
    import _common  # run as `python bench/pipeline.py`
except ImportError:  # run as `python -m bench.pipeline`
    from bench import _common  # type: ignore[no-redef]

GOAL_PHOTOS_PER_SECOND = 20.0  # on an idle 2-core machine
GOAL_BASELINE_RATIO = 1.5
GOAL_FIRST_PROPOSAL_P50 = 1.0  # seconds from landing in the hot folder to the proposal
MEGAPIXELS = 24
BACKLOG = 500  # photos of the import running while new ones land
ARRIVALS = 10
ARRIVAL_TIMEOUT = 30.0
CAPTURE_TIME = b"2026:11:25 13:00:00"  # in the EXIF of tests.fixtures.photos.write_large_jpeg
STEPS = ("photo_imported", "job_started", "photo_analyzed")  # where a first proposal's time goes
PER_PHOTO_TIMEOUT = 15.0  # seconds; the whole bridge run is bounded by N times this (>= 120 s)


# --- photos -------------------------------------------------------------------------------


def _write_one(path: str, seed: int) -> str:
    from tests.fixtures.photos import write_large_jpeg

    target = Path(path)
    partial = target.with_name(f".partial-{target.name}")  # dot files are never imported
    write_large_jpeg(partial, megapixels=MEGAPIXELS, seed=seed)
    os.replace(partial, target)
    return path


def ensure_photos(cache: Path, count: int, workers: int) -> list[Path]:
    """The N cached photos, generating the missing ones in parallel."""
    cache.mkdir(parents=True, exist_ok=True)
    paths = [cache / f"large_{seed:03d}.jpg" for seed in range(1, count + 1)]
    missing = [(str(p), seed) for seed, p in enumerate(paths, 1) if not p.exists()]
    if missing:
        print(f"generating {len(missing)} {MEGAPIXELS} MP JPEGs in {cache} ...", flush=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as ex:
            list(ex.map(_write_one, *zip(*missing, strict=True)))
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return paths


# --- CPU accounting -------------------------------------------------------------------------


def _pool_cpu(executor: Any) -> float:
    """User + system CPU seconds of an executor's live worker processes (bench-only peek)."""
    import psutil

    total = 0.0
    for pid in list(getattr(executor, "_processes", None) or {}):
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def _self_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --- baseline: full-resolution decode only --------------------------------------------------


def _decode(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        return im.size


def _ping(_n: int = 0) -> int:
    from PIL import Image  # noqa: F401  (load Pillow before the clock starts)

    return os.getpid()


def baseline_decode(paths: list[Path], workers: int) -> tuple[float, float]:
    """Seconds to decode every file at full resolution on `workers` warmed-up processes, and
    the worker CPU seconds that took. Its workers run at the bridge's backlog priority, so
    both compete alike with whatever else the machine runs."""
    from bridge_server.pipeline.pool import BACKLOG_NICE

    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=os.nice, initargs=(BACKLOG_NICE,)
    ) as ex:
        list(ex.map(_ping, range(workers * 2)))
        cpu = _pool_cpu(ex)
        started = time.perf_counter()
        sizes = list(ex.map(_decode, [str(p) for p in paths]))
        elapsed = time.perf_counter() - started
        cpu = _pool_cpu(ex) - cpu
    assert all(w * h > 20e6 for w, h in sizes), sizes[:3]
    return elapsed, cpu


# --- the bridge: import + analysis end to end -------------------------------------------------


async def bridge_run(paths: list[Path], workers: int) -> dict[str, Any]:
    """Import the files into a fresh bridge and time until every analysis job is done."""
    from bridge_server.app import BridgeServer
    from bridge_server.pipeline.importer import import_paths
    from tests.helpers import make_settings

    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        server = BridgeServer(make_settings(Path(tmp), workers=workers), serve_http=False)
        await server.start()
        try:
            ctx = server.context
            assert ctx.pool is not None
            warm = time.perf_counter()
            await ctx.pool.warm_up()
            warm = time.perf_counter() - warm
            finished: dict[str, str] = {}
            last_done = [0.0]
            changed = asyncio.Event()

            def listen(event: Any) -> None:
                if event.type in ("job_completed", "job_failed"):
                    finished[event.payload["job_id"]] = event.type
                    last_done[0] = time.perf_counter()
                    changed.set()

            ctx.broker.add_listener(listen)
            executor = ctx.pool._ensure()  # bench-only: to read the workers' CPU time
            worker_cpu, main_cpu = _pool_cpu(executor), _self_cpu()
            started = time.perf_counter()
            report = await import_paths(ctx, [str(p) for p in paths], "bench pipeline")
            imported_at = time.perf_counter()
            wanted = len(report["imported"])
            deadline = started + max(120.0, PER_PHOTO_TIMEOUT * len(paths))
            while len(finished) < wanted and time.perf_counter() < deadline:
                changed.clear()
                try:
                    remaining = max(0.01, deadline - time.perf_counter())
                    await asyncio.wait_for(changed.wait(), remaining)
                except TimeoutError:
                    break
            worker_cpu = _pool_cpu(executor) - worker_cpu
            main_cpu = _self_cpu() - main_cpu
            ctx.broker.remove_listener(listen)
        finally:
            await server.stop()
    done = last_done[0] if len(finished) >= wanted else time.perf_counter()
    failed = sum(1 for v in finished.values() if v == "job_failed")
    return {
        "imported": wanted,
        "duplicates": len(report["duplicates"]),
        "import_failed": len(report["failed"]),
        "analysed": len(finished) - failed,
        "analysis_failed": failed,
        "timed_out": len(finished) < wanted,
        "import_seconds": imported_at - started,
        "total_seconds": done - started,
        "warm_up_seconds": warm,
        "worker_cpu": worker_cpu,
        "main_cpu": main_cpu,
    }


# --- time to first proposal: a hot-folder arrival while a big import runs ---------------------


def restamped(source: Path, seconds: int) -> bytes:
    """The photo's bytes with its capture time moved `seconds` on (same length, in place).

    The generated photos all carry one capture time; as copies they would make one burst of
    hundreds, which no shoot has, so each copy gets its own time, a burst gap apart.
    """
    data = source.read_bytes()
    when = datetime.strptime(CAPTURE_TIME.decode(), "%Y:%m:%d %H:%M:%S")
    new = (when + timedelta(seconds=seconds)).strftime("%Y:%m:%d %H:%M:%S").encode()
    return data.replace(CAPTURE_TIME, new)


def ensure_backlog(cache: Path, sources: list[Path], count: int) -> list[Path]:
    """`count` distinct files for the backlog import: the cached photos, each with its own
    capture time and a unique tail after the end-of-image marker (ignored by decoders), so
    each is a new photo of its own moment with its source's pixels."""
    folder = cache / f"backlog-v2-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"backlog_{i:04d}.jpg" for i in range(count)]
    missing = [(i, p) for i, p in enumerate(paths) if not p.exists()]
    if missing:
        print(f"making {len(missing)} backlog copies in {folder} ...", flush=True)
    for i, path in missing:
        partial = path.with_name(f".partial-{path.name}")
        partial.write_bytes(restamped(sources[i % len(sources)], 10 * i) + f"#{i}".encode())
        os.replace(partial, path)
    return paths


async def first_proposal_run(
    backlog: list[Path], arrivals: list[Path], workers: int
) -> dict[str, Any]:
    """Land photos in a hot folder one by one while `backlog` is being imported and analysed;
    seconds from each landing (the file renamed into place) to its proposal (selection ran
    over it: a keeper is then in the approval queue)."""
    from sqlalchemy import select

    from bridge_server.app import BridgeServer
    from bridge_server.pipeline.importer import import_paths
    from bridge_server.store.enums import Selection
    from bridge_server.store.models import Photo
    from tests.helpers import make_settings

    with tempfile.TemporaryDirectory(prefix="bench-first-proposal-") as tmp:
        hot = Path(tmp) / "hot"
        hot.mkdir()
        settings = make_settings(Path(tmp) / "data", workers=workers, hot_folders=[str(hot)])
        server = BridgeServer(settings, serve_http=False)
        await server.start()
        latencies: list[float] = []
        steps: dict[str, list[float]] = {}
        analysed = [0]
        imported: dict[str, str] = {}
        arrived = asyncio.Event()

        seen: dict[tuple[str, str], float] = {}  # (photo_id, event type) -> when

        def listen(event: Any) -> None:
            photo_id = event.payload.get("photo_id")
            if event.type in ("job_started", "photo_analyzed", "photo_imported") and photo_id:
                seen.setdefault((photo_id, event.type), time.perf_counter())
            if event.type == "photo_analyzed":
                analysed[0] += 1
            elif event.type == "photo_imported":
                imported[event.payload["file_name"]] = event.payload["photo_id"]
                arrived.set()

        try:
            ctx = server.context
            assert ctx.pool is not None
            await ctx.pool.warm_up()
            ctx.broker.add_listener(listen)
            job = asyncio.create_task(import_paths(ctx, [str(p) for p in backlog], "backlog"))
            deadline = time.perf_counter() + 120
            while analysed[0] < 2 * workers and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)  # the backlog's analysis is under way
            for k, source in enumerate(arrivals):
                name = f"arrival_{k:02d}.jpg"
                partial = hot / f".{name}"
                shot = await asyncio.to_thread(restamped, source, 86_400 + 10 * k)  # next day
                await asyncio.to_thread(partial.write_bytes, shot)
                landed = time.perf_counter()
                os.replace(partial, hot / name)  # the camera's file appears, complete
                until = landed + ARRIVAL_TIMEOUT
                while time.perf_counter() < until:
                    photo_id = imported.get(name)
                    if photo_id is not None:
                        async with ctx.db.session() as s:
                            row = (
                                await s.execute(select(Photo.selection).where(Photo.id == photo_id))
                            ).scalar()
                        if row is not None and row != Selection.NONE:
                            latencies.append(time.perf_counter() - landed)
                            for step in STEPS:
                                at = seen.get((photo_id, step))
                                if at is not None:
                                    steps.setdefault(step, []).append(at - landed)
                            break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.5)  # the next shot
            backlog_done = analysed[0] - len(latencies)
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
            ctx.broker.remove_listener(listen)
        finally:
            await server.stop()
    return {
        "latencies": sorted(latencies),
        "missed": len(arrivals) - len(latencies),
        "backlog_analysed": backlog_done,
        "steps": {k: statistics.median(v) for k, v in steps.items()},
    }


# --- per-stage breakdown and profile (this process, one file at a time) ----------------------


def _stage_fns() -> list[tuple[str, Callable[[str], Any]]]:
    import numpy as np
    from PIL import Image

    from bridge_server.imaging import decode, focus, hashing, metrics
    from bridge_server.imaging.analysis import WORK_EDGE, _faces, _working_noise, analyze_file
    from bridge_server.imaging.exif import read_exif
    from bridge_server.pipeline import worker
    from bridge_server.pipeline.worker import probe_file

    previews = tempfile.mkdtemp(prefix="bench-previews-")

    def analysis_job(p: str) -> Any:
        # What the pool runs: the analysis plus the grid preview from the same decode.
        return worker.analyze(p, None, previews, "p")

    def colour_decode(p: str) -> Any:
        return decode.load_for_analysis(p, WORK_EDGE, colour=True)

    def full_decode(p: str) -> Any:
        with Image.open(p) as im:
            im.load()

    def full_luma_decode(p: str) -> Any:
        with Image.open(p) as im:
            im.draft("L", None)
            im.load()

    decoded: dict[str, Any] = {}

    def pixel_metrics(p: str) -> Any:
        # Everything analyze_file does on the 1024 px image, without decoding it again.
        if p not in decoded:
            decoded[p] = decode.load_for_analysis(p, WORK_EDGE).image
        image = decoded[p]
        gray = np.asarray(image)
        lap = metrics.laplacian(gray)
        with Image.open(p) as im:
            full_size = im.size
        return (
            _faces(p, gray, lap, full_size),
            focus.sharpest_region(gray, _working_noise(gray)),
            metrics.sharpness(gray, lap),
            metrics.exposure(gray),
            (hashing.phash_hex(image)),
        )

    return [
        ("probe_file (import: sha256 + EXIF)", probe_file),
        ("  sha256_file", hashing.sha256_file),
        ("  read_exif", read_exif),
        ("worker.analyze (the pool's job: analysis + grid preview)", analysis_job),
        ("  analyze_file (analysis alone, luma decode)", analyze_file),
        ("  load_for_analysis (DCT-scaled luma, 1024 px)", decode.load_for_analysis),
        ("  load_for_analysis, colour=True (YCbCr, for the previews)", colour_decode),
        ("  full_res_noise_band (noise, top 512 rows)", decode.full_res_noise_band),
        ("  faces, eyes, focus, exposure, phash (1024 px)", pixel_metrics),
        ("baseline: Image.open(p).load() (full RGB)", full_decode),
        ("ref: full-resolution luma decode (draft L)", full_luma_decode),
    ]


def stage_breakdown(paths: list[Path], rounds: int = 3) -> list[tuple[str, float, float]]:
    """Seconds per file of each stage in this process: (name, min, mean) over `rounds` passes
    over `paths` after one warm-up call. On a shared machine the min is the intrinsic cost."""
    out = []
    for name, fn in _stage_fns():
        fn(str(paths[0]))  # warm caches (cascades, imports)
        times = []
        for _ in range(rounds):
            for p in paths:
                started = time.perf_counter()
                fn(str(p))
                times.append(time.perf_counter() - started)
        out.append((name, min(times), statistics.fmean(times)))
    return out


def profile(paths: list[Path], top: int = 18) -> None:
    """cProfile of probe_file + analyze_file on `paths`, top functions by own time."""
    import cProfile
    import pstats

    from bridge_server.imaging.analysis import analyze_file
    from bridge_server.pipeline.worker import probe_file

    analyze_file(str(paths[0]))
    prof = cProfile.Profile()
    prof.enable()
    for p in paths:
        info = probe_file(str(p))
        analyze_file(str(p), info.get("exif"))
    prof.disable()
    print(f"\ncProfile: probe_file + analyze_file on {len(paths)} file(s), by own time")
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, make the photos, run baseline and bridge, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=40, help="photos (40)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "autodev-bench-photos",
        help="folder to keep the generated photos in between runs",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for both bridge and baseline (cores)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="alternate baseline and bridge this many times; report medians",
    )
    parser.add_argument(
        "--stages",
        type=int,
        default=3,
        help="files for the single-process stage breakdown (0: skip)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile probe_file + analyze_file on N files (0: skip)",
    )
    parser.add_argument(
        "--no-first-proposal",
        dest="first_proposal",
        action="store_false",
        help=f"skip the first-proposal run ({ARRIVALS} arrivals, {BACKLOG}-photo import)",
    )
    parser.add_argument(
        "--worker-hosts",
        type=int,
        default=0,
        metavar="N",
        help="studio mode: N autodev-bridge-worker processes analyse (bench/studio.py)",
    )
    args = parser.parse_args(argv)
    if args.worker_hosts:
        from bench import studio

        print(_common.machine_line(), flush=True)
        paths = ensure_photos(args.cache, args.photos, args.workers)
        studio.print_worker_hosts(
            asyncio.run(studio.pipeline_worker_hosts(paths, args.worker_hosts)), args.worker_hosts
        )
        print(_common.machine_line(), flush=True)
        return 0
    if not 1 <= args.photos <= 1000 or not 1 <= args.repeat <= 10 or args.workers < 1:
        parser.error("need 1 <= --photos <= 1000, 1 <= --repeat <= 10, --workers >= 1")

    print(_common.machine_line(), flush=True)
    import bridge_server

    print(f"code under test: {Path(bridge_server.__file__).parent.parent}", flush=True)
    paths = ensure_photos(args.cache, args.photos, args.workers)
    size_mb = sum(p.stat().st_size for p in paths) / len(paths) / 2**20
    print(
        f"{len(paths)} photos of {MEGAPIXELS} MP, {size_mb:.1f} MiB each on average, "
        f"{args.workers} workers",
        flush=True,
    )

    base_rates: list[float] = []
    base_cpus: list[float] = []
    bridge_rates: list[float] = []
    runs: list[dict[str, Any]] = []
    for k in range(args.repeat):
        base_s, base_cpu = baseline_decode(paths, args.workers)
        base_rates.append(len(paths) / base_s)
        base_cpus.append(base_cpu)
        print(
            f"  run {k + 1}: baseline decode {base_s:.2f} s = {base_rates[-1]:.2f} photos/s; "
            f"worker CPU {base_cpu / len(paths) * 1000:.0f} ms/photo, wall x workers "
            f"{base_s * args.workers / len(paths) * 1000:.0f} ms/photo",
            flush=True,
        )
        run = asyncio.run(bridge_run(paths, args.workers))
        runs.append(run)
        bridge_rates.append(run["analysed"] / run["total_seconds"] if run["total_seconds"] else 0)
        print(
            f"  run {k + 1}: bridge {run['total_seconds']:.2f} s = {bridge_rates[-1]:.2f} "
            f"photos/s (import call returned after {run['import_seconds']:.2f} s; "
            f"imported {run['imported']}, analysed {run['analysed']}, failed "
            f"{run['analysis_failed'] + run['import_failed']}, duplicates "
            f"{run['duplicates']}{', TIMED OUT' if run['timed_out'] else ''}; "
            f"pool warm-up {run['warm_up_seconds']:.2f} s, not timed)",
            flush=True,
        )
        n = max(1, run["analysed"])
        print(
            f"         worker CPU {run['worker_cpu'] / n * 1000:.0f} ms/photo, server loop "
            f"(main process) CPU {run['main_cpu'] / n * 1000:.0f} ms/photo, wall x workers "
            f"{run['total_seconds'] * args.workers / n * 1000:.0f} ms/photo",
            flush=True,
        )

    bridge = statistics.median(bridge_rates)
    base = statistics.median(base_rates)
    ratio = bridge / base if base else float("nan")
    complete = all(r["analysed"] == len(paths) and not r["timed_out"] for r in runs)
    # What the CPU time per photo (workers and server) allows on otherwise idle cores.
    cpu_per_photo = statistics.median(
        (r["worker_cpu"] + r["main_cpu"]) / max(1, r["analysed"]) for r in runs
    )
    idle_bound = (os.cpu_count() or 1) / cpu_per_photo if cpu_per_photo else float("nan")
    base_cpu = statistics.median(base_cpus) / len(paths)
    base_bound = min(args.workers, os.cpu_count() or 1) / base_cpu if base_cpu else float("nan")
    first = None
    if args.first_proposal:
        backlog = ensure_backlog(args.cache, paths, BACKLOG)
        first = asyncio.run(first_proposal_run(backlog, paths[:ARRIVALS], args.workers))
    load = _common.load_average().split(",")[0]
    rows = [
        ["import + analysis (photos/s)", f">= {GOAL_BASELINE_RATIO:g}x baseline",
         f"{base:.2f}", f"{bridge:.2f}", f"{ratio:.2f}x",
         _common.verdict(ratio >= GOAL_BASELINE_RATIO), load],
        ["  CPU-bound on idle cores (photos/s)", f">= {GOAL_PHOTOS_PER_SECOND:g}",
         f"{base_bound:.1f}", f"{idle_bound:.1f}", f"{idle_bound / base_bound:.2f}x",
         _common.verdict(idle_bound >= GOAL_PHOTOS_PER_SECOND), load],
        ["every photo analysed", "all", "", f"{runs[-1]['analysed']}/{len(paths)}", "",
         _common.verdict(complete), load],
    ]  # fmt: skip
    if first is not None:
        lat = first["latencies"]
        p50 = statistics.median(lat) if lat else float("nan")
        rows.append(
            [f"first proposal during a {BACKLOG}-photo import, p50 (s; max "
             f"{max(lat, default=float('nan')):.2f}, {len(lat)}/{ARRIVALS} arrivals)",
             f"< {GOAL_FIRST_PROPOSAL_P50:g}", "", f"{p50:.2f}", "",
             _common.verdict(p50 < GOAL_FIRST_PROPOSAL_P50 and not first["missed"]),
             _common.load_average().split(",")[0]]
        )  # fmt: skip
    print()
    print(_common.table(["figure", "goal", "baseline", "ours", "ratio", "status", "load 1 min"],
                        rows))  # fmt: skip
    print(
        "(baseline: full-resolution decode only, same files, same workers, same run; the "
        "idle-core bound is cores / CPU seconds per photo of workers + server)"
    )
    if first is not None:
        print(
            f"(first proposal: {ARRIVALS} 24 MP photos land in a hot folder 0.5 s apart while "
            f"{BACKLOG} photos are imported; {first['backlog_analysed']} of the backlog were "
            "analysed meanwhile; landing = the file renamed into place, proposal = selection "
            "ran over it)"
        )
        where = ", ".join(f"{k} {v:.2f} s" for k, v in first["steps"].items())
        print(f"(medians after landing: {where}, proposal {p50:.2f} s)")
    if args.repeat > 1:
        each = ", ".join(f"{r:.2f}" for r in bridge_rates)
        base_each = ", ".join(f"{r:.2f}" for r in base_rates)
        print(f"(medians of {args.repeat} runs; bridge {each}; baseline {base_each})")

    if args.stages > 0:
        sample = paths[: args.stages]
        print(
            f"\nper stage, one process, {len(sample)} file(s) x 3 rounds; the bound is "
            f"{args.workers} workers / min time, i.e. an idle machine"
        )
        rows = [
            [name, f"{lo * 1000:.0f}", f"{mean * 1000:.0f}", f"{args.workers / lo:.1f}"]
            for name, lo, mean in stage_breakdown(sample)
        ]
        print(
            _common.table(
                ["stage", "min ms", "mean ms", f"bound photos/s on {args.workers} workers"], rows
            )
        )
    if args.profile > 0:
        profile(paths[: args.profile])
    print(_common.machine_line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
