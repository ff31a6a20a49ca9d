"""Sentence segmenters for Dutch compared on hand-marked real boundaries, and their speed.

    .venv/bin/python bench/segmenters.py            # needs ../shared/corpora; pysbd and sentencex if installed

The gold set (bench/data/segment_gold.jsonl) holds references only, because the corpora's licences do not allow
copying their text: corpus, file, 1-based JSONL line or CSV data row, field, the SHA-256 of the document text and
the character offsets where a sentence starts (the first after the document's start not counted). The boundaries
were marked by reading each document, not from any segmenter's output. Conventions: a quotation that opens a
sentence belongs to it (the boundary is before the quote mark); a colon, a semicolon or an inline enumeration
("percelen: 1. ...; 2. ...") does not end a sentence; a list item on its own starts one, and a segmenter may start
it at the marker ("1. Kunnen ...") or after it; a cross-heading glued to the next sentence ("Gijzeling De
gemeente ...") is a sentence of its own; in radio transcripts an utterance the recogniser closed with a period
counts as a sentence unless the next line plainly continues it ("... ellende... / die daar ...", a relative or
subordinate clause).

Prints boundary precision, recall and F1 per segmenter and register (news-nos, news-dpg, policy, parliament,
radio), then seconds for 100,000 characters of ordinary Dutch (the project's authored corpus) and for the
adversarial "a" * 100,000 + " b. C".
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import time
from collections import defaultdict
from pathlib import Path

from real_sentences import read_document, sha256  # noqa: E402  (puts the repo on sys.path)

from discourse.training.corpus import running_text
from discourse.segment import split_sentences
from discourse.settings import SHARED_CORPORA

GOLD = Path(__file__).parent / "data" / "segment_gold.jsonl"
_LIST_MARKER = re.compile(r"(?:\(?\d{1,3}[.)°]|[-–•*]|\(?[a-z][.)])\s*")
SPEED_CHARS = 100_000


def _ours(text: str) -> list[int]:
    return [s.start for s in split_sentences(text)]


def _pysbd():
    import pysbd

    segmenter = pysbd.Segmenter(language="nl", clean=False, char_span=True)
    return lambda text: [span.start for span in segmenter.segment(text)]


def _sentencex():
    from sentencex import segment

    return lambda text: _locate(text, segment("nl", text))


def _locate(text: str, sentences) -> list[int]:
    """Start offsets of `sentences` (strings in order) in `text`, for segmenters that return strings only."""
    starts, pos = [], 0
    for sentence in sentences:
        stripped = sentence.strip()
        if not stripped:
            continue
        found = text.find(stripped, pos)
        if found < 0:
            raise ValueError(f"sentence not found in text: {stripped[:60]!r}")
        starts.append(found)
        pos = found + len(stripped)
    return starts


def segmenters() -> dict:
    found = {"discourse (ours)": _ours}
    for name, make in (("pysbd", _pysbd), ("sentencex", _sentencex)):
        if importlib.util.find_spec(name) is not None:
            found[name] = make()
        else:
            print(f"{name}: not installed, left out (pip install {name})")
    return found


def boundaries(text: str, starts: list[int]) -> set[int]:
    """Sentence starts moved past leading white space, without the document's own start."""
    first = len(text) - len(text.lstrip())
    out = set()
    for start in starts:
        while start < len(text) and text[start].isspace():
            start += 1
        if first < start < len(text):
            out.add(start)
    return out


def score(text: str, gold: list[int], predicted: set[int]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives). A gold boundary at a list marker also matches a
    prediction just after the marker."""
    unmatched = set(predicted)
    tp = 0
    for g in gold:
        marker = _LIST_MARKER.match(text, g)
        options = [g] + ([marker.end()] if marker and marker.end() > g else [])
        hit = next((p for p in options if p in unmatched), None)
        if hit is not None:
            unmatched.discard(hit)
            tp += 1
    return tp, len(unmatched), len(gold) - tp


def load_gold() -> list[tuple[dict, str]]:
    docs = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        ref = json.loads(line)
        text = read_document(ref["corpus"], ref["file"], ref["line"], ref["field"])
        if sha256(text) != ref["sha256"]:
            raise ValueError(f"{ref['corpus']}/{ref['file']}:{ref['line']}: the document text changed (hash)")
        docs.append((ref, text))
    return docs


def accuracy(docs, segment) -> dict[str, tuple[int, int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for ref, text in docs:
        for register in (ref["register"], "all"):
            tp, fp, fn = score(text, ref["boundaries"], boundaries(text, segment(text)))
            counts[register][0] += tp
            counts[register][1] += fp
            counts[register][2] += fn
    return {k: tuple(v) for k, v in counts.items()}


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def ordinary_dutch(chars: int = SPEED_CHARS) -> str:
    return running_text(chars)


def seconds(segment, text: str) -> float:
    started = time.perf_counter()
    segment(text)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-adversarial", action="store_true", help="Skip the adversarial speed text.")
    args = parser.parse_args()
    found = segmenters()
    if not SHARED_CORPORA.is_dir():
        print(f"accuracy skipped: the shared corpora are not at {SHARED_CORPORA}")
    else:
        docs = load_gold()
        registers = sorted({ref["register"] for ref, _ in docs}) + ["all"]
        print(f"{len(docs)} documents, {sum(len(ref['boundaries']) for ref, _ in docs)} gold boundaries")
        print(f"| segmenter | {' | '.join(registers)} |")
        print("|---" * (len(registers) + 1) + "|")
        for name, segment in found.items():
            counts = accuracy(docs, segment)
            cells = []
            for register in registers:
                p, r, f = prf(*counts[register])
                cells.append(f"P {p:.3f} R {r:.3f} **F1 {f:.3f}**")
            print(f"| {name} | {' | '.join(cells)} |")
    texts = {"ordinary Dutch": ordinary_dutch()}
    if not args.no_adversarial:
        texts["'a'*100000 + ' b. C'"] = "a" * SPEED_CHARS + " b. C"
    for label, text in texts.items():
        print(f"speed, {len(text):,} characters of {label}: "
              + ", ".join(f"{name} {seconds(segment, text):.3f} s" for name, segment in found.items()))


if __name__ == "__main__":
    main()
