"""The HTTP service, in process (httpx through FastAPI's TestClient) with the real shipped model, and as a real
uvicorn process driven by concurrent clients."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from discourse.pipeline.classify import classify_texts

pytestmark = pytest.mark.encoder

PRESSURING = "Als je in de eerste 1000 dagen niet elke dag voorleest, loopt je kind een achterstand op die nooit meer goedkomt."
SUPPORTIVE = "Ge moet u niet schuldig voelen als het niet perfect loopt; goed genoeg is echt genoeg."
NEUTRAL_NEWS = "De gemeenteraad keurde gisteren de begroting voor de heraanleg van het marktplein goed."


@pytest.fixture(scope="module")
def client(default_encoder, tmp_path_factory):
    settings = Settings(api_keys=["geheim"], max_items=8, max_chars=2_000, max_body_bytes=50_000,
                        max_json_containers=2_000, max_json_values=10_000,
                        database_url=f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_health_ready_and_request_id(client):
    response = client.get("/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 32
    assert client.get("/v1/health", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"] == "abc-1"
    ready = client.get("/v1/ready")
    assert ready.status_code == 200 and ready.json()["model"] is True and ready.json()["database"] is True


def test_ready_is_503_when_the_database_is_gone(client, free_tcp_port):
    from sqlalchemy import create_engine

    store = client.app.state.store  # swapped for a PostgreSQL URL where nothing listens
    client.app.state.store = create_engine(f"postgresql+psycopg://x:y@127.0.0.1:{free_tcp_port}/none",
                                           connect_args={"connect_timeout": 2})
    try:
        ready = client.get("/v1/ready")
    finally:
        client.app.state.store.dispose()
        client.app.state.store = store
    assert ready.status_code == 503 and ready.json() == {**ready.json(), "database": False, "status": "not ready"}


def test_models_lists_model_metrics_and_codebook(client):
    body = client.get("/v1/models").json()
    model = body["models"][0]
    assert model["model"] == "framing-e5-small" and model["model_version"]
    assert 0.5 < model["metrics"]["test"]["stance"] <= 1.0
    assert list(model["metrics"])[0] == "real_test", "real text first"
    assert 0.0 < model["metrics"]["real_test"]["stance"] <= 1.0
    assert {s["label"] for s in body["codebook"]["stances"]} == {"supportive", "pressuring", "neutral"}
    assert len(body["codebook"]["frames"]) == 12 and all(f["nl"] and f["en"] for f in body["codebook"]["frames"])


def test_classify_single_text_matches_the_library(client, default_encoder):
    response = client.post("/v1/classify", json={"text": PRESSURING})
    assert response.status_code == 200
    row = response.json()["items"][0]
    assert row["label"] == "pressuring"
    assert abs(sum(row["scores"].values()) - 1) < 1e-3  # rounded to 4 decimals
    assert row["language"] == "nl" and row["model"] == "framing-e5-small" and row["codebook_version"]
    direct = classify_texts(client.app.state.model, [PRESSURING])[0]
    assert row["scores"] == pytest.approx(direct["scores"], abs=1e-4)


def test_classify_items_document_level_with_passthrough_and_per_item_errors(client):
    items = [{"id": "a", "text": SUPPORTIVE + " " + PRESSURING, "bron": "test"},
             {"id": "b", "text": "This is plainly an English sentence about babies and their parents."},
             {"id": 3, "text": SUPPORTIVE}]
    response = client.post("/v1/classify", json={"items": items, "level": "document"})
    assert response.status_code == 200
    rows = response.json()["items"]
    assert [r["id"] for r in rows] == ["a", "b", 3]
    assert rows[0]["bron"] == "test" and rows[0]["sentences"]["total"] == 2
    assert rows[0]["evidence"]["pressuring"] and rows[0]["evidence"]["supportive"]
    assert "not Dutch" in rows[1]["error"] and "label" not in rows[1]
    assert rows[2]["label"] == "supportive"


@pytest.mark.parametrize("body, field", [
    ({"text": "   "}, "text"),
    ({"texts": ["een zin", ""]}, "texts"),
    ({"texts": []}, "body"),
    ({}, "body"),
    ({"text": "a", "texts": ["b"]}, "body"),
    ({"text": 5}, "text"),
    ({"items": [{"id": 1}]}, "items.0.text"),
    ({"text": "een zin", "level": "paragraph"}, "level"),
])
def test_bad_input_is_422_with_the_field_named(client, body, field):
    response = client.post("/v1/classify", json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["detail"]], response.json()


def test_malformed_json_is_422(client):
    response = client.post("/v1/classify", content=b'{"text": "kapot', headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "body"
    assert "not valid JSON" in response.json()["detail"][0]["message"]


def test_limits_are_413_naming_the_limit(client):
    too_many = client.post("/v1/classify", json={"texts": [SUPPORTIVE] * 9})
    assert too_many.status_code == 413 and "limit is 8" in too_many.json()["detail"]
    too_long = client.post("/v1/classify", json={"text": "zin " * 600})
    assert too_long.status_code == 413 and "limit is 2,000" in too_long.json()["detail"]
    too_big = client.post("/v1/classify", json={"texts": ["x" * 30_000, "y" * 30_000]})
    assert too_big.status_code == 413 and "50,000 bytes" in too_big.json()["detail"]


def test_unknown_route_and_method_are_json_errors(client):
    assert client.get("/v1/nope").status_code == 404
    response = client.get("/v1/classify")
    assert response.status_code == 405 and "request_id" in response.json()


def test_model_reload_is_an_admin_endpoint(client, tmp_path):
    assert client.post("/v1/models/reload").status_code == 401
    assert client.post("/v1/models/reload", headers={"X-API-Key": "geheim2"}).status_code == 401
    before = client.app.state.model
    response = client.post("/v1/models/reload", headers={"X-API-Key": "geheim"})
    assert response.status_code == 200 and response.json()["reloaded"] is True
    assert response.json()["model_version"] == before.describe()["model_version"]
    assert client.app.state.model is not before and client.app.state.batcher.model is client.app.state.model
    assert client.post("/v1/classify", json={"text": PRESSURING}).json()["items"][0]["label"] == "pressuring"
    # a broken folder: a clear error, and the running model keeps serving
    client.app.state.model_dir, folder = tmp_path, client.app.state.model_dir
    try:
        failed = client.post("/v1/models/reload", headers={"X-API-Key": "geheim"})
    finally:
        client.app.state.model_dir = folder
    assert failed.status_code == 500 and "previous model is still serving" in failed.json()["detail"]
    assert "Traceback" not in failed.text
    assert client.post("/v1/classify", json={"text": SUPPORTIVE}).json()["items"][0]["label"] == "supportive"


def test_classify_can_be_closed_behind_an_api_key(default_encoder):
    settings = Settings(api_keys=["geheim"], classify_requires_key=True)
    with TestClient(create_app(settings)) as closed:
        assert closed.post("/v1/classify", json={"text": SUPPORTIVE}).status_code == 401
        wrong = closed.post("/v1/classify", json={"text": SUPPORTIVE}, headers={"X-API-Key": "fout"})
        assert wrong.status_code == 401 and "X-API-Key" in wrong.json()["detail"]
        right = closed.post("/v1/classify", json={"text": SUPPORTIVE}, headers={"X-API-Key": "geheim"})
        assert right.status_code == 200 and right.json()["items"][0]["label"] == "supportive"


def test_concurrent_requests_are_batched_without_cross_talk(client):
    texts = [PRESSURING, SUPPORTIVE, NEUTRAL_NEWS] * 6
    expected = {t: r["label"] for t, r in zip(texts[:3], classify_texts(client.app.state.model, texts[:3]))}
    batcher = client.app.state.batcher
    before_batches, before_records = batcher.batches_run, batcher.records_run

    def call(i):
        response = client.post("/v1/classify", json={"items": [{"id": i, "text": texts[i]}]})
        return i, response.json()["items"][0]

    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        results = list(pool.map(call, range(len(texts))))
    for i, row in results:
        assert row["id"] == i and row["label"] == expected[texts[i]]
    assert batcher.records_run - before_records == len(texts)
    assert batcher.batches_run - before_batches < len(texts)  # some requests shared a model call


def test_real_uvicorn_process_under_concurrent_load(default_encoder, start_server):
    """Concurrent callers each get their own result; /v1/health keeps answering within 100 ms while the model
    works through a long document batch."""
    server = start_server({"DISCOURSE_API_BATCH_WAIT_MS": "10"})
    # Distinct sentences (the encoder computes a repeated sentence once): 4 × 150 of them keep the model busy.
    long_docs = [" ".join(f"In wijk {d}-{i} {s[0].lower()}{s[1:]}" for i in range(50)
                          for s in (SUPPORTIVE, PRESSURING, NEUTRAL_NEWS)) for d in range(4)]
    texts = [PRESSURING, SUPPORTIVE, NEUTRAL_NEWS] * 6

    def call(i):
        with httpx.Client(timeout=120) as http:
            return i, http.post(f"{server.base}/v1/classify", json={"items": [{"id": f"r{i}", "text": texts[i]}]})

    health_ms = []
    with ThreadPoolExecutor(max_workers=20) as pool:
        busy = pool.submit(lambda: httpx.post(f"{server.base}/v1/classify", timeout=300,
                                              json={"texts": long_docs, "level": "document"}))
        time.sleep(0.3)
        with httpx.Client(timeout=5) as http:
            for _ in range(10):
                started = time.perf_counter()
                assert http.get(f"{server.base}/v1/health").status_code == 200
                health_ms.append((time.perf_counter() - started) * 1000)
                time.sleep(0.05)
        assert not busy.done(), "the long batch ended before health was probed: the probe proved nothing"
        results = list(pool.map(call, range(len(texts))))
        assert busy.result().status_code == 200
    assert sorted(health_ms)[8] < 100, health_ms  # 9 of 10 probes within 100 ms (one scheduler hiccup allowed)
    labels = {}
    for i, response in results:
        assert response.status_code == 200
        row = response.json()["items"][0]
        assert row["id"] == f"r{i}"
        labels.setdefault(texts[i], set()).add(row["label"])
    assert all(len(v) == 1 for v in labels.values()), labels
    assert labels[PRESSURING] == {"pressuring"} and labels[SUPPORTIVE] == {"supportive"}
    assert "Traceback" not in server.log()


def test_a_chunked_body_past_the_limit_is_413_before_it_is_read(client):
    """A body without Content-Length (Transfer-Encoding: chunked) is counted as it arrives: 100 MB offered,
    the server stops reading just past the 50,000-byte limit and answers 413 naming it."""
    import asyncio

    offered = 100_000_000
    sent = 0

    async def body():
        nonlocal sent
        yield b'{"texts": ["'
        chunk = b"x" * 65_536
        while sent < offered:
            sent += len(chunk)
            yield chunk
        yield b'"]}'

    async def post():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.post("/v1/classify", content=body(), headers={"content-type": "application/json"})

    response = asyncio.run(post())
    assert response.status_code == 413, response.text[:300]
    assert "50,000 bytes" in response.json()["detail"] and response.json()["request_id"]
    assert sent < 200_000  # stopped at the limit, not after reading 100 MB


def _raw_json(body: dict) -> bytes:
    import json

    return json.dumps(body).encode("ascii")  # ensure_ascii: a lone surrogate travels as the escape \ud800


@pytest.mark.parametrize("body, field", [
    ({"text": "Een zin \ud800 met een halve surrogaat."}, "text"),
    ({"texts": [SUPPORTIVE, "kapot \udfff"]}, "texts.1"),
    ({"items": [{"id": "a", "text": "\ud83d kapot"}]}, "items.0.text"),
    ({"items": [{"id": "\ud800", "text": SUPPORTIVE}]}, "items.0.id"),
    ({"items": [{"id": "a", "text": SUPPORTIVE, "bron": "\ud800"}]}, "items.0"),
    ({"items": [{"id": "a", "text": SUPPORTIVE, "meta": {"tags": ["ok", "\ud800"]}}]}, "items.0"),
    ({"items": [{"id": "a", "text": SUPPORTIVE, "\ud800": 1}]}, "items.0"),
])
def test_text_that_cannot_be_utf8_is_422_naming_the_field(client, body, field):
    batches = client.app.state.batcher.batches_run
    response = client.post("/v1/classify", content=_raw_json(body), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text[:300]
    errors = response.json()["detail"]
    assert field in [e["field"] for e in errors], errors
    assert any("surrogate" in e["message"] or "unicode" in e["message"] for e in errors)
    assert client.app.state.batcher.batches_run == batches  # refused before the model saw anything


def test_deeply_nested_bodies_are_4xx_not_a_crash(client):
    deep = 900  # parses (under Python's recursion limit) but would exhaust it when the response is written
    nested = client.post("/v1/classify", headers={"content-type": "application/json"},
                         content=b'{"items": [{"text": "Goed genoeg.", "meta": ' + b"[" * deep + b"]" * deep + b"}]}")
    assert nested.status_code == 422 and "nests deeper than 32" in nested.json()["detail"][0]["message"]
    fine = client.post("/v1/classify", json={"items": [{"text": SUPPORTIVE, "meta": [[[{"a": [1]}]]]}]})
    assert fine.status_code == 200 and fine.json()["items"][0]["meta"] == [[[{"a": [1]}]]]
    too_deep_to_parse = client.post("/v1/classify", content=b"[" * 100_000 + b"]" * 100_000,
                                    headers={"content-type": "application/json"})
    assert 400 <= too_deep_to_parse.status_code < 500


def test_bodies_with_too_many_json_values_are_refused_before_they_are_parsed(client):
    """Parsing and validation run on the event loop, and their cost grows with the number of JSON values, not
    bytes: a 3 MB list of 1,000,000 numbers as `items` kept the loop (and /v1/health) busy for 16 s. Such bodies
    are counted as they arrive and refused with a 413 naming the limit, before parsing."""
    batches = client.app.state.batcher.batches_run
    for body, setting in [(b'{"items": [' + b"1," * 12_000 + b"1]}", "DISCOURSE_API_MAX_JSON_VALUES"),
                          (b'{"items": [' + b'{"text": "a"},' * 2_500 + b'{"text": "a"}]}',
                           "DISCOURSE_API_MAX_JSON_CONTAINERS"),
                          (b"[" * 20_000 + b"]" * 20_000, "DISCOURSE_API_MAX_JSON_CONTAINERS")]:
        response = client.post("/v1/classify", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 413 and setting in response.json()["detail"], response.text[:300]
        assert response.json()["request_id"] == response.headers["x-request-id"]
    # a pass-through field is metadata: at most MAX_PASSTHROUGH_VALUES values, checked without walking them all
    meta = client.post("/v1/classify", json={"items": [{"text": SUPPORTIVE, "m": list(range(1_500))}]})
    assert meta.status_code == 422 and "more than 1,000 values" in meta.json()["detail"][0]["message"]
    assert client.app.state.batcher.batches_run == batches


def test_a_huge_list_of_texts_fails_validation_at_the_ceiling_not_per_entry(client):
    """Past MAX_ITEMS_CEILING entries validation stops with one error (it reported 1,000,000 errors for a list of
    1,000,000 numbers, 16 s on the event loop); the service answers it as any list past DISCOURSE_API_MAX_ITEMS."""
    from pydantic import ValidationError

    from api.schemas import MAX_ITEMS_CEILING, ClassifyRequest

    for field in ("texts", "items"):
        with pytest.raises(ValidationError) as refused:
            ClassifyRequest.model_validate({field: [1] * (MAX_ITEMS_CEILING * 20)})
        assert refused.value.error_count() == 1
    response = client.post("/v1/classify", json={"texts": ["a"] * (MAX_ITEMS_CEILING + 1)})
    assert response.status_code == 413 and "the limit is 8 (DISCOURSE_API_MAX_ITEMS)" in response.json()["detail"]


def test_surrogates_in_other_bodies_and_query_strings(client):
    compare = client.post("/v1/compare", content=_raw_json({"a": "genre=\ud800", "b": "genre=policy"}),
                          headers={"content-type": "application/json"})
    assert compare.status_code == 422 and compare.json()["detail"][0]["field"] == "a"
    job = client.post("/v1/jobs", content=_raw_json({"paths": ["nos/\udc00.jsonl"]}),
                      headers={"content-type": "application/json", "X-API-Key": "geheim"})
    assert job.status_code == 422 and job.json()["detail"][0]["field"] == "paths.0"
    # Percent-encoded surrogate bytes are not UTF-8: the query string decodes them to U+FFFD, never a crash.
    for path in ("/v1/dashboard/summary?source=%ED%A0%80", "/v1/topics?name=%ED%A0%80",
                 "/v1/dashboard/documents/%ED%A0%80"):
        assert client.get(path).status_code < 500, path


def test_job_reads_need_the_key(client):
    for path in ("/v1/jobs", "/v1/jobs/1"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"X-API-Key": "fout"}).status_code == 401, path
    assert client.get("/v1/jobs", headers={"X-API-Key": "geheim"}).status_code == 200
    assert client.get("/v1/jobs/1", headers={"X-API-Key": "geheim"}).status_code == 404


def test_protect_reads_puts_dashboard_compare_and_topics_behind_the_key(default_encoder, tmp_path):
    settings = Settings(api_keys=["geheim"], protect_reads=True,
                        database_url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    reads = [("GET", "/v1/dashboard/options", None), ("GET", "/v1/dashboard/summary", None),
             ("GET", "/v1/dashboard/documents/d1", None), ("GET", "/v1/topics", None),
             ("POST", "/v1/compare", {"a": "genre=interview", "b": "genre=policy"})]
    with TestClient(create_app(settings)) as closed:
        for method, path, body in reads:
            refused = closed.request(method, path, json=body)
            assert refused.status_code == 401 and "PROTECT_READS" in refused.json()["detail"], path
            allowed = closed.request(method, path, json=body, headers={"X-API-Key": "geheim"})
            assert allowed.status_code != 401, path
        # the service side stays open: health, the page, and classify (closed by its own setting)
        assert closed.get("/v1/health").status_code == 200 and closed.get("/").status_code == 200
        assert closed.post("/v1/classify", json={"text": SUPPORTIVE}).status_code == 200


def test_env_file_is_not_read_from_the_working_directory(tmp_path, monkeypatch):
    from pydantic import ValidationError

    (tmp_path / ".env").write_text("DISCOURSE_API_MAX_ITEMS=3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCOURSE_ENV_FILE", raising=False)
    monkeypatch.delenv("DISCOURSE_API_MAX_ITEMS", raising=False)
    assert Settings().max_items == 256
    named = tmp_path / "service.env"
    named.write_text("DISCOURSE_API_MAX_ITEMS=5\n", encoding="utf-8")
    monkeypatch.setenv("DISCOURSE_ENV_FILE", str(named))
    assert Settings().max_items == 5
    monkeypatch.setenv("DISCOURSE_ENV_FILE", "")
    assert Settings().max_items == 256
    for root in ("/", "/tmp/.."):
        with pytest.raises(ValidationError, match="root of the file system"):
            Settings(data_roots=[root])
    assert Settings(data_roots=[tmp_path]).data_roots == [tmp_path]


def test_the_server_refuses_to_start_with_the_filesystem_root_as_data_root(tmp_path):
    import os
    import subprocess
    import sys

    from discourse.settings import REPO_ROOT

    done = subprocess.run([sys.executable, "-c", "import api.main"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DISCOURSE_API_DATA_ROOTS": '["/"]'})
    assert done.returncode != 0 and "root of the file system" in done.stderr, done.stderr[-2000:]


def test_start_up_imports_the_topic_stack_and_freezes_the_heap(demo_store, demo_topic_model):
    """What would otherwise stall the event loop later happens before the first request: a fitted topic model
    is loaded (importing BERTopic, UMAP and numba takes seconds, holding the GIL), and the objects alive after
    start-up are moved out of the garbage collector's view (a full collection walks them in ~60 ms)."""
    import json
    import subprocess
    import sys

    from discourse.settings import REPO_ROOT

    script = (
        "import gc, json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from api.main import create_app\n"
        "from api.settings import Settings\n"
        "before = ('bertopic' in sys.modules, gc.get_freeze_count())\n"
        f"with TestClient(create_app(Settings(database_url={demo_store!r}))) as client:\n"
        "    assert client.get('/v1/health').status_code == 200\n"
        "    after = ('bertopic' in sys.modules, gc.get_freeze_count())\n"
        "print(json.dumps({'before': before, 'after': after}))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["before"] == [False, 0]
    assert state["after"][0] is True and state["after"][1] > 50_000
