"""Topic models over the store on the demo data: fit on a filter, assignments stored per segment,
assigning new segments, shares per group, the CLI and GET /v1/topics. BERTopic itself (determinism, outlier
reduction, save/load) is tested in test_topics.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from api.settings import Settings
from discourse.compare.run import compare
from discourse.settings import REPO_ROOT
from discourse.store import make_engine, session_factory
from discourse.store.schema import TopicAssignment
from discourse.store.selection import SegmentFilter, select_segments
from discourse.topics.service import assign_from_store, load_topic_model, topic_shares

pytestmark = pytest.mark.encoder


@pytest.fixture(scope="module")
def fitted(demo_store, demo_topic_model):
    """The session's topic model fitted on the parents' sentences only (conftest.demo_topic_model)."""
    engine = make_engine(demo_store)
    session = session_factory(engine)()
    yield demo_topic_model, load_topic_model(demo_topic_model), session
    session.close()
    engine.dispose()


def test_fit_stores_a_topic_for_every_sentence(fitted):
    name, model, session = fitted
    parents = select_segments(session, SegmentFilter.parse("genre=interview"))
    stored = session.scalar(select(func.count()).select_from(TopicAssignment)
                            .where(TopicAssignment.topic_model == name))
    assert stored == len({(r.document_id, r.position) for r in parents}) == len(model.document_topics)
    assert model.meta["outlier_share_after"] <= 0.15
    assert model.meta["filter"] == "genre=interview"
    assert len(model.topic_ids()) >= 3


def test_assign_new_segments_and_shares_per_group(fitted):
    name, model, session = fitted
    policy = select_segments(session, SegmentFilter.parse("genre=policy"))
    assert assign_from_store(session, name, SegmentFilter.parse("genre=policy")) == len(policy)
    assert assign_from_store(session, name, SegmentFilter.parse("genre=policy")) == 0  # kept, not duplicated
    shares = topic_shares(session, name, "genre")
    assert set(shares) == {"interview", "policy"}
    for by_topic in shares.values():
        assert sum(by_topic.values()) == pytest.approx(1.0)
    parents = topic_shares(session, name, "parent", SegmentFilter.parse("genre=interview"))
    assert set(parents) == {"mother", "father"}
    result = compare(session, SegmentFilter.parse("parent=mother"), SegmentFilter.parse("parent=father"),
                     topic_model=name, n_resamples=200)
    assert set(result["topics"]) <= set(model.topic_ids()) | {-1}
    assert sum(i.a for i in result["topics"].values()) == pytest.approx(1.0)


def test_topics_command_and_http(fitted, demo_store):
    name, model, _ = fitted
    shown = subprocess.run([sys.executable, "-m", "discourse.cli", "topics", "show", "--name", name, "--db",
                            demo_store, "--group-by", "parent"], cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert model.topics()[1]["label"] in shown.stdout and "mother:" in shown.stdout
    missing = subprocess.run([sys.executable, "-m", "discourse.cli", "topics", "show", "--name", "bestaat-niet"],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert missing.returncode != 0 and "no topic model 'bestaat-niet'" in missing.stderr

    with TestClient(create_app(Settings(database_url=demo_store))) as client:
        listing = client.get("/v1/topics", params={"name": name})
        assert listing.status_code == 200
        assert [t["id"] for t in listing.json()["topics"]] == [t["id"] for t in model.topics()]
        topic_id = model.topic_ids()[0]
        one = client.get(f"/v1/topics/{topic_id}", params={"name": name, "group_by": "parent",
                                                           "filter": "genre=interview"})
        assert one.status_code == 200
        body = one.json()
        assert body["terms"] and body["examples"] and set(body["share_by_group"]) == {"mother", "father"}
        assert client.get("/v1/topics/99999", params={"name": name}).status_code == 404
        assert client.get("/v1/topics", params={"name": "../etc"}).status_code == 422
