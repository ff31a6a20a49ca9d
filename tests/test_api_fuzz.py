"""Schema-driven fuzzing: schemathesis generates requests from the service's own OpenAPI schema — bodies that
fit it (positive) and bodies that break it (negative: wrong types, missing fields, odd strings) — and sends them
to a real uvicorn process; none may get a 5xx or a stack trace. Bounded: a fixed number of examples per
operation and mode, derandomised so a failure reproduces.

(schemathesis' own pytest plugin does not run under pytest 9, so the operations are driven through hypothesis
directly; the generation is schemathesis' all the same.)"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (schemathesis brings hypothesis)
from hypothesis.errors import Unsatisfiable  # noqa: E402

pytestmark = pytest.mark.encoder

EXAMPLES = 40  # per operation and generation mode: 5 operations × 2 modes × 40 ≈ 400 requests


@pytest.fixture(scope="module")
def fuzz_server(default_encoder, tmp_path_factory):
    from conftest import UvicornServer

    # Small limits keep each generated request cheap; the limits themselves get fuzzed too.
    server = UvicornServer(tmp_path_factory.mktemp("fuzz") / "server.log",
                           {"DISCOURSE_API_MAX_ITEMS": "4", "DISCOURSE_API_MAX_CHARS": "400",
                            "DISCOURSE_API_API_KEYS": '["geheim"]'})
    yield server.wait_ready()
    server.stop()


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_no_generated_request_gets_a_server_error(fuzz_server, mode):
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/classify", "GET /v1/health", "GET /v1/models"}
    seen: dict[str, set[int]] = {}
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            response = case.call(base_url=fuzz_server.base, timeout=60)
            seen.setdefault(operation.label, set()).add(response.status_code)
            assert response.status_code < 500, (f"{case.method} {case.path} body={case.body!r:.300} → "
                                                f"{response.status_code}: {response.text[:300]}")
            assert b"Traceback" not in response.content  # bytes: a download (.qdpx) is no text
            assert response.headers.get("x-request-id")

        try:
            call()
        except Unsatisfiable:  # negative mode: nothing in GET /v1/health, or a header-only input, can be broken
            assert mode is schemathesis.GenerationMode.NEGATIVE and operation.label != "POST /v1/classify"
    if mode is schemathesis.GenerationMode.NEGATIVE:  # broken bodies were really sent and refused
        assert seen["POST /v1/classify"] & {413, 422}, seen
    assert "Traceback" not in fuzz_server.log()


def test_a_chunked_body_past_the_limit_is_413_over_the_wire(fuzz_server):
    """A real uvicorn process, a real chunked upload (no Content-Length) of 100 MB: 413 naming the limit; the
    server stays healthy and still classifies."""
    import httpx

    def body():
        yield b'{"texts": ["'
        for _ in range(100_000_000 // 65_536):
            yield b"x" * 65_536
        yield b'"]}'

    with httpx.Client(base_url=fuzz_server.base, timeout=120) as http:
        response = http.post("/v1/classify", content=body(), headers={"content-type": "application/json"})
        assert response.status_code == 413, response.text[:300]
        assert "4,000,000 bytes" in response.json()["detail"]
        assert http.get("/v1/health").status_code == 200
        ok = http.post("/v1/classify", json={"text": "Goed genoeg is echt genoeg, zei de vroedvrouw."})
        assert ok.status_code == 200 and ok.json()["items"][0]["label"]
