"""The culling keys, as Lightroom Classic has them; arrows are not here: arrows only move.

P pick · X reject · U unflag · 0–5 stars · 6 red, 7 yellow, 8 green, 9 blue label · K keywords
Z zoom to 100 % (again: fit) · E or Enter loupe · G grid · C compare
Ctrl+Z undo · Ctrl+Shift+Z (or Ctrl+Y) redo
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from PyQt6.QtCore import Qt

Key = Qt.Key
LABEL_KEYS: Final = {Key.Key_6: "red", Key.Key_7: "yellow", Key.Key_8: "green", Key.Key_9: "blue"}
STAR_KEYS: Final = {getattr(Key, f"Key_{n}"): n for n in range(6)}
FLAG_KEYS: Final = {Key.Key_P: "pick", Key.Key_X: "reject", Key.Key_U: "none"}
VIEW_KEYS: Final = {
    Key.Key_Z: "zoom",
    Key.Key_E: "loupe",
    Key.Key_Return: "loupe",
    Key.Key_Enter: "loupe",
    Key.Key_G: "grid",
    Key.Key_Escape: "grid",
    Key.Key_C: "compare",
}
MOVE_KEYS: Final = frozenset(
    {Key.Key_Left, Key.Key_Right, Key.Key_Up, Key.Key_Down, Key.Key_Home, Key.Key_End}
)

# What the keys say on screen (README and docs/desktop.md list the same).
KEY_HELP: Final = (
    "P pick · X reject · U unflag · 0–5 stars · 6–9 red, yellow, green, blue · K keywords · "
    "arrows move · Z 100 % · E loupe · G grid · C compare · Ctrl+Z undo · Ctrl+Shift+Z redo"
)


@dataclass(frozen=True)
class CullAction:
    """What a key asks for: a decision, a view change, or undo/redo."""

    kind: str  # flag | stars | label | keywords | view | undo | redo
    value: Any = None


def action_for(key: int, modifiers: Qt.KeyboardModifier) -> CullAction | None:
    """The action of a key press, or None (then the widget handles it: arrows move)."""
    ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
    shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
    if ctrl:
        if key == Key.Key_Z:
            return CullAction("redo" if shift else "undo")
        if key == Key.Key_Y:
            return CullAction("redo")
        return None
    if modifiers & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier):
        return None
    if key in FLAG_KEYS:
        return CullAction("flag", FLAG_KEYS[Key(key)])
    if key in STAR_KEYS:
        return CullAction("stars", STAR_KEYS[Key(key)])
    if key in LABEL_KEYS:
        return CullAction("label", LABEL_KEYS[Key(key)])
    if key == Key.Key_K:
        return CullAction("keywords")
    if key in VIEW_KEYS:
        return CullAction("view", VIEW_KEYS[Key(key)])
    return None
