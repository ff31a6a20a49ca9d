"""Batched, idempotent writes for a scoring run.

A run scores an archive in batches and may be interrupted at any point, then resumed, or re-run over the same
input. So every write is INSERT ... ON CONFLICT DO NOTHING on the table's natural key (documents.id; a score's
(document, model, model_version[, position]); a rejection's (input, position, reason)): writing a batch twice
neither duplicates rows nor fails, and the first write wins. Each batch is one transaction, so a crash leaves
whole batches, never a document without its sentences. On SQLite the transaction takes the write lock at BEGIN
(IMMEDIATE), where the busy timeout applies.

A document id names one text: a document whose id is stored already with a different text (another archive
that reuses ids, an edited transcript) is not written, and neither are its scores; write_batch reports it as a
conflict, and the caller rejects it (`id_conflict`) instead of counting it as already scored.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection, Engine, String, Table, insert, outerjoin, select, update

from discourse.text import text_hash
from discourse.store.liveness import is_orphan, process_owner
from discourse.store.schema import (RAW_EXCERPT_CHARS, RUN_STATES, Document, DocumentScore, RejectedRecord, Run,
                                    SegmentScore, Speaker, Source, utcnow)

#: Ids per `IN (...)` query: well under SQLite's and PostgreSQL's bound-parameter limits.
ID_CHUNK = 1000

#: The longest source path a rejection keeps: it is part of the rejection's unique key, and an index entry must
#: stay under PostgreSQL's B-tree limit (about 2,700 bytes).
SOURCE_PATH_CHARS = 600

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class BatchCounts:
    """Rows a write_batch call actually inserted; the rest were already there. `conflicts`: ids of documents
    not written because the id is stored already with a different text (their scores were not written either)."""

    documents: int
    doc_scores: int
    segment_scores: int
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredDocument:
    """What the store holds for a document id: the hash of its text, and whether the asked-for model version
    has scored it."""

    text_hash: str
    scored: bool


@dataclass(frozen=True)
class _RunInfo:
    model: str
    model_version: str
    codebook_version: str | None


def dialect_insert(engine: Engine | Connection):
    """The dialect's own insert(), which has on_conflict_do_nothing (plain sqlalchemy.insert has not)."""
    name = engine.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        raise NotImplementedError(f"discourse.store supports SQLite and PostgreSQL, not {name}")
    return dialect_insert


def _columns(table: Table) -> set[str]:
    return {column.name for column in table.columns}


def _rows(table: Table, records: Sequence[Mapping[str, Any]], fill: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Records as complete rows: every column present (an executemany needs the same keys in every row),
    missing or None values taken from `fill`. Unknown keys are an error, so a typo never drops a field."""
    allowed = _columns(table) - {"id"} if table.c.id.autoincrement is True else _columns(table)
    rows = []
    for record in records:
        unknown = set(record) - allowed
        if unknown:
            raise ValueError(f"{table.name}: unknown field(s) {sorted(unknown)}; expected some of {sorted(allowed)}")
        row = {name: record.get(name) for name in allowed}
        for name, value in fill.items():
            if row.get(name) is None:
                row[name] = value
        rows.append(row)
    return rows


def _clean_text(value: str | bytes | None, limit: int | None = None) -> str | None:
    """Text every backend accepts: bytes decoded with replacement; NUL (PostgreSQL text cannot hold it) and lone
    surrogates (no UTF-8 encoding) replaced by U+FFFD."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    value = _UNSTORABLE.sub("\ufffd", value)
    return value[:limit] if limit is not None else value


def _check_storable(kind: str, record: Mapping[str, Any], table: Table) -> None:
    """Refuse, on every backend, what PostgreSQL would refuse in a text column: NUL, lone surrogates, and a value
    longer than its column (SQLite does not enforce VARCHAR lengths), so SQLite stores never hold what a
    PostgreSQL store cannot, and a record fails alone with its field named, before the batch's transaction.
    Callers reject such records (add_rejected) instead."""
    for column in table.columns:
        value = record.get(column.name)
        if not isinstance(value, str) or not isinstance(column.type, String):
            continue
        what = None
        if _UNSTORABLE.search(value):
            what = "contains a NUL character" if "\x00" in value else "contains a lone surrogate"
        elif column.type.length is not None and len(value) > column.type.length:
            what = f"has {len(value):,} characters; the store keeps at most {column.type.length}"
        if what:
            name = record.get("id") or record.get("document_id") or record.get("name")
            raise ValueError(f"{kind} {str(name)[:80]!r}: field {column.name!r} {what}")


def _document_rows(documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Checked document records with their text hash (and, without an id, the hash as id)."""
    rows = []
    for record in documents:
        text = record.get("text")
        if not isinstance(text, str) or not text:
            raise ValueError(f"document {record.get('id')!r}: text must be a non-empty string")
        _check_storable("document", record, Document.__table__)
        digest = record.get("text_hash") or text_hash(text)
        rows.append({**record, "id": record.get("id") or digest, "text_hash": digest})
    return rows


class ScoreWriter:
    """Writes one store's runs, documents, scores and rejected records. Thread-compatible, not thread-safe:
    give each worker thread its own writer (engines and their pools are safe to share)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._insert = dialect_insert(engine)
        # Writers take SQLite's write lock at BEGIN (see engine.py); PostgreSQL ignores the option.
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._runs: dict[int, _RunInfo] = {}

    # -- sources and runs -------------------------------------------------------------------------------------

    def ensure_source(self, name: str, kind: str = "news", conn: Connection | None = None) -> int:
        """The id of source `name`, created with `kind` if new (an existing source keeps its kind). In the caller's
        transaction when given `conn`, else in one of its own."""
        table = Source.__table__
        _check_storable("source", {"name": name, "kind": kind}, table)
        with self._transaction(conn) as conn:
            conn.execute(self._insert(table).on_conflict_do_nothing(index_elements=["name"]),
                         {"name": name, "kind": kind, "created_at": utcnow()})
            return conn.execute(select(table.c.id).where(table.c.name == name)).scalar_one()

    def start_run(self, *, model: str, model_version: str, codebook_version: str | None = None,
                  command: str | None = None, parameters: Mapping[str, Any] | None = None,
                  owner: str | None = None) -> int:
        """Record a new run in state "running", owned by this process (`owner`, default process_owner()), and
        first mark "interrupted" the runs whose process died (interrupt_orphaned_runs). Returns the run's id."""
        self.interrupt_orphaned_runs()
        table = Run.__table__
        now = utcnow()
        with self._write_engine.begin() as conn:
            run_id = conn.execute(
                insert(table).returning(table.c.id),
                {"command": command, "parameters": dict(parameters) if parameters is not None else None,
                 "model": model, "model_version": model_version, "codebook_version": codebook_version,
                 "state": "running", "started_at": now, "counts": None, "owner": owner or process_owner(),
                 "heartbeat_at": now}).scalar_one()
        self._runs[run_id] = _RunInfo(model, model_version, codebook_version)
        return run_id

    def heartbeat_run(self, run_id: int) -> None:
        """Say that the process running `run_id` is alive (liveness.Heartbeat calls it)."""
        table = Run.__table__
        with self._write_engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == run_id, table.c.state == "running")
                         .values(heartbeat_at=utcnow()))

    def interrupt_orphaned_runs(self, stale_after: float | None = None) -> list[int]:
        """Mark "interrupted" every run left "running" by a process that is gone (liveness.is_orphan); returns
        their ids. Each update repeats the check in its WHERE clause (same owner, same last heartbeat), so a run
        whose owner beat meanwhile is left alone."""
        table = Run.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.owner, table.c.heartbeat_at)
                                .where(table.c.state == "running")).all()
        orphans = [row for row in rows if is_orphan(row.owner, row.heartbeat_at, stale_after)]
        done = []
        for row in orphans:
            with self._write_engine.begin() as conn:
                same = [table.c.heartbeat_at.is_(None) if row.heartbeat_at is None
                        else table.c.heartbeat_at == row.heartbeat_at]
                owner = table.c.owner.is_(None) if row.owner is None else table.c.owner == row.owner
                result = conn.execute(update(table).where(table.c.id == row.id, table.c.state == "running", owner,
                                                          *same)
                                      .values(state="interrupted", finished_at=utcnow()))
                if result.rowcount == 1:
                    done.append(row.id)
        return done

    def finish_run(self, run_id: int, state: str = "finished", counts: Mapping[str, Any] | None = None) -> None:
        """Close a run: its final state ("finished", "failed", "interrupted"), end time and counts, e.g.
        {"scored": 950, "skipped": {"already_scored": 40, "not_dutch": 10}, "errors": 0}."""
        if state not in RUN_STATES or state == "running":
            raise ValueError(f"state={state!r}: expected one of finished, failed, interrupted")
        table = Run.__table__
        with self._write_engine.begin() as conn:
            result = conn.execute(update(table).where(table.c.id == run_id).values(
                state=state, finished_at=utcnow(), counts=dict(counts) if counts is not None else None))
            if result.rowcount != 1:
                raise KeyError(f"no run {run_id}")

    def _run_info(self, conn: Connection, run_id: int) -> _RunInfo:
        if run_id not in self._runs:
            table = Run.__table__
            row = conn.execute(select(table.c.model, table.c.model_version, table.c.codebook_version)
                               .where(table.c.id == run_id)).one_or_none()
            if row is None:
                raise KeyError(f"no run {run_id}")
            self._runs[run_id] = _RunInfo(*row)
        return self._runs[run_id]

    # -- batches ----------------------------------------------------------------------------------------------

    def write_batch(self, run_id: int, documents: Sequence[Mapping[str, Any]],
                    doc_scores: Sequence[Mapping[str, Any]] = (),
                    segment_scores: Sequence[Mapping[str, Any]] = (),
                    speakers: Sequence[Mapping[str, Any]] = ()) -> BatchCounts:
        """Insert documents, their scores and their sentence scores in one transaction; rows that exist already
        are left as they are. Dicts use the column names of schema.py. Filled in when missing: a document's
        text_hash (and its id: the hash), a score's run_id, model, model_version and codebook_version (the run's),
        timestamps. A score may refer to a document written by an earlier batch. `speakers` (interviews):
        document_id, label, role, attributes."""
        now = utcnow()
        document_rows = _document_rows(documents)
        for kind, rows, table in (("score", doc_scores, DocumentScore.__table__),
                                  ("segment", segment_scores, SegmentScore.__table__),
                                  ("speaker", speakers, Speaker.__table__)):
            for record in rows:
                _check_storable(kind, record, table)
        with self._write_engine.begin() as conn:
            run = self._run_info(conn, run_id)
            score_fill = {"run_id": run_id, "model": run.model, "model_version": run.model_version}
            inserted, conflicts = self._insert_documents(conn, document_rows, now)
            if conflicts:
                doc_scores = [r for r in doc_scores if r["document_id"] not in conflicts]
                segment_scores = [r for r in segment_scores if r["document_id"] not in conflicts]
                speakers = [r for r in speakers if r["document_id"] not in conflicts]
            n_documents = len(inserted)
            n_doc_scores = self._insert_ignore(conn, DocumentScore.__table__,
                                               ["document_id", "model", "model_version"], _rows(
                DocumentScore.__table__, doc_scores,
                {**score_fill, "codebook_version": run.codebook_version, "scored_at": now}))
            n_segments = self._insert_ignore(conn, SegmentScore.__table__,
                                             ["document_id", "model", "model_version", "position"], _rows(
                SegmentScore.__table__, segment_scores, {**score_fill, "passed_prefilter": True}))
            self._insert_ignore(conn, Speaker.__table__, ["document_id", "label"],
                                _rows(Speaker.__table__, speakers, {}))
        return BatchCounts(n_documents, n_doc_scores, n_segments, tuple(sorted(conflicts)))

    def write_documents(self, documents: Sequence[Mapping[str, Any]], speakers: Sequence[Mapping[str, Any]] = (),
                        conn: Connection | None = None) -> BatchCounts:
        """Documents (and interview speakers) without scores, e.g. from a QDA project, as write_batch stores them:
        a document stored already is left as it is, one stored with another text is a conflict (its speakers are
        not written). In the caller's transaction when given `conn`."""
        document_rows = _document_rows(documents)
        for record in speakers:
            _check_storable("speaker", record, Speaker.__table__)
        with self._transaction(conn) as conn:
            inserted, conflicts = self._insert_documents(conn, document_rows, utcnow())
            self._insert_ignore(conn, Speaker.__table__, ["document_id", "label"], _rows(
                Speaker.__table__, [r for r in speakers if r["document_id"] not in conflicts], {}))
        return BatchCounts(len(inserted), 0, 0, tuple(sorted(conflicts)))

    @contextmanager
    def _transaction(self, conn: Connection | None):
        if conn is not None:
            yield conn
            return
        with self._write_engine.begin() as own:
            yield own

    def _insert_documents(self, conn: Connection, document_rows: list[dict[str, Any]],
                          now) -> tuple[set[str], set[str]]:
        """Insert the documents not stored yet; the ids inserted, and those stored already with another text."""
        inserted = self._insert_ignore_keys(conn, Document.__table__, ["id"], _rows(
            Document.__table__, document_rows, {"created_at": now}))
        return inserted, self._conflicts(conn, [r for r in document_rows if r["id"] not in inserted])

    def _conflicts(self, conn: Connection, existing: list[dict[str, Any]]) -> set[str]:
        """Ids of `existing` (rows the insert skipped: their id was there) stored with another text. Read after
        the insert, inside its transaction: a row another writer committed meanwhile is seen too."""
        if not existing:
            return set()
        table = Document.__table__
        wanted = {row["id"]: row["text_hash"] for row in existing}
        stored: dict[str, str] = {}
        ids = list(wanted)
        for start in range(0, len(ids), ID_CHUNK):
            query = select(table.c.id, table.c.text_hash).where(table.c.id.in_(ids[start:start + ID_CHUNK]))
            stored.update((doc_id, digest) for doc_id, digest in conn.execute(query))
        return {doc_id for doc_id, digest in wanted.items() if stored.get(doc_id, digest) != digest}

    def _insert_ignore(self, conn: Connection, table: Table, key: list[str], rows: list[dict[str, Any]]) -> int:
        return len(self._insert_ignore_keys(conn, table, key, rows, as_list=True))

    def _insert_ignore_keys(self, conn: Connection, table: Table, key: list[str], rows: list[dict[str, Any]],
                            as_list: bool = False):
        """Insert `rows`, skipping those whose `key` exists; the first key column of each row inserted."""
        if not rows:
            return [] if as_list else set()
        # RETURNING names what was inserted: skipped rows return nothing. (An executemany's rowcount is not
        # reliable across drivers; with RETURNING, SQLAlchemy batches the rows into multi-row VALUES statements.)
        statement = self._insert(table).on_conflict_do_nothing(index_elements=key).returning(table.c[key[0]])
        values = conn.execute(statement, rows).scalars().all()
        return values if as_list else set(values)

    def add_rejected(self, run_id: int | None, reason_code: str, reason: str, *, source_path: str | None = None,
                     line_or_row: int | None = None, record_id: str | None = None,
                     raw: str | bytes | None = None) -> int | None:
        """Record an input record the run could not score: where it was (file, 1-based line or row; 0 for a
        whole file), its id if it had one, a short code ("invalid_json", "not_dutch", ... see
        schema.REJECT_REASONS), a message for people, and the first 500 characters of the raw record. Returns
        the new row's id, or None when this (file, position, reason) was recorded already (a rerun)."""
        table = RejectedRecord.__table__
        statement = (self._insert(table).on_conflict_do_nothing(
            index_elements=["source_path", "line_or_row", "reason_code"]).returning(table.c.id))
        with self._write_engine.begin() as conn:
            return conn.execute(statement, {
                "run_id": run_id, "source_path": _clean_text(source_path or "", SOURCE_PATH_CHARS),
                "line_or_row": line_or_row or 0, "record_id": _clean_text(record_id, 255),
                "reason_code": reason_code, "reason": _clean_text(reason),
                "raw_excerpt": _clean_text(raw, RAW_EXCERPT_CHARS), "created_at": utcnow()}).scalar_one_or_none()

    # -- resuming ---------------------------------------------------------------------------------------------

    def stored_documents(self, ids: Iterable[str], model: str, model_version: str) -> dict[str, StoredDocument]:
        """For those of `ids` that are stored: their text hash, and whether (model, model_version) scored them.
        A resumed run skips a scored id with the same text, and rejects one with another text (id_conflict)."""
        documents, scores = Document.__table__, DocumentScore.__table__
        joined = outerjoin(documents, scores, (scores.c.document_id == documents.c.id) & (scores.c.model == model)
                           & (scores.c.model_version == model_version))
        wanted = list(dict.fromkeys(ids))
        found: dict[str, StoredDocument] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), ID_CHUNK):
                query = (select(documents.c.id, documents.c.text_hash, scores.c.id.is_not(None)).select_from(joined)
                         .where(documents.c.id.in_(wanted[start:start + ID_CHUNK])))
                found.update({doc_id: StoredDocument(digest, bool(scored))
                              for doc_id, digest, scored in conn.execute(query)})
        return found

    def scored_document_ids(self, ids: Iterable[str], model: str, model_version: str) -> set[str]:
        """Those of `ids` that already have a document score for (model, model_version): a resumed run skips
        them. Served by the unique index on (document_id, model, model_version)."""
        table = DocumentScore.__table__
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), ID_CHUNK):
                chunk = wanted[start:start + ID_CHUNK]
                found.update(conn.execute(select(table.c.document_id).where(
                    table.c.document_id.in_(chunk), table.c.model == model,
                    table.c.model_version == model_version)).scalars())
        return found
