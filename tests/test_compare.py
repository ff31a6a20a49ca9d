"""Comparisons from the store on the demo data scored by the shipped model: the library function, the
`discourse compare` command and POST /v1/compare. The statistics themselves are checked against hand-computed
values in test_compare_stats.py; here the question is whether the pieces are wired to the right rows."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from discourse.codebook import load_codebook
from discourse.compare.run import compare
from discourse.model.framing import FramingModel
from discourse.settings import DEFAULT_MODEL_DIR, REPO_ROOT
from discourse.store import make_engine, session_factory
from discourse.store.selection import SegmentFilter

pytestmark = pytest.mark.encoder


@pytest.fixture(scope="module")
def session(demo_store):
    engine = make_engine(demo_store)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_parents_against_institutions(session):
    encoder = FramingModel.load(DEFAULT_MODEL_DIR).encoder
    result = compare(session, SegmentFilter.parse("genre=interview"), SegmentFilter.parse("genre=policy"),
                     encoder=encoder, n_resamples=500, labels=("Ouders", "Instellingen"))
    assert result["a"]["clusters"] == 8  # eight respondents: the bootstrap resamples speakers
    assert result["b"]["clusters"] == 12  # twelve institutional documents
    assert result["a"]["units"] > 300 and result["b"]["units"] > 50
    shares = result["stance"]
    assert set(shares) == {"supportive", "pressuring", "neutral"}
    assert sum(i.a for i in shares.values()) == pytest.approx(1.0)
    for interval in shares.values():
        assert interval.a_low <= interval.a <= interval.a_high and interval.diff_low <= interval.diff_high
    assert set(result["frames"]) == set(load_codebook().frames)
    key = result["keyness"]
    assert key.top_a and key.top_b
    terms = {t["term"]: t for t in result["adoption"]["terms"]}
    # The institutional demo texts speak of "de eerste 1000 dagen" far more often per word than the parents.
    first = terms["eerste 1000 dagen"]
    assert first["rate_b"] > first["rate_a"] > 0
    echo = result["echo"]
    assert echo["n_a"] == result["a"]["units"] and 0 <= echo["share_above"] <= 1
    assert echo["most"][0]["similarity"] >= echo["least"][0]["similarity"]


def test_mothers_against_fathers_and_clear_errors(session):
    result = compare(session, SegmentFilter.parse("parent=mother"), SegmentFilter.parse("parent=father"),
                     n_resamples=300, min_freq=3)
    assert (result["a"]["clusters"], result["b"]["clusters"]) == (5, 3)
    assert "echo" not in result  # no encoder given
    with pytest.raises(ValueError, match="filter B .* selects no scored segments"):
        compare(session, SegmentFilter.parse("parent=mother"), SegmentFilter.parse("region=Mars"))
    with pytest.raises(ValueError, match="has assigned no topic"):
        compare(session, SegmentFilter.parse("parent=mother"), SegmentFilter.parse("parent=father"),
                topic_model="bestaat-niet")


def test_compare_command_writes_html_and_json(demo_store, tmp_path):
    html, data = tmp_path / "rapport.html", tmp_path / "rapport.json"
    done = subprocess.run([sys.executable, "-m", "discourse.cli", "compare", "--db", demo_store,
                           "--a", "genre=interview", "--b", "genre=policy", "--label-a", "Ouders",
                           "--label-b", "Instellingen", "--no-echo", "--resamples", "300",
                           "--html", str(html), "--json", str(data)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Ouders: genre=interview" in done.stderr and "difference" in done.stderr
    report = json.loads(data.read_text(encoding="utf-8"))
    assert report["a"]["label"] == "Ouders" and "stance" in report and "keyness" in report
    page = html.read_text(encoding="utf-8")
    HTMLParser().feed(page)
    assert "Ouders" in page and "Instellingen" in page and "<script" not in page and "https://" not in page
    bad = subprocess.run([sys.executable, "-m", "discourse.cli", "compare", "--db", demo_store, "--a", "genre",
                          "--b", "genre=policy", "--no-echo"], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "expected key=value" in bad.stderr


def test_compare_over_http(demo_store):
    settings = Settings(api_keys=["geheim"], database_url=demo_store)
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/compare", json={"a": "parent=mother", "b": "parent=father",
                                                    "n_resamples": 300, "min_freq": 3})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["a"]["clusters"] == 5 and body["stance"]["pressuring"]["p_value"] <= 1
        page = client.post("/v1/compare", json={"a": "genre=interview", "b": "genre=policy", "format": "html",
                                                "n_resamples": 300})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        bad = client.post("/v1/compare", json={"a": "date>=gisteren", "b": "genre=policy"})
        assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
        empty = client.post("/v1/compare", json={"a": "genre=interview", "b": "source=niemand"})
        assert empty.status_code == 422 and "selects no scored segments" in empty.text


def test_compare_takes_the_dashboard_spellings_over_http(demo_store):
    """The filters of /v1/compare also take the dashboard's spellings: speaker=KEY:VALUE, date_from, date_to,
    min_relevance; the same conditions as the compare syntax."""
    with TestClient(create_app(Settings(database_url=demo_store))) as client:
        def post(a, b):
            response = client.post("/v1/compare", json={"a": a, "b": b, "n_resamples": 100, "min_freq": 3})
            assert response.status_code == 200, response.text
            return response.json()

        plain = post("parent=mother", "parent=father")
        spelled = post("speaker=parent:mother", "speaker=parent:father")
        assert spelled["a"]["filter"] == "parent=mother"
        assert [spelled[s]["units"] for s in "ab"] == [plain[s]["units"] for s in "ab"]
        by_age = post("speaker=parent:mother,age>=30", "parent=mother,age<30")  # every mother has an age
        assert by_age["a"]["units"] + by_age["b"]["units"] == plain["a"]["units"]
        dated = post("genre=policy,date_from=2023-01-01,min_relevance=0.5", "genre=policy,date_to=2022-12-31")
        assert dated["a"]["filter"] == "genre=policy,date>=2023-01-01,relevance>=0.5"
        bad = client.post("/v1/compare", json={"a": "speaker=parent", "b": "genre=policy"})
        assert bad.status_code == 422 and "KEY:VALUE" in bad.text


def test_echo_over_http_needs_the_key_uses_the_cache_and_the_model_thread(demo_store, tmp_path):
    import numpy as np

    from api.batcher import ModelThreadEncoder
    from discourse.encoder import EmbeddingCache
    from discourse.settings import embedding_cache_path

    body = {"a": "parent=mother", "b": "parent=father", "echo": True, "n_resamples": 100, "min_freq": 3}
    settings = Settings(api_keys=["geheim"], database_url=demo_store)
    with TestClient(create_app(settings)) as client:
        refused = client.post("/v1/compare", json=body)
        assert refused.status_code == 401 and "ECHO_REQUIRES_KEY" in refused.json()["detail"]
        assert client.app.state.echo_cache.path == embedding_cache_path()  # the one `discourse compare` uses
        # this test's own, empty file of the same kind, so that the first echo has to compute
        client.app.state.echo_cache.close()
        client.app.state.echo_cache = cache = EmbeddingCache(tmp_path / "embeddings.sqlite", memory=False)
        first = client.post("/v1/compare", json=body, headers={"X-API-Key": "geheim"})
        assert first.status_code == 200, first.text[:500]
        stored = len(cache)
        assert stored >= first.json()["echo"]["n_a"]  # every encoded sentence is on disk now
        hits = cache.hits
        again = client.post("/v1/compare", json=body, headers={"X-API-Key": "geheim"})
        assert again.json()["echo"] == first.json()["echo"] and len(cache) == stored
        assert cache.hits - hits >= stored  # the second echo came from the cache
        # the encoder behind echo: the served model's, run in the batcher's thread, equal to a direct encode
        batcher = client.app.state.batcher
        texts = ["Ik voelde mij schuldig.", "Goed genoeg is genoeg.", "De kraamzorg kwam elke dag."] * 15
        via_thread = ModelThreadEncoder(batcher, EmbeddingCache(), chunk=8).encode(texts)
        direct = client.app.state.model.encoder.encode(texts)
        assert np.allclose(via_thread, direct, atol=1e-5)
        names = batcher.submit(lambda model: __import__("threading").current_thread().name).result()
        assert names.startswith("model")
    with TestClient(create_app(Settings(database_url=demo_store, echo_requires_key=False))) as open_echo:
        assert open_echo.post("/v1/compare", json=body).status_code == 200


def test_one_compare_at_a_time_then_429_with_retry_after(demo_store):
    settings = Settings(database_url=demo_store, compare_wait_s=0.2)
    body = {"a": "parent=mother", "b": "parent=father", "n_resamples": 100, "min_freq": 3}
    with TestClient(create_app(settings)) as client:
        turn = client.app.state.compare_turn
        client.portal.call(turn._lock.acquire)  # a comparison is running
        try:
            busy = client.post("/v1/compare", json=body)
        finally:
            client.portal.call(turn._lock.release)
        assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
        assert "another comparison is running" in busy.json()["detail"]
        assert client.post("/v1/compare", json=body).status_code == 200  # its turn came
