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
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .archive import ScoredArticle, score_articles
from .codebook import STANCES
from .ingest import FieldMapping, IngestRecord, Rejection, expand_paths, read_records
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

    @property
    def docs_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "scored": self.scored, "skipped": dict(self.skipped), "errors": self.errors,
                "seconds": round(self.seconds, 1), "docs_per_second": round(self.docs_per_second, 2),
                "sentences_total": self.sentences_total, "sentences_to_model": self.sentences_to_model}


Progress = Callable[[RunSummary, int], None]  # (summary so far, records read so far)


def score_archive(paths: Iterable[str], model, db_url: str | None = None, source: str | None = None,
                  mapping: FieldMapping | None = None, batch_size: int = DEFAULT_BATCH,
                  prefilter: RelevancePrefilter | None = None, genre: str = "news",
                  progress: Progress | None = None, command: str | None = None,
                  on_run: Callable[[int], None] | None = None) -> RunSummary:
    """Score every record of `paths` with `model` (a FramingModel) into the store at `db_url` (default: the
    embedded SQLite file). `source` names the archive when records carry no source field of their own."""
    files = expand_paths(list(paths))
    engine = make_engine(db_url)
    upgrade(engine)
    writer = ScoreWriter(engine)
    meta = model.describe()
    run_id = writer.start_run(model=meta["model"], model_version=meta["model_version"],
                              codebook_version=meta["codebook_version"], command=command,
                              parameters={"paths": [str(p) for p in files], "source": source,
                                          "batch_size": batch_size, "prefilter": prefilter is not None})
    if on_run:
        on_run(run_id)
    summary = RunSummary(run_id)
    sources: dict[str, int] = {}
    started, read = time.perf_counter(), 0
    state = "failed"
    try:
        for items in _chunks(read_records(files, mapping), batch_size):
            read += len(items)
            records = []
            for item in items:
                if isinstance(item, Rejection):
                    _reject(writer, run_id, summary, item.reason_code, item.reason, item.path, item.position,
                            item.record_id, item.excerpt)
                elif "\x00" in item.text:  # PostgreSQL cannot store it; refuse on every backend alike
                    _reject(writer, run_id, summary, "nul_character", "text contains a NUL character", item.path,
                            item.position, item.id, item.text[:300])
                else:
                    records.append(item)
            _score_and_write(writer, run_id, model, prefilter, records, source, genre, sources, summary)
            summary.seconds = time.perf_counter() - started
            if progress:
                progress(summary, read)
        state = "finished"
    except KeyboardInterrupt:
        state = "interrupted"
        raise
    finally:
        summary.seconds = time.perf_counter() - started
        writer.finish_run(run_id, state, summary.as_dict())
        engine.dispose()
    return summary


def _score_and_write(writer: ScoreWriter, run_id: int, model, prefilter, records: list[IngestRecord],
                     source: str | None, genre: str, sources: dict[str, int], summary: RunSummary) -> None:
    meta = model.describe()
    unique = list({r.id: r for r in records}.values())  # the same id twice in one batch is scored once
    summary.skipped["duplicate_in_batch"] += len(records) - len(unique)
    done = writer.scored_document_ids([r.id for r in unique], meta["model"], meta["model_version"])
    todo = [r for r in unique if r.id not in done]
    summary.skipped["already_scored"] += len(unique) - len(todo)
    if not todo:
        return
    batch = score_articles(model, [(r.id, r.text) for r in todo], prefilter)
    summary.sentences_total += batch.sentences_total
    summary.sentences_to_model += batch.sentences_to_model
    by_id = {r.id: r for r in todo}
    for rejection in batch.rejections:
        record = by_id[rejection.record_id]
        _reject(writer, run_id, summary, rejection.reason_code, rejection.reason, record.path, record.position,
                record.id, record.text[:300])
    documents, doc_scores, segment_scores = [], [], []
    for article in batch.articles:
        record = by_id[article.record_id]
        name = record.source or source or Path(record.path).stem
        if name not in sources:
            sources[name] = writer.ensure_source(name, genre)
        documents.append({"id": record.id, "source_id": sources[name], "title": record.title, "text": record.text,
                          "url": record.url, "published": record.published, "genre": genre, "language": "nl",
                          "meta": record.meta or None})
        doc_scores.append(_document_row(article))
        segment_scores.extend(_sentence_rows(article))
    writer.write_batch(run_id, documents, doc_scores, segment_scores)
    summary.scored += len(batch.articles)


def _document_row(article: ScoredArticle) -> dict:
    d = article.document
    return {"document_id": article.record_id, "label": d["label"],
            **{f"score_{s}": d["scores"][s] for s in STANCES}, "relevance": d["relevance"],
            "n_sentences": d["sentences"]["total"], "n_relevant": d["sentences"]["relevant"],
            "evidence": d["evidence"], "frames": {"frames": d["frames"],
                                                  "stance_given_relevant": d["stance_given_relevant"]}}


def _sentence_rows(article: ScoredArticle) -> Iterator[dict]:
    for s in article.sentences:
        yield {"document_id": article.record_id, "position": s["position"], "start": s["start"], "end": s["end"],
               "text": s["text"], "label": s["label"], **{f"score_{k}": s["scores"][k] for k in STANCES},
               "relevance": s["relevance"], "frames": {f["frame"]: f["score"] for f in s["frames"]} or None,
               "passed_prefilter": s["passed_prefilter"]}


def _reject(writer: ScoreWriter, run_id: int, summary: RunSummary, code: str, reason: str, path: str,
            position: int, record_id: str | None, raw: str) -> None:
    writer.add_rejected(run_id, code, reason, source_path=path, line_or_row=position, record_id=record_id, raw=raw)
    summary.skipped[code] += 1


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
