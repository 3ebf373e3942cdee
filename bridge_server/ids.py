"""Opaque identifiers: a short prefix that says what it names, then random hex."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    """A fresh id such as `p_1a2b3c4d5e6f`; never reused."""
    return f"{prefix}_{secrets.token_hex(6)}"
