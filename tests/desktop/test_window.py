"""The window as a whole: empty library, samples, activity, settings, errors shown not lost."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6.QtWidgets import QApplication

from bridge_server.services.errors import NotFound
from desktop.paths import sample_photos
from desktop.tasks import run_service
from tests.desktop.conftest import Desk, import_and_settle


def test_empty_library_offers_hot_folders_and_the_sample_photos(desk: Desk) -> None:
    async def scenario() -> None:
        overview = desk.window.overview
        assert not overview.empty.isHidden()
        assert "No hot folder" in overview.empty.where.text()
        assert 6 <= len(sample_photos()) <= 10
        overview.empty.samples_button.click()
        await desk.until(lambda: overview.empty.isHidden(), what="empty state hidden")
        await desk.until(
            lambda: any(r["session_name"] == "Sample photos" for r in desk.models.sessions.rows()),
            what="sample session",
        )
        await desk.until(
            lambda: desk.models.sessions.rows()[0].get("total_photos") == len(sample_photos()),
            what="session counts",
        )

    desk.run(scenario(), timeout=60)


def test_activity_lists_events_filtered_by_channel(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        view = desk.window.activity
        await desk.until(lambda: view.proxy.rowCount() > 20, what="events listed")
        view.channel.setCurrentIndex(view.channel.findData("photos"))
        channels = {view.proxy.index(r, 2).data() for r in range(view.proxy.rowCount())}
        assert channels == {"photos"}
        details = {view.proxy.index(r, 4).data().split()[0] for r in range(view.proxy.rowCount())}
        assert {"photo_imported", "photo_analyzed", "photo_selected"} <= details

    desk.run(scenario(), timeout=120)


def test_activity_speaks_words_with_the_photo(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        view, models = desk.window.activity, desk.models
        photo_id = models.queue.photo_ids()[0]
        name = models.jobs.photo_names[photo_id]
        models.approve([photo_id])
        desk.window.show_page("activity")
        wanted = f"Approved {name} (Sample photos)"

        def rows() -> list[tuple[str, object]]:
            models.activity.flush()
            return [
                (view.proxy.index(r, 3).data(), view.proxy.index(r, 3).data(1))
                for r in range(view.proxy.rowCount())
            ]

        await desk.until(lambda: any(text == wanted for text, _ in rows()), what=wanted)
        texts = [text for text, _ in rows()]
        assert any(t.startswith("Imported ") and t.endswith("(Sample photos)") for t in texts)
        assert not [t for t in texts if "photo_id=" in t or "None" in t or "{" in t], texts
        # The photo's thumbnail stands beside what happened to it.
        await desk.until(
            lambda: any(text == wanted and icon is not None for text, icon in rows()),
            what="the thumbnail",
        )
        # Ids and raw data are behind the Details toggle.
        assert view.table.isColumnHidden(4) and view.table.isColumnHidden(1)
        view.details.setChecked(True)
        assert not view.table.isColumnHidden(4)

    desk.run(scenario(), timeout=120)


def test_overview_counts_follow_events(desk: Desk) -> None:
    async def scenario() -> None:
        await import_and_settle(desk)
        overview = desk.window.overview
        await desk.until(
            lambda: overview.approval.value.text() == str(desk.models.approval_count),
            what="approval count",
        )
        await desk.until(
            lambda: f"{len(sample_photos())} done" in overview.jobs.detail.text(),
            what="job counts",
        )
        assert overview.phone.value.text().startswith("http://127.0.0.1:")
        assert overview.sessions.detail.text() == "of 1 session"

    desk.run(scenario(), timeout=120)


def test_settings_apply_at_once_or_after_restart(desk: Desk) -> None:
    async def scenario() -> None:
        settings = desk.app.settings
        port = settings.port
        dialog = desk.app.open_settings()
        dialog.muted.setChecked(True)
        dialog.threshold.setValue(3.5)
        dialog.port.setValue(5234)
        dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
        dialog.presets.list.setCurrentRow(0)
        dialog.presets.quality.setValue(77)
        dialog.presets.watermark.setText("© Studio")
        dialog.save()
        await dialog.saving
        assert settings.notifications_muted is True
        assert settings.selection_threshold == 3.5
        assert settings.export_presets[0]["quality"] == 77
        assert settings.export_presets[0]["watermark"] == "© Studio"
        assert settings.port == port  # takes effect after restart
        assert QApplication.instance().property("theme") == "light"
        saved = json.loads((Path(settings.data_dir) / "settings.json").read_text())
        assert saved["port"] == 5234 and saved["notifications_muted"] is True
        banners = [b.text for b in desk.window.banners.banners()]
        assert any("takes effect after restart" in t and "Port" in t for t in banners)
        # Reopened, the dialog shows the saved port, not the running one.
        again = desk.app.open_settings()
        assert again.port.value() == 5234
        again.reject()

    desk.run(scenario())


def test_a_failing_action_is_shown_in_a_banner(desk: Desk) -> None:
    async def scenario() -> None:
        desk.models.approve(["p_doesnotexist"])
        await desk.until(lambda: desk.window.banners.banners(), what="a banner")
        text = desk.window.banners.banners()[0].text
        assert "Approving failed" in text and "p_doesnotexist" in text

        async def boom() -> None:
            raise NotFound("Nothing here")

        run_service(boom(), what="Looking")
        await desk.until(
            lambda: any(
                "Looking failed: Nothing here" == b.text for b in desk.window.banners.banners()
            ),
            what="second banner",
        )

    desk.run(scenario())


def test_exceptions_in_slots_and_callbacks_show_a_banner(desk: Desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    from desktop.tasks import install_exception_hooks

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_exception_hooks(desk.loop)

    async def scenario() -> None:
        try:
            raise ValueError("bad value in a slot")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)  # what PyQt does for a slot

        def callback() -> None:
            raise RuntimeError("bad callback")

        desk.loop.call_soon(callback)
        await desk.until(lambda: len(desk.window.banners.banners()) >= 2, what="two banners")
        texts = " | ".join(b.text for b in desk.window.banners.banners())
        assert "Unexpected error: ValueError: bad value in a slot" in texts
        assert "RuntimeError: bad callback" in texts

    try:
        desk.run(scenario())
    finally:
        desk.loop.set_exception_handler(None)
