"""Faces and open eyes with OpenCV's Haar cascades (cached per process)."""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

FACE_DETECT_EDGE = 400  # faces are found on a small copy: Haar cost grows with pixel count
FACE_MIN_FRACTION = 0.05  # smallest face side, as a fraction of the frame's short edge
FACE_SCALE_FACTOR = 1.25  # pyramid step; 1.1 finds a few more faces at twice the cost
FACE_MIN_NEIGHBORS = 5
EYE_MIN_FACE_PX = 80  # below this face width (working px) eyes are too small to judge
EYE_REGION = 0.6  # eyes are looked for in the upper part of the face box
EYE_FACE_WIDTH = 100  # faces are resized to this width: eyes land near the 20 px base window
EYE_SCALE_FACTOR = 1.15

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


def count_open_eyes(gray: np.ndarray, box: tuple[int, int, int, int]) -> int | None:
    """Open eyes found in the face's upper part (the cascade rarely fires on closed eyes)."""
    # None when the face is too small to judge.
    x, y, w, h = box
    if w < EYE_MIN_FACE_PX:
        return None
    roi = gray[y : y + int(h * EYE_REGION), x : x + w]
    # Normalising the face size keeps the eye search to a few pyramid levels (about 3 ms).
    scale = EYE_FACE_WIDTH / w
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    roi = cv2.resize(roi, None, fx=scale, fy=scale, interpolation=interpolation)
    roi = cv2.equalizeHist(roi)
    side = roi.shape[1]
    eyes = _cascade("haarcascade_eye.xml").detectMultiScale(
        roi,
        scaleFactor=EYE_SCALE_FACTOR,
        minNeighbors=4,
        minSize=(side // 8, side // 8),
        maxSize=(side // 2, side // 2),
    )
    return min(len(eyes), 2)
