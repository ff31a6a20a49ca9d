"""Coding queues: which stored sentences a group of coders codes, in which order, and the next one a coder sees.

A queue is drawn from the sentences one model version scored (default: the latest) that match a filter
(discourse.store.filters), by a strategy:

- random: a seeded shuffle;
- uncertain: the smallest margin between the two most probable stances first (where the model hesitates);
- disagreement: the sentences two model versions label differently.

With `stratify` (source or genre) every group gets an equal share, as far as it has sentences. Of the items drawn,
a share `overlap` goes to every coder (double coding, for agreement); the rest are dealt out over the coders in
turn. Sentences already in a queue for one of the coders are not drawn again. The same seed draws the same queue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import zip_longest

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from discourse.store.annotations import (NotFound, add_assignments, assigned_spans, check_name, get_item,
                                         item_for_span, next_uncoded, queue_exists, queue_position, undo_last)
from discourse.store.filters import SegmentFilter
from discourse.store.queries import latest_model_version
from discourse.store.schema import Document, SegmentScore, Source
from discourse.store.selection import SegmentRow, select_segments

STRATEGIES = ("random", "uncertain", "disagreement")
STRATA = ("source", "genre")
MAX_SIZE = 10_000  # items in one queue: more than a team codes in months


class QueueExists(ValueError):
    """A queue of that name has been made already (its assignments would mix with the new ones)."""


@dataclass(frozen=True)
class QueueSpec:
    name: str
    coders: tuple[str, ...]
    size: int
    strategy: str = "random"
    filter: str | None = None
    model_version: str | None = None
    other_model_version: str | None = None
    overlap: float = 0.0
    stratify: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "coders", tuple(self.coders))
        check_name("queue", self.name)
        if not self.coders:
            raise ValueError("a queue needs at least one coder")
        for coder in self.coders:
            check_name("coder", coder)
        if len(set(self.coders)) != len(self.coders):
            raise ValueError("a coder is named twice")
        if not 1 <= self.size <= MAX_SIZE:
            raise ValueError(f"size must be 1 to {MAX_SIZE}, got {self.size}")
        if not 0.0 <= self.overlap <= 1.0:
            raise ValueError(f"overlap is a share of the items, 0 to 1, got {self.overlap}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; expected one of {', '.join(STRATEGIES)}")
        if self.stratify is not None and self.stratify not in STRATA:
            raise ValueError(f"stratify by {' or '.join(STRATA)}, not {self.stratify!r}")
        if self.strategy == "disagreement" and not self.other_model_version:
            raise ValueError("the disagreement strategy needs other_model_version, the version to compare with")

    @property
    def segment_filter(self) -> SegmentFilter:
        segment_filter = SegmentFilter.parse(self.filter)
        if segment_filter.get("model_version") and self.strategy == "disagreement":
            raise ValueError("name the two versions with model_version and other_model_version, not in the filter")
        return segment_filter


def create_queue(session: Session, spec: QueueSpec) -> dict:
    """Draw the queue's sentences, make them items and give them to the coders, in one transaction (committed).
    ValueError (QueueExists for a name in use) when the queue cannot be made; nothing is written then."""
    segment_filter = spec.segment_filter
    if queue_exists(session, spec.name):
        raise QueueExists(f"a queue named {spec.name!r} exists already; choose another name")
    version = segment_filter.get("model_version") or spec.model_version or latest_model_version(session)
    chosen = draw(session, spec, segment_filter, version)
    shared, plan = deal(len(chosen), spec.coders, spec.overlap, random.Random(spec.seed))
    try:
        ids = [item_for_span(session, row.document_id, row.start, row.end) for row in chosen]
        assignments = add_assignments(session, spec.name, ((ids[i], coder, i) for i, coder in plan))
        session.commit()
    except IntegrityError:  # another queue for these coders was made meanwhile (PostgreSQL; SQLite serialises)
        session.rollback()
        raise QueueExists(f"another queue for these coders was made while {spec.name!r} was; try again") from None
    except Exception:
        session.rollback()
        raise
    return {"name": spec.name, "items": len(chosen), "assignments": assignments, "shared_items": shared,
            "coders": list(spec.coders), "strategy": spec.strategy, "model_version": version}


def draw(session: Session, spec: QueueSpec, segment_filter: SegmentFilter, version: str | None) -> list[SegmentRow]:
    """The sentences of the queue, in the order the coders meet them."""
    _check_version(session, version)
    taken = assigned_spans(session, spec.coders)
    rows = [r for r in select_segments(session, segment_filter, version) if r.start is not None
            and (r.document_id, r.start, r.end) not in taken]
    rng = random.Random(spec.seed)
    if spec.strategy == "disagreement":
        _check_version(session, spec.other_model_version)
        other = {(r.document_id, r.start, r.end): r.label
                 for r in select_segments(session, segment_filter, spec.other_model_version)}
        rows = [r for r in rows if other.get((r.document_id, r.start, r.end), r.label) != r.label]
    keys = {id(r): rng.random() for r in rows}  # the seeded shuffle, and the tie-break of equal margins
    if spec.strategy == "uncertain":
        rows.sort(key=lambda r: (margin(r.scores), keys[id(r)]))
    else:
        rows.sort(key=lambda r: keys[id(r)])
    chosen = _stratified(rows, spec.stratify)[:spec.size]
    if not chosen:
        raise ValueError(f"no scored sentence to draw: none matches the filter {segment_filter} under model version "
                         f"{version}" + (" with another label under " + spec.other_model_version
                                         if spec.strategy == "disagreement" else "")
                         + ", or all are in a queue for these coders already")
    return chosen


def margin(scores: dict[str, float | None]) -> float:
    """The gap between the two most probable stances: 0 where the model cannot choose, 1 where it is sure."""
    top = sorted((s or 0.0 for s in scores.values()), reverse=True)
    return top[0] - top[1] if len(top) > 1 else 1.0


def _stratified(rows: list[SegmentRow], stratify: str | None) -> list[SegmentRow]:
    """Rows taken from each group in turn (groups in name order), each group in its own order: equal shares."""
    if stratify is None:
        return rows
    groups: dict[str, list[SegmentRow]] = {}
    for row in rows:
        groups.setdefault(str(getattr(row, stratify) or ""), []).append(row)
    turns = zip_longest(*(groups[name] for name in sorted(groups)))
    return [row for turn in turns for row in turn if row is not None]


def deal(n: int, coders: tuple[str, ...], overlap: float, rng: random.Random) -> tuple[int, list[tuple[int, str]]]:
    """(shared, [(item index, coder)]): round(overlap * n) items, chosen at random, go to every coder; the others
    to one coder each, in turn. One coder gets everything."""
    if len(coders) == 1:
        return n, [(i, coders[0]) for i in range(n)]
    shared = set(rng.sample(range(n), round(overlap * n)))
    plan, turn = [], 0
    for i in range(n):
        if i in shared:
            plan.extend((i, coder) for coder in coders)
        else:
            plan.append((i, coders[turn % len(coders)]))
            turn += 1
    return len(shared), plan


def _check_version(session: Session, version: str | None) -> None:
    if version is None:
        raise ValueError("the store has no scored sentences yet: score an archive first")
    found = session.execute(select(SegmentScore.id).where(SegmentScore.model_version == version).limit(1)).first()
    if found is None:
        raise ValueError(f"model version {version!r} has scored no sentence in this store")


def next_item(session: Session, queue: str, coder: str, *, suggestions: bool = False) -> dict | None:
    """The coder's next item in `queue` they have not coded, with its context; None when they are done. It never
    carries anyone's codes. NotFound for a queue that gives the coder nothing."""
    position = queue_position(session, queue, coder)
    item_id = next_uncoded(session, queue, coder)
    return None if item_id is None else item_view(session, item_id, queue, position, suggestions=suggestions)


def undo(session: Session, queue: str, coder: str, *, suggestions: bool = False) -> dict:
    """Remove the coder's most recently saved annotation in `queue` (committed) and return its item as next_item
    shows it, with the codes removed (`undone`: the coder's own, to edit and save again). NotFound when there is
    nothing to undo."""
    queue_position(session, queue, coder)
    removed = undo_last(session, queue, coder)
    if removed is None:
        raise NotFound(f"coder {coder!r} has coded nothing in queue {queue!r} to undo")
    session.commit()
    view = item_view(session, removed["item_id"], queue, queue_position(session, queue, coder),
                     suggestions=suggestions)
    return {**view, "undone": {key: removed[key] for key in ("relevant", "stance", "frames", "memo")}}


def item_view(session: Session, item_id: int, queue: str | None, position: tuple[int, int], *,
              suggestions: bool = False) -> dict:
    """An item as a coder sees it: its text, the sentences before and after it, the document's title and source,
    the speaker, how far the coder is, and (with `suggestions`) the model's labels for it."""
    item = get_item(session, item_id)
    document, source = session.execute(select(Document, Source.name).join(Source, Source.id == Document.source_id)
                                       .where(Document.id == item.document_id)).one()
    sentences = _sentences(session, item)
    own = next((s for s in sentences if (s.start, s.end) == (item.start, item.end)), None)
    before = [s for s in sentences if s.end is not None and s.end <= item.start]
    after = [s for s in sentences if s.start is not None and s.start >= item.end]
    return {"item_id": item.id, "queue": queue, "text": document.text[item.start:item.end], "start": item.start,
            "end": item.end, "document_id": item.document_id, "title": document.title, "source": source,
            "speaker": own.speaker if own else None, "previous": before[-1].text if before else None,
            "next": after[0].text if after else None, "position": {"done": position[0], "total": position[1]},
            "suggestion": _suggestion(own) if suggestions and own is not None else None}


def _sentences(session: Session, item) -> list[SegmentScore]:
    """The document's sentences, in order, under the latest version that has the item's span as a sentence (the
    latest version that scored the document when none has)."""
    rows = session.execute(select(SegmentScore).where(SegmentScore.document_id == item.document_id)
                           .order_by(SegmentScore.id.desc())).scalars().all()
    if not rows:
        return []
    preferred = latest_model_version(session)
    exact = [r.model_version for r in rows if (r.start, r.end) == (item.start, item.end)]
    version = preferred if preferred in exact else (exact[0] if exact else rows[0].model_version)
    return sorted((r for r in rows if r.model_version == version), key=lambda r: r.position)


def _suggestion(segment: SegmentScore) -> dict:
    return {"relevance": segment.relevance, "stance": segment.label, "frames": sorted(segment.frames or {})}
