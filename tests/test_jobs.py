"""Archive-scoring jobs over HTTP: an API key to submit, paths confined to the data roots, progress to follow,
and a job that survives its server being killed (it resumes, scoring nothing twice)."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest
from conftest import authored_articles
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

pytestmark = pytest.mark.encoder


def _write_archive(path, n: int) -> None:
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in authored_articles(n)), encoding="utf-8")


def _wait_for(get, state: str, seconds: float = 300) -> dict:
    deadline = time.time() + seconds
    while time.time() < deadline:
        job = get()
        if job["state"] in (state, "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job did not reach {state}: {job}")


def test_jobs_need_a_key_stay_inside_the_data_roots_and_report_progress(default_encoder, tmp_path):
    root = tmp_path / "archieven"
    root.mkdir()
    _write_archive(root / "klein.jsonl", 4)
    (tmp_path / "geheim.jsonl").write_text('{"text": "niet van jou"}\n', encoding="utf-8")
    settings = Settings(api_keys=["geheim"], data_roots=[root], database_url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    with TestClient(create_app(settings)) as client:
        key = {"X-API-Key": "geheim"}
        assert client.post("/v1/jobs", json={"paths": ["klein.jsonl"]}).status_code == 401
        for bad in (str(tmp_path / "geheim.jsonl"), "../geheim.jsonl", "/etc/passwd"):
            refused = client.post("/v1/jobs", json={"paths": [bad]}, headers=key)
            assert refused.status_code == 403, (bad, refused.text)
        missing = client.post("/v1/jobs", json={"paths": ["bestaat-niet.jsonl"]}, headers=key)
        assert missing.status_code == 422 and "does not exist" in missing.json()["detail"]
        assert client.post("/v1/jobs", json={"paths": []}, headers=key).status_code == 422
        assert client.post("/v1/jobs", json={"paths": ["klein.jsonl"], "map": "tekst"}, headers=key).status_code == 422

        accepted = client.post("/v1/jobs", json={"paths": ["klein.jsonl"], "source": "test"}, headers=key)
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        job = _wait_for(lambda: client.get(f"/v1/jobs/{job_id}").json(), "finished")
        assert job["state"] == "finished", job
        assert job["progress"]["scored"] == 4 and len(job["run_ids"]) == 1
        assert client.get("/v1/jobs/999999").status_code == 404
        assert client.get("/v1/jobs").json()["jobs"][0]["id"] == job_id
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM document_scores").fetchone()[0] == 4


def test_a_job_resumes_after_its_server_is_killed(default_encoder, tmp_path, start_server):
    root = tmp_path / "archieven"
    root.mkdir()
    n = 40
    _write_archive(root / "groot.jsonl", n)
    db = tmp_path / "store.sqlite"
    env = {"DISCOURSE_API_API_KEYS": '["geheim"]', "DISCOURSE_API_DATA_ROOTS": json.dumps([str(root)]),
           "DISCOURSE_API_DATABASE_URL": f"sqlite:///{db}"}
    server = start_server(env)
    submitted = httpx.post(f"{server.base}/v1/jobs", headers={"X-API-Key": "geheim"}, timeout=30,
                           json={"paths": ["groot.jsonl"], "batch_size": 2, "prefilter": False})
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]

    def scored() -> int:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM document_scores").fetchone()[0]

    deadline = time.time() + 300
    while scored() < 4 and time.time() < deadline:
        time.sleep(0.2)
    server.process.kill()  # SIGKILL: no shutdown, no goodbye
    server.process.wait(timeout=30)
    at_kill = scored()
    assert 4 <= at_kill < n

    restarted = start_server(env)
    job = _wait_for(lambda: httpx.get(f"{restarted.base}/v1/jobs/{job_id}", timeout=10).json(), "finished")
    assert job["state"] == "finished", job
    assert len(job["run_ids"]) == 2 and job["progress"]["skipped"].get("already_scored") == at_kill
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT document_id) FROM document_scores").fetchone() == (n, n)
