"""Topic assignments in the store: which topic of a fitted topic model each scored segment has."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .schema import TopicAssignment
from .writer import dialect_insert

CHUNK = 1000  # rows per INSERT: well under SQLite's bound-parameter limit


def clear_topic_assignments(session: Session, topic_model: str) -> None:
    """Forget what topic model `topic_model` assigned (before it is fitted again)."""
    session.execute(delete(TopicAssignment).where(TopicAssignment.topic_model == topic_model))


def add_topic_assignments(session: Session, topic_model: str,
                          assignments: Iterable[tuple[str, int, int]]) -> int:
    """Store (document id, segment position, topic) rows of `topic_model` and commit; a segment that has a topic
    of this model already keeps it. Returns how many rows were new."""
    values = [{"topic_model": topic_model, "document_id": document_id, "position": position, "topic": int(topic)}
              for document_id, position, topic in assignments]
    insert = dialect_insert(session.get_bind())
    stored = 0
    for start in range(0, len(values), CHUNK):
        statement = insert(TopicAssignment).on_conflict_do_nothing(
            index_elements=["topic_model", "document_id", "position"]).returning(TopicAssignment.position)
        stored += len(session.execute(statement, values[start:start + CHUNK]).all())
    session.commit()
    return stored
