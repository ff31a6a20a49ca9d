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


def embedding_cache_path() -> Path:
    """The on-disk embedding cache (version + text hash -> vector) that topics and echo share across runs."""
    return discourse_home() / "cache" / "embeddings.sqlite"


def model_dir() -> Path:
    """The framing model the CLI and the service load by default (`DISCOURSE_MODEL`)."""
    return Path(os.environ.get("DISCOURSE_MODEL") or DEFAULT_MODEL_DIR).expanduser()


#: Inference backends: "onnx" (int8 onnxruntime, the fast path; see discourse/encoder/onnx_backend.py) and
#: "torch" (the reference the models are trained and evaluated with). Training always runs on torch.
BACKENDS = ("onnx", "torch")


def default_backend() -> str:
    """The backend `discourse classify` and the service use (`DISCOURSE_BACKEND`, default "onnx")."""
    backend = os.environ.get("DISCOURSE_BACKEND") or "onnx"
    if backend not in BACKENDS:
        raise ValueError(f"DISCOURSE_BACKEND={backend!r}: expected one of {', '.join(BACKENDS)}")
    return backend


def default_language_check() -> str:
    """Which texts the CLI refuses as not Dutch (`DISCOURSE_LANGUAGE_CHECK`: strict, warn or off; default strict);
    see discourse.language.LANGUAGE_CHECKS."""
    return os.environ.get("DISCOURSE_LANGUAGE_CHECK") or "strict"
