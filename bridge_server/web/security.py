"""Security at the door: trusted addresses, Host and Origin checks, proxies, tokens, bans."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections import defaultdict, deque
from typing import Final
from urllib.parse import urlsplit

import psutil
from multidict import MultiMapping

from ..config import Settings

MAX_FAILURES: Final = 5
FAILURE_WINDOW: Final = 60.0
BAN_SECONDS: Final = 60.0
ADDRESS_REFRESH_SECONDS: Final = 5.0
FORWARDING_HEADERS: Final = ("Forwarded", "X-Forwarded-For")

Headers = MultiMapping[str]  # request headers: a name may repeat


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


def split_host(host_header: str) -> tuple[str, int | None]:
    """The host name of a Host header (no IPv6 brackets, lower-cased) and its port, if any."""
    host = host_header.strip().lower()
    port_text = ""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return host, None
        host, rest = host[1:end], host[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else ""
    elif host.count(":") == 1:
        host, port_text = host.rsplit(":", 1)
    port = int(port_text) if port_text.isdigit() and len(port_text) <= 5 else None
    if port_text and port is None:
        return "", None  # a port that is not a number: no host of ours
    return host.rstrip("."), port


def normalise_origin(origin: str) -> str:
    """`scheme://host[:port]`, lower-cased, without a trailing slash."""
    return origin.strip().rstrip("/").lower()


def default_port(scheme: str) -> int:
    """The port a URL of `scheme` means when it names none."""
    return 443 if scheme in ("https", "wss") else 80


class HostPolicy:
    """Which Host headers and Origins this server answers to (defeats DNS rebinding)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._names = self._current_names()
        self._refreshed_at = time.monotonic()

    def _current_names(self) -> set[str]:
        # No DNS lookups here (getfqdn would ask the network): names this machine knows itself.
        host = socket.gethostname().lower()
        return {"localhost", host, f"{host}.local", *local_addresses()}

    def _proxy_names(self) -> set[str]:
        return {n.lower().rstrip(".") for n in self._settings.extra_host_names}

    def host_allowed(self, host_header: str | None, local_port: int | None, scheme: str) -> bool:
        """Host must name this machine on the port it was reached on (or a configured name)."""
        if not host_header:
            return False
        host, port = split_host(host_header)
        if not host:
            return False
        if host in self._proxy_names():
            return True  # a reverse proxy's public name, on the proxy's own port
        if local_port is not None and (port or default_port(scheme)) != local_port:
            return False
        if host in self._names:
            return True
        # The machine may have got a new address (Wi-Fi changed): look again, at most every 5 s.
        now = time.monotonic()
        if now - self._refreshed_at > ADDRESS_REFRESH_SECONDS:
            self._refreshed_at = now
            self._names = self._current_names()
            return host in self._names
        return False

    def origin_allowed(self, origin: str | None, host_header: str | None, scheme: str) -> bool:
        """Origin must be absent, be configured, or equal the Host in scheme, name and port."""
        if origin is None:
            return True
        listed = {normalise_origin(o) for o in self._settings.allowed_origins}
        if normalise_origin(origin) in listed:
            return True
        return same_origin(origin, host_header, scheme)


def same_origin(origin: str, host_header: str | None, scheme: str) -> bool:
    """Whether `origin` is this server as the request reached it: scheme, name and port."""
    if not host_header:
        return False
    try:
        parts = urlsplit(origin)
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host, port = split_host(host_header)
    return (
        parts.scheme == scheme
        and parts.hostname.rstrip(".") == host
        and (origin_port or default_port(parts.scheme)) == (port or default_port(scheme))
    )


class FailureTracker:
    """Counts failed authentications per address and bans repeat offenders for a while.

    A success never clears the count (an attacker could otherwise slip a good request between
    guesses), and a ban only stops unauthenticated attempts: a device with a valid token behind
    the same address (a venue's NAT) keeps working.
    """

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
        self._forget_quiet(now)
        attempts = self._failures[address]
        attempts.append(now)
        if len(attempts) >= MAX_FAILURES:
            self._banned_until[address] = now + BAN_SECONDS
            attempts.clear()

    def _forget_quiet(self, now: float) -> None:
        # Drop attempts older than the window, and addresses with none left (bounded memory).
        for address in list(self._failures):
            attempts = self._failures[address]
            while attempts and attempts[0] < now - FAILURE_WINDOW:
                attempts.popleft()
            if not attempts:
                del self._failures[address]


class ProxyPolicy:
    """Whose forwarding headers to believe (the `trusted_proxies` setting)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        networks = []
        for entry in self._settings.trusted_proxies:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                continue  # a typo in the settings trusts nobody rather than everybody
        return networks

    def is_trusted_proxy(self, address: str) -> bool:
        """Whether `address` is one of the configured reverse proxies."""
        ip = parse_ip(address)
        return ip is not None and any(ip in net for net in self._networks())

    def client_address(self, peer: str, headers: Headers) -> str:
        """The client's address: the peer, or behind trusted proxies the forwarded one."""
        if not self.is_trusted_proxy(peer):
            return peer
        chain = forwarded_for(headers)
        for address in reversed(chain):
            if not self.is_trusted_proxy(address):
                return address
        return chain[0] if chain else peer

    def scheme(self, peer: str, headers: Headers, own: str) -> str:
        """The scheme the client used: a trusted proxy may say it terminated TLS."""
        if not self.is_trusted_proxy(peer):
            return own
        proto = forwarded_proto(headers)
        return proto if proto in ("http", "https") else own


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address, accepting IPv6 brackets and a zone; None if it is not one."""
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]  # IPv4 with a port
    try:
        return ipaddress.ip_address(value.split("%")[0])
    except ValueError:
        return None


def has_forwarding_headers(headers: Headers) -> bool:
    """Whether a request says it was forwarded by a proxy."""
    return any(name in headers for name in FORWARDING_HEADERS)


def forwarded_for(headers: Headers) -> list[str]:
    """The client chain a proxy reports, oldest first (`Forwarded`, else `X-Forwarded-For`)."""
    chain: list[str] = []
    forwarded = joined(headers, "Forwarded")
    if forwarded is not None:
        for element in forwarded.split(","):
            for pair in element.split(";"):
                key, _, value = pair.strip().partition("=")
                if key.lower() == "for":
                    chain.append(_address_text(value))
        return chain
    for value in (joined(headers, "X-Forwarded-For") or "").split(","):
        if value.strip():
            chain.append(_address_text(value))
    return chain


def forwarded_proto(headers: Headers) -> str:
    """The scheme a proxy reports the client used, or ''."""
    forwarded = joined(headers, "Forwarded")
    if forwarded is not None:
        last = forwarded.split(",")[-1]
        for pair in last.split(";"):
            key, _, value = pair.strip().partition("=")
            if key.lower() == "proto":
                return value.strip().strip('"').lower()
        return ""
    return (joined(headers, "X-Forwarded-Proto") or "").split(",")[-1].strip().lower()


def joined(headers: Headers, name: str) -> str | None:
    """Every line of a repeatable header as one comma-separated value (a client's own line
    comes first, the proxy's last: reading only the first would believe the client)."""
    values = headers.getall(name, [])
    return ",".join(values) if values else None


def _address_text(value: str) -> str:
    ip = parse_ip(value)
    # Obfuscated or "unknown" identifiers stay as text: never loopback, never a proxy.
    return str(ip) if ip is not None else value.strip().strip('"')[:64]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
