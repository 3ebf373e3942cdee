"""docs/architecture.md lists every state transition exactly as the code defines it."""

from __future__ import annotations

import re
from pathlib import Path

from bridge_server.services import transitions

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _rows() -> dict[str, tuple[set[str], str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.match(r"`(\w+)`", cells[1]) if len(cells) == 3 else None
        if name:
            rows[name.group(1)] = ({s.strip() for s in cells[0].split(",")}, cells[2])
    return rows


def test_every_transition_is_documented_with_its_states():
    rows = _rows()
    for t in transitions.ALL:
        assert t.name in rows, f"{t.name} is missing from the state tables"
        sources, target = rows[t.name]
        assert sources == {s.value for s in t.sources}, t.name
        assert target == t.target.value, t.name
    assert len(rows) == len(transitions.ALL)
