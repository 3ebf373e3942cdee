"""Small, strict validators for JSON input: wrong types are errors, never coerced."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .services.errors import InvalidArguments


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def loads_json(raw: str | bytes) -> Any:
    """Strict JSON: no NaN or Infinity, no float that overflows, no nesting that exhausts the
    stack; every failure is a ValueError."""
    try:
        return json.loads(raw, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError:
        raise ValueError("JSON is nested too deeply") from None


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored or shown as text (lone surrogates, NUL), or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (no lone surrogates)"
    return None


def is_valid_unicode(value: Any) -> bool:
    """Whether every string in a parsed JSON value can be encoded as UTF-8 (no lone surrogate)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    except (ValueError, RecursionError):
        return True  # not a Unicode problem; other checks refuse it
    return True


def get_str(
    data: Mapping[str, Any],
    key: str,
    *,
    max_len: int,
    required: bool = True,
    allow_empty: bool = False,
) -> str | None:
    """A string field of at most `max_len` characters."""
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidArguments(f"'{key}' is required")
        return None
    if not isinstance(value, str):
        raise InvalidArguments(f"'{key}' must be a string")
    problem = text_problem(value)
    if problem is not None:
        raise InvalidArguments(f"'{key}' {problem}")
    if not allow_empty and not value.strip():
        raise InvalidArguments(f"'{key}' must not be empty")
    if len(value) > max_len:
        raise InvalidArguments(f"'{key}' must be at most {max_len} characters")
    return value


def require_str(data: Mapping[str, Any], key: str, *, max_len: int) -> str:
    """A required, non-empty string field."""
    value = get_str(data, key, max_len=max_len, required=True)
    assert value is not None
    return value


def get_int(
    data: Mapping[str, Any],
    key: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    required: bool = True,
) -> int | None:
    """An integer field (booleans are not integers here)."""
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidArguments(f"'{key}' is required")
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON (and its Schema) make no difference between 2 and 2.0
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArguments(f"'{key}' must be an integer")
    if minimum is not None and value < minimum:
        raise InvalidArguments(f"'{key}' must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidArguments(f"'{key}' must be at most {maximum}")
    return value


def require_int(
    data: Mapping[str, Any], key: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A required integer field within bounds."""
    value = get_int(data, key, minimum=minimum, maximum=maximum, required=True)
    assert value is not None
    return value


def get_str_list(data: Mapping[str, Any], key: str, *, max_items: int, max_len: int) -> list[str]:
    """A required list of strings (a bare string is refused, not split into letters)."""
    value = data.get(key)
    if value is None:
        raise InvalidArguments(f"'{key}' is required")
    if not isinstance(value, list):
        raise InvalidArguments(f"'{key}' must be a list")
    if len(value) > max_items:
        raise InvalidArguments(f"'{key}' may hold at most {max_items} items")
    for item in value:
        if not isinstance(item, str) or not item or len(item) > max_len:
            raise InvalidArguments(f"'{key}' must hold non-empty strings")
        problem = text_problem(item)
        if problem is not None:
            raise InvalidArguments(f"Each of '{key}' {problem}")
    return list(value)


def parse_enum(value: str | None, allowed: Any, key: str) -> Any:
    """Convert a query or body value to an enum member, or refuse with the allowed values."""
    if value is None:
        return None
    try:
        return allowed(value)
    except ValueError:
        names = ", ".join(m.value for m in allowed)
        raise InvalidArguments(f"'{key}' must be one of: {names}") from None
