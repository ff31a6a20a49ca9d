"""Keyness: which words side A uses more than side B, and the other way round.

Two numbers per word, because they answer two questions. Dunning's log-likelihood G² says how sure we are that
the difference is not chance — it grows with frequency, so on its own it ranks "de" above a striking rare word.
Hardie's log ratio says how big the difference is (log2 of the ratio of relative frequencies: 1 = twice as
often, 3 = eight times) regardless of frequency. The tables rank by G² and show both; a term is "key for A" when
its log ratio is positive.

G² is computed over the full 2x2 table (term vs every other token, in A vs in B):

                 A        B
    term         a        b
    rest      N_A − a  N_B − b

    E = row total · column total / (N_A + N_B),   G² = 2 · Σ O · ln(O / E)   (0 · ln 0 = 0),

with p from the χ² distribution with one degree of freedom. Corpus sizes N count every token, stop words
included: a stop word is dropped from the candidate terms, not from the text, so relative frequencies stay
frequencies in the text as written.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass

from ..vocabulary import KEYNESS
from ..vocabulary import stop_words as _stop_words
from .tokens import lemma, tokenize

ZERO_FREQUENCY = 0.5  # Hardie: a zero frequency counts as 0.5 in the log ratio, so it stays finite


@dataclass(frozen=True)
class KeyTerm:
    term: str
    freq_a: int
    freq_b: int
    g2: float  # Dunning's log-likelihood
    log_ratio: float  # Hardie's log2 ratio of relative frequencies, A over B
    p_value: float  # χ², 1 df

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class KeynessResult:
    size_a: int  # tokens in A (stop words included)
    size_b: int
    min_freq: int
    lemmas: bool
    terms: tuple[KeyTerm, ...]  # every term with freq_a + freq_b >= min_freq, by G² descending
    top_a: tuple[KeyTerm, ...]  # overused in A: log ratio > 0, by G²
    top_b: tuple[KeyTerm, ...]  # overused in B: log ratio < 0, by G²

    def term(self, term: str) -> KeyTerm | None:
        return next((t for t in self.terms if t.term == term), None)

    def to_dict(self) -> dict:
        """The tables for a report; the full term list stays out (it can run to tens of thousands)."""
        return {"size_a": self.size_a, "size_b": self.size_b, "min_freq": self.min_freq, "lemmas": self.lemmas,
                "n_terms": len(self.terms), "top_a": [t.to_dict() for t in self.top_a],
                "top_b": [t.to_dict() for t in self.top_b]}


def keyness(a_texts: list[str], b_texts: list[str], min_freq: int = 5, lemmas: bool = False,
            stop_words: bool = True, top: int = 25) -> KeynessResult:
    """Key terms of A against B and of B against A."""
    excluded = _stop_words(KEYNESS) if stop_words else frozenset()
    counts_a, size_a = _count(a_texts, lemmas, excluded)
    counts_b, size_b = _count(b_texts, lemmas, excluded)
    if size_a == 0 or size_b == 0:
        raise ValueError(f"keyness needs words on both sides (A has {size_a}, B has {size_b})")
    terms = []
    for term in counts_a.keys() | counts_b.keys():
        a, b = counts_a.get(term, 0), counts_b.get(term, 0)
        if a + b < min_freq:
            continue
        g2 = log_likelihood(a, b, size_a, size_b)
        terms.append(KeyTerm(term, a, b, g2, log_ratio(a, b, size_a, size_b), chi2_sf_1df(g2)))
    # Ties by term, so equal tables come out in the same order on every run.
    terms.sort(key=lambda t: (-t.g2, t.term))
    return KeynessResult(
        size_a=size_a, size_b=size_b, min_freq=min_freq, lemmas=lemmas, terms=tuple(terms),
        top_a=tuple(t for t in terms if t.log_ratio > 0)[:top],
        top_b=tuple(t for t in terms if t.log_ratio < 0)[:top],
    )


def log_likelihood(a: int, b: int, size_a: int, size_b: int) -> float:
    """Dunning's G² over the 2x2 table term/rest × A/B, expected counts from the margins."""
    total = size_a + size_b
    observed = ((a, b), (size_a - a, size_b - b))
    row_totals = (a + b, total - a - b)
    g2 = 0.0
    for row, row_total in zip(observed, row_totals):
        for o, column_total in zip(row, (size_a, size_b)):
            if o > 0:  # 0 · ln 0 = 0
                g2 += o * math.log(o / (row_total * column_total / total))
    return max(2.0 * g2, 0.0)  # rounding can leave -1e-13 for identical rates


def log_ratio(a: int, b: int, size_a: int, size_b: int) -> float:
    """Hardie's log ratio: log2 of (a / N_A) / (b / N_B), a zero frequency counted as 0.5."""
    return math.log2(((a or ZERO_FREQUENCY) / size_a) / ((b or ZERO_FREQUENCY) / size_b))


def chi2_sf_1df(statistic: float) -> float:
    """P(χ²₁ ≥ statistic): a χ² with one degree of freedom is a squared standard normal, so this is
    P(|Z| ≥ √statistic) = erfc(√(statistic / 2))."""
    return math.erfc(math.sqrt(statistic / 2.0))


def _count(texts: list[str], lemmas: bool, excluded: frozenset[str]) -> tuple[Counter, int]:
    """Candidate-term counts and the corpus size (every token)."""
    counts: Counter = Counter()
    size = 0
    for text in texts:
        tokens = tokenize(text)
        size += len(tokens)
        for token in tokens:
            # The stop list is checked on the word as written and, with lemmas, on its lemma ("ben" → "zijn").
            # Lemmatising the list instead would drop content lemmas: the stop word "bepaald" ("certain")
            # lemmatises to "bepalen" ("to determine"), a word of the determinism frame.
            if token in excluded:
                continue
            term = lemma(token) if lemmas else token
            if term not in excluded:
                counts[term] += 1
    return counts, size
