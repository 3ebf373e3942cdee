"""Settings' "Culling profile" section: its status line, export, import (refusing a bad file)
and reset, acting on the same profile the REST routes serve."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bridge_server.imaging import profile as prof
from tests.desktop.conftest import Desk


def _trained_document(decisions: int = 40) -> dict:
    """An exported profile of a photographer who rejects faces under 5 % of the frame."""
    rng = random.Random(7)
    examples = []
    for _ in range(decisions):
        face = rng.uniform(0.005, 0.2)
        analysis = {
            "ai_score": round(rng.uniform(3.5, 5.0), 1),
            "context_hints": {"face_count": 1, "largest_face_fraction": face},
        }
        examples.append(("portrait", prof.features(analysis), int(face >= 0.05)))
    profiles = prof.train_genres(examples)
    assert profiles, "the fixture's decisions must be learnable"
    return prof.document("someone", profiles)


def test_profile_section_exports_imports_and_resets(desk: Desk, tmp_path: Path) -> None:
    async def scenario() -> None:
        dialog = desk.app.open_settings()
        box = dialog.culling_profile
        assert box is not None
        await desk.until(lambda: box.status.text().startswith("Learning: 0 of the 30"))

        # A file that is not a profile is refused, and says why.
        bad = tmp_path / "not-a-profile.json"
        bad.write_text(json.dumps({"kind": "holiday photos"}))
        box.import_from(str(bad))
        await desk.until(lambda: "Not a usable culling profile" in box.status.text())

        good = tmp_path / "from-the-studio.json"
        good.write_text(json.dumps(_trained_document()))
        box.import_from(str(good))
        await desk.until(lambda: box.status.text().startswith("Learned from 40 of your"))
        assert box.reset_button.isEnabled()

        exported = tmp_path / "backup.json"
        box.export_to(str(exported))
        await desk.until(lambda: "Exported to backup.json" in box.status.text())
        document = json.loads(exported.read_text())
        assert document["kind"] == prof.DOCUMENT_KIND
        assert document["profiles"]["all"]["decisions"] == 40

        box.reset()
        await desk.until(lambda: box.status.text().startswith("Learning: 0 of the 30"))
        dialog.reject()

    desk.run(scenario(), timeout=60)
