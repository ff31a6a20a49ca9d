"""Embeddings cached by (encoder version, sha256 of the exact text the encoder saw, prefix included).

Two layers: a dict in memory, and optionally one SQLite file that survives the process (WAL, so readers in
other processes are not blocked while a batch is written). A long-running process (the HTTP service) can leave
the memory layer out (`memory=False`), so that the vectors it has seen do not pile up in its RAM, or bound it
(`max_memory`: the least recently used vectors beyond that many are dropped). One lock serialises all access, so
one cache can be shared by threads.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..text import text_hash

SQL_CHUNK = 500  # keys per SELECT … IN (…); stays under SQLite's bound-parameter limit


class EmbeddingCache:
    def __init__(self, path: str | Path | None = None, memory: bool = True, max_memory: int | None = None):
        self.path = Path(path) if path is not None else None
        if self.path is None and not memory:
            raise ValueError("an embedding cache needs a file, its memory, or both")
        if max_memory is not None and max_memory < 1:
            raise ValueError(f"max_memory must be at least 1 vector, got {max_memory}")
        self.memory = memory
        self.max_memory = max_memory
        self._memory: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)  # guarded by self._lock
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (version TEXT NOT NULL, "
                             "text_hash TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL, "
                             "PRIMARY KEY (version, text_hash)) WITHOUT ROWID")
            self._db.commit()

    def get_many(self, version: str, texts: list[str]) -> list[np.ndarray | None]:
        """The cached vector for each text, None where there is none."""
        keys = [text_hash(t) for t in texts]
        with self._lock:
            found = {}
            for key in keys:
                vector = self._memory.get((version, key))
                if vector is not None:
                    found[key] = vector
                    self._memory.move_to_end((version, key))  # recently used: dropped last
            if self._db is not None:
                wanted = sorted({k for k in keys if k not in found})
                for start in range(0, len(wanted), SQL_CHUNK):
                    chunk = wanted[start:start + SQL_CHUNK]
                    rows = self._db.execute(
                        f"SELECT text_hash, dim, vector FROM embeddings WHERE version = ? "
                        f"AND text_hash IN ({','.join('?' * len(chunk))})", [version, *chunk])
                    for key, dim, blob in rows:
                        vector = np.frombuffer(blob, np.float32, count=dim)  # read-only view, like memory entries
                        found[key] = vector
                        if self.memory:
                            self._remember((version, key), vector)
            result = [found.get(k) for k in keys]
            hits = sum(v is not None for v in result)
            self.hits += hits
            self.misses += len(result) - hits
        return result

    def put_many(self, version: str, texts: list[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, np.float32)
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        rows = []
        with self._lock:
            for text, vector in zip(texts, vectors):
                stored = vector.copy()
                stored.flags.writeable = False  # callers get this array back; nobody may change it in place
                key = text_hash(text)
                if self.memory:
                    self._remember((version, key), stored)
                rows.append((version, key, stored.shape[0], stored.tobytes()))
            if self._db is not None and rows:
                with self._db:  # one transaction for the whole batch
                    self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)

    def _remember(self, key: tuple[str, str], vector: np.ndarray) -> None:
        self._memory[key] = vector
        self._memory.move_to_end(key)
        if self.max_memory is not None:
            while len(self._memory) > self.max_memory:
                self._memory.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            if self._db is None:
                return len(self._memory)
            return self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> "EmbeddingCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
