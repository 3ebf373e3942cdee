"""Pixel measurements: sharpness, exposure, noise, JPEG quality. Plain NumPy/OpenCV, no I/O."""

from __future__ import annotations

import cv2
import numpy as np

HIGHLIGHT_LEVEL = 250  # luminance at or above this counts as clipped highlight
SHADOW_LEVEL = 5  # luminance at or below this counts as crushed shadow
SHARPNESS_GRID = 8  # tiles per side for the "sharpest region" measure
SHARPNESS_PEAK_PERCENTILE = 90  # a sharp subject on a soft background still counts as sharp

# Immerkær's noise kernel: the difference of two Laplacians cancels most image structure.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
# |kernel * N(0, s)| has median 0.6745 * 6 * s (kernel L2 norm is 6).
_NOISE_MAD_SCALE = 1.0 / (0.6745 * 6.0)

# IJG standard luminance quantization table (quality 50), any order: only its sum is used.
_STD_LUMA_SUM = sum(
    (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
)  # fmt: skip


def laplacian(gray: np.ndarray) -> np.ndarray:
    """Float32 Laplacian of a uint8 greyscale image."""
    return cv2.Laplacian(gray, cv2.CV_32F, ksize=1)


def sharpness(gray: np.ndarray, lap: np.ndarray | None = None) -> dict[str, float]:
    """Variance of Laplacian (whole frame and sharpest tiles) and Tenengrad (mean Sobel energy)."""
    if lap is None:
        lap = laplacian(gray)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    tenengrad = float(cv2.mean(cv2.magnitude(gx, gy) ** 2)[0])
    return {
        "laplacian_var": round(float(lap.var()), 2),
        "laplacian_peak": round(_peak_tile_variance(lap), 2),
        "tenengrad": round(tenengrad, 1),
    }


def _peak_tile_variance(lap: np.ndarray) -> float:
    h, w = lap.shape
    th, tw = h // SHARPNESS_GRID, w // SHARPNESS_GRID
    if th < 4 or tw < 4:
        return float(lap.var())
    tiles = lap[: th * SHARPNESS_GRID, : tw * SHARPNESS_GRID].reshape(
        SHARPNESS_GRID, th, SHARPNESS_GRID, tw
    )
    variances = tiles.var(axis=(1, 3))
    return float(np.percentile(variances, SHARPNESS_PEAK_PERCENTILE))


def region_sharpness(lap: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Variance of Laplacian inside an (x, y, w, h) box."""
    x, y, w, h = box
    region = lap[y : y + h, x : x + w]
    return round(float(region.var()), 2) if region.size else 0.0


def exposure(gray: np.ndarray) -> dict[str, float]:
    """Clipped-highlight and crushed-shadow fractions and mean level (0..1)."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    total = float(hist.sum()) or 1.0
    mean = float(np.dot(hist, np.arange(256))) / total / 255.0
    return {
        "highlights_clipped": round(float(hist[HIGHLIGHT_LEVEL:].sum()) / total, 4),
        "shadows_clipped": round(float(hist[: SHADOW_LEVEL + 1].sum()) / total, 4),
        "mean_level": round(mean, 4),
    }


def unclipped_share(crop: np.ndarray) -> float:
    """Share of pixels neither crushed nor clipped (the ones that can show noise)."""
    if crop.size == 0:
        return 0.0
    return float(((crop > SHADOW_LEVEL) & (crop < HIGHLIGHT_LEVEL)).mean())


def noise_sigma(crop: np.ndarray) -> float:
    """Robust noise standard deviation (grey levels) by Immerkær's kernel and the MAD."""
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return 0.0
    response = cv2.filter2D(crop.astype(np.float32), -1, _NOISE_KERNEL)[1:-1, 1:-1]
    # Clipped pixels carry no noise; leaving them in would report blown skies as clean.
    mask = (crop[1:-1, 1:-1] > SHADOW_LEVEL) & (crop[1:-1, 1:-1] < HIGHLIGHT_LEVEL)
    values = np.abs(response[mask]) if mask.mean() > 0.1 else np.abs(response).ravel()
    return round(float(np.median(values)) * _NOISE_MAD_SCALE, 3)


def jpeg_quality(quantization: dict[int, list[int]] | None) -> int | None:
    """Estimate the IJG quality (1..100) that produced a JPEG's luminance table."""
    if not quantization or 0 not in quantization or len(quantization[0]) != 64:
        return None
    scale = 100.0 * sum(quantization[0]) / _STD_LUMA_SUM  # IJG scale factor in percent
    quality = (200.0 - scale) / 2.0 if scale <= 100 else 5000.0 / scale
    return int(min(100, max(1, round(quality))))
