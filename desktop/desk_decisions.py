"""The desk's own decisions on a real undo stack: flag, stars, colour label, keywords, per photo.

Every change is one QUndoCommand holding the photo's decision before and after; a batch (a
multi-selection) is one macro, so one Ctrl+Z takes all of it back. Undo and redo re-apply a
stored state through the decision service (the one place decisions change, for every door) and
reselect the photo they touched. Applications run one after another in push order, so an undo
never overtakes the decision it takes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QUndoCommand, QUndoStack

from bridge_server.context import BridgeContext

from . import decision_service
from .tasks import run_service

FLAG_OF_APPROVAL: Final = {"pending": "none", "approved": "pick", "rejected": "reject"}
FLAG_WORDS: Final = {"pick": "Picked", "reject": "Rejected", "none": "Unflagged"}
LABELS: Final = ("red", "yellow", "green", "blue", "purple")
UNDO_LIMIT: Final = 500

Decision = dict[str, Any]  # {"flag": ..., "stars": ..., "color_label": ..., "keywords": [...]}


def decision_of(photo: dict[str, Any]) -> Decision:
    """The photo's current decision in the contract's words."""
    flag = photo.get("flag") or FLAG_OF_APPROVAL.get(str(photo.get("approval")), "none")
    return {
        "flag": flag,
        "stars": int(photo.get("stars") or 0),
        "color_label": photo.get("color_label"),
        "keywords": [str(w) for w in photo.get("keywords") or []],
    }


def with_change(photo: dict[str, Any], change: Decision) -> dict[str, Any]:
    """The photo as it will be once the change is stored (what the window shows meanwhile)."""
    updated = {**photo, **{k: v for k, v in change.items() if k != "flag"}}
    if "flag" in change:
        updated["flag"] = change["flag"]
        updated["approval"] = {"pick": "approved", "reject": "rejected"}.get(
            change["flag"], "pending"
        )
    return updated


def doing(change: Decision) -> str:
    """What storing the change is called in an error message: 'Approving failed: ...'."""
    if "flag" in change:
        return {"pick": "Approving", "reject": "Rejecting"}.get(change["flag"], "Unflagging")
    if "keywords" in change:
        return "Changing keywords"
    return "Rating" if "stars" in change else "Labelling"


def describe_change(name: str, change: Decision) -> str:
    """'Picked IMG_1.jpg', '3 stars on IMG_1.jpg', 'Red label on IMG_1.jpg'."""
    if "flag" in change:
        return f"{FLAG_WORDS[change['flag']]} {name}"
    if "stars" in change:
        stars = int(change["stars"])
        if not stars:
            return f"No stars on {name}"
        return f"{stars} star{'s' if stars != 1 else ''} on {name}"
    if "keywords" in change:
        words = ", ".join(map(str, change["keywords"]))
        return f"Keywords on {name}: {words}" if words else f"No keywords on {name}"
    label = change.get("color_label")
    return f"{str(label).capitalize()} label on {name}" if label else f"No label on {name}"


class DecisionCommand(QUndoCommand):
    """One photo's decision from `before` to `after` (only the fields that change)."""

    def __init__(
        self,
        desk: DeskDecisions,
        photo: dict[str, Any],
        change: Decision,
        parent: QUndoCommand | None = None,
    ) -> None:
        super().__init__(describe_change(str(photo.get("file_name", "")), change), parent)
        self.desk = desk
        self.photo_id = str(photo["photo_id"])
        current = decision_of(photo)
        self.before = {key: current[key] for key in change}
        self.after = dict(change)
        self._pushed = False

    def redo(self) -> None:
        """Apply `after` (on push; and on redo, reselecting the photo)."""
        self.desk.apply(self.photo_id, self.after)
        if self._pushed:
            self.desk.restored.emit(self.photo_id)
        self._pushed = True

    def undo(self) -> None:
        """Apply `before` and reselect the photo."""
        self.desk.apply(self.photo_id, self.before)
        self.desk.restored.emit(self.photo_id)


class DeskDecisions(QObject):
    """The desk's decisions and their undo stack."""

    applying = pyqtSignal(str, dict)  # photo_id, the change being stored (shown at once)
    decided = pyqtSignal(str, dict)  # photo_id, the photo as stored afterwards
    restored = pyqtSignal(str)  # undo or redo touched this photo: show it

    def __init__(self, ctx: BridgeContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self._last: asyncio.Task[Any] | None = None

    def decide(self, photos: list[dict[str, Any]], change: Decision) -> int:
        """Change the decision of these photos as one undo step; returns how many change."""
        changing = [p for p in photos if _changes(p, change)]
        text = describe_change(f"{len(changing)} photos", change)
        return self.decide_each([(p, change) for p in changing], text)

    def decide_each(self, changes: list[tuple[dict[str, Any], Decision]], text: str) -> int:
        """A change of its own for each photo (keywords added to each), as one undo step."""
        targets = [(p, c) for p, c in changes if _changes(p, c)]
        if not targets:
            return 0
        if len(targets) == 1:
            self.stack.push(DecisionCommand(self, *targets[0]))
            return 1
        self.stack.beginMacro(text)
        for photo, change in targets:
            self.stack.push(DecisionCommand(self, photo, change))
        self.stack.endMacro()
        return len(targets)

    def apply(self, photo_id: str, change: Decision) -> asyncio.Task[Any]:
        """Store a decision after every earlier one (undo never overtakes its decision)."""
        previous = self._last

        async def ordered() -> dict[str, Any]:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            return await decision_service.set_decision(self.ctx, photo_id, change)

        self.applying.emit(photo_id, change)
        task = run_service(
            ordered(), lambda photo: self.decided.emit(photo_id, photo), what=doing(change)
        )
        self._last = task
        return task

    def pending(self) -> asyncio.Task[Any] | None:
        """The newest application still running (tests and shutdown wait on it)."""
        return self._last if self._last is not None and not self._last.done() else None

    def on_clean(self, callback: Callable[[], None]) -> None:
        """Call back whenever the stack's undo/redo availability changes."""
        self.stack.canUndoChanged.connect(lambda _c: callback())
        self.stack.canRedoChanged.connect(lambda _c: callback())


def _changes(photo: dict[str, Any], change: Decision) -> bool:
    """Whether `change` alters anything of the photo's decision."""
    current = decision_of(photo)
    return any(current[k] != v for k, v in change.items())
