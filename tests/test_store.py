"""discourse.store on real databases: every test runs on SQLite and on PostgreSQL (the `store_url` fixture in
conftest.py; the PostgreSQL cases skip unless DISCOURSE_TEST_POSTGRES_URL is set, which .ci/run does)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from discourse.store import ScoreWriter, current_revision, make_engine, session_factory, upgrade
from discourse.store.engine import default_database_url
from discourse.store.migrate import head_revision
from discourse.store.queries import latest_model_version
from discourse.store.schema import Base, Document, DocumentScore, RejectedRecord, Run, SegmentScore

MODEL = "framing-e5-small"


@pytest.fixture
def engine(store_url):
    engine = make_engine(store_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def writer(engine):
    return ScoreWriter(engine)


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def doc(doc_id: str, source_id: int, published: dt.date | None = None, text_: str | None = None) -> dict:
    return {"id": doc_id, "source_id": source_id, "title": f"titel {doc_id}",
            "text": text_ or f"Tekst van {doc_id}. Moeders voelen zich onder druk gezet.",
            "url": f"https://example.nl/{doc_id}", "published": published, "genre": "news", "language": "nl",
            "meta": {"section": "binnenland"}}


def score(doc_id: str, label: str, pressuring: float = 0.1) -> dict:
    scores = {"supportive": 0.1, "pressuring": pressuring, "neutral": 0.1, label: 0.8}
    return {"document_id": doc_id, "label": label, "score_supportive": scores["supportive"],
            "score_pressuring": scores["pressuring"], "score_neutral": scores["neutral"], "relevance": 0.9,
            "n_sentences": 2, "n_relevant": 1, "evidence": [{"position": 1, "text": "onder druk"}],
            "frames": {"guilt": 0.7}}


def segments(doc_id: str) -> list[dict]:
    return [{"document_id": doc_id, "position": i, "start": i * 20, "end": i * 20 + 19, "text": f"zin {i}",
             "label": "neutral" if i == 0 else "pressuring", "score_supportive": 0.1, "score_pressuring": 0.5,
             "score_neutral": 0.4, "relevance": 0.3 + i, "frames": {}, "passed_prefilter": i > 0}
            for i in range(2)]


def test_migrations_create_exactly_the_models(engine):
    assert current_revision(engine) == head_revision() == "0005"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    names = set(inspect(engine).get_table_names())
    assert {"sources", "documents", "runs", "document_scores", "segment_scores", "rejected_records",
            "alembic_version"} <= names
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("document_scores")}
    assert {"ix_document_scores_model_version", "ix_document_scores_label"} <= indexes


def test_upgrading_an_older_store_keeps_its_data(store_url):
    from sqlalchemy import create_engine

    old = create_engine(store_url)
    try:
        assert upgrade(old, "0001") == "0001"
        assert "jobs" not in inspect(old).get_table_names()
        # Rows as the 0001 schema had them (written in SQL: today's writer expects today's columns), with the
        # rejections that reruns used to repeat, and rejections without a file or position.
        now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        with old.begin() as conn:
            conn.execute(text("INSERT INTO sources (name, kind, created_at) VALUES ('oud', 'news', :now)"),
                         {"now": now})
            conn.execute(text("INSERT INTO runs (model, model_version, state, started_at) "
                              "VALUES ('m', '1', 'running', :now)"), {"now": now})
            conn.execute(text("INSERT INTO documents (id, source_id, text, text_hash, created_at) "
                              "VALUES ('d1', 1, 'Een oude tekst.', 'h', :now)"), {"now": now})
            for path, line in [("a.jsonl", 3), ("a.jsonl", 3), ("a.jsonl", 3), ("a.jsonl", 4), (None, None),
                               (None, None), ("t.txt", None)]:
                conn.execute(text("INSERT INTO rejected_records (run_id, source_path, line_or_row, reason_code, "
                                  "reason, created_at) VALUES (1, :path, :line, 'invalid_json', 'x', :now)"),
                             {"path": path, "line": line, "now": now})
        assert upgrade(old) == head_revision()
        assert "jobs" in inspect(old).get_table_names()
        with old.connect() as conn:
            assert conn.exec_driver_sql("SELECT text FROM documents WHERE id = 'd1'").scalar_one() == "Een oude tekst."
            kept = conn.exec_driver_sql("SELECT source_path, line_or_row, id FROM rejected_records ORDER BY id").all()
        assert [tuple(row) for row in kept] == [("a.jsonl", 3, 1), ("a.jsonl", 4, 4), ("", 0, 5), ("t.txt", 0, 7)]
        # The run a process of the old version left "running" has no owner nor heartbeat: the next run closes it.
        writer = ScoreWriter(old)
        writer.start_run(model="m", model_version="1")
        with old.connect() as conn:
            assert conn.exec_driver_sql("SELECT state FROM runs ORDER BY id").scalars().all() == ["interrupted",
                                                                                                  "running"]
    finally:
        old.dispose()


def test_upgrade_is_idempotent(store_url, engine):
    assert upgrade(engine) == "0005"
    assert upgrade(store_url) == "0005"  # by URL: its own engine, disposed afterwards
    assert current_revision(store_url) == "0005"


def test_same_batch_twice_writes_once(engine, writer):
    source = writer.ensure_source("De Krant", "news")
    assert writer.ensure_source("De Krant", "policy") == source  # existing source: same id, kind kept
    run = writer.start_run(model=MODEL, model_version="1.0.0", codebook_version="2", command="discourse score",
                           parameters={"input": "archive.jsonl"})
    batch = ([doc("a", source), doc("b", source)], [score("a", "pressuring"), score("b", "supportive")],
             segments("a") + segments("b"))
    first = writer.write_batch(run, *batch)
    assert (first.documents, first.doc_scores, first.segment_scores) == (2, 2, 4)
    again = writer.write_batch(run, *batch)
    assert (again.documents, again.doc_scores, again.segment_scores) == (0, 0, 0)
    assert (count(engine, Document), count(engine, DocumentScore), count(engine, SegmentScore)) == (2, 2, 4)
    # the same document twice inside one batch, and a batch larger than one multi-row INSERT page
    big = [{**segments("c")[1], "position": i} for i in range(2500)]
    counts = writer.write_batch(run, [doc("c", source), doc("c", source)], [score("c", "neutral")] * 2, big)
    assert (counts.documents, counts.doc_scores, counts.segment_scores) == (1, 1, 2500)
    with session_factory(engine)() as session:
        row = session.scalars(select(DocumentScore).where(DocumentScore.document_id == "a")).one()
        # filled in from the run
        assert (row.model, row.model_version, row.codebook_version, row.run_id) == (MODEL, "1.0.0", "2", run)
        assert row.evidence == [{"position": 1, "text": "onder druk"}] and row.frames == {"guilt": 0.7}
        document = session.get(Document, "a")
        assert document.meta == {"section": "binnenland"} and len(document.text_hash) == 64
        first_segment = session.scalars(select(SegmentScore).where(
            SegmentScore.document_id == "a", SegmentScore.position == 0)).one()
        assert (first_segment.start, first_segment.end, first_segment.passed_prefilter) == (0, 19, False)


def test_document_without_id_gets_its_text_hash(engine, writer):
    source = writer.ensure_source("Archief", "policy")
    run = writer.start_run(model=MODEL, model_version="1.0.0")
    record = {"source_id": source, "text": "Een tekst zonder id."}
    assert writer.write_batch(run, [record], [], []).documents == 1
    assert writer.write_batch(run, [record], [], []).documents == 0
    with session_factory(engine)() as session:
        document = session.scalars(select(Document)).one()
        assert document.id == document.text_hash


def test_new_model_version_adds_rows_and_keeps_old(engine, writer):
    source = writer.ensure_source("De Krant")
    old = writer.start_run(model=MODEL, model_version="1.0.0")
    writer.write_batch(old, [doc("a", source)], [score("a", "pressuring", 0.9)], segments("a"))
    new = writer.start_run(model=MODEL, model_version="1.1.0")
    counts = writer.write_batch(new, [doc("a", source)], [score("a", "supportive")], segments("a"))
    assert (counts.documents, counts.doc_scores, counts.segment_scores) == (0, 1, 2)
    assert (count(engine, Document), count(engine, DocumentScore), count(engine, SegmentScore)) == (1, 2, 4)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(DocumentScore.model_version, DocumentScore.label)).all())
    assert rows == {"1.0.0": "pressuring", "1.1.0": "supportive"}


def test_scored_document_ids(writer):
    source = writer.ensure_source("De Krant")
    run = writer.start_run(model=MODEL, model_version="1.0.0")
    writer.write_batch(run, [doc("a", source), doc("b", source), doc("c", source)],
                       [score("a", "neutral"), score("b", "neutral")], [])
    ids = ["a", "b", "c", "missing", "a"]
    assert writer.scored_document_ids(ids, MODEL, "1.0.0") == {"a", "b"}
    assert writer.scored_document_ids(ids, MODEL, "2.0.0") == set()
    assert writer.scored_document_ids(ids, "other-model", "1.0.0") == set()
    assert writer.scored_document_ids([], MODEL, "1.0.0") == set()
    many = [f"id-{i}" for i in range(2500)] + ["b"]  # more ids than one IN (...) chunk
    assert writer.scored_document_ids(many, MODEL, "1.0.0") == {"b"}


def test_batch_is_one_transaction(engine, writer):
    source = writer.ensure_source("De Krant")
    run = writer.start_run(model=MODEL, model_version="1.0.0")
    with pytest.raises(IntegrityError):  # a score for a document that exists nowhere: the foreign key refuses
        writer.write_batch(run, [doc("a", source)], [score("a", "neutral"), score("ghost", "neutral")], [])
    assert count(engine, Document) == 0  # the whole batch rolled back, not only the bad row
    with pytest.raises(ValueError, match="unknown field"):
        writer.write_batch(run, [doc("a", source)], [{**score("a", "neutral"), "lable": "x"}], [])
    assert count(engine, Document) == 0


def test_foreign_keys_are_enforced(engine):
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(Document.__table__.insert(), {"id": "x", "source_id": 12345, "text": "t", "text_hash": "h",
                                                       "created_at": dt.datetime.now(dt.timezone.utc)})


def test_run_lifecycle_and_rejected_records(engine, writer):
    run = writer.start_run(model=MODEL, model_version="1.0.0", parameters={"batch_size": 64})
    first = writer.add_rejected(run, "invalid_json", "line 3 is not JSON: Expecting ',' delimiter",
                                source_path="archive.jsonl", line_or_row=3, raw='{"id": "n3", "text": "Moe' + "x" * 900)
    writer.add_rejected(run, "not_utf8", "bytes 10-12 are not UTF-8", source_path="archive.jsonl", line_or_row=7,
                        raw=b"Kraamzorg \xff\xfe\x00 helpt")
    writer.add_rejected(run, "not_dutch", "language detected: en (0.98)", source_path="archive.jsonl",
                        line_or_row=9, record_id="n9", raw="The baby sleeps.")
    writer.finish_run(run, "interrupted", {"scored": 0, "skipped": {"not_dutch": 1}, "errors": 2})
    with pytest.raises(ValueError):
        writer.finish_run(run, "done")
    with pytest.raises(KeyError):
        writer.finish_run(run + 100)
    with session_factory(engine)() as session:
        stored = session.get(Run, run)
        assert stored.state == "interrupted" and stored.finished_at is not None
        assert stored.counts == {"scored": 0, "skipped": {"not_dutch": 1}, "errors": 2}
        assert stored.parameters == {"batch_size": 64}
        rejected = session.scalars(select(RejectedRecord).order_by(RejectedRecord.id)).all()
    assert [r.reason_code for r in rejected] == ["invalid_json", "not_utf8", "not_dutch"]
    assert rejected[0].id == first and rejected[0].line_or_row == 3 and len(rejected[0].raw_excerpt) == 500
    assert rejected[1].raw_excerpt == "Kraamzorg \ufffd\ufffd\ufffd helpt"  # decoded with replacement, NUL replaced
    assert rejected[2].record_id == "n9" and rejected[2].reason == "language detected: en (0.98)"


def test_latest_model_version_is_the_version_first_used_most_recently(engine, writer):
    Session = session_factory(engine)
    with Session() as session:
        assert latest_model_version(session) is None
    krant = writer.ensure_source("De Krant")
    docs = [doc("k1", krant, dt.date(2024, 1, 15)), doc("k2", krant, None)]
    old = writer.start_run(model=MODEL, model_version="1.0.0")
    writer.write_batch(old, docs, [score(d["id"], "neutral") for d in docs], [])
    new = writer.start_run(model=MODEL, model_version="1.1.0")
    writer.write_batch(new, [], [score("k1", "pressuring")], [])
    writer.write_batch(old, [doc("k3", krant)], [score("k3", "neutral")], [])  # the old version again, later
    with Session() as session:
        assert latest_model_version(session, MODEL) == "1.1.0" == latest_model_version(session)
        assert latest_model_version(session, "other-model") is None


def test_sqlite_is_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'store.sqlite'}")  # the folder is created
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_sqlite_writers_and_readers_overlap(tmp_path):
    """WAL: a reader sees the last committed batch while a writer holds its transaction open."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    upgrade(url)
    writer_engine, reader_engine = make_engine(url), make_engine(url)
    try:
        writer = ScoreWriter(writer_engine)
        source = writer.ensure_source("De Krant")
        with writer_engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
            conn.execute(text("INSERT INTO runs (model, model_version, state, started_at) "
                              "VALUES (:m, :v, 'running', :t)"), {"m": MODEL, "v": "1", "t": "2024-01-01"})
            with reader_engine.connect() as reader:
                assert reader.execute(text("SELECT count(*) FROM sources WHERE id = :id"), {"id": source}).scalar() == 1
                assert reader.execute(text("SELECT count(*) FROM runs")).scalar() == 0
        assert count(reader_engine, Run) == 1
    finally:
        writer_engine.dispose()
        reader_engine.dispose()


def test_default_url_follows_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DISCOURSE_DATA", raising=False)
    monkeypatch.setenv("DISCOURSE_HOME", str(tmp_path / "home"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'home' / 'data' / 'discourse.sqlite'}"
    monkeypatch.setenv("DISCOURSE_DATA", str(tmp_path / "data"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'data' / 'discourse.sqlite'}"
    assert upgrade(None) == "0005"
    assert (tmp_path / "data" / "discourse.sqlite").exists()


def test_a_rejection_is_stored_once_per_input_position_and_reason(engine, writer):
    first = writer.start_run(model=MODEL, model_version="1.0.0")
    second = writer.start_run(model=MODEL, model_version="1.0.0")
    for run in (first, second, second):  # a rerun, and the same record twice in one run
        writer.add_rejected(run, "invalid_json", "not JSON", source_path="/data/a.jsonl", line_or_row=3)
        writer.add_rejected(run, "invalid_transcript", "cannot read", source_path="/data/R1.txt")  # no position
        writer.add_rejected(run, "unreadable_file", "corrupt")  # no file at all
    writer.add_rejected(second, "not_dutch", "English", source_path="/data/a.jsonl", line_or_row=3)  # other reason
    writer.add_rejected(second, "invalid_json", "not JSON", source_path="/data/a.jsonl", line_or_row=4)
    with engine.connect() as conn:
        rows = conn.execute(select(RejectedRecord.source_path, RejectedRecord.line_or_row, RejectedRecord.reason_code,
                                   RejectedRecord.run_id).order_by(RejectedRecord.id)).all()
    assert [tuple(r) for r in rows] == [("/data/a.jsonl", 3, "invalid_json", first),
                                        ("/data/R1.txt", 0, "invalid_transcript", first),
                                        ("", 0, "unreadable_file", first),
                                        ("/data/a.jsonl", 3, "not_dutch", second),
                                        ("/data/a.jsonl", 4, "invalid_json", second)]


def test_an_id_stored_with_another_text_is_a_conflict_not_a_score(engine, writer):
    source = writer.ensure_source("nos", "news")
    run = writer.start_run(model=MODEL, model_version="1.0.0")
    writer.write_batch(run, [doc("a1", source, text_="De eerste tekst over kraamzorg.")], [score("a1", "neutral")])
    assert writer.stored_documents(["a1", "nieuw"], MODEL, "1.0.0") == {
        "a1": __import__("discourse.store.writer", fromlist=["StoredDocument"]).StoredDocument(
            __import__("discourse.text", fromlist=["text_hash"]).text_hash("De eerste tekst over kraamzorg."),
            True)}
    assert not writer.stored_documents(["a1"], MODEL, "2.0.0")["a1"].scored
    # Another archive uses the same id for another article: nothing of it is written.
    counts = writer.write_batch(run, [doc("a1", source, text_="Een heel ander artikel."), doc("b1", source)],
                                [score("a1", "pressuring"), score("b1", "neutral")], segments("a1") + segments("b1"))
    assert counts.conflicts == ("a1",) and counts.documents == 1 and counts.doc_scores == 1
    assert counts.segment_scores == 2
    # The same id with the same text is the same document: a new model version scores it, no conflict.
    run2 = writer.start_run(model=MODEL, model_version="2.0.0")
    counts = writer.write_batch(run2, [doc("a1", source, text_="De eerste tekst over kraamzorg.")],
                                [score("a1", "neutral")])
    assert counts.conflicts == () and counts.doc_scores == 1
    with engine.connect() as conn:
        assert conn.execute(select(Document.text).where(Document.id == "a1")).scalar_one() == \
            "De eerste tekst over kraamzorg."
        assert conn.execute(select(func.count()).select_from(SegmentScore)
                            .where(SegmentScore.document_id == "a1")).scalar_one() == 0


@pytest.mark.parametrize("field", ["title", "url", "id", "text"])
def test_nul_in_any_text_field_is_refused_before_the_database(engine, writer, field):
    source = writer.ensure_source("nos", "news")
    run = writer.start_run(model=MODEL, model_version="1.0.0")
    row = doc("n1", source)
    row[field] = row[field] + "\x00"
    with pytest.raises(ValueError, match=f"field '{field}' contains a NUL"):
        writer.write_batch(run, [row])
    with pytest.raises(ValueError, match="field 'text' contains a NUL"):
        writer.write_batch(run, [doc("n2", source)], [], [{**segments("n2")[0], "text": "zin\x00"}])
    assert count(engine, Document) == 0


def test_runs_whose_process_died_are_interrupted_by_the_next_run(engine, writer):
    import socket
    import subprocess
    import sys

    from discourse.store.liveness import process_owner

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    host = socket.gethostname()
    killed = writer.start_run(model=MODEL, model_version="1", owner=f"{host}:{dead_pid}:abc")  # this host, pid gone
    elsewhere_fresh = writer.start_run(model=MODEL, model_version="1", owner="elders:1:abc")  # beats: alive
    elsewhere_stale = writer.start_run(model=MODEL, model_version="1", owner="elders:2:abc")
    alive = writer.start_run(model=MODEL, model_version="1", owner=process_owner())  # this process
    with engine.begin() as conn:
        conn.execute(Run.__table__.update().where(Run.id == elsewhere_stale).values(heartbeat_at=old))
    writer.heartbeat_run(alive)
    # The killed run was closed when the next run started; the stale one now.
    assert writer.interrupt_orphaned_runs() == [elsewhere_stale]
    assert writer.interrupt_orphaned_runs() == []
    with session_factory(engine)() as session:
        states = {r.id: r.state for r in session.scalars(select(Run))}
    assert states == {killed: "interrupted", elsewhere_fresh: "running", elsewhere_stale: "interrupted",
                      alive: "running"}
