"""The dashboard's query API on the demo store, checked against the store itself: every figure is
recomputed here from SQL (or from discourse.store.selection, the comparison's independent SQL filter), so the
numpy snapshot behind /v1/dashboard must agree with the database row for row. Also: validation (422 naming
the field), CSV export, the cache and its invalidation when new scores land, topics, and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from collections import Counter, defaultdict

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from api.settings import Settings
from discourse.store import ScoreWriter, make_engine, session_factory, upgrade
from discourse.store.schema import Document, SegmentScore, Source
from discourse.store.selection import SegmentFilter, select_segments

pytestmark = pytest.mark.encoder  # the app loads the shipped model at start-up

STANCES = ("supportive", "pressuring", "neutral")


@pytest.fixture(scope="module")
def client(demo_store):
    with TestClient(create_app(Settings(database_url=demo_store))) as client:
        yield client


@pytest.fixture(scope="module")
def oracle(demo_store):
    """Every segment of the demo store with its document's fields, straight from SQL."""
    engine = make_engine(demo_store)
    with session_factory(engine)() as session:
        rows = session.execute(select(SegmentScore, Document.published, Document.genre, Source.name)
                               .join(Document, Document.id == SegmentScore.document_id)
                               .join(Source, Source.id == Document.source_id)).all()
    engine.dispose()
    return [{"doc": s.document_id, "label": s.label, "relevance": s.relevance, "frames": set(s.frames or {}),
             "role": s.speaker_role, "published": published, "genre": genre, "source": source,
             "pressuring": s.score_pressuring}
            for s, published, genre, source in rows]


def relevant(oracle, min_relevance=0.5):
    return [r for r in oracle if r["relevance"] is not None and r["relevance"] >= min_relevance
            and r["role"] != "interviewer"]


def test_options_describe_the_store(client):
    body = client.get("/v1/dashboard/options").json()
    assert body["latest"] and body["model_versions"][0]["segments"] > 0
    assert {s["name"] for s in body["sources"]} >= {"Kind en Gezin", "Opgroeien", "demo-interviews"}
    assert body["genres"] == ["interview", "policy"]
    assert body["speaker_attributes"]["parent"] == ["father", "mother"]
    assert body["date_range"] == {"min": "2022-02-15", "max": "2024-10-08"}
    frames = {f["id"]: f for f in body["frames"]}
    assert frames["determinism"]["nl"] == "Determinisme en onomkeerbaarheid"
    assert frames["determinism"]["en"] == "Determinism and irreversibility"
    assert frames["good_enough"]["side"] == "supportive"


def test_summary_equals_sql(client, oracle):
    body = client.get("/v1/dashboard/summary").json()
    expected = relevant(oracle)
    counts = Counter(r["label"] for r in expected)
    assert body["n"] == len(expected)
    assert body["counts"] == {s: counts[s] for s in STANCES}
    assert body["documents"] == len({r["doc"] for r in expected})
    assert body["undated"] == sum(r["published"] is None for r in expected)
    assert body["shares"]["pressuring"] == pytest.approx(counts["pressuring"] / len(expected), abs=1e-4)
    assert body["mean_scores"]["pressuring"] == pytest.approx(
        sum(r["pressuring"] for r in expected) / len(expected), abs=1e-4)
    # min_relevance 0 takes every sentence, the pre-filter's dropped ones too (relevance 0.0)
    everything = client.get("/v1/dashboard/summary", params={"min_relevance": 0}).json()
    assert everything["n"] == len(relevant(oracle, 0.0))


def test_timeseries_by_month_and_week(client, oracle):
    body = client.get("/v1/dashboard/timeseries", params={"period": "month"}).json()
    expected = Counter((r["published"].strftime("%Y-%m"), r["label"]) for r in relevant(oracle) if r["published"])
    got = {(row["period"], s): row[s] for row in body["rows"] for s in STANCES if row[s]}
    assert got == dict(expected)
    assert [row["period"] for row in body["rows"]] == sorted(row["period"] for row in body["rows"])
    assert body["undated"] == sum(r["published"] is None for r in relevant(oracle))
    row = body["rows"][0]
    assert row["start"] == row["period"] + "-01"
    assert sum(row[f"share_{s}"] for s in STANCES) == pytest.approx(1, abs=1e-3)
    weeks = client.get("/v1/dashboard/timeseries", params={"period": "week"}).json()["rows"]
    first = next(r for r in relevant(oracle) if r["published"] and r["published"].isoformat() == "2022-02-15")
    assert weeks[0]["period"] == "2022-W07" and weeks[0]["start"] == "2022-02-14"  # a Tuesday's Monday
    assert first  # the demo's first policy text is dated 2022-02-15
    assert sum(r["n"] for r in weeks) == sum(r["n"] for r in body["rows"])


def test_sources_ranked_by_pressuring_share(client, oracle):
    body = client.get("/v1/dashboard/groups", params={"by": "source", "sort": "share_pressuring"}).json()
    shares = [row["share_pressuring"] for row in body["rows"]]
    assert shares == sorted(shares, reverse=True)
    per_source = defaultdict(Counter)
    for r in relevant(oracle):
        per_source[r["source"]][r["label"]] += 1
    for row in body["rows"]:
        counts = per_source[row["group"]]
        assert row["n"] == sum(counts.values())
        assert row["share_pressuring"] == pytest.approx(counts["pressuring"] / row["n"], abs=1e-4)
    ascending = client.get("/v1/dashboard/groups", params={"by": "source", "sort": "share_pressuring",
                                                            "order": "asc", "limit": 2}).json()["rows"]
    assert [r["group"] for r in ascending] == [r["group"] for r in body["rows"]][::-1][:2]


def test_frames_speakers_and_filters_agree_with_the_selection_module(client, oracle, demo_store):
    frames = client.get("/v1/dashboard/groups", params={"by": "frame", "lang": "en"}).json()["rows"]
    expected = Counter(f for r in relevant(oracle) for f in r["frames"])
    assert {row["group"]: row["n"] for row in frames} == dict(expected)
    assert next(r for r in frames if r["group"] == "determinism")["label"] == "Determinism and irreversibility"

    # Mothers' sentences: the dashboard's numpy filter and the comparison's SQL filter select the same ones.
    engine = make_engine(demo_store)
    with session_factory(engine)() as session:
        mothers = select_segments(session, SegmentFilter.parse("parent=mother,relevance>=0.5"))
        pressuring_policy = select_segments(session, SegmentFilter.parse(
            "genre=policy,stance=pressuring,frame=determinism,relevance>=0.5,date>=2022-06-01"))
    engine.dispose()
    body = client.get("/v1/dashboard/summary", params={"speaker": "parent:mother"}).json()
    assert body["n"] == len(mothers) > 0
    assert body["counts"] == {s: sum(r.label == s for r in mothers) for s in STANCES}
    by_parent = client.get("/v1/dashboard/groups", params={"by": "attr:parent"}).json()["rows"]
    assert next(r for r in by_parent if r["group"] == "mother")["n"] == len(mothers)
    narrowed = client.get("/v1/dashboard/summary", params={
        "genre": "policy", "stance": "pressuring", "frame": "determinism", "date_from": "2022-06-01"}).json()
    assert narrowed["n"] == len(pressuring_policy) > 0
    two = client.get("/v1/dashboard/summary", params=[("source", "Kind en Gezin"), ("source", "Opgroeien")]).json()
    assert two["n"] == sum(1 for r in relevant(oracle) if r["source"] in ("Kind en Gezin", "Opgroeien"))
    # Interviewer turns are left out unless asked for
    asked = client.get("/v1/dashboard/summary", params={"role": "interviewer", "min_relevance": 0}).json()
    assert asked["n"] == sum(1 for r in oracle if r["role"] == "interviewer") > 0


def test_frame_by_source_matrix(client, oracle):
    body = client.get("/v1/dashboard/matrix", params={"rows": "frame", "cols": "source"}).json()
    cells = {(c["row"], c["col"]): c for c in body["cells"]}
    expected = Counter((f, r["source"]) for r in relevant(oracle) for f in r["frames"])
    assert {k: c["n"] for k, c in cells.items()} == dict(expected)
    per_source = Counter(r["source"] for r in relevant(oracle))
    cell = cells[next(iter(expected))]
    assert cell["share_of_col"] == pytest.approx(cell["n"] / per_source[cell["col"]], abs=1e-4)
    flipped = client.get("/v1/dashboard/matrix", params={"rows": "source", "cols": "frame"}).json()
    assert {(c["row"], c["col"]): c["n"] for c in flipped["cells"]} == {(s, f): n for (f, s), n in expected.items()}


def test_document_list_and_drill_down(client, oracle):
    page = client.get("/v1/dashboard/documents", params={"sort": "-share_pressuring", "page_size": 5}).json()
    assert page["total"] == len({r["doc"] for r in relevant(oracle)}) and len(page["rows"]) == 5
    shares = [r["share_pressuring"] for r in page["rows"]]
    assert shares == sorted(shares, reverse=True)
    assert all(r["label"] in STANCES for r in page["rows"])
    second = client.get("/v1/dashboard/documents", params={"sort": "-share_pressuring", "page_size": 5,
                                                           "page": 2}).json()["rows"]
    assert not {r["id"] for r in second} & {r["id"] for r in page["rows"]}
    dated = client.get("/v1/dashboard/documents", params={"sort": "published", "page_size": 200}).json()["rows"]
    dates = [r["published"] for r in dated if r["published"]]
    assert dates == sorted(dates) and dated[-1]["published"] is None  # undated (interviews) last

    top = page["rows"][0]
    doc = client.get(f"/v1/dashboard/documents/{top['id']}").json()
    assert doc["title"] == top["title"] and doc["score"]["label"] == top["label"]
    marked = [s for s in doc["segments"] if s["evidence"]]
    evidence = {(e["start"], e["sentence"]) for side in doc["score"]["evidence"].values() for e in side}
    assert marked and {(s["start"], s["text"]) for s in marked} == evidence
    assert all(doc["text"][s["start"]:s["end"]] == s["text"] for s in doc["segments"])
    interview = client.get("/v1/dashboard/documents/demo-interviews:R1").json()
    assert {s["speaker_role"] for s in interview["segments"]} == {"interviewer", "respondent"}
    typo = client.get(f"/v1/dashboard/documents/{top['id']}", params={"modelversion": "1"})
    assert typo.status_code == 422 and typo.json()["detail"][0]["field"] == "modelversion"
    missing = client.get("/v1/dashboard/documents/bestaat-niet")
    assert missing.status_code == 404 and "bestaat-niet" in missing.json()["detail"][0]["message"]


@pytest.mark.parametrize("params, field", [
    ({"sourse": "NOS"}, "sourse"),
    ({"date_from": "2024-13-01"}, "date_from"),
    ({"date_from": "2024-01-01", "date_to": "2023-01-01"}, "body"),
    ({"frame": "happiness"}, "frame"),
    ({"stance": "angry"}, "stance.0"),
    ({"speaker": "parent=mother"}, "speaker"),
    ({"min_relevance": "2"}, "min_relevance"),
    ({"source": "Het Nieuwsblad"}, "source"),
    ({"model_version": "9.9.9"}, "model_version"),
    ({"topic": "3"}, "body"),
    ({"speaker": "shoe_size:42"}, "speaker"),
])
def test_bad_filters_are_refused_with_the_field_named(client, params, field):
    response = client.get("/v1/dashboard/summary", params=params)
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["detail"]]
    assert field in fields or (field == "body" and fields), response.json()


def test_filter_parameter_takes_the_compare_syntax(client, demo_store):
    """`filter` takes the conditions of /v1/compare: speaker attributes as gender=V, numeric comparisons on
    attributes and relevance, dates; each figure is the SQL selection's."""
    def summary(**params):
        response = client.get("/v1/dashboard/summary", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    engine = make_engine(demo_store)
    with session_factory(engine)() as session:
        def sql(spec):
            return [r for r in select_segments(session, SegmentFilter.parse(spec)) if r.label is not None]
        older, low, dated = sql("age>=30,relevance>=0.5"), sql("relevance<0.5"), sql("date>=2023-01-01")
    engine.dispose()
    assert summary(filter="age>=30")["n"] == len(older) > 0
    assert summary(filter="gender=V") == summary(speaker="gender:V") == summary(filter="speaker=gender:V")
    # the respondents file's `role` column is an attribute, however it is written, never the speaker role
    assert summary(speaker="role:moeder") == summary(filter="speaker=role:moeder") == summary(speaker="parent:mother")
    assert summary(filter="relevance<0.5")["n"] == len(low) > 0  # the default min_relevance gives way
    assert summary(filter="relevance<0.5", min_relevance=0.5)["n"] == 0  # unless it is asked for
    assert summary(filter="date>=2023-01-01", min_relevance=0)["n"] == len(dated) > 0
    assert summary(filter="date>=2023-01-01,date<=2023-12-31") == summary(date_from="2023-01-01",
                                                                          date_to="2023-12-31")
    both = client.get("/v1/dashboard/summary", params=[("filter", "genre=interview"), ("filter", "age<30")]).json()
    assert both["n"] == summary(genre="interview", filter="age<30")["n"] > 0  # repeated: all apply
    by_age = client.get("/v1/dashboard/groups", params={"by": "attr:age", "filter": "age>=30,age<36"}).json()
    assert {r["group"] for r in by_age["rows"]} == {"33", "35"}
    for bad, status in (("age>=oud", 422), ("shoe_size=42", 422), ("source=Het Nieuwsblad", 422),
                        ("stance=angry", 422), ("speaker=gender", 422)):
        response = client.get("/v1/dashboard/summary", params={"filter": bad})
        assert response.status_code == status and response.json()["detail"][0]["field"] == "filter", response.text
    assert client.get("/v1/dashboard/summary", params={"filter": "topic=3"}).status_code == 422  # no topic_model


def test_bad_grouping_parameters(client):
    for path, params, field in [("groups", {"by": "colour"}, "by"), ("groups", {"by": "attr:shoe_size"}, "by"),
                                ("groups", {"by": "topic"}, "topic_model"), ("matrix", {"rows": "frame", "cols": "frame"}, "body"),
                                ("timeseries", {"period": "decade"}, "period"), ("documents", {"page_size": "0"}, "page_size"),
                                ("documents", {"sort": "colour"}, "sort")]:
        response = client.get(f"/v1/dashboard/{path}", params=params)
        assert response.status_code == 422, (path, params, response.text)
        fields = [e["field"] for e in response.json()["detail"]]
        assert field in fields or (field == "body" and fields), (path, response.json())
    assert client.get("/v1/dashboard/topics", params={"topic_model": "bestaat-niet"}).status_code == 404


def test_csv_export(client):
    response = client.get("/v1/dashboard/groups", params={"by": "source", "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    as_json = client.get("/v1/dashboard/groups", params={"by": "source"}).json()["rows"]
    assert [r["group"] for r in rows] == [r["group"] for r in as_json]
    assert [int(r["n"]) for r in rows] == [r["n"] for r in as_json]
    for path, params in [("summary", {}), ("timeseries", {"period": "year"}), ("matrix", {}),
                         ("documents", {"page_size": 3})]:
        response = client.get(f"/v1/dashboard/{path}", params={**params, "format": "csv"})
        table = list(csv.reader(io.StringIO(response.text)))
        assert response.status_code == 200 and len(table) >= 2 and table[0], path


def test_cache_hits_over_http(client):
    params = {"genre": "policy", "min_relevance": 0.123}  # a question no other test asks
    first = client.get("/v1/dashboard/summary", params=params)
    again = client.get("/v1/dashboard/summary", params=list(reversed(params.items())))  # order does not matter
    assert first.headers["x-cache"] == "miss" and again.headers["x-cache"] == "hit"
    assert first.json() == again.json()


def test_new_scores_invalidate_the_cache(demo_store, tmp_path):
    """On a copy of the demo store: a batch of new scores written by the store's writer is seen by the next
    question, which is computed again; without a cache every answer is computed and equal."""
    from discourse.dashboard import DashboardService
    from discourse.dashboard.params import DocumentListParams, SummaryParams

    copy = tmp_path / "store.sqlite"
    with sqlite3.connect(demo_store.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    engine = make_engine(f"sqlite:///{copy}")
    service = DashboardService(engine)
    policy = SummaryParams(genre=["policy"])
    first, hit = service.answer("summary", policy)
    assert not hit and service.answer("summary", policy) == (first, True)
    writer = ScoreWriter(engine)
    run = writer.start_run(model="framing-e5-small", model_version=first["model_version"], command="test")
    writer.write_batch(run, [{"id": "nieuw-1", "source_id": 1, "text": "Ouders voelen druk.", "genre": "policy"}],
                       [{"document_id": "nieuw-1", "label": "pressuring", "score_supportive": 0.1,
                         "score_pressuring": 0.8, "score_neutral": 0.1, "relevance": 0.9}],
                       [{"document_id": "nieuw-1", "position": 0, "text": "Ouders voelen druk.", "label": "pressuring",
                         "score_supportive": 0.1, "score_pressuring": 0.8, "score_neutral": 0.1,
                         "relevance": 0.9, "frames": {"perfect_parent": 0.9}}])
    after, hit = service.answer("summary", policy)
    assert not hit and after["n"] == first["n"] + 1
    assert after["counts"]["pressuring"] == first["counts"]["pressuring"] + 1
    documents, _ = service.answer("documents", DocumentListParams(frame=["perfect_parent"]))
    assert "nieuw-1" in {r["id"] for r in documents["rows"]}

    uncached = DashboardService(engine, cache_size=0)
    assert uncached.answer("summary", policy) == (after, False)
    assert uncached.answer("summary", policy) == (after, False)
    engine.dispose()


def test_topics_with_terms_and_grouping(client, demo_topic_model):
    body = client.get("/v1/dashboard/topics", params={"topic_model": demo_topic_model}).json()
    assert body["rows"] and all(r["terms"] for r in body["rows"] if r["topic"] != -1)
    assert sum(r["share"] for r in body["rows"]) == pytest.approx(1, abs=1e-3)
    biggest = max(body["rows"], key=lambda r: r["n"])
    grouped = client.get("/v1/dashboard/groups", params={"by": "topic", "topic_model": demo_topic_model}).json()
    assert next(r for r in grouped["rows"] if r["group"] == biggest["topic"])["label"] == biggest["label"]
    only = client.get("/v1/dashboard/summary", params={"topic_model": demo_topic_model,
                                                       "topic": biggest["topic"]}).json()
    assert only["n"] == biggest["n"]
    options = client.get("/v1/dashboard/options").json()
    assert demo_topic_model in options["topic_models"]


def test_postgresql_store(store_url):
    """The snapshot reads PostgreSQL too (its JSON comes back decoded, SQLite's as text)."""
    engine = make_engine(store_url)
    upgrade(engine)
    writer = ScoreWriter(engine)
    with session_factory(engine)() as session:
        session.add(Source(name="NOS", kind="news"))
        session.commit()
        source_id = session.scalar(select(Source.id))
    run = writer.start_run(model="m", model_version="v1", command="test")
    documents, doc_scores, segments = [], [], []
    for i, (label, frames) in enumerate([("pressuring", {"determinism": 0.9}), ("supportive", None),
                                         ("pressuring", {"perfect_parent": 0.8, "determinism": 0.7})]):
        documents.append({"id": f"d{i}", "source_id": source_id, "text": f"Zin {i}.", "genre": "news",
                          "published": f"2024-0{i + 1}-15"})
        doc_scores.append({"document_id": f"d{i}", "label": label, "score_supportive": 0.2,
                           "score_pressuring": 0.7, "score_neutral": 0.1, "relevance": 0.9})
        segments.append({"document_id": f"d{i}", "position": 0, "text": f"Zin {i}.", "label": label,
                         "score_supportive": 0.2, "score_pressuring": 0.7, "score_neutral": 0.1, "relevance": 0.9,
                         "frames": frames})
    writer.write_batch(run, [{**d, "published": dt.date.fromisoformat(d["published"])}
                             for d in documents], doc_scores, segments)
    from discourse.dashboard import DashboardService
    from discourse.dashboard.params import GroupParams, TimeseriesParams

    service = DashboardService(engine)
    frames, _ = service.answer("groups", GroupParams(by="frame"))
    assert {r["group"]: r["n"] for r in frames["rows"]} == {"determinism": 2, "perfect_parent": 1}
    months, _ = service.answer("timeseries", TimeseriesParams())
    assert [r["period"] for r in months["rows"]] == ["2024-01", "2024-02", "2024-03"]
    engine.dispose()


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted():
    """OWASP CSV injection: a text cell starting with = + - @, tab or CR gets a leading single quote; numbers,
    negative ones included, stay numbers."""
    from discourse.dashboard.export import to_csv

    hostile = ["=HYPERLINK(\"http://x\";\"klik\")", "+31 20 123", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
    rows = [{"group": name, "n": 3, "mean_pressuring": -0.25, "terms": [name, "ok"]} for name in hostile]
    rows.append({"group": "Kind en Gezin", "n": -4, "mean_pressuring": None, "terms": ["-min", "plus"]})
    table = list(csv.DictReader(io.StringIO(to_csv("groups", {"rows": rows}), newline="")))
    assert [r["group"] for r in table[:-1]] == ["'" + name for name in hostile]
    assert all(r["mean_pressuring"] == "-0.25" and r["n"] == "3" for r in table[:-1])
    assert table[0]["terms"] == "'" + hostile[0] + "|ok"
    assert table[-1] == {"group": "Kind en Gezin", "n": "-4", "mean_pressuring": "", "terms": "'-min|plus"}
    summary = to_csv("summary", {"model_version": "=1+1", "n": 0, "documents": 0, "undated": 0, "counts": {},
                                 "shares": {}, "mean_scores": {"pressuring": -0.5}})
    assert list(csv.DictReader(io.StringIO(summary)))[0] == {
        "model_version": "'=1+1", "n": "0", "documents": "0", "undated": "0", "mean_pressuring": "-0.5"}


def test_csv_export_of_a_hostile_source_name_over_http(demo_store, tmp_path):
    """End to end: a source named like a formula, scored into a copy of the demo store, is exported quoted."""
    copy = tmp_path / "store.sqlite"
    with sqlite3.connect(demo_store.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    engine = make_engine(f"sqlite:///{copy}")
    with session_factory(engine)() as session:
        session.add(Source(name="=HYPERLINK(\"http://x\")", kind="news"))
        session.commit()
        source_id = session.scalar(select(Source.id).where(Source.name.startswith("=")))
        version = session.scalar(select(SegmentScore.model_version))
    writer = ScoreWriter(engine)
    run = writer.start_run(model="framing-e5-small", model_version=version, command="test")
    writer.write_batch(run, [{"id": "formule-1", "source_id": source_id, "text": "Ouders voelen druk.",
                              "genre": "news"}],
                       [{"document_id": "formule-1", "label": "pressuring", "score_supportive": 0.1,
                         "score_pressuring": 0.8, "score_neutral": 0.1, "relevance": 0.9}],
                       [{"document_id": "formule-1", "position": 0, "text": "Ouders voelen druk.",
                         "label": "pressuring", "score_supportive": 0.1, "score_pressuring": 0.8,
                         "score_neutral": 0.1, "relevance": 0.9, "frames": {}}])
    engine.dispose()
    from discourse.dashboard import DashboardService
    from discourse.dashboard.export import to_csv
    from discourse.dashboard.params import GroupParams

    service = DashboardService(make_engine(f"sqlite:///{copy}"))
    answer, _ = service.answer("groups", GroupParams(by="source"))
    table = {r["group"]: r for r in csv.DictReader(io.StringIO(to_csv("groups", answer)))}
    assert "'=HYPERLINK(\"http://x\")" in table and "=HYPERLINK(\"http://x\")" not in table
    service.engine.dispose()


def test_unknown_names_are_422_on_an_empty_store_too(tmp_path):
    """An unknown source (genre, corpus, speaker attribute) is refused naming the field whether or not the
    store has scores yet: one behaviour, not a 200 on an empty store and a 422 on a full one."""
    from discourse.dashboard import DashboardService, QueryError
    from discourse.dashboard.params import SummaryParams

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    upgrade(engine)
    service = DashboardService(engine)
    for field, params in (("source", SummaryParams(source=["bestaat-niet"])),
                          ("genre", SummaryParams(genre=["roman"])),
                          ("corpus", SummaryParams(corpus=["blog"])),
                          ("speaker", SummaryParams(speaker=["parent:mother"]))):
        with pytest.raises(QueryError) as refused:
            service.answer("summary", params)
        assert refused.value.field == field and refused.value.status == 422
    assert service.answer("summary", SummaryParams())[0]["n"] == 0  # no filter: an empty answer, no error
    engine.dispose()


def test_unknown_source_is_the_same_422_over_http_on_both_stores(client, tmp_path):
    empty = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}"))
    with TestClient(empty) as empty_client:
        for http in (client, empty_client):
            response = http.get("/v1/dashboard/summary", params={"source": "bestaat-niet"})
            assert response.status_code == 422 and response.json()["detail"][0]["field"] == "source"


def test_dashboard_parameters_refuse_lone_surrogates():
    from pydantic import ValidationError

    from discourse.dashboard.params import GroupParams, SummaryParams

    for params in ({"source": ["\ud800"]}, {"model_version": "v\udfff"}, {"speaker": ["parent:\ud800"]}):
        with pytest.raises(ValidationError, match="surrogate") as refused:
            SummaryParams(**params)
        assert refused.value.errors()[0]["loc"][0] == next(iter(params))
    with pytest.raises(ValidationError, match="surrogate"):
        GroupParams(by="attr:\ud800")
