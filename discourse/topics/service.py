"""Topic models over the store: fit on a filtered set of segments, assign segments, and topic shares per group.

    discourse topics fit --name ouders --filter genre=interview      select → embed (cached) → TopicModel.fit
                                                                      → save under $DISCOURSE_HOME/topics/NAME
                                                                      → topic_assignments for every segment fitted
    discourse topics assign --name ouders --filter genre=policy      new segments → nearest topic → assignments
    discourse topics show --name ouders --group-by parent            terms, sizes, examples, share per group
    discourse topics shares --name ouders --group-by source          month x topic share per group (CSV)
    discourse topics merge|split|rename --name ouders ...            a new version (curation.py)

Assignments live in the store (topic_assignments: topic model × document × position), so comparisons and
dashboards can filter and group by topic with plain SQL. Group keys are the filter keys of a segment (source,
genre, role, any speaker attribute such as parent or gender) or `month`/`year` of publication.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy.orm import Session

from ..encoder.cache import EmbeddingCache
from ..settings import discourse_home, embedding_cache_path
from ..store.assignments import add_topic_assignments, clear_topic_assignments
from ..store.selection import Condition, SegmentFilter, SegmentRow, assigned_topics, select_segments
from .model import TopicConfig, TopicModel, topic_encoder

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def topics_dir() -> Path:
    return discourse_home() / "topics"


def model_path(name: str) -> Path:
    if not _NAME.match(name):
        raise ValueError(f"topic model name {name!r}: use letters, digits, '.', '_' and '-' (at most 100)")
    return topics_dir() / name


def list_models() -> list[str]:
    folder = topics_dir()
    return sorted(p.name for p in folder.iterdir() if (p / "topic_model.json").is_file()) if folder.is_dir() else []


def load_topic_model(name: str) -> TopicModel:
    path = model_path(name)
    if not (path / "topic_model.json").is_file():
        known = ", ".join(list_models()) or "none yet"
        raise FileNotFoundError(f"no topic model {name!r} (fitted: {known}); run `discourse topics fit --name {name}`")
    return TopicModel.load(path)


def cached_topic_encoder(backend: str | None = None):
    return topic_encoder(backend, EmbeddingCache(embedding_cache_path()))


def fit_from_store(session: Session, name: str, segment_filter: SegmentFilter, config: TopicConfig = TopicConfig(),
                   encoder=None) -> TopicModel:
    """Fit topic model `name` on the segments `segment_filter` selects, save it, and store their topics
    (replacing what an earlier model of that name assigned)."""
    path = model_path(name)
    rows = distinct_rows(select_segments(session, segment_filter))
    if not rows:
        raise ValueError(f"filter {segment_filter} selects no scored segments to fit topics on")
    encoder = encoder or cached_topic_encoder()
    texts = [r.text for r in rows]
    model = TopicModel.fit(texts, encoder.encode(texts), config, encoder_version=encoder.version, encoder=encoder)
    model.meta["filter"] = str(segment_filter)
    model.save(path)
    clear_topic_assignments(session, name)
    _store(session, name, rows, model.document_topics)
    return model


def assign_from_store(session: Session, name: str, segment_filter: SegmentFilter, encoder=None) -> int:
    """Give every segment the filter selects its nearest topic of model `name`; returns how many were stored
    (segments assigned before keep their topic)."""
    model = load_topic_model(name)
    rows = distinct_rows(select_segments(session, segment_filter))
    if not rows:
        return 0
    encoder = encoder or cached_topic_encoder()
    if model.meta.get("encoder_version") and encoder.version != model.meta["encoder_version"]:
        raise ValueError(f"topic model {name!r} was fitted with encoder {model.meta['encoder_version']}, "
                         f"not {encoder.version}: fit it again")
    texts = [r.text for r in rows]
    return _store(session, name, rows, model.assign(texts, encoder.encode(texts)))


def topic_shares(session: Session, name: str, group_by: str, segment_filter: SegmentFilter | None = None
                 ) -> dict[str, dict[int, float]]:
    """Per group: the share of each topic among the assigned segments the filter selects."""
    counts = _topic_counts(session, name, segment_filter, lambda row: group_value(row, group_by))
    return {group: {topic: n / sum(c.values()) for topic, n in sorted(c.items())}
            for group, c in sorted(counts.items())}


INTERVALS = ("month", "year")
ALL = "(all)"
NO_DATE = "(no date)"  # the period of a segment without a publication date


def topic_shares_over_time(session: Session, name: str, interval: str = "month", group_by: str | None = None,
                           segment_filter: SegmentFilter | None = None) -> dict:
    """Per period (month or year of publication) and group (source, genre, role, a speaker attribute; all
    segments together without `group_by`): how many assigned segments there are and each topic's share of them,
    every topic of the model listed (zeros too), so the shares of a period and group sum to 1. Undated segments
    have no period: they are counted in `undated`, not in the rows."""
    if interval not in INTERVALS:
        raise ValueError(f"interval {interval!r}: one of {', '.join(INTERVALS)}")
    if group_by in INTERVALS:
        raise ValueError(f"group {group_by!r} is a period: choose it as interval, group by something else")
    model = load_topic_model(name)
    counts = _topic_counts(session, name, segment_filter,
                           lambda row: (group_value(row, interval), group_value(row, group_by) if group_by else ALL))
    labels = {t["id"]: t["label"] for t in model.topics()}
    undated = sum(sum(c.values()) for (period, _), c in counts.items() if period == NO_DATE)
    rows = []
    for (period, group), counter in sorted(counts.items()):
        if period == NO_DATE:
            continue
        n = sum(counter.values())
        rows += [{"period": period, "group": group, "topic": topic, "label": labels[topic], "n": n,
                  "count": counter[topic], "share": counter[topic] / n} for topic in model.topic_ids()]
    return {"name": name, "interval": interval, "group_by": group_by or ALL, "undated": undated,
            "topics": [{"id": t, "label": label} for t, label in labels.items()], "rows": rows}


def _topic_counts(session: Session, name: str, segment_filter: SegmentFilter | None, key) -> dict[object, Counter]:
    """Topic counts of the segments model `name` assigned that the filter selects, per `key(row)`."""
    conditions = (segment_filter.conditions if segment_filter else ()) + (Condition("topic_model", "=", name),)
    rows = select_segments(session, SegmentFilter(conditions))
    topics = assigned_topics(session, name, rows) if rows else {}
    counts: dict[object, Counter] = defaultdict(Counter)
    for row in rows:
        counts[key(row)][topics[(row.document_id, row.position)]] += 1
    return counts


def group_value(row: SegmentRow, key: str) -> str:
    """The value of `key` for a segment: a column (source, genre, role, speaker), a publication period (month,
    year) or a speaker attribute; "(none)" when it has none."""
    if key in INTERVALS:
        if row.published is None:
            return NO_DATE
        return row.published.strftime("%Y-%m" if key == "month" else "%Y")
    value = {"source": row.source, "corpus": row.source, "genre": row.genre, "role": row.speaker_role,
             "speaker": row.cluster, "stance": row.label}.get(key, row.attributes.get(key))
    return "(none)" if value is None else str(value)


def distinct_rows(rows: list[SegmentRow]) -> list[SegmentRow]:
    """One row per segment (document, position): a segment several filters' joins return more than once."""
    return list({(r.document_id, r.position): r for r in rows}.values())


def _store(session: Session, name: str, rows: list[SegmentRow], topics: list[int]) -> int:
    return add_topic_assignments(session, name, ((r.document_id, r.position, t) for r, t in zip(rows, topics)))
