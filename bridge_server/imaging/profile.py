"""A culling profile learned from the photographer's decisions, stored as plain JSON.

Training (scikit-learn logistic regression over analysis features) runs in a pool worker; the
profile it returns is numbers only (feature names, scaling, weights), so exporting and
importing it never runs code (no pickle). Applying it is arithmetic and says which features
moved the score.
"""

from __future__ import annotations

import math
from typing import Any

PROFILE_FORMAT = 1
MIN_DECISIONS = 30  # below this many decisions (with both outcomes) the profile stays off
MIN_HELD_OUT_ACCURACY = 0.65  # balanced accuracy on held-out decisions the model must reach
BLEND_HALF = 50  # decisions at which the learned opinion weighs as much as the analysis
MAX_EXPLAINED = 3
VALUE_BOUND = 1e6  # no trained mean, weight or intercept comes near (features are O(1)-O(10))
MIN_SCALE = 1e-9
MAX_DECISIONS = 10_000_000
ALL_GENRES = "all"  # the profile over every genre, used where a genre has none of its own

# (name, how to read it from an analysis result); missing values read as the neutral default.
FEATURES: tuple[str, ...] = (
    "ai_score",
    "sharpness",
    "exposure",
    "noise",
    "eyes",
    "focus_blur",
    "largest_face_fraction",
    "face_count",
    "faces_closed_eyes",
    "subject_highlights_clipped",
    "mean_level",
    "background_detail",
    "group_rank_share",
    "background_vs_scene",
)
_LABELS = {
    "ai_score": "analysis score",
    "sharpness": "focus",
    "exposure": "exposure",
    "noise": "noise",
    "eyes": "eyes",
    "focus_blur": "focus blur",
    "largest_face_fraction": "face size",
    "face_count": "number of faces",
    "faces_closed_eyes": "closed eyes",
    "subject_highlights_clipped": "clipped subject",
    "mean_level": "brightness",
    "background_detail": "busy background",
    "group_rank_share": "place in its scene",
    "background_vs_scene": "busier background than its siblings",
}


class ProfileError(ValueError):
    """A profile document that is not a valid culling profile."""


def features(
    analysis: dict[str, Any],
    rank: int | None = None,
    size: int | None = None,
    scene_background: float | None = None,
) -> list[float]:
    """One analysed photo's feature vector.

    rank / size: its place in its scene; scene_background: the calmest background_detail among
    the scene's frames (so "keeps the frame with the calmer background" can be learned).
    """
    factors = analysis.get("factors") or {}
    metrics = analysis.get("metrics") or {}
    hints = analysis.get("context_hints") or {}
    blur = metrics.get("focus_blur")
    values = {
        "ai_score": analysis.get("ai_score") or 1.0,
        "sharpness": factors.get("sharpness", 3.0),
        "exposure": factors.get("exposure", 3.0),
        "noise": factors.get("noise", 3.0),
        "eyes": factors.get("eyes", 5.0),
        "focus_blur": blur if blur is not None else 3.0,
        "largest_face_fraction": hints.get("largest_face_fraction") or 0.0,
        "face_count": min(10, hints.get("face_count") or 0),
        "faces_closed_eyes": hints.get("faces_closed_eyes") or 0,
        "subject_highlights_clipped": metrics.get("subject_highlights_clipped") or 0.0,
        "mean_level": metrics.get("mean_level") or 0.0,
        "background_detail": metrics.get("background_detail") or 0.0,
        "group_rank_share": (rank - 1) / (size - 1) if rank and size and size > 1 else 0.0,
        "background_vs_scene": 0.0,
    }
    detail = values["background_detail"]
    if scene_background is not None and scene_background > 0:
        values["background_vs_scene"] = detail / scene_background - 1.0
    return [float(values[name]) for name in FEATURES]


def scene_features(analyses: list[dict[str, Any]]) -> list[list[float]]:
    """Feature vectors of one scene's frames (in the given order), each knowing its siblings.

    The place in the scene is by the analysis score (never the learned one, which would feed
    back into itself); a photo alone is a scene of one. Selection, training and the bench all
    build features here.
    """
    order = sorted(range(len(analyses)), key=lambda i: -float(analyses[i].get("ai_score") or 1.0))
    rank = {i: r for r, i in enumerate(order, 1)}
    details = [(a.get("metrics") or {}).get("background_detail") for a in analyses]
    known = [float(d) for d in details if d is not None]
    calmest = min(known) if known else None
    size = len(analyses)
    return [
        features(a, rank[i] if size > 1 else None, size if size > 1 else None, calmest)
        for i, a in enumerate(analyses)
    ]


def decision_label(flag: str, stars: int = 0, color_label: str | None = None) -> int | None:
    """A decision as a training example: 1 kept, 0 rejected, None for no opinion.

    A pick keeps and a reject rejects whatever the stars; without a flag, 3 stars or more (or a
    colour label) keep, 1 or 2 stars reject, and an unrated, unflagged photo says nothing.
    """
    if flag == "pick":
        return 1
    if flag == "reject":
        return 0
    if stars >= 3 or color_label:
        return 1
    if stars >= 1:
        return 0
    return None


def train_genres(examples: list[tuple[str, list[float], int]]) -> dict[str, dict[str, Any]]:
    """Profiles by genre (only those with a learnable preference) plus "all" over every genre."""
    by_genre: dict[str, list[tuple[list[float], int]]] = {ALL_GENRES: []}
    for genre, x, y in examples:
        by_genre.setdefault(genre, []).append((x, y))
        by_genre[ALL_GENRES].append((x, y))
    out: dict[str, dict[str, Any]] = {}
    for genre, rows in by_genre.items():
        trained = train(rows, genre)
        if trained is not None:
            out[genre] = trained
    return out


def for_genre(profiles: dict[str, dict[str, Any]], genre: str | None) -> dict[str, Any] | None:
    """The profile that judges a photo of `genre`: its genre's own, else the one over all."""
    return profiles.get(genre or "") or profiles.get(ALL_GENRES)


def train(examples: list[tuple[list[float], int]], genre: str = "all") -> dict[str, Any] | None:
    """Fit a profile on (features, kept 1 / rejected 0); None until there is something to learn.

    None below MIN_DECISIONS, with one outcome only, or when the decisions show no preference
    the features can predict (cross-validated balanced accuracy under MIN_HELD_OUT_ACCURACY).
    """
    labels = [y for _, y in examples]
    if len(examples) < MIN_DECISIONS or len(set(labels)) < 2:
        return None
    import numpy as np  # imported lazily: only the training worker needs scikit-learn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.array([f for f, _ in examples], dtype=np.float64)
    y = np.array(labels, dtype=np.int64)

    def model() -> Any:
        return make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=500)
        )

    # Only a preference that predicts decisions it was not fitted on may move scores: decisions
    # without a consistent pattern (or too few of one outcome) leave the analysis alone.
    folds = min(5, int(min(np.bincount(y))))
    if folds < 2:
        return None
    held_out = cross_val_score(
        model(), x, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
    )  # fmt: skip
    if float(held_out.mean()) < MIN_HELD_OUT_ACCURACY:
        return None
    fitted = model().fit(x, y)
    scaler, regression = fitted[0], fitted[1]
    return {
        "format": PROFILE_FORMAT,
        "genre": genre,
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in scaler.mean_],
        "scale": [round(float(v), 6) if v > 0 else 1.0 for v in scaler.scale_],
        "weights": [round(float(v), 6) for v in regression.coef_[0]],
        "intercept": round(float(regression.intercept_[0]), 6),
        "decisions": len(examples),
        "held_out_accuracy": round(float(held_out.mean()), 3),
    }


def _number(v: Any, low: float = -VALUE_BOUND, high: float = VALUE_BOUND) -> bool:
    """A JSON number (not a boolean) within [low, high]."""
    return isinstance(v, int | float) and not isinstance(v, bool) and low <= v <= high


def validate(doc: Any) -> dict[str, Any]:
    """The profile if `doc` (parsed JSON) is a well-formed one; ProfileError says what is wrong.

    Numbers are bounded (|v| <= VALUE_BOUND, scales from MIN_SCALE) so applying a profile can
    never overflow; a trained profile is far inside the bounds.
    """
    if not isinstance(doc, dict) or doc.get("format") != PROFILE_FORMAT:
        raise ProfileError(f"not a culling profile of format {PROFILE_FORMAT}")
    if doc.get("features") != list(FEATURES):
        raise ProfileError("profile was made for other analysis features; retrain it")
    n = len(FEATURES)
    for key in ("mean", "scale", "weights"):
        values = doc.get(key)
        low = MIN_SCALE if key == "scale" else -VALUE_BOUND
        if not isinstance(values, list) or len(values) != n:
            raise ProfileError(f"profile field '{key}' must be {n} numbers")
        if not all(_number(v, low) for v in values):
            raise ProfileError(
                f"profile field '{key}' must be numbers from {low:g} to {VALUE_BOUND:g}"
            )
    if not _number(doc.get("intercept")):
        raise ProfileError(f"profile field 'intercept' must be a number within ±{VALUE_BOUND:g}")
    decisions: Any = doc.get("decisions")
    if not _number(decisions, MIN_DECISIONS, MAX_DECISIONS) or decisions != int(decisions):
        raise ProfileError(f"profile field 'decisions' must be an integer >= {MIN_DECISIONS}")
    if "held_out_accuracy" in doc and not _number(doc["held_out_accuracy"], 0.0, 1.0):
        raise ProfileError("profile field 'held_out_accuracy' must be a number from 0 to 1")
    if not isinstance(doc.get("genre", ALL_GENRES), str):
        raise ProfileError("profile field 'genre' must be text")
    return {**doc, "decisions": int(decisions)}


def keep_probability(profile: dict[str, Any], x: list[float]) -> tuple[float, list[float]]:
    """P(the photographer keeps it) and each feature's contribution to the log-odds."""
    contributions = [
        w * (v - m) / s
        for w, v, m, s in zip(profile["weights"], x, profile["mean"], profile["scale"], strict=True)
    ]
    z = profile["intercept"] + sum(contributions)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), contributions


def apply(profile: dict[str, Any] | None, ai_score: float, x: list[float]) -> dict[str, Any]:
    """The score adjusted by the profile, with words for why: {score, learned, reasons}."""
    if profile is None:
        return {"score": ai_score, "learned": None, "reasons": []}
    p, contributions = keep_probability(profile, x)
    n = int(profile["decisions"])
    weight = n / (n + BLEND_HALF)
    score = round(min(5.0, max(1.0, (1 - weight) * ai_score + weight * (1.0 + 4.0 * p))), 1)
    ranked = sorted(
        (c, name) for c, name in zip(contributions, FEATURES, strict=True) if abs(c) >= 0.25
    )
    ranked.sort(key=lambda item: -abs(item[0]))
    reasons = [
        f"{_LABELS[name]} {'raised' if c > 0 else 'lowered'} it"
        for c, name in ranked[:MAX_EXPLAINED]
    ]
    return {
        "score": score,
        "base": ai_score,
        "genre": profile.get("genre", ALL_GENRES),
        "learned": f"learned from {n} of your decisions",
        "reasons": reasons,
        "contributions": {
            name: round(c, 2) for c, name in zip(contributions, FEATURES, strict=True) if c
        },
    }


DOCUMENT_KIND = "autodev-bridge culling profile"
MAX_GENRES = 32
MAX_GENRE_NAME = 32


def document(photographer: str, profiles: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A photographer's profiles as one exportable JSON document (numbers and names only)."""
    return {
        "kind": DOCUMENT_KIND,
        "format": PROFILE_FORMAT,
        "photographer": photographer,
        "profiles": profiles,
    }


def validate_document(doc: Any) -> dict[str, dict[str, Any]]:
    """The profiles by genre of an exported document; ProfileError says what is wrong."""
    if not isinstance(doc, dict) or doc.get("kind") != DOCUMENT_KIND:
        raise ProfileError(f"not a culling profile export (expected kind '{DOCUMENT_KIND}')")
    if doc.get("format") != PROFILE_FORMAT:
        raise ProfileError(f"culling profile export of format {PROFILE_FORMAT} expected")
    if not isinstance(doc.get("photographer", ""), str):
        raise ProfileError("'photographer' must be text")
    profiles = doc.get("profiles")
    if not isinstance(profiles, dict) or len(profiles) > MAX_GENRES:
        raise ProfileError(f"'profiles' must map at most {MAX_GENRES} genres to profiles")
    out: dict[str, dict[str, Any]] = {}
    for genre, profile in profiles.items():
        if not genre or len(genre) > MAX_GENRE_NAME:
            raise ProfileError(f"genre names are 1 to {MAX_GENRE_NAME} characters")
        checked = validate(profile)
        # The key it is filed under is its genre (whatever the document says inside).
        out[genre] = {key: checked[key] for key in _PROFILE_KEYS if key in checked}
        out[genre]["genre"] = genre
    return out


_PROFILE_KEYS = (
    "format", "genre", "features", "mean", "scale", "weights", "intercept", "decisions",
    "held_out_accuracy",
)  # fmt: skip


def score_scene(
    analyses: list[dict[str, Any]], genres: list[str | None], profiles: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each frame of one scene scored by the profile of its genre (see `apply`)."""
    return [
        apply(for_genre(profiles, genre), float(a.get("ai_score") or 1.0), x)
        for a, genre, x in zip(analyses, genres, scene_features(analyses), strict=True)
    ]
