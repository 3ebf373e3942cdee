"""Memory of one pixel-pool worker: idle, after a photo without a face, with the landmark
predictor loaded (a portrait), and after a profile retrain (scikit-learn loaded).

The worker is started exactly as the app starts it (pipeline.pool.PixelPool: forkserver with
the app's preloads); its resident set (RSS) and unique set (USS: what it alone holds, the
forkserver's shared pages excluded) are read with psutil from the parent.

    .venv/bin/python bench/worker_memory.py
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
import psutil
import skimage.data
from PIL import Image

from bridge_server.imaging import profile as prof
from bridge_server.pipeline import worker
from bridge_server.pipeline.pool import PixelPool


def _examples(n: int) -> list[tuple[str, list[float], int]]:
    rng = random.Random(1)
    out = []
    for _ in range(n):
        face = rng.uniform(0.005, 0.2)
        analysis = {
            "ai_score": 4.0,
            "context_hints": {"face_count": 1, "largest_face_fraction": face},
        }
        out.append(("portrait", prof.features(analysis), int(face >= 0.05)))
    return out


async def main() -> None:
    pool = PixelPool(1)
    with tempfile.TemporaryDirectory() as tmp:
        portrait = Path(tmp) / "portrait.jpg"
        Image.fromarray(skimage.data.astronaut()).save(portrait, quality=92)
        scenery = Path(tmp) / "rocket.jpg"
        Image.fromarray(skimage.data.rocket()).save(scenery, quality=92)
        pid = await pool.run(worker.ping)
        proc = psutil.Process(pid)
        rows = []

        def measure(label: str) -> None:
            info = proc.memory_full_info()
            rows.append((label, info.rss / 1e6, info.uss / 1e6))

        measure("idle (preloaded numpy, PIL, cv2)")
        await pool.run(worker.analyze, str(scenery), None)
        measure("after a photo without a face")
        await pool.run(worker.analyze, str(portrait), None)
        measure("with the 68-point predictor loaded")
        await pool.run(worker.train_profile_genres, _examples(200))
        measure("after a profile retrain (sklearn)")
    await pool.close()
    print(f"{'worker state':40s} {'RSS MB':>8s} {'USS MB':>8s}")
    for label, rss, uss in rows:
        print(f"{label:40s} {rss:8.0f} {uss:8.0f}")


if __name__ == "__main__":
    asyncio.run(main())
