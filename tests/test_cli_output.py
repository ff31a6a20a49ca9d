"""What a user sees from the CLI: the project's output, not the libraries' progress bars and warnings (those are
for --verbose). Run as a real subprocess, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from discourse.settings import REPO_ROOT

pytestmark = pytest.mark.encoder

TEXT = "Ze zeggen dat ge elke dag moet voorlezen, anders loopt uw kind achter."
NOISE = ("Loading weights", "Warning", "warnings.warn", "it/s]", "%|")


#: What the quiet mode sets in its own process (cli._app._quiet_libraries): an in-process CLI call by an earlier
#: test (typer's CliRunner) leaves them in this process's environment, which a user's shell would not have.
QUIETING = ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in QUIETING}
    return subprocess.run([sys.executable, "-m", "discourse.cli", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=600, env=env)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_plain_classify_prints_no_library_noise(backend):
    result = _run("classify", TEXT, "--backend", backend)
    assert result.returncode == 0 and result.stdout.startswith("label: ")
    assert not [marker for marker in NOISE if marker in result.stderr], result.stderr


def test_verbose_shows_the_libraries_output():
    # The torch path, where the libraries speak: the onnx path serves a built model without loading any of them.
    result = _run("--verbose", "classify", TEXT, "--backend", "torch")
    assert result.returncode == 0 and result.stdout.startswith("label: ")
    assert "Loading weights" in result.stderr
