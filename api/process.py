"""The service as a child process: what the tests and the benches that drive real HTTP share. A free loopback
port, `uvicorn api.main:app` started with extra settings, and the wait until /v1/ready answers 200 (the first
start may build the onnx model, about a minute)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from discourse.settings import REPO_ROOT


class NotReady(RuntimeError):
    """The server exited, or did not answer /v1/ready in time; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`uvicorn api.main:app` on 127.0.0.1:`port`, with `env` added to this environment, logging to `log_path`."""
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                             str(port), "--log-level", "warning"], cwd=REPO_ROOT, env={**os.environ, **(env or {})},
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


def wait_ready(process: subprocess.Popen, port: int, log_path: Path, seconds: float = 600) -> None:
    """Returns once /v1/ready answers 200; raises NotReady when the process exits or `seconds` pass."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise NotReady("the server exited: " + _tail(log_path))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise NotReady(f"the server did not become ready in {seconds:.0f} s: " + _tail(log_path))


def _tail(log_path: Path) -> str:
    return log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
