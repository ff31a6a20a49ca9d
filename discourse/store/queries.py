"""Which model version of the store is the latest: the default of every reader (selection, dashboard) that is not
told a version. Built with SQLAlchemy expressions and bound parameters; no SQL is assembled from strings.

"Latest model version" means the version whose first score was written most recently: version strings are not
always comparable ("1.10.0" vs "1.9.0", "exp-2"), and re-scoring a few documents with an old version later does
not make it the latest again.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from discourse.store.schema import DocumentScore


def latest_model_version(session: Session, model: str | None = None) -> str | None:
    """The model version (of `model`, or of any model) that was first used most recently; None if nothing
    was scored."""
    first_scored = func.min(DocumentScore.scored_at)
    query = select(DocumentScore.model_version).group_by(DocumentScore.model_version)
    if model is not None:
        query = query.where(DocumentScore.model == model)
    return session.execute(
        query.order_by(first_scored.desc(), DocumentScore.model_version.desc()).limit(1)).scalar_one_or_none()
