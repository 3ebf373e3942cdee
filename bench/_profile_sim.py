"""Simulated photographers for the learned profile: gain in agreement on photos not trained on.

A population of scenes (three frames each) is made from scikit-image photographs: the
astronaut's head and shoulders at a zoom that sets the face size, over a background whose
blur differs frame to frame (busy, medium, calm), with random shifts and sometimes some blur
or a darker exposure. Each frame is analysed with this tree's analyze_file.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import skimage.data
from PIL import Image, ImageFilter

from bridge_server.imaging import profile as prof
from bridge_server.imaging.analysis import analyze_file
from bridge_server.pipeline.selection import context_tag

CANVAS = 800
THRESHOLD = 3.0
BACKGROUNDS = ("coffee", "chelsea", "rocket")
BACKGROUND_BLUR = (0.0, 2.5, 7.0)  # busy, medium, calm


def make_population(dest: Path, scenes: int, seed: int = 11) -> list[dict[str, Any]]:
    """Write and analyse `scenes` x 3 frames; one dict per frame with its truth."""
    dest.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    astro = Image.fromarray(skimage.data.astronaut())
    head = astro.crop((112, 0, 338, 256))  # head and shoulders
    out = []
    for s in range(scenes):
        zoom = rng.uniform(0.24, 0.65)
        bg_src = Image.fromarray(getattr(skimage.data, rng.choice(BACKGROUNDS))()).convert("RGB")
        bg_src = bg_src.resize((CANVAS, CANVAS), Image.Resampling.BICUBIC)
        side = round(CANVAS * zoom)
        subject = head.resize((side, round(side * 256 / 226)), Image.Resampling.LANCZOS)
        order = list(range(3))
        rng.shuffle(order)
        for k, level in enumerate(order):
            frame = bg_src.filter(ImageFilter.GaussianBlur(BACKGROUND_BLUR[level]))
            x = (CANVAS - subject.width) // 2 + rng.randint(-12, 12)
            y = max(0, CANVAS - subject.height) + rng.randint(-6, 0)
            frame.paste(subject, (x, max(0, y)))
            if rng.random() < 0.15:
                frame = frame.filter(ImageFilter.GaussianBlur(rng.uniform(2.0, 4.0)))
            if rng.random() < 0.15:
                arr = np.asarray(frame, dtype=np.float32) * rng.uniform(0.3, 0.6)
                frame = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
            path = dest / f"s{s:03d}_{k}.jpg"
            frame.save(path, quality=90)
            out.append(
                {
                    "scene": s,
                    "calm": level == 2,
                    "analysis": analyze_file(str(path)),
                }
            )
    return out


def _by_scene(pop: list[dict[str, Any]]) -> dict[int, list[int]]:
    scenes: dict[int, list[int]] = {}
    for i, p in enumerate(pop):
        scenes.setdefault(p["scene"], []).append(i)
    return scenes


def _scene_features(pop: list[dict[str, Any]]) -> list[list[float]]:
    """Feature vectors with each frame's place in its scene, built by the app's own code."""
    feats: list[list[float]] = [[] for _ in pop]
    for members in _by_scene(pop).values():
        vectors = prof.scene_features([pop[i]["analysis"] for i in members])
        for i, x in zip(members, vectors, strict=True):
            feats[i] = x
    return feats


def _scores(
    pop: list[dict[str, Any]], idx: list[int], profiles: dict[str, dict[str, Any]]
) -> dict[int, float]:
    """Scores of the frames `idx` as selection computes them (prof.score_scene per scene)."""
    wanted = set(idx)
    out: dict[int, float] = {}
    for members in _by_scene(pop).values():
        members = [i for i in members if i in wanted]
        if not members:
            continue
        analyses = [pop[i]["analysis"] for i in members]
        genres: list[str | None] = [context_tag(a["context_hints"]) for a in analyses]
        scored = prof.score_scene(analyses, genres, profiles)
        out.update((i, float(r["score"])) for i, r in zip(members, scored, strict=True))
    return out


def _decide(pop: list[dict[str, Any]], scores: list[float], per_scene: bool) -> list[bool]:
    """Keeper proposals: above the threshold, and (per_scene) only each scene's best."""
    keep = [s >= THRESHOLD for s in scores]
    if not per_scene:
        return keep
    best: dict[int, int] = {}
    for i, p in enumerate(pop):
        j = best.get(p["scene"])
        if j is None or scores[i] > scores[j]:
            best[p["scene"]] = i
    return [keep[i] and best[p["scene"]] == i for i, p in enumerate(pop)]


def _describe(profiles: dict[str, dict[str, Any]]) -> str:
    """Which profiles were learned, from how many decisions (empty: the analysis alone)."""
    if not profiles:
        return "none learned (analysis alone)"
    return ", ".join(f"{g}: {p['decisions']}" for g, p in sorted(profiles.items()))


def training_cost(
    pop: list[dict[str, Any]], sizes: tuple[int, ...] = (50, 100, 200)
) -> list[tuple[int, float]]:
    """Wall ms of one retrain (cross-validation included) for N decisions."""
    feats = _scene_features(pop)
    out = []
    for n in sizes:
        examples = [
            (context_tag(p["analysis"]["context_hints"]), feats[i], int(p["calm"]))
            for i, p in enumerate(pop[:n])
        ]
        start = time.perf_counter()
        prof.train_genres(examples)
        out.append((n, 1000 * (time.perf_counter() - start)))
    return out


def gains(
    pop: list[dict[str, Any]], sizes: tuple[int, ...] = (50, 100, 200), seed: int = 5
) -> list[tuple[str, int, float, float, str]]:
    """(preference, decisions, agreement before, after, profiles used) on held-out scenes."""
    feats = _scene_features(pop)
    face = [p["analysis"]["context_hints"]["largest_face_fraction"] for p in pop]
    ai = [float(p["analysis"]["ai_score"]) for p in pop]
    prefs: dict[str, tuple[list[int], bool]] = {
        # Judged photo by photo: a face under 5 % of the frame is rejected whatever its quality.
        "rejects main face under 5 % of the frame": (
            [int(a >= THRESHOLD and f >= 0.05) for a, f in zip(ai, face, strict=True)],
            False,
        ),
        # Judged within the scene: of similar frames, the calmer background is kept.
        "keeps the calmer background of similar frames": ([int(p["calm"]) for p in pop], True),
    }
    rng = random.Random(seed)
    shuffled = prefs["rejects main face under 5 % of the frame"][0][:]
    rng.shuffle(shuffled)
    prefs["control: shuffled labels"] = (shuffled, False)

    scenes = sorted({p["scene"] for p in pop})
    test_scenes = set(scenes[-max(1, len(scenes) // 3) :])
    train_idx = [i for i, p in enumerate(pop) if p["scene"] not in test_scenes]
    test_idx = [i for i, p in enumerate(pop) if p["scene"] in test_scenes]
    test_pop = [pop[i] for i in test_idx]
    out = []
    for name, (labels, per_scene) in prefs.items():
        truth = [bool(labels[i]) for i in test_idx]
        before = _decide(test_pop, [ai[i] for i in test_idx], per_scene)
        agree_before = sum(a == b for a, b in zip(before, truth, strict=True)) / len(truth)
        order = train_idx[:]
        random.Random(seed + 1).shuffle(order)
        for n in sizes:
            chosen = order[:n]
            # What the app's training job does: (genre, features, kept) -> profiles by genre.
            examples = [
                (context_tag(pop[i]["analysis"]["context_hints"]), feats[i], labels[i])
                for i in chosen
            ]
            profiles = prof.train_genres(examples)
            scored = _scores(pop, test_idx, profiles)
            after = _decide(test_pop, [scored[i] for i in test_idx], per_scene)
            agree_after = sum(a == b for a, b in zip(after, truth, strict=True)) / len(truth)
            out.append((name, min(n, len(chosen)), agree_before, agree_after, _describe(profiles)))
    return out
