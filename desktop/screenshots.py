"""Make docs/screenshots/desktop-*.png from a real session (run under Xvfb).

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python -m desktop.screenshots [--light]
    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python -m desktop.screenshots --culling

Starts the app on a temporary data folder, shows the empty library, imports the sample photos,
lets analysis run, approves and rejects a few, pairs and connects a phone and a script over
WebSocket, then grabs each view and the two dialogs. With --culling it imports a real shoot
(the culling evaluation set of tests/fixtures: bursts, a blink, soft, dark and clipped frames)
and grabs the library grid, the loupe at 100 % with its face panel, and compare.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import aiohttp
import qasync
from PyQt6.QtWidgets import QApplication, QTabWidget, QWidget

from bridge_server.config import Settings
from bridge_server.resources import REPO_ROOT

from .app import DesktopApp
from .models.approvals import PhotoRole

OUT = REPO_ROOT / "docs" / "screenshots"  # a developer tool: run from a source checkout


def clear_banners(window: QWidget) -> None:
    """Hide the window's banners (they would crowd every shot)."""
    banners = getattr(window, "banners", None)
    if banners is not None:
        for banner in banners.banners():
            banner.hide()
        banners.setVisible(False)


SUFFIX = "-light" if "--light" in sys.argv else ""


def save(widget: QWidget, name: str) -> None:
    """Grab a widget to docs/screenshots/desktop-<name>.png."""
    if SUFFIX and name not in ("overview", "approvals"):
        return  # the light theme: two views are enough to judge it
    name += SUFFIX
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"desktop-{name}.png"
    widget.grab().save(str(path))
    print(path)


async def settle(seconds: float = 0.6) -> None:
    """Let events, timers and thumbnail loads land (never processEvents() inside a task)."""
    await asyncio.sleep(seconds)


async def shoot(data: Path) -> None:
    """Drive the app through a realistic session and grab each view."""
    settings = Settings(data_dir=str(data), host="127.0.0.1", port=0, workers=2)
    settings.theme = "light" if SUFFIX else "dark"
    settings.hot_folders = [str(Path.home() / "Pictures" / "Tethered")]
    desk = DesktopApp(settings, use_tray=False)
    await desk.start()
    window, models = desk.window, desk.models
    assert window is not None and models is not None
    window.resize(1360, 860)
    window.move(20, 20)
    await settle(1.0)
    save(window, "empty")

    importing = desk.import_samples()
    assert importing is not None, "the sample photos are missing"
    await importing
    ctx = desk.server.context
    for _ in range(600):
        counts = ctx.queue_status.latest if ctx.queue_status else {}
        if counts.get("total") and not counts.get("pending") and not counts.get("processing"):
            if not desk.server.pipeline.selection.busy:
                break
        await asyncio.sleep(0.2)
    await settle(1.5)

    base = f"http://127.0.0.1:{desk.server.port}"
    async with aiohttp.ClientSession() as http:
        start = await (await http.post(f"{base}/api/pairing/start")).json()
        paired = await (
            await http.post(
                f"{base}/api/pairing/complete",
                json={"code": start["code"], "device_name": "Pixel 8 (Anna)"},
            )
        ).json()
        phone = await http.ws_connect(f"{base}/ws")
        await phone.receive()
        await phone.send_json(
            {"type": "register", "client_type": "phone", "client_name": "Pixel 8 (Anna)",
             "token": paired["token"]}
        )  # fmt: skip
        await phone.send_json({"type": "subscribe", "channels": ["photos", "approval", "jobs"]})
        script = await http.ws_connect(f"{base}/ws")
        await script.receive()
        await script.send_json(
            {"type": "register", "client_type": "lightroom", "client_name": "Studio Mac plug-in"}
        )
        await script.send_json({"type": "subscribe", "channels": ["*"]})
        await settle(0.5)

        queue = models.queue.photo_ids()
        models.approve(queue[:2])
        if len(queue) > 3:
            models.reject([queue[3]])
        await settle(2.5)  # exports run

        window.show_page("overview")
        await settle(1.0)
        save(window, "overview")
        clear_banners(window)
        window.show_page("approvals")
        view = window.approvals
        best = next(
            (
                r
                for r in range(models.queue.rowCount())
                if models.queue.index(r).data(PhotoRole).get("group_id")
            ),
            0,
        )
        view.grid.setCurrentIndex(models.queue.index(best))
        await settle(2.0)
        save(window, "approvals")
        for name in ("jobs", "sessions", "clients", "activity"):
            window.show_page(name)
            await settle(1.0)
            save(window, name)

        dialog = desk.open_pairing()
        await settle(0.5)
        save(dialog, "pairing")
        dialog.reject()
        settings_dialog = desk.open_settings()
        settings_dialog.resize(720, 520)
        await settle(0.5)
        save(settings_dialog, "settings")
        tabs = settings_dialog.findChild(QTabWidget)
        if tabs is not None:
            tabs.setCurrentIndex(1)
            await settle(0.3)
            save(settings_dialog, "settings-presets")
        settings_dialog.reject()

        await phone.close()
        await script.close()
    await desk.stop()


async def shoot_culling(data: Path) -> None:
    """Import a real shoot, cull a little by key, and grab grid, loupe, faces and compare."""
    from PyQt6.QtCore import QItemSelectionModel, Qt

    from .cull_keys import action_for

    def press(key: str) -> None:
        action = action_for(getattr(Qt.Key, f"Key_{key}"), Qt.KeyboardModifier.NoModifier)
        assert action is not None
        library.act(action)

    from tests.fixtures.culling import write_culling_set  # a developer tool: needs [test]

    from .models.approvals import PhotoIdRole

    cases = write_culling_set(data / "Smith wedding")
    settings = Settings(data_dir=str(data / "app"), host="127.0.0.1", port=0, workers=2)
    desk = DesktopApp(settings, use_tray=False)
    await desk.start()
    window, models = desk.window, desk.models
    assert window is not None and models is not None
    window.resize(1360, 860)
    window.move(20, 20)
    await models.import_paths([str(c.path) for c in cases.values()], "Smith wedding")
    from bridge_server.services import photos as photo_service
    from tests.helpers import jobs_settled

    for _ in range(1500):
        total = (await photo_service.list_photos(desk.server.context, limit=1))[1]
        if total == len(cases) and await jobs_settled(desk.server):
            break
        await asyncio.sleep(0.2)
    await settle(2.0)
    window.show_page("library")
    library = window.library
    library.model.reload()
    await settle(2.0)
    grid, model = library.grid, library.model
    library.auto_advance.setChecked(False)
    # A little culling by key, so the grid shows flags, stars and labels.
    for row, keys in ((0, "P5"), (1, "X"), (2, "P48"), (4, "36"), (5, "P2"), (7, "X")):
        if row < model.rowCount():
            library.select_photo(str(model.index(row).data(PhotoIdRole)))
            for key in keys:
                press(key)
    library.select_photo(str(model.index(0).data(PhotoIdRole)))
    await settle(3.0)
    clear_banners(window)
    save(window, "library")

    photos = [model.index(r).data(PhotoRole) for r in range(model.rowCount())]
    faces = max(photos, key=lambda p: len((p.get("analysis_results") or {}).get("faces") or []))
    library.select_photo(faces["photo_id"])
    library.set_mode("loupe")
    await settle(2.5)
    clear_banners(window)
    save(window, "faces")
    portrait = next(p for p in photos if p.get("file_name") == "portrait.jpg")
    library.select_photo(portrait["photo_id"])
    await settle(1.5)
    press("Z")  # 100 % at the main face
    for _ in range(300):
        if library.loupe.image.is_full_resolution():
            break
        await asyncio.sleep(0.1)
    await settle(1.0)
    clear_banners(window)
    save(window, "loupe-100")

    burst = next(p for p in photos if p.get("group_id") and (p.get("group_size") or 0) > 2)
    library.set_mode("grid")
    selection = grid.selectionModel()
    assert selection is not None
    selection.clearSelection()
    members = [p for p in photos if p.get("group_id") == burst["group_id"]][:4]
    for photo in members:
        at = model.row_of(photo["photo_id"])
        if at is not None:
            selection.select(model.index(at), QItemSelectionModel.SelectionFlag.Select)
    library.set_mode("compare")
    await settle(2.0)
    clear_banners(window)
    save(window, "compare")
    await desk.stop()


def main() -> int:
    """Entry point."""
    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    run = shoot_culling if "--culling" in sys.argv else shoot
    with tempfile.TemporaryDirectory(prefix="desktop-shots-") as tmp, loop:
        loop.run_until_complete(run(Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
