"""The scored sentences as columns in memory: what the dashboard aggregates.

Why not SQL: the dashboard's questions (stance per month, sources ranked, frame × source) scan every relevant
sentence of a model version and join each to its document and source. On SQLite with 1,000,000 sentences
such a GROUP BY takes about a second on two cores; the same count over numpy columns takes milliseconds. The
store stays the truth: this is a read-only copy of the columns a filter or a grouping needs (no texts), about
40 bytes a sentence.

Fresh by construction: the store only ever inserts scores (ON CONFLICT DO NOTHING, no updates), so `refresh`
asks for the highest segment id (an index lookup) and reads only the rows above the last id it has. Callers
refresh before answering, so new scores show up in the next question. On PostgreSQL, where two writers can
commit out of id order, the row count is compared too (when the max moved, else every RECOUNT_SECONDS) and a
mismatch reloads everything. Scores are never deleted by this project; a store edited by hand (rows deleted
below the newest) needs a server restart on SQLite.
Topic assignments are replaced when a topic model is refitted; they are read per topic model, keyed by their
count and the model file's time (`topic_column`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, String, func, select, type_coerce

from discourse.codebook import STANCES, load_codebook
from discourse.store.schema import Document, DocumentScore, SegmentScore, Source, Speaker, TopicAssignment

#: Role codes; 0 is a sentence without a speaker (news, policy), shown as "none".
ROLE_CODES = {None: 0, "respondent": 1, "interviewer": 2, "other": 3}
ROLE_NAMES = ("none", "respondent", "interviewer", "other")
UNDATED = np.iinfo(np.int32).min
NO_TOPIC = -2  # the segment has no assignment under the topic model (-1 is BERTopic's outlier topic)
_CHUNK = 20_000
#: How often (s) an unchanged snapshot still counts the rows, to notice rows deleted or committed late.
RECOUNT_SECONDS = 10.0


@dataclass
class Documents:
    """Per-document columns; a segment's `doc` indexes them."""

    ids: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    source: list[int] = field(default_factory=list)  # index into Facts.sources
    genre: list[int] = field(default_factory=list)  # index into Facts.genres, -1 when None
    day: list[int] = field(default_factory=list)  # days since 1970-01-01, UNDATED when None
    title: list[str | None] = field(default_factory=list)

    def add(self, doc_id: str, source: int, genre: int, published: dt.date | None, title: str | None) -> int:
        self.index[doc_id] = len(self.ids)
        self.ids.append(doc_id)
        self.source.append(source)
        self.genre.append(genre)
        self.day.append(UNDATED if published is None else (published - dt.date(1970, 1, 1)).days)
        self.title.append(title)
        return self.index[doc_id]


class Facts:
    """The snapshot. Segment columns are numpy arrays of equal length; categorical values are small integer
    codes into the lists next to them (sources, genres, versions, speakers). Use `refresh(engine)` to bring it
    up to date and the attributes read-only in between (a refresh swaps whole arrays, never edits in place)."""

    def __init__(self) -> None:
        self.frames: tuple[str, ...] = load_codebook().frames  # bit i of `frame_bits` is frames[i]
        self._lock = threading.Lock()
        # Bumped whenever the rows change, never reset (a reload must not reuse an old cache key).
        self.generation = 0
        self._clear()

    def _clear(self) -> None:
        self._counted_at = float("-inf")
        self.last_id = 0
        self.row_count = 0
        self.documents = Documents()
        self.sources: list[str] = []
        self.source_kinds: list[str] = []
        self.source_index: dict[str, int] = {}
        self._source_by_id: dict[int, int] = {}  # store id -> index into sources
        self.genres: list[str] = []
        self.versions: list[str] = []
        self.version_models: list[str] = []
        self.speakers: list[dict] = []  # attributes per speaker code
        self.speaker_index: dict[tuple[str, str], int] = {}
        self.last_speaker_id = 0
        self.segment_id = np.zeros(0, np.int64)
        self.doc = np.zeros(0, np.int32)
        self.position = np.zeros(0, np.int32)
        self.version = np.zeros(0, np.int16)
        self.label = np.zeros(0, np.int8)  # index into STANCES, -1 when unlabelled
        self.scores = np.zeros((0, 3), np.float32)  # supportive, pressuring, neutral
        self.relevance = np.zeros(0, np.float32)  # NaN when unknown
        self.frame_bits = np.zeros(0, np.int64)
        self.role = np.zeros(0, np.int8)
        self.speaker = np.zeros(0, np.int32)  # index into speakers, -1 when none
        self._doc_arrays: dict[str, np.ndarray] | None = None
        # Topic assignments per topic model: (count, stamp, epoch) -> sorted keys and topics; and the column
        # built from them, extended as segments arrive. Both belong to one epoch (document indices change when
        # the snapshot is read again from scratch).
        self._epoch = getattr(self, "_epoch", 0) + 1
        self._assignments: dict[str, tuple[tuple, np.ndarray, np.ndarray]] = {}
        self._topic_columns: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ reading the store

    def refresh(self, engine: Engine) -> bool:
        """Read what the store has that the snapshot lacks. True if anything changed."""
        with self._lock, engine.connect() as conn:
            max_id = conn.execute(select(func.max(SegmentScore.id))).scalar_one() or 0
            if engine.dialect.name == "sqlite":
                # SQLite serialises writers, so ids are committed in order: nothing can appear below last_id.
                if max_id == self.last_id:
                    return False
                count = None
            else:
                # PostgreSQL writers commit in any order. Counting is a scan (a million rows: a noticeable part
                # of a question's time), the max an index lookup: count when the max moved, and otherwise at
                # most every RECOUNT_SECONDS.
                now = time.monotonic()
                if max_id == self.last_id and now - self._counted_at < RECOUNT_SECONDS:
                    return False
                count = conn.execute(select(func.count()).select_from(SegmentScore)
                                     .where(SegmentScore.id <= max_id)).scalar_one()
                self._counted_at = now
            if count is not None:
                if max_id == self.last_id and count == self.row_count:
                    return False
                if count < self.row_count or (max_id == self.last_id and count != self.row_count):
                    self._clear()  # rows vanished, or arrived below last_id: start again
            elif max_id < self.last_id:
                self._clear()  # the newest rows were deleted
            self._read(conn, max_id)
            if count is not None and self.row_count != count:
                # A transaction committed rows below last_id after the count (a second writer): read it all.
                self._clear()
                self._read(conn, None)
            self.generation += 1
            self._doc_arrays = None
            return True

    def _read(self, conn, max_id: int | None) -> None:
        """Sources and speakers first: the new segments refer to them."""
        self._read_sources(conn)
        self._read_speakers(conn)
        self._read_segments(conn, max_id)

    def _read_sources(self, conn) -> None:
        for source_id, name, kind in conn.execute(select(Source.id, Source.name, Source.kind).order_by(Source.id)):
            if name not in self.source_index:
                self.source_index[name] = len(self.sources)
                self.sources.append(name)
                self.source_kinds.append(kind)
            self._source_by_id[source_id] = self.source_index[name]

    def _read_speakers(self, conn) -> None:
        query = (select(Speaker.id, Speaker.document_id, Speaker.label, Speaker.attributes)
                 .where(Speaker.id > self.last_speaker_id).order_by(Speaker.id))
        for speaker_id, document_id, label, attributes in conn.execute(query):
            self.speaker_index[(document_id, label)] = len(self.speakers)
            self.speakers.append({k: _text(v) for k, v in (attributes or {}).items()})
            self.last_speaker_id = speaker_id

    def _read_documents(self, conn, ids: set[str]) -> None:
        """Documents the new segments refer to: all of them on a first read, the missing ones after."""
        columns = (Document.id, Document.source_id, Document.genre, Document.published, Document.title)
        if not self.documents.ids:
            rows = conn.execute(select(*columns))
        else:
            missing = sorted(ids - self.documents.index.keys())
            rows = (row for start in range(0, len(missing), 500)
                    for row in conn.execute(select(*columns).where(Document.id.in_(missing[start:start + 500]))))
        genre_index = {g: i for i, g in enumerate(self.genres)}
        for doc_id, source_id, genre, published, title in rows:
            if doc_id in self.documents.index:
                continue
            if genre is not None and genre not in genre_index:
                genre_index[genre] = len(self.genres)
                self.genres.append(genre)
            self.documents.add(doc_id, self._source_by_id[source_id],
                               -1 if genre is None else genre_index[genre], published, title)

    def _read_segments(self, conn, max_id: int | None) -> None:
        query = (select(SegmentScore.id, SegmentScore.document_id, SegmentScore.position, SegmentScore.model,
                        SegmentScore.model_version, SegmentScore.label, SegmentScore.score_supportive,
                        SegmentScore.score_pressuring, SegmentScore.score_neutral, SegmentScore.relevance,
                        # as text: the JSON is parsed only where there is one (most sentences carry no frame)
                        type_coerce(SegmentScore.frames, String), SegmentScore.speaker, SegmentScore.speaker_role)
                 .where(SegmentScore.id > self.last_id).order_by(SegmentScore.id))
        if max_id is not None:
            query = query.where(SegmentScore.id <= max_id)
        result = conn.execution_options(stream_results=True, yield_per=_CHUNK).execute(query)
        parts = []
        for chunk in result.partitions(_CHUNK):
            parts.append(self._columns(conn, chunk))
        if not parts:
            return
        for name in ("segment_id", "doc", "position", "version", "label", "scores", "relevance", "frame_bits",
                     "role", "speaker"):
            setattr(self, name, np.concatenate([getattr(self, name)] + [p[name] for p in parts]))
        self.last_id = int(self.segment_id[-1])
        self.row_count = len(self.segment_id)

    def _columns(self, conn, rows) -> dict[str, np.ndarray]:
        self._read_documents(conn, {row[1] for row in rows})
        version_index = {v: i for i, v in enumerate(self.versions)}
        frame_bit = {f: 1 << i for i, f in enumerate(self.frames)}
        doc_index, speaker_index = self.documents.index, self.speaker_index
        n = len(rows)
        out = {"segment_id": np.empty(n, np.int64), "doc": np.empty(n, np.int32), "position": np.empty(n, np.int32),
               "version": np.empty(n, np.int16), "label": np.empty(n, np.int8),
               "scores": np.empty((n, 3), np.float32), "relevance": np.empty(n, np.float32),
               "frame_bits": np.zeros(n, np.int64), "role": np.empty(n, np.int8), "speaker": np.empty(n, np.int32)}
        label_code = {s: i for i, s in enumerate(STANCES)}
        nan = float("nan")
        for i, (seg_id, doc_id, position, model, version, label, sup, pres, neut, relevance, frames, speaker,
                role) in enumerate(rows):
            if version not in version_index:
                version_index[version] = len(self.versions)
                self.versions.append(version)
                self.version_models.append(model)
            out["segment_id"][i] = seg_id
            out["doc"][i] = doc_index[doc_id]
            out["position"][i] = position
            out["version"][i] = version_index[version]
            out["label"][i] = label_code.get(label, -1)
            out["scores"][i] = (sup if sup is not None else nan, pres if pres is not None else nan,
                                neut if neut is not None else nan)
            out["relevance"][i] = relevance if relevance is not None else nan
            if frames and frames != "null":
                bits = 0
                # SQLite hands the JSON over as text; psycopg decodes PostgreSQL's json type itself.
                for name in (json.loads(frames) if isinstance(frames, str) else frames) or ():
                    bits |= frame_bit.get(name, 0)
                out["frame_bits"][i] = bits
            out["role"][i] = ROLE_CODES.get(role, 3)
            out["speaker"][i] = speaker_index.get((doc_id, speaker), -1) if speaker is not None else -1
        return out

    # ------------------------------------------------------------------ derived columns

    def doc_arrays(self) -> dict[str, np.ndarray]:
        """The per-document lists as arrays (built once per refresh)."""
        if self._doc_arrays is None:
            docs = self.documents
            kinds = sorted(set(self.source_kinds))
            kind_of_source = np.array([kinds.index(k) for k in self.source_kinds] or [0], np.int32)
            source = np.array(docs.source, np.int32)
            self._doc_arrays = {"source": source, "genre": np.array(docs.genre, np.int32),
                                "day": np.array(docs.day, np.int32),
                                "corpus": kind_of_source[source] if len(source) else np.zeros(0, np.int32),
                                "corpus_names": np.array(kinds, dtype=object)}
        return self._doc_arrays

    def topic_column(self, engine: Engine, topic_model: str, stamp: object) -> np.ndarray | None:
        """Each segment's topic under `topic_model` (NO_TOPIC where it has none); None when the store has no
        assignment for that model. The assignments are read from the store only when their count or `stamp`
        (the model file's time) changes; new segments are looked up in them, so a scoring run writing batches
        does not make every topic question read them all again."""
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(TopicAssignment)
                                 .where(TopicAssignment.topic_model == topic_model)).scalar_one()
        if count == 0:
            return None
        key = (count, stamp, self._epoch)
        cached = self._assignments.get(topic_model)
        if cached is None or cached[0] != key:
            with engine.connect() as conn:
                rows = conn.execute(select(TopicAssignment.document_id, TopicAssignment.position,
                                           TopicAssignment.topic)
                                    .where(TopicAssignment.topic_model == topic_model)).all()
            index = self.documents.index
            known = [(index[d], p, t) for d, p, t in rows if d in index]
            docs, positions, topics = (np.array(c, np.int64) for c in zip(*known)) if known else \
                (np.zeros(0, np.int64),) * 3
            keys = (docs << 24) | positions  # (document, position): the same sentence under every model version
            order = np.argsort(keys)
            cached = (key, keys[order], topics[order].astype(np.int32))
            self._assignments[topic_model] = cached
            self._topic_columns.pop(topic_model, None)
        _, keys, topics = cached
        column = self._topic_columns.get(topic_model)
        done = 0 if column is None else len(column)
        if done < len(self.segment_id):  # look up only the segments added since
            wanted = (self.doc[done:].astype(np.int64) << 24) | self.position[done:]
            new = np.full(len(wanted), NO_TOPIC, np.int32)
            if len(keys):
                at = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
                hit = keys[at] == wanted
                new[hit] = topics[at[hit]]
            column = new if column is None else np.concatenate([column, new])
            self._topic_columns[topic_model] = column
        return column

    def segments_of_version(self, version: str) -> int:
        return int(np.count_nonzero(self.version == self.versions.index(version))) if version in self.versions else 0


def _text(value) -> str:
    """Speaker attributes compared as text, whatever JSON type they were stored with (33 and "33" match)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def latest_version(engine: Engine) -> str | None:
    """As discourse.store.queries.latest_model_version: the version first used most recently."""
    from discourse.store import session_factory
    from discourse.store.queries import latest_model_version

    with session_factory(engine)() as session:
        return latest_model_version(session)


def document_labels(engine: Engine, ids: list[str], version: str) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(DocumentScore.document_id, DocumentScore.label).where(
            DocumentScore.document_id.in_(ids), DocumentScore.model_version == version)).all())
