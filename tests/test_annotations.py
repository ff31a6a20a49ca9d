"""Coding sentences by hand, on a copy of the scored demo store: queues by strategy (random, uncertain,
disagreement between two model versions), stratified and with an overlap share for double coding; the coding
loop over HTTP (next, save twice, undo, adjudicate) with coders told apart by their API keys; the error classes;
CSV and JSONL exports checked against the store; the tables on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from api.main import create_app
from api.settings import Settings
from discourse.annotations.queue import QueueSpec, create_queue, draw, item_view, margin, next_item, undo
from discourse.store import make_engine, session_factory, upgrade
from discourse.store.annotations import (annotation_rows, item_for_span, save_adjudication, save_annotation)
from discourse.store.queries import latest_model_version
from discourse.store.schema import Annotation, CodingAssignment, Document, SegmentScore, Source
from discourse.store.selection import SegmentFilter, select_segments

pytestmark = pytest.mark.encoder  # the app loads the shipped model at start-up

KEYS = {"key-anna": "anna", "key-bram": "bram", "key-cleo": "cleo"}
ANNA, BRAM, CLEO = ({"X-API-Key": key} for key in KEYS)
OTHER_VERSION = "test-rotated"


def _rotated(label: str) -> str:
    return {"supportive": "pressuring", "pressuring": "neutral", "neutral": "supportive"}[label]


@pytest.fixture(scope="module")
def store(copy_demo_store) -> str:
    """A copy of the demo store (annotations must not leak into other modules' store) with a second model
    version whose labels differ from the first on every third sentence."""
    url = copy_demo_store()
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session:
        version = latest_model_version(session)
        rows = [{c.name: getattr(s, c.name) for c in SegmentScore.__table__.columns if c.name != "id"}
                for s in session.scalars(select(SegmentScore).where(SegmentScore.model_version == version))]
        for row in rows:
            row["model_version"] = OTHER_VERSION
            row["label"] = _rotated(row["label"]) if row["position"] % 3 == 0 else row["label"]
        session.execute(insert(SegmentScore), rows)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def engine(store):
    engine = make_engine(store)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session of the test's own; `fresh(session)` ends its read transaction, to see what the app wrote since."""
    with session_factory(engine)() as session:
        yield session


def fresh(session):
    session.rollback()
    return session


@pytest.fixture(scope="module")
def client(store):
    settings = Settings(database_url=store, coders=KEYS, api_keys=["admin-key"])
    with TestClient(create_app(settings)) as client:
        yield client


def _spans(rows) -> list[tuple[str, int, int]]:
    return [(r.document_id, r.start, r.end) for r in rows]


def _draw(session, **options):
    spec = QueueSpec(**{"name": "draw", "coders": ("nobody",), "size": 15, **options})
    return draw(session, spec, spec.segment_filter, latest_model_version(session))


def test_random_draws_are_seeded_and_follow_the_filter(session):
    first, again, other = (_draw(session, seed=s, filter="genre=interview") for s in (7, 7, 8))
    assert _spans(first) == _spans(again) and _spans(first) != _spans(other)
    assert {r.genre for r in first} == {"interview"} and len(set(_spans(first))) == 15
    assert {r.speaker_role for r in first} <= {"respondent", "other", None}  # interviewer turns left out


def test_uncertain_draws_the_smallest_stance_margins(session):
    drawn = _draw(session, strategy="uncertain")
    everything = select_segments(session, SegmentFilter(), latest_model_version(session))
    rest = [margin(r.scores) for r in everything if (r.document_id, r.start, r.end) not in set(_spans(drawn))]
    assert max(margin(r.scores) for r in drawn) <= min(rest)
    assert [margin(r.scores) for r in drawn] == sorted(margin(r.scores) for r in drawn)


def test_disagreement_draws_sentences_the_two_versions_label_differently(session):
    version = latest_model_version(session)
    other = {(r.document_id, r.start, r.end): r.label
             for r in select_segments(session, SegmentFilter(), OTHER_VERSION)}
    drawn = _draw(session, strategy="disagreement", other_model_version=OTHER_VERSION, size=10_000)
    disagreeing = [r for r in select_segments(session, SegmentFilter(), version)
                   if other[(r.document_id, r.start, r.end)] != r.label]
    assert sorted(_spans(drawn)) == sorted(_spans(disagreeing)) and drawn
    assert all(r.position % 3 == 0 for r in drawn)
    with pytest.raises(ValueError, match="other_model_version"):
        QueueSpec(name="x", coders=("a",), size=3, strategy="disagreement")
    with pytest.raises(ValueError, match="no-such-version"):
        _draw(session, strategy="disagreement", other_model_version="no-such-version")


def test_stratified_draws_give_each_source_an_equal_share(session):
    available = Counter(r.source for r in select_segments(session, SegmentFilter(), latest_model_version(session)))
    drawn = Counter(r.source for r in _draw(session, stratify="source", size=25))
    assert len(available) == 5 and drawn == {source: 5 for source in available}
    assert len(Counter(r.genre for r in _draw(session, stratify="genre", size=20)).values()) == 2


def test_overlap_share_goes_to_every_coder_and_the_rest_to_one(session):
    queue = create_queue(session, QueueSpec(name="overlap", coders=("anna", "bram", "cleo"), size=20, overlap=0.25,
                                            strategy="uncertain", seed=3))
    coders_per_item = Counter(item for item, in session.execute(
        select(CodingAssignment.item_id).where(CodingAssignment.queue == "overlap")))
    assert queue["items"] == len(coders_per_item) == 20 and queue["shared_items"] == 5
    assert Counter(coders_per_item.values()) == {3: 5, 1: 15} and queue["assignments"] == 30
    per_coder = Counter(c for c, in session.execute(
        select(CodingAssignment.coder).where(CodingAssignment.queue == "overlap")))
    assert per_coder == {"anna": 10, "bram": 10, "cleo": 10}
    # A second queue for a coder draws sentences the coder has not been given yet.
    create_queue(session, QueueSpec(name="overlap-2", coders=("anna",), size=20, strategy="uncertain", seed=3))
    given = {(i, q) for i, q in session.execute(select(CodingAssignment.item_id, CodingAssignment.queue)
                                                .where(CodingAssignment.coder == "anna"))}
    second = {i for i, q in given if q == "overlap-2"}
    assert len(second) == 20 and not second & {i for i, q in given if q == "overlap"}


def test_coding_loop_save_twice_undo(client, session):
    made = client.post("/v1/annotations/queues", headers=ANNA, json={
        "name": "loop", "size": 4, "coders": ["anna"], "filter": "genre=interview", "seed": 1})
    assert made.status_code == 201 and made.json()["items"] == 4 and made.json()["assignments"] == 4
    first = client.get("/v1/annotations/next", params={"queue": "loop"}, headers=ANNA).json()
    assert first["position"] == {"done": 0, "total": 4} and first["suggestion"] is None
    document = session.get(Document, first["document_id"])
    assert first["text"] == document.text[first["start"]:first["end"]] and first["title"] == document.title
    assert first["source"] == "demo-interviews" and first["speaker"] and first["queue"] == "loop"
    assert first["previous"] is None or first["previous"] in document.text[:first["start"]]
    assert first["next"] is None or first["next"] in document.text[first["end"]:]
    codes = {"item_id": first["item_id"], "relevant": True, "stance": "pressuring",
             "frames": ["individual_responsibility"], "memo": "moeder draagt alles"}
    saved = [client.post("/v1/annotations", headers=ANNA, json=codes) for _ in range(2)]
    assert [r.status_code for r in saved] == [200, 200] and saved[1].json()["id"] == saved[0].json()["id"]
    assert saved[1].json()["stance"] == "pressuring" and saved[1].json()["coder"] == "anna"
    assert fresh(session).scalar(select(func.count()).select_from(Annotation)
                                 .where(Annotation.item_id == first["item_id"], Annotation.coder == "anna")) == 1
    second = client.get("/v1/annotations/next", params={"queue": "loop"}, headers=ANNA).json()
    assert second["item_id"] != first["item_id"] and second["position"]["done"] == 1
    client.post("/v1/annotations", headers=ANNA, json={**codes, "item_id": second["item_id"], "stance": "neutral",
                                                        "frames": []})
    undone = client.post("/v1/annotations/undo", params={"queue": "loop"}, headers=ANNA)
    assert undone.status_code == 200 and undone.json()["item_id"] == second["item_id"]
    # the coder's own codes come back with the item, to edit and save again
    assert undone.json()["undone"] == {"relevant": True, "stance": "neutral", "frames": [],
                                       "memo": "moeder draagt alles"}
    assert client.get("/v1/annotations/next", params={"queue": "loop"}, headers=ANNA).json() == {
        k: v for k, v in undone.json().items() if k != "undone"}
    me = client.get("/v1/annotations/me", headers=ANNA).json()
    assert me["coder"] == "anna" and {"name": "loop", "done": 1, "total": 4} in me["queues"]
    for item in range(3):  # code the rest: then the queue is done
        current = client.get("/v1/annotations/next", params={"queue": "loop"}, headers=ANNA).json()
        client.post("/v1/annotations", headers=ANNA, json={**codes, "item_id": current["item_id"]})
    assert client.get("/v1/annotations/next", params={"queue": "loop"}, headers=ANNA).status_code == 204


def test_a_coder_never_receives_another_coders_codes(client, session):
    client.post("/v1/annotations/queues", headers=ANNA, json={
        "name": "double", "size": 3, "coders": ["anna", "bram"], "overlap": 1.0, "seed": 5})
    for _ in range(3):
        item = client.get("/v1/annotations/next", params={"queue": "double"}, headers=BRAM).json()
        client.post("/v1/annotations", headers=BRAM, json={"item_id": item["item_id"], "relevant": True,
                                                            "stance": "supportive", "memo": "BRAMS-GEHEIM"})
    assert client.get("/v1/annotations/next", params={"queue": "double"}, headers=BRAM).status_code == 204
    seen = client.get("/v1/annotations/next", params={"queue": "double"}, headers=ANNA)
    assert seen.status_code == 200 and seen.json()["position"] == {"done": 0, "total": 3}
    assert "BRAMS-GEHEIM" not in seen.text and "bram" not in seen.text and "supportive" not in seen.text
    assert set(seen.json()) == {"item_id", "queue", "text", "start", "end", "document_id", "title", "source",
                                "speaker", "previous", "next", "position", "suggestion"}
    # bram's undo removes bram's code only
    assert client.post("/v1/annotations/undo", params={"queue": "double"}, headers=ANNA).status_code == 404
    assert client.post("/v1/annotations/undo", params={"queue": "double"}, headers=BRAM).status_code == 200


def test_the_suggestion_is_the_models_labels_when_asked_for(client, session):
    item = client.get("/v1/annotations/next", params={"queue": "double"}, headers=ANNA).json()
    shown = item_view(fresh(session), item["item_id"], "double", (0, 3), suggestions=True)["suggestion"]
    segment = session.scalars(select(SegmentScore).where(
        SegmentScore.document_id == item["document_id"], SegmentScore.start == item["start"],
        SegmentScore.model_version == latest_model_version(session))).one()
    assert shown == {"relevance": segment.relevance, "stance": segment.label, "frames": sorted(segment.frames or {})}


@pytest.mark.parametrize("method, path, body", [
    ("post", "/v1/annotations/queues", {"name": "q", "size": 1, "coders": ["anna"]}),
    ("get", "/v1/annotations/next?queue=loop", None),
    ("get", "/v1/annotations/me", None),
    ("post", "/v1/annotations", {"item_id": 1, "relevant": False}),
    ("post", "/v1/annotations/undo?queue=loop", None),
    ("post", "/v1/annotations/adjudications", {"item_id": 1, "relevant": False}),
])
def test_writes_need_a_coders_key(client, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    assert getattr(client, method)(path, **kwargs).status_code == 401
    refused = getattr(client, method)(path, headers={"X-API-Key": "admin-key"}, **kwargs)
    assert refused.status_code == 403 and "coder" in refused.json()["detail"]


@pytest.mark.parametrize("body, status, message", [
    ({"item_id": 1, "relevant": True, "stance": "angry"}, 422, "unknown stance 'angry'"),
    ({"item_id": 1, "relevant": True, "stance": "pressuring", "frames": ["nonsense"]}, 422, "unknown frame"),
    ({"item_id": 1, "relevant": False, "stance": "pressuring"}, 422, "not relevant has no stance"),
    ({"item_id": 1, "relevant": True, "frames": ["determinism", "determinism"]}, 422, "twice"),
    ({"item_id": 2**31 - 1, "relevant": True}, 404, "no coding item"),
])
def test_bad_codes_are_refused_and_write_nothing(client, session, body, status, message):
    before = session.scalar(select(func.count()).select_from(Annotation))
    for path in ("/v1/annotations", "/v1/annotations/adjudications"):
        answer = client.post(path, headers=CLEO, json=body)
        assert answer.status_code == status and message in str(answer.json()["detail"])
    assert fresh(session).scalar(select(func.count()).select_from(Annotation)) == before


@pytest.mark.parametrize("body, status, message", [
    ({"name": "loop", "size": 2, "coders": ["cleo"]}, 409, "exists already"),
    ({"name": "new", "size": 2, "coders": ["cleo", "zoe"]}, 422, "unknown coder 'zoe'"),
    ({"name": "new", "size": 2, "coders": ["cleo"], "model_version": "9.9.9"}, 422, "'9.9.9' has scored no"),
    ({"name": "new", "size": 2, "coders": ["cleo"], "filter": "genre="}, 422, "filter part"),
    ({"name": "new", "size": 2, "coders": ["cleo"], "filter": "source=nowhere"}, 422, "no scored sentence"),
    ({"name": "new", "size": 2, "coders": ["cleo"], "strategy": "disagreement"}, 422, "other_model_version"),
])
def test_bad_queues_are_refused_and_write_nothing(client, session, body, status, message):
    answer = client.post("/v1/annotations/queues", headers=CLEO, json=body)
    assert answer.status_code == status and message in str(answer.json()["detail"])
    assert fresh(session).scalar(select(func.count()).select_from(CodingAssignment)
                                 .where(CodingAssignment.queue == "new")) == 0


def test_unknown_queues_are_404(client):
    for answer in (client.get("/v1/annotations/next", params={"queue": "nowhere"}, headers=ANNA),
                   client.post("/v1/annotations/undo", params={"queue": "nowhere"}, headers=ANNA),
                   client.get("/v1/annotations/next", params={"queue": "loop"}, headers=BRAM)):
        assert answer.status_code == 404


def test_adjudication_is_stored_beside_the_originals_and_exported(client, session):
    item = fresh(session).scalar(select(CodingAssignment.item_id).where(CodingAssignment.queue == "double"))
    client.post("/v1/annotations", headers=ANNA, json={"item_id": item, "relevant": True, "stance": "pressuring"})
    settled = client.post("/v1/annotations/adjudications", headers=CLEO,
                          json={"item_id": item, "relevant": True, "stance": "neutral", "memo": "feitelijk"})
    assert settled.status_code == 200, settled.text
    assert settled.json()["adjudicator"] == "cleo"
    rows = [r for r in annotation_rows(fresh(session), queue="double") if r["item_id"] == item]
    assert {r["coder"]: r["stance"] for r in rows} == {"anna": "pressuring", "bram": "supportive"}
    assert {(r["adjudicator"], r["adjudicated_stance"]) for r in rows} == {("cleo", "neutral")}


def test_exports_hold_every_annotation_row(client, session):
    expected = annotation_rows(fresh(session))
    assert len(expected) == session.scalar(select(func.count()).select_from(Annotation)) > 0
    jsonl = client.get("/v1/annotations/export", params={"format": "jsonl"})
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in jsonl.text.splitlines()] == expected
    table = list(csv.DictReader(io.StringIO(client.get("/v1/annotations/export", params={"format": "csv"}).text)))
    assert [(int(r["item_id"]), r["coder"], r["stance"] or None, r["text"]) for r in table] == \
        [(r["item_id"], r["coder"], r["stance"], r["text"]) for r in expected]
    frames = {r["frames"] for r in table if r["frames"]}
    assert "individual_responsibility" in frames
    loop = client.get("/v1/annotations/export", params={"format": "jsonl", "queue": "loop"}).text.splitlines()
    assert len(loop) == 4 and {json.loads(line)["queue"] for line in loop} == {"loop"}
    policy = [json.loads(line) for line in client.get("/v1/annotations/export", params={
        "format": "jsonl", "filter": "genre=policy"}).text.splitlines()]
    assert {r["document_id"] for r in policy} <= {r["document_id"] for r in expected if "inst" in r["document_id"]}
    assert client.get("/v1/annotations/export", params={"format": "xml"}).status_code == 422


def test_cli_makes_a_queue_and_exports(store, tmp_path):
    from discourse.cli import app

    runner = CliRunner()
    made = runner.invoke(app, ["annotations", "queue", "--db", store, "--name", "cli", "--coder", "anna", "--coder",
                               "cleo", "--size", "6", "--overlap", "0.5", "--strategy", "uncertain",
                               "--stratify", "genre", "--seed", "2"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["items"] == 6 and json.loads(made.stdout)["assignments"] == 9
    again = runner.invoke(app, ["annotations", "queue", "--db", store, "--name", "cli", "--coder", "anna",
                                "--size", "6"])
    assert again.exit_code == 2 and "exists already" in again.output
    out = tmp_path / "codes.csv"
    exported = runner.invoke(app, ["annotations", "export", "--db", store, "--format", "csv", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    engine = make_engine(store)
    with session_factory(engine)() as session:
        rows = annotation_rows(session)
        assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == len(rows)
    engine.dispose()
    agreement = runner.invoke(app, ["annotations", "agreement", "--from", str(out), "--json", "--resamples", "0"])
    assert agreement.exit_code == 0, agreement.output
    report = json.loads(agreement.stdout)
    assert report["n_items"] == len({r["item_id"] for r in rows}) and set(report["coders"]) == {"anna", "bram"}
    assert runner.invoke(app, ["annotations", "export", "--db", store, "--format", "xml"]).exit_code == 2


def _small_store(session) -> None:
    """One news document of two sentences, scored by version v1."""
    session.add(Source(id=1, name="krant", kind="news"))
    session.flush()
    session.add(Document(id="d1", source_id=1, text="Eerste zin. Tweede zin.", text_hash="x"))
    session.flush()
    for position, (start, end) in enumerate(((0, 11), (12, 23))):
        session.add(SegmentScore(document_id="d1", model="m", model_version="v1", position=position, start=start,
                                 end=end, text="Eerste zin. Tweede zin."[start:end], label="neutral",
                                 score_supportive=0.2, score_pressuring=0.3, score_neutral=0.5, relevance=0.9))
    session.commit()


def test_annotation_tables_on_both_backends(store_url):
    """The migration's tables on SQLite and PostgreSQL: items by span, the upsert per coder and item, spans
    outside the text refused, adjudications beside the codes."""
    engine = make_engine(store_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        _small_store(session)
        item = item_for_span(session, "d1", 0, 11)
        assert item_for_span(session, "d1", 0, 11) == item
        for stance in ("neutral", "supportive"):
            save_annotation(session, item, "anna", relevant=True, stance=stance, frames=[], codes=["vrije code"],
                            origin="qdpx")
        save_adjudication(session, item, "cleo", relevant=True, stance="supportive", frames=["reassurance_plasticity"])
        session.commit()
        (row,) = annotation_rows(session)
        assert (row["text"], row["stance"], row["codes"], row["origin"]) == ("Eerste zin.", "supportive",
                                                                             ["vrije code"], "qdpx")
        assert row["adjudicated_frames"] == ["reassurance_plasticity"] and row["queue"] is None
        for start, end in ((5, 99), (-1, 3), (4, 4)):
            with pytest.raises(ValueError, match="does not lie inside"):
                item_for_span(session, "d1", start, end)
        with pytest.raises(ValueError, match="no document"):
            item_for_span(session, "nope", 0, 1)
        with pytest.raises(ValueError, match="NUL"):
            save_annotation(session, item, "anna", relevant=None, stance=None, frames=[], memo="a\x00b")
    engine.dispose()


def test_queues_next_and_undo_on_both_backends(store_url):
    engine = make_engine(store_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        _small_store(session)
        queue = create_queue(session, QueueSpec(name="q", coders=("anna", "bram"), size=5, overlap=1.0,
                                                model_version="v1", strategy="uncertain"))
        assert (queue["items"], queue["assignments"], queue["shared_items"]) == (2, 4, 2)
        first = next_item(session, "q", "anna")
        context = {"Eerste zin.": (None, "Tweede zin."), "Tweede zin.": ("Eerste zin.", None)}
        assert (first["previous"], first["next"]) == context[first["text"]]
        save_annotation(session, first["item_id"], "anna", relevant=True, stance="neutral", frames=[])
        session.commit()
        assert next_item(session, "q", "anna")["text"] in set(context) - {first["text"]}
        assert next_item(session, "q", "bram")["item_id"] == first["item_id"]
        assert undo(session, "q", "anna")["item_id"] == first["item_id"]
        assert next_item(session, "q", "anna")["position"] == {"done": 0, "total": 2}
    engine.dispose()
