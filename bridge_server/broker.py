"""The event broker: publish -> seq -> history -> fan-out to subscribers and listeners.

`publish()` is synchronous and never waits: it numbers the event, serializes it once, hands it to
the event log (which persists in batches off the hot path), keeps it for replay and queues the
same text to every subscriber of its channel. An event whose number is not yet covered by the
durable reservation is held back (in order) until it is, so no number a client has seen can be
issued again after a crash; with the reservation renewed ahead, that is rare.

In studio mode a backplane (`studio.backplane`) numbers the events instead: `publish()` hands
the event to it, and every instance shows what it reads back from the shared stream, in the
stream's order, through `show()`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from .audience import ProofingScope, may_receive
from .events import ALL_CHANNELS, Event
from .timeutil import now_iso

log = logging.getLogger(__name__)

ENVELOPE_KEYS: Final = frozenset({"type", "timestamp", "seq", "channel"})


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    """An event with its envelope: sequence number, timestamp and serialized frame.

    An event restored from the log may come without its payload (`None`): it is parsed from the
    frame when first asked for, so a start with 50,000 retained events parses none of them.
    """

    seq: int
    type: str
    channel: str
    timestamp: str
    parsed_payload: dict[str, Any] | None
    frame: str

    @property
    def payload(self) -> dict[str, Any]:
        """The event's own fields (the frame without the envelope keys)."""
        if self.parsed_payload is None:
            message = json.loads(self.frame)
            payload = {k: v for k, v in message.items() if k not in ENVELOPE_KEYS}
            object.__setattr__(self, "parsed_payload", payload)  # a cache, once
            return payload
        return self.parsed_payload

    def as_message(self) -> dict[str, Any]:
        """The envelope as a dict (payload beside the reserved keys)."""
        return dict(json.loads(self.frame))


class Subscriber(Protocol):
    """Anything that can take a serialized frame without waiting (a WebSocket connection)."""

    # None for staff; a proofing guest's scope limits what it receives (see audience.py).
    audience: ProofingScope | None

    def deliver(self, frame: str) -> None:
        """Queue one frame; must not block."""


class SequenceSink(Protocol):
    """Where published events go to be persisted, and who guards sequence reservations."""

    def append(self, event: PublishedEvent) -> None:
        """Persist later, in a batch."""

    def covers(self, seq: int) -> bool:
        """True if `seq` is durably reserved; otherwise reserve it soon, without waiting."""

    def bind(self, on_reserved: Callable[[], None]) -> None:
        """Call `on_reserved()` whenever the reservation rose."""


class Backplane(Protocol):
    """Numbers events for several instances at once and hands them back to each (studio mode)."""

    def send(self, event: Event, timestamp: str) -> asyncio.Future[int]:
        """Queue an event for the shared stream; the future gets its sequence number."""

    async def wait_drained(self, timeout: float) -> None:
        """Wait until every event sent so far was shown back to this instance."""


Listener = Callable[[PublishedEvent], None]


def serialize(message: dict[str, Any]) -> str:
    """The one JSON encoding used for every frame (NaN and Infinity refused: not JSON)."""
    return json.dumps(
        message, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
    )


# A resume may walk back at most this many retained events per allowed replayed event before it
# is answered `recovered: false`: bounds the work one `subscribe` can cause.
SCAN_PER_REPLAYED: Final = 20


class EventBroker:
    """In-process broker with global sequence numbers and a bounded replay history."""

    def __init__(
        self,
        *,
        history_size: int = 50_000,
        next_seq: int = 1,
        history: Iterable[PublishedEvent] = (),
        unrecoverable_below: int = 0,
        sink: SequenceSink | None = None,
        epoch: str = "",
        history_complete: bool = True,
    ) -> None:
        self._history: deque[PublishedEvent] = deque(history, maxlen=max(1, history_size))
        # A start may restore only the newest events; `add_older` brings the rest later.
        self._history_loaded = asyncio.Event()
        self._history_wanted = asyncio.Event()  # someone waits for the older events
        self._next_seq = next_seq
        self._visible_seq = next_seq - 1
        self._held: deque[PublishedEvent] = deque()
        self._sink = sink
        self.epoch = epoch
        # A resume from a seq below this cannot be trusted: events may have been lost in a crash
        # or dropped from the history.
        self._unrecoverable_below = unrecoverable_below
        # With the older events still on their way, nothing below them is lost yet.
        if history_complete:
            self._history_loaded.set()
            first = self._history[0].seq if self._history else next_seq
            self._unrecoverable_below = max(self._unrecoverable_below, first - 1)
        self._by_channel: dict[str, set[Subscriber]] = {c: set() for c in ALL_CHANNELS}
        self._channels_of: dict[Subscriber, frozenset[str]] = {}
        self._listeners: list[Listener] = []
        self._backplane: Backplane | None = None
        if sink is not None:
            sink.bind(self.release_held)

    def attach(self, backplane: Backplane) -> None:
        """Number and deliver every event through `backplane` from now on (studio mode)."""
        self._backplane = backplane

    @property
    def last_seq(self) -> int:
        """The newest sequence number clients may have seen (0 before the first event ever)."""
        return self._visible_seq

    @property
    def issued_seq(self) -> int:
        """The newest sequence number issued, including events still held back."""
        return self._next_seq - 1

    def publish(self, event: Event) -> PublishedEvent:
        """Number, serialize once, persist, remember and fan out an event. Never waits.

        With a backplane, the event goes to the shared stream and is shown when read back;
        the returned copy has no number yet (seq 0): use `publish_confirmed` to learn it.
        """
        if self._backplane is not None:
            timestamp = now_iso()
            self._backplane.send(event, timestamp)
            return PublishedEvent(0, event.type, event.channel, timestamp, event.payload, "")
        seq = self._next_seq
        self._next_seq = seq + 1
        timestamp = now_iso()
        message = {"type": event.type, "timestamp": timestamp, "seq": seq, "channel": event.channel}
        message.update((k, v) for k, v in event.payload.items() if k not in message)
        published = PublishedEvent(
            seq, event.type, event.channel, timestamp, event.payload, serialize(message)
        )
        sink = self._sink
        if sink is not None:
            sink.append(published)
            if self._held or not sink.covers(seq):
                self._held.append(published)
                return published
        self._show(published)
        return published

    async def publish_confirmed(self, event: Event) -> PublishedEvent:
        """Publish and wait for the event's sequence number (immediate without a backplane)."""
        if self._backplane is None:
            return self.publish(event)
        timestamp = now_iso()
        seq = await self._backplane.send(event, timestamp)
        message = {"type": event.type, "timestamp": timestamp, "seq": seq, "channel": event.channel}
        message.update((k, v) for k, v in event.payload.items() if k not in message)
        return PublishedEvent(
            seq, event.type, event.channel, timestamp, event.payload, serialize(message)
        )

    async def shown(self, timeout: float = 2.0) -> None:
        """Return once every event published so far was shown to this instance's subscribers
        (at once without a backplane; studio mode: after the stream's round trip)."""
        if self._backplane is not None:
            await self._backplane.wait_drained(timeout)

    def show(self, published: PublishedEvent) -> None:
        """Deliver an event read back from the shared stream (studio mode), once, in order."""
        if published.seq <= self._visible_seq:
            return  # already shown: a reader that re-read after reconnecting
        self._next_seq = published.seq + 1
        self._show(published)

    def mark_unrecoverable(self, below: int) -> None:
        """Resumes from before `below` cannot be trusted (the shared stream lost events)."""
        self._unrecoverable_below = max(self._unrecoverable_below, below)

    def release_held(self) -> None:
        """Show held events, in order, as far as the reservation now covers them."""
        held, sink = self._held, self._sink
        while held and (sink is None or sink.covers(held[0].seq)):
            self._show(held.popleft())

    def _show(self, published: PublishedEvent) -> None:
        if len(self._history) == self._history.maxlen:
            self._unrecoverable_below = self._history[0].seq
        self._history.append(published)
        self._visible_seq = published.seq
        frame = published.frame
        for subscriber in tuple(self._by_channel[published.channel]):
            # The one place a connection is chosen for an event: its audience decides (staff,
            # with none, receive every event: tested first, as this runs per connection).
            audience = subscriber.audience
            if audience is None or may_receive(audience, published):
                subscriber.deliver(frame)
        for listener in tuple(self._listeners):
            try:
                listener(published)
            except Exception:  # a faulty listener must not stop the others
                log.exception("Event listener failed on %s", published.type)

    # --- subscriptions ------------------------------------------------------------------

    def channels_of(self, subscriber: Subscriber) -> frozenset[str]:
        """The channels `subscriber` currently receives."""
        return self._channels_of.get(subscriber, frozenset())

    def set_channels(self, subscriber: Subscriber, channels: Iterable[str]) -> frozenset[str]:
        """Replace the subscriber's channels (validated by the caller)."""
        new = frozenset(channels)
        old = self._channels_of.get(subscriber, frozenset())
        for channel in old - new:
            self._by_channel[channel].discard(subscriber)
        for channel in new - old:
            self._by_channel[channel].add(subscriber)
        if new:
            self._channels_of[subscriber] = new
        else:
            self._channels_of.pop(subscriber, None)
        return new

    def remove(self, subscriber: Subscriber) -> None:
        """Forget a subscriber entirely."""
        self.set_channels(subscriber, ())

    def subscriber_count(self, channel: str | None = None) -> int:
        """How many subscribers receive `channel` (or any channel)."""
        if channel is None:
            return len(self._channels_of)
        return len(self._by_channel.get(channel, ()))

    def add_listener(self, listener: Listener) -> None:
        """Register an in-process listener (the desktop window, the scheduler's own hooks)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Unregister an in-process listener."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # --- replay -------------------------------------------------------------------------

    def events_since(
        self,
        since: int,
        channels: Iterable[str],
        limit: int | None = None,
        audience: ProofingScope | None = None,
    ) -> list[PublishedEvent] | None:
        """Retained events after `since` on `channels`, or None if some may be missing.

        With `limit`, also None when more than `limit` events would be replayed: past that, a
        client reloads its state faster than it replays (the recovery limit). A replay obeys
        `audience` exactly as live delivery does. While a start still loads the older retained
        events, an answer that needs them is None: callers check `can_replay_now` first.
        """
        replay, _needs_older = self._replay(since, channels, limit, audience)
        return replay

    def can_replay_now(
        self,
        since: int,
        channels: Iterable[str],
        limit: int | None = None,
        audience: ProofingScope | None = None,
    ) -> bool:
        """Whether `events_since` answers without the older events a start loads later."""
        return not self._replay(since, channels, limit, audience)[1]

    def _replay(
        self,
        since: int,
        channels: Iterable[str],
        limit: int | None,
        audience: ProofingScope | None,
    ) -> tuple[list[PublishedEvent] | None, bool]:
        """(events_since's answer, whether it needs events not loaded yet)."""
        if since > self.last_seq or since < self._unrecoverable_below:
            return None, False
        if limit is not None and self.last_seq - since > limit * SCAN_PER_REPLAYED:
            return None, False
        wanted = frozenset(channels)
        result: list[PublishedEvent] = []
        reached = False
        # Walk back from the newest: a resume usually asks for a short tail.
        for event in reversed(self._history):
            if event.seq <= since:
                reached = True
                break
            if event.channel in wanted and may_receive(audience, event):
                if limit is not None and len(result) >= limit:
                    return None, False  # past the recovery limit whatever older events say
                result.append(event)
        if not reached and not self.history_complete and self._history:
            if since < self._history[0].seq - 1:
                return None, True
        result.reverse()
        return result, False

    @property
    def history_complete(self) -> bool:
        """Whether every retained event is in memory (a start loads the oldest later)."""
        return self._history_loaded.is_set()

    async def history_loaded(self) -> None:
        """Return once every retained event is in memory (asking for them to load now)."""
        self._history_wanted.set()
        await self._history_loaded.wait()

    async def history_wanted(self) -> None:
        """Return once someone waits for the older events (`history_loaded`)."""
        await self._history_wanted.wait()

    def add_older(self, older: list[PublishedEvent]) -> None:
        """Put the retained events older than those held (oldest first) before them, as far
        as the history has room; the history is complete from now on (also when `older` is
        short because loading failed: resumes from before it are then unrecoverable)."""
        assert self._history.maxlen is not None
        room = self._history.maxlen - len(self._history)
        if self._history:
            first = self._history[0].seq
            older = [event for event in older if event.seq < first]
        self._history.extendleft(reversed(older[max(0, len(older) - room) :]))
        if self._history:
            self._unrecoverable_below = max(self._unrecoverable_below, self._history[0].seq - 1)
        self._history_loaded.set()

    def history_page(
        self, before: int | None, limit: int, accept: Callable[[PublishedEvent], bool]
    ) -> list[PublishedEvent]:
        """Up to `limit` retained events older than `before` (None: the newest), newest first,
        that `accept` lets through: a page of the event log for a history view."""
        result: list[PublishedEvent] = []
        for event in reversed(self._history):
            if before is not None and event.seq >= before:
                continue
            if accept(event):
                result.append(event)
                if len(result) >= limit:
                    break
        return result

    def recent(self, limit: int, channels: Iterable[str] | None = None) -> list[PublishedEvent]:
        """The newest `limit` events, oldest first, optionally filtered by channel."""
        wanted = frozenset(channels) if channels is not None else None
        result: list[PublishedEvent] = []
        for event in reversed(self._history):
            if wanted is None or event.channel in wanted:
                result.append(event)
                if len(result) >= limit:
                    break
        result.reverse()
        return result
