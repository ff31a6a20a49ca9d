"""The filter model (discourse.store.filters) evaluated with numpy over the dashboard's in-memory columns.

It selects the same segments as the SQL evaluator (discourse.store.selection) for the same conditions; the tests
run both on one store. Per-document keys (source, corpus, genre, document, date) are evaluated once per document
and spread to the segments; speaker attributes once per speaker. A missing value (no date, no relevance, no
speaker, no such attribute) fails every condition but !=, as NULL does in SQL.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from discourse.codebook import STANCES
from discourse.store.filters import ORDERED, Condition, SegmentFilter, numeric, to_date

from .facts import NO_TOPIC, ROLE_CODES, UNDATED, Facts
from .params import QueryError

DOCUMENT_KEYS = {"source", "corpus", "genre", "document", "date"}
_CATEGORIES = ("source", "genre", "corpus")


def check_names(facts: Facts, segment_filter: SegmentFilter) -> None:
    """QueryError naming the parameter when a source, genre or corpus is not in the store or no speaker has an
    attribute: a typo is refused whether or not the store has scores, instead of selecting nothing."""
    attributes = set().union(*(s.keys() for s in facts.speakers)) if facts.speakers else set()
    for condition in segment_filter.conditions:
        field = condition.param or condition.key
        if condition.attribute:
            if condition.key not in attributes:
                raise QueryError(field, f"no speaker has the attribute {condition.key}; known: "
                                        f"{', '.join(sorted(attributes)) or 'none (no interviews in the store)'}")
        elif condition.key in _CATEGORIES:
            known = _names(facts, condition.key)
            missing = [v for v in condition.values if v not in known and not _source_as_corpus(facts, condition, v)]
            if missing:
                shown = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
                raise QueryError(field, f"unknown {condition.key} {', '.join(repr(m) for m in missing)}; the store "
                                        f"has: {shown or 'nothing yet'}")


def filter_mask(facts: Facts, segment_filter: SegmentFilter, topics: np.ndarray | None) -> np.ndarray:
    """Which of the snapshot's segments meet every condition (model_version aside: the caller picks the rows of
    one version). `topics` is the column of the filter's topic model, when it names one."""
    keep = np.ones(len(facts.segment_id), np.bool_)
    doc_keep = None
    for condition in segment_filter.conditions:
        if condition.column == "model_version":
            continue
        if condition.column in DOCUMENT_KEYS:
            hit = _document_hit(facts, condition)
            doc_keep = hit if doc_keep is None else doc_keep & hit
        else:
            keep &= _segment_hit(facts, condition, topics)
    if doc_keep is not None:
        keep &= doc_keep[facts.doc]
    if segment_filter.excludes_interviewer:
        keep &= facts.role != ROLE_CODES["interviewer"]
    return keep


def _document_hit(facts: Facts, condition: Condition) -> np.ndarray:
    docs = facts.doc_arrays()
    key, values = condition.key, condition.values
    if key == "date":
        day = docs["day"]
        wanted = [(to_date(v) - dt.date(1970, 1, 1)).days for v in values]
        return _compare(day, day != UNDATED, condition.op, wanted)
    if key == "document":
        index = facts.documents.index
        return _equal(condition.op, np.isin(np.arange(len(facts.documents.ids)),
                                            [index[v] for v in values if v in index]))
    if key == "corpus":  # the source's kind, or (as `source`) its name
        kinds = list(docs["corpus_names"])
        equal = (np.isin(docs["corpus"], [kinds.index(v) for v in values if v in kinds])
                 | np.isin(docs["source"], [facts.source_index[v] for v in values if v in facts.source_index]))
        return _equal(condition.op, equal)
    names = _names(facts, key)
    return _equal(condition.op, np.isin(docs[key], [names.index(v) for v in values if v in names]))


def _segment_hit(facts: Facts, condition: Condition, topics: np.ndarray | None) -> np.ndarray:
    if condition.attribute:
        return _attribute_hit(facts, condition)
    key, op, values = condition.key, condition.op, condition.values
    if key == "topic_model":
        return topics != NO_TOPIC
    if key == "topic":
        return _compare(topics, topics != NO_TOPIC, op, [float(v) for v in values])
    if key == "relevance":
        # float64 thresholds: the store keeps doubles, the snapshot float32; compared in float32 a threshold such
        # as 0.3 would round and disagree with SQL at the boundary.
        wanted = [np.float64(v) for v in values]
        return _compare(facts.relevance, ~np.isnan(facts.relevance), op, wanted)
    if key == "stance":
        return _equal(op, np.isin(facts.label, [STANCES.index(v) for v in values]))
    if key == "role":
        return _equal(op, np.isin(facts.role, [ROLE_CODES[None if v == "none" else v] for v in values]))
    if key == "frame":
        bits = 0
        for frame in values:
            if frame in facts.frames:  # a frame the codebook does not know is carried by no sentence here
                bits |= 1 << facts.frames.index(frame)
        return _equal(op, (facts.frame_bits & bits) != 0)
    raise ValueError(f"no evaluator for {key}")  # every column key is handled above or per document


def _attribute_hit(facts: Facts, condition: Condition) -> np.ndarray:
    """Per speaker, then spread to the segments (code -1, no speaker, is the extra last entry: a missing value)."""
    found = [s.get(condition.key) for s in facts.speakers]
    if numeric(condition):
        column = np.array([_float(v) for v in found], np.float64)
        hit = _compare(column, ~np.isnan(column), condition.op, [float(v) for v in condition.values])
    else:
        hit = _equal(condition.op, np.array([v in condition.values for v in found], np.bool_))
    return np.append(hit, condition.op == "!=")[facts.speaker]


def _compare(column: np.ndarray, present: np.ndarray, op: str, values: list) -> np.ndarray:
    """`column op values` where a value is present; with = any of the values, with != none of them."""
    if op in ORDERED:
        value = values[0]
        compared = {">=": column >= value, ">": column > value, "<=": column <= value, "<": column < value}[op]
        return present & compared
    return _equal(op, present & np.isin(column, values))


def _equal(op: str, equal: np.ndarray) -> np.ndarray:
    return equal if op == "=" else ~equal


def _names(facts: Facts, key: str) -> list[str]:
    return {"source": facts.sources, "genre": facts.genres,
            "corpus": list(facts.doc_arrays()["corpus_names"])}[key]


def _source_as_corpus(facts: Facts, condition: Condition, value: str) -> bool:
    return condition.key == "corpus" and value in facts.source_index


def _float(value: str | None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return number if np.isfinite(number) else float("nan")
