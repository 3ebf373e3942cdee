"""The shared send path of every WebSocket: each frame built once, written whole, several at once.

The broker hands one text frame to many connections. Each connection keeps the frames it has
ready; the first frame of a loop pass puts the connection on the shared sender's list and
schedules one flush callback (no task per connection, no task per frame). The flush builds the
wire bytes of each distinct text once (header + UTF-8 payload, as RFC 6455 frames it, shared by
every connection that gets it) and hands a connection all its ready frames in one
`transport.write`. When the server falls behind, events gather between flushes, so a write
carries more frames: the cost per frame falls as the load rises.

By default a round of flushes runs at the end of the loop pass that readied its first frame:
nothing waits. One exception paces a busy server: after a round whose writes took PACE_FLOOR of CPU
or more (about a hundred phones or more), the next round begins no sooner than twice that long
after it ended (at most MAX_PACE). Writing then takes at most about a third of the loop, the rest
is left for requests and pings, and the frames published meanwhile share a write: a write costs
about the same whether it carries one frame or eight (`bench/send_floor.py`), so the CPU per frame
falls (`bench/fanout.py` prints the frames per write). The price is latency under that load only: a
studio's 20 phones are written in well under PACE_FLOOR and never wait.

`ws_write_delay` (seconds, off by default) also makes each round begin that long after its
first frame, as Centrifugo's `client.write_delay` does: a connection is written at most once per
delay, however few phones there are. Less CPU per frame, at the cost of up to that much latency
for every frame (replies included).

Frames are written whole and synchronously, as aiohttp's own writer writes its control frames
(pings, pongs, close), so the two never interleave inside a frame. A connection whose transport
is above low water, or whose frames would take it past high water, gets the rest in its own
backlog (written by its writer task, which may wait for drain): the slow-client rules apply
there. Per connection frames are never reordered: while it has a backlog, new frames follow it.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .ws import ClientConnection

log = logging.getLogger(__name__)

# A WebSocket frame header is at most this long (server frames are not masked).
FRAME_HEADER_BYTES: Final = 10
# FIN + opcode 1 (text), no RSV bits: per-message deflate stays off (see ws.websocket_handler).
_FIN_TEXT: Final = 0x81
# Connections written per loop pass: between two chunks the loop reads sockets again (requests,
# pings), and events that arrive meanwhile join the frames of the connections still waiting.
FLUSH_CHUNK: Final = 256
# Distinct frames whose wire bytes are kept at most (a round's: usually one or a few).
WIRE_CACHE_FRAMES: Final = 256
MAX_WRITE_DELAY: Final = 0.1  # seconds: a longer wait would be felt on a phone
# A round whose writes took this much CPU (seconds; ~100 sends) makes the next one wait twice as
# long: the loop then spends at most about a third of its time writing.
PACE_FLOOR: Final = 0.002
MAX_PACE: Final = 0.05  # the longest rest after a busy round, seconds

WireOf = Callable[[str], bytes]


def write_delay_from(value: object) -> float:
    """The `ws_write_delay` setting as a usable delay: 0 to MAX_WRITE_DELAY seconds; anything
    else (a typo in the settings file) means no delay, said once in the log."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        if 0 <= value <= MAX_WRITE_DELAY:
            return float(value)
    log.warning("ws_write_delay %r is not 0-%g seconds; frames are written at once",
                value, MAX_WRITE_DELAY)  # fmt: skip
    return 0.0


def rest_after(busy: float) -> float:
    """Seconds the next round waits after a round whose writes took `busy` seconds: none for a
    small round, else twice as long as the writes took (so writing takes at most about a third of
    the loop), up to MAX_PACE."""
    return 0.0 if busy < PACE_FLOOR else min(2 * busy, MAX_PACE)


def text_frame(text: str) -> bytes:
    """One unmasked, unfragmented WebSocket text frame (header + UTF-8 payload)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _FIN_TEXT, size)
    elif size < 65536:
        header = struct.pack("!BBH", _FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, size)
    return header + payload


def writable_room(transport: asyncio.BaseTransport | None) -> int:
    """How many bytes can be written now without the transport reaching a paused state.

    asyncio pauses a protocol above the transport's high-water mark and resumes it only once the
    buffer is back at or below the low-water mark, so anywhere above low water the protocol may
    still be paused (then no room). Below it, the room is what is left under high water.
    """
    if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
        return -1
    low, high = transport.get_write_buffer_limits()
    buffered = transport.get_write_buffer_size()
    if buffered > low:
        return 0
    return high - buffered


class FanoutSender:
    """The connections with frames ready, and the rounds of flushes that write them.

    A round takes the connections that readied a frame before it began and writes them in
    chunks. A connection that readies a frame while a round is under way waits for the next
    round. That one begins at the end of the loop pass that readied its first frame, and no
    sooner than `write_delay` after that frame, nor before the rest a busy round earned (see
    `rest_after`).

    `clock` times the writes: the loop thread's CPU seconds, so a pause of the process does not
    count as work. The tests give one that makes every round look busy.
    """

    def __init__(
        self, write_delay: float = 0.0, clock: Callable[[], float] = time.thread_time
    ) -> None:
        self._waiting: deque[ClientConnection] = deque()  # ready since the last round began
        self._round: deque[ClientConnection] = deque()  # this round's, still to write
        self._round_due = False  # the next round is scheduled (timer or callback pending)
        self._in_round = False  # a round is under way: its next chunk is scheduled
        self._write_delay = write_delay
        self._timer: asyncio.TimerHandle | None = None
        self.clock = clock
        self._first_waiting = 0.0  # loop time the first waiting connection readied a frame
        self._busy = 0.0  # seconds spent writing in the round under way
        self._rest_until = 0.0  # loop time before which no round begins (after a busy one)
        # Wire bytes by text, for the frames of the round under way (bounded: see _write_chunk).
        self._wire: dict[str, bytes] = {}

    def push(self, connection: ClientConnection, frame: str) -> None:
        """Add a frame to the connection's ready frames and make sure a round will write them."""
        ready = connection.ready
        if not ready:
            if not self._waiting:
                self._first_waiting = asyncio.get_running_loop().time()
            self._waiting.append(connection)
            if not (self._round_due or self._in_round):
                self._schedule_round()
        ready.append(frame)

    def wire(self, text: str) -> bytes:
        """The frame's wire bytes, built once however many connections get it."""
        data = self._wire.get(text)
        if data is None:
            data = self._wire[text] = text_frame(text)
        return data

    def _schedule_round(self) -> None:
        self._round_due = True
        loop = asyncio.get_running_loop()
        due = max(self._first_waiting + self._write_delay, self._rest_until)
        if due > loop.time():
            self._timer = loop.call_at(due, self._begin_round)
        else:
            loop.call_soon(self._begin_round)

    def _begin_round(self) -> None:
        self._timer = None
        self._round_due = False
        self._round.extend(self._waiting)
        self._waiting.clear()
        self._in_round = True
        self._write_chunk()

    def _write_chunk(self) -> None:
        pending = self._round
        wire = self.wire
        started = self.clock()
        try:
            for _ in range(min(len(pending), FLUSH_CHUNK)):
                connection = pending.popleft()
                try:
                    connection.write_ready(wire)
                except Exception:  # one broken socket must not stop the others
                    log.debug("Send to %s failed", connection.client_id, exc_info=True)
                    connection.close_soon(1011, "Send failed")
        finally:  # whatever happened, the round goes on or ends: no frame is left waiting
            self._busy += self.clock() - started
            loop = asyncio.get_running_loop()
            if pending:
                loop.call_soon(self._write_chunk)
            else:
                self._end_round(loop)
            # Frames still waiting are rebuilt once in their round: the cache holds no
            # history, even when the server never runs out of work.
            if not pending or len(self._wire) > WIRE_CACHE_FRAMES:
                self._wire.clear()

    def _end_round(self, loop: asyncio.AbstractEventLoop) -> None:
        """A busy round earns the loop a rest; then the connections readied meanwhile go."""
        self._in_round = False
        rest = rest_after(self._busy)
        self._busy = 0.0
        self._rest_until = loop.time() + rest if rest else 0.0
        if self._waiting:
            self._schedule_round()

    async def close(self) -> None:
        """Forget the connections still waiting (the server is stopping)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._round_due = False
        self._in_round = False
        self._waiting.clear()
        self._round.clear()
        self._wire.clear()
