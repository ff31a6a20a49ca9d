"""The store's documents scored again by another model version, sentence for sentence: `discourse rescore`; and
documents the store holds but no model scored yet (a REFI-QDA import): `discourse rescore --unscored`.

A new model (trained from coders' codes, say) is compared with the old one on the same sentences: each document is
scored with the sentences, speakers and pre-filter decisions that the `from_version` scores recorded, so a
sentence's two rows differ only by the model. The new rows sit beside the old ones (scores keep their model
version) and the dashboard, compare and export show either. A document this version scored already is skipped,
so an interrupted rescore resumes; one that fails alone is counted and the others go on. An unscored document is
scored like any input: language check, Dutch sentences, every sentence counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, ClassVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..store import ScoreWriter
from ..store.queries import latest_model_version
from ..store.rows import document_score_row, recorded_run, segment_score_row
from ..store.schema import Document as StoredDocument
from ..store.schema import DocumentScore, SegmentScore
from ..text import Sentence
from .score import Document, Refusal, score_documents
from .score_archive import STORE_UNAVAILABLE, RunSummary

DEFAULT_BATCH = 32


@dataclass
class RescoreSummary(RunSummary):
    from_version: str = ""
    to_version: str = ""
    errors: int = 0  # documents the model or the store failed on (each recorded as a rejected record)

    KEYS: ClassVar[tuple[str, ...]] = ("run_id", "from_version", "to_version", "scored", "skipped", "errors",
                                       "seconds")

    def _own(self) -> dict:
        return {"from_version": self.from_version, "to_version": self.to_version, "errors": self.errors}


class _StoredDecisions:
    """The pre-filter as it decided when `from_version` scored: the recorded passed_prefilter flags, in order."""

    def __init__(self, flags: list[bool]):
        self.flags = flags

    def passes(self, texts: list[str]) -> list[bool]:
        return self.flags


def rescore_store(engine: Engine, model, from_version: str | None = None, batch_size: int = DEFAULT_BATCH,
                  command: str | None = None, progress: Callable[[RescoreSummary], None] | None = None,
                  unscored: bool = False) -> RescoreSummary:
    """Score every document that `from_version` (default: the latest version in the store) scored, with `model`
    (a FramingModel of another version), into the same store. `unscored`: instead, every document no model has
    scored yet."""
    meta = model.describe()
    with Session(engine) as session:
        if unscored:
            from_version, ids = "", _documents_never_scored(session)
        else:
            from_version = from_version or latest_model_version(session)
            if from_version is None:
                raise ValueError("the store holds no scores to rescore")
            if from_version == meta["model_version"]:
                raise ValueError(f"the model is version {from_version} itself: give it a new version to compare")
            ids = _documents_scored_by(session, from_version)
    writer = ScoreWriter(engine)
    run_id = writer.start_run(model=meta["model"], model_version=meta["model_version"],
                              codebook_version=meta["codebook_version"], command=command,
                              parameters={"rescore_from": from_version or None, "batch_size": batch_size})
    summary = RescoreSummary(run_id, from_version=from_version, to_version=meta["model_version"])
    started = time.perf_counter()
    with recorded_run(writer, summary, engine, started):
        todo = sorted(set(ids) - writer.scored_document_ids(ids, meta["model"], meta["model_version"]))
        summary.skipped["already_scored"] += len(ids) - len(todo)
        for first in range(0, len(todo), batch_size):
            _rescore_batch(engine, writer, model, summary, todo[first:first + batch_size])
            summary.seconds = time.perf_counter() - started
            if progress:
                progress(summary)
    return summary


def _documents_never_scored(session: Session) -> list[str]:
    scored = select(DocumentScore.document_id).distinct()
    return list(session.scalars(select(StoredDocument.id).where(StoredDocument.id.not_in(scored))
                                .order_by(StoredDocument.id)))


def _documents_scored_by(session: Session, version: str) -> list[str]:
    return list(session.scalars(select(SegmentScore.document_id).where(SegmentScore.model_version == version)
                                .distinct().order_by(SegmentScore.document_id)))


def _rescore_batch(engine: Engine, writer: ScoreWriter, model, summary: RescoreSummary, ids: list[str]) -> None:
    with Session(engine) as session:
        documents = [_stored(session, doc_id, summary.from_version) for doc_id in ids]
    for document, segments in documents:
        try:
            _rescore_one(writer, model, summary, document, segments)
        except STORE_UNAVAILABLE:
            raise
        except Exception as error:  # noqa: BLE001 - one document fails alone; the rescore goes on
            summary.errors += 1
            writer.add_rejected(summary.run_id, "record_error", f"{type(error).__name__}: {error}",
                                source_path="store", line_or_row=0, record_id=document.key)


def _stored(session: Session, doc_id: str, version: str) -> tuple[Document, list[SegmentScore]]:
    text = session.scalar(select(StoredDocument.text).where(StoredDocument.id == doc_id))
    segments = list(session.scalars(select(SegmentScore).where(SegmentScore.document_id == doc_id,
                                                                SegmentScore.model_version == version)
                                    .order_by(SegmentScore.position)))
    if not segments:  # never scored: split and counted as any input is
        return Document(doc_id, text), []
    sentences = [Sentence(s.text, s.start, s.end) for s in segments]
    return Document(doc_id, text, sentences, [s.speaker_role != "interviewer" for s in segments]), segments


def _rescore_one(writer: ScoreWriter, model, summary: RescoreSummary, document: Document,
                 segments: list[SegmentScore]) -> None:
    # A rescored document's language was checked when it was first scored; its sentences are the ones stored.
    prefilter = _StoredDecisions([s.passed_prefilter for s in segments]) if segments else None
    check = "off" if segments else "strict"
    result = score_documents(model, [document], prefilter=prefilter, language_check=check).results[0]
    if isinstance(result, Refusal):
        summary.skipped[result.reason_code] += 1
        return
    rows = [segment_score_row(document.key, row) for row in result.sentences]
    for row, stored in zip(rows, segments):
        row.update(speaker=stored.speaker, speaker_role=stored.speaker_role)
    writer.write_batch(summary.run_id, [], [document_score_row(document.key, result.document)], rows)
    summary.scored += 1
