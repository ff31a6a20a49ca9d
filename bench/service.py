"""What the benches that drive the HTTP service share: a free loopback port, a real uvicorn process of the service
(waited for until /v1/ready answers), and latency percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from sentences import ROOT  # noqa: E402  (puts the repo on sys.path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """`uvicorn api.main:app` on 127.0.0.1:`port` with `env` added to this environment, once /v1/ready answers 200
    (the first start may build the onnx model, ~1 min)."""
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                               str(port), "--log-level", "warning"], cwd=ROOT, env={**os.environ, **(env or {})},
                              stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 600
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not become ready in 10 minutes")


def percentiles(values_ms: list[float]) -> dict:
    """n, p50, p95, p99 and max of latencies in milliseconds (None for an empty list)."""
    if not values_ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    a = np.array(values_ms)
    return {"n": len(values_ms), **{f"p{q}": round(float(np.percentile(a, q)), 1) for q in (50, 95, 99)},
            "max": round(float(a.max()), 1)}
