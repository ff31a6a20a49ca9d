"""Where things live. Environment variables override the defaults so that CI, a server and a laptop can
share one code path; the HTTP service (issue B) wraps these in a pydantic-settings object."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root: the codebook and the shipped models are read from here (editable install).
REPO_ROOT = Path(__file__).resolve().parent.parent
CODEBOOK_PATH = REPO_ROOT / "corpora" / "codebook.yaml"
ANNOTATED_DIR = REPO_ROOT / "corpora" / "annotated"
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "framing-e5-small"
SHARED_CORPORA = REPO_ROOT.parent / "shared" / "corpora"


def discourse_home() -> Path:
    """Cache root for rebuilt encoders and embedding caches (`DISCOURSE_HOME`, default ~/.cache/discourse)."""
    return Path(os.environ.get("DISCOURSE_HOME") or Path.home() / ".cache" / "discourse").expanduser()


def model_dir() -> Path:
    """The framing model the CLI and the service load by default (`DISCOURSE_MODEL`)."""
    return Path(os.environ.get("DISCOURSE_MODEL") or DEFAULT_MODEL_DIR).expanduser()
