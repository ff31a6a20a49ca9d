"""Service settings, read from the environment (prefix DISCOURSE_API_) or a `.env` file.

The `.env` file is never looked up in the working directory: a server started from a folder someone else can
write to must not pick up their settings. It is the file `DISCOURSE_ENV_FILE` names (empty: none), else the
`.env` at the repository root, if there is one.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from discourse.settings import DEFAULT_MAX_CHARS, REPO_ROOT, SHIPPED_ROOT

from .batcher import TURN_TOKENS
from .schemas import MAX_ITEMS_CEILING


def env_file() -> Path | None:
    """The `.env` file settings are read from: `DISCOURSE_ENV_FILE` (empty: none), else the repository root's (a
    clone's; an installed package, which has no repository root, reads none)."""
    named = os.environ.get("DISCOURSE_ENV_FILE")
    if named is not None:
        return Path(named).expanduser() if named.strip() else None
    return REPO_ROOT / ".env" if SHIPPED_ROOT == REPO_ROOT else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISCOURSE_API_", env_file=None, extra="ignore")

    model_dir: Path | None = Field(None, description="Model folder; default: DISCOURSE_MODEL or the shipped model.")
    backend: Literal["onnx", "torch"] | None = Field(
        None, description="Inference backend: 'onnx' (int8, fast) or 'torch'; default DISCOURSE_BACKEND, else onnx.")
    database_url: str | None = Field(
        None, description="Store of scored archives (SQLAlchemy URL); default: the SQLite file under DISCOURSE_DATA.")
    data_roots: list[Path] = Field(
        default_factory=list, description="Folders whose files jobs may score (JSON list); none: no jobs.")
    max_chars: int = Field(DEFAULT_MAX_CHARS, gt=0, description="Longest text accepted, in characters.")
    max_items: int = Field(256, gt=0, le=MAX_ITEMS_CEILING, description="Most texts in one classify request.")
    max_body_bytes: int = Field(4_000_000, gt=0, description="Largest request body accepted.")
    max_json_containers: int = Field(10_000, gt=0, description="Most JSON objects and arrays in a request body "
                                                               "('[' and '{' counted before parsing, strings "
                                                               "included).")
    max_json_values: int = Field(250_000, gt=0, description="Most JSON values in a request body (',' counted "
                                                            "before parsing, strings included).")
    batch_max_items: int = Field(64, gt=0, description="Most texts the model sees in one micro-batch.")
    batch_wait_ms: float = Field(5.0, ge=0, description="How long a micro-batch waits for more requests.")
    batch_max_tokens: int = Field(TURN_TOKENS, gt=0, description="A text or document with more tokens than this "
                                                                 "to encode is long: it is encoded this many tokens "
                                                                 "a turn, in turns alternating with the short ones.")
    api_keys: list[str] = Field(default_factory=list, description="Keys accepted in X-API-Key (JSON list).")
    classify_requires_key: bool = Field(False, description="Close /v1/classify to callers without a key.")
    protect_reads: bool = Field(False, description="Close the read side (dashboard, compare, topics: transcripts "
                                                   "and respondent attributes are personal data) to callers "
                                                   "without a key.")
    echo_requires_key: bool = Field(True, description="Compare with echo (encodes every sentence of both sides) "
                                                      "only for callers with a key.")
    compare_wait_s: float = Field(10.0, ge=0, le=600, description="How long a compare waits for the one running "
                                                                  "before it is refused with 429.")
    coders: dict[str, str] = Field(default_factory=dict, description="Coders of the annotation view: a JSON object "
                                                                     "API key -> coder name. Writing annotations "
                                                                     "needs a key named here.")
    show_suggestions: bool = Field(False, description="Show the model's labels beside a sentence to code (off: "
                                                      "coders for reliability work must not be led by the model).")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (JSON list).")
    dashboard_cache_size: int = Field(256, ge=0, description="Dashboard answers kept per query (0: no cache).")
    json_logs: bool = Field(False, description="Log one JSON object per line.")
    language_check: Literal["strict", "warn", "off"] = Field(
        "strict", description="'strict': refuse texts confidently not Dutch, classify the uncertain with "
                              "language_uncertain; 'warn': refuse none, flag them; 'off': no language detection.")

    def __init__(self, **values) -> None:
        values.setdefault("_env_file", env_file())
        super().__init__(**values)

    @field_validator("coders")
    @classmethod
    def _coder_names(cls, coders: dict[str, str]) -> dict[str, str]:
        for key, name in coders.items():
            if not key or not name.strip() or len(name) > 100:
                raise ValueError(f"coder {name!r}: a coder needs a non-empty key and a name of 1 to 100 characters")
        return coders

    @field_validator("data_roots")
    @classmethod
    def _no_filesystem_root(cls, roots: list[Path]) -> list[Path]:
        for root in roots:
            resolved = Path(root).expanduser().resolve()
            if resolved == Path(resolved.anchor):
                raise ValueError(f"{str(root)!r} is the root of the file system: jobs could read every file the "
                                 f"server can (keys, configuration, other users' data); name the folders that "
                                 f"hold the archives instead")
        return roots


@lru_cache
def get_settings() -> Settings:
    return Settings()
