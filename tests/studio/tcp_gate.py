"""A TCP relay on loopback that a test can shut and open again: PostgreSQL or Redis "going down"
for the machines that reach them through it, while the real server keeps running. It can also
lose one answer: the request reaches the server, which acts on it, and the connection is cut
before its answer gets back."""

from __future__ import annotations

import asyncio
import contextlib


class TcpGate:
    """Relays 127.0.0.1:<port> to a target; `shut()` cuts every connection and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._lose: tuple[tuple[bytes, ...], asyncio.Future[None]] | None = None

    def lose_answer_to(self, *markers: bytes) -> asyncio.Future[None]:
        """Cut the connection of the next request holding every marker once the server has
        answered it, dropping the answer; the future is done when that happened."""
        lost = asyncio.get_running_loop().create_future()
        self._lose = (markers, lost)
        return lost

    async def open(self) -> None:
        """Accept and relay (again, on the same port); a no-op while open."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def shut(self) -> None:
        """Close the listening socket and every relayed connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        losing: asyncio.Future[None] | None = None  # this connection's request to cut after

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            nonlocal losing
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if up and self._lose is not None and all(m in data for m in self._lose[0]):
                        losing, self._lose = self._lose[1], None
                    if not up and losing is not None:  # the answer: dropped, and the line cut
                        writer.close()
                        up_writer.close()
                        losing.set_result(None)
                        return
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))
        self._writers -= {writer, up_writer}
