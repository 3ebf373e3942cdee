"""The decision and whole-shoot library tests, on a studio bridge (PostgreSQL and Redis on
loopback): the JSON filters and comparisons they rely on mean the same on both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import make_settings
from tests.server import test_library
from tests.server.test_library import (  # noqa: F401 (collected here, in studio mode)
    test_filters_and_collapsed_stacks_show_what_the_photographer_asks_for,
    test_the_whole_shoot_pages_by_cursor_in_capture_or_score_order,
)
from tests.services import test_decisions
from tests.services.test_decisions import (  # noqa: F401
    test_bad_decisions_are_refused_clearly_and_change_nothing,
    test_flag_pick_reject_none_and_a_rejected_photo_keeps_its_stars,
    test_stars_label_and_keywords_reach_every_door_once,
)


@pytest.fixture(autouse=True)
def in_studio_mode(monkeypatch: pytest.MonkeyPatch, studio: dict[str, Any]) -> None:
    """Every bridge those tests start shares this test's PostgreSQL database and Redis keys."""

    def studio_settings(data_dir: Path, **overrides: Any) -> Any:
        return make_settings(data_dir, **{**studio, **overrides})

    monkeypatch.setattr(test_decisions, "make_settings", studio_settings)
    monkeypatch.setattr(test_library, "make_settings", studio_settings)
