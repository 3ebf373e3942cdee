"""Pairing phones: one-time codes, device tokens (stored only as hashes), revocation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select

from ..context import BridgeContext
from ..ids import new_id
from ..roles import DEFAULT_DEVICE_ROLE, DEVICE_ROLES, Role
from ..store.models import Device
from ..timeutil import utcnow
from .errors import InvalidArguments, NotFound, Unauthorized
from .queries import get_or_404
from .serializers import device_dict

CODE_TTL_SECONDS: Final = 300
CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CLOSE_AUTH_FAILED: Final = 4001
LAST_SEEN_RESOLUTION: Final = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """The SHA-256 the store keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_code(code: str) -> str:
    """Codes are case- and dash-insensitive, so they survive being typed by hand."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


@dataclass
class PendingCode:
    """A one-time pairing code, the role its device will carry, and when it stops working."""

    code: str
    expires_at: float
    role: Role = DEFAULT_DEVICE_ROLE


class PairingCodes:
    """One-time codes, valid for five minutes, held only in memory."""

    def __init__(self, ttl: float = CODE_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._codes: dict[str, PendingCode] = {}
        self._listeners: list[Any] = []

    def issue(self, role: Role = DEFAULT_DEVICE_ROLE) -> PendingCode:
        """A fresh code such as `K7Q2-94XD` for a device of `role`."""
        self._expire()
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        code = PendingCode(f"{raw[:4]}-{raw[4:]}", time.monotonic() + self._ttl, role)
        self._codes[normalize_code(code.code)] = code
        return code

    def consume(self, code: str) -> PendingCode | None:
        """Use a code once; None if unknown or expired."""
        self._expire()
        return self._codes.pop(normalize_code(code), None)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, c in self._codes.items() if c.expires_at <= now]:
            del self._codes[key]

    def on_paired(self, callback: Any) -> None:
        """Call `callback(device_dict)` when a device completes pairing."""
        self._listeners.append(callback)

    def off_paired(self, callback: Any) -> None:
        """Stop calling `callback`."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def notify_paired(self, device: dict[str, Any]) -> None:
        """Tell listeners (the desktop's pairing dialog) about a new device."""
        for callback in tuple(self._listeners):
            callback(device)


def _codes(ctx: BridgeContext) -> PairingCodes:
    if ctx.pairing is None:
        ctx.pairing = PairingCodes()
    return ctx.pairing


def start_pairing(
    ctx: BridgeContext, base_urls: list[str], role: Role = DEFAULT_DEVICE_ROLE
) -> dict[str, Any]:
    """Issue a one-time code for a device of `role`, and the URLs a phone opens to use it."""
    if role not in DEVICE_ROLES:
        names = ", ".join(sorted(DEVICE_ROLES))
        raise InvalidArguments(f"A paired device's role must be one of: {names}")
    if role == Role.CLIENT:
        # A guest is bound to one session: it joins through a proofing link, never by pairing.
        raise InvalidArguments("Proofing guests join through a proofing link, not by pairing")
    code = _codes(ctx).issue(role)
    remaining = code.expires_at - time.monotonic()
    expires = datetime.now(UTC) + timedelta(seconds=remaining)
    return {
        "code": code.code,
        "role": role.value,
        "expires_at": expires.isoformat(),
        "urls": [f"{base.rstrip('/')}/#pair={code.code}" for base in base_urls],
    }


async def complete_pairing(ctx: BridgeContext, code: str, device_name: str) -> dict[str, Any]:
    """Exchange a one-time code for a device token (returned only this once)."""
    pending = _codes(ctx).consume(code)
    if pending is None:
        raise Unauthorized("Pairing code is unknown, used or expired; scan a new QR code")
    token = secrets.token_urlsafe(32)
    device = Device(
        id=new_id("d"),
        name=device_name.strip()[:64],
        token_hash=hash_token(token),
        role=pending.role.value,
    )
    async with ctx.db.session() as s, s.begin():
        s.add(device)
    data = device_dict(device)
    _codes(ctx).notify_paired(data)
    return {**data, "token": token}


async def authenticate(ctx: BridgeContext, token: str) -> Device | None:
    """The device this token belongs to, or None."""
    if not token:
        return None
    digest = hash_token(token)
    async with ctx.db.session() as s, s.begin():
        device = (
            await s.execute(select(Device).where(Device.token_hash == digest))
        ).scalar_one_or_none()
        if device is None or not hmac.compare_digest(device.token_hash, digest):
            return None
        now = utcnow()
        if device.last_seen_at is None or now - device.last_seen_at > LAST_SEEN_RESOLUTION:
            device.last_seen_at = now
        return device


def device_role(device: Device) -> Role | None:
    """The role a device's token carries; None (no access) for a role this version does not know."""
    try:
        role = Role(device.role)
    except ValueError:
        return None
    return role if role in DEVICE_ROLES else None


async def list_devices(ctx: BridgeContext) -> list[dict[str, Any]]:
    """Paired devices, newest first."""
    async with ctx.db.session() as s:
        rows = (await s.execute(select(Device).order_by(Device.created_at.desc()))).scalars()
        return [device_dict(d) for d in rows]


async def revoke_device(ctx: BridgeContext, device_id: str) -> dict[str, Any]:
    """Forget a device and close its connections at once with 4001."""
    async with ctx.db.session() as s, s.begin():
        device = await get_or_404(s, Device, device_id, "device")
        data = device_dict(device)
        await s.delete(device)
    for client in ctx.clients.all():
        if client.device_id == device_id:
            client.close_soon(CLOSE_AUTH_FAILED, "Device revoked")
    return data


__all__ = [
    "NotFound",
    "PairingCodes",
    "authenticate",
    "complete_pairing",
    "device_role",
    "list_devices",
    "revoke_device",
    "start_pairing",
]
