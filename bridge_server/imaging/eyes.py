"""Eye state per face from dlib's 68 facial landmarks (eye aspect ratio), loaded once per worker.

The predictor ships in the face-recognition-models package (nothing is downloaded at run time);
see docs/architecture.md ("Eye state") for why this model and what its licence allows.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np

EYE_MIN_FACE_PX = 48  # full-resolution face width below which eyes are too small to judge
LANDMARK_FACE_PX = 110  # faces are landmarked at about this width (the detector's training size)
EAR_CLOSED = 0.21  # mean eye aspect ratio at or below: closed (open eyes are ~0.25-0.35)
EAR_OPEN = 0.25  # at or above: open; in between the eyes are half shut and cannot be told
MAX_EYE_ASYMMETRY = 0.12  # eyes this different in EAR: a turned head or a wink, can't tell

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"

OPEN, CLOSED, UNKNOWN = "open", "closed", "unknown"

_models: dict[str, Any] = {}


def model_path() -> str:
    """The 68-point predictor's file inside the installed face-recognition-models package."""
    # Found without importing the package: its __init__ needs pkg_resources (setuptools),
    # which a plain runtime environment need not have.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed (eye state needs it)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return str(folder / "models" / PREDICTOR_FILE)


def _predictor() -> tuple[Any, Any]:
    """(HOG face detector, 68-point shape predictor), loaded once per worker (~75 MB)."""
    if "predictor" not in _models:
        import dlib  # imported lazily: only analysis workers pay for the model

        _models["detector"] = dlib.get_frontal_face_detector()
        _models["predictor"] = dlib.shape_predictor(model_path())
    return _models["detector"], _models["predictor"]


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Soukupová and Čech's EAR of six eye landmarks (corner, top x2, corner, bottom x2)."""
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = float(np.linalg.norm(eye[0] - eye[3]))
    return float(vertical / (2.0 * horizontal)) if horizontal > 0 else 0.0


def eye_state(face_crop: np.ndarray, face_px: int, face_px_full: float) -> dict[str, Any]:
    """{state: open|closed|unknown, ear, why, eye_boxes} for a greyscale crop around one face.

    `face_px` is the face's width in the crop, `face_px_full` at full resolution; eye_boxes is
    the band holding both eyes in crop pixels.
    """
    if face_px_full < EYE_MIN_FACE_PX:
        return {"state": UNKNOWN, "ear": None, "why": "face too small to see the eyes"}
    detector, predictor = _predictor()
    scale = min(1.0, LANDMARK_FACE_PX / max(face_px, 1))
    small = (
        cv2.resize(face_crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1.0
        else face_crop
    )
    # The shape predictor was trained on this detector's boxes: confirming the face with it
    # also rejects profiles and turned heads, where the eye landmarks would be guesses.
    found = detector(small, 0)
    if len(found) == 0:
        return {"state": UNKNOWN, "ear": None, "why": "face not frontal enough to read the eyes"}
    rect = max(found, key=lambda r: r.width() * r.height())
    shape = predictor(small, rect)
    pts = np.array([(shape.part(i).x, shape.part(i).y) for i in range(36, 48)], dtype=np.float64)
    pts_crop = pts / scale
    left, right = eye_aspect_ratio(pts[:6]), eye_aspect_ratio(pts[6:])
    ear = (left + right) / 2.0
    result: dict[str, Any] = {
        "ear": round(ear, 3),
        "eye_boxes": _eye_boxes(pts_crop, face_crop.shape),
    }
    if abs(left - right) > MAX_EYE_ASYMMETRY and min(left, right) > EAR_CLOSED:
        return {**result, "state": UNKNOWN, "why": "eyes differ (head turned or a wink)"}
    if ear <= EAR_CLOSED:
        return {**result, "state": CLOSED, "why": f"eyes closed (aspect ratio {ear:.2f})"}
    if ear >= EAR_OPEN:
        return {**result, "state": OPEN, "why": f"eyes open (aspect ratio {ear:.2f})"}
    return {**result, "state": UNKNOWN, "why": f"eyes half shut (aspect ratio {ear:.2f})"}


def _eye_boxes(pts: np.ndarray, shape: tuple[int, ...]) -> list[int]:
    """The band holding both eyes (x, y, w, h in crop pixels), padded, for focus on the eyes."""
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    pad_x, pad_y = 0.15 * (x1 - x0), 0.8 * (y1 - y0) + 4
    left, top = max(0, int(x0 - pad_x)), max(0, int(y0 - pad_y))
    right, bottom = min(shape[1], int(x1 + pad_x)), min(shape[0], int(y1 + pad_y))
    return [left, top, max(0, right - left), max(0, bottom - top)]
