"""Load benchmark of the HTTP service: a real uvicorn process driven by 1, 4 and 16 concurrent clients.

    .venv/bin/python bench/load.py [--requests 200] [--concurrency 1 4 16] [--speed-n 1000] [--write]

Each request is POST /v1/classify with one 40-word Dutch text (sentence level), a different text every time, so
neither the embedding cache nor the micro-batcher's de-duplication can help. Texts are 40-word windows of real
NOS sentences (../shared/corpora); without that corpus the project's own annotated units are used and the output
says so. While the 16 clients run, a probe GETs /v1/health every 100 ms. Printed per concurrency: requests,
errors, throughput and p50/p95/p99 latency; then the health probe's latencies; then, with the server stopped, the
in-process classify throughput of the optimised (onnx) path against the plain transformers pipeline of the same
model (bench/classify_speed.py). `--write` saves everything as bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import httpx
from sentences import NOS, ROOT, nos_sentences  # noqa: E402  (puts the repo on sys.path)
from service import free_port, percentiles, start_server  # noqa: E402

WORDS_PER_TEXT = 40
HEALTH_EVERY_S = 0.1


def forty_word_texts(n: int) -> tuple[list[str], str]:
    """`n` distinct texts of exactly 40 words, cut from consecutive real sentences."""
    if NOS.is_dir():
        sentences, source = nos_sentences(n * 4), "NOS sentences (../shared/corpora/nos-wedemeyer)"
    else:
        from discourse.training.corpus import load_units

        sentences, source = [u.text for u in load_units()], "the project's annotated units (NOS corpus absent)"
    words = " ".join(sentences).split()
    texts = [" ".join(words[i:i + WORDS_PER_TEXT]) for i in range(0, len(words) - WORDS_PER_TEXT, WORDS_PER_TEXT)]
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} texts of {WORDS_PER_TEXT} words available, {n} needed")
    return texts[:n], source


async def drive(base: str, texts: list[str], concurrency: int, probe_health: bool) -> dict:
    """Send every text once, `concurrency` requests in flight at a time."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)
    latencies, errors, health = [], [], []
    limits = httpx.Limits(max_connections=concurrency + 1, max_keepalive_connections=concurrency + 1)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        async def worker():
            while not queue.empty():
                text = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.post("/v1/classify", json={"text": text})
                    ok = response.status_code == 200 and "label" in response.json()["items"][0]
                    if not ok:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                latencies.append((time.perf_counter() - started) * 1000)

        async def prober(done: asyncio.Event):
            while not done.is_set():
                started = time.perf_counter()
                response = await client.get("/v1/health")
                health.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors.append(f"health {response.status_code}")
                await asyncio.sleep(HEALTH_EVERY_S)

        done = asyncio.Event()
        probe = asyncio.create_task(prober(done)) if probe_health else None
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        done.set()
        if probe:
            await probe
    result = {"concurrency": concurrency, "requests": len(texts), "errors": len(errors), "seconds": round(seconds, 2),
              "requests_per_second": round(len(texts) / seconds, 2), "latency_ms": percentiles(latencies)}
    if errors:
        result["first_errors"] = errors[:5]
    if probe_health:
        result["health_ms"] = {**percentiles(health), "probes": len(health)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--speed-n", type=int, default=1000, help="sentences for the in-process speed comparison "
                                                                  "(0 to skip it)")
    parser.add_argument("--write", action="store_true", help="save bench/results/load.json")
    args = parser.parse_args()
    texts, source = forty_word_texts(args.requests * (len(args.concurrency) + 1))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.gettempdir()) / f"discourse-load-{port}.log"
    print(f"{source}; {WORDS_PER_TEXT} words per text; server log {log_path}", flush=True)
    server = start_server(port, log_path)
    levels = []
    try:
        asyncio.run(drive(base, texts[:args.requests], 1, False))  # warm-up, not reported
        for k, concurrency in enumerate(args.concurrency, 1):
            chunk = texts[k * args.requests:(k + 1) * args.requests]
            level = asyncio.run(drive(base, chunk, concurrency, probe_health=concurrency == max(args.concurrency)))
            levels.append(level)
            line = (f"{concurrency:>3} concurrent: {level['requests']} requests, {level['errors']} errors, "
                    f"{level['requests_per_second']:.1f} req/s, latency ms p50 {level['latency_ms']['p50']} "
                    f"p95 {level['latency_ms']['p95']} p99 {level['latency_ms']['p99']}")
            if "health_ms" in level:
                h = level["health_ms"]
                line += f"; /v1/health during it: p50 {h['p50']} p99 {h['p99']} max {h['max']} ms ({h['probes']} probes)"
            print(line, flush=True)
        batches = httpx.get(f"{base}/v1/ready", timeout=5).json().get("batcher", {})
    finally:
        server.terminate()
        server.wait(timeout=30)
    by_c = {level["concurrency"]: level for level in levels}
    summary = {}
    if 1 in by_c and max(by_c) > 1:
        summary["throughput_ratio"] = round(by_c[max(by_c)]["requests_per_second"] / by_c[1]["requests_per_second"], 2)
        print(f"throughput with {max(by_c)} clients / one at a time: {summary['throughput_ratio']:.2f}x")
    speed = None
    if args.speed_n and NOS.is_dir():
        from classify_speed import measure

        speed = measure(nos_sentences(args.speed_n), threads=2)
        print("\n".join(speed["lines"]))
    if args.write:
        out = ROOT / "bench" / "results" / "load.json"
        out.parent.mkdir(exist_ok=True)
        payload = {"command": f"bench/load.py --requests {args.requests} --write", "texts": source,
                   "machine": f"{platform.machine()}, {os.cpu_count()} cores", "levels": levels, **summary,
                   "batcher": batches, "speed": speed}
        out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
