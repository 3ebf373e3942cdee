"""Frontal faces with OpenCV's Haar cascade (cached per process); eyes are in eyes.py."""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

FACE_DETECT_EDGE = 400  # faces are found on a small copy: Haar cost grows with pixel count
FACE_MIN_FRACTION = 0.05  # smallest face side, as a fraction of the frame's short edge
FACE_SCALE_FACTOR = 1.25  # pyramid step; 1.1 finds a few more faces at twice the cost
FACE_MIN_NEIGHBORS = 5

_cascades: dict[str, Any] = {}


def _cascade(name: str) -> Any:
    """Load a cascade once per process; worker processes each get their own copy."""
    cascade = _cascades.get(name)
    if cascade is None:
        cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, name))  # type: ignore[attr-defined]
        if cascade.empty():
            raise RuntimeError(f"OpenCV cascade missing: {name}")
        _cascades[name] = cascade
    return cascade


def detect_faces(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Frontal faces as (x, y, w, h) boxes in the coordinates of `gray`, largest first."""
    h, w = gray.shape
    scale = min(1.0, FACE_DETECT_EDGE / max(h, w))
    small = (
        gray
        if scale == 1.0
        else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    small = cv2.equalizeHist(small)
    min_side = max(20, int(FACE_MIN_FRACTION * min(small.shape)))
    found = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(
        small,
        scaleFactor=FACE_SCALE_FACTOR,
        minNeighbors=FACE_MIN_NEIGHBORS,
        minSize=(min_side, min_side),
    )
    boxes = [tuple(round(float(v) / scale) for v in box) for box in found]
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return [(b[0], b[1], b[2], b[3]) for b in boxes]
