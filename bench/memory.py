"""Resident memory of a process serving a model: after loading it, and after classifying real sentences.

    .venv/bin/python bench/memory.py [--model DIR] [--backend onnx] [--n 200]
    .venv/bin/python bench/memory.py --service [--model DIR] [--n 200]

In-process (the default): RSS (VmRSS) of this fresh process after importing the loader, after `load_model`, after
classifying `--n` NOS sentences (or authored dev units when ../shared/corpora is absent), and the peak (VmHWM); and
whether torch, transformers, sentence-transformers and scikit-learn were imported at all. `--service`: the same
for a real `uvicorn api.main:app` process (what a deployment runs): RSS once ready (idle), then after `--n`
`POST /v1/classify` requests from 16 concurrent clients, and its peak. The model's onnx build must exist
(`discourse setup --model DIR`); a first build is a different, one-time cost.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def status_mb(field: str) -> float:
    value = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M).group(1)
    return round(int(value) / 1024, 1)


def texts(n: int) -> list[str]:
    from discourse.settings import SHARED_CORPORA

    if (SHARED_CORPORA / "nos-wedemeyer").is_dir():
        sys.path.insert(0, str(ROOT / "bench"))
        from sentences import nos_sentences

        return nos_sentences(n)
    from discourse.training.corpus import load_units

    return [u.text for u in load_units("dev")][:n]


def process_mb(pid: int, field: str) -> float:
    value = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M).group(1)
    return round(int(value) / 1024, 1)


def service(model: Path | None, n: int) -> dict:
    """A real uvicorn process serving the model: RSS when ready, after `n` requests from 16 clients, and peak."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from api import process as service_process

    port = service_process.free_port()
    # A store of its own: the bench measures the model, not the user's data (nor its schema version).
    env = {"DISCOURSE_DATA": tempfile.mkdtemp(prefix="bench-memory-"),
           **({"DISCOURSE_MODEL": str(model)} if model else {})}
    log_path = Path("/tmp/bench-memory-server.log")
    started = time.perf_counter()
    process = service_process.start(port, log_path, env)
    base = f"http://127.0.0.1:{port}"
    try:
        service_process.wait_ready(process, port, log_path)
        report = {"ready_seconds": round(time.perf_counter() - started, 1)}
        time.sleep(2)
        report["idle_mb"] = process_mb(process.pid, "VmRSS")
        batch = texts(n)
        with httpx.Client(timeout=120) as client, ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(lambda t: client.post(f"{base}/v1/classify", json={"text": t}).status_code, batch))
        report["requests"] = len(codes)
        report["errors"] = sum(code != 200 for code in codes)
        report["after_load_mb"] = process_mb(process.pid, "VmRSS")
        report["peak_mb"] = process_mb(process.pid, "VmHWM")
        return report
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--backend", default="onnx", choices=("onnx", "torch"))
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--service", action="store_true", help="measure a uvicorn process serving the model")
    args = parser.parse_args()
    if args.service:
        print(json.dumps(service(args.model, args.n), indent=2))
        return

    report = {"start_mb": status_mb("VmRSS")}
    from discourse.model.loading import load_model

    report["imports_mb"] = status_mb("VmRSS")
    started = time.perf_counter()
    model = load_model(args.model, backend=args.backend)
    report["load_seconds"] = round(time.perf_counter() - started, 1)
    report["loaded_mb"] = status_mb("VmRSS")
    batch = texts(args.n)
    model.predict(batch)
    report["after_classify_mb"] = status_mb("VmRSS")
    report["peak_mb"] = status_mb("VmHWM")
    report["texts"] = len(batch)
    report["imported"] = {lib: lib in sys.modules for lib in ("torch", "transformers", "sentence_transformers",
                                                              "sklearn")}
    report["encoder"] = type(model.encoder).__name__
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
