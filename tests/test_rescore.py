"""Scoring the store's documents again: another model version on the same sentences, speakers and pre-filter
decisions (so two versions differ only by the model), and documents no model has scored yet (a .qdpx import)."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from discourse.cli import app
from discourse.model.framing import FramingModel
from discourse.pipeline.rescore import rescore_store
from discourse.qdpx.store_io import export_qdpx, import_qdpx
from discourse.settings import DEFAULT_MODEL_DIR
from discourse.store import make_engine, session_factory, upgrade
from discourse.store.queries import latest_model_version
from discourse.store.schema import DocumentScore, SegmentScore

COLUMNS = ("document_id", "position", "start", "end", "text", "speaker", "speaker_role", "passed_prefilter",
           "label", "score_supportive", "score_pressuring", "score_neutral", "relevance")


@pytest.fixture(scope="module")
def model():
    return FramingModel.load(DEFAULT_MODEL_DIR)


def _segments(session, version: str) -> list[tuple]:
    rows = session.scalars(select(SegmentScore).where(SegmentScore.model_version == version)
                           .order_by(SegmentScore.document_id, SegmentScore.position))
    return [tuple(round(v, 5) if isinstance(v, float) else v for v in (getattr(r, c) for c in COLUMNS))
            for r in rows]


def test_the_same_model_under_a_new_version_reproduces_every_stored_sentence(copy_demo_store, model):
    engine = make_engine(copy_demo_store())
    with session_factory(engine)() as session:
        old = latest_model_version(session)
    renamed = FramingModel(replace(model.config, version="same-heads"), model.encoder, model.relevance_head,
                           model.stance_head, model.frames_head)
    summary = rescore_store(engine, renamed)
    assert summary.from_version == old and summary.errors == 0 and summary.scored > 0
    with session_factory(engine)() as session:
        assert _segments(session, "same-heads") == _segments(session, old)  # interviewer turns and filters kept
        labels = dict(session.execute(select(DocumentScore.document_id, DocumentScore.label)
                                      .where(DocumentScore.model_version == old)).all())
        again = dict(session.execute(select(DocumentScore.document_id, DocumentScore.label)
                                     .where(DocumentScore.model_version == "same-heads")).all())
    assert again == labels
    assert rescore_store(engine, renamed, old).skipped["already_scored"] == summary.scored  # resumable
    with pytest.raises(ValueError, match="itself"):
        rescore_store(engine, renamed, "same-heads")
    engine.dispose()


def test_imported_documents_are_scored_by_rescore_unscored(copy_demo_store, tmp_path):
    source, target = make_engine(copy_demo_store()), make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    upgrade(target)
    buffer = io.BytesIO()
    with session_factory(source)() as session:
        exported = export_qdpx(session, buffer)
    with session_factory(target)() as session:
        import_qdpx(session, io.BytesIO(buffer.getvalue()), source_name="uit-nvivo")
    url = target.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["rescore", "--unscored", "--model", str(DEFAULT_MODEL_DIR), "--db", url])
    assert result.exit_code == 0, result.output
    assert f"{exported['sources']} documents scored" in result.output
    with session_factory(target)() as session:
        assert session.scalar(select(func.count()).select_from(DocumentScore)) == exported["sources"]
    again = CliRunner().invoke(app, ["rescore", "--unscored", "--model", str(DEFAULT_MODEL_DIR), "--db", url])
    assert "0 documents scored" in again.output
    source.dispose()
    target.dispose()
