"""Typed keys for what the aiohttp application carries."""

from __future__ import annotations

from aiohttp import web

from ..context import BridgeContext
from .fanout import FanoutSender
from .security import FailureTracker, HostPolicy

CTX = web.AppKey("ctx", BridgeContext)
HOSTS = web.AppKey("hosts", HostPolicy)
FAILURES = web.AppKey("failures", FailureTracker)
FANOUT = web.AppKey("fanout", FanoutSender)
