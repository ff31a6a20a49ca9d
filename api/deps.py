"""FastAPI dependencies: what the lifespan put on `app.state` (settings, the loaded model and its folder, the
batcher, the store's sessions, the dashboard, jobs, echo's cache, the compare turn) and the API-key checks.

The one place routes reach `app.state`: a route names what it needs as a typed parameter (`model: ModelDep`).
Each reader takes only the `Request`, which FastAPI leaves out of the OpenAPI schema."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Callable, Iterable

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from discourse.dashboard import DashboardService
from discourse.encoder import EmbeddingCache
from discourse.pipeline.jobs import JobRunner
from discourse.model.loading import Model

from .batcher import MicroBatcher, OneAtATime
from .settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_batcher(request: Request) -> MicroBatcher:
    return request.app.state.batcher


def get_session(request: Request):
    """A database session on the store, closed after the request. Sync: route handlers run queries in a thread."""
    from discourse.store import session_factory

    with session_factory(request.app.state.store)() as session:
        yield session


def get_write_session(request: Request):
    """A session for a request that writes: on SQLite it takes the write lock at BEGIN, where the busy timeout
    applies, so two coders saving at once wait for each other instead of failing."""
    from discourse.store import session_factory

    with session_factory(request.app.state.store.execution_options(sqlite_begin="IMMEDIATE"))() as session:
        yield session


def get_model(request: Request) -> Model:
    return request.app.state.model


def get_model_dir(request: Request) -> Path:
    return request.app.state.model_dir


def get_model_swap(request: Request) -> Callable[[Model, Path], None]:
    """Makes a reloaded model (and the folder it came from) the served one: /v1/models and /v1/classify describe it,
    and new jobs score with it (their runner reads it from app.state)."""
    def swap(model: Model, folder: Path) -> None:
        request.app.state.model = model
        request.app.state.model_dir = folder
    return swap


def get_dashboard(request: Request) -> DashboardService:
    return request.app.state.dashboard


def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def get_echo_cache(request: Request) -> EmbeddingCache:
    return request.app.state.echo_cache


def get_compare_turn(request: Request) -> OneAtATime:
    return request.app.state.compare_turn


def _if_loaded(name: str) -> Callable[[Request], object]:
    """A reader of app.state.`name` that gives None instead of failing when start-up has not put it there: what
    /v1/ready reports on."""
    def read(request: Request):
        return getattr(request.app.state, name, None)
    read.__name__ = f"get_{name}_if_loaded"
    return read


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
BatcherDep = Annotated[MicroBatcher, Depends(get_batcher)]
ModelDep = Annotated[Model, Depends(get_model)]
ModelDirDep = Annotated[Path, Depends(get_model_dir)]
ModelSwapDep = Annotated[Callable[[Model, Path], None], Depends(get_model_swap)]
DashboardDep = Annotated[DashboardService, Depends(get_dashboard)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
EchoCacheDep = Annotated[EmbeddingCache, Depends(get_echo_cache)]
CompareTurnDep = Annotated[OneAtATime, Depends(get_compare_turn)]
LoadedModelDep = Annotated[Model | None, Depends(_if_loaded("model"))]
LoadedBatcherDep = Annotated[MicroBatcher | None, Depends(_if_loaded("batcher"))]
LoadedStoreDep = Annotated[Engine | None, Depends(_if_loaded("store"))]


def key_is_valid(settings: Settings, key: str | None) -> bool:
    """Constant-time comparison against every configured key (no early exit that would leak which matched)."""
    return bool(key) and _matching_key(key, settings.api_keys) is not None


def _matching_key(given: str, keys: Iterable[str]) -> str | None:
    """The configured key equal to `given`, every key compared in constant time (no early exit that would tell
    how close a guess came, or which key matched)."""
    found = None
    for key in keys:
        if hmac.compare_digest(given.encode(), key.encode()):
            found = key
    return found


def require_api_key(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    if not key_is_valid(settings, x_api_key):
        raise HTTPException(401, "a valid X-API-Key header is required for this endpoint")


def read_access(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """The read side (dashboard, compare, topics) is open unless DISCOURSE_API_PROTECT_READS closes it: its answers
    quote transcripts and respondent attributes, personal data a public server must not hand to anyone."""
    if settings.protect_reads and not key_is_valid(settings, x_api_key):
        raise HTTPException(401, "reading this server's data needs a valid X-API-Key header (setting "
                                 "DISCOURSE_API_PROTECT_READS)")


def classify_access(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    if settings.classify_requires_key and not key_is_valid(settings, x_api_key):
        raise HTTPException(401, "classification is closed to callers without a valid X-API-Key (setting "
                                 "DISCOURSE_API_CLASSIFY_REQUIRES_KEY)")


def require_coder(settings: SettingsDep, x_api_key: Annotated[str | None, Header()] = None) -> str:
    """The coder whose key this is (setting DISCOURSE_API_CODERS): 401 without a key, 403 for a key of no coder."""
    if not x_api_key:
        raise HTTPException(401, "an X-API-Key header naming a coder is required to code")
    key = _matching_key(x_api_key, settings.coders)
    if key is None:
        raise HTTPException(403, "this X-API-Key is not a coder's (setting DISCOURSE_API_CODERS)")
    return settings.coders[key]


CoderDep = Annotated[str, Depends(require_coder)]
