"""Share for proofing: the QR decodes to a working link; withdrawing it locks guests out."""

from __future__ import annotations

import aiohttp

from bridge_server.services import sessions
from desktop.dialogs.proofing import ShareDialog
from tests.desktop.conftest import Desk
from tests.desktop.test_pairing import _decode


def test_the_qr_opens_the_gallery_and_withdrawing_the_link_refuses_it(desk: Desk) -> None:
    async def scenario() -> None:
        session = await sessions.create_session(desk.ctx, "Wedding Anna & Ben", None)
        await desk.until(
            lambda: desk.models.sessions.get(session["session_id"]) is not None, what="listed"
        )
        view = desk.window.sessions
        desk.window.show_page("sessions")
        view.table.selectRow(0)
        assert view.share_button.isEnabled()
        view.share_button.click()
        dialog = next(iter(desk.window.findChildren(ShareDialog)))
        dialog.visibility.setCurrentIndex(0)
        dialog.create_link()
        await desk.until(lambda: dialog.current_url(), what="link created")
        url = dialog.current_url()
        assert url.startswith(f"http://127.0.0.1:{desk.app.server.port}/proof.html#link=")
        assert _decode(dialog.qr.pixmap().toImage()) == url
        secret = url.split("#link=", 1)[1]
        async with aiohttp.ClientSession() as http:
            join = f"{desk.base_url}/api/proofing/join"
            resp = await http.post(join, json={"link": secret, "client_name": "Anna"})
            assert resp.status == 201
            page = await http.get(url.split("#", 1)[0])
            assert page.status == 200 and "See the photos" in await page.text()
            dialog.refresh()
            await desk.until(lambda: dialog.guests.count() == 1, what="guest listed")
            assert dialog.guests.item(0).text() == "Anna"
            dialog.withdraw()
            await desk.until(lambda: not dialog.current_url(), what="withdrawn")
            resp = await http.post(join, json={"link": secret, "client_name": "Ben"})
            assert resp.status == 401
        await desk.until(lambda: dialog.guests.count() == 0, what="guests removed")
        dialog.reject()

    desk.run(scenario(), timeout=30)
