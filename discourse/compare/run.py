"""A comparison from the store: two segment filters in, the result dict that report.py renders out.

    rows of A and B (discourse.store.selection) → Units (cluster = speaker or document) → stance and frame shares
    with cluster-bootstrap intervals → topic prevalence (when a topic model has assigned them) → keyness →
    adoption of discourse terms → echo (embedding similarity; needs an encoder)

`discourse compare` and `POST /v1/compare` both call `compare()`; the statistics themselves are the pure functions
of this package.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy.orm import Session

from ..codebook import load_codebook
from ..store.selection import SegmentFilter, SegmentRow, assigned_topics, select_segments
from . import Unit
from .adoption import adoption
from .bootstrap import cluster_bootstrap, frame_distribution, stance_distribution, topic_prevalence
from .echo import DEFAULT_THRESHOLD, echo
from .keyness import keyness

#: Above this many sentences on one side, echo is computed on a seeded sample: every A sentence is encoded
#: (about 100 sentences/s on two cores when not cached), so an unbounded request could run for hours.
ECHO_MAX_SENTENCES = 5000


def compare(session: Session, filter_a: SegmentFilter, filter_b: SegmentFilter, *, encoder=None,
            topic_model: str | None = None, model_version: str | None = None, n_resamples: int = 2000,
            seed: int = 0, min_freq: int = 5, lemmas: bool = False, echo_threshold: float = DEFAULT_THRESHOLD,
            labels: tuple[str, str] = ("A", "B")) -> dict:
    """Compare the segments selected by `filter_a` with those of `filter_b`. `encoder` (a CachingEncoder) enables
    the echo section; `topic_model` names a fitted topic model whose assignments give topic prevalence."""
    rows_a = select_segments(session, filter_a, model_version)
    rows_b = select_segments(session, filter_b, model_version)
    for name, spec, rows in (("A", filter_a, rows_a), ("B", filter_b, rows_b)):
        if not rows:
            raise ValueError(f"filter {name} ({spec}) selects no scored segments")
    topics = _topics(session, topic_model, rows_a + rows_b) if topic_model else {}
    units_a, units_b = _units(rows_a, topics), _units(rows_b, topics)
    texts_a, texts_b = [r.text for r in rows_a], [r.text for r in rows_b]
    result = {
        "title": f"{labels[0]} vs {labels[1]}",
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "a": _side(labels[0], filter_a, units_a), "b": _side(labels[1], filter_b, units_b),
        "confidence": 0.95, "n_resamples": n_resamples,
        "stance": cluster_bootstrap(units_a, units_b, stance_distribution, n_resamples, seed),
        "frames": cluster_bootstrap(units_a, units_b, _frames_statistic(), n_resamples, seed),
        "keyness": keyness(texts_a, texts_b, min_freq=min_freq, lemmas=lemmas),
        "adoption": adoption(texts_a, texts_b),
    }
    if topics:
        result["topics"] = cluster_bootstrap(units_a, units_b, topic_prevalence, n_resamples, seed)
    if encoder is not None:
        result["echo"] = _echo(encoder, texts_a, texts_b, echo_threshold, seed)
    return result


def _side(label: str, segment_filter: SegmentFilter, units: list[Unit]) -> dict:
    return {"label": label, "filter": str(segment_filter), "units": len(units),
            "clusters": len({u.cluster for u in units})}


def _units(rows: list[SegmentRow], topics: dict[tuple[str, int], int]) -> list[Unit]:
    return [Unit(text=r.text, cluster=r.cluster, stance=r.label or "neutral", frames=tuple(sorted(r.frames)),
                 topic=topics.get((r.document_id, r.position))) for r in rows]


def _frames_statistic():
    from functools import partial

    # partial (not a lambda) keeps bootstrap's vectorised route (see bootstrap.cluster_bootstrap).
    return partial(frame_distribution, frames=load_codebook().frames)


def _topics(session: Session, topic_model: str, rows: list[SegmentRow]) -> dict[tuple[str, int], int]:
    found = assigned_topics(session, topic_model, rows)
    if not found:
        raise ValueError(f"topic model {topic_model!r} has assigned no topic to these segments "
                         f"(run `discourse topics assign --name {topic_model}` first)")
    return found


def _echo(encoder, texts_a: list[str], texts_b: list[str], threshold: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    a = _sample(texts_a, rng)
    b = _sample(texts_b, rng)
    result = echo(_normalised(encoder.encode(a)), _normalised(encoder.encode(b)), a, b, threshold=threshold)
    out = result.to_dict()
    out["sampled"] = len(a) < len(texts_a) or len(b) < len(texts_b)
    return out


def _sample(texts: list[str], rng: np.random.Generator) -> list[str]:
    if len(texts) <= ECHO_MAX_SENTENCES:
        return texts
    keep = np.sort(rng.choice(len(texts), ECHO_MAX_SENTENCES, replace=False))
    return [texts[i] for i in keep]


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
