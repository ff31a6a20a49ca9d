"""FastAPI dependencies: settings, the loaded model and batcher, and the API-key check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from .batcher import MicroBatcher
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


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
BatcherDep = Annotated[MicroBatcher, Depends(get_batcher)]


def key_is_valid(settings: Settings, key: str | None) -> bool:
    """Constant-time comparison against every configured key (no early exit that would leak which matched)."""
    if not key:
        return False
    matches = [hmac.compare_digest(key.encode(), k.encode()) for k in settings.api_keys]
    return any(matches)


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
