"""What the learned profile reads of a stored analysis, selected in SQL (no full JSON load)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import literal

from ..store.models import Photo
from ..store.portable import json_at


def _at(path: str) -> Any:
    # Portable (store/portable.py): SQLite's json_extract, PostgreSQL's #>> in studio mode.
    return json_at(Photo.analysis, literal(path))


# The analysis' own score (Photo.ai_score may carry the learned one) and the features' inputs.
FEATURE_COLUMNS: Final = (
    _at("$.ai_score"),
    _at("$.factors"),
    _at("$.metrics.focus_blur"),
    _at("$.metrics.subject_highlights_clipped"),
    _at("$.metrics.mean_level"),
    _at("$.metrics.background_detail"),
    _at("$.context_hints"),
)


def parse_object(raw: Any) -> dict[str, Any]:
    """A JSON object as SQLite's json_extract returns it (text), or {} for anything else."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def parse_number(raw: Any) -> float | None:
    """A JSON number as extracted: a number (SQLite) or its text (PostgreSQL's #>>)."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def feature_input(values: Sequence[Any]) -> dict[str, Any]:
    """The analysis subset `imaging.profile.features` reads, from FEATURE_COLUMNS' values."""
    score, factors, blur, clipped, level, background, hints = values
    return {
        "ai_score": parse_number(score) or 1.0,
        "factors": parse_object(factors),
        "metrics": {
            "focus_blur": parse_number(blur),
            "subject_highlights_clipped": parse_number(clipped),
            "mean_level": parse_number(level),
            "background_detail": parse_number(background),
        },
        "context_hints": parse_object(hints),
    }
