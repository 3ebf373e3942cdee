"""Typed keys for what the aiohttp application and each request carry."""

from __future__ import annotations

from aiohttp import web

from ..context import BridgeContext
from ..roles import Role
from .fanout import FanoutSender
from .security import FailureTracker, HostPolicy, ProxyPolicy

CTX = web.AppKey("ctx", BridgeContext)
HOSTS = web.AppKey("hosts", HostPolicy)
PROXIES = web.AppKey("proxies", ProxyPolicy)
FAILURES = web.AppKey("failures", FailureTracker)
FANOUT = web.AppKey("fanout", FanoutSender)

# Who is calling, as the door found out (see middleware.door_middleware).
CLIENT_ADDRESS = web.RequestKey("client_address", str)
ROLE = web.RequestKey("role", Role)
DEVICE_ID = web.RequestKey("device_id", str)
