"""Echo: how closely does each sentence of A (parents) repeat a sentence of B (policy, news)?

Word counts (keyness, adoption) miss paraphrase: "die eerste jaren bepalen alles" echoes "de eerste 1000 dagen
zijn bepalend voor de rest van het leven" without sharing a term. Sentence embeddings catch it. For every A
sentence we find its nearest B sentence by cosine similarity; the share of A sentences above a threshold is how
much of A echoes B, and the extremes are the examples a reader needs to judge whether the threshold means what
it should.

The vectors come L2-normalised from the encoder, so cosine similarity is a dot product. A full 20,000 × 20,000
float32 similarity matrix is 1.6 GB; we take it in row chunks of about 64 MB and keep only each row's maximum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

CHUNK_BYTES = 64 * 2**20
#: Calibrated on 289 real pairs coded by two blind coders (bench/echo_pairs.py, corpora/real_annotated/
#: echo_calibration.json), under the served framing model's encoder: same-topic pairs reach 0.80-0.88 as often as
#: restatements do; from 0.90 on, 5 of the 6 labelled pairs are restatements (decisions restating the coalition
#: agreement: precision 1.0, recall about 0.21; news or parliament restating institutional text: 1 of 2).
DEFAULT_THRESHOLD = 0.90
_NORM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class EchoMatch:
    a_index: int
    a_text: str
    b_index: int
    b_text: str
    similarity: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EchoResult:
    threshold: float
    best_index: np.ndarray  # per A sentence: index of its most similar B sentence
    best_similarity: np.ndarray  # per A sentence: that cosine similarity
    share_above: float  # share of A sentences with best_similarity >= threshold
    most: tuple[EchoMatch, ...]  # the A sentences that echo B most, most similar first
    least: tuple[EchoMatch, ...]  # those that echo B least, least similar first

    def to_dict(self) -> dict:
        """Summary for a report; the per-sentence arrays stay out."""
        similarity = self.best_similarity
        return {"threshold": self.threshold, "n_a": int(similarity.size), "share_above": self.share_above,
                "n_above": int((similarity >= self.threshold).sum()),
                "median_similarity": float(np.median(similarity)) if similarity.size else float("nan"),
                "most": [m.to_dict() for m in self.most], "least": [m.to_dict() for m in self.least]}


def echo(a_vectors: np.ndarray, b_vectors: np.ndarray, a_texts: list[str], b_texts: list[str],
         threshold: float = DEFAULT_THRESHOLD, top: int = 10, *, chunk_rows: int | None = None) -> EchoResult:
    """Nearest B sentence of every A sentence, share above `threshold`, and the `top` most and least echoing.

    The top lists hold distinct A texts: a boilerplate sentence repeated fifty times would otherwise fill them.
    """
    a = _check(a_vectors, a_texts, "A")
    b = _check(b_vectors, b_texts, "B")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"A vectors have dimension {a.shape[1]}, B vectors {b.shape[1]}")
    if b.shape[0] == 0:
        raise ValueError("B has no sentences to echo")
    best_index, best_similarity = _nearest(a, b, chunk_rows or max(1, CHUNK_BYTES // (4 * b.shape[0])))
    share = float((best_similarity >= threshold).mean()) if best_similarity.size else 0.0
    # Stable sorts on the negated / plain similarity: equal similarities keep A's order, so results repeat.
    descending = np.argsort(-best_similarity, kind="stable")
    ascending = np.argsort(best_similarity, kind="stable")
    return EchoResult(
        threshold=threshold, best_index=best_index, best_similarity=best_similarity, share_above=share,
        most=_matches(descending, best_index, best_similarity, a_texts, b_texts, top),
        least=_matches(ascending, best_index, best_similarity, a_texts, b_texts, top),
    )


def _check(vectors: np.ndarray, texts: list[str], side: str) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"{side} vectors must be a 2-d array, got shape {vectors.shape}")
    if vectors.shape[0] != len(texts):
        raise ValueError(f"{side} has {vectors.shape[0]} vectors but {len(texts)} texts")
    # Unnormalised vectors would make the dot product a different measure and the threshold meaningless;
    # refusing is better than a silently wrong share.
    norms = np.linalg.norm(vectors, axis=1)
    if norms.size and np.abs(norms - 1.0).max() > _NORM_TOLERANCE:
        raise ValueError(f"{side} vectors must be L2-normalised (norms range {norms.min():.4f}–{norms.max():.4f})")
    return vectors


def _nearest(a: np.ndarray, b: np.ndarray, chunk_rows: int) -> tuple[np.ndarray, np.ndarray]:
    best_index = np.empty(a.shape[0], dtype=np.int64)
    best_similarity = np.empty(a.shape[0], dtype=np.float32)
    b_t = np.ascontiguousarray(b.T)
    for start in range(0, a.shape[0], chunk_rows):
        similarity = a[start:start + chunk_rows] @ b_t
        index = similarity.argmax(axis=1)  # the first B sentence among equals
        best_index[start:start + len(index)] = index
        best_similarity[start:start + len(index)] = similarity[np.arange(len(index)), index]
    return best_index, best_similarity


def _matches(order: np.ndarray, best_index: np.ndarray, best_similarity: np.ndarray, a_texts: list[str],
             b_texts: list[str], top: int) -> tuple[EchoMatch, ...]:
    out: list[EchoMatch] = []
    seen: set[str] = set()
    for i in order:
        if len(out) >= top:
            break
        if a_texts[i] in seen:
            continue
        seen.add(a_texts[i])
        j = int(best_index[i])
        out.append(EchoMatch(int(i), a_texts[i], j, b_texts[j], float(best_similarity[i])))
    return tuple(out)
