"""Per-face crops at a resolution that shows focus and eyes, decoded as cheaply as possible."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .decode import luma_for_regions

FACE_PX = 160  # faces are judged at this width (resampled down; never up past full resolution)
MARGIN = 0.35  # context around the face box, as a fraction of its size (landmark detector)


@dataclass
class FaceCrop:
    """A greyscale crop around one face; `box` is the face inside it (x, y, w, h)."""

    pixels: np.ndarray
    box: tuple[int, int, int, int]
    full_width_px: float  # the face's width in the original, full-resolution photo


def _cut(
    gray: np.ndarray, frac: tuple[float, float, float, float], basis: tuple[int, int]
) -> FaceCrop | None:
    bw, bh = basis
    fx, fy, fw, fh = frac
    x0, y0 = (fx - MARGIN * fw) * bw, (fy - MARGIN * fh) * bh
    x1, y1 = (fx + fw * (1 + MARGIN)) * bw, (fy + fh * (1 + MARGIN)) * bh
    h, w = gray.shape
    left, top = max(0, int(x0)), max(0, int(y0))
    right, bottom = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
    if right - left < 8 or bottom - top < 8:
        return None
    crop = gray[top:bottom, left:right]
    face_w = fw * bw
    scale = min(1.0, FACE_PX / max(face_w, 1.0))
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    box = (
        round((fx * bw - left) * scale),
        round((fy * bh - top) * scale),
        round(face_w * scale),
        round(fh * bh * scale),
    )
    return FaceCrop(np.ascontiguousarray(crop), box, face_w)


def face_crops(
    path: str,
    working: np.ndarray,
    boxes: list[tuple[float, float, float, float]],
    full_size: tuple[int, int],
) -> list[FaceCrop | None]:
    """A crop per face box (fractions of the frame), from the working image when it is enough.

    Faces smaller than FACE_PX in the working image are cut from one extra decode at the
    smallest DCT scale that shows them at FACE_PX (or full resolution), rows below the lowest
    face left undecoded.
    """
    wh = (working.shape[1], working.shape[0])
    full_long = max(full_size)
    need: list[int] = []
    out: list[FaceCrop | None] = []
    for i, frac in enumerate(boxes):
        in_working = frac[2] * wh[0]
        in_full = frac[2] * full_size[0]
        if in_working >= FACE_PX or in_full <= in_working * 1.05:
            crop = _cut(working, frac, wh)
            if crop is not None:
                crop.full_width_px = in_full
            out.append(crop)
        else:
            out.append(None)
            need.append(i)
    if need:
        # The decode scale that brings the smallest face to FACE_PX, capped at full resolution.
        scale = max(min(1.0, FACE_PX / (boxes[i][2] * full_size[0])) for i in need)
        bottom = max(min(1.0, boxes[i][1] + boxes[i][3] * (1 + MARGIN)) for i in need)
        big, basis = luma_for_regions(path, int(np.ceil(full_long * scale)), bottom)
        for i in need:
            crop = _cut(big, boxes[i], basis)
            if crop is not None:
                crop.full_width_px = boxes[i][2] * full_size[0]
            out[i] = crop
    return out
