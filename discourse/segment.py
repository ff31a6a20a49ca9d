"""Dutch sentence segmentation.

Rule-based on purpose: it is fast, deterministic, and its mistakes can be read and fixed. A boundary is a run of
`.`, `!`, `?` or `…` (plus closing quotes/brackets) followed by white space and a token that can open a sentence.
It is not a boundary after a Dutch abbreviation ("bv.", "o.a.", "dr.", "i.p.v."), an initial ("J. Peeters"), a
transcript ellipsis ("[..]", "...") followed by lower case, or a number followed by lower case ("3. stappen").
Blank lines and bullet items always end a sentence.

Linear in the length of the text: each candidate end is judged on the characters just after it and on at most
`LOOKBACK` characters before it, never on everything before it (a long text must not stall the service's one model
worker). Measured against pysbd and sentencex on hand-marked real boundaries: bench/segmenters.py.
"""

from __future__ import annotations

import re

from .text import Sentence

# Lower-case, without the final period. Multi-dot forms are matched whole ("o.a", "i.p.v").
ABBREVIATIONS = frozenset(
    """
    a.d a.h.v a.s afb afd alg art bijv blz bv bvb bijz bw ca cf d.i d.m.v d.w.z dhr dr drs e.a e.d e.v enz etc
    evt excl fig gem gepens geb i.c i.e i.h.b i.o.m i.p.v i.s.m i.v.m incl ing ir jl jr kand m.a.w m.b.t m.i
    m.n max mevr mgr min mr mw n.a.v n.av n.v.t nl nr o.a o.b.v o.i.d o.l.v o.m ong p.p p.w pag prof resp
    sr st t.a.v t.b.v t.e.m t.g.v t.o.v t.w tel ter tv v.a v.chr v.d v.l.n.r v.o.f vb vgl vnl vs z.g z.o.z zg
    z.s.m zgn jan feb febr mrt apr aug sep sept okt nov dec ma di wo do vr za zo
    """.split()
)

#: How many characters before a candidate end decide it (the word before it, "artikel 3", "[.."). Longer than
#: any abbreviation or ordinal phrase; a longer run of word characters is no abbreviation whatever its start.
LOOKBACK = 64

_BULLET = re.compile(r"^\s*(?:[-–—•*·▪●◦]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")
# Candidate end: terminal punctuation, optional closing quotes/brackets, then white space. The look-behind starts
# a match only at the first mark of a run, so a long run of dots is tried once, not once per dot.
_CANDIDATE = re.compile(r"(?<![.!?…])([.!?…]+)([\"'”’»)\]]*)(\s+)")
_WORD_BEFORE = re.compile(r"([\w.'’]+)$")  # apostrophes too: "baby's." is no initial
_OPENS_SENTENCE = re.compile(r"[\"'“‘«(\[]*[A-ZÀ-ÖØ-Þ0-9]")


def split_sentences(text: str) -> list[Sentence]:
    """Split `text` into sentences with their character offsets in `text`."""
    sentences: list[Sentence] = []
    for block_start, block_end in _blocks(text):
        for start, end in _split_block(text, block_start, block_end):
            sentences.append(Sentence(text[start:end], start, end))
    return sentences


def sentence_texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def _blocks(text: str):
    """Yield (start, end) of paragraphs and bullet items; single line breaks inside a paragraph are kept."""
    start = None
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        if not line.strip():
            if start is not None:
                yield _trim(text, start, line_start)
                start = None
            continue
        if _BULLET.match(line) and start is not None:
            yield _trim(text, start, line_start)
            start = None
        if start is None:
            start = line_start
    if start is not None:
        yield _trim(text, start, len(text))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_block(text: str, start: int, end: int):
    block = text[start:end]
    bullet = _BULLET.match(block)
    offset = bullet.end() if bullet else 0  # a list marker is not part of the sentence
    sent_start = offset
    for match in _CANDIDATE.finditer(block, offset):
        if not _is_boundary(block, match):
            continue
        yield from _nonempty(text, start + sent_start, start + match.end(2))
        sent_start = match.end()
    yield from _nonempty(text, start + sent_start, end)


def _nonempty(text: str, start: int, end: int):
    start, end = _trim(text, start, end)
    if end > start:
        yield start, end


def _is_boundary(block: str, match: re.Match) -> bool:
    punct = match.group(1)
    if not _OPENS_SENTENCE.match(block, match.end()):
        return False  # next token is lower case or punctuation: "[..] en dan", "3. stappen", "bv. de"
    if "!" in punct or "?" in punct or "…" in punct:
        return True
    before = block[max(0, match.start() - LOOKBACK):match.start()]
    if before.endswith("[") or before.endswith("[.") or before.endswith("(."):
        return False  # "[..]" / "(...)": a cut in a transcript, not an end
    word = _WORD_BEFORE.search(before)
    if word is None:
        return True
    original = word.group(1).strip(".")
    token = original.lower()
    if len(punct) == 1:
        if token in ABBREVIATIONS:
            return False
        if len(original) == 1 and original.isalpha() and original.isupper():
            return False  # an initial: "J. Peeters", "A. de Vries" (a lower-case letter is a unit: "4,00 m.")
        if re.fullmatch(r"(?:\w\.)+\w", token):
            return False  # unknown dotted abbreviation such as "k.o." or "a.u.b"
        if token.isdigit() and (_ORDINAL_CONTEXT.search(before) or _ENUMERATION.search(before)):
            return False  # "artikel 3.", "stap 2."; "percelen: 1. Integratie; 2. Werkplek" lists inline
    return True


_ORDINAL_CONTEXT = re.compile(r"(?:art|artikel|punt|stap|hoofdstuk)\s+\d+$", re.IGNORECASE)
_ENUMERATION = re.compile(r"[:;]\s*\d{1,3}$")
