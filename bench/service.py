"""What the benches that drive the HTTP service share: a free loopback port, a real uvicorn process of the service
(waited for until /v1/ready answers), and latency percentiles."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from sentences import ROOT  # noqa: E402,F401  (puts the repo on sys.path)

from api import process  # noqa: E402
from api.process import free_port  # noqa: E402,F401  (the benches import it from here)


def start_server(port: int, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """The service on 127.0.0.1:`port` with `env` added, once /v1/ready answers 200."""
    server = process.start(port, log_path, env)
    try:
        process.wait_ready(server, port, log_path)
    except process.NotReady as error:
        server.terminate()
        raise SystemExit(str(error)) from None
    return server


def percentiles(values_ms: list[float]) -> dict:
    """n, p50, p95, p99 and max of latencies in milliseconds (None for an empty list)."""
    if not values_ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    a = np.array(values_ms)
    return {"n": len(values_ms), **{f"p{q}": round(float(np.percentile(a, q)), 1) for q in (50, 95, 99)},
            "max": round(float(a.max()), 1)}
