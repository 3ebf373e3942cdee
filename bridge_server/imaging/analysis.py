"""The whole per-photo analysis: metrics, faces, a 1-5 score with reasons, perceptual hash.

analyze_file(path) returns a JSON-safe dict:
  version, format ("JPEG", "PNG", "TIFF", "MPO", "RAW"), width, height (full size, upright),
  metrics: laplacian_var, laplacian_peak, tenengrad, face_sharpness, highlights_clipped,
           shadows_clipped, mean_level, noise_sigma, jpeg_quality, working_size,
  faces: [{box: [x, y, w, h] as fractions of the frame, width_px, sharpness, eyes_open,
           possible_blink}],
  ai_score (1.0-5.0, one decimal), factors {name: 1.0-5.0}, reasons [str], flags [str],
  phash (16 hex digits), context_hints: face_count, largest_face_fraction, mean_level, iso,
           aperture, exposure_time, focal_length, orientation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import faces as face_mod
from . import metrics
from .decode import full_res_centre_crop, load_for_analysis
from .exif import read_exif
from .hashing import phash_hex

ANALYSIS_VERSION = 1
WORK_EDGE = 1024  # long edge for every pixel metric, so photos of any resolution compare
NOISE_CROP = 512  # full-resolution centre crop for noise (downscaling averages noise away)

# Sharpness (variance of Laplacian at WORK_EDGE): log-scale mapping between these levels.
SHARPNESS_BLURRED = 15.0  # at or below: factor 1
SHARPNESS_CRISP = 400.0  # at or above: factor 5
SHARPNESS_OUT_OF_FOCUS = 2.0  # factor below this -> "out of focus"
SHARPNESS_SOFT = 3.0  # factor below this -> "slightly soft"
FACE_MIN_SHARPNESS_PX = 40  # faces narrower than this (working px) don't decide sharpness

HIGHLIGHT_REASON = 0.02  # fraction clipped that earns a reason
HIGHLIGHT_WORST = 0.15  # fraction at which the exposure factor has lost 3 points
SHADOW_REASON = 0.20  # dark backgrounds are often intended (low key), so be lenient
SHADOW_WORST = 0.60
UNDEREXPOSED_MEAN = 0.15
OVEREXPOSED_MEAN = 0.82

NOISE_CLEAN = 2.0  # sigma (grey levels) at or below: factor 5
NOISE_HEAVY = 12.0  # at or above: factor 1
NOISE_REASON = 5.0
NOISE_VERY = 9.0

JPEG_QUALITY_GOOD = 85
JPEG_QUALITY_POOR = 50
JPEG_QUALITY_REASON = 70

BLINK_FACTOR = 3.0  # a possible blink is flagged for a human, not a rejection

WEIGHTS = {"sharpness": 0.45, "exposure": 0.25, "noise": 0.15, "eyes": 0.10, "compression": 0.05}
CAP_ABOVE_WORST = 1.5  # one bad factor caps the score: a blurred frame is never a keeper


def _lerp_factor(value: float, worst: float, best: float) -> float:
    """Linear map to 1..5, clamped; worst may be above best (e.g. noise)."""
    t = (value - worst) / (best - worst)
    return 1.0 + 4.0 * min(1.0, max(0.0, t))


def _sharpness_factor(value: float) -> float:
    return _lerp_factor(
        math.log(max(value, 1e-3)), math.log(SHARPNESS_BLURRED), math.log(SHARPNESS_CRISP)
    )


def _exposure_factor(exp: dict[str, float]) -> float:
    score = 5.0
    score -= 3.0 * min(1.0, max(0.0, exp["highlights_clipped"] - 0.005) / HIGHLIGHT_WORST)
    score -= 2.0 * min(1.0, max(0.0, exp["shadows_clipped"] - 0.05) / SHADOW_WORST)
    mean = exp["mean_level"]
    if mean < UNDEREXPOSED_MEAN:
        score -= 2.0 * (UNDEREXPOSED_MEAN - mean) / UNDEREXPOSED_MEAN
    elif mean > OVEREXPOSED_MEAN:
        score -= 2.0 * (mean - OVEREXPOSED_MEAN) / (1.0 - OVEREXPOSED_MEAN)
    return max(1.0, score)


def _faces(gray: np.ndarray, lap: np.ndarray) -> list[dict[str, Any]]:
    h, w = gray.shape
    out = []
    for box in face_mod.detect_faces(gray):
        eyes = face_mod.count_open_eyes(gray, box)
        x, y, bw, bh = box
        out.append(
            {
                "box": [round(x / w, 4), round(y / h, 4), round(bw / w, 4), round(bh / h, 4)],
                "width_px": bw,
                "sharpness": metrics.region_sharpness(lap, box),
                "eyes_open": eyes,
                "possible_blink": eyes == 0,
            }
        )
    return out


def _score(
    factors: dict[str, float], exp: dict[str, float], noise: float, quality: int | None,
    found: list[dict[str, Any]],
) -> tuple[float, list[str], list[str]]:  # fmt: skip
    reasons: list[str] = []
    flags: list[str] = []
    if factors["sharpness"] < SHARPNESS_OUT_OF_FOCUS:
        reasons.append("out of focus")
        flags.append("out_of_focus")
    elif factors["sharpness"] < SHARPNESS_SOFT:
        reasons.append("slightly soft")
        flags.append("soft")
    if exp["highlights_clipped"] >= HIGHLIGHT_REASON:
        reasons.append(f"{round(exp['highlights_clipped'] * 100)}% highlights clipped")
        flags.append("highlights_clipped")
    if exp["shadows_clipped"] >= SHADOW_REASON:
        reasons.append(f"{round(exp['shadows_clipped'] * 100)}% shadows clipped")
        flags.append("shadows_clipped")
    if exp["mean_level"] < UNDEREXPOSED_MEAN:
        reasons.append("underexposed")
        flags.append("underexposed")
    elif exp["mean_level"] > OVEREXPOSED_MEAN:
        reasons.append("overexposed")
        flags.append("overexposed")
    if noise >= NOISE_VERY:
        reasons.append("very noisy")
        flags.append("noisy")
    elif noise >= NOISE_REASON:
        reasons.append("noisy")
        flags.append("noisy")
    if any(f["possible_blink"] for f in found):
        reasons.append("possible blink")
        flags.append("possible_blink")
    if quality is not None and quality < JPEG_QUALITY_REASON:
        reasons.append(f"heavy JPEG compression (quality ≈{quality})")
        flags.append("low_jpeg_quality")
    total = sum(WEIGHTS[k] for k in factors)
    weighted = sum(WEIGHTS[k] * v for k, v in factors.items()) / total
    score = min(weighted, min(factors.values()) + CAP_ABOVE_WORST)
    return round(min(5.0, max(1.0, score)), 1), reasons, flags


def analyze_file(path: str, exif: dict[str, Any] | None = None) -> dict[str, Any]:
    """Analyse one photo; JSON-serialisable result. Raises ImageError subclasses on bad files."""
    decoded = load_for_analysis(path, WORK_EDGE)
    gray = np.asarray(decoded.image)  # mode "L": luminance is all the metrics need
    lap = metrics.laplacian(gray)
    sharp = metrics.sharpness(gray, lap)
    exp = metrics.exposure(gray)
    noise = metrics.noise_sigma(full_res_centre_crop(path, NOISE_CROP))
    quality = metrics.jpeg_quality(decoded.quantization)
    found = _faces(gray, lap)

    # Judge focus on the main face when there is one big enough, else on the sharpest region.
    judged = [f for f in found if f["width_px"] >= FACE_MIN_SHARPNESS_PX]
    face_sharpness = max((f["sharpness"] for f in judged), default=None)
    focus_value = face_sharpness if face_sharpness is not None else sharp["laplacian_peak"]
    factors = {
        "sharpness": _sharpness_factor(focus_value),
        "exposure": _exposure_factor(exp),
        "noise": _lerp_factor(noise, NOISE_HEAVY, NOISE_CLEAN),
    }
    eyes_judged = [f for f in found if f["eyes_open"] is not None]
    if eyes_judged:
        factors["eyes"] = BLINK_FACTOR if any(f["possible_blink"] for f in eyes_judged) else 5.0
    if quality is not None:
        factors["compression"] = _lerp_factor(quality, JPEG_QUALITY_POOR, JPEG_QUALITY_GOOD)
    factors = {k: round(v, 1) for k, v in factors.items()}
    ai_score, reasons, flags = _score(factors, exp, noise, quality, found)

    info = exif if exif is not None else read_exif(path)
    w, h = decoded.width, decoded.height
    largest = max((f["box"][2] * f["box"][3] for f in found), default=0.0)
    return {
        "version": ANALYSIS_VERSION,
        "format": decoded.format,
        "width": w,
        "height": h,
        "metrics": {
            **sharp,
            "face_sharpness": face_sharpness,
            **exp,
            "noise_sigma": noise,
            "jpeg_quality": quality,
            "working_size": [gray.shape[1], gray.shape[0]],
        },
        "faces": found,
        "ai_score": ai_score,
        "factors": factors,
        "reasons": reasons,
        "flags": flags,
        "phash": phash_hex(decoded.image),
        "context_hints": {
            "face_count": len(found),
            "largest_face_fraction": round(largest, 4),
            "mean_level": exp["mean_level"],
            "iso": info.get("iso"),
            "aperture": info.get("aperture"),
            "exposure_time": info.get("exposure_time"),
            "focal_length": info.get("focal_length"),
            "orientation": "landscape"
            if w > h * 1.05
            else "portrait"
            if h > w * 1.05
            else "square",
        },
    }
