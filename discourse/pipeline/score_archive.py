"""`discourse score-archive`: stream an archive through the scorer into the store, so that no work is lost.

    read (discourse.ingest) → skip what this model version already scored → score a batch (discourse.pipeline.score)
    → write the batch in one transaction (discourse.store)

Resumable by construction: a batch is written whole or not at all, and a run started again with the same command
first asks the store which documents this model version has scored, so a run killed at any moment finishes with
every document scored exactly once. Bad records go to the rejected-records table with a reason (once per input,
position and reason, however often the run is repeated); the run goes on. A record that makes the scorer or the
store fail is retried alone and, if it fails alone, rejected (`record_error`) — one record never stops a run; only
a store that cannot be reached does.

A document id names one text: a record whose id is stored already with another text (a second archive reusing
ids) is rejected as `id_conflict`, never counted as already scored; the same id with the same text is.

A sentence met again in the run (news repeats its boilerplate and quotes) is encoded once: the run keeps its most
recent `RUN_MEMORY` embeddings. Batches run one after the other: reading and splitting the next batch while one is
in the model was measured and does not pay on two cores, where the model already uses both (bench/README.md).
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, ClassVar, Iterable

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..encoder.cache import EmbeddingCache
from ..ingest import FieldMapping, IngestRecord, Rejection, expand_paths, read_records
from ..model.prefilter import RelevancePrefilter
from ..store import ScoreWriter, make_engine, upgrade
from ..store.rows import document_score_row, recorded_run, segment_score_row, start_run
from ..store.writer import StoredDocument
from ..text import text_hash
from .language import LanguageCheckMode
from .score import Document, Refusal, score_documents

#: Errors that say the store cannot be reached (down, locked, out of connections): they stop the run, which
#: resumes when started again, instead of rejecting every record while the store is away.
STORE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)

DEFAULT_BATCH = 64  # articles per transaction: small enough to lose little on a kill, large enough to batch well
RUN_MEMORY = 20_000  # embeddings a run keeps for sentences it meets again (~31 MB at 384 dimensions)


@dataclass
class RunSummary:
    """What a run did, as recorded with it (ScoreWriter.finish_run) and reported by jobs: the counts every run
    has; an archive run and an interview run add their own (`_own`), and name the order `as_dict` keeps (`KEYS`)."""
    run_id: int
    scored: int = 0
    skipped: Counter = field(default_factory=Counter)  # by reason: already_scored, not_dutch, invalid_json, ...
    seconds: float = 0.0

    KEYS: ClassVar[tuple[str, ...]] = ("run_id", "scored", "skipped", "seconds")

    def as_dict(self) -> dict:
        values = {"run_id": self.run_id, "scored": self.scored, "skipped": dict(self.skipped),
                  "seconds": round(self.seconds, 1), **self._own()}
        return {key: values[key] for key in self.KEYS if key in values}

    def _own(self) -> dict:
        return {}


@dataclass
class ArchiveSummary(RunSummary):
    errors: int = 0  # records the scorer or the store failed on (also counted in skipped["record_error"])
    sentences_total: int = 0
    sentences_to_model: int = 0
    #: of those, the ones the encoder computed (the rest were met before in the run); None where not counted (Ray)
    sentences_encoded: int | None = None
    stage_seconds: Counter = field(default_factory=Counter)  # read, resume_check, language, ..., model, write
    encodings: dict = field(default_factory=dict)  # path -> encoding, for CSV/TSV files that were not UTF-8

    KEYS: ClassVar[tuple[str, ...]] = ("run_id", "scored", "skipped", "errors", "seconds", "docs_per_second",
                                       "sentences_total", "sentences_to_model", "sentences_encoded",
                                       "stage_seconds", "encodings")

    @property
    def docs_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds else 0.0

    def _own(self) -> dict:
        out = {"errors": self.errors, "docs_per_second": round(self.docs_per_second, 2),
               "sentences_total": self.sentences_total, "sentences_to_model": self.sentences_to_model,
               "stage_seconds": {k: round(v, 2) for k, v in sorted(self.stage_seconds.items())}}
        if self.sentences_encoded is not None:
            out["sentences_encoded"] = self.sentences_encoded
        if self.encodings:
            out["encodings"] = dict(self.encodings)
        return out


Progress = Callable[[ArchiveSummary, int], None]  # (summary so far, records read so far)


@dataclass
class ScoredRecords:
    """What scoring one batch of ingest records produced: plain rows for the store, so that a Ray worker can
    return it to the process that writes. Documents name their source (`source_name`); the writer maps names to
    ids."""
    documents: list[dict] = field(default_factory=list)
    document_scores: list[dict] = field(default_factory=list)
    segment_scores: list[dict] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # already_scored, duplicate_in_batch
    errors: int = 0  # records rejected as record_error
    sentences_total: int = 0
    sentences_to_model: int = 0
    stage_seconds: Counter = field(default_factory=Counter)
    #: document id -> (path, position) of its record: where a rejection found at write time points.
    origins: dict = field(default_factory=dict)

    def merge(self, other: "ScoredRecords") -> None:
        self.documents += other.documents
        self.document_scores += other.document_scores
        self.segment_scores += other.segment_scores
        self.rejections += other.rejections
        self.skipped.update(other.skipped)
        self.errors += other.errors
        self.sentences_total += other.sentences_total
        self.sentences_to_model += other.sentences_to_model
        self.stage_seconds.update(other.stage_seconds)
        self.origins.update(other.origins)


def failed(record: IngestRecord, error: BaseException) -> Rejection:
    """The rejection of a record the scorer or the store failed on (the error's type and message)."""
    return Rejection(record.path, record.position, record.id, "record_error",
                     f"scoring or storing this record failed: {type(error).__name__}: {error}"[:2000],
                     record.text[:300])


def conflict(record_id: str, path: str, position: int, raw: str) -> Rejection:
    return Rejection(path, position, record_id, "id_conflict",
                     f"document id {record_id!r} is stored already with a different text (another archive, or an "
                     "earlier version of this one, uses the same id); map this archive's ids to unique ones "
                     "(--map id=...) or leave them out (a content id is made)", raw)


def split_items(items: Iterable[IngestRecord | Rejection]) -> tuple[list[IngestRecord], list[Rejection]]:
    """Reader output -> (records to score, rejections). Characters no store can hold (NUL, lone surrogates) were
    refused by the reader already, in every field."""
    records, rejections = [], []
    for item in items:
        (rejections if isinstance(item, Rejection) else records).append(item)
    return records, rejections


StoredLookup = Callable[[list[str]], "dict[str, StoredDocument]"]


def score_records(model, records: list[IngestRecord], prefilter: RelevancePrefilter | None = None,
                  stored: StoredLookup | None = None, source: str | None = None,
                  genre: str = "news", language_check: LanguageCheckMode = "strict") -> ScoredRecords:
    """The per-batch scoring function, plain and engine-free: the local loop and Ray workers both run it.
    `stored(ids)` tells, for the ids the store holds, their text hash and whether this model version scored them
    (ScoreWriter.stored_documents): the same id and text scored already is skipped (resuming), the same id with
    another text is rejected (`id_conflict`). `source` names the archive for records without a source of their
    own. A batch the scorer fails on is scored again record by record; a record that fails alone is rejected
    (`record_error`), so one record never stops a run."""
    out = ScoredRecords()
    unique = _unique(records, out)
    started = time.perf_counter()
    found = stored([r.id for r in unique]) if stored is not None and unique else {}
    out.stage_seconds["resume_check"] += time.perf_counter() - started
    todo = []
    for record in unique:
        known = found.get(record.id)
        if known is None:
            todo.append(record)
        elif known.text_hash == text_hash(record.text) or (record.id_generated and known.scored):
            # A generated id is a hash of the normalised text: another spelling of the same article.
            if known.scored:
                out.skipped["already_scored"] += 1
            else:
                todo.append(record)  # stored by another model version: scored now by this one
        else:
            out.rejections.append(conflict(record.id, record.path, record.position, record.text[:300]))
    if not todo:
        return out
    try:
        out.merge(_score(model, todo, prefilter, source, genre, language_check))
    except STORE_UNAVAILABLE:
        raise
    except Exception:  # noqa: BLE001 - find the record that fails, keep the others
        for record in todo:
            try:
                out.merge(_score(model, [record], prefilter, source, genre, language_check))
            except STORE_UNAVAILABLE:
                raise
            except Exception as error:  # noqa: BLE001 - this record alone fails: rejected with the reason
                out.rejections.append(failed(record, error))
                out.errors += 1
    return out


def _unique(records: list[IngestRecord], out: ScoredRecords) -> list[IngestRecord]:
    """The first record of each id in the batch. A later record with the same id is the same document when its
    text is the same (or its id was generated from the text): skipped as duplicate_in_batch; with another text
    it is rejected (`id_conflict`)."""
    first: dict[str, IngestRecord] = {}
    for record in records:
        seen = first.get(record.id)
        if seen is None:
            first[record.id] = record
        elif record.id_generated or record.text == seen.text:
            out.skipped["duplicate_in_batch"] += 1
        else:
            out.rejections.append(conflict(record.id, record.path, record.position, record.text[:300]))
    return list(first.values())


def _score(model, todo: list[IngestRecord], prefilter: RelevancePrefilter | None, source: str | None,
           genre: str, language_check: LanguageCheckMode = "strict") -> ScoredRecords:
    out = ScoredRecords()
    scored = score_documents(model, [Document(r, r.text) for r in todo], prefilter=prefilter,
                             language_check=language_check)
    out.sentences_total, out.sentences_to_model = scored.sentences_total, scored.sentences_to_model
    out.stage_seconds.update(scored.stage_seconds)
    for result in scored.results:
        record = result.key
        if isinstance(result, Refusal):
            out.rejections.append(result.as_rejection(record.path, record.position, record.id, record.text[:300]))
            continue
        language_fields = {k: v for k, v in result.language.fields().items() if k != "language"}
        out.documents.append({"id": record.id, "source_name": record.source or source or Path(record.path).stem,
                              "title": record.title, "text": record.text, "url": record.url,
                              "published": record.published, "genre": genre, "language": "nl",
                              "meta": _document_meta(record.meta, language_fields)})
        out.document_scores.append(document_score_row(record.id, result.document))
        out.segment_scores.extend(segment_score_row(record.id, s) for s in result.sentences)
        out.origins[record.id] = (record.path, record.position, record.text[:300])
    return out


def _document_meta(meta: dict | None, language_fields: dict) -> dict | None:
    """The record's own meta, plus the language flag when the language was uncertain (scored all the same)."""
    if language_fields.get("language_uncertain"):
        return {**(meta or {}), **language_fields}
    return meta or None


class StoreSink:
    """Writes ScoredRecords and rejections into one run of the store and keeps the run's summary."""

    def __init__(self, writer: ScoreWriter, summary: ArchiveSummary, genre: str = "news"):
        self.writer, self.summary, self.genre = writer, summary, genre
        self._sources: dict[str, int] = {}

    def reject(self, rejections: Iterable[Rejection]) -> None:
        for rejection in rejections:
            self.writer.add_rejected(self.summary.run_id, **rejection.as_store_row())
            self.summary.skipped[rejection.reason_code] += 1

    def write(self, scored: ScoredRecords) -> None:
        started = time.perf_counter()
        self.reject(scored.rejections)
        documents, refused = [], 0
        for document in scored.documents:
            try:
                source_id = self._source_id(document["source_name"])
            except STORE_UNAVAILABLE:
                raise
            except Exception as error:  # noqa: BLE001 - a source name the store cannot take: this record only
                self._refuse(scored, document["id"], error)
                refused += 1
                continue
            documents.append({k: v for k, v in document.items() if k != "source_name"} | {"source_id": source_id})
        inserted, conflicts, failed = self._write_documents(scored, documents)
        summary = self.summary
        self.reject(conflict(doc_id, *scored.origins[doc_id]) for doc_id in conflicts)
        # Counted from what the store took: a document another batch of this run scored at the same time (the
        # same id twice in an archive, on Ray) is stored once and counted once.
        summary.scored += inserted
        summary.errors += scored.errors
        summary.skipped.update(scored.skipped)
        summary.skipped["already_scored"] += len(documents) - inserted - len(conflicts) - failed - refused
        summary.sentences_total += scored.sentences_total
        summary.sentences_to_model += scored.sentences_to_model
        summary.stage_seconds.update(scored.stage_seconds)
        summary.stage_seconds["write"] += time.perf_counter() - started

    def _source_id(self, name: str) -> int:
        if name not in self._sources:
            self._sources[name] = self.writer.ensure_source(name, self.genre)
        return self._sources[name]

    def _refuse(self, scored: ScoredRecords, doc_id: str, error: Exception) -> None:
        """Reject a scored document the store would not take (`record_error`, with the store's reason)."""
        path, position, raw = scored.origins[doc_id]
        self.reject([Rejection(path, position, doc_id, "record_error",
                               f"the store refused this record: {type(error).__name__}: {error}"[:2000], raw)])
        self.summary.errors += 1

    def _write_documents(self, scored: ScoredRecords, documents: list[dict]) -> tuple[int, list[str], int]:
        """Write the batch in one transaction; if the store refuses it (a value it cannot take), write it one
        document at a time and reject the documents it refuses alone (`record_error`). Returns (document scores
        inserted, ids in conflict, documents refused)."""
        if not documents:
            return 0, [], 0
        try:
            counts = self.writer.write_batch(self.summary.run_id, documents, scored.document_scores,
                                             scored.segment_scores)
            return counts.doc_scores, list(counts.conflicts), 0
        except STORE_UNAVAILABLE:
            raise
        except Exception:  # noqa: BLE001 - find the document the store refuses, keep the others
            pass
        inserted, conflicts, failed = 0, [], 0
        for document in documents:
            doc_id = document["id"]
            try:
                counts = self.writer.write_batch(
                    self.summary.run_id, [document], [s for s in scored.document_scores if s["document_id"] == doc_id],
                    [s for s in scored.segment_scores if s["document_id"] == doc_id])
            except STORE_UNAVAILABLE:
                raise
            except Exception as error:  # noqa: BLE001 - this document alone is refused: rejected with the reason
                self._refuse(scored, doc_id, error)
                failed += 1
                continue
            inserted += counts.doc_scores
            conflicts += counts.conflicts
        return inserted, conflicts, failed


def score_archive(paths: Iterable[str], model, db_url: str | None = None, source: str | None = None,
                  mapping: FieldMapping | None = None, batch_size: int = DEFAULT_BATCH,
                  prefilter: RelevancePrefilter | None = None, genre: str = "news",
                  progress: Progress | None = None, command: str | None = None,
                  on_run: Callable[[int], None] | None = None, roots: Iterable[str | Path] | None = None,
                  language_check: LanguageCheckMode = "strict") -> ArchiveSummary:
    """Score every record of `paths` with `model` (a FramingModel) into the store at `db_url` (default: the
    embedded SQLite file). `source` names the archive when records carry no source field of their own. `roots`
    (jobs): only regular files inside these folders are read; any other file found by expanding a folder or
    glob (a symlink out of the roots, a device, a FIFO) is rejected (`path_not_allowed`) and not opened."""
    files = expand_paths(list(paths))
    engine = make_engine(db_url)
    upgrade(engine)
    writer = ScoreWriter(engine)
    meta = model.describe()
    run_id = start_run(writer, meta, files, source, batch_size, prefilter, command, engine_name="local")
    if on_run:
        on_run(run_id)
    summary = ArchiveSummary(run_id)
    sink = StoreSink(writer, summary, genre)

    def stored(ids: list[str]) -> dict[str, StoredDocument]:
        return writer.stored_documents(ids, meta["model"], meta["model_version"])

    run_model = remembering(model)
    computed_before, summary.sentences_encoded = run_model.encoder.computed, 0
    started, read = time.perf_counter(), 0
    with recorded_run(writer, summary, engine, started):
        items = read_records(files, mapping, roots=roots, encodings=summary.encodings)
        while True:
            reading = time.perf_counter()
            chunk = list(islice(items, batch_size))
            summary.stage_seconds["read"] += time.perf_counter() - reading
            if not chunk:
                break
            read += len(chunk)
            records, rejections = split_items(chunk)
            sink.reject(rejections)
            sink.write(score_records(run_model, records, prefilter, stored, source, genre, language_check))
            summary.seconds = time.perf_counter() - started
            summary.sentences_encoded = run_model.encoder.computed - computed_before
            if progress:
                progress(summary, read)
    return summary


def remembering(model):
    """The model with an encoder that remembers the most recent `RUN_MEMORY` embeddings of this run; a model whose
    encoder has a cache of its own keeps it."""
    if getattr(model.encoder, "cache", None) is not None:
        return model
    run_model = copy.copy(model)
    run_model.encoder = model.encoder.with_cache(EmbeddingCache(max_memory=RUN_MEMORY))
    return run_model
