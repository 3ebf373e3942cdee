"""The studio's shared event stream: every instance appends to one Redis stream and shows what it
reads back, so every phone on every instance sees every event once, in one order.

Numbering: one Lua script takes the next numbers from a Redis counter and appends the events
with the number as their stream ID (`<seq>-1`), atomically, so the stream's order is the
numbers' order across all instances. The counter may only run up to a reservation that was
first written to PostgreSQL (the durable truth, as `store.event_log` does for one machine).
Redis may lose its newest writes when it restarts without an append-only file: the script
refuses to number while the server's `run_id` is not the one the reservation was made against,
and the instance then moves the counter above the whole durable reservation (`_resync`), so no
number a client may have seen is issued twice. History is the stream itself, trimmed with
`XADD MAXLEN ~ event_history_size`; a resume further back than it reaches is `recovered: false`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import BigInteger, cast
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..broker import EventBroker, PublishedEvent, serialize
from ..events import Event
from ..ids import new_id
from ..store.db import Database
from ..store.event_log import EPOCH_KEY, RESERVED_KEY
from ..store.models import Meta
from .settings import StudioUnavailable

log = logging.getLogger(__name__)

RUN_ID_KEY: Final = "redis_run_id"  # the Redis server the reservation was last made against
BLOCK: Final = 10_000  # numbers reserved per PostgreSQL write
RENEW_WITHIN: Final = BLOCK // 2
SEND_BATCH: Final = 500  # events per script call
READ_BATCH: Final = 1_000
READ_BLOCK_MS: Final = 1_000
RETRY_FIRST, RETRY_MAX = 0.2, 5.0  # seconds between attempts while Redis is unreachable
CLOSE_WAIT: Final = 5.0
# How long Redis remembers a sender's last batch: a resend comes within a retry (at most
# RETRY_MAX apart) unless Redis stayed away longer; a week covers any outage worth waiting out.
SENT_MEMORY_S: Final = 7 * 24 * 3600

# KEYS: counter, reservation, stream, this sender's last batch. ARGV: expected run_id, maxlen,
# the batch's token, how long to remember it (s), then 4 per event. Returns {first seq, numbers
# left}, or {-1, 0} (reservation exhausted), {-2, 0} (other server). A batch whose token is the
# sender's last one was appended already (its answer was lost on the way back, and the sender or
# redis-py sent it again): its first number is answered again and nothing is appended twice.
_APPEND = """
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
if run ~= ARGV[1] then return {-2, 0} end
local n = (#ARGV - 4) / 4
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
local reserved = tonumber(redis.call('GET', KEYS[2]) or '0')
local sent = redis.call('HMGET', KEYS[4], 'token', 'first')
if sent[1] == ARGV[3] then return {tonumber(sent[2]), reserved - seq} end
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
if last[1] and tonumber(string.match(last[1][1], '^(%d+)')) > seq then return {-2, 0} end
if seq + n > reserved then return {-1, 0} end
local first = seq + 1
for i = 0, n - 1 do
  seq = seq + 1
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], string.format('%d-1', seq),
    't', ARGV[5 + 4 * i], 'c', ARGV[6 + 4 * i], 'ts', ARGV[7 + 4 * i], 'p', ARGV[8 + 4 * i])
end
redis.call('SET', KEYS[1], string.format('%d', seq))
redis.call('HSET', KEYS[4], 'token', ARGV[3], 'first', string.format('%d', first))
redis.call('EXPIRE', KEYS[4], ARGV[4])
return {first, reserved - seq}
"""
# Raise a counter to at least ARGV[1]; never lowers it.
_RAISE = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


@dataclass
class _Outgoing:
    event: Event
    timestamp: str
    body: str
    done: asyncio.Future[int]


def _seq_of(entry_id: Any) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def _decode(entry_id: Any, fields: Any) -> PublishedEvent:
    seq = _seq_of(entry_id)
    type_, channel = fields[b"t"].decode(), fields[b"c"].decode()
    timestamp = fields[b"ts"].decode()
    payload = json.loads(fields[b"p"])
    message = {"type": type_, "timestamp": timestamp, "seq": seq, "channel": channel}
    message.update((k, v) for k, v in payload.items() if k not in message)
    return PublishedEvent(seq, type_, channel, timestamp, payload, serialize(message))


class RedisBackplane:
    """Sends this instance's events to the shared stream and shows everyone's to its broker."""

    def __init__(self, url: str, prefix: str, db: Database, history_size: int) -> None:
        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=3.0)
        self._url = url
        self._db = db
        self._history_size = max(1, history_size)
        self.stream_key = f"{prefix}:events"
        self._seq_key = f"{prefix}:seq"
        self._reserved_key = f"{prefix}:reserved"
        # This sender's last batch, so a batch sent again is not appended twice.
        self._sent_key = f"{prefix}:sent:{new_id('b')}"
        self._in_flight: tuple[str, int] | None = None  # (token, events) until it is answered
        self._append = self._redis.register_script(_APPEND)
        self._raise = self._redis.register_script(_RAISE)
        self._run_id = ""
        self._outbox: deque[_Outgoing] = deque()
        self._wake = asyncio.Event()
        self._renewing: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._broker: EventBroker | None = None
        self._last_read = 0
        self._last_sent = 0
        self._closing = False
        self._sending = False
        self._progress = asyncio.Event()  # something was sent or read (close waits on it)
        # Why sending or reading fails now (each cleared by its own next success).
        self._send_error: str | None = None
        self._read_error: str | None = None
        self.sent = 0  # events this instance appended (bench: cost per event)

    # --- start and stop ---------------------------------------------------------------------

    async def open(self) -> tuple[list[PublishedEvent], int, str]:
        """Check Redis, align the counter with the durable reservation; history, last seq, epoch."""
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise StudioUnavailable(f"Redis at {self._url} is unreachable: {exc}") from exc
        epoch = await self._epoch()
        await self._resync()
        rows: Any = await self._redis.xrevrange(self.stream_key, count=self._history_size)
        history = [_decode(entry_id, fields) for entry_id, fields in reversed(rows)]
        counter = int(await self._redis.get(self._seq_key) or 0)
        last = history[-1].seq if history else counter
        self._last_read = last
        return history, last, epoch

    def start(self, broker: EventBroker) -> None:
        """Start sending and reading for `broker` (after it was built from `open`'s history)."""
        self._broker = broker
        broker.attach(self)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._send_loop(), name="backplane-send"),
            loop.create_task(self._read_loop(), name="backplane-read"),
        ]

    async def close(self) -> None:
        """Send what is queued, show our own last events locally, then disconnect."""
        deadline = asyncio.get_running_loop().time() + CLOSE_WAIT
        await self._wait_until(lambda: not self._outbox and not self._sending, deadline)
        await self._wait_until(lambda: self._last_read >= self._last_sent, deadline)
        self._closing = True
        self._wake.set()
        # The reader leaves by itself within one blocking read; cancelling a Redis command
        # midway is the last resort.
        _done, pending = await asyncio.wait(self._tasks, timeout=READ_BLOCK_MS / 1000 + 1.0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._renewing is not None:
            await asyncio.gather(self._renewing, return_exceptions=True)
        for item in self._outbox:
            if not item.done.done():
                item.done.cancel()
        if self._outbox:
            log.warning("Backplane: %d events could not be sent before stopping", len(self._outbox))
        await self._redis.aclose()

    async def _wait_until(self, done: Callable[[], bool], deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while not done() and self.error is None and loop.time() < deadline:
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), deadline - loop.time())

    # --- Backplane protocol ----------------------------------------------------------------

    def send(self, event: Event, timestamp: str) -> asyncio.Future[int]:
        """Queue an event for the shared stream; the future gets its number."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Serialized here, so a payload JSON cannot carry fails at the publisher, as without us.
        self._outbox.append(_Outgoing(event, timestamp, serialize(event.payload), done))
        self._wake.set()
        return done

    # --- sending ------------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        delay = RETRY_FIRST
        while not self._closing:
            if not self._outbox:
                await self._wake.wait()
                self._wake.clear()
                continue
            self._sending = True
            try:
                await self._send_batch()
                self._send_error, delay = None, RETRY_FIRST
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or PostgreSQL away: keep the events, try again
                self._send_error = f"{type(exc).__name__}: {exc}"
                log.warning("Backplane: sending failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
            finally:
                self._sending = False
                self._progress.set()

    async def _send_batch(self) -> None:
        # The batch is fixed until Redis answers it: sent again, it is the same events under the
        # same token, which the script recognises if the first attempt was appended after all.
        if self._in_flight is None:
            self._in_flight = (new_id("t"), min(SEND_BATCH, len(self._outbox)))
        token, size = self._in_flight
        batch = [self._outbox[i] for i in range(size)]
        args: list[Any] = [self._run_id, self._history_size, token, SENT_MEMORY_S]
        for item in batch:
            args += [item.event.type, item.event.channel, item.timestamp, item.body]
        first, left = (
            int(v)
            for v in await self._append(
                keys=[self._seq_key, self._reserved_key, self.stream_key, self._sent_key],
                args=args,
            )
        )
        if first == -2:
            await self._resync()
            return
        if first == -1:
            await self._renew()
            return
        self._in_flight = None
        for offset, item in enumerate(batch):
            self._outbox.popleft()
            if not item.done.done():
                item.done.set_result(first + offset)
        self._last_sent = first + len(batch) - 1
        self.sent += len(batch)
        self._progress.set()
        if left < RENEW_WITHIN and self._renewing is None:
            self._renewing = asyncio.get_running_loop().create_task(self._renew_soon())

    async def _renew_soon(self) -> None:
        try:
            await self._renew()
        except Exception:  # the next exhausted batch renews (and reports) again
            log.exception("Backplane: renewing the reservation failed")
        finally:
            self._renewing = None

    # --- the durable reservation ---------------------------------------------------------------

    async def _epoch(self) -> str:
        async with self._db.session() as s, s.begin():
            await s.execute(
                pg_insert(Meta)
                .values(key=EPOCH_KEY, value=new_id("e"))
                .on_conflict_do_nothing(index_elements=[Meta.key])
            )
            row = await s.get(Meta, EPOCH_KEY)
            assert row is not None
            return row.value

    async def _reserve(self, at_least: int) -> int:
        """Raise the durable reservation to at least `at_least` + BLOCK; the new value."""
        async with self._db.session() as s, s.begin():
            row = await s.get(Meta, RESERVED_KEY, with_for_update=True)
            current = int(row.value) if row is not None else 0
            target = max(current, at_least) + BLOCK
            await s.execute(
                pg_insert(Meta)
                .values(key=RESERVED_KEY, value=str(target))
                .on_conflict_do_update(
                    index_elements=[Meta.key],
                    set_={"value": str(target)},
                    where=cast(Meta.value, BigInteger) < target,
                )
            )
        return target

    async def _renew(self) -> None:
        counter = int(await self._redis.get(self._seq_key) or 0)
        target = await self._reserve(counter)
        # Durable first, then usable: Redis never allows a number PostgreSQL has not reserved.
        await self._raise(keys=[self._reserved_key], args=[target])

    async def _resync(self) -> None:
        """Align the counter with the reservation after a (re)start of the Redis server."""
        info = await self._redis.info("server")
        run_id = str(info["run_id"])
        async with self._db.session() as s:
            known = await s.get(Meta, RUN_ID_KEY)
        if (
            known is not None
            and known.value == run_id
            and await self._redis.exists(self._reserved_key)
        ):
            self._run_id = run_id  # another instance already aligned this server
            return
        last: Any = await self._redis.xrevrange(self.stream_key, count=1)
        stream_last = _seq_of(last[0][0]) if last else 0
        counter = int(await self._redis.get(self._seq_key) or 0)
        async with self._db.session() as s:
            row = await s.get(Meta, RESERVED_KEY)
            durable = int(row.value) if row is not None else 0
        # Every number up to the durable reservation may have reached a client: start above it.
        base = max(durable, stream_last, counter)
        target = await self._reserve(base)
        await self._raise(keys=[self._seq_key], args=[base])
        await self._raise(keys=[self._reserved_key], args=[target])
        async with self._db.session() as s, s.begin():
            await s.execute(
                pg_insert(Meta)
                .values(key=RUN_ID_KEY, value=run_id)
                .on_conflict_do_update(index_elements=[Meta.key], set_={"value": run_id})
            )
        if base > durable or known is not None:
            log.warning("Backplane: Redis %s restarted; numbering continues above %d", run_id, base)
        self._run_id = run_id

    # --- reading ------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        delay = RETRY_FIRST
        while not self._closing:
            try:
                answer: Any = await self._redis.xread(
                    {self.stream_key: f"{self._last_read}-1"},
                    count=READ_BATCH,
                    block=READ_BLOCK_MS,
                )
                delay, self._read_error = RETRY_FIRST, None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._read_error = f"{type(exc).__name__}: {exc}"
                log.warning("Backplane: reading failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            for _key, entries in answer or ():
                for entry_id, fields in entries:
                    self._deliver(_decode(entry_id, fields))

    def _deliver(self, published: PublishedEvent) -> None:
        assert self._broker is not None
        if published.seq > self._last_read + 1:
            # Numbers skipped: trimmed before we read them, or lost with a restarted Redis.
            self._broker.mark_unrecoverable(published.seq - 1)
        self._last_read = published.seq
        self._progress.set()
        self._broker.show(published)

    # --- status -------------------------------------------------------------------------------

    @property
    def redis(self) -> aioredis.Redis:
        """The client (the studio heartbeat shares it)."""
        return self._redis

    @property
    def drained(self) -> bool:
        """Everything this instance published has been sent and shown back to its broker."""
        return not self._outbox and not self._sending and self._last_read >= self._last_sent

    async def wait_drained(self, timeout: float) -> None:
        """Wait (at most `timeout` s) until what this instance published is shown back here."""
        deadline = asyncio.get_running_loop().time() + timeout
        await self._wait_until(lambda: self.drained, deadline)

    @property
    def error(self) -> str | None:
        """Why Redis is unusable now (None when sending and reading both work)."""
        return self._send_error or self._read_error

    def status(self) -> dict[str, Any]:
        """Backplane health for system status and the desktop."""
        return {"ok": self.error is None, "error": self.error, "queued": len(self._outbox)}
