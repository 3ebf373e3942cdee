"""The WebSocket endpoint `/ws`: one ClientConnection per socket.

A connection owns its life: handshake, a registration phase with a timeout, the reader loop,
and a bounded outbound queue. The broker hands it frames through `deliver()`, which never waits;
they go out through the shared sender (`fanout.py`, whole frames, several per write) or, while
its socket is congested, through its own writer task (the backlog). Every frame the server
queues for a client (events, replays, replies, pongs, errors) counts toward its limits; a client
that falls too far behind is closed with 4008 and resumes with `since`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from ..audience import ProofingScope
from ..broker import serialize
from ..context import BridgeContext
from ..events import ALL_CHANNELS, Channel
from ..ids import new_id
from ..roles import Role
from ..services import pairing, proofing_links
from ..services.commands import COMMANDS
from ..services.errors import ServiceError, store_unavailable
from ..timeutil import now_iso
from ..validation import is_valid_unicode, loads_json
from . import ws_messages as m
from .context_keys import CTX, FAILURES, FANOUT
from .fanout import FanoutSender, WireOf, writable_room
from .middleware import inspect_door
from .routes import ws_message_allowed
from .security import FailureTracker

log = logging.getLogger(__name__)


GUEST_CHANNELS = frozenset({Channel.PROOFING.value})


class ProtocolError(Exception):
    """A client message the protocol refuses; the connection stays open."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ClientConnection:
    """One WebSocket client: identity, subscriptions, and its outbound buffer."""

    # Fixed attributes: every event touches a thousand of these, and slots keep each one's
    # state compact (the broker's hand-over per connection is mostly memory traffic).
    __slots__ = (
        "_buffer",
        "_closer",
        "_closing",
        "_failures",
        "_fanout",
        "_flush_on_close",
        "_invalid_in_a_row",
        "_link_timer",
        "_peak_timer",
        "_ready",
        "_transport",
        "_writer",
        "_writing",
        "address",
        "audience",
        "client_id",
        "client_name",
        "client_type",
        "connected_at",
        "ctx",
        "device_id",
        "last_ping",
        "messages_sent",
        "peak_pending_frames",
        "pending_bytes",
        "pending_frames",
        "ready",
        "registered",
        "role",
        "trusted",
        "writes",
        "ws",
    )

    def __init__(
        self,
        ctx: BridgeContext,
        ws: web.WebSocketResponse,
        address: str,
        failures: FailureTracker,
        fanout: FanoutSender,
        transport: asyncio.BaseTransport | None,
        trusted: bool = False,
    ) -> None:
        self.ctx = ctx
        self._failures = failures
        self._fanout = fanout
        self._transport = transport
        self.ws = ws
        self.address = address
        self.client_id = new_id("c")
        self.client_type = "unknown"
        self.client_name = ""
        self.device_id: str | None = None
        self.trusted = trusted  # a local operator (the door decided: see middleware.inspect_door)
        self.role: Role | None = Role.OPERATOR if trusted else None
        # A proofing guest's scope: the broker sends it only what this allows (audience.py).
        self.audience: ProofingScope | None = None
        self.registered = False
        self.connected_at = now_iso()
        self.last_ping: str | None = None  # when the client last sent `ping` (clients list)
        self.messages_sent = 0
        self.writes = 0  # hand-overs to the transport: messages_sent / writes frames per write
        self._buffer: deque[str] = deque()  # the backlog, sent by this connection's writer
        self.ready: list[str] = []  # frames for the shared sender's next flush (no backlog)
        # Everything queued and not yet handed to the transport (ready frames and backlog).
        self.pending_frames = 0
        self.pending_bytes = 0
        self.peak_pending_frames = 0  # the most ever queued at once
        self._peak_timer: asyncio.TimerHandle | None = None
        self._link_timer: asyncio.TimerHandle | None = None  # a guest's link runs out
        self._writing = False
        self._ready = asyncio.Event()
        self._closing = False
        self._flush_on_close = False
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._invalid_in_a_row = 0

    @property
    def closing(self) -> bool:
        """True once the server or the peer started closing this connection."""
        return self._closing

    # --- outbound ------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        """Queue a reply, pong or error; counts toward the limits like any frame."""
        self.send_frame(serialize(message))

    def send_frame(self, frame: str) -> None:
        """Queue an already serialized frame, keeping this connection's order and limits;
        overflow closes this connection only (4008)."""
        if self._closing:
            return
        # Run once per connection and event (a thousand times per event): kept lean.
        frames = self.pending_frames + 1
        size = self.pending_bytes + len(frame)
        if frames > m.MAX_PENDING_FRAMES or size > m.MAX_PENDING_BYTES:
            self.close_soon(m.CLOSE_TOO_SLOW, "Too slow: resume with since")
            return
        self.pending_frames = frames
        self.pending_bytes = size
        if frames > self.peak_pending_frames:
            self.peak_pending_frames = frames
        if frames > m.PENDING_PEAK_FRAMES and self._peak_timer is None:
            self._peak_timer = asyncio.get_running_loop().call_later(
                self.ctx.settings.ws_pending_peak_seconds, self._peak_held
            )
        if self._buffer or self._writing:
            self._buffer.append(frame)
            self._wake_writer()
        else:
            self._fanout.push(self, frame)

    # The broker's hand-over of a broadcast frame (its Subscriber protocol): the same queue.
    deliver = send_frame

    def write_ready(self, wire: WireOf) -> None:
        """Called by the shared sender: write the ready frames whole in one go, as far as the
        transport has room below high water; the rest goes to the backlog, in order."""
        frames = self.ready
        if not frames:
            return
        self.ready = []
        if self._closing:
            if self._flush_on_close:
                self._buffer.extend(frames)  # _close sends them before the close frame
            return
        room = 0 if self._buffer or self._writing else writable_room(self._transport)
        if room < 0 or self.ws.closed:  # no socket to write to, or aiohttp sent its close frame
            return
        chunks: list[bytes] = []
        size = chars = 0
        for text in frames:
            data = wire(text)
            if size + len(data) > room:
                break
            chunks.append(data)
            size += len(data)
            chars += len(text)
        if chunks:
            transport = self._transport
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
            self.writes += 1
            self._sent(len(chunks), chars)
        if len(chunks) < len(frames):
            self._buffer.extend(frames[len(chunks) :])
            self._wake_writer()

    def _wake_writer(self) -> None:
        # Started at the first backlog: an idle phone costs no task of its own.
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        self._ready.set()

    def _sent(self, count: int, chars: int) -> None:
        self.messages_sent += count
        self.pending_frames -= count
        self.pending_bytes -= chars
        if self._peak_timer is not None and self.pending_frames <= m.PENDING_PEAK_FRAMES:
            self._peak_timer.cancel()
            self._peak_timer = None

    def _peak_held(self) -> None:
        self._peak_timer = None
        if self.pending_frames > m.PENDING_PEAK_FRAMES:
            self.close_soon(m.CLOSE_TOO_SLOW, "Too slow: resume with since")

    async def _write_loop(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            self._writing = True
            try:
                while self._buffer and not self._closing:
                    # Popped first: once send_str starts, the frame is in the transport.
                    frame = self._buffer.popleft()
                    await self.ws.send_str(frame)
                    self.writes += 1
                    self._sent(1, len(frame))
            finally:
                self._writing = False

    def close_soon(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close with a protocol code, without waiting (safe from broker callbacks).

        With `flush`, frames already queued (such as the error that explains the close) are
        sent first; otherwise they are dropped, as for a client that fell behind.
        """
        if self._closing:
            return
        self._closing = True
        self._flush_on_close = flush
        if self._peak_timer is not None:
            self._peak_timer.cancel()
            self._peak_timer = None
        if flush:
            self._buffer.extend(self.ready)  # ready frames are newer than any backlog
        else:
            self._buffer.clear()
        self.ready = []
        self.ctx.broker.remove(self)
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        # The writer is left alone, not cancelled: it may be waiting for drain, and cancelling
        # that wait would also cancel aiohttp's drain future that the close frame waits on.
        # A client that reads nothing would keep the close waiting for drain forever: give it
        # CLOSE_TIMEOUT to take the close frame, then cut the socket (which wakes every wait
        # for drain, so the close task then ends by itself).
        closing = asyncio.get_running_loop().create_task(self._send_close(code, reason))
        done, _ = await asyncio.wait({closing}, timeout=m.CLOSE_TIMEOUT)
        if not done:
            log.debug("Client %s did not take its close frame; cutting it", self.client_id)
            if isinstance(self._transport, asyncio.Transport):
                self._transport.abort()
            await asyncio.gather(closing, return_exceptions=True)

    async def _send_close(self, code: int, reason: str) -> None:
        try:
            while self._buffer and not self.ws.closed:
                await self.ws.send_str(self._buffer.popleft())
            await self.ws.close(code=code, message=reason.encode("utf-8")[:120])
        except Exception:  # the peer is gone already
            log.debug("Close of %s failed", self.client_id, exc_info=True)

    async def flush_and_close(self, code: int, reason: str) -> None:
        """Send what is queued, then close (used for server shutdown)."""
        self.close_soon(code, reason, flush=True)
        if self._closer is not None:
            await asyncio.gather(self._closer, return_exceptions=True)

    def info(self) -> dict[str, Any]:
        """The client as the clients list shows it."""
        return {
            "id": self.client_id,  # the original's name for client_id
            "client_id": self.client_id,
            "client_type": self.client_type,
            "client_name": self.client_name,
            "address": self.address,
            "connected_at": self.connected_at,
            "last_ping": self.last_ping,
            "registered": self.registered,
            "device_id": self.device_id,
            "subscriptions": sorted(self.ctx.broker.channels_of(self)),
            "queue_depth": self.pending_frames,
            "messages_sent": self.messages_sent,
        }

    # --- inbound -------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run the connection until either side closes it."""
        ctx = self.ctx
        ctx.clients.add(self)
        # Every socket must register in time, trusted or not; registered ones stay as long as
        # they answer the heartbeat pings.
        register_timer = asyncio.get_running_loop().call_later(
            ctx.settings.ws_register_timeout, self._register_timeout
        )
        try:
            self.send(
                {
                    "type": "connection_established",
                    "client_id": self.client_id,
                    "server_time": now_iso(),
                    "protocol": m.PROTOCOL_VERSION,
                    "auth_required": not self.trusted,
                    "seq": ctx.broker.last_seq,
                    "epoch": ctx.broker.epoch,
                }
            )
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self._handle_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._invalid("invalid_message", "Frames must be UTF-8 JSON text")
                elif msg.type == WSMsgType.ERROR:
                    break
                if self._closing:
                    break
        finally:
            register_timer.cancel()
            if self._peak_timer is not None:
                self._peak_timer.cancel()
            if self._link_timer is not None:
                self._link_timer.cancel()
            self._closing = True
            ctx.broker.remove(self)
            ctx.clients.remove(self)
            if self._closer is not None:  # first: it may share the writer's wait for drain
                await asyncio.gather(self._closer, return_exceptions=True)
            if self._writer is not None:
                self._writer.cancel()
                await asyncio.gather(self._writer, return_exceptions=True)

    def _link_expired(self) -> None:
        self._link_timer = None
        self.send(m.error_message("auth_failed", "This proofing link has expired"))
        self.close_soon(m.CLOSE_AUTH, "Proofing link expired", flush=True)

    def _register_timeout(self) -> None:
        if not self.registered:
            self.close_soon(m.CLOSE_REGISTER_TIMEOUT, "Register in time")

    def _invalid(self, code: str, message: str) -> None:
        self._invalid_in_a_row += 1
        self.send(m.error_message(code, message))
        if self._invalid_in_a_row >= m.MAX_INVALID_IN_A_ROW:
            self.close_soon(m.CLOSE_TOO_MANY_INVALID, "Too many invalid messages", flush=True)

    async def _handle_text(self, text: str) -> None:
        try:
            message = loads_json(text)  # RecursionError and NaN become ValueError
        except ValueError:
            self._invalid("invalid_json", "Frame is not valid JSON")
            return
        if not is_valid_unicode(message):
            # A lone surrogate (\ud800) could not be echoed back or stored: refuse it here.
            self._invalid("invalid_json", "Frame holds a lone surrogate: not valid Unicode")
            return
        try:
            if not isinstance(message, dict):
                raise ProtocolError("invalid_message", "A message must be a JSON object")
            kind = message.get("type")
            if kind is None:
                raise ProtocolError("missing_type", "Message has no 'type'")
            if not isinstance(kind, str) or kind not in HANDLERS:
                raise ProtocolError("unknown_type", f"Unknown message type: {kind!r}")
            if not self.registered and not self.trusted and kind not in ("ping", "register"):
                raise ProtocolError("not_registered", "Send 'register' with a device token first")
            if not ws_message_allowed(kind, self.role):
                raise ProtocolError("forbidden", f"'{kind}' is not allowed for role {self.role}")
            await HANDLERS[kind](self, message)
            self._invalid_in_a_row = 0
        except ProtocolError as exc:
            self._invalid(exc.code, exc.message)

    # --- message handlers ----------------------------------------------------------------

    async def on_ping(self, message: dict[str, Any]) -> None:
        """Answer a ping."""
        self.last_ping = now_iso()
        self.send({"type": "pong", "timestamp": now_iso()})

    async def on_register(self, message: dict[str, Any]) -> None:
        """Name the client and, for remote clients, check the device token."""
        client_type = _opt_str(message, "client_type", m.CLIENT_TYPE_MAX) or "unknown"
        client_name = _opt_str(message, "client_name", m.CLIENT_NAME_MAX) or ""
        token = _opt_str(message, "token", m.TOKEN_MAX)
        failures = self._failures
        if token is not None or not self.trusted:
            device = await pairing.authenticate(self.ctx, token or "")
            # A valid token passes even from a banned address (a venue's shared NAT).
            if device is None and failures.banned(self.address):
                self.send(m.error_message("rate_limited", "Too many failed attempts; wait"))
                self.close_soon(m.CLOSE_AUTH, "Too many failed attempts", flush=True)
                return
            if device is None:
                failures.failed(self.address)
                self.send(m.error_message("auth_failed", "Missing or invalid device token"))
                self.close_soon(m.CLOSE_AUTH, "Authentication failed", flush=True)
                return
            role = pairing.device_role(device)
            if role == Role.CLIENT:
                try:
                    self.audience = await proofing_links.scope_of(self.ctx, device.id)
                except ServiceError as exc:
                    self.send(m.error_message("auth_failed", exc.message))
                    self.close_soon(m.CLOSE_AUTH, "Proofing link expired or withdrawn", flush=True)
                    return
                # The guest's socket ends with its link, not only its deliveries.
                left = max(0.0, self.audience.expires_at - time.time())
                if math.isfinite(left):
                    loop = asyncio.get_running_loop()
                    self._link_timer = loop.call_later(left, self._link_expired)
            self.device_id = device.id
            self.role = role
        self.client_type, self.client_name = client_type, client_name
        self.registered = True
        self.send(
            {
                "type": "registration_confirmed",
                "client_id": self.client_id,
                "client_type": client_type,
                "client_name": client_name,
            }
        )
        self.ctx.clients.changed()

    async def on_subscribe(self, message: dict[str, Any]) -> None:
        """Add channels, replaying from `since` first when asked."""
        channels = _channel_list(message)
        if self.role == Role.CLIENT and channels - GUEST_CHANNELS:
            raise ProtocolError("forbidden", "A proofing guest may subscribe only to 'proofing'")
        since = message.get("since")
        if since is not None and (
            isinstance(since, bool) or not isinstance(since, int) or since < 0
        ):
            raise ProtocolError("invalid_message", "'since' must be a non-negative integer")
        epoch = message.get("epoch")
        if epoch is not None and not isinstance(epoch, str):
            raise ProtocolError("invalid_message", "'epoch' must be a string")
        broker = self.ctx.broker
        limit = self.ctx.settings.ws_recovery_limit
        if since is not None and not broker.can_replay_now(since, channels, limit, self.audience):
            await broker.history_loaded()  # a start restores the oldest events last
        reply: dict[str, Any] = {"type": "subscription_confirmed"}
        # No await from here on: replay, subscription and confirmation happen in one step of
        # the loop, so no live event can fall between them or be sent twice.
        if since is not None:
            replay = None
            # A `since` from another epoch counts in a history this server no longer has.
            if epoch is None or epoch == broker.epoch:
                replay = broker.events_since(since, channels, limit=limit, audience=self.audience)
            if replay is None:
                reply.update(recovered=False, replayed=0)
            else:
                for event in replay:
                    self.send_frame(event.frame)
                reply.update(recovered=True, replayed=len(replay))
        current = broker.set_channels(self, broker.channels_of(self) | channels)
        reply["channels"] = sorted(current)
        reply["seq"] = broker.last_seq
        reply["epoch"] = broker.epoch
        self.send(reply)
        self.ctx.clients.changed()

    async def on_unsubscribe(self, message: dict[str, Any]) -> None:
        """Remove channels; the reply names those removed (as the original) and those left."""
        channels = _channel_list(message)
        broker = self.ctx.broker
        before = broker.channels_of(self)
        current = broker.set_channels(self, before - channels)
        self.send(
            {
                "type": "unsubscription_confirmed",
                "channels": sorted(before - current),
                "subscribed": sorted(current),
            }
        )
        self.ctx.clients.changed()

    async def on_command(self, message: dict[str, Any]) -> None:
        """Run a service operation and answer with its result."""
        command_id = message.get("id")
        if (
            command_id is None
            or isinstance(command_id, bool)
            or not isinstance(command_id, (int, str))
        ):
            raise ProtocolError("invalid_message", "'id' must be an integer or a string")
        name = message.get("command")
        if not isinstance(name, str):
            raise ProtocolError("invalid_message", "'command' must be a string")
        command = COMMANDS.get(name)
        if command is None:
            self.send(m.result_error(command_id, "unknown_command", f"Unknown command: {name!r}"))
            return
        if not command.allows(self.role):
            roles = ", ".join(sorted(command.roles))
            self.send(m.result_error(command_id, "forbidden", f"{name!r} is for: {roles}"))
            return
        try:
            data = await command.handler(self.ctx, message)
        except ServiceError as exc:
            self.send(m.result_error(command_id, exc.code, exc.message))
            return
        except Exception as exc:
            if (refusal := store_unavailable(exc)) is not None:
                log.warning("Command %s: database unreachable: %s", name, exc)
                self.send(m.result_error(command_id, refusal.code, refusal.message))
                return
            log.exception("Command %s failed", name)
            self.send(m.result_error(command_id, "internal_error", "The command failed"))
            return
        # The command's events reach the caller before its result, in studio mode too.
        await self.ctx.broker.shown()
        self.send(m.result_ok(command_id, data))


def _opt_str(message: dict[str, Any], key: str, max_len: int) -> str | None:
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolError("invalid_message", f"'{key}' must be a string")
    if len(value) > max_len:
        raise ProtocolError("invalid_message", f"'{key}' must be at most {max_len} characters")
    return value


def _channel_list(message: dict[str, Any]) -> frozenset[str]:
    channels = message.get("channels")
    if not isinstance(channels, list):
        raise ProtocolError("invalid_message", "'channels' must be a list of channel names")
    if not channels:
        raise ProtocolError("invalid_message", "'channels' must not be empty")
    names: set[str] = set()
    for name in channels:
        if not isinstance(name, str):
            raise ProtocolError("invalid_message", "'channels' must hold strings")
        if name == "*":
            names.update(ALL_CHANNELS)
        elif name in ALL_CHANNELS:
            names.add(name)
        else:
            raise ProtocolError("unknown_channel", f"Unknown channel: {name!r}")
    return frozenset(names)


HANDLERS = {
    "ping": ClientConnection.on_ping,
    "register": ClientConnection.on_register,
    "subscribe": ClientConnection.on_subscribe,
    "unsubscribe": ClientConnection.on_unsubscribe,
    "command": ClientConnection.on_command,
}


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    """Upgrade, check the door, then hand the socket to a ClientConnection."""
    ctx = request.app[CTX]
    # No per-message deflate: frames are small JSON, and compressing each one for each client
    # costs more CPU than it saves on a LAN.
    ws = web.WebSocketResponse(
        heartbeat=m.HEARTBEAT_SECONDS, max_msg_size=m.MAX_FRAME_BYTES, compress=False
    )
    await ws.prepare(request)
    door = inspect_door(request)
    if door.refusal is not None:
        await ws.close(code=m.CLOSE_FORBIDDEN, message=door.refusal[2].encode())
        return ws
    client = ClientConnection(
        ctx,
        ws,
        door.address,
        request.app[FAILURES],
        request.app[FANOUT],
        request.transport,
        door.trusted,
    )
    await client.serve()
    if not ws.closed:
        await ws.close(code=WSCloseCode.OK)
    return ws
