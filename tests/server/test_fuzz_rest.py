"""Schemathesis over every REST route, from the OpenAPI document a real server serves on loopback.

For each operation, schema-valid requests (positive) and schema-violating ones (negative) are
sent; each response must not be a 5xx, must have a declared status, content type and body shape,
valid data must not be refused with 400 and invalid data must not be accepted. The test also
fails if the route table has a route that Schemathesis did not call.

Bounded: FUZZ_EXAMPLES examples per operation and mode (environment variable to raise it).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

import requests  # noqa: E402  (installed with schemathesis)
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from bridge_server.services.library import CURSOR_PATTERN, SortOrder, encode_cursor  # noqa: E402
from bridge_server.web.openapi_schemas import PATH_MAX  # noqa: E402
from bridge_server.web.routes import ROUTES  # noqa: E402
from tests.helpers import ThreadedBridge, make_settings  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedBridge]:
    """A bridge in a thread (Schemathesis calls it with blocking `requests`)."""
    data = tmp_path_factory.mktemp("fuzz")
    with ThreadedBridge(make_settings(data / "data")) as bridge:
        yield bridge


def _confine_import_paths(case: Any, root: Path) -> None:
    # Random paths could name real folders ("/", "."): keep every import inside a scratch folder.
    body = case.body
    if case.operation.path == "/api/import" and isinstance(body, dict):
        paths = body.get("paths")
        if isinstance(paths, list):
            # Only valid items are replaced: an invalid one must still reach the server as it is.
            body["paths"] = [
                str(root / hashlib.sha1(p.encode("utf-8", "surrogatepass")).hexdigest())
                if isinstance(p, str) and 1 <= len(p) <= PATH_MAX
                else p
                for p in paths
            ]


CURSOR_ROUTES = {"/api/photos": "captured", "/api/approval/queue": "score"}


def _issued_cursor(case: Any) -> None:
    # A cursor is valid only as the server issued it, and a random string matching its pattern
    # is not one: a schema-valid cursor is replaced by one the server would issue for that sort
    # (invalid ones are left for the negative run; test_library pages with real ones).
    query = case.query
    if case.operation.path not in CURSOR_ROUTES or not isinstance(query, dict):
        return
    # The approval queue is the whole shoot in score order: its cursors are of that order.
    default = CURSOR_ROUTES[case.operation.path]
    cursor, sort_name = query.get("cursor"), query.get("sort", default)
    if (
        isinstance(cursor, str)
        and re.fullmatch(CURSOR_PATTERN, cursor)
        and sort_name in set(SortOrder)
    ):
        sort = SortOrder(sort_name)
        when = [0, "2026-11-25T10:10:00+00:00", "IMG_0001.JPG", "p_fuzz"]
        query["cursor"] = encode_cursor(sort, [0, -3.5, *when] if sort == "score" else when)


def _fuzz(operation: Any, mode: Any, live: ThreadedBridge, scratch: Path) -> int:
    """Run one operation in one mode; returns how many requests were sent."""
    sent = 0
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,  # no timed assertions: a slow request on a busy machine is not a bug
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        nonlocal sent
        _confine_import_paths(case, scratch)
        _issued_cursor(case)
        case.call_and_validate(base_url=live.url, session=session, checks=CHECKS, timeout=30)
        sent += 1

    check()
    return sent


def test_every_rest_route_survives_schemathesis(live: ThreadedBridge, tmp_path: Path) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")
    schema.validate()  # a valid OpenAPI 3.1 document
    # Schemathesis never fuzzes the route that serves the document; loading it exercised it.
    exercised: set[tuple[str, str]] = {("GET", "/api/openapi.json")}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        modes = [GenerationMode.POSITIVE]
        if len(operation.query) or len(operation.body):
            # Only a query or a body can be invalid: a path segment is any string.
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                if _fuzz(operation, mode, live, tmp_path):
                    exercised.add(key)
            except (Exception, BaseExceptionGroup) as exc:  # collect: one report for all
                exercised.add(key)
                failures.append(f"{key[0]} {key[1]} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    table = {(r.method.upper(), r.path) for r in ROUTES}
    assert table, "the route table is empty"
    assert table <= exercised, f"routes Schemathesis never called: {sorted(table - exercised)}"
