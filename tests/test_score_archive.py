"""`discourse score-archive` end to end: a small archive with bad records into SQLite and PostgreSQL, a second
run that rescores nothing, and a run killed with SIGKILL in the middle that finishes on restart with every
document scored exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import authored_articles
from sqlalchemy import create_engine, text

from discourse.model.framing import FramingModel
from discourse.model.prefilter import RelevancePrefilter
from discourse.pipeline.score_archive import score_archive
from discourse.settings import DEFAULT_MODEL_DIR, REPO_ROOT

pytestmark = pytest.mark.encoder


@pytest.fixture(scope="module")
def model():
    return FramingModel.load(DEFAULT_MODEL_DIR)


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def _count(url: str, sql: str) -> int:
    [(count,)] = _rows(url, sql)
    return count


def test_archive_with_bad_records_then_a_second_run_rescoring_nothing(model, store_url, tmp_path):
    good = authored_articles(12)
    lines = [json.dumps(a, ensure_ascii=False) for a in good[:6]]
    lines += ["{dit is geen json", json.dumps({"id": "leeg", "text": "   "}), json.dumps({"id": "geen-tekst"}),
              json.dumps({"id": "en", "text": "This is an English article about the weather in London and the "
                                             "price of tea, which no Dutch model should score."}),
              json.dumps({"id": "groot", "text": "woord " * 1_000_000})]
    lines += [json.dumps(a, ensure_ascii=False) for a in good[6:]]
    archive = tmp_path / "archief.jsonl"
    archive.write_bytes(("\n".join(lines[:8]) + "\n").encode() + b'{"id": "bytes", "text": "caf\xe9"}\n'
                        + ("\n".join(lines[8:]) + "\n").encode())
    prefilter = RelevancePrefilter.load()
    first = score_archive([str(archive)], model, db_url=store_url, source="test", batch_size=4, prefilter=prefilter)
    assert first.scored == 12
    assert {k: v for k, v in first.skipped.items() if v} == {"invalid_json": 1, "empty_text": 1, "missing_text": 1,
                                                             "not_dutch": 1, "too_long": 1, "not_utf8": 1}
    assert _count(store_url, "SELECT COUNT(*) FROM document_scores") == 12
    assert _count(store_url, "SELECT COUNT(*) FROM rejected_records") == 6
    assert _count(store_url, "SELECT COUNT(DISTINCT reason_code) FROM rejected_records") == 6
    assert _count(store_url, "SELECT COUNT(*) FROM documents WHERE published = '2024-03-05'") == 12
    assert _count(store_url, "SELECT COUNT(*) FROM segment_scores") >= 12 * 3
    assert _count(store_url, "SELECT COUNT(*) FROM runs WHERE state = 'finished'") == 1

    second = score_archive([str(archive)], model, db_url=store_url, source="test", batch_size=4, prefilter=prefilter)
    assert second.scored == 0 and second.skipped["already_scored"] == 12
    assert _count(store_url, "SELECT COUNT(*) FROM document_scores") == 12  # nothing twice
    assert _count(store_url, "SELECT COUNT(*) FROM runs") == 2


def _kill_once_scored(command: list[str], log_path, scored, at_least: int) -> None:
    """Start `command` (a score-archive run) and SIGKILL it once `scored()` reaches `at_least` documents."""
    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 600
    while scored() < at_least and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be killed: " + log_path.read_text()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_run_killed_mid_way_finishes_on_restart_without_duplicates(tmp_path):
    n = 60
    archive = tmp_path / "archief.jsonl"
    archive.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in authored_articles(n)), encoding="utf-8")
    db = tmp_path / "store.sqlite"
    command = [sys.executable, "-m", "discourse.cli", "score-archive", str(archive), "--db", f"sqlite:///{db}",
               "--source", "test", "--batch-size", "2", "--no-prefilter"]
    def scored() -> int:
        if not db.exists():
            return 0
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                return conn.execute("SELECT COUNT(*) FROM document_scores").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0

    _kill_once_scored(command, tmp_path / "run1.log", scored, 6)
    at_kill = scored()
    assert 6 <= at_kill < n

    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"already_scored {at_kill}" in result.stderr
    assert f"run 2: {n - at_kill} scored" in result.stderr and "docs/s" in result.stderr  # the final summary
    assert "time per stage: model" in result.stderr or "time per stage: language" in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT document_id) FROM document_scores").fetchone() == (n, n)
        ids = {row[0] for row in conn.execute("SELECT id FROM documents")}
        assert ids == {f"art-{i}" for i in range(n)}
        sentences = conn.execute("SELECT COUNT(*), COUNT(DISTINCT document_id || ':' || position) "
                                 "FROM segment_scores").fetchone()
        assert sentences[0] == sentences[1]  # no sentence row twice
        states = [row[0] for row in conn.execute("SELECT state FROM runs ORDER BY id")]
        assert states == ["interrupted", "finished"]  # the killed run was closed by the next one (its pid is gone)


def test_a_hostile_archive_across_a_kill_and_two_reruns(store_url, tmp_path):
    """Good records among one bad record of each kind (lone surrogates, NULs in any field, an id another
    archive reuses with another text, invalid JSON and bytes, non-Dutch, too long), in JSONL (with a BOM on a
    later line and an article repeated with invisible characters), a cp1252 CSV export and Parquet: every good
    record is scored once and every bad one rejected once, though the first run is SIGKILLed and the command
    is run twice more."""
    from hostile import good_articles, write_hostile_archive

    folder = tmp_path / "archief"
    expected = write_hostile_archive(folder, good_articles(200))
    command = [sys.executable, "-m", "discourse.cli", "score-archive", str(folder), "--db", store_url,
               "--source", "test", "--batch-size", "8"]

    def scored() -> int:
        try:
            return _count(store_url, "SELECT COUNT(*) FROM document_scores")
        except Exception:  # noqa: BLE001 - the tables do not exist yet
            return 0

    _kill_once_scored(command, tmp_path / "run1.log", scored, 40)
    assert 40 <= scored() < len(expected.scored)

    for attempt in (2, 3):
        result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
    assert "read as cp1252: " in result.stderr and "b-export.csv" in result.stderr
    assert "run 3: 0 scored" in result.stderr

    rows = _rows(store_url, "SELECT document_id FROM document_scores")
    assert sorted(r[0] for r in rows) == sorted(expected.scored)  # every good record, each once
    rejected = _rows(store_url, "SELECT source_path, line_or_row, reason_code FROM rejected_records")
    got = sorted((os.path.basename(path), line, code) for path, line, code in rejected)
    assert got == sorted((name, line, code) for (name, line), code in expected.rejected.items())  # each once
    states = [r[0] for r in _rows(store_url, "SELECT state FROM runs ORDER BY id")]
    assert states == ["interrupted", "finished", "finished"]
    # The conflicting articles did not overwrite or join the originals.
    assert _rows(store_url, "SELECT text FROM documents WHERE id = 'art-0'")[0][0].startswith(
        good_articles(1)[0]["text"][:50])
    # The cp1252 export was decoded as cp1252, not rejected.
    assert _rows(store_url, "SELECT COUNT(*) FROM documents WHERE text LIKE '%De crèche en het café%'")[0][0] == 40


def test_records_the_store_cannot_take_are_rejected_alone_and_the_run_goes_on(model, store_url, tmp_path):
    good = authored_articles(6)
    lines = ['{"id": "surrogaat", "text": "Een moeder \\ud800 schrijft."}',  # a lone surrogate, escaped in JSON
             json.dumps(good[0], ensure_ascii=False),
             json.dumps({**good[1], "id": "x" * 300}, ensure_ascii=False),  # longer than documents.id
             json.dumps(good[2], ensure_ascii=False),
             json.dumps({**good[3], "id": "lange-bron", "source": "b" * 300}, ensure_ascii=False),  # sources.name
             json.dumps(good[4], ensure_ascii=False),
             json.dumps(good[5], ensure_ascii=False)]
    archive = tmp_path / "archief.jsonl"
    archive.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for attempt in range(2):
        summary = score_archive([str(archive)], model, db_url=store_url, source="test", batch_size=8)
        assert summary.scored == (4 if attempt == 0 else 0)
        assert summary.skipped["not_utf8"] == 1 and summary.skipped["record_error"] == 2 and summary.errors == 2
    rejected = _rows(store_url, "SELECT line_or_row, reason_code, reason FROM rejected_records ORDER BY line_or_row")
    assert [(line, code) for line, code, _ in rejected] == [(1, "not_utf8"), (3, "record_error"), (5, "record_error")]
    assert "field 'id' has 300 characters" in rejected[1][2] and "field 'name' has 300" in rejected[2][2]
    assert sorted(r[0] for r in _rows(store_url, "SELECT document_id FROM document_scores")) == \
        ["art-0", "art-2", "art-4", "art-5"]


def test_a_sentence_met_again_in_the_run_is_encoded_once_with_the_same_scores(model, store_url, tmp_path):
    boilerplate = "Kind en Gezin raadt ouders aan hun baby altijd op de rug te laten slapen."
    articles = authored_articles(7)
    for article in articles:
        article["text"] += " " + boilerplate
    archive = tmp_path / "archief.jsonl"
    archive.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    prefilter = RelevancePrefilter.load()
    assert prefilter.passes([boilerplate])[0]
    summary = score_archive([str(archive)], model, db_url=store_url, source="test", batch_size=2,
                            prefilter=prefilter)  # 4 batches
    assert summary.scored == 7 and summary.errors == 0
    # the boilerplate reached the model in every article, and was encoded in the first batch only
    assert summary.sentences_encoded <= summary.sentences_to_model - 6
    assert summary.as_dict()["sentences_encoded"] == summary.sentences_encoded
    assert {"model", "language", "segment", "prefilter"} <= set(summary.stage_seconds)
    rows = _rows(store_url, f"SELECT document_id, label, relevance, score_pressuring, score_supportive "
                            f"FROM segment_scores WHERE text = '{boilerplate}' ORDER BY document_id")
    assert [r[0] for r in rows] == sorted(a["id"] for a in articles)
    alone = model.predict([boilerplate])[0]  # a fresh model call: the remembered vector gives the same row
    assert {tuple(r[1:]) for r in rows} == {(alone["label"], alone["relevance"], alone["scores"]["pressuring"],
                                             alone["scores"]["supportive"])}
    # every document has exactly the result the one-batch run gives it
    one_batch = score_archive([str(archive)], model, db_url=f"sqlite:///{tmp_path / 'one.sqlite'}", source="test",
                              batch_size=64, prefilter=prefilter)
    assert one_batch.scored == 7
    query = "SELECT document_id, label, relevance FROM document_scores ORDER BY document_id"
    assert _rows(store_url, query) == _rows(f"sqlite:///{tmp_path / 'one.sqlite'}", query)
