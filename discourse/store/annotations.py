"""Coding in the store: items (a character span of a document, whatever model version scored it), who codes which
in which queue, each coder's codes and the adjudicated code beside them.

Nothing here commits: a caller writes a whole queue, a save or an import in one transaction and commits it, so a
failure half-way leaves nothing behind. Codes are checked against the codebook before anything is written.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from discourse.codebook import load_codebook
from discourse.store.filters import SegmentFilter
from discourse.store.selection import select_segments
from discourse.store.schema import Adjudication, Annotation, CodingAssignment, CodingItem, Document, utcnow
from discourse.store.writer import dialect_insert
from discourse.text import text_hash

#: Longest coder, adjudicator and queue name (the columns' width).
NAME_CHARS = 100


class NotFound(LookupError):
    """An item, a queue or a document the store does not have."""


def check_name(kind: str, name: str) -> str:
    """A coder's, adjudicator's or queue's name: not empty, at most NAME_CHARS characters."""
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_CHARS or "\x00" in name:
        raise ValueError(f"{kind} name must be 1 to {NAME_CHARS} characters (no NUL), got {name!r}")
    return name


def check_codes(relevant: bool | None, stance: str | None, frames: Iterable[str]) -> list[str]:
    """The frames as a list, after checking the codes against the codebook: a stance and frames it defines, no
    stance or frame on a sentence coded not relevant. ValueError naming what is wrong."""
    codebook = load_codebook()
    frames = list(frames or ())
    if relevant is not None and not isinstance(relevant, bool):
        raise ValueError(f"relevant must be true, false or null, got {relevant!r}")
    if stance is not None and stance not in codebook.stances:
        raise ValueError(f"unknown stance {stance!r}; expected one of {', '.join(codebook.stances)}")
    unknown = [f for f in frames if f not in codebook.frames]
    if unknown:
        raise ValueError(f"unknown frame {', '.join(map(repr, unknown))}; the codebook's frames are "
                         f"{', '.join(codebook.frames)}")
    if len(set(frames)) != len(frames):
        raise ValueError("a frame is listed twice")
    if relevant is False and (stance is not None or frames):
        raise ValueError("a sentence coded not relevant has no stance and no frames")
    return frames


def _no_nul(kind: str, *texts: str | None) -> None:
    """PostgreSQL cannot store a NUL character in text: refused before the database, on either backend."""
    if any(text and "\x00" in text for text in texts):
        raise ValueError(f"a {kind} must not contain a NUL character")


def item_for_span(session: Session, document_id: str, start: int, end: int) -> int:
    """The id of the item for characters start..end of a document, made if it is new. ValueError when there is
    no such document or the span does not lie inside its text."""
    found = session.execute(select(CodingItem.id).where(
        CodingItem.document_id == document_id, CodingItem.start == start, CodingItem.end == end)).scalar()
    if found is not None:
        return found
    text = session.execute(select(Document.text).where(Document.id == document_id)).scalar()
    if text is None:
        raise ValueError(f"no document {document_id!r} in the store")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ValueError(f"span {start}..{end} does not lie inside document {document_id!r} "
                         f"(its text has {len(text)} characters)")
    statement = dialect_insert(session.get_bind())(CodingItem).values(
        document_id=document_id, start=start, end=end, text_hash=text_hash(text[start:end]), created_at=utcnow())
    session.execute(statement.on_conflict_do_nothing(index_elements=["document_id", "start", "end"]))
    return session.execute(select(CodingItem.id).where(
        CodingItem.document_id == document_id, CodingItem.start == start, CodingItem.end == end)).scalar_one()


def get_item(session: Session, item_id: int) -> CodingItem:
    item = session.get(CodingItem, item_id)
    if item is None:
        raise NotFound(f"no coding item {item_id}")
    return item


def queue_exists(session: Session, queue: str) -> bool:
    return session.execute(select(CodingAssignment.item_id).where(CodingAssignment.queue == queue)
                           .limit(1)).first() is not None


def assigned_spans(session: Session, coders: Iterable[str]) -> set[tuple[str, int, int]]:
    """The spans (document, start, end) already given to any of these coders, in any queue."""
    query = (select(CodingItem.document_id, CodingItem.start, CodingItem.end)
             .join(CodingAssignment, CodingAssignment.item_id == CodingItem.id)
             .where(CodingAssignment.coder.in_(list(coders))))
    return {tuple(row) for row in session.execute(query)}


def add_assignments(session: Session, queue: str, assignments: Iterable[tuple[int, str, int]]) -> int:
    """Give items to coders in `queue`: (item id, coder, position) rows. Returns how many were written."""
    now = utcnow()
    rows = [{"item_id": item_id, "coder": coder, "queue": queue, "position": position, "created_at": now}
            for item_id, coder, position in assignments]
    if rows:
        session.execute(CodingAssignment.__table__.insert(), rows)
    return len(rows)


def coder_queues(session: Session, coder: str) -> list[dict]:
    """The queues that give `coder` items, oldest first, each with how far they are: {name, done, total}."""
    names = session.scalars(select(CodingAssignment.queue).where(CodingAssignment.coder == coder)
                            .group_by(CodingAssignment.queue).order_by(func.min(CodingAssignment.created_at),
                                                                       CodingAssignment.queue))
    return [dict(zip(("name", "done", "total"), (name, *queue_position(session, name, coder)))) for name in names]


def queue_position(session: Session, queue: str, coder: str) -> tuple[int, int]:
    """(done, total): how many of the coder's items in `queue` they coded, of how many. NotFound when the queue
    gives the coder nothing."""
    check_name("queue", queue)
    coded = func.count(Annotation.id)
    done, total = session.execute(
        select(coded, func.count(CodingAssignment.item_id))
        .select_from(CodingAssignment)
        .outerjoin(Annotation, (Annotation.item_id == CodingAssignment.item_id) & (Annotation.coder == coder))
        .where(CodingAssignment.queue == queue, CodingAssignment.coder == coder)).one()
    if not total:
        raise NotFound(f"queue {queue!r} has no items for coder {coder!r}" if queue_exists(session, queue)
                       else f"no queue {queue!r}")
    return done, total


def next_uncoded(session: Session, queue: str, coder: str) -> int | None:
    """The coder's first item in `queue` they have not coded yet; None when they are done."""
    coded = select(Annotation.id).where(Annotation.item_id == CodingAssignment.item_id, Annotation.coder == coder)
    return session.execute(
        select(CodingAssignment.item_id)
        .where(CodingAssignment.queue == queue, CodingAssignment.coder == coder, ~coded.exists())
        .order_by(CodingAssignment.position, CodingAssignment.item_id).limit(1)).scalar()


def save_annotation(session: Session, item_id: int, coder: str, *, relevant: bool | None, stance: str | None,
                    frames: Iterable[str], codes: Iterable[str] = (), memo: str | None = None,
                    origin: str = "coding") -> dict:
    """Store a coder's codes for an item: one row per (item, coder), updated when saved again (a double submit
    writes one row). ValueError for codes the codebook does not define, NotFound for an unknown item."""
    frames = check_codes(relevant, stance, frames)
    check_name("coder", coder)
    codes = [str(c) for c in codes or ()]
    _no_nul("memo", memo)
    _no_nul("code", *codes)
    get_item(session, item_id)
    now = utcnow()
    values = {"relevant": relevant, "stance": stance, "frames": frames, "codes": codes,
              "memo": memo, "origin": origin, "updated_at": now}
    statement = dialect_insert(session.get_bind())(Annotation).values(item_id=item_id, coder=coder, created_at=now,
                                                                      **values)
    session.execute(statement.on_conflict_do_update(index_elements=["item_id", "coder"], set_=values))
    row = session.execute(select(Annotation).where(Annotation.item_id == item_id, Annotation.coder == coder)
                          .execution_options(populate_existing=True)).scalar_one()
    return annotation_dict(row)


def annotation_dict(row: Annotation) -> dict:
    return {"id": row.id, "item_id": row.item_id, "coder": row.coder, "relevant": row.relevant,
            "stance": row.stance, "frames": list(row.frames or []), "codes": list(row.codes or []), "memo": row.memo,
            "origin": row.origin, "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at)}


def undo_last(session: Session, queue: str, coder: str) -> dict | None:
    """Remove the coder's most recently saved annotation on their items in `queue` and return it (annotation_dict),
    or None when they have coded nothing there."""
    last = session.execute(
        select(Annotation)
        .join(CodingAssignment, (CodingAssignment.item_id == Annotation.item_id)
              & (CodingAssignment.coder == Annotation.coder))
        .where(CodingAssignment.queue == queue, Annotation.coder == coder)
        .order_by(Annotation.updated_at.desc(), Annotation.id.desc()).limit(1)).scalar()
    if last is None:
        return None
    removed = annotation_dict(last)
    session.execute(delete(Annotation).where(Annotation.id == last.id))
    return removed


def save_adjudication(session: Session, item_id: int, adjudicator: str, *, relevant: bool | None,
                      stance: str | None, frames: Iterable[str], memo: str | None = None) -> dict:
    """Store the adjudicated code of an item beside the coders' own (which stay); adjudicating again replaces it."""
    frames = check_codes(relevant, stance, frames)
    check_name("adjudicator", adjudicator)
    _no_nul("memo", memo)
    get_item(session, item_id)
    values = {"adjudicator": adjudicator, "relevant": relevant, "stance": stance, "frames": frames, "memo": memo,
              "created_at": utcnow()}
    statement = dialect_insert(session.get_bind())(Adjudication).values(item_id=item_id, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["item_id"], set_=values))
    return {"item_id": item_id, **values, "created_at": _iso(values["created_at"])}


def annotation_rows(session: Session, filter: SegmentFilter | str | None = None, *,
                    queue: str | None = None) -> list[dict]:
    """Every annotation as a plain row (item, span and its text, coder, codes, memo, origin, when, the queue it
    was coded in) with the item's adjudicated code where there is one (adjudicator, adjudicated_relevant,
    adjudicated_stance, adjudicated_frames; None otherwise). `filter` (discourse.store.filters) keeps the items
    that are scored sentences it selects; `queue` the annotations coded for that queue. Ordered by item, coder."""
    query = (select(Annotation, CodingItem.document_id, CodingItem.start, CodingItem.end, Document.text,
                    CodingAssignment.queue, Adjudication)
             .join(CodingItem, CodingItem.id == Annotation.item_id)
             .join(Document, Document.id == CodingItem.document_id)
             .outerjoin(CodingAssignment, (CodingAssignment.item_id == Annotation.item_id)
                        & (CodingAssignment.coder == Annotation.coder))
             .outerjoin(Adjudication, Adjudication.item_id == Annotation.item_id)
             .order_by(Annotation.item_id, Annotation.coder))
    if queue is not None:
        query = query.where(CodingAssignment.queue == queue)
    spans = _filtered_spans(session, filter)
    rows = []
    for annotation, document_id, start, end, text, in_queue, adjudication in session.execute(query):
        if spans is not None and (document_id, start, end) not in spans:
            continue
        row = annotation_dict(annotation)
        del row["id"], row["created_at"]
        rows.append({"item_id": row.pop("item_id"), "document_id": document_id, "start": start, "end": end,
                     "text": text[start:end], **row, "queue": in_queue, **_adjudicated(adjudication)})
    return rows


def _filtered_spans(session: Session, segment_filter: SegmentFilter | str | None) -> set | None:
    if segment_filter is None or isinstance(segment_filter, str) and not segment_filter.strip():
        return None
    if isinstance(segment_filter, str):
        segment_filter = SegmentFilter.parse(segment_filter)
    return {(s.document_id, s.start, s.end) for s in select_segments(session, segment_filter)}


def _adjudicated(adjudication: Adjudication | None) -> dict:
    if adjudication is None:
        return {"adjudicator": None, "adjudicated_relevant": None, "adjudicated_stance": None,
                "adjudicated_frames": None}
    return {"adjudicator": adjudication.adjudicator, "adjudicated_relevant": adjudication.relevant,
            "adjudicated_stance": adjudication.stance, "adjudicated_frames": list(adjudication.frames or [])}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
