"""Retraining the learned culling profile: decisions in, a profile out, scores recomputed.

Decision events (pick, reject, stars, labels) start a debounced `train_profile` job. The job
reads every decision made since the last reset or import, builds the features of each photo in
its scene from the stored analysis (no pixels), trains in the pool, saves the result unless the
profile changed meanwhile, and has selection recompute the scores of every session.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Final

from sqlalchemy import select

from ..broker import PublishedEvent
from ..context import BridgeContext
from ..imaging import profile as prof
from ..services.profiles import decided, load, request_training, store_trained
from ..store.enums import PhotoStatus
from ..store.models import Photo
from . import worker
from .coalesce import KeyedCoalescer
from .profile_features import FEATURE_COLUMNS, feature_input
from .scheduler import JobRun

log = logging.getLogger(__name__)

# Every event by which the photographer states an opinion of a photo.
DECISION_EVENTS: Final = frozenset(
    {"photo_approved", "photo_rejected", "photo_unflagged", "photo_rating_changed"}
)
FLAGS: Final = {"approved": "pick", "rejected": "reject"}
SAVE_ATTEMPTS: Final = 3  # a training that keeps losing to resets or imports gives up


class ProfileTrainer:
    """Debounces retraining after decisions; recomputes scores when the profile changes."""

    def __init__(self, ctx: BridgeContext, selection: KeyedCoalescer) -> None:
        self.ctx = ctx
        self._selection = selection
        self._training = asyncio.Lock()
        self._debounce = KeyedCoalescer(
            "Profile retraining", ctx.settings.profile_retrain_seconds, self._request
        )

    def start(self) -> None:
        """Follow decisions from now on."""
        self.ctx.broker.add_listener(self._on_event)
        self.ctx.rescorer = self

    async def stop(self) -> None:
        """Stop following decisions; a retraining already due is still queued."""
        self.ctx.broker.remove_listener(self._on_event)
        await self._debounce.stop()

    @property
    def busy(self) -> bool:
        """Whether a retraining request is waiting for its quiet period."""
        return self._debounce.busy

    def _on_event(self, event: PublishedEvent) -> None:
        if event.type in DECISION_EVENTS:
            self._debounce.schedule(self.ctx.settings.photographer)

    async def _request(self, _photographer: str) -> None:
        await request_training(self.ctx)

    async def rescore(self) -> int:
        """Have selection recompute the scores of every session with analysed photos."""
        async with self.ctx.db.session() as s:
            sessions = (
                (
                    await s.execute(
                        select(Photo.session_id)
                        .where(Photo.status == PhotoStatus.ANALYZED)
                        .distinct()
                    )
                )
                .scalars()
                .all()
            )
        for session_id in sessions:
            self._selection.schedule(session_id)
        return len(sessions)

    async def train(self, run: JobRun) -> dict[str, Any]:
        """The `train_profile` job handler: one training at a time, on the latest decisions."""
        async with self._training:  # a second job waits, then reads what the first saved
            for _attempt in range(SAVE_ATTEMPTS):
                outcome = await self._train_once(run)
                if outcome is not None:
                    return outcome
            return {"trained": False, "superseded": True}

    async def _train_once(self, run: JobRun) -> dict[str, Any] | None:
        """Read, train, save; None if the profile changed meanwhile (read again)."""
        assert self.ctx.pool is not None
        photographer = self.ctx.settings.photographer
        await run.progress("collecting", 5.0, "Reading your decisions", force=True)
        revision, examples = await self._examples(photographer)
        if len(examples) < prof.MIN_DECISIONS:
            return {"decisions": len(examples), "trained": False}
        await run.progress("training", 30.0, f"Learning from {len(examples)} decisions", force=True)
        profiles = await self.ctx.pool.run(worker.train_profile_genres, examples)
        run.check_cancelled()
        note = (
            ""
            if profiles
            else f"Your {len(examples)} decisions show no consistent preference yet; "
            "scores are the analysis alone"
        )
        await run.progress("saving", 80.0, "Saving the profile", force=True)
        async with self.ctx.db.session() as s, s.begin():
            saved = await store_trained(s, photographer, revision, profiles, len(examples), note)
        if not saved:
            # A reset or an import landed while this trained: it wins; read again after it.
            return None
        sessions = await self.rescore()
        return {
            "decisions": len(examples),
            "trained": True,
            "genres": sorted(profiles),
            "sessions_rescored": sessions,
        }

    async def _examples(self, photographer: str) -> tuple[int, list[tuple[str, list[float], int]]]:
        """The profile's revision and (genre, features, kept) for every decision since `since`."""
        async with self.ctx.db.session() as s, s.begin():
            row = await load(s, photographer)
            revision = row.revision
            decisions = (
                await s.execute(
                    select(
                        Photo.id, Photo.group_id, Photo.context_tag, Photo.approval,
                        Photo.stars, Photo.color_label,
                    ).where(decided(row.since))
                )
            ).all()  # fmt: skip
            # Group ids are unique across sessions (made from a member's photo id).
            groups = {r.group_id for r in decisions if r.group_id is not None}
            members: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
            if groups:
                scene_rows = await s.execute(
                    select(Photo.id, Photo.group_id, *FEATURE_COLUMNS).where(
                        Photo.status == PhotoStatus.ANALYZED, Photo.group_id.in_(groups)
                    )
                )
                for r in scene_rows:
                    members[r[1]].append((r[0], feature_input(r[2:])))
            alone_ids = [r.id for r in decisions if r.group_id is None]
            alone: dict[str, dict[str, Any]] = {}
            if alone_ids:
                alone_rows = await s.execute(
                    select(Photo.id, *FEATURE_COLUMNS).where(Photo.id.in_(alone_ids))
                )
                alone = {r[0]: feature_input(r[1:]) for r in alone_rows}
        features: dict[str, list[float]] = {}
        for scene in members.values():
            vectors = prof.scene_features([a for _, a in scene])
            features.update((pid, x) for (pid, _), x in zip(scene, vectors, strict=True))
        for pid, analysis in alone.items():
            features[pid] = prof.scene_features([analysis])[0]
        examples = []
        for r in decisions:
            label = prof.decision_label(
                FLAGS.get(r.approval.value, "none"), r.stars or 0, r.color_label
            )
            if label is not None and r.id in features:
                examples.append((r.context_tag or "general", features[r.id], label))
        return revision, examples
