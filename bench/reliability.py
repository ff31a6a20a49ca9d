"""Reliability under hostile traffic: a real uvicorn process of the service on a temporary demo-sized store,
8 client threads classifying normal Dutch texts, while a generator sends 1,000 hostile requests.

    .venv/bin/python bench/reliability.py [--hostile 1000] [--clients 8] [--hostile-workers 4] [--seed 0] [--write]

Loopback only, bounded: every hostile request is generated up front from the seed. The hostile mix: chunked
bodies of 5-100 MB without Content-Length, a Content-Length of 1 GB, lone surrogates (in text, texts, ids,
pass-through fields, compare filters, job paths), deeply nested JSON, malformed JSON and wrong types, bad and
percent-encoded query parameters, huge ids, echo compares with and without the key (several at once), random
compares, missing or wrong keys and a 20 KB key header, unknown routes and methods, odd Unicode, and long texts
(100,000 characters at document level, 100,001 characters). A probe GETs /v1/health every 100 ms throughout.

Reported: responses >= 500 (must be 0) and transport errors; /v1/health p50/p99/max in the idle and the hostile
phase (target p99 <= 100 ms); classify latency of the normal texts idle vs under attack (target p99 within 2x);
status codes per kind of hostile request; the CPU flags that matter for the int8 encoder. `--write` saves
bench/results/reliability.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import socket
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from service import free_port, percentiles, start_server  # noqa: E402  (puts the repo on sys.path)

ROOT = Path(__file__).resolve().parent.parent

KEY = "bench-key"
HEALTH_EVERY_S = 0.1


# ---------------------------------------------------------------------------------------------- set-up

def build_store(folder: Path) -> str:
    """The demo data as `make run` loads it (12 institutional texts, 8 interviews), scored into a fresh store."""
    from discourse.model.framing import FramingModel
    from discourse.pipeline.demo import load_demo
    from discourse.settings import DEFAULT_MODEL_DIR

    url = f"sqlite:///{folder / 'store.sqlite'}"
    load_demo(url, FramingModel.load(DEFAULT_MODEL_DIR))
    return url


def normal_texts() -> list[str]:
    """Short Dutch texts: the project's annotated units, one or two sentences each."""
    from discourse.training.corpus import load_units

    return [u.text for u in load_units() if 20 <= len(u.text) <= 400]


def long_text(n_chars: int, rng: random.Random, texts: list[str]) -> str:
    parts, size = [], 0
    while size < n_chars:
        parts.append(rng.choice(texts))
        size += len(parts[-1]) + 1
    return " ".join(parts)[:n_chars]


# ---------------------------------------------------------------------------------------------- hostile cases

def raw_json(body) -> bytes:
    return json.dumps(body).encode("ascii")  # ensure_ascii: lone surrogates travel as \\udXXX escapes


JSON = {"content-type": "application/json"}


def chunked(size: int):
    def body():
        yield b'{"texts": ["'
        for _ in range(size // 65_536):
            yield b"x" * 65_536
        yield b'"]}'
    return body()


def raw_request(port: int, head: bytes, body: bytes = b"") -> int:
    """A hand-written HTTP/1.1 request (e.g. a Content-Length that lies); the status of the answer, 0 if none."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head + body)
        data = b""
        while b"\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return 0
            data += chunk
    return int(data.split(b" ", 2)[1])


SURROGATE_BODIES = [
    ("/v1/classify", lambda s: {"text": f"Een zin {s} met een halve surrogaat."}),
    ("/v1/classify", lambda s: {"texts": ["Goed genoeg is genoeg.", f"kapot {s}"]}),
    ("/v1/classify", lambda s: {"items": [{"id": "a", "text": f"{s} kapot"}]}),
    ("/v1/classify", lambda s: {"items": [{"id": s, "text": "Goed genoeg is genoeg."}]}),
    ("/v1/classify", lambda s: {"items": [{"id": "a", "text": "Goed genoeg.", "bron": s}]}),
    ("/v1/classify", lambda s: {"items": [{"id": "a", "text": "Goed genoeg.", "meta": {"x": [1, {"y": s}]}}]}),
    ("/v1/classify", lambda s: {"items": [{"id": "a", "text": "Goed genoeg.", s: 1}]}),
    ("/v1/compare", lambda s: {"a": f"genre={s}", "b": "genre=policy"}),
    ("/v1/compare", lambda s: {"a": "genre=interview", "b": "genre=policy", "label_a": s}),
    ("/v1/jobs", lambda s: {"paths": [f"nos/{s}.jsonl"]}),
]

DASHBOARD = ["summary", "timeseries", "groups", "matrix", "documents", "topics", "options"]
BAD_VALUES = ["", "x" * 5000, "%ED%A0%80", "%FF%FE", "-1", "1e309", "NaN", "0x10", "2024-13-45", "attr:", "attr:%00",
              "=HYPERLINK(1)", "%00", "..%2F..%2Fetc%2Fpasswd", "9" * 400, "true", "[]", "{}", "%E2%80%AE"]
BAD_KEYS = ["source", "genre", "corpus", "stance", "frame", "topic_model", "topic", "min_relevance", "role",
            "speaker", "lang", "date_from", "date_to", "period", "by", "sort", "order", "limit", "min_n", "rows",
            "cols", "page", "page_size", "format", "model_version", "onbekend"]


def hostile_cases(n: int, rng: random.Random, port: int, texts: list[str], skip=()) -> list[tuple[str, callable]]:
    """`n` (kind, call) pairs; call(http) sends one request and returns its status code."""
    def post(path, body, headers=None, **kw):
        return lambda http: http.post(path, content=body, headers={**JSON, **(headers or {})}, **kw).status_code

    def get(path, headers=None):
        return lambda http: http.get(path, headers=headers or {}).status_code

    makers = {
        "chunked_huge": (1, lambda: post("/v1/classify", chunked(rng.randint(5, 100) * 1_000_000))),
        "content_length_lie": (2, lambda: lambda http: raw_request(
            port, b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000000000\r\nConnection: close\r\n\r\n", b'{"text": "')),
        "surrogate": (15, lambda: (lambda path, make: post(
            path, raw_json(make(rng.choice(["\ud800", "\udfff", "\ud83d", "\udc00"]))),
            {"X-API-Key": KEY} if path == "/v1/jobs" else None))(*rng.choice(SURROGATE_BODIES))),
        "deep_json": (8, lambda: (lambda depth: rng.choice([
            post("/v1/classify", b"[" * depth + b"]" * depth),
            post("/v1/classify", b'{"items": [{"text": "Goed genoeg.", "meta": ' + b"[" * depth + b"]" * depth
                 + b"}]}"),
            post("/v1/classify", b'{"text": ' + b"{\"a\": " * depth + b"1" + b"}" * depth + b"}"),
            post("/v1/compare", b'{"a": ' + b"[" * depth + b"]" * depth + b', "b": "genre=policy"}'),
        ]))(rng.choice([50, 500, 990, 5_000, 100_000]))),
        "bad_json": (10, lambda: rng.choice([
            post("/v1/classify", b'{"text": "kapot'), post("/v1/classify", b""),
            post("/v1/classify", b'{"text": NaN}'), post("/v1/classify", b'{"texts": "geen lijst"}'),
            post("/v1/classify", b'{"text": 1e999999}'), post("/v1/classify", b"\xff\xfe\x00"),
            post("/v1/classify", b'{"text": "ok"}', {"content-type": "text/plain"}),
            post("/v1/classify", b'{"items": [{"id": 1.5e308, "text": "Goed genoeg."}]}'),
            post("/v1/classify", b'{"text": "Goed genoeg.", "level": "paragraaf"}'),
            post("/v1/compare", b'{"a": "genre=interview", "b": "genre=policy", "n_resamples": 1e9}'),
            post("/v1/classify", raw_json({"texts": ["Goed genoeg."] * 1000})),
        ])),
        "bad_params": (20, lambda: get(f"/v1/dashboard/{rng.choice(DASHBOARD)}?" + "&".join(
            f"{rng.choice(BAD_KEYS)}={rng.choice(BAD_VALUES)}" for _ in range(rng.randint(1, 4))))),
        "bad_paths": (5, lambda: rng.choice([
            get(f"/v1/dashboard/documents/{rng.choice(BAD_VALUES)}"), get(f"/v1/topics/{rng.choice(BAD_VALUES)}"),
            get(f"/v1/topics?name={rng.choice(BAD_VALUES)}&group_by={rng.choice(BAD_VALUES)}"),
            get("/v1/" + "a/" * 2000), get("/v1/dashboard/summary?" + "source=x&" * 3000),
            get("/v1/nope"), lambda http: http.delete("/v1/classify").status_code,
            lambda http: http.put("/v1/jobs").status_code, lambda http: http.options("/v1/compare").status_code,
        ])),
        "huge_ids": (8, lambda: rng.choice([
            post("/v1/classify", raw_json({"items": [{"id": "i" * 1_000_000, "text": rng.choice(texts)}]})),
            post("/v1/classify", b'{"items": [{"id": 1' + b"0" * 4000 + b', "text": "Goed genoeg is genoeg."}]}'),
            get(f"/v1/topics/{10 ** 30}"), get(f"/v1/jobs/{10 ** 30}", {"X-API-Key": KEY}),
            get(f"/v1/jobs/-{10 ** 30}", {"X-API-Key": KEY}), get("/v1/dashboard/documents/" + "d" * 5000),
        ])),
        "echo_with_key": (3, lambda: post("/v1/compare", raw_json(
            {"a": "genre=interview", "b": "genre=policy", "echo": True, "n_resamples": 200}),
            {"X-API-Key": KEY}, timeout=120)),
        "echo_without_key": (2, lambda: post("/v1/compare", raw_json(
            {"a": "genre=interview", "b": "genre=policy", "echo": True}))),
        "compare_fuzz": (5, lambda: post("/v1/compare", raw_json(
            {"a": rng.choice(["genre=interview", "parent=mother", "date>=2023-01-01", "genre", "x==y", "a" * 1000,
                              "stance=pressuring", "frame=determinism", "topic=3", "source=niemand"]),
             "b": rng.choice(["genre=policy", "parent=father", "genre=interview"]),
             "n_resamples": rng.choice([100, 200]), "format": rng.choice(["json", "html"])}), timeout=120)),
        "auth": (5, lambda: rng.choice([
            get("/v1/jobs"), get("/v1/jobs/1", {"X-API-Key": "fout"}), get("/v1/jobs", {"X-API-Key": "k" * 20_000}),
            post("/v1/models/reload", b""), post("/v1/jobs", raw_json({"paths": ["/etc/passwd"]}), {"X-API-Key": KEY}),
            post("/v1/jobs", raw_json({"paths": ["../../etc/passwd"]}), {"X-API-Key": KEY}),
            post("/v1/jobs", raw_json({"paths": ["x"]})),
        ])),
        "odd_unicode": (10, lambda: post("/v1/classify", raw_json({"items": [{"id": i, "text": t} for i, t in enumerate(
            rng.sample(["\u202eGoed genoeg\u202c", "\x00\x01\x02 nul", "👶🍼" * 200, "\u200b" * 1000 + "zin",
                        "Ze zegt: \"goed genoeg\"\r\n\t", "ﷺ" * 300, "a\u0301" * 2000, "ǅ" * 500,
                        "Kind en Gezin zegt dat je moet voorlezen.\ufeff"], 3))]}))),
        "long_text": (1, lambda: rng.choice([
            post("/v1/classify", raw_json({"text": long_text(100_000, rng, texts), "level": "document"}),
                 timeout=600),
            post("/v1/classify", raw_json({"text": long_text(100_001, rng, texts), "level": "document"})),
            post("/v1/classify", raw_json({"text": long_text(100_000, rng, texts)}), timeout=600),
        ])),
    }
    kinds = [k for k in makers if k not in skip]
    weights = [makers[k][0] for k in kinds]
    cases = []
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        cases.append((kind, makers[kind][1]()))
    return cases


# ---------------------------------------------------------------------------------------------- load

def classify_clients(base: str, texts: list[str], clients: int, stop: threading.Event, per_client: int | None,
                     offset: int, spans: list | None = None) -> tuple[list[float], list[str]]:
    """`clients` threads, each POSTing one normal text at a time, until `stop` (or `per_client` requests).
    `spans` collects (start, end) of each request, to tell later which hostile requests overlapped slow ones."""
    latencies, errors, lock = [], [], threading.Lock()

    def client(c: int):
        with httpx.Client(base_url=base, timeout=600) as http:
            i = 0
            while not stop.is_set() and (per_client is None or i < per_client):
                text = texts[(offset + c * 997 + i) % len(texts)]
                started = time.perf_counter()
                try:
                    response = http.post("/v1/classify", json={"text": text})
                    ok = response.status_code == 200 and "label" in response.json()["items"][0]
                    problem = None if ok else f"{response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    problem = repr(exc)
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    if spans is not None:
                        spans.append((started, time.perf_counter()))
                    if problem:
                        errors.append(problem)
                i += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return latencies, errors


def health_probe(base: str, stop, out, failures) -> None:
    """GET /v1/health every HEALTH_EVERY_S until `stop`; (start, end) perf_counter pairs into `out`. Runs in its
    own process (see `start_probe`): in the bench's process it would wait for the GIL behind 12 client threads
    and measure the client, not the server. perf_counter is the system-wide monotonic clock, so its spans line up
    with the hostile requests' spans."""
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status = http.get("/v1/health").status_code
                if status != 200:
                    failures.append(str(status))
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
            out.append((started, time.perf_counter()))
            time.sleep(HEALTH_EVERY_S)


def start_probe(base: str):
    """The health probe in a separate process; returns (stop event, process, spans, failures)."""
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    stop, spans, failures = manager.Event(), manager.list(), manager.list()
    process = context.Process(target=health_probe, args=(base, stop, spans, failures), daemon=True)
    process.start()
    return stop, process, spans, failures, manager


def stop_probe(probe) -> tuple[list[tuple[float, float]], list[str]]:
    stop, process, spans, failures, manager = probe
    stop.set()
    process.join(timeout=60)
    result = list(spans), list(failures)
    manager.shutdown()
    return result


def milliseconds(spans) -> list[float]:
    return [(end - start) * 1000 for start, end, *_ in spans]


def run_hostile(base: str, cases, workers: int, spans: list) -> tuple[dict, list[str], float]:
    statuses: dict[str, Counter] = defaultdict(Counter)
    server_errors, lock = [], threading.Lock()
    queue = list(enumerate(cases))
    started = time.perf_counter()

    def worker(w: int):
        with httpx.Client(base_url=base, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    i, (kind, call) = queue.pop(0)
                began = time.perf_counter()
                try:
                    status = str(call(http))
                except (httpx.HTTPError, OSError) as exc:
                    status = f"transport error ({type(exc).__name__})"
                with lock:
                    spans.append((began, time.perf_counter(), kind))
                    statuses[kind][status] += 1
                    if status.isdigit() and int(status) >= 500:
                        server_errors.append(f"case {i} ({kind}): {status}")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))
    return {k: dict(sorted(v.items())) for k, v in sorted(statuses.items())}, server_errors, \
        time.perf_counter() - started


def slow_overlaps(normal: list[tuple[float, float]], hostile: list[tuple[float, float, str]],
                  threshold_ms: float) -> dict:
    """For the normal requests slower than `threshold_ms`: how many overlapped a hostile request of each kind."""
    slow = [(a, b) for a, b in normal if (b - a) * 1000 > threshold_ms]
    counts = Counter()
    for a, b in slow:
        counts.update({kind for start, end, kind in hostile if start < b and end > a})
    return {"slow_requests": len(slow), "overlapping_kind": dict(counts.most_common())}


def cpu_flags() -> dict:
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return {}
    present = set(flags.split(":", 1)[1].split())
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"model": model, **{f: f in present for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hostile", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--hostile-workers", type=int, default=4)
    parser.add_argument("--idle-requests", type=int, default=40, help="per client, in the idle phase")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], help="hostile kinds to leave out (e.g. long_text)")
    parser.add_argument("--write", action="store_true", help="save bench/results/reliability.json")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    texts = normal_texts()
    rng.shuffle(texts)
    folder = Path(tempfile.mkdtemp(prefix="discourse-reliability-"))
    started = time.perf_counter()
    store = build_store(folder)
    print(f"store: demo data scored into {store} in {time.perf_counter() - started:.0f} s", flush=True)
    (folder / "data").mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = folder / "server.log"
    env = {"DISCOURSE_API_DATABASE_URL": store, "DISCOURSE_API_API_KEYS": json.dumps([KEY]),
           "DISCOURSE_API_DATA_ROOTS": json.dumps([str(folder / "data")]), "DISCOURSE_ENV_FILE": ""}
    server = start_server(port, log_path, env)
    try:
        classify_clients(base, texts, 2, threading.Event(), 5, 0)  # warm-up, not counted

        probe = start_probe(base)
        idle, idle_errors = classify_clients(base, texts, args.clients, threading.Event(), args.idle_requests, 0)
        health_idle_spans, health_failures = stop_probe(probe)
        health_idle = milliseconds(health_idle_spans)
        print(f"idle: classify {percentiles(idle)} ms; health {percentiles(health_idle)} ms", flush=True)

        cases = hostile_cases(args.hostile, rng, port, texts, args.skip)
        stop, normal_spans, hostile_spans = threading.Event(), [], []
        probe = start_probe(base)
        with ThreadPoolExecutor(1) as background:
            normal = background.submit(classify_clients, base, texts, args.clients, stop, None, 100_000,
                                       normal_spans)
            statuses, server_errors, seconds = run_hostile(base, cases, args.hostile_workers, hostile_spans)
            stop.set()
            attack, attack_errors = normal.result()
        health_attack_spans, attack_failures = stop_probe(probe)
        health_failures += attack_failures
        health_attack = milliseconds(health_attack_spans)
        alive = httpx.get(f"{base}/v1/ready", timeout=10).status_code
    finally:
        server.terminate()
        server.wait(timeout=60)
    log = log_path.read_text(encoding="utf-8", errors="replace")

    ratio = round(percentiles(attack)["p99"] / percentiles(idle)["p99"], 2)
    result = {
        "command": f"bench/reliability.py --hostile {args.hostile} --clients {args.clients} "
                   f"--hostile-workers {args.hostile_workers} --seed {args.seed}"
                   + (f" --skip {' '.join(args.skip)}" if args.skip else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores", "cpu": cpu_flags(),
        "hostile_requests": args.hostile, "hostile_seconds": round(seconds, 1),
        "responses_500_or_more": len(server_errors), "first_server_errors": server_errors[:10],
        "transport_errors": sum(n for kinds in statuses.values() for s, n in kinds.items() if s.startswith("transport")),
        "statuses_by_kind": statuses,
        "health_ms": {"idle": percentiles(health_idle), "hostile": percentiles(health_attack),
                      "failures": health_failures[:10]},
        "classify_ms": {"idle": percentiles(idle), "hostile": percentiles(attack), "p99_ratio": ratio},
        # which hostile kinds were in flight while a normal request took more than 2x the idle p99
        "slow_classify_overlaps": slow_overlaps(normal_spans, hostile_spans, 2 * percentiles(idle)["p99"]),
        # which hostile kinds were in flight while a health probe took more than 50 ms
        "slow_health_overlaps": slow_overlaps(health_attack_spans, hostile_spans, 50),
        "hostile_ms_by_kind": {kind: percentiles([(e - b) * 1000 for b, e, k in hostile_spans if k == kind])
                               for kind in sorted(statuses)},
        # normal texts answered 200 without a label (language detection called them not Dutch), or failed
        "normal_classify_unlabelled": {"idle": idle_errors[:5], "hostile": attack_errors[:5],
                                       "count": len(idle_errors) + len(attack_errors)},
        "server_ready_after": alive, "tracebacks_in_server_log": log.count("Traceback"),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    verdict = [f"responses >= 500: {len(server_errors)} (must be 0)",
               f"health p99 idle {result['health_ms']['idle'].get('p99')} ms, under attack "
               f"{result['health_ms']['hostile'].get('p99')} ms (target <= 100)",
               f"classify p99 idle {percentiles(idle)['p99']} ms, under attack {percentiles(attack)['p99']} ms: "
               f"{ratio}x (target <= 2x)"]
    print("\n".join(verdict))
    if args.write:
        out = ROOT / "bench" / "results" / ("reliability.json" if not args.skip else
                                            f"reliability-without-{'-'.join(args.skip)}.json")
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
