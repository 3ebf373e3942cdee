"""The floor under fan-out CPU per frame: what the kernel's send costs this machine.

One asyncio server in this process holds 1,000 loopback TCP connections; a separate process
reads them all (plain sockets, no WebSocket). The server writes the same 200-byte frame to every
connection, round after round, and prints its own CPU time per delivered frame:

* `socket.send`, one call per connection and frame: the system call alone, no asyncio;
* `transport.write`, one per connection and frame: what one write per frame costs (picows, and
  the bridge when each flush carries one frame per connection, pay this);
* `transport.write` of k frames joined, one per connection and round of k frames: what the
  bridge's batched flush costs per frame when k frames were ready for a connection.

The fan-out goal (bridge CPU per frame <= 0.5x a bare aiohttp loop's, `bench/fanout.py`) can
only be met below the first two rows, that is when frames queue and a write carries several.

Usage (from the repo root): .venv/bin/python bench/send_floor.py [--connections 1000]
Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import selectors
import socket
import sys
import time
from multiprocessing.connection import Connection

try:
    from bench import _common
except ImportError:  # run as `python bench/send_floor.py`
    import _common  # type: ignore[no-redef]

FRAME = b"\x81\x7e\x00\xc8" + b"x" * 200  # a 200-byte text frame, as a server sends it
FRAMES_PER_CASE = 100_000  # delivered frames measured per row
READ_SECONDS = 300.0  # the reader gives up after this long


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reader(conn: Connection, port: int, n: int) -> None:
    """Open n connections and read everything until the server closes them."""
    _common.raise_fd_limit(n + 256)
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    conn.send("ready")
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    open_count, deadline = n, time.monotonic() + READ_SECONDS
    while open_count and time.monotonic() < deadline:
        for key, _ in selector.select(1.0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                selector.unregister(sock)
                sock.close()
                open_count -= 1


class _Held(asyncio.Protocol):
    def __init__(self, held: list[asyncio.Transport]) -> None:
        self.held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.held.append(transport)


async def _measure(
    transports: list[asyncio.Transport], mode: str, k: int, idle_round_cpu: float
) -> float:
    """CPU µs per delivered frame over FRAMES_PER_CASE frames, written as `mode` says (less a
    round's own sleeps, `idle_round_cpu` seconds each)."""
    rounds = max(1, FRAMES_PER_CASE // (len(transports) * k))
    joined = FRAME * k
    # Duplicates of the transports' sockets (asyncio hands out wrappers without send()).
    socks = [
        socket.fromfd(t.get_extra_info("socket").fileno(), socket.AF_INET, socket.SOCK_STREAM)
        for t in transports
    ] if mode == "socket.send" else []  # fmt: skip
    start = _cpu()
    for _ in range(rounds):
        if mode == "socket.send":
            for sock in socks:
                sock.send(FRAME)  # 204 bytes into an empty buffer: never partial here
        else:
            for transport in transports:
                transport.write(joined)
        # Let the reader drain before the next round, so no buffer fills (no partial writes).
        while any(t.get_write_buffer_size() for t in transports):
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)
    spent = _cpu() - start - rounds * idle_round_cpu
    for sock in socks:
        sock.close()
    return spent / (rounds * len(transports) * k) * 1e6


async def _main(n: int) -> list[list[str]]:
    loop = asyncio.get_running_loop()
    held: list[asyncio.Transport] = []
    server = await loop.create_server(lambda: _Held(held), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    spawn = mp.get_context("spawn")
    parent, child = spawn.Pipe()
    reader = spawn.Process(target=_reader, args=(child, port, n), daemon=True)
    reader.start()
    try:
        await loop.run_in_executor(None, parent.poll, 120.0)
        parent.recv()
        for _ in range(1000):
            if len(held) >= n:
                break
            await asyncio.sleep(0.02)
        assert len(held) == n, f"only {len(held)} of {n} connected"
        start = _cpu()
        for _ in range(20):
            await asyncio.sleep(0.01)
        idle_round_cpu = (_cpu() - start) / 20  # a round's own sleeps, subtracted per row
        rows = []
        cases = [("socket.send", 1), ("transport.write", 1)] + [
            ("transport.write", k) for k in (2, 4, 8)
        ]
        floor = 0.0
        for mode, k in cases:
            us = await _measure(held, mode, k, idle_round_cpu)
            floor = floor or us
            label = f"{mode}, one per frame" if k == 1 else f"{mode}, {k} frames per write"
            rows.append([label, f"{us:.2f}", f"{us / floor:.2f}x"])
        return rows
    finally:
        for transport in held:
            transport.close()
        server.close()
        await loop.run_in_executor(None, reader.join, 30)
        if reader.is_alive():
            reader.terminate()


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= 5000:
        parser.error("need 1 <= --connections <= 5000")
    _common.raise_fd_limit(args.connections + 256)
    print(_common.machine_line(), flush=True)
    rows = asyncio.run(_main(args.connections))
    print(f"\n{args.connections} loopback connections, {len(FRAME)}-byte frames, "
          f"{FRAMES_PER_CASE:,} frames per row; server CPU per delivered frame")  # fmt: skip
    print(_common.table(["how the server writes", "CPU us/frame", "vs socket.send"], rows))
    print(_common.machine_line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
