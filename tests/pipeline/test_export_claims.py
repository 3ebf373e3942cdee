"""Exports with the same file name get distinct files, and a kill mid-render adopts nothing
that is not the export's own."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import aiohttp
import numpy as np
from PIL import Image

from tests.app_process import free_port, kill_app
from tests.fixtures.photos import write_large_jpeg
from tests.helpers import wait_for
from tests.pipeline.crash_helpers import query, start_headless


def _looks_like(exported: Path, original: Path) -> float:
    """Mean difference of two images at 32x32 grey (0 = the same picture)."""

    def small(path: Path) -> np.ndarray:
        with Image.open(path) as im:
            return np.asarray(im.convert("L").resize((32, 32)), dtype=np.float32)

    return float(np.abs(small(exported) - small(original)).mean())


async def test_same_name_exports_and_a_kill_mid_render_give_two_correct_files(tmp_path, photo_set):
    # Two shoots, one file name: a small photo and a camera-size one that renders slowly.
    small = tmp_path / "A" / "IMG_0001.jpg"
    large = tmp_path / "B" / "IMG_0001.jpg"
    small.parent.mkdir()
    large.parent.mkdir()
    shutil.copy2(photo_set["astronaut"], small)
    write_large_jpeg(large, 24, seed=7)
    data, exports = tmp_path / "data", tmp_path / "exports"
    settings = {
        "selection_threshold": 1.0,
        "burst_hash_distance": 0,
        "export_dir": str(exports),
        "import_roots": [str(tmp_path)],
        "preset_mapping": {"general": "Archive"},  # both in one folder, under one name
        "workers": 2,
    }
    db = data / "bridge.sqlite3"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await start_headless(data, port, settings)
    try:
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{url}/api/import", json={"paths": [str(small.parent), str(large.parent)]}
            )
            assert len((await resp.json())["imported"]) == 2

            async def both_queued() -> list[str]:
                async with http.get(f"{url}/api/approval/queue") as r:
                    items = (await r.json())["items"]
                return [p["photo_id"] for p in items] if len(items) == 2 else []

            photo_ids = await wait_for(both_queued, timeout=120)
            approvals = [http.post(f"{url}/api/approval/{p}/approve") for p in photo_ids]
            assert [r.status for r in await asyncio.gather(*approvals)] == [200, 200]

            async def one_done_one_rendering() -> bool:
                done = query(db, "SELECT count(*) FROM exports WHERE status='completed'")[0][0]
                running = query(
                    db, "SELECT count(*) FROM jobs WHERE kind='export' AND status='running'"
                )[0][0]
                return done == 1 and running == 1

            await wait_for(one_done_one_rendering, timeout=120, interval=0.005)
        kill_app(proc)  # and nothing it started outlives it
    finally:
        if proc.poll() is None:
            proc.kill()

    proc = await start_headless(data, port, settings)
    try:

        async def exported_both() -> bool:
            rows = query(db, "SELECT count(*) FROM jobs WHERE kind='export' AND status='completed'")
            return rows[0][0] == 2

        await wait_for(exported_both, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    rows = query(
        db,
        "SELECT photos.original_path, exports.output_path, exports.status FROM exports "
        "JOIN photos ON photos.id = exports.photo_id",
    )
    assert [r[2] for r in rows] == ["completed", "completed"]
    paths = {r[0]: r[1] for r in rows}
    assert len(set(paths.values())) == 2, f"two exports recorded one file: {paths}"
    assert len({Path(p).parent for p in paths.values()}) == 1  # the names really collided
    files = sorted(exports.rglob("*.jpg"))
    assert sorted(Path(p) for p in paths.values()) == files
    for original, other in ((small, large), (large, small)):
        output = Path(paths[str(original)])
        own, foreign = _looks_like(output, original), _looks_like(output, other)
        assert own < 12 and own < foreign, (output, own, foreign)
    assert list(exports.rglob(".*")) == []
