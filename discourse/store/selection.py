"""Selecting scored segments by a researcher's filter: the A and B of a comparison, the corpus of a topic model.

A filter is a comma-separated list of conditions, as typed on the command line or sent to the API:

    genre=interview,gender=V                 mothers in the interviews
    genre=policy,source=Kind en Gezin        one institution's policy texts
    date>=2020-01-01,date<2021-01-01,relevance>=0.5

Keys: genre, source (or corpus), date, relevance, stance (or label), frame, role (speaker role), document, topic
(with topic_model; topic_model alone keeps the segments that model assigned), model_version; any other key is a
speaker attribute (gender, age, region, child_age_months, a CSV column...), so interviews can be grouped by
whatever the respondents file holds. Operators: = and != for
everything, >= > <= < for date, relevance, topic and numeric attributes; `a|b` after = means either.

Everything becomes SQLAlchemy expressions with bound parameters: a filter is data, never SQL. Interviewer turns
are left out unless the filter names a role: the questions are the researcher's words, not the parents'.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Float, and_, cast, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from discourse.store.queries import latest_model_version
from discourse.store.schema import Document, SegmentScore, Source, Speaker, TopicAssignment

OPERATORS = ("!=", ">=", "<=", "=", ">", "<")  # two-character operators first, so ">=" is not read as ">"
ORDERED_KEYS = {"date", "relevance", "topic"}
COLUMN_KEYS = {"genre", "source", "corpus", "date", "relevance", "stance", "label", "frame", "role", "document",
               "topic", "topic_model", "model_version"}
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(!=|>=|<=|=|>|<)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Condition:
    key: str
    op: str
    value: str


@dataclass(frozen=True)
class SegmentFilter:
    conditions: tuple[Condition, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> "SegmentFilter":
        """'genre=interview,gender=V' -> a filter; ValueError naming the bad part otherwise."""
        conditions = []
        for part in (spec or "").split(","):
            if not part.strip():
                continue
            match = _CONDITION.match(part)
            if not match or not match.group(3):
                raise ValueError(f"filter part {part.strip()!r}: expected key=value (or !=, >=, <=, >, <), "
                                 f"e.g. genre=interview")
            key, op, value = match.group(1).lower(), match.group(2), match.group(3)
            if op not in ("=", "!=") and key in COLUMN_KEYS - ORDERED_KEYS:
                raise ValueError(f"filter part {part.strip()!r}: {key} takes = or !=, not {op}")
            if key == "date":
                _date(value)
            if key in ("relevance", "topic"):
                _number(key, value)
            conditions.append(Condition(key, op, value))
        keys = {c.key for c in conditions}
        if "topic" in keys and "topic_model" not in keys:
            raise ValueError("a topic filter needs both topic=N and topic_model=NAME (topic ids belong to a model)")
        return cls(tuple(conditions))

    def __str__(self) -> str:
        return ",".join(f"{c.key}{c.op}{c.value}" for c in self.conditions) or "(all)"

    def get(self, key: str) -> str | None:
        return next((c.value for c in self.conditions if c.key == key and c.op == "="), None)


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
    if not any(c.key == "role" for c in segment_filter.conditions):
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
            attributes=dict(attributes or {})))
    return rows


def _clause(condition: Condition):
    key, op, value = condition.key, condition.op, condition.value
    if key in ("model_version", "topic_model"):
        return None  # handled by select_segments
    if key == "frame":
        # frames is a JSON object {frame: score} holding the frames a segment carries.
        present = SegmentScore.frames[value].as_float().is_not(None)
        return present if op == "=" else not_(present)
    column = {"genre": Document.genre, "source": Source.name, "corpus": Source.name, "stance": SegmentScore.label,
              "label": SegmentScore.label, "role": SegmentScore.speaker_role, "document": SegmentScore.document_id,
              "date": Document.published, "relevance": SegmentScore.relevance,
              "topic": TopicAssignment.topic}.get(key)
    if column is not None:
        if key == "date":
            return _compare(column, op, _date(value))
        if key in ("relevance", "topic"):
            return _compare(column, op, _number(key, value))
        return _compare(column, op, value)
    # A speaker attribute, stored as JSON: compare as a number when the value is one, as text otherwise.
    attribute = Speaker.attributes[key]
    if op in ("=", "!=") and not _is_number(value):
        return _compare(attribute.as_string(), op, value)
    if not _is_number(value):
        raise ValueError(f"filter {key}{op}{value}: {op} needs a number")
    return _compare(cast(attribute.as_float(), Float), op, float(value))


def _compare(column, op: str, value):
    if op in ("=", "!=") and isinstance(value, str) and "|" in value:
        clause = column.in_([v.strip() for v in value.split("|") if v.strip()])
        return clause if op == "=" else or_(column.is_(None), not_(clause))
    if op == "=":
        return column == value
    if op == "!=":
        return or_(column.is_(None), column != value)
    return {">=": column >= value, ">": column > value, "<=": column <= value, "<": column < value}[op]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"date {value!r}: expected YYYY-MM-DD") from None


def _number(key: str, value: str) -> float:
    if not _is_number(value):
        raise ValueError(f"{key} {value!r}: expected a number")
    return float(value)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True



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
