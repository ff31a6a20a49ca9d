"""Topic curation on the demo store (merge, split, rename: each a new version, the old one intact), topic shares
per period and group (JSON and CSV), readable topic words, and the CLI and HTTP faces of all of it. The topic model
is the session's fitted demo model (conftest.demo_topic_model); curated versions are removed afterwards."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections import Counter, defaultdict

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from discourse.settings import REPO_ROOT
from discourse.store import make_engine, session_factory
from discourse.store.filters import ROLES, Condition, SegmentFilter
from discourse.store.selection import assigned_topics, select_segments
from discourse.topics import curation
from discourse.topics.service import assign_from_store, load_topic_model, model_path, topic_shares_over_time
from discourse.topics.vocabulary import is_verb_form
from discourse.compare.tokens import lemma, tokenize
from discourse.vocabulary import FILLERS, VAGUE_WORDS

pytestmark = pytest.mark.encoder
KEY = "curator-key"


@pytest.fixture(scope="module")
def demo_store_copy(copy_demo_store, demo_topic_model) -> str:
    """A copy made once the topic model is fitted: it holds the model's assignments."""
    return copy_demo_store()


@pytest.fixture(scope="module")
def base(demo_store_copy, demo_topic_model):
    """(name, session) of the session's demo topic model on this module's copy of the demo store (its assignments
    here do not leak into other modules); every version made from it is removed afterwards."""
    engine = make_engine(demo_store_copy)
    session = session_factory(engine)()
    yield demo_topic_model, session
    session.close()
    engine.dispose()
    for version in curation.versions(demo_topic_model):
        if version != demo_topic_model:
            shutil.rmtree(model_path(version), ignore_errors=True)


def assignments(session, name: str) -> dict[tuple[str, int], int]:
    rows = select_segments(session, SegmentFilter((Condition("topic_model", "=", name), Condition("role", "=", ROLES))))
    return assigned_topics(session, name, rows)


def snapshot(session, name: str) -> tuple[dict, list[dict], dict]:
    model = load_topic_model(name)
    return model.meta, model.topics(), assignments(session, name)


def largest_topics(name: str, n: int) -> list[int]:
    topics = [t for t in load_topic_model(name).topics() if t["id"] != -1]
    return [t["id"] for t in sorted(topics, key=lambda t: -t["size"])[:n]]


def check_new_version(session, curated, before: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """The new version's assignments cover the same segments; a merged or split version is rebuilt on all of
    them, so its sizes are theirs (a renamed one keeps its parent's)."""
    after = assignments(session, curated.name)
    assert set(after) == set(before) and curated.assigned == len(before)
    sizes = {str(t): n for t, n in sorted(Counter(after.values()).items())}
    if curated.model.meta["curation"]["operation"] == "rename":
        sizes = load_topic_model(curated.parent).meta["sizes"]
    assert curated.model.meta["sizes"] == sizes
    assert load_topic_model(curated.name).topics() == curated.model.topics()
    assert curated.model.meta["parent"] == curated.parent
    assert curated.name in curation.versions(curated.parent)
    return after


def test_merge_is_a_new_version_and_the_old_one_is_intact(base):
    name, session = base
    old = snapshot(session, name)
    a, b = largest_topics(name, 2)
    curated = curation.merge_topics(session, name, [a, b], label="slapen en voeden", new_name=f"{name}.merged")
    after = check_new_version(session, curated, old[2])
    mapping = {int(k): v for k, v in curated.model.meta["curation"]["mapping"].items()}
    assert mapping[a] == mapping[b] == min(a, b)
    assert all(after[key] == mapping[topic] for key, topic in old[2].items())
    assert len(curated.model.topic_ids()) == len(load_topic_model(name).topic_ids()) - 1
    assert sorted(t for t in curated.model.topic_ids() if t != -1) == list(range(len(curated.model.topic_ids()) - 1))
    assert curated.model.topic(min(a, b))["label"] == "slapen en voeden"
    assert snapshot(session, name) == old  # the old version: same files, same topics, same assignments


def test_split_is_a_new_version_and_the_old_one_is_intact(base):
    name, session = base
    old = snapshot(session, name)
    topic = largest_topics(name, 1)[0]
    curated = curation.split_topic(session, name, topic, 2, new_name=f"{name}.split")
    after = check_new_version(session, curated, old[2])
    new_topic = max(old[2].values()) + 1
    assert curated.model.meta["curation"]["new_topics"] == [new_topic]
    parts = Counter(after[key] for key, t in old[2].items() if t == topic)
    assert set(parts) == {topic, new_topic} and parts[topic] >= parts[new_topic] >= 2
    assert all(after[key] == t for key, t in old[2].items() if t != topic)
    assert snapshot(session, name) == old


def test_rename_keeps_topics_and_assignments_and_names_versions(base):
    name, session = base
    old = snapshot(session, name)
    topic = largest_topics(name, 1)[0]
    first = curation.rename_topic(session, name, topic, "  de  nachten ")
    second = curation.rename_topic(session, first.name, topic, "nachten")
    assert (first.name, second.name) == (f"{name}.v2", f"{name}.v3")
    assert curation.next_version_name(second.name) == f"{name}.v4"
    after = check_new_version(session, first, old[2])
    assert after == old[2]
    renamed = {t["id"]: t for t in first.model.topics()}
    assert renamed[topic]["label"] == "de nachten"
    assert {t["id"]: t["terms"] for t in old[1]} == {t: r["terms"] for t, r in renamed.items()}
    assert snapshot(session, name) == old


def test_curation_errors_write_nothing(base):
    name, session = base
    before = set(curation.versions(name))
    with pytest.raises(KeyError, match="no topic 999"):
        curation.merge_topics(session, name, [0, 999])
    with pytest.raises(ValueError, match="at least two"):
        curation.merge_topics(session, name, [0, 0])
    with pytest.raises(ValueError, match="outliers"):
        curation.split_topic(session, name, -1)
    with pytest.raises(ValueError, match="needs k >= 2"):
        curation.split_topic(session, name, 0, 10_000)
    with pytest.raises(ValueError, match="1 to 200 characters"):
        curation.rename_topic(session, name, 0, "   ")
    with pytest.raises(curation.VersionExists):
        curation.rename_topic(session, name, 0, "x", new_name=name)
    assert set(curation.versions(name)) == before


def test_shares_over_time_sum_to_one_per_period_and_group(base):
    """The interviews are undated; the institutional texts are dated, so they get topics first."""
    name, session = base
    assign_from_store(session, name, SegmentFilter.parse("genre=policy"))  # kept if test_topics_store did it
    answer = topic_shares_over_time(session, name, "month", "source")
    assert answer["rows"], answer
    totals, ns = defaultdict(float), defaultdict(set)
    for row in answer["rows"]:
        totals[(row["period"], row["group"])] += row["share"]
        ns[(row["period"], row["group"])].add(row["n"])
        assert row["share"] == pytest.approx(row["count"] / row["n"])
    assert all(total == pytest.approx(1.0) for total in totals.values())
    assert all(len(n) == 1 for n in ns.values())
    assert {g for _, g in totals} <= {"Expert opinie", "Kind en Gezin", "Opgroeien", "Vlaamse Regering"}
    assert len({p for p, _ in totals}) >= 3 and answer["undated"] > 0
    counted = sum(next(iter(n)) for n in ns.values()) + answer["undated"]
    assert counted == len(assignments(session, name)) - _interviewer_turns(session, name)
    yearly = topic_shares_over_time(session, name, "year")
    assert {r["group"] for r in yearly["rows"]} == {"(all)"}
    with pytest.raises(ValueError, match="interval"):
        topic_shares_over_time(session, name, "week")


def _interviewer_turns(session, name: str) -> int:
    rows = select_segments(session, SegmentFilter((Condition("topic_model", "=", name),
                                                   Condition("role", "=", "interviewer"))))
    return len({(r.document_id, r.position) for r in rows})


def test_topic_words_of_the_demo_are_content_words(base):
    """No filler, no vague adverb, no inflected verb among the terms of any demo topic."""
    name, _ = base
    model = load_topic_model(name)
    # A topic of "Ja." and "(lacht) Ja." has no content word: it is described by its word forms, and says so.
    for topic in model.meta.get("no_content_words", []):
        assert all(len(tokenize(s)) <= 3 for s in model.topic(topic)["examples"]), model.topic(topic)
        assert model.topic(topic)["terms"]
    words = {w for topic in model.topics() if topic["id"] not in model.meta.get("no_content_words", [])
             for term, _ in topic["terms"] for w in term.split()}
    assert words
    assert not words & (FILLERS | VAGUE_WORDS)
    # Inflected verbs of the demo's own text; a word that is also the lemma of a non-verb ("app" of "apps",
    # though "app" alone would be read as a form of "appen") is a noun there.
    tokens = {token for text in _demo_texts() for token in tokenize(text)}
    verbs = {t for t in tokens if is_verb_form(t, lemma(t))}
    nouns = {lemma(t) for t in tokens - verbs}
    assert sorted(words & (verbs - nouns)) == []
    assert {"lacht", "krijgt", "blijft", "wacht", "soms", "half", "zin", "zot"}.isdisjoint(words)


def _demo_texts() -> list[str]:
    """The interviews the demo topic model is fitted on."""
    return [p.read_text(encoding="utf-8") for p in (REPO_ROOT / "corpora" / "demo" / "interviews").glob("*.txt")]


def test_http_curation_and_shares(base, demo_store_copy):
    name, session = base
    assign_from_store(session, name, SegmentFilter.parse("genre=policy"))
    settings = Settings(database_url=demo_store_copy, api_keys=[KEY])
    topic = largest_topics(name, 1)[0]
    with TestClient(create_app(settings)) as client:
        body = {"name": name, "topic": topic, "label": "via http", "new_name": f"{name}.http"}
        assert client.post("/v1/topics/rename", json=body).status_code == 401
        assert client.post("/v1/topics/rename", json=body, headers={"X-API-Key": "fout"}).status_code == 401
        made = client.post("/v1/topics/rename", json=body, headers={"X-API-Key": KEY})
        assert made.status_code == 201, made.text
        assert made.json()["name"] == f"{name}.http" and made.json()["parent"] == name
        assert client.post("/v1/topics/rename", json=body, headers={"X-API-Key": KEY}).status_code == 409
        listing = client.get("/v1/topics", params={"name": f"{name}.http"}).json()
        assert f"{name}.http" in listing["models"] and name in listing["models"]
        assert {name, f"{name}.http"} <= set(listing["versions"])
        assert listing["meta"]["labels"] == {str(topic): "via http"}
        bad = [({**body, "name": "bestaat-niet"}, 404), ({**body, "topic": 999, "new_name": None}, 404),
               ({**body, "label": ""}, 422), ({**body, "extra": 1}, 422), ({**body, "name": "../etc"}, 422)]
        for request, status in bad:
            assert client.post("/v1/topics/rename", json=request, headers={"X-API-Key": KEY}).status_code == status
        merge = {"name": name, "topics": [topic], "new_name": f"{name}.x"}
        assert client.post("/v1/topics/merge", json=merge, headers={"X-API-Key": KEY}).status_code == 422
        assert client.post("/v1/topics/split", json={"name": name, "topic": 999},
                           headers={"X-API-Key": KEY}).status_code == 404

        shares = client.get("/v1/topics/shares", params={"name": name, "interval": "month", "group": "source"})
        assert shares.status_code == 200, shares.text
        assert shares.json() == json.loads(json.dumps(topic_shares_over_time(session, name, "month", "source")))
        assert shares.json()["rows"]
        as_csv = client.get("/v1/topics/shares", params={"name": name, "group": "source", "format": "csv"})
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert len(table) == len(shares.json()["rows"])
        assert list(table[0]) == ["period", "group", "topic", "label", "n", "count", "share"]
        for params, status in [({"name": name, "interval": "week"}, 422), ({"name": name, "filter": "x"}, 422),
                               ({"name": "bestaat-niet"}, 404), ({"name": name, "group": "month"}, 422)]:
            assert client.get("/v1/topics/shares", params=params).status_code == status


def test_cli_rename_and_shares(base, demo_store_copy):
    name, session = base
    assign_from_store(session, name, SegmentFilter.parse("genre=policy"))  # dated sentences for the shares
    topic = largest_topics(name, 1)[0]
    renamed = subprocess.run([sys.executable, "-m", "discourse.cli", "topics", "rename", "--name", name, "--topic",
                              str(topic), "--label", "uit de cli", "--as", f"{name}.cli", "--db", demo_store_copy],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert renamed.returncode == 0, renamed.stderr[-2000:]
    assert "uit de cli" in renamed.stdout and f"{name}.cli: new version of {name}" in renamed.stderr
    assert load_topic_model(f"{name}.cli").topic(topic)["label"] == "uit de cli"
    shares = subprocess.run([sys.executable, "-m", "discourse.cli", "topics", "shares", "--name", name,
                             "--group-by", "source", "--db", demo_store_copy], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert shares.returncode == 0, shares.stderr[-2000:]
    assert shares.stdout.startswith("period,group,topic,label,n,count,share")
    missing = subprocess.run([sys.executable, "-m", "discourse.cli", "topics", "merge", "--name", name, "--topics",
                              "0,999", "--db", demo_store_copy], cwd=REPO_ROOT, capture_output=True, text=True,
                             timeout=300)
    assert missing.returncode == 2 and "no topic 999" in missing.stderr
