"""A second start on the same data folder brings the running window forward (QLocalServer).

The data folder itself is held by bridge_server.instance.InstanceLock; this module only carries
the "show yourself" request from the second process to the first, over a local socket whose
name is derived from the data folder (so instances on different folders never meet).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Final

from PyQt6.QtCore import QObject
from PyQt6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIVATE: Final = b"activate\n"
ACKNOWLEDGED: Final = b"ok\n"
WAIT_MS: Final = 3000


def socket_name(data_dir: str | Path) -> str:
    """The local socket's name for a data folder (same folder, same name, any spelling)."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:20]
    return f"autodev-bridge-{digest}"


class ActivationServer(QObject):
    """Listens for second starts and calls `on_activate` for each."""

    def __init__(self, data_dir: str | Path, on_activate: Callable[[], None]) -> None:
        super().__init__()
        self.name = socket_name(data_dir)
        self._on_activate = on_activate
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Listen; the caller holds the data folder's lock, so a leftover socket is stale."""
        QLocalServer.removeServer(self.name)  # what a killed instance left behind
        if not self.server.listen(self.name):
            log.warning("Second starts cannot reach this window: %s", self.server.errorString())
            return False
        return True

    def close(self) -> None:
        """Stop listening."""
        self.server.close()

    def _accept(self) -> None:
        while (conn := self.server.nextPendingConnection()) is not None:
            conn.readyRead.connect(partial(self._read, conn))
            conn.disconnected.connect(conn.deleteLater)

    def _read(self, conn: QLocalSocket) -> None:
        if not conn.canReadLine():
            return
        if bytes(conn.readLine().data()) == ACTIVATE:
            log.info("Another start on this data folder: bringing the window forward")
            self._on_activate()
            conn.write(ACKNOWLEDGED)
            conn.flush()
        conn.disconnectFromServer()


def serve_activation(data_dir: str | Path, on_activate: Callable[[], None]) -> ActivationServer:
    """An ActivationServer for `data_dir`, listening."""
    server = ActivationServer(data_dir, on_activate)
    server.listen()
    return server


def ask_running_window_to_show(data_dir: str | Path) -> bool:
    """Ask the window running on `data_dir` to come forward; False if no window answered."""
    sock = QLocalSocket()
    sock.connectToServer(socket_name(data_dir))
    if not sock.waitForConnected(WAIT_MS):
        return False
    sock.write(ACTIVATE)
    if not sock.waitForBytesWritten(WAIT_MS):
        return False
    reply = b""
    while not reply.endswith(b"\n") and sock.waitForReadyRead(WAIT_MS):
        reply += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    return reply == ACKNOWLEDGED
