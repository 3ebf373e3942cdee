"""Culling quality on the evaluation set: this analysis against another revision's, same run.

The set is tests/fixtures/culling.py (scikit-image photographs and variants with a known
verdict; see tests/fixtures/CREDITS.md). For each revision (the working tree and, by default,
`main`, extracted with `git archive` into a temporary folder) a child process analyses every
photo with that revision's analyze_file, groups and proposes with its selection, and times
each stage. Printed per revision:
  keeper precision / recall (selection's keepers against the photographer's),
  best-pick accuracy (bursts and scenes: is the photographer's frame the proposed best),
  focus verdict accuracy (sharp vs soft / out of focus / missed focus),
  eye-state accuracy on real photographs with true labels only (synthetic eyes do not count),
  mean ms per photo of analyze_file and of each stage.

Usage (from the repo root):
    .venv/bin/python bench/culling_quality.py                # working tree vs main
    .venv/bin/python bench/culling_quality.py --against 5f03687 --repeat 2
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOFT_FLAGS = {"out_of_focus", "soft", "missed_focus"}

# Stages timed in the child: (module, attribute) wrapped where the revision has them.
STAGES = [
    ("bridge_server.imaging.analysis", "load_for_analysis", "decode (working size)"),
    ("bridge_server.imaging.analysis", "full_res_centre_crop", "noise crop"),
    ("bridge_server.imaging.analysis", "full_res_noise_band", "noise band"),
    ("bridge_server.imaging.faces", "detect_faces", "face detection (Haar)"),
    ("bridge_server.imaging.faces", "count_open_eyes", "eyes (Haar, old)"),
    ("bridge_server.imaging.analysis", "face_crops", "face crops (extra decode)"),
    ("bridge_server.imaging.eyes", "eye_state", "eye state (dlib landmarks)"),
    ("bridge_server.imaging.focus", "blur_radius", "focus on the face"),
    ("bridge_server.imaging.focus", "sharpest_region", "focus, sharpest region"),
    ("bridge_server.imaging.metrics", "exposure", "exposure"),
    ("bridge_server.imaging.analysis", "phash_hex", "perceptual hash"),
]


# --- child: one revision -------------------------------------------------------------------


def _wrap(timings: dict[str, float], label: str, fn: Any) -> Any:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[label] += time.perf_counter() - start

    return timed


def run_child(code_root: str, cases_json: str, repeat: int) -> dict[str, Any]:
    """Analyse and select with the revision at code_root; JSON-ready results."""
    import importlib

    import psutil

    sys.path.insert(0, code_root)
    analysis = importlib.import_module("bridge_server.imaging.analysis")
    selection = importlib.import_module("bridge_server.pipeline.selection")
    config = importlib.import_module("bridge_server.config")
    if not str(Path(analysis.__file__).resolve()).startswith(str(Path(code_root).resolve())):
        raise SystemExit(f"analysis imported from {analysis.__file__}, not {code_root}")
    timings: dict[str, float] = defaultdict(float)
    for module_name, attr, label in STAGES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:  # a stage this revision does not have
            continue
        if hasattr(module, attr):
            setattr(module, attr, _wrap(timings, label, getattr(module, attr)))
    cases = json.loads(cases_json)
    # Warm-up on the first photo with a face: what loading any landmark model costs a worker.
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    start = time.perf_counter()
    analysis.analyze_file(cases["portrait"]["path"])
    first_face_ms = 1000 * (time.perf_counter() - start)
    rss_growth = (proc.memory_info().rss - rss0) / 1e6
    timings.clear()
    results: dict[str, Any] = {}
    total = cpu = 0.0
    for _ in range(repeat):
        for name, case in cases.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            results[name] = analysis.analyze_file(case["path"])
            total += time.perf_counter() - start
            cpu += time.process_time() - cpu_start
    runs = repeat * len(cases)
    candidates = [
        selection.Candidate(
            f"p_{name}", datetime.fromisoformat(case["when"]).replace(tzinfo=UTC),
            f"{name}.jpg", r["ai_score"], r["phash"], float(r["metrics"]["laplacian_var"]),
            r["context_hints"],
        )
        for name, case in cases.items()
        for r in [results[name]]
    ]  # fmt: skip
    settings = config.Settings(data_dir=tempfile.mkdtemp(prefix="culling-bench-"))
    groups = selection.group_bursts(
        candidates, settings.burst_gap_seconds, settings.burst_hash_distance
    )
    proposals = selection.propose(groups, settings)
    return {
        "results": {
            name: {
                "ai_score": r["ai_score"],
                "flags": r["flags"],
                "reasons": r["reasons"],
                "faces": r["faces"],
                "selection": str(proposals[f"p_{name}"].selection),
                "is_group_best": proposals[f"p_{name}"].is_group_best,
                "group_id": proposals[f"p_{name}"].group_id,
            }
            for name, r in results.items()
        },
        "ms_per_photo": 1000 * total / runs,
        "cpu_ms_per_photo": 1000 * cpu / runs,
        "stage_ms": {k: 1000 * v / runs for k, v in timings.items()},
        "first_face_ms": first_face_ms,
        "rss_growth_mb": rss_growth,
    }


# --- parent: metrics -----------------------------------------------------------------------


def _eye_state(face: dict[str, Any]) -> str:
    if "eye_state" in face:
        return str(face["eye_state"])
    if face.get("possible_blink"):  # version 1: Haar found no eye
        return "closed"
    return "open" if face.get("eyes_open") else "unknown"


def score(cases: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The quality figures for one revision's run."""
    res = run["results"]
    kept = {n for n, r in res.items() if r["selection"] in ("keeper", "Selection.KEEPER")}
    truth_kept = {n for n, c in cases.items() if c["keeper"]}
    tp = len(kept & truth_kept)
    bursts: dict[str, list[str]] = defaultdict(list)
    for name, case in cases.items():
        if case["burst"]:
            bursts[case["burst"]].append(name)
    best_ok = sum(
        1
        for names in bursts.values()
        if [n for n in names if res[n]["is_group_best"]] == [n for n in names if cases[n]["best"]]
    )
    focus_ok = sum(
        1
        for n, c in cases.items()
        if ("soft" if SOFT_FLAGS & set(res[n]["flags"]) else "sharp") == c["focus"]
    )
    labelled = [n for n, c in cases.items() if c["eyes"]]
    eyes_ok = sum(
        1
        for n in labelled
        if res[n]["faces"] and _eye_state(res[n]["faces"][0]) == cases[n]["eyes"]
    )
    return {
        "keeper_precision": tp / len(kept) if kept else 0.0,
        "keeper_recall": tp / len(truth_kept) if truth_kept else 0.0,
        "false_keepers": sorted(kept - truth_kept),
        "missed_keepers": sorted(truth_kept - kept),
        "best_pick": (best_ok, len(bursts)),
        "focus": (focus_ok, len(cases)),
        "eyes": (eyes_ok, len(labelled)),
        "wrong_focus": sorted(
            n
            for n, c in cases.items()
            if ("soft" if SOFT_FLAGS & set(res[n]["flags"]) else "sharp") != c["focus"]
        ),
    }


def _extract(ref: str, dest: Path) -> Path:
    """The revision's bridge_server package, from git, into dest."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "bridge_server"],
        check=True,
        capture_output=True,
    ).stdout
    tar_path = dest / "src.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _child(code_root: Path, cases: dict[str, Any], repeat: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(code_root), "--repeat", str(repeat)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "PYTHONPATH": ""},
    )
    if out.returncode != 0:
        raise SystemExit(f"analysis of {code_root} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(pair: tuple[int, int]) -> str:
    ok, n = pair
    return f"{ok}/{n} ({100 * ok / n:.0f} %)" if n else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=1, help="analyses per photo (timing)")
    parser.add_argument(
        "--profile-scenes",
        type=int,
        default=100,
        help="scenes (3 frames each) for the learned-profile simulation (0: skip)",
    )
    parser.add_argument(
        "--profile-only", action="store_true", help="only the learned-profile simulation"
    )
    parser.add_argument(
        "--profile-cache",
        help="JSON file keeping the simulation's analysed frames between runs (made if absent)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, sys.stdin.read(), args.repeat)))
        return
    if args.profile_only:
        sys.path.insert(0, str(ROOT))
        _profile_report(args.profile_scenes, args.profile_cache)
        return

    sys.path.insert(0, str(ROOT))
    from tests.fixtures.culling import write_culling_set

    with tempfile.TemporaryDirectory(prefix="culling-quality-") as tmp:
        made = write_culling_set(Path(tmp) / "photos")
        from bridge_server.imaging.exif import read_exif

        cases = {
            n: {
                "path": str(c.path),
                "when": read_exif(str(c.path))["captured_at"],
                "focus": c.focus,
                "keeper": c.keeper,
                "eyes": c.eyes,
                "burst": c.burst,
                "best": c.best,
            }
            for n, c in made.items()
        }
        old_root = _extract(args.against, Path(tmp))
        load = os.getloadavg()
        runs = {
            f"{args.against} (before)": _child(old_root, cases, args.repeat),
            "this tree (after)": _child(ROOT, cases, args.repeat),
        }
    print(f"Evaluation set: {len(cases)} photos, load average {load[0]:.2f} {load[1]:.2f}")
    print("Eye-state accuracy counts real, unaltered faces with a known state only:")
    print(f"  {[n for n, c in cases.items() if c['eyes']]} (no real closed-eye source offline)")
    for label, run in runs.items():
        q = score(cases, run)
        print(f"\n== {label}")
        print(
            f"keeper precision {q['keeper_precision']:.2f}  recall {q['keeper_recall']:.2f}"
            f"  false: {q['false_keepers']}  missed: {q['missed_keepers']}"
        )
        print(f"best pick (bursts and scenes)  {_fmt(q['best_pick'])}")
        print(f"focus verdict                  {_fmt(q['focus'])}  wrong: {q['wrong_focus']}")
        print(f"eye state (real faces)         {_fmt(q['eyes'])}")
        print(
            f"analyze_file  {run['ms_per_photo']:.0f} ms/photo wall, {run['cpu_ms_per_photo']:.0f}"
            " ms CPU (CPU time suffers less from a loaded machine);  first face photo in a fresh"
            f" worker {run['first_face_ms']:.0f} ms, RSS +{run['rss_growth_mb']:.0f} MB"
            " (model loading)"
        )
        for stage, ms in sorted(run["stage_ms"].items(), key=lambda kv: -kv[1]):
            print(f"  {stage:30s} {ms:7.1f} ms/photo")
    if args.profile_scenes:
        _profile_report(args.profile_scenes, args.profile_cache)
    print(f"\nload average at the end {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def _profile_report(scenes: int, cache: str | None = None) -> None:
    """Agreement with simulated photographers before and after learning from N decisions.

    Training and scoring are the app's own (imaging.profile.train_genres, score_scene).
    """
    import _profile_sim  # bench/ is this script's folder

    start = time.perf_counter()
    cached = Path(cache) if cache else None
    if cached is not None and cached.is_file():
        pop = json.loads(cached.read_text())
        how = f"read from {cached}"
    else:
        with tempfile.TemporaryDirectory(prefix="culling-profile-") as tmp:
            pop = _profile_sim.make_population(Path(tmp), scenes)
        if cached is not None:
            cached.write_text(json.dumps(pop))
        how = f"made and analysed in {time.perf_counter() - start:.0f} s"
    print(
        f"\n== learned profile: {len(pop)} frames ({how}); trained on decisions from two "
        "thirds of the scenes, agreement measured on the other third"
    )
    print(
        f"{'preference':48s} {'decisions':>9s} {'before':>7s} {'after':>7s} {'gain':>6s}  profile"
    )
    train_ms = []
    for name, n, before, after, used in _profile_sim.gains(pop):
        gain = 100 * (after - before)
        print(f"{name:48s} {n:9d} {100 * before:6.1f}% {100 * after:6.1f}% {gain:+5.1f}  {used}")
    for n, ms in _profile_sim.training_cost(pop):
        train_ms.append(f"{n} decisions {ms:.0f} ms")
    print("training (in a pool worker, per retrain): " + ", ".join(train_ms))


if __name__ == "__main__":
    main()
