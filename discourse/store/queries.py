"""Read functions for dashboards and reports. All SQL is built with SQLAlchemy expressions and bound
parameters; none is assembled from strings.

"Latest model version" means the version whose first score was written most recently: version strings are not
always comparable ("1.10.0" vs "1.9.0", "exp-2"), and re-scoring a few documents with an old version later does
not make it the latest again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Date, Select, cast, func, select
from sqlalchemy.orm import Session

from discourse.store.schema import Document, DocumentScore, Source


@dataclass(frozen=True)
class LabelShare:
    """Documents of one source (and month, when asked) with one label, and their share of that group."""

    source: str
    month: str | None  # "YYYY-MM", or None for documents without a publication date / when not grouped by month
    label: str
    documents: int
    share: float


def latest_model_version(session: Session, model: str | None = None) -> str | None:
    """The model version (of `model`, or of any model) that was first used most recently; None if nothing
    was scored."""
    first_scored = func.min(DocumentScore.scored_at)
    query = select(DocumentScore.model_version).group_by(DocumentScore.model_version)
    if model is not None:
        query = query.where(DocumentScore.model == model)
    return session.execute(
        query.order_by(first_scored.desc(), DocumentScore.model_version.desc()).limit(1)).scalar_one_or_none()


def _resolve_version(session: Session, model_version: str | None) -> str | None:
    return model_version if model_version is not None else latest_model_version(session)


def count_scored(session: Session, model_version: str | None = None) -> int:
    """How many documents have a score from `model_version` (default: the latest version)."""
    version = _resolve_version(session, model_version)
    if version is None:
        return 0
    return session.execute(select(func.count(func.distinct(DocumentScore.document_id)))
                           .where(DocumentScore.model_version == version)).scalar_one()


def _month(session: Session, published):
    """published as "YYYY-MM": the one expression that differs between SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", published)
    return func.to_char(cast(published, Date), "YYYY-MM")


def label_shares_by_source(session: Session, model_version: str | None = None,
                           by_month: bool = False) -> list[LabelShare]:
    """Per source (and per publication month if `by_month`), how many documents got each label from
    `model_version` (default: the latest version), and their share of that source's (month's) scored documents.
    Sorted by source, month, label. E.g. the pressuring share per source per month: filter label == "pressuring".
    """
    version = _resolve_version(session, model_version)
    if version is None:
        return []
    month = _month(session, Document.published).label("month") if by_month else None
    group = [Source.name] + ([month] if month is not None else [])
    query: Select = (
        select(*group, DocumentScore.label, func.count().label("n"))
        .select_from(DocumentScore)
        .join(Document, Document.id == DocumentScore.document_id)
        .join(Source, Source.id == Document.source_id)
        .where(DocumentScore.model_version == version)
        .group_by(*group, DocumentScore.label)
    )
    rows = session.execute(query).all()
    totals: dict[tuple, int] = {}
    for row in rows:
        key = (row[0], row[1] if by_month else None)
        totals[key] = totals.get(key, 0) + row.n
    shares = []
    for row in rows:
        source, row_month = row[0], (row[1] if by_month else None)
        shares.append(LabelShare(source, row_month, row.label, row.n, row.n / totals[(source, row_month)]))
    return sorted(shares, key=lambda s: (s.source, s.month or "", s.label))
