"""Selecting scored segments by a researcher's filter: the A and B of a comparison, the corpus of a topic model.

The filter model, its string syntax and its checks live in discourse.store.filters (shared with the dashboard,
which evaluates the same conditions over numpy columns); this module is its SQL evaluator:

    genre=interview,gender=V                 mothers in the interviews
    genre=policy,source=Kind en Gezin        one institution's policy texts
    date>=2020-01-01,date<2021-01-01,relevance>=0.5

Everything becomes SQLAlchemy expressions with bound parameters: a filter is data, never SQL. Interviewer turns
are left out unless the filter names a role: the questions are the researcher's words, not the parents'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Float, and_, cast, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from discourse.store.filters import Condition, SegmentFilter, numeric, to_date, to_number
from discourse.store.queries import latest_model_version
from discourse.store.schema import Document, SegmentScore, Source, Speaker, TopicAssignment

__all__ = ["Condition", "SegmentFilter", "SegmentRow", "assigned_topics", "select_segments"]


@dataclass
class SegmentRow:
    document_id: str
    position: int
    text: str
    label: str | None
    scores: dict[str, float]
    relevance: float | None
    frames: dict[str, float]
    source: str
    genre: str | None
    published: dt.date | None
    speaker: str | None
    speaker_role: str | None
    attributes: dict = field(default_factory=dict)
    start: int | None = None  # character offsets into the document's text
    end: int | None = None

    @property
    def cluster(self) -> str:
        """What a bootstrap resamples: the speaker in an interview, the document otherwise."""
        return f"{self.document_id}#{self.speaker}" if self.speaker else self.document_id


def select_segments(session: Session, segment_filter: SegmentFilter, model_version: str | None = None,
                    limit: int | None = None) -> list[SegmentRow]:
    """The segments scored by `model_version` (default: the filter's model_version, else the latest) that
    match the filter, in document and position order."""
    version = segment_filter.get("model_version") or model_version or latest_model_version(session)
    if version is None:
        return []
    query = (select(SegmentScore, Document.genre, Document.published, Source.name, Speaker.attributes)
             .join(Document, Document.id == SegmentScore.document_id)
             .join(Source, Source.id == Document.source_id)
             .outerjoin(Speaker, and_(Speaker.document_id == SegmentScore.document_id,
                                      Speaker.label == SegmentScore.speaker))
             .where(SegmentScore.model_version == version))
    topic_model = segment_filter.get("topic_model")
    if topic_model is not None:
        query = query.join(TopicAssignment, and_(TopicAssignment.topic_model == topic_model,
                                                 TopicAssignment.document_id == SegmentScore.document_id,
                                                 TopicAssignment.position == SegmentScore.position))
    if segment_filter.excludes_interviewer:
        query = query.where(or_(SegmentScore.speaker_role.is_(None), SegmentScore.speaker_role != "interviewer"))
    for condition in segment_filter.conditions:
        clause = _clause(condition)
        if clause is not None:
            query = query.where(clause)
    query = query.order_by(SegmentScore.document_id, SegmentScore.position)
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for segment, genre, published, source, attributes in session.execute(query):
        rows.append(SegmentRow(
            document_id=segment.document_id, position=segment.position, text=segment.text, label=segment.label,
            scores={"supportive": segment.score_supportive, "pressuring": segment.score_pressuring,
                    "neutral": segment.score_neutral},
            relevance=segment.relevance, frames=dict(segment.frames or {}), source=source, genre=genre,
            published=published, speaker=segment.speaker, speaker_role=segment.speaker_role,
            attributes=dict(attributes or {}), start=segment.start, end=segment.end))
    return rows


def _clause(condition: Condition):
    if condition.attribute:
        return _attribute_clause(condition)
    key, op, values = condition.key, condition.op, condition.values
    if key in ("model_version", "topic_model"):
        return None  # handled by select_segments: the version read, the assignments joined
    if key == "frame":
        # frames is a JSON object {frame: score} holding the frames a segment carries.
        present = or_(*(SegmentScore.frames[v].as_float().is_not(None) for v in values))
        return present if op == "=" else not_(present)
    if key == "role" and "none" in values:  # a sentence without a speaker
        named = [v for v in values if v != "none"]
        clause = or_(SegmentScore.speaker_role.is_(None), SegmentScore.speaker_role.in_(named))
        return clause if op == "=" else not_(clause)
    if key == "corpus":  # the source's kind, or (as `source`) its name
        clause = or_(Source.kind.in_(values), Source.name.in_(values))
        return clause if op == "=" else not_(clause)
    column = {"genre": Document.genre, "source": Source.name, "stance": SegmentScore.label,
              "role": SegmentScore.speaker_role, "document": SegmentScore.document_id,
              "date": Document.published, "relevance": SegmentScore.relevance,
              "topic": TopicAssignment.topic}[key]
    if key == "date":
        return _compare(column, op, [to_date(v) for v in values])
    if key in ("relevance", "topic"):
        return _compare(column, op, [to_number(key, v) for v in values])
    return _compare(column, op, list(values))


def _attribute_clause(condition: Condition):
    """A speaker attribute, stored as JSON: compared as a number when every value is one, as text otherwise."""
    attribute = Speaker.attributes[condition.key]
    if numeric(condition):
        return _compare(cast(attribute.as_float(), Float), condition.op, [float(v) for v in condition.values])
    return _compare(attribute.as_string(), condition.op, list(condition.values))


def _compare(column, op: str, values: list):
    """`column op values`; with = any of the values, with != none of them (a missing value counts as different)."""
    if op in ("=", "!="):
        clause = column == values[0] if len(values) == 1 else column.in_(values)
        return clause if op == "=" else or_(column.is_(None), not_(clause))
    value = values[0]
    return {">=": column >= value, ">": column > value, "<=": column <= value, "<": column < value}[op]


def assigned_topics(session: Session, topic_model: str, rows: list[SegmentRow]) -> dict[tuple[str, int], int]:
    """(document_id, position) -> topic under `topic_model`, for those of `rows` that have one."""
    keys = list({(r.document_id, r.position) for r in rows})
    found: dict[tuple[str, int], int] = {}
    for start in range(0, len(keys), 500):  # row-value IN lists stay small on both backends
        query = select(TopicAssignment.document_id, TopicAssignment.position, TopicAssignment.topic).where(
            TopicAssignment.topic_model == topic_model,
            tuple_(TopicAssignment.document_id, TopicAssignment.position).in_(keys[start:start + 500]))
        found.update({(d, p): t for d, p, t in session.execute(query)})
    return found
