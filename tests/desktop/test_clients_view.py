"""Clients view: a real loopback client is listed live, and Disconnect closes it with 4009."""

from __future__ import annotations

import aiohttp

from bridge_server.web.ws_messages import CLOSE_BY_OPERATOR
from tests.desktop.conftest import Desk
from tests.helpers import ProtocolClient


def test_lists_a_connected_client_and_disconnects_it_with_4009(desk: Desk) -> None:
    async def scenario() -> None:
        desk.window.show_page("clients")
        view, model = desk.window.clients, desk.models.clients
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{desk.base_url}/ws")
            client = ProtocolClient(ws)
            hello = await client.recv()
            await client.send(
                {"type": "register", "client_type": "lightroom", "client_name": "Studio Mac"}
            )
            await client.recv_type("registration_confirmed")
            await client.subscribe(["jobs", "photos"])
            client_id = hello["client_id"]

            row = await desk.until(lambda: model.get(client_id), what="client listed")
            await desk.until(
                lambda: model.get(client_id)["subscriptions"] == ["jobs", "photos"],
                what="subscriptions shown",
            )
            row = model.get(client_id)
            assert row["client_type"] == "lightroom"
            assert row["client_name"] == "Studio Mac"
            assert row["address"] == "127.0.0.1"
            texts = [model.index(model.rows().index(row), c).data() for c in range(9)]
            assert "Studio Mac" in texts and "jobs, photos" in texts
            # In words first; the jargon is behind Details.
            assert texts[0] in (
                "Studio Mac, connected just now, following the photos",
                "Studio Mac, connected 1 min, following the photos",
            )
            assert view.table.isColumnHidden(7)
            view.details.setChecked(True)
            assert not view.table.isColumnHidden(7)
            assert desk.window.overview.clients.value.text() == "1"

            assert view.select_client(client_id)
            assert view.disconnect_button.isEnabled()
            view.disconnect_button.click()
            assert await client.expect_close() == CLOSE_BY_OPERATOR
            await desk.until(lambda: model.get(client_id) is None, what="client gone")

    desk.run(scenario(), timeout=60)
