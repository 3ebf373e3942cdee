"""The whole per-photo analysis: focus, eyes, exposure, noise, a 1-5 score with reasons, phash.

analyze_file(path) returns a JSON-safe dict:
  version, format ("JPEG", "PNG", "TIFF", "MPO", "RAW"), width, height (full size, upright),
  metrics: laplacian_var, laplacian_peak, tenengrad, face_sharpness, focus_blur (edge-blur
           radius in px of what focus was judged on), focus_on ("eyes", "face", "region" or
           None), face_blur, region_blur, highlights_clipped, shadows_clipped, mean_level
           (whole frame), subject_highlights_clipped, subject_shadows_clipped,
           subject_mean_level, background_detail (how busy the frame is around the subject),
           noise_sigma, jpeg_quality, working_size,
  faces: [{box: [x, y, w, h] as fractions of the frame, width_px, full_width_px, sharpness,
           blur, eye_state ("open", "closed", "unknown"), ear, eyes_why, eyes_open,
           possible_blink}],
  ai_score (1.0-5.0, one decimal), factors {name: 1.0-5.0}, reasons [str], flags [str],
  moved_by [{factor, value, effect}] (what pulled the score below 5, largest effect first),
  phash (16 hex digits), context_hints: face_count, faces_closed_eyes, largest_face_fraction,
           mean_level, iso, aperture, exposure_time, focal_length, orientation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import eyes as eye_mod
from . import faces as face_mod
from . import focus, metrics
from .decode import Decoded, full_res_noise_band, load_for_analysis
from .exif import read_exif
from .face_regions import FaceCrop, face_crops
from .hashing import phash_hex

ANALYSIS_VERSION = 2
WORK_EDGE = 1024  # long edge for frame-wide metrics, so photos of any resolution compare
NOISE_BAND = 512  # full-resolution top band for noise (downscaling averages noise away)
NOISE_BAND_MIN_UNCLIPPED = 0.5  # a top band mostly clipped (sky): read noise at the centre
WORKING_NOISE_CROP = 384  # centre crop of the working image for the focus edge threshold

# Focus: edge-blur radius in px (faces at face_regions.FACE_PX wide, frames at WORK_EDGE).
BLUR_CRISP = 1.9  # at or below: factor 5
BLUR_BLURRED = 3.1  # at or above: factor 1
SHARPNESS_OUT_OF_FOCUS = 2.0  # factor below this -> "out of focus"
SHARPNESS_SOFT = 3.0  # factor below this -> "slightly soft"
BACKGROUND_CRISP = 4.0  # a region factor this good behind a soft face means focus was missed
FOCUS_MIN_FACE_PX = 60  # faces narrower than this at full resolution don't decide focus
FOCUS_FACE_SHARE = 0.5  # faces at least this fraction of the largest one's width can decide
NO_DETAIL_FACTOR = 2.5  # nothing with edges to judge focus on (fog, a blank wall)

HIGHLIGHT_REASON = 0.02  # fraction clipped that earns a reason
HIGHLIGHT_WORST = 0.25  # clipped fraction (of the subject) at which exposure is at its worst
SHADOW_REASON = 0.20
SHADOW_WORST = 0.60
BACKGROUND_WEIGHT = 0.3  # clipped sky or a window counts this much against clipping on the subject
SHADOW_BACKGROUND_WEIGHT = 0.1  # deep shadows around a lit subject are usually low key
SUBJECT_DARK = 0.10  # subject mean level below this: underexposed (a dark frame alone is not)
SUBJECT_BRIGHT = 0.90  # subject mean above this: overexposed (a bright frame alone is not)

NOISE_CLEAN = 2.0  # sigma (grey levels) at or below: factor 5
NOISE_HEAVY = 12.0  # at or above: factor 1
NOISE_REASON = 5.0
NOISE_VERY = 9.0

JPEG_QUALITY_GOOD = 85
JPEG_QUALITY_POOR = 50
JPEG_QUALITY_REASON = 70

EYES_MAIN_CLOSED = 1.0  # the subject blinking (one or two faces): not a keeper, an alternate
EYES_GROUP_ANY_CLOSED = 4.0  # a group with anyone blinking starts here...
EYES_PER_CLOSED = 4.0  # ...and loses this much as the share of blinking faces goes to 1
EYES_GROUP_FLOOR = 1.5
GROUP_FACES = 3  # from this many faces on, no single face is "the subject"

WEIGHTS = {"sharpness": 0.45, "exposure": 0.25, "noise": 0.15, "eyes": 0.10, "compression": 0.05}
CAP_ABOVE_WORST = 1.5  # one bad factor caps the score: a blurred frame is never a keeper


def _lerp_factor(value: float, worst: float, best: float) -> float:
    """Linear map to 1..5, clamped; worst may be above best (e.g. noise)."""
    t = (value - worst) / (best - worst)
    return 1.0 + 4.0 * min(1.0, max(0.0, t))


def _blur_factor(blur: float) -> float:
    return _lerp_factor(blur, BLUR_BLURRED, BLUR_CRISP)


def _pct(value: float) -> int:
    return round(value * 100)


def _faces(
    path: str, gray: np.ndarray, lap: np.ndarray, full_size: tuple[int, int]
) -> list[dict[str, Any]]:
    """Faces (largest first) with eye state and focus judged on a crop that shows them."""
    h, w = gray.shape
    boxes = face_mod.detect_faces(gray)
    fracs = [(x / w, y / h, bw / w, bh / h) for x, y, bw, bh in boxes]
    crops = face_crops(path, gray, fracs, full_size) if boxes else []
    out = []
    for box, frac, crop in zip(boxes, fracs, crops, strict=True):
        eyes = _eyes(crop)
        out.append(
            {
                "box": [round(v, 4) for v in frac],
                "width_px": box[2],
                "full_width_px": round(crop.full_width_px) if crop else box[2],
                "sharpness": metrics.region_sharpness(lap, box),
                "blur": _face_blur(crop, eyes),
                "focus_on": "eyes" if eyes.get("eye_boxes") else "face",
                "eye_state": eyes["state"],
                "ear": eyes["ear"],
                "eyes_why": eyes["why"],
                # Kept for readers of version 1: 2 when open, 0 when closed, None otherwise.
                "eyes_open": {"open": 2, "closed": 0}.get(eyes["state"]),
                "possible_blink": eyes["state"] == eye_mod.CLOSED,
            }
        )
    return out


def _eyes(crop: FaceCrop | None) -> dict[str, Any]:
    if crop is None:
        return {"state": eye_mod.UNKNOWN, "ear": None, "why": "face at the frame's edge"}
    return eye_mod.eye_state(crop.pixels, crop.box[2], crop.full_width_px)


def _face_blur(crop: FaceCrop | None, eyes: dict[str, Any]) -> float | None:
    """Edge blur on the eyes when landmarks found them, else on the face's inner part."""
    if crop is None or crop.full_width_px < FOCUS_MIN_FACE_PX:
        return None
    if eyes.get("eye_boxes"):
        x, y, bw, bh = eyes["eye_boxes"]
    else:
        fx, fy, fw, fh = crop.box
        x, y, bw, bh = fx + fw // 6, fy + fh // 6, fw * 2 // 3, fh * 2 // 3
    region = crop.pixels[y : y + bh, x : x + bw]
    if region.shape[0] < 8 or region.shape[1] < 8:
        return None
    return focus.blur_radius(region, metrics.noise_sigma(region))


def _focus(
    found: list[dict[str, Any]], region_blur: float | None
) -> tuple[float, str | None, float | None, list[str], list[str]]:
    """(sharpness factor, what was judged, blur, reasons, flags): face first, else the subject."""
    widest = max((f["full_width_px"] for f in found), default=0)
    face_blurs = [
        f["blur"]
        for f in found
        if f["blur"] is not None and f["full_width_px"] >= FOCUS_FACE_SHARE * widest
    ]
    reasons: list[str] = []
    flags: list[str] = []
    if face_blurs:
        blur = min(face_blurs)
        on = next(f["focus_on"] for f in found if f["blur"] == blur)
        factor = _blur_factor(blur)
        background = _blur_factor(region_blur) if region_blur is not None else None
        if factor < SHARPNESS_SOFT and background is not None and background >= BACKGROUND_CRISP:
            reasons.append("missed focus: the background is sharper than the face")
            flags.append("missed_focus")
            return factor, on, blur, reasons, flags
    elif region_blur is not None:
        blur, on, factor = region_blur, "region", _blur_factor(region_blur)
    else:
        reasons.append("no detail to judge focus on")
        return NO_DETAIL_FACTOR, None, None, reasons, flags
    where = {"eyes": " on the eyes", "face": " on the face"}.get(on, "")
    if factor < SHARPNESS_OUT_OF_FOCUS:
        reasons.append(f"out of focus{where}")
        flags.append("out_of_focus")
    elif factor < SHARPNESS_SOFT:
        reasons.append(f"slightly soft{where}")
        flags.append("soft")
    return factor, on, blur, reasons, flags


def _noise(path: str) -> float:
    """Noise at full resolution: from the cheap top band, or the centre when the band is sky.

    A blown sky carries no noise; judged on it, a noisy photo would read as clean.
    """
    band = full_res_noise_band(path, NOISE_BAND)
    if metrics.unclipped_share(band) < NOISE_BAND_MIN_UNCLIPPED:
        band = full_res_noise_band(path, NOISE_BAND, at_top=False)
    return metrics.noise_sigma(band)


def _working_noise(gray: np.ndarray) -> float:
    """Noise at working size, on a centre crop: the whole frame costs 4x for the same answer."""
    h, w = gray.shape
    top, left = max(0, h // 2 - WORKING_NOISE_CROP // 2), max(0, w // 2 - WORKING_NOISE_CROP // 2)
    return metrics.noise_sigma(
        gray[top : top + WORKING_NOISE_CROP, left : left + WORKING_NOISE_CROP]
    )


def _background_detail(
    gray: np.ndarray, lap: np.ndarray, subject: tuple[slice, slice] | None
) -> float:
    """How busy the frame is around the subject: mean abs(Laplacian) there, over contrast."""
    magnitude = np.abs(lap)
    total, count = float(magnitude.sum()), magnitude.size
    if subject is not None:
        inside = magnitude[subject]
        total, count = total - float(inside.sum()), count - inside.size
    contrast = float(gray.std()) + 1.0
    return round(total / max(1, count) / contrast, 4)


def _subject_box(
    gray: np.ndarray, found: list[dict[str, Any]], region: list[int] | None
) -> tuple[slice, slice] | None:
    """The subject's pixels: the faces' bounding box, else the sharpest region and around it."""
    h, w = gray.shape
    if found:
        xs = [f["box"][0] for f in found] + [f["box"][0] + f["box"][2] for f in found]
        ys = [f["box"][1] for f in found] + [f["box"][1] + f["box"][3] for f in found]
        return slice(int(min(ys) * h), math.ceil(max(ys) * h)), slice(
            int(min(xs) * w), math.ceil(max(xs) * w)
        )
    if region is None:
        return None
    x, y, rw, rh = region
    return slice(max(0, y - rh), min(h, y + 2 * rh)), slice(max(0, x - rw), min(w, x + 2 * rw))


def _exposure(
    frame: dict[str, float], subject: dict[str, float] | None
) -> tuple[float, list[str], list[str]]:
    """Exposure factor with intent: clipping on the subject counts; low and high key do not."""
    subj = subject or frame
    background_hi = max(0.0, frame["highlights_clipped"] - subj["highlights_clipped"])
    hi = max(subj["highlights_clipped"], BACKGROUND_WEIGHT * frame["highlights_clipped"])
    lo = max(subj["shadows_clipped"], SHADOW_BACKGROUND_WEIGHT * frame["shadows_clipped"])
    score = 5.0
    score -= 4.0 * min(1.0, max(0.0, hi - 0.005) / HIGHLIGHT_WORST)
    score -= 2.0 * min(1.0, max(0.0, lo - 0.05) / SHADOW_WORST)
    mean = subj["mean_level"]
    if mean < SUBJECT_DARK:
        score -= 2.0 * (SUBJECT_DARK - mean) / SUBJECT_DARK
    elif mean > SUBJECT_BRIGHT:
        score -= 2.0 * (mean - SUBJECT_BRIGHT) / (1.0 - SUBJECT_BRIGHT)
    reasons: list[str] = []
    flags: list[str] = []
    if subject is not None and subj["highlights_clipped"] >= HIGHLIGHT_REASON:
        reasons.append(f"{_pct(subj['highlights_clipped'])}% highlights clipped on the subject")
        flags.append("highlights_clipped")
    elif subject is None and frame["highlights_clipped"] >= HIGHLIGHT_REASON:
        reasons.append(f"{_pct(frame['highlights_clipped'])}% highlights clipped")
        flags.append("highlights_clipped")
    elif background_hi >= HIGHLIGHT_REASON:
        reasons.append(f"{_pct(frame['highlights_clipped'])}% highlights clipped in the background")
        flags.append("background_clipped")
    if subj["shadows_clipped"] >= SHADOW_REASON:
        reasons.append(f"{_pct(subj['shadows_clipped'])}% shadows clipped")
        flags.append("shadows_clipped")
    if mean < SUBJECT_DARK:
        reasons.append("underexposed")
        flags.append("underexposed")
    elif mean > SUBJECT_BRIGHT:
        reasons.append("overexposed")
        flags.append("overexposed")
    return max(1.0, score), reasons, flags


def _eyes_factor(found: list[dict[str, Any]]) -> tuple[float | None, list[str], list[str]]:
    """Eyes factor and reasons: the main face blinking sinks the frame, a group loses by share."""
    judged = [f for f in found if f["eye_state"] in (eye_mod.OPEN, eye_mod.CLOSED)]
    closed = [f for f in judged if f["eye_state"] == eye_mod.CLOSED]
    reasons: list[str] = []
    flags: list[str] = []
    if found and found[0]["eye_state"] == eye_mod.UNKNOWN:
        reasons.append(f"eyes: can't tell ({found[0]['eyes_why']})")
    if not judged:
        return None, reasons, flags
    if closed:
        flags.append("eyes_closed")
        if len(found) == 1:
            reasons.append("eyes closed")
        else:
            reasons.append(f"{len(closed)} of {len(found)} faces blinking")
    if not closed:
        return 5.0, reasons, flags
    if len(found) < GROUP_FACES:
        return EYES_MAIN_CLOSED, reasons, flags
    share = len(closed) / len(judged)
    return max(EYES_GROUP_FLOOR, EYES_GROUP_ANY_CLOSED - EYES_PER_CLOSED * share), reasons, flags


def _score(factors: dict[str, float]) -> tuple[float, list[dict[str, Any]]]:
    """Weighted mean capped by the worst factor; what moved it, largest effect first."""
    total = sum(WEIGHTS[k] for k in factors)
    weighted = sum(WEIGHTS[k] * v for k, v in factors.items()) / total
    worst = min(factors, key=lambda k: factors[k])
    cap = factors[worst] + CAP_ABOVE_WORST
    score = round(min(5.0, max(1.0, min(weighted, cap))), 1)
    moved = [
        {"factor": k, "value": v, "effect": round(-WEIGHTS[k] * (5.0 - v) / total, 2)}
        for k, v in factors.items()
        if v < 5.0
    ]
    if cap < weighted:
        moved.append({"factor": worst, "value": factors[worst], "effect": "caps the score"})
    moved.sort(key=lambda m: (m["effect"] != "caps the score", m["effect"]))
    return score, moved


def analyze_file(path: str, exif: dict[str, Any] | None = None) -> dict[str, Any]:
    """Analyse one photo; JSON-serialisable result. Raises ImageError subclasses on bad files."""
    return analyze_decoded(path, load_for_analysis(path, WORK_EDGE), exif)


def analyze_decoded(
    path: str, decoded: Decoded, exif: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Analyse one photo from its `load_for_analysis(path, WORK_EDGE)` decode."""
    gray = np.asarray(decoded.image)  # mode "L": luminance is all the metrics need
    lap = metrics.laplacian(gray)
    sharp = metrics.sharpness(gray, lap)
    frame_exp = metrics.exposure(gray)
    noise = _noise(path)
    quality = metrics.jpeg_quality(decoded.quantization)
    found = _faces(path, gray, lap, (decoded.width, decoded.height))
    region_blur, region = focus.sharpest_region(gray, _working_noise(gray))

    sharpness_factor, focus_on, focus_blur, reasons, flags = _focus(found, region_blur)
    subject_box = _subject_box(gray, found, region)
    subject_exp = metrics.exposure(gray[subject_box]) if subject_box is not None else None
    background_detail = _background_detail(gray, lap, subject_box)
    exposure_factor, exp_reasons, exp_flags = _exposure(frame_exp, subject_exp)
    reasons += exp_reasons
    flags += exp_flags
    factors = {
        "sharpness": sharpness_factor,
        "exposure": exposure_factor,
        "noise": _lerp_factor(noise, NOISE_HEAVY, NOISE_CLEAN),
    }
    if noise >= NOISE_VERY:
        reasons.append("very noisy")
        flags.append("noisy")
    elif noise >= NOISE_REASON:
        reasons.append("noisy")
        flags.append("noisy")
    eyes_factor, eye_reasons, eye_flags = _eyes_factor(found)
    reasons += eye_reasons
    flags += eye_flags
    if eyes_factor is not None:
        factors["eyes"] = eyes_factor
    if quality is not None:
        factors["compression"] = _lerp_factor(quality, JPEG_QUALITY_POOR, JPEG_QUALITY_GOOD)
        if quality < JPEG_QUALITY_REASON:
            reasons.append(f"heavy JPEG compression (quality ≈{quality})")
            flags.append("low_jpeg_quality")
    factors = {k: round(v, 1) for k, v in factors.items()}
    ai_score, moved_by = _score(factors)

    info = exif if exif is not None else read_exif(path)
    w, h = decoded.width, decoded.height
    largest = max((f["box"][2] * f["box"][3] for f in found), default=0.0)
    judged = [f["sharpness"] for f in found if f["blur"] is not None]
    return {
        "version": ANALYSIS_VERSION,
        "format": decoded.format,
        "width": w,
        "height": h,
        "metrics": {
            **sharp,
            "face_sharpness": max(judged, default=None),
            "focus_blur": focus_blur,
            "focus_on": focus_on,
            "face_blur": min((f["blur"] for f in found if f["blur"] is not None), default=None),
            "region_blur": region_blur,
            **frame_exp,
            **{f"subject_{k}": v for k, v in (subject_exp or frame_exp).items()},
            "background_detail": background_detail,
            "noise_sigma": noise,
            "jpeg_quality": quality,
            "working_size": [gray.shape[1], gray.shape[0]],
        },
        "faces": found,
        "ai_score": ai_score,
        "factors": factors,
        "reasons": reasons,
        "flags": flags,
        "moved_by": moved_by,
        "phash": phash_hex(decoded.image),
        "context_hints": {
            "face_count": len(found),
            "faces_closed_eyes": sum(1 for f in found if f["eye_state"] == eye_mod.CLOSED),
            "largest_face_fraction": round(largest, 4),
            "mean_level": frame_exp["mean_level"],
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
