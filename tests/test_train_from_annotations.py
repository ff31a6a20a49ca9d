"""A new model version from coders' codes: which codes count, the held-out split, and the loop a researcher runs —
code 300 demo sentences, start the training job over HTTP, find the new version's scores beside the old in the
dashboard, and serve it."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from api.settings import Settings
from discourse.store import make_engine, session_factory, upgrade
from discourse.store.annotations import item_for_span, save_adjudication, save_annotation
from discourse.store.queries import latest_model_version
from discourse.store.schema import DocumentScore, SegmentScore
from discourse.training.from_annotations import coded_units, split_coded

CODERS = {"key-anna": "anna"}
ANNA = {"X-API-Key": "key-anna"}
ADMIN = {"X-API-Key": "admin-key"}


def _row(item_id, coder, relevant, stance=None, frames=(), adjudicated=None, text="Een zin."):
    row = {"item_id": item_id, "coder": coder, "text": text, "relevant": relevant, "stance": stance,
           "frames": list(frames), "adjudicator": None, "adjudicated_relevant": None, "adjudicated_stance": None,
           "adjudicated_frames": None}
    if adjudicated:
        row.update(adjudicator="lead", adjudicated_relevant=adjudicated[0], adjudicated_stance=adjudicated[1],
                   adjudicated_frames=list(adjudicated[2]))
    return row


def test_an_item_counts_with_its_adjudicated_code_else_the_code_its_coders_agree_on():
    rows = [
        _row(1, "anna", True, "pressuring"), _row(1, "bram", True, "pressuring"),  # agreed
        _row(2, "anna", True, "pressuring"), _row(2, "bram", True, "neutral"),  # disagree, not adjudicated
        *(_row(3, c, True, s, adjudicated=(True, "supportive", ["structural_support"]))
          for c, s in (("anna", "pressuring"), ("bram", "neutral"))),  # adjudicated
        _row(4, "anna", False, "pressuring", ["determinism"]), _row(4, "bram", False),  # irrelevant: stance moot
        _row(5, "anna", None),  # no relevance code
        _row(6, "anna", True, None),  # relevant without a stance
    ]
    coded = coded_units(rows)
    assert coded.items == 6
    assert {u.id: (u.relevant, u.stance, u.frames) for u in coded.units} == {
        "coded-1": (True, "pressuring", ()), "coded-3": (True, "supportive", ("structural_support",)),
        "coded-4": (False, None, ())}
    assert coded.skipped == Counter(unadjudicated_disagreement=1, no_relevance_code=1, no_stance_code=1)


def test_the_held_out_share_is_stratified_and_seeded():
    rows = [_row(i, "anna", i % 4 != 0, ("supportive", "pressuring", "neutral")[i % 3], text=f"Zin {i}.")
            for i in range(200)]
    units = coded_units(rows).units
    first, again, other = (split_coded(units, 0.2, seed) for seed in (0, 0, 1))
    assert [u.id for u in first["held_out"]] == [u.id for u in again["held_out"]]
    assert [u.id for u in first["held_out"]] != [u.id for u in other["held_out"]]
    assert sum(len(v) for v in first.values()) == len(units)
    assert not {u.id for u in first["held_out"]} & {u.id for u in first["train"] + first["dev"]}
    strata = Counter(u.stance if u.relevant else "irrelevant" for u in units)
    held = Counter(u.stance if u.relevant else "irrelevant" for u in first["held_out"])
    assert all(abs(held[k] - 0.2 * n) <= 1 for k, n in strata.items())
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_coded(units, 1.0, 0)


@pytest.fixture
def coded_store(copy_demo_store, tmp_path, monkeypatch):
    """A copy of the demo store in which coder anna coded 300 sentences (the model's label, but for every fifth
    sentence, which she reads as neutral), with one adjudicated item; DISCOURSE_DATA in the test's folder, where
    the training job writes its model."""
    monkeypatch.setenv("DISCOURSE_DATA", str(tmp_path / "data"))
    url = copy_demo_store()
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session:
        version = latest_model_version(session)
        segments = session.scalars(select(SegmentScore).where(SegmentScore.model_version == version,
                                                              SegmentScore.start.is_not(None))
                                   .order_by(SegmentScore.document_id, SegmentScore.position)).all()[:300]
        for n, s in enumerate(segments):
            item = item_for_span(session, s.document_id, s.start, s.end)
            relevant = s.relevance >= 0.5
            stance = ("neutral" if n % 5 == 0 else s.label) if relevant else None
            save_annotation(session, item, "anna", relevant=relevant, stance=stance, frames=[])
        save_adjudication(session, item, "lead", relevant=True, stance="supportive", frames=[])
        session.commit()
    engine.dispose()
    return url, version


def test_codes_train_a_new_version_whose_scores_sit_beside_the_old_and_that_the_service_can_serve(coded_store):
    url, old_version = coded_store
    settings = Settings(database_url=url, coders=CODERS, api_keys=["admin-key"])
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/annotations/train", json={"corpus": False}).status_code == 401
        assert client.post("/v1/annotations/train", json={"holdout": 0.9}, headers=ANNA).status_code == 422
        started = client.post("/v1/annotations/train", json={"corpus": False, "model_version": "1.2.0-anna"},
                              headers=ANNA)
        assert started.status_code == 202
        job_id = started.json()["job_id"]
        deadline = time.time() + 600
        while (job := client.get(f"/v1/annotations/train/{job_id}", headers=ANNA).json())["state"] in (
                "queued", "running") and time.time() < deadline:
            time.sleep(1)
        assert job["state"] == "finished", job.get("error")
        result = job["progress"]
        assert result["version"] == "1.2.0-anna"
        assert result["codes"]["used"] == 300 and abs(result["codes"]["held_out"]["n"] - 60) <= 2  # per stratum
        for model in ("new", "current"):
            assert 0.0 <= result["held_out"][model]["stance"] <= 1.0
        assert client.get("/v1/annotations/train/999", headers=ANNA).status_code == 404

        # The store holds both versions, document for document, and the dashboard offers both.
        engine = make_engine(url)
        with session_factory(engine)() as session:
            per_version = Counter(session.scalars(select(DocumentScore.model_version)))
        engine.dispose()
        assert per_version["1.2.0-anna"] == per_version[old_version] > 0
        options = client.get("/v1/dashboard/options").json()
        assert {"1.2.0-anna", old_version} <= {v["version"] if isinstance(v, dict) else v
                                               for v in options["model_versions"]}
        summary = client.get("/v1/dashboard/summary", params={"model_version": "1.2.0-anna"}).json()
        assert summary["model_version"] == "1.2.0-anna" and summary["n"] > 0

        # Serving it is an admin's choice, and only a model folder the service may load.
        folder = result["folder"]
        assert client.post("/v1/models/reload", json={"folder": folder}, headers=ANNA).status_code == 401
        assert client.post("/v1/models/reload", json={"folder": "/etc"}, headers=ADMIN).status_code == 403
        served = client.post("/v1/models/reload", json={"folder": folder}, headers=ADMIN)
        assert served.status_code == 200 and served.json()["model_version"] == "1.2.0-anna"
        assert client.get("/v1/models").json()["models"][0]["folder"] == folder
