"""Pairing: the QR code decodes to the URL with a working one-time code."""

from __future__ import annotations

import aiohttp
import cv2
import numpy as np
from PyQt6.QtGui import QImage

from tests.desktop.conftest import Desk


def _decode(image: QImage) -> str:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    ptr = rgb.constBits()
    ptr.setsize(height * stride)
    array = np.frombuffer(ptr, np.uint8).reshape(height, stride)[:, : width * 3]
    array = array.reshape(height, width, 3).copy()
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(array)
    return str(text)


def test_qr_decodes_to_a_working_pairing_url(desk: Desk) -> None:
    async def scenario() -> None:
        dialog = desk.app.open_pairing()
        assert dialog.isVisible()
        url = dialog.current_url()
        assert url == f"http://127.0.0.1:{desk.app.server.port}/#pair={dialog.code_text}"
        assert _decode(dialog.qr.pixmap().toImage()) == url
        finished: list[int] = []
        dialog.finished.connect(finished.append)
        status: list[str] = []
        dialog.status.destroyed.connect(lambda *_: None)
        desk.models.link.device_paired.connect(lambda _d: status.append(dialog.status.text()))

        code = url.split("#pair=", 1)[1]
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{desk.base_url}/api/pairing/complete",
                json={"code": code, "device_name": "Pixel 8"},
            )
            assert resp.status == 201
            body = await resp.json()
        await desk.until(lambda: status, what="paired")
        assert dialog.status.text() == "Paired: Pixel 8"
        await desk.until(lambda: finished, timeout=5, what="dialog closes")
        await desk.until(
            lambda: desk.models.devices.get(body["device_id"]) is not None, what="device listed"
        )
        assert any(n.kind == "paired" for n in desk.app.notices)

    desk.run(scenario(), timeout=30)


def test_several_addresses_offer_a_choice(desk: Desk) -> None:
    async def scenario() -> None:
        desk.app.settings.host = "0.0.0.0"  # as if listening on the LAN
        desk.app.addresses = ["192.168.1.20", "10.0.0.5"]
        dialog = desk.app.open_pairing()
        assert not dialog.address.isHidden()
        assert dialog.address.count() == 3
        dialog.address.setCurrentIndex(1)
        url = dialog.current_url()
        assert url.startswith("http://10.0.0.5:") and url.endswith(f"#pair={dialog.code_text}")
        assert _decode(dialog.qr.pixmap().toImage()) == url
        dialog.reject()

    desk.run(scenario())
