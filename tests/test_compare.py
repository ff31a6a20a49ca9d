"""Comparisons from the store (issue D) on the demo data scored by the shipped model: the library function, the
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
from discourse.framing import FramingModel
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
