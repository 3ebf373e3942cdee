"""Security at the door: trusted addresses, Host and Origin checks, bearer tokens, bans."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections import defaultdict, deque
from typing import Final
from urllib.parse import urlsplit

import psutil

from ..config import Settings

MAX_FAILURES: Final = 5
FAILURE_WINDOW: Final = 60.0
BAN_SECONDS: Final = 60.0
ADDRESS_REFRESH_SECONDS: Final = 5.0


def is_loopback(address: str | None) -> bool:
    """Whether a peer address is this machine's loopback."""
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def local_addresses() -> set[str]:
    """Every IP address of this machine's interfaces."""
    found = {"127.0.0.1", "::1"}
    try:
        for addrs in psutil.net_if_addrs().values():
            for addr in addrs:
                if addr.family in (socket.AF_INET, socket.AF_INET6):
                    found.add(addr.address.split("%")[0])
    except OSError:
        pass
    return found


def lan_addresses() -> list[str]:
    """IPv4 addresses a phone on the same network could reach, most likely first."""
    result: list[str] = []
    try:
        for addrs in psutil.net_if_addrs().values():
            for addr in addrs:
                if addr.family == socket.AF_INET:
                    ip = ipaddress.ip_address(addr.address)
                    if not ip.is_loopback and not ip.is_link_local:
                        result.append(addr.address)
    except OSError:
        pass
    result.sort(key=lambda a: (not ipaddress.ip_address(a).is_private, a))
    return result


def split_host(host_header: str) -> str:
    """The host name of a Host header, without port or IPv6 brackets, lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


class HostPolicy:
    """Which Host headers and Origins this server answers to (defeats DNS rebinding)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._names = self._current_names()
        self._refreshed_at = time.monotonic()

    def _current_names(self) -> set[str]:
        # No DNS lookups here (getfqdn would ask the network): names this machine knows itself.
        host = socket.gethostname().lower()
        names = {"localhost", host, f"{host}.local", *local_addresses()}
        names.update(n.lower() for n in self._settings.extra_host_names)
        return names

    def host_allowed(self, host_header: str | None) -> bool:
        """Host must be one of this machine's names or addresses."""
        if not host_header:
            return False
        host = split_host(host_header)
        if host in self._names:
            return True
        # The machine may have got a new address (Wi-Fi changed): look again, at most every 5 s.
        now = time.monotonic()
        if now - self._refreshed_at > ADDRESS_REFRESH_SECONDS:
            self._refreshed_at = now
            self._names = self._current_names()
            return host in self._names
        return False

    def origin_allowed(self, origin: str | None, host_header: str | None) -> bool:
        """Origin must be absent, match the Host, or be configured."""
        if origin is None:
            return True
        if origin in self._settings.allowed_origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        return bool(host_header) and parts.netloc.lower() == (host_header or "").lower()


class FailureTracker:
    """Counts failed authentications per address and bans repeat offenders for a while."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._banned_until: dict[str, float] = {}

    def banned(self, address: str) -> bool:
        """Whether `address` is currently banned."""
        until = self._banned_until.get(address)
        if until is None:
            return False
        if until <= time.monotonic():
            del self._banned_until[address]
            return False
        return True

    def failed(self, address: str) -> None:
        """Record a failure; the fifth within a minute bans the address."""
        now = time.monotonic()
        attempts = self._failures[address]
        attempts.append(now)
        while attempts and attempts[0] < now - FAILURE_WINDOW:
            attempts.popleft()
        if len(attempts) >= MAX_FAILURES:
            self._banned_until[address] = now + BAN_SECONDS
            attempts.clear()

    def succeeded(self, address: str) -> None:
        """Clear an address's failures."""
        self._failures.pop(address, None)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
