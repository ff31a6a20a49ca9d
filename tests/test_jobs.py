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
        job = _wait_for(lambda: client.get(f"/v1/jobs/{job_id}", headers=key).json(), "finished")
        assert job["state"] == "finished", job
        assert job["progress"]["scored"] == 4 and len(job["run_ids"]) == 1
        assert client.get("/v1/jobs/999999", headers=key).status_code == 404
        assert client.get("/v1/jobs", headers=key).json()["jobs"][0]["id"] == job_id
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
    job = _wait_for(lambda: httpx.get(f"{restarted.base}/v1/jobs/{job_id}", headers={"X-API-Key": "geheim"}, timeout=10).json(), "finished")
    assert job["state"] == "finished", job
    assert len(job["run_ids"]) == 2 and job["progress"]["skipped"].get("already_scored") == at_kill
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT document_id) FROM document_scores").fetchone() == (n, n)
        # The killed server's run was closed as interrupted by the server that took the job up.
        assert [r[0] for r in conn.execute("SELECT state FROM runs ORDER BY id")] == ["interrupted", "finished"]


# ------------------------------------------------------------------------------------------------ several servers


@pytest.fixture(scope="module")
def model():
    from discourse.model.framing import FramingModel
    from discourse.settings import DEFAULT_MODEL_DIR

    return FramingModel.load(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def prefilter():
    from discourse.model.prefilter import RelevancePrefilter

    return RelevancePrefilter.load()


def _engine(url):
    from discourse.store import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine


def _count(engine, sql: str):
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_a_queued_job_is_claimed_by_exactly_one_server(store_url, prefilter):
    import threading

    from discourse.pipeline.jobs import JobRunner

    engine = _engine(store_url)
    servers = [JobRunner(engine, lambda: None, prefilter, roots=[], owner=f"server-{i}") for i in range(2)]
    jobs = [servers[0].submit([f"/data/{i}.jsonl"], {}) for i in range(30)]
    claims: list[tuple[str, int]] = []
    start = threading.Barrier(8)

    def take(server):
        start.wait()
        while (job := server.claim()) is not None:
            claims.append((server.owner, job["id"]))

    threads = [threading.Thread(target=take, args=(servers[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(job for _, job in claims) == jobs  # every job once, none twice
    owners = dict((job, owner) for owner, job in claims)
    for job in jobs:
        stored = servers[0].get(job)
        assert stored["state"] == "running"
    assert _count(engine, "SELECT COUNT(*) FROM jobs WHERE state = 'running' AND owner IS NOT NULL") == 30
    assert {_count(engine, f"SELECT owner FROM jobs WHERE id = {job}") for job in jobs} == set(owners.values())
    engine.dispose()


def test_start_up_takes_up_only_the_jobs_whose_server_died(store_url, prefilter):
    import datetime as dt
    import socket
    import subprocess
    import sys

    from sqlalchemy import update

    from discourse.pipeline.jobs import JobRunner
    from discourse.store.jobs import MAX_ATTEMPTS
    from discourse.store import ScoreWriter
    from discourse.store.liveness import process_owner
    from discourse.store.schema import Job, utcnow

    engine = _engine(store_url)
    writer = ScoreWriter(engine)
    dead_pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                                  text=True).stdout)
    dead = f"{socket.gethostname()}:{dead_pid}:abc"
    stale = utcnow() - dt.timedelta(hours=1)
    runner = JobRunner(engine, lambda: None, prefilter, roots=[], owner="new-server")
    live_run = writer.start_run(model="m", model_version="1", owner=process_owner())
    dead_run = writer.start_run(model="m", model_version="1", owner=process_owner())
    rows = {  # name: (owner, heartbeat, run ids)
        "alive here": (process_owner(), utcnow(), [live_run]),  # another server in this very process
        "alive elsewhere": ("elders:1:x", utcnow(), []),
        "dead here": (dead, utcnow(), [dead_run]),
        "silent elsewhere": ("elders:2:x", stale, []),
        "legacy": (None, None, []),  # left running by a server from before owners existed
        "dies every time": (dead, utcnow(), list(range(1000, 1000 + MAX_ATTEMPTS))),
    }
    ids = {}
    for name, (owner, beat, runs) in rows.items():
        ids[name] = runner.submit([name], {})
        with engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == ids[name]).values(state="running", owner=owner,
                                                                          heartbeat_at=beat, run_ids=runs))
    assert sorted(runner.recover()) == sorted(ids[n] for n in ("dead here", "silent elsewhere", "legacy",
                                                               "dies every time"))
    states = {name: runner.get(job)["state"] for name, job in ids.items()}
    assert states == {"alive here": "running", "alive elsewhere": "running", "dead here": "queued",
                      "silent elsewhere": "queued", "legacy": "queued", "dies every time": "failed"}
    assert "interrupted 5 times" in runner.get(ids["dies every time"])["error"]
    run_states = dict(engine.connect().execute(__import__("sqlalchemy").text("SELECT id, state FROM runs")).all())
    assert run_states == {live_run: "running", dead_run: "interrupted"}
    assert runner.recover() == []  # nothing twice
    engine.dispose()


def test_two_servers_on_one_store_run_each_job_once(store_url, model, prefilter, tmp_path):
    from discourse.pipeline.jobs import JobRunner

    root = tmp_path / "archieven"
    root.mkdir()
    articles = authored_articles(12)
    for i in range(6):
        (root / f"deel-{i}.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n"
                                                      for a in articles[2 * i:2 * i + 2]), encoding="utf-8")
    engine = _engine(store_url)
    servers = [JobRunner(engine, lambda: model, prefilter, roots=[root], owner=f"server-{i}") for i in range(2)]
    jobs = [servers[i % 2].submit([str(root / f"deel-{i}.jsonl")], {"prefilter": False}) for i in range(6)]
    for server in servers:
        server.start()
    try:
        done = [_wait_for(lambda job=job: servers[0].get(job), "finished") for job in jobs]
    finally:
        for server in servers:
            server.stop()
    assert [job["state"] for job in done] == ["finished"] * 6, [job["error"] for job in done]
    assert all(len(job["run_ids"]) == 1 for job in done)
    assert _count(engine, "SELECT COUNT(*) FROM runs") == 6
    assert _count(engine, "SELECT COUNT(*) FROM document_scores") == 12
    engine.dispose()


def test_a_job_reads_no_file_outside_the_data_roots_through_a_symlink(model, prefilter, tmp_path):
    import os

    from discourse.pipeline.jobs import JobRunner

    root = tmp_path / "archieven"
    (root / "map").mkdir(parents=True)
    _write_archive(root / "map" / "goed.jsonl", 2)
    secret = tmp_path / "geheim.jsonl"
    secret.write_text(json.dumps({"id": "geheim", "text": authored_articles(3)[2]["text"]}) + "\n",
                      encoding="utf-8")
    (root / "map" / "link.jsonl").symlink_to(secret)
    (root / "map" / "omgeving.jsonl").symlink_to("/proc/self/environ")
    os.environ["DISCOURSE_TEST_SECRET"] = "zeer-geheim-token"
    engine = _engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    runner = JobRunner(engine, lambda: model, prefilter, roots=[root])
    job_id = runner.submit([str(root / "map")], {"prefilter": False})
    runner.start()
    try:
        job = _wait_for(lambda: runner.get(job_id), "finished")
    finally:
        runner.stop()
    assert job["state"] == "finished", job
    assert job["progress"]["scored"] == 2
    assert {k: v for k, v in job["progress"]["skipped"].items() if v} == {"path_not_allowed": 2}
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        assert {r[0] for r in conn.execute("SELECT id FROM documents")} == {"art-0", "art-1"}
        rejected = conn.execute("SELECT source_path, reason_code, reason, raw_excerpt FROM rejected_records "
                                "ORDER BY source_path").fetchall()
    assert [(os.path.basename(p), code) for p, code, _, _ in rejected] == [("link.jsonl", "path_not_allowed"),
                                                                          ("omgeving.jsonl", "path_not_allowed")]
    assert all(excerpt == "" and "outside the data roots" in reason for _, _, reason, excerpt in rejected)
    assert "zeer-geheim-token" not in json.dumps(rejected)
    engine.dispose()


def test_a_server_whose_job_was_taken_over_stops_it_and_leaves_it_alone(model, prefilter, tmp_path):
    """A server thought dead (its heartbeat late) may still be working when another takes its job: at its next
    heartbeat it finds the job is no longer its own, stops at the next batch, closes its run as interrupted, and
    writes nothing more to the job."""
    from sqlalchemy import update

    from discourse.pipeline.jobs import JobRunner
    from discourse.store.schema import Job

    root = tmp_path / "archieven"
    root.mkdir()
    _write_archive(root / "groot.jsonl", 40)
    engine = _engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    runner = JobRunner(engine, lambda: model, prefilter, roots=[root], heartbeat_s=0.2)
    job_id = runner.submit([str(root / "groot.jsonl")], {"prefilter": False, "batch_size": 2})
    runner.start()
    try:
        deadline = time.time() + 300
        while _count(engine, "SELECT COUNT(*) FROM document_scores") < 4 and time.time() < deadline:
            time.sleep(0.1)
        with engine.begin() as conn:  # another server takes the job over
            conn.execute(update(Job).where(Job.id == job_id).values(owner="elders:1:x"))
        deadline = time.time() + 120
        while _count(engine, "SELECT COUNT(*) FROM runs WHERE state = 'running'") and time.time() < deadline:
            time.sleep(0.1)
    finally:
        runner.stop()
    assert _count(engine, "SELECT state FROM runs") == "interrupted"
    job = runner.get(job_id)
    assert job["state"] == "running" and job["error"] is None  # left to the server that owns it now
    assert _count(engine, "SELECT owner FROM jobs") == "elders:1:x"
    assert _count(engine, "SELECT COUNT(*) FROM document_scores") < 40
    engine.dispose()
