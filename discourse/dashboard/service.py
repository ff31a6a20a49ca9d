"""The dashboard over one store: keeps the snapshot fresh, caches answers, and reads single documents.

    service = DashboardService(engine)
    service.answer("timeseries", TimeseriesParams(period="month", source=["NOS"]))   -> (dict, cache_hit)
    service.document("nos-123")                                                      -> dict (SQL)

Caching: an answer is kept under (question, parameters, snapshot generation). The snapshot's generation moves
whenever new scores land (Facts.refresh), so a cached answer is never served once the store has changed;
old entries simply age out of the LRU. `cache_size=0` turns caching off (the benchmark measures computation).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from discourse.codebook import STANCES, load_codebook
from discourse.store import session_factory
from discourse.store.schema import Document, DocumentScore, SegmentScore, Source, TopicAssignment

from . import queries
from .facts import Facts, document_labels, latest_version
from .params import Filters, QueryError

QUESTIONS = ("summary", "timeseries", "groups", "matrix", "documents", "topics")


class DashboardService:
    def __init__(self, engine: Engine, cache_size: int = 256):
        self.engine = engine
        self.facts = Facts()
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.RLock()
        self._latest: tuple[int, str | None] = (-1, None)
        self._topic_info: dict[str, tuple[float, dict[int, dict]]] = {}

    def warm(self) -> None:
        """Read the store into memory now (the API starts this in a thread at start-up): on a million
        sentences it takes seconds, which the first page view should not wait for."""
        with self._lock:
            self.facts.refresh(self.engine)

    # ------------------------------------------------------------------ aggregations

    def answer(self, question: str, params: Filters) -> tuple[dict, bool]:
        """The answer to one of QUESTIONS, and whether it came from the cache."""
        if question not in QUESTIONS:
            raise ValueError(f"unknown question {question!r}")
        # One question at a time: a refresh replaces the columns one by one, and a computation must not see
        # half of them. Each takes milliseconds; the requests' threads queue here.
        with self._lock:
            self.facts.refresh(self.engine)
            topic_model = params.chosen_topic_model()
            topic_stamp = _topic_stamp(topic_model) if topic_model else None
            key = (question, params.cache_key(), self.facts.generation, topic_stamp)
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key], True
            result = self._compute(question, params, topic_stamp)
            if self.cache_size:
                self._cache[key] = result
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            return result, False

    def _compute(self, question: str, params: Filters, topic_stamp) -> dict:
        topics, topic_model = None, params.chosen_topic_model()
        if topic_model:
            topics = self.facts.topic_column(self.engine, topic_model, topic_stamp)
            if topics is None:
                raise QueryError("topic_model", f"no topic model {topic_model!r} has assignments in this "
                                                f"store; fit one with `discourse topics fit --name NAME`", 404)
        selection = queries.select(self.facts, params, self.latest_version(), topics)
        info = self.topic_info(topic_model) if topic_model else {}
        labels = {t: d["label"] for t, d in info.items()}
        if question == "summary":
            return queries.summary(selection)
        if question == "timeseries":
            return queries.timeseries(selection, params)
        if question == "groups":
            return queries.groups(selection, params, labels)
        if question == "matrix":
            return queries.matrix(selection, params, labels)
        if question == "documents":
            result = queries.documents(selection, params)
            found = document_labels(self.engine, [r["id"] for r in result["rows"]], selection.version)
            for row in result["rows"]:
                row["label"] = found.get(row["id"])
            return result
        return self._topics(selection, params, info)

    def _topics(self, selection, params: Filters, info: dict[int, dict]) -> dict:
        topic_model = params.chosen_topic_model()
        if not topic_model:
            raise QueryError("topic_model", "topics needs topic_model (see /v1/topics for the fitted models)")
        grouped = queries.groups(selection, _all_groups(params), {t: d["label"] for t, d in info.items()})
        total = sum(r["n"] for r in grouped["rows"])
        rows = [{"topic": r["group"], "label": r["label"], "terms": info.get(r["group"], {}).get("terms", []),
                 "n": r["n"], "share": round(r["n"] / total, 4) if total else None,
                 "share_pressuring": r["share_pressuring"], "share_supportive": r["share_supportive"]}
                for r in grouped["rows"]]
        return {"topic_model": topic_model, "model_version": selection.version, "rows": rows}

    def latest_version(self) -> str | None:
        generation, version = self._latest
        if generation != self.facts.generation:
            version = latest_version(self.engine)
            self._latest = (self.facts.generation, version)
        return version

    def topic_info(self, name: str) -> dict[int, dict]:
        """topic id -> {label, terms} from the fitted model's files; {} when there are none (assignments
        written by other tools). Loaded once per model file version: BERTopic takes seconds to load."""
        stamp = _topic_stamp(name)
        cached = self._topic_info.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        info: dict[int, dict] = {}
        if stamp is not None:
            from discourse.topics.service import load_topic_model

            model = load_topic_model(name)
            info = {t["id"]: {"label": t["label"], "terms": [term for term, _ in t["terms"]]} for t in model.topics()}
        self._topic_info[name] = (stamp, info)
        return info

    # ------------------------------------------------------------------ what the filter bar can offer

    def options(self) -> dict:
        with self._lock:
            self.facts.refresh(self.engine)
            return self._options()

    def _options(self) -> dict:
        facts = self.facts
        codebook = load_codebook()
        documents_per_source = np.bincount(facts.doc_arrays()["source"], minlength=len(facts.sources))
        attributes: dict[str, set[str]] = {}
        for speaker in facts.speakers:
            for key, value in speaker.items():
                attributes.setdefault(key, set()).add(value)
        days = [d for d in facts.documents.day if d != queries.UNDATED]
        with self.engine.connect() as conn:
            topic_models = sorted(conn.execute(select(TopicAssignment.topic_model).distinct()).scalars())
        return {
            "latest": self.latest_version(),
            "model_versions": [{"version": v, "model": m, "segments": facts.segments_of_version(v)}
                               for v, m in zip(facts.versions, facts.version_models)],
            "sources": [{"name": name, "kind": kind, "documents": int(documents_per_source[i])}
                        for i, (name, kind) in enumerate(zip(facts.sources, facts.source_kinds))],
            "genres": sorted(facts.genres), "corpora": sorted(set(facts.source_kinds)),
            "stances": [{"id": s, "nl": queries.stance_label(s, "nl"), "en": queries.stance_label(s, "en")}
                        for s in STANCES],
            "frames": [{"id": f, "side": codebook.frame_side(f), "nl": queries.frame_label(f, "nl"),
                        "en": queries.frame_label(f, "en")} for f in codebook.frames],
            "topic_models": topic_models,
            "speaker_attributes": {k: sorted(v) for k, v in sorted(attributes.items())},
            "date_range": {"min": _iso(min(days)) if days else None, "max": _iso(max(days)) if days else None},
            "documents": len(facts.documents.ids), "segments": facts.row_count,
        }

    # ------------------------------------------------------------------ one document

    def document(self, document_id: str, model_version: str | None = None) -> dict:
        """A document with every sentence's scores under one model version (default: the latest that scored
        it), and which sentences are its evidence. Plain SQL with bound parameters."""
        with session_factory(self.engine)() as conn:
            doc = conn.execute(select(Document, Source.name).join(Source, Source.id == Document.source_id)
                               .where(Document.id == document_id)).one_or_none()
            if doc is None:
                raise QueryError("document_id", f"no document {document_id!r}", 404)
            scores = conn.scalars(select(DocumentScore).where(DocumentScore.document_id == document_id)
                                  .order_by(DocumentScore.scored_at.desc())).all()
            versions = [s.model_version for s in scores]
            if model_version is not None and model_version not in versions:
                raise QueryError("model_version", f"document {document_id!r} has no scores of model version "
                                                  f"{model_version!r} (it has {', '.join(versions) or 'none'})", 404)
            score = next((s for s in scores if s.model_version == (model_version or versions[0])), None) \
                if versions else None
            version = score.model_version if score is not None else None
            segments = conn.scalars(select(SegmentScore).where(SegmentScore.document_id == document_id,
                                                                SegmentScore.model_version == version)
                                    .order_by(SegmentScore.position)).all() if version else []
        document = doc[0]
        evidence = {}
        for side, items in ((score.evidence or {}) if score is not None else {}).items():
            for item in items:
                evidence[(item.get("start"), item.get("sentence"))] = side
        out_segments = []
        for s in segments:
            side = evidence.get((s.start, s.text))
            out_segments.append({
                "position": s.position, "start": s.start, "end": s.end, "text": s.text, "label": s.label,
                "scores": {"supportive": s.score_supportive, "pressuring": s.score_pressuring,
                           "neutral": s.score_neutral},
                "relevance": s.relevance, "frames": sorted((s.frames or {}).keys()), "speaker": s.speaker,
                "speaker_role": s.speaker_role, "passed_prefilter": s.passed_prefilter, "evidence": side})
        return {
            "id": document.id, "title": document.title, "source": doc[1], "genre": document.genre,
            "published": document.published.isoformat() if document.published else None, "url": document.url,
            "text": document.text, "model_version": version, "versions": versions,
            "score": None if score is None else {
                "label": score.label, "relevance": score.relevance,
                "scores": {"supportive": score.score_supportive, "pressuring": score.score_pressuring,
                           "neutral": score.score_neutral},
                "frames": (score.frames or {}).get("frames", []), "evidence": score.evidence or {}},
            "segments": out_segments,
        }


def _all_groups(params: Filters):
    from .params import GroupParams

    # Only the fields that were given: whether min_relevance was is part of the filter (Filters.segment_filter).
    return GroupParams(**{k: v for k, v in params.model_dump(exclude_unset=True).items() if k in Filters.model_fields},
                       by="topic", sort="n", limit=500)


def _topic_stamp(name: str) -> float | None:
    """The fitted model's file time: a refit changes labels and terms (and its assignments)."""
    from discourse.topics.service import model_path

    try:
        return (model_path(name) / "topic_model.json").stat().st_mtime
    except (OSError, ValueError):
        return None


def _iso(day: int) -> str:
    import datetime as dt

    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()
