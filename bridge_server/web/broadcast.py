"""What `POST /api/websocket/broadcast` accepts: typed events with checked payloads, or an
integration's own (custom) events, in our body shape or the original bridge's quick-start one."""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from .. import events
from ..services.errors import InvalidArguments

MAX_TYPE_LEN: Final = 64
MAX_DATA_BYTES: Final = 60 * 1024  # leaves room for the envelope under a client's 64 KiB frame


@dataclass(frozen=True)
class BroadcastRequest:
    """A broadcast body, normalised: event type, channel (None: the typed event's own), data."""

    event_type: str
    channel: str | None
    data: dict[str, Any]


OWN_FORM_FIELDS = frozenset({"type", "channel", "data"})


def parse_body(body: dict[str, Any]) -> BroadcastRequest:
    """Read `{type, channel, data}` or the original's `{message: {type, ...}, channel}`."""
    if "message" in body:
        message = body["message"]
        if not isinstance(message, dict):
            raise InvalidArguments("'message' must be an object with a 'type'")
        event_type = message.get("type")
        data = {k: v for k, v in message.items() if k != "type"}
    else:
        unknown = sorted(set(body) - OWN_FORM_FIELDS)
        if unknown:
            # They would not reach the event: say so instead of dropping them silently.
            names = ", ".join(repr(k) for k in unknown[:5])
            raise InvalidArguments(f"Unknown field(s) {names}: payload fields go in 'data'")
        event_type = body.get("type")
        data = body.get("data", {})
        if not isinstance(data, dict):
            raise InvalidArguments("'data' must be an object")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidArguments("'type' is required and must be a string")
    if len(event_type) > MAX_TYPE_LEN:
        raise InvalidArguments(f"'type' must be at most {MAX_TYPE_LEN} characters")
    channel = body.get("channel")
    if channel is not None and not isinstance(channel, str):
        raise InvalidArguments("'channel' must be a string")
    return BroadcastRequest(event_type, channel, data)


def build_event(request: BroadcastRequest) -> events.Event:
    """The event to publish, or InvalidArguments saying what is wrong with the request."""
    _check_serializable(request.data)
    if request.channel is not None and request.channel not in events.ALL_CHANNELS:
        names = ", ".join(sorted(events.ALL_CHANNELS))
        raise InvalidArguments(f"Unknown channel: {request.channel!r} (one of {names})")
    own_channel = events.EVENT_CHANNELS.get(request.event_type)
    if request.channel in events.SERVER_ONLY_CHANNELS or (
        own_channel is not None and own_channel.value in events.SERVER_ONLY_CHANNELS
    ):
        raise InvalidArguments("Proofing events come only from real decisions and guests")
    if events.is_typed_event(request.event_type):
        return _typed_event(request)
    if request.channel is None:
        raise InvalidArguments("'channel' is required for a custom event")
    try:
        return events.make_custom_event(request.event_type, request.channel, request.data)
    except ValueError as exc:
        raise InvalidArguments(str(exc)) from None


def _check_serializable(data: dict[str, Any]) -> None:
    # Browsers cannot parse NaN or Infinity: refuse them here, before anything is published.
    try:
        text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    except ValueError:
        raise InvalidArguments("'data' must not contain NaN or Infinity") from None
    except RecursionError:
        raise InvalidArguments("'data' is nested too deeply") from None
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArguments("'data' holds a lone surrogate: not valid Unicode") from None
    if size > MAX_DATA_BYTES:
        raise InvalidArguments(f"'data' must be at most {MAX_DATA_BYTES} bytes as JSON")


def _typed_event(request: BroadcastRequest) -> events.Event:
    expected = events.EVENT_CHANNELS[request.event_type].value
    if request.channel is not None and request.channel != expected:
        raise InvalidArguments(f"Event {request.event_type!r} belongs on channel {expected!r}")
    builder = getattr(events, request.event_type, None)
    if not inspect.isfunction(builder):  # no builder to read: only reserved keys are checked
        try:
            return events.make_event(request.event_type, request.data)
        except ValueError as exc:
            raise InvalidArguments(str(exc)) from None
    fields = payload_fields(builder)
    data = request.data
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InvalidArguments(f"Event {request.event_type!r} has no field(s) {unknown}")
    for name, (kind, required) in fields.items():
        if name not in data:
            if required:
                raise InvalidArguments(f"Event {request.event_type!r} needs '{name}'")
            continue
        if not _matches(data[name], kind):
            raise InvalidArguments(f"'{name}' of {request.event_type!r} must be {_describe(kind)}")
    event = builder(**data)
    assert isinstance(event, events.Event)
    return event


@cache
def payload_fields(builder: Callable[..., Any]) -> dict[str, tuple[Any, bool]]:
    """A typed event's payload fields, from its builder: name -> (type, required)."""
    hints = typing.get_type_hints(builder)
    return {
        name: (hints.get(name, Any), param.default is inspect.Parameter.empty)
        for name, param in inspect.signature(builder).parameters.items()
    }


def _matches(value: Any, kind: Any) -> bool:
    if kind is Any:
        return True
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return any(_matches(value, k) for k in typing.get_args(kind))
    if kind is type(None):
        return value is None
    origin = typing.get_origin(kind) or kind
    if origin is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(origin, type) and isinstance(value, origin)


def _describe(kind: Any) -> str:
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return " or ".join(_describe(k) for k in typing.get_args(kind))
    origin = typing.get_origin(kind) or kind
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        dict: "an object",
        list: "a list",
    }
    if kind is type(None):
        return "null"
    return names.get(origin, getattr(origin, "__name__", str(origin)))
