"""Where things live and how they are configured. Environment variables override the defaults so that CI, a
server and a laptop can share one code path. Every variable the library reads is read here, by one small function
each, and the values are passed on as arguments; the HTTP service's own settings (DISCOURSE_API_*) are a
pydantic-settings object built on these (api/settings.py)."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root of a clone (editable install): the corpora, the shipped models and `.env` live here.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: A built wheel carries the clone's codebook and shipped models inside the package, laid out as in the clone
#: (setup.py copies them); a clone has no such folder and reads them in place.
SHIPPED_IN_PACKAGE = Path(__file__).resolve().parent / "_shipped"
#: Where the codebook and the shipped models are read from: the clone, else the installed package's copy.
SHIPPED_ROOT = SHIPPED_IN_PACKAGE if SHIPPED_IN_PACKAGE.is_dir() else REPO_ROOT
CODEBOOK_PATH = SHIPPED_ROOT / "corpora" / "codebook.yaml"
DEFAULT_MODEL_DIR = SHIPPED_ROOT / "models" / "framing-e5-small"
DEFAULT_PREFILTER_DIR = SHIPPED_ROOT / "models" / "prefilter"
#: The checksums the rebuilt encoders are verified against (one JSON file per encoder alias).
ENCODER_MANIFESTS = SHIPPED_ROOT / "models" / "encoders"
#: The annotated training corpora are a clone's working data (edited in place), not shipped with a wheel.
ANNOTATED_DIR = REPO_ROOT / "corpora" / "annotated"
SHARED_CORPORA = REPO_ROOT.parent / "shared" / "corpora"


#: Longest text accepted (characters). A 1 MB "article" is almost always a scraping error; refuse it clearly.
DEFAULT_MAX_CHARS = 100_000

#: Default seconds without a heartbeat after which a run or job counts as orphaned (discourse.store.liveness).
DEFAULT_STALE_AFTER_S = 120.0


def discourse_home() -> Path:
    """Cache root for rebuilt encoders and embedding caches (`DISCOURSE_HOME`, default ~/.cache/discourse)."""
    return Path(os.environ.get("DISCOURSE_HOME") or Path.home() / ".cache" / "discourse").expanduser()


def embedding_cache_path() -> Path:
    """The on-disk embedding cache (version + text hash -> vector) that topics and echo share across runs."""
    return discourse_home() / "cache" / "embeddings.sqlite"


def data_folder() -> Path:
    """Folder of the embedded SQLite store (`DISCOURSE_DATA`, default `discourse_home()/data`)."""
    data = os.environ.get("DISCOURSE_DATA")
    return Path(data).expanduser() if data else discourse_home() / "data"


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
    see discourse.pipeline.language.LANGUAGE_CHECKS."""
    return os.environ.get("DISCOURSE_LANGUAGE_CHECK") or "strict"


def encoder_spec() -> str | None:
    """The sentence encoder to load when none is named (`DISCOURSE_ENCODER`: a local folder, a Hugging Face id or
    an adapter folder); None: the embedded multilingual-e5-small."""
    return os.environ.get("DISCOURSE_ENCODER") or None


def onnx_threads() -> int | None:
    """Parallel runs of the onnx encoder (`DISCOURSE_THREADS`); None: one per core."""
    return int(os.environ.get("DISCOURSE_THREADS") or 0) or None


def max_chars() -> int:
    """Longest text accepted by classify, the API and archive records (`DISCOURSE_MAX_CHARS`)."""
    return int(os.environ.get("DISCOURSE_MAX_CHARS", DEFAULT_MAX_CHARS))


def stale_after_s() -> float:
    """Seconds without a heartbeat after which a run or job counts as orphaned (`DISCOURSE_STALE_AFTER_S`)."""
    return float(os.environ.get("DISCOURSE_STALE_AFTER_S", DEFAULT_STALE_AFTER_S))


def ray_address() -> str | None:
    """The Ray cluster `score-archive --engine ray` joins (`RAY_ADDRESS`, Ray's own variable); None: a local one."""
    return os.environ.get("RAY_ADDRESS") or None
