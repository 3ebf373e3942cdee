"""Proofing links: the photographer shares a session; each guest who joins gets its own token.

A link is reusable until it expires or is revoked; only the SHA-256 of its secret is kept.
Joining creates a device of role `client` bound to the link (so to its session and visibility);
removing one guest is revoking that device, revoking the link removes all of its guests.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import select, update

from ..audience import VISIBLE_LEVELS, ProofingScope
from ..context import BridgeContext
from ..ids import new_id
from ..roles import Role
from ..store.models import Device, ProofingLink, Session
from ..timeutil import iso, utcnow
from .errors import InvalidArguments, NotFound, Unauthorized
from .pairing import CLOSE_AUTH_FAILED, hash_token
from .queries import get_or_404
from .serializers import device_dict

VISIBILITIES: Final = tuple(VISIBLE_LEVELS)
DEFAULT_HOURS: Final = 72
MAX_HOURS: Final = 24 * 30
CLIENT_NAME_MAX: Final = 64
LINK_PAGE: Final = "/proof.html"


def link_dict(link: ProofingLink, guests: list[Device]) -> dict[str, Any]:
    """A proofing link without its secret, with the guests who joined through it."""
    now = utcnow()
    state = "revoked" if link.revoked_at else ("expired" if link.expires_at <= now else "active")
    return {
        "link_id": link.id,
        "session_id": link.session_id,
        "visibility": link.visibility,
        "created_at": iso(link.created_at),
        "expires_at": iso(link.expires_at),
        "revoked_at": iso(link.revoked_at),
        "state": state,
        "guests": [device_dict(d) for d in guests],
    }


async def create_link(
    ctx: BridgeContext,
    session_id: str,
    visibility: str,
    hours: float,
    base_urls: list[str],
) -> dict[str, Any]:
    """A new link to `session_id`; its URLs (holding the secret) are returned only this once."""
    if visibility not in VISIBILITIES:
        raise InvalidArguments(f"'visibility' must be one of: {', '.join(VISIBILITIES)}")
    if not 0 < hours <= MAX_HOURS:
        raise InvalidArguments(f"'expires_in_hours' must be above 0 and at most {MAX_HOURS}")
    secret = secrets.token_urlsafe(24)
    async with ctx.db.session() as s, s.begin():
        session = await get_or_404(s, Session, session_id, "session")
        link = ProofingLink(
            id=new_id("l"),
            session_id=session.id,
            secret_hash=hash_token(secret),
            visibility=visibility,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(hours=hours),
        )
        s.add(link)
        session_name = session.name
    # The secret sits in the fragment: browsers never send it in a request line or a log.
    urls = [f"{base.rstrip('/')}{LINK_PAGE}#link={secret}" for base in base_urls]
    return {**link_dict(link, []), "session_name": session_name, "urls": urls}


async def list_links(ctx: BridgeContext, session_id: str) -> list[dict[str, Any]]:
    """A session's links, newest first, each with its guests."""
    async with ctx.db.session() as s:
        await get_or_404(s, Session, session_id, "session")
        links = (
            await s.execute(
                select(ProofingLink)
                .where(ProofingLink.session_id == session_id)
                .order_by(ProofingLink.created_at.desc())
            )
        ).scalars()
        result = []
        for link in links:
            guests = (
                await s.execute(
                    select(Device).where(Device.link_id == link.id).order_by(Device.created_at)
                )
            ).scalars()
            result.append(link_dict(link, list(guests)))
        return result


async def revoke_link(ctx: BridgeContext, link_id: str) -> dict[str, Any]:
    """Stop a link: nobody can join any more and every guest of it is removed at once."""
    async with ctx.db.session() as s, s.begin():
        revoked = (
            await s.execute(
                update(ProofingLink)
                .where(ProofingLink.id == link_id, ProofingLink.revoked_at.is_(None))
                .values(revoked_at=utcnow())
                .returning(ProofingLink.id)
            )
        ).scalar()
        link = await s.get(ProofingLink, link_id, populate_existing=True)
        if link is None:
            raise NotFound(f"Unknown proofing link: {link_id!r}")
        guests = list((await s.execute(select(Device).where(Device.link_id == link_id))).scalars())
        guest_ids = {d.id for d in guests}
        for device in guests:
            await s.delete(device)
        data = link_dict(link, [])
    if revoked is not None or guest_ids:
        for client in ctx.clients.all():
            if client.device_id in guest_ids:
                client.close_soon(CLOSE_AUTH_FAILED, "Proofing link revoked")
    return data


async def _usable_link(ctx: BridgeContext, secret: str) -> ProofingLink:
    async with ctx.db.session() as s:
        link = (
            await s.execute(
                select(ProofingLink).where(ProofingLink.secret_hash == hash_token(secret))
            )
        ).scalar_one_or_none()
    if link is None:
        raise Unauthorized("This proofing link is not valid; ask the photographer for a new one")
    if link.revoked_at is not None:
        raise Unauthorized("This proofing link was withdrawn by the photographer")
    if link.expires_at <= utcnow():
        raise Unauthorized("This proofing link has expired; ask the photographer for a new one")
    return link


async def join(ctx: BridgeContext, secret: str, client_name: str) -> dict[str, Any]:
    """A guest opens the link and gives a name: a device token of its own (returned once)."""
    name = " ".join(client_name.split())[:CLIENT_NAME_MAX]
    if not name:
        raise InvalidArguments("Please give your name")
    link = await _usable_link(ctx, secret)
    token = secrets.token_urlsafe(32)
    device = Device(
        id=new_id("d"),
        name=name,
        token_hash=hash_token(token),
        role=Role.CLIENT.value,
        link_id=link.id,
    )
    async with ctx.db.session() as s, s.begin():
        s.add(device)
    return {**device_dict(device), "session_id": link.session_id, "token": token}


async def scope_of(ctx: BridgeContext, device_id: str) -> ProofingScope:
    """What the guest `device_id` may see; Unauthorized once its link expired or was revoked."""
    async with ctx.db.session() as s:
        row = (
            await s.execute(
                select(Device, ProofingLink)
                .join(ProofingLink, ProofingLink.id == Device.link_id)
                .where(Device.id == device_id)
            )
        ).one_or_none()
    if row is None:
        raise Unauthorized("This guest is not bound to a proofing link")
    device, link = row
    if link.revoked_at is not None or link.expires_at <= utcnow():
        raise Unauthorized("The proofing link has expired or was withdrawn")
    expires = link.expires_at.timestamp()
    return ProofingScope(link.session_id, link.visibility, device.id, device.name, link.id, expires)
