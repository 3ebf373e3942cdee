"""Focus as an edge-blur radius: independent of brightness and contrast, robust to noise.

The gradient of an edge smoothed with a Gaussian of sigma s peaks at A / (s' * sqrt(2 pi)),
where s' = sqrt(s^2 + b^2) and b is the blur already in the image. The ratio of peak gradients at
a fine and a coarse scale, taken on the strongest edges only, therefore gives b directly; the
edge amplitude A (exposure, contrast, a dim room) cancels, and noise is too weak at the coarse
scale to be chosen as an edge.
"""

from __future__ import annotations

import cv2
import numpy as np

FINE_SIGMA = 0.8
COARSE_SIGMA = 2.0
EDGE_PERCENTILE = 92  # the strongest 8% of coarse-scale gradients are the edges that count
NOISE_EDGE_MULTIPLE = 1.5  # an edge must beat this many noise sigmas of coarse gradient
MIN_EDGE_GRADIENT = 0.5  # grey levels per px: below, JPEG blocking and grain, not edges
FRAME_EDGE_SHARE = 0.15  # tile edges must reach this share of the frame's strong edges
MIN_EDGE_PIXELS = 40  # fewer edge pixels than this: nothing to judge focus on
GRID = 6  # tiles per side for the sharpest region of a frame without a face
REGION_PERCENTILE = 85  # the region judged: sharper than most tiles, not a single outlier
MAX_BLUR = 8.0


def _gradients(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = gray.astype(np.float32)
    out = []
    for sigma in (FINE_SIGMA, COARSE_SIGMA):
        g = cv2.GaussianBlur(f, (0, 0), sigma)
        gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
        out.append(cv2.magnitude(gx, gy) / 8.0)  # Sobel's 3x3 gain is 8
    return out[0], out[1]


def _blur_from(fine: np.ndarray, coarse: np.ndarray, floor: float) -> float | None:
    """Blur radius (px) from the edges of one region, or None when it has no real edges."""
    if coarse.size == 0:
        return None
    flat = coarse.ravel()
    k = min(flat.size - 1, int(flat.size * EDGE_PERCENTILE / 100))
    threshold = max(float(np.partition(flat, k)[k]), floor, MIN_EDGE_GRADIENT)
    sel = coarse >= threshold
    if int(sel.sum()) < MIN_EDGE_PIXELS:
        return None
    ratio = float(np.median(fine[sel] / np.maximum(coarse[sel], 1e-3)))
    if ratio <= 1.0:
        return MAX_BLUR
    b2 = (COARSE_SIGMA**2 - ratio**2 * FINE_SIGMA**2) / (ratio**2 - 1.0)
    return round(min(MAX_BLUR, float(np.sqrt(max(b2, 0.0)))), 2)


def blur_radius(gray: np.ndarray, noise_sigma: float = 0.0) -> float | None:
    """Edge-blur radius (px) of a whole region; None when it holds no edge above the noise."""
    fine, coarse = _gradients(gray)
    return _blur_from(fine, coarse, NOISE_EDGE_MULTIPLE * noise_sigma)


def sharpest_region(gray: np.ndarray, noise_sigma: float) -> tuple[float | None, list[int] | None]:
    """(blur radius, [x, y, w, h]) of the sharp subject: a sharper-than-most tile of the frame.

    A sharp subject on a blurred background (shallow depth of field) is judged by the subject.
    """
    fine, coarse = _gradients(gray)
    h, w = gray.shape
    th, tw = h // GRID, w // GRID
    # Relative to the frame's own strong edges, so a dim frame is judged like a bright one and
    # a flat sky's faint texture is not taken for the subject.
    strong = float(np.percentile(coarse[::4, ::4], 99))
    floor = max(NOISE_EDGE_MULTIPLE * noise_sigma, FRAME_EDGE_SHARE * strong)
    tiles: list[tuple[float, list[int]]] = []
    for r in range(GRID):
        for c in range(GRID):
            ys, xs = slice(r * th, (r + 1) * th), slice(c * tw, (c + 1) * tw)
            b = _blur_from(fine[ys, xs], coarse[ys, xs], floor)
            if b is not None:
                tiles.append((b, [c * tw, r * th, tw, th]))
    if not tiles:
        return None, None
    tiles.sort(key=lambda t: t[0])
    index = min(len(tiles) - 1, int(len(tiles) * (100 - REGION_PERCENTILE) / 100))
    return tiles[index]
