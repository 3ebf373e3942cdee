"""The fault-injection soak, three trials: SIGKILL mid-move, mid-analysis and mid-render, then
a restart, must break none of the invariants (files, states, exports, numbers, processes)."""

from __future__ import annotations

import pytest

from bench.chaos import INVARIANTS, Tally, run_trial


@pytest.mark.timeout(900)
async def test_sigkill_mid_move_analysis_and_render_breaks_no_invariant() -> None:
    tally = Tally()
    phases = [await run_trial(i, 1000 + i, 2, tally) for i in range(3)]
    assert phases == ["mid-move", "mid-analysis", "mid-render"]
    assert all(tally.checks[name] > 0 for name in INVARIANTS), tally.checks
    assert not tally.violations, "\n".join(tally.notes)
