"""`discourse score-archive`: stream an archive through the scorer into the store, so that no work is lost.

    read (discourse.ingest) → skip what this model version already scored → score a batch (discourse.archive)
    → write the batch in one transaction (discourse.store)

Resumable by construction: a batch is written whole or not at all, and a run started again with the same command
first asks the store which documents this model version has scored, so a run killed at any moment finishes with
every document scored exactly once. Bad records go to the rejected-records table with a reason; the run goes on.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable

from .archive import score_articles
from .codebook import STANCES
from .ingest import FieldMapping, IngestRecord, Rejection, expand_paths, read_records
from .language import LanguageCheckMode
from .prefilter import RelevancePrefilter
from .store import ScoreWriter, make_engine, upgrade

DEFAULT_BATCH = 64  # articles per transaction: small enough to lose little on a kill, large enough to batch well


@dataclass
class RunSummary:
    run_id: int
    scored: int = 0
    skipped: Counter = field(default_factory=Counter)  # by reason: already_scored, not_dutch, invalid_json, ...
    errors: int = 0
    seconds: float = 0.0
    sentences_total: int = 0
    sentences_to_model: int = 0
    stage_seconds: Counter = field(default_factory=Counter)  # read, resume_check, language, ..., model, write

    @property
    def docs_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "scored": self.scored, "skipped": dict(self.skipped), "errors": self.errors,
                "seconds": round(self.seconds, 1), "docs_per_second": round(self.docs_per_second, 2),
                "sentences_total": self.sentences_total, "sentences_to_model": self.sentences_to_model,
                "stage_seconds": {k: round(v, 2) for k, v in sorted(self.stage_seconds.items())}}


Progress = Callable[[RunSummary, int], None]  # (summary so far, records read so far)


@dataclass
class ScoredRecords:
    """What scoring one batch of ingest records produced: plain rows for the store, so that a Ray worker can
    return it to the process that writes. Documents name their source (`source_name`); the writer maps names to
    ids."""
    documents: list[dict] = field(default_factory=list)
    document_scores: list[dict] = field(default_factory=list)
    segment_scores: list[dict] = field(default_factory=list)
    rejections: list[dict] = field(default_factory=list)  # keyword arguments of ScoreWriter.add_rejected
    skipped: Counter = field(default_factory=Counter)  # already_scored, duplicate_in_batch
    sentences_total: int = 0
    sentences_to_model: int = 0
    stage_seconds: Counter = field(default_factory=Counter)


def rejection_row(code: str, reason: str, path: str, position: int, record_id: str | None, raw: str) -> dict:
    return {"reason_code": code, "reason": reason, "source_path": path, "line_or_row": position,
            "record_id": record_id, "raw": raw}


def split_items(items: Iterable[IngestRecord | Rejection]) -> tuple[list[IngestRecord], list[dict]]:
    """Reader output -> (records to score, rejection rows). NUL characters are refused here on every backend,
    because PostgreSQL cannot store them."""
    records, rejections = [], []
    for item in items:
        if isinstance(item, Rejection):
            rejections.append(rejection_row(item.reason_code, item.reason, item.path, item.position,
                                            item.record_id, item.excerpt))
        elif "\x00" in item.text:
            rejections.append(rejection_row("nul_character", "text contains a NUL character", item.path,
                                            item.position, item.id, item.text[:300]))
        else:
            records.append(item)
    return records, rejections


def score_records(model, records: list[IngestRecord], prefilter: RelevancePrefilter | None = None,
                  scored_ids: Callable[[list[str]], set[str]] | None = None, source: str | None = None,
                  genre: str = "news", language_check: LanguageCheckMode = "strict") -> ScoredRecords:
    """The per-batch scoring function, plain and engine-free: the local loop and Ray workers both run it.
    `scored_ids(ids)` names the ids this model version has scored already (they are skipped: resuming);
    `source` names the archive for records that carry no source of their own."""
    out = ScoredRecords()
    unique = list({r.id: r for r in records}.values())  # the same id twice in one batch is scored once
    out.skipped["duplicate_in_batch"] += len(records) - len(unique)
    started = time.perf_counter()
    done = scored_ids([r.id for r in unique]) if scored_ids is not None and unique else set()
    out.stage_seconds["resume_check"] += time.perf_counter() - started
    todo = [r for r in unique if r.id not in done]
    out.skipped["already_scored"] += len(unique) - len(todo)
    if not todo:
        return out
    batch = score_articles(model, [(r.id, r.text) for r in todo], prefilter, language_check)
    out.sentences_total, out.sentences_to_model = batch.sentences_total, batch.sentences_to_model
    out.stage_seconds.update(batch.stage_seconds)
    by_id = {r.id: r for r in todo}
    for rejection in batch.rejections:
        record = by_id[rejection.record_id]
        out.rejections.append(rejection_row(rejection.reason_code, rejection.reason, record.path, record.position,
                                            record.id, record.text[:300]))
    for article in batch.articles:
        record = by_id[article.record_id]
        out.documents.append({"id": record.id, "source_name": record.source or source or Path(record.path).stem,
                              "title": record.title, "text": record.text, "url": record.url,
                              "published": record.published, "genre": genre, "language": "nl",
                              "meta": _document_meta(record.meta, article.language_fields)})
        out.document_scores.append(document_score_row(article.record_id, article.document))
        out.segment_scores.extend(segment_score_row(article.record_id, s) for s in article.sentences)
    return out


def _document_meta(meta: dict | None, language_fields: dict) -> dict | None:
    """The record's own meta, plus the language flag when the language was uncertain (scored all the same)."""
    if language_fields.get("language_uncertain"):
        return {**(meta or {}), **language_fields}
    return meta or None


class StoreSink:
    """Writes ScoredRecords and rejection rows into one run of the store and keeps the run's summary."""

    def __init__(self, writer: ScoreWriter, summary: RunSummary, genre: str = "news"):
        self.writer, self.summary, self.genre = writer, summary, genre
        self._sources: dict[str, int] = {}

    def reject(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.writer.add_rejected(self.summary.run_id, **row)
            self.summary.skipped[row["reason_code"]] += 1

    def write(self, scored: ScoredRecords) -> None:
        started = time.perf_counter()
        self.reject(scored.rejections)
        documents = []
        for document in scored.documents:
            name = document["source_name"]
            if name not in self._sources:
                self._sources[name] = self.writer.ensure_source(name, self.genre)
            documents.append({k: v for k, v in document.items() if k != "source_name"}
                             | {"source_id": self._sources[name]})
        inserted = 0
        if documents:
            inserted = self.writer.write_batch(self.summary.run_id, documents, scored.document_scores,
                                               scored.segment_scores).doc_scores
        summary = self.summary
        # Counted from what the store took: a document another batch of this run scored at the same time (the
        # same id twice in an archive, on Ray) is stored once and counted once.
        summary.scored += inserted
        summary.skipped.update(scored.skipped)
        summary.skipped["already_scored"] += len(documents) - inserted
        summary.sentences_total += scored.sentences_total
        summary.sentences_to_model += scored.sentences_to_model
        summary.stage_seconds.update(scored.stage_seconds)
        summary.stage_seconds["write"] += time.perf_counter() - started


def score_archive(paths: Iterable[str], model, db_url: str | None = None, source: str | None = None,
                  mapping: FieldMapping | None = None, batch_size: int = DEFAULT_BATCH,
                  prefilter: RelevancePrefilter | None = None, genre: str = "news",
                  progress: Progress | None = None, command: str | None = None,
                  on_run: Callable[[int], None] | None = None,
                  language_check: LanguageCheckMode = "strict") -> RunSummary:
    """Score every record of `paths` with `model` (a FramingModel) into the store at `db_url` (default: the
    embedded SQLite file). `source` names the archive when records carry no source field of their own."""
    files = expand_paths(list(paths))
    engine = make_engine(db_url)
    upgrade(engine)
    writer = ScoreWriter(engine)
    meta = model.describe()
    run_id = start_run(writer, meta, files, source, batch_size, prefilter, command, engine_name="local")
    if on_run:
        on_run(run_id)
    summary = RunSummary(run_id)
    sink = StoreSink(writer, summary, genre)

    def scored_ids(ids: list[str]) -> set[str]:
        return writer.scored_document_ids(ids, meta["model"], meta["model_version"])

    started, read = time.perf_counter(), 0
    with recorded_run(writer, summary, engine, started):
        items = read_records(files, mapping)
        while True:
            reading = time.perf_counter()
            chunk = list(islice(items, batch_size))
            summary.stage_seconds["read"] += time.perf_counter() - reading
            if not chunk:
                break
            read += len(chunk)
            records, rejections = split_items(chunk)
            sink.reject(rejections)
            sink.write(score_records(model, records, prefilter, scored_ids, source, genre, language_check))
            summary.seconds = time.perf_counter() - started
            if progress:
                progress(summary, read)
    return summary


@contextmanager
def recorded_run(writer: ScoreWriter, summary, engine, started: float):
    """Closes the run whatever happens: state "finished", "interrupted" (Ctrl-C) or "failed" (an exception),
    with the summary's counts (`summary`: anything with run_id, seconds and as_dict()); then disposes of the
    engine. A run killed outright (SIGKILL) stays "running": nothing in the process can record it."""
    state = "failed"
    try:
        yield
        state = "finished"
    except KeyboardInterrupt:
        state = "interrupted"
        raise
    finally:
        summary.seconds = time.perf_counter() - started
        writer.finish_run(summary.run_id, state, summary.as_dict())
        engine.dispose()


def start_run(writer: ScoreWriter, meta: dict, files: list, source: str | None, batch_size: int,
              prefilter: RelevancePrefilter | None, command: str | None, engine_name: str) -> int:
    """Record the run; `meta` is the model's describe() (model, model_version, codebook_version)."""
    return writer.start_run(model=meta["model"], model_version=meta["model_version"],
                            codebook_version=meta["codebook_version"], command=command,
                            parameters={"paths": [str(p) for p in files], "source": source,
                                        "batch_size": batch_size, "prefilter": prefilter is not None,
                                        "engine": engine_name})


def document_score_row(document_id: str, d: dict) -> dict:
    """A document_scores row from a model's document result (FramingModel.aggregate)."""
    return {"document_id": document_id, "label": d["label"],
            **{f"score_{s}": d["scores"][s] for s in STANCES}, "relevance": d["relevance"],
            "n_sentences": d["sentences"]["total"], "n_relevant": d["sentences"]["relevant"],
            "evidence": d["evidence"], "frames": {"frames": d["frames"],
                                                  "stance_given_relevant": d["stance_given_relevant"]}}


def segment_score_row(document_id: str, s: dict) -> dict:
    """A segment_scores row from a sentence's position, offsets, text and prediction (FramingModel.predict)."""
    return {"document_id": document_id, "position": s["position"], "start": s["start"], "end": s["end"],
            "text": s["text"], "label": s["label"], **{f"score_{k}": s["scores"][k] for k in STANCES},
            "relevance": s["relevance"], "frames": {f["frame"]: f["score"] for f in s["frames"]} or None,
            "passed_prefilter": s.get("passed_prefilter", True)}
