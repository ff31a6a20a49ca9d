"""The store's tables as SQLAlchemy 2.0 models. The Alembic migrations in migrations/versions/ must create
exactly this schema (tests/test_store.py compares them on SQLite and PostgreSQL), so a change here needs a new
migration script.

Types are the portable ones (sqlalchemy.JSON, String, Float, DateTime) so one schema serves SQLite and
PostgreSQL. Timestamps are timezone-aware UTC and set in Python, not by a server default, so both backends
store the same values and inserts through Core (the writer's INSERT ... ON CONFLICT) get them too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The states a run can be in: "running" until finish_run; "interrupted" is a run stopped on purpose (Ctrl-C) or
#: one whose process died (found by the next run or job server: see discourse.store.liveness), "failed" one that
#: raised. A resumed run is a new run that skips what scored_document_ids reports.
RUN_STATES = ("running", "finished", "failed", "interrupted")

#: Short machine-readable reasons for rejected input records; `reason` holds the human message. Not enforced
#: by the database (a new reader may need a new code), but the writer's callers should use these: the readers'
#: codes (discourse.ingest.REASON_CODES) and the scorer's (not Dutch, no sentence, an id already stored with
#: another text, a record the scorer or the store failed on).
REJECT_REASONS = ("invalid_json", "not_an_object", "invalid_csv", "not_utf8", "missing_text", "empty_text",
                  "text_not_string", "too_long", "unreadable_file", "nul_character", "path_not_allowed",
                  "not_dutch", "no_sentences", "id_conflict", "record_error", "invalid_transcript",
                  "no_respondent_speech")

#: Who says a segment in an interview; news and policy segments have no speaker.
SPEAKER_ROLES = ("interviewer", "respondent", "other")

#: How many characters of a rejected record are kept: enough to find and fix it, not a copy of the archive.
RAW_EXCERPT_CHARS = 500

# Every constraint and index gets a predictable name, so that migrations can refer to them and SQLite (which
# reflects unnamed constraints badly) and PostgreSQL compare equal.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, dt.datetime: DateTime(timezone=True)}


class Source(Base):
    """Where documents come from: a newspaper, a policy archive, an interview collection."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # "news", "policy", "interview", ...
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Document(Base):
    """One text, stored once whatever model scores it. The id is the caller's own id, or the text hash when
    the archive has none, so that re-importing an archive finds the rows it already wrote."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    published: Mapped[dt.date | None] = mapped_column(Date, index=True)
    genre: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # sha256 hex of the text: finds the same article published under two ids (wire copy in several papers).
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # "share of pressuring documents per source per month": filter by source, group by month.
        Index("ix_documents_source_id_published", "source_id", "published"),
    )


class Run(Base):
    """One batch-scoring run: what was asked (command, parameters), with which model, and how it ended."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    command: Mapped[str | None] = mapped_column(Text)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(64))
    codebook_version: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    # {"scored": n, "skipped": {"already_scored": n, "not_dutch": n, ...}, "errors": n}
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # "host:pid:token" of the process running it, and when that process last said it was alive: a run left
    # "running" by a process that died is marked "interrupted" (discourse.store.liveness).
    owner: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (
        CheckConstraint("state IN ('running', 'finished', 'failed', 'interrupted')", name="state"),
    )


class Job(Base):
    """An archive-scoring job submitted over HTTP. It outlives the server: a server claims a queued job
    atomically (owner, heartbeat), and a running job whose server died is queued again by the next server that
    notices; its new run skips what was already scored."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paths: Mapped[list[Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)  # source, map, batch_size, prefilter
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the latest run's counts so far
    run_ids: Mapped[list[Any] | None] = mapped_column(JSON)  # one run per attempt (a restart adds one)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(200))  # the server running it ("host:pid:token")
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (CheckConstraint("state IN ('queued', 'running', 'finished', 'failed')", name="state"),)


class DocumentScore(Base):
    """A document's aggregate scores under one model version. Unique per (document, model, version): scoring
    again with a new version adds rows next to the old ones; the same version never writes twice."""

    __tablename__ = "document_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    codebook_version: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), index=True)
    label: Mapped[str] = mapped_column(String(32), index=True)  # "supportive" | "pressuring" | "neutral"
    score_supportive: Mapped[float] = mapped_column(Float)
    score_pressuring: Mapped[float] = mapped_column(Float)
    score_neutral: Mapped[float] = mapped_column(Float)
    relevance: Mapped[float | None] = mapped_column(Float)
    n_sentences: Mapped[int | None] = mapped_column(Integer)
    n_relevant: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[list[Any] | None] = mapped_column(JSON)
    frames: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    scored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # Also the index scored_document_ids uses (document_id IN (...) AND model = ? AND model_version = ?).
        UniqueConstraint("document_id", "model", "model_version"),
        # Dashboard queries filter one model version, then group by label and join documents.
        Index("ix_document_scores_model_version_label_document_id", "model_version", "label", "document_id"),
    )


class SegmentScore(Base):
    """One sentence's scores under one model version: the evidence behind a document score. `passed_prefilter`
    is False for sentences the relevance filter dropped (kept so that the filter itself can be audited)."""

    __tablename__ = "segment_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # sentence index within the document
    start: Mapped[int | None] = mapped_column(Integer)  # character offsets into documents.text
    end: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(32), index=True)
    score_supportive: Mapped[float | None] = mapped_column(Float)
    score_pressuring: Mapped[float | None] = mapped_column(Float)
    score_neutral: Mapped[float | None] = mapped_column(Float)
    relevance: Mapped[float | None] = mapped_column(Float)
    frames: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    passed_prefilter: Mapped[bool] = mapped_column(Boolean, default=True)
    # Interviews: the speaker's label within the document ("R7", "I") and role; None for news and policy.
    speaker: Mapped[str | None] = mapped_column(String(64))
    speaker_role: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("document_id", "model", "model_version", "position"),)


class Speaker(Base):
    """A speaker of an interview transcript and the attributes any query can group by (gender, age, role,
    child's age, pregnancy week, region, extra CSV columns). Per document, because "R7" in one collection is
    not "R7" in another."""

    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("document_id", "label"),
        CheckConstraint("role IN ('interviewer', 'respondent', 'other')", name="role"),
    )


class TopicAssignment(Base):
    """The topic a segment has under one fitted topic model (`topic_model` names it, e.g. "interviews-2026").
    A segment is (document, position): the same sentence whatever model version scored it."""

    __tablename__ = "topic_assignments"

    topic_model: Mapped[str] = mapped_column(String(200), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_topic_assignments_topic_model_topic", "topic_model", "topic"),)


class RejectedRecord(Base):
    """An input record a run could not score, with where it was and why, so that it can be found and fixed.
    One row per (input, position, reason): a rerun over the same input finds its rejections already there and
    adds none (the row keeps the run that first rejected it). A whole file has position 0; "" is no file."""

    __tablename__ = "rejected_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    source_path: Mapped[str] = mapped_column(Text)
    line_or_row: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[str | None] = mapped_column(String(255))
    reason_code: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    raw_excerpt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("source_path", "line_or_row", "reason_code"),)


class CodingItem(Base):
    """A sentence a person codes: a character span of a document, independent of any model version (scores come
    and go with versions; a coder's work must not). `text_hash` is the hash of the span's text when the item was
    made, so that a document whose text changed is noticed."""

    __tablename__ = "coding_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("document_id", "start", "end"),)


class CodingAssignment(Base):
    """An item given to a coder in a named queue. One queue per (item, coder): a coder never codes the same
    sentence twice for two queues. `position` is the order the coder meets the queue's items in."""

    __tablename__ = "coding_assignments"

    item_id: Mapped[int] = mapped_column(ForeignKey("coding_items.id", ondelete="CASCADE"), primary_key=True)
    coder: Mapped[str] = mapped_column(String(100), primary_key=True)
    queue: Mapped[str] = mapped_column(String(100), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Annotation(Base):
    """One coder's codes for one item: relevance, stance and frames (codebook ids), free codes (a QDA tool's codes
    that did not map to the codebook), a memo. Unique per (item, coder): saving again updates the row."""

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("coding_items.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(100))
    relevant: Mapped[bool | None] = mapped_column(Boolean)
    stance: Mapped[str | None] = mapped_column(String(32))
    frames: Mapped[list[Any]] = mapped_column(JSON)
    codes: Mapped[list[Any]] = mapped_column(JSON)
    memo: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(32), default="coding")  # "coding" | "qdpx" | ...
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("item_id", "coder"),)


class Adjudication(Base):
    """The code an adjudicator settled on for an item the coders disagreed about, kept beside their annotations
    (which stay as they were)."""

    __tablename__ = "adjudications"

    item_id: Mapped[int] = mapped_column(ForeignKey("coding_items.id", ondelete="CASCADE"), primary_key=True)
    adjudicator: Mapped[str] = mapped_column(String(100))
    relevant: Mapped[bool | None] = mapped_column(Boolean)
    stance: Mapped[str | None] = mapped_column(String(32))
    frames: Mapped[list[Any]] = mapped_column(JSON)
    memo: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
