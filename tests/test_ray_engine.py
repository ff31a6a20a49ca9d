"""`score-archive --engine ray` stores exactly what the local engine stores: the same archive (a JSONL and a CSV
file with bad records) scored by both into one store, wiped in between, on SQLite and PostgreSQL; then (on
PostgreSQL) a second Ray run that rescores nothing. Ray is started once for the module (local, 2 actors)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from conftest import authored_articles
from sqlalchemy import create_engine, delete, func, select

from discourse.model.framing import FramingModel
from discourse.model.prefilter import RelevancePrefilter
from discourse.pipeline.ray_engine import score_archive_ray, start_local_ray
from discourse.pipeline.score_archive import score_archive
from discourse.settings import DEFAULT_MODEL_DIR
from discourse.store.schema import Document, DocumentScore, RejectedRecord, Run, SegmentScore, Source

pytestmark = pytest.mark.encoder

N_ITEMS = 34  # records the readers yield: 18 + 3 JSONL lines, 12 + 1 CSV rows


@pytest.fixture(scope="module")
def model():
    return FramingModel.load(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    start_local_ray()  # this machine's cores + 1 CPU for the read step: 2 actors on 2 cores
    yield
    ray.shutdown()


def _archive(folder) -> list[str]:
    good = authored_articles(30)
    jsonl = folder / "archief.jsonl"
    lines = [json.dumps(a, ensure_ascii=False) for a in good[:18]]
    lines[5:5] = ["{dit is geen json", json.dumps({"id": "geen-tekst", "title": "Leeg"}),
                  json.dumps({"id": "en", "text": "This is an English article about the weather in London and the "
                                                 "price of tea, which no Dutch model should score."})]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = folder / "archief.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "date", "text", "rubriek"])
        writer.writeheader()
        writer.writerows(good[18:24])
        writer.writerow({"id": "lege-tekst", "title": "Niets", "date": "1 mei 2024", "text": "  ", "rubriek": "x"})
        writer.writerows(good[24:])
    return [str(jsonl), str(table)]


def _contents(url: str) -> dict:
    """Everything a run stored, without the columns that differ by construction (row ids, run ids, times)."""
    engine = create_engine(url)

    def rows(table, skip=("id", "run_id", "scored_at", "created_at")):
        with engine.connect() as conn:
            found = [{k: v for k, v in row._mapping.items() if k not in skip}
                     for row in conn.execute(select(table.__table__))]
        return sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))

    try:
        with engine.connect() as conn:
            sources = dict(conn.execute(select(Source.id, Source.name)).all())
            runs = [(r.state, r.parameters["engine"]) for r in conn.execute(select(Run).order_by(Run.id))]
        documents = [{k: v for k, v in d.items() if k != "source_id"} | {"source": sources[d["source_id"]]}
                     for d in rows(Document, skip=("created_at",))]  # source ids depend on write order
        return {"documents": documents, "document_scores": rows(DocumentScore), "segment_scores": rows(SegmentScore),
                "rejected": Counter((r["reason_code"], r["source_path"], r["line_or_row"], r["record_id"])
                                    for r in rows(RejectedRecord)),
                "runs": runs}
    finally:
        engine.dispose()


def _wipe(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for table in (SegmentScore, DocumentScore, RejectedRecord, Document, Source, Run):
                conn.execute(delete(table.__table__))
    finally:
        engine.dispose()


def test_ray_stores_what_the_local_engine_stores_and_resumes(model, ray_cluster, store_url, tmp_path):
    paths = _archive(tmp_path)
    local_progress, ray_progress = [], []
    local = score_archive(paths, model, db_url=store_url, source="test", batch_size=4,
                          prefilter=RelevancePrefilter.load(), progress=lambda s, n: local_progress.append(n))
    expected = _contents(store_url)
    _wipe(store_url)

    arguments = dict(model_dir=str(DEFAULT_MODEL_DIR), db_url=store_url, source="test", batch_size=4, workers=2)
    first = score_archive_ray(paths, progress=lambda s, n: ray_progress.append(n), **arguments)
    got = _contents(store_url)

    assert local.scored == first.scored == 30
    assert {k: v for k, v in first.skipped.items() if v} == {k: v for k, v in local.skipped.items() if v} == {
        "invalid_json": 1, "missing_text": 1, "not_dutch": 1, "empty_text": 1}
    assert (first.sentences_total, first.sentences_to_model) == (local.sentences_total, local.sentences_to_model)
    assert local_progress[-1] == ray_progress[-1] == N_ITEMS and len(ray_progress) > 2  # several batches
    assert expected["runs"] == [("finished", "local")] and got["runs"] == [("finished", "ray")]
    assert {d["id"] for d in got["documents"]} == {d["id"] for d in expected["documents"]}
    assert got["documents"] == expected["documents"]  # texts, titles, dates, meta, source names
    # Exact equality, floats included: the ONNX encoder scores every sentence on its own (its result does not
    # depend on batch mates or on the thread count), and the heads are row-wise.
    assert got["document_scores"] == expected["document_scores"]
    assert got["segment_scores"] == expected["segment_scores"]
    assert got["rejected"] == expected["rejected"] and sum(got["rejected"].values()) == 4

    if store_url.startswith("postgresql"):
        # Resuming, on the store a cluster shares (each Ray run costs ~30 s on 2 cores: the actors load the model;
        # the skipping itself is scored_document_ids, which tests/test_score_archive.py runs on both backends).
        again = score_archive_ray(paths, **arguments)
        assert again.scored == 0 and again.skipped["already_scored"] == first.scored
        engine = create_engine(store_url)
        try:
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(DocumentScore.__table__)).scalar_one() == 30
        finally:
            engine.dispose()
        assert _contents(store_url)["runs"] == [("finished", "ray"), ("finished", "ray")]
