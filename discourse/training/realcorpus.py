"""Real Dutch documents and sentences from ../shared/corpora, addressed by reference and never copied.

The licences of these corpora (NOS and DPG Media: no licence, research use only; see each SOURCE.md) do not allow
copying their text into this repository. Labelled real units are stored as references: corpus, file, 1-based row
(JSONL line or CSV data row), and either the character span of the unit in the document's text field
(`start`/`end`, independent of the sentence splitter) or, in the older validation set, the 0-based sentence index
after `discourse.segment.sentence_texts`; always the SHA-256 of the unit's UTF-8 text. `resolve` reads the text back
at run time and checks the hash, so a changed corpus fails loudly instead of silently shifting.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path

from discourse.segment import sentence_texts
from discourse.settings import REPO_ROOT, SHARED_CORPORA

REAL_DIR = REPO_ROOT / "corpora" / "real_annotated"
REAL_LABELS = REAL_DIR / "labels.jsonl"
FROZEN_TEST = REAL_DIR / "frozen_test.json"


@dataclass(frozen=True)
class Source:
    pattern: str  # file glob inside the corpus folder
    field: str  # the text field
    register: str  # news | policy_decision | coalition_agreement | parliament | radio_speech
    genre: str  # the model's genre: news | policy | interview
    listed: bool = True  # False: resolvable for old references, but not iterated (a subset of another source)


#: corpus folder -> its sources. Radio turns are spoken Dutch: the nearest model genre is "interview".
SOURCES: dict[str, list[Source]] = {
    "nos-wedemeyer": [Source("nos_articles_*.jsonl", "text", "news", "news")],
    "dpgmedia2019": [Source("dpgMedia2019-articles-byarticle.jsonl", "text", "news", "news", listed=False),
                     Source("dpgMedia2019-articles-byarticle-all.jsonl", "text", "news", "news")],
    "vlaamse-regering-beslissingen": [Source("beslissingen_*.jsonl", "text", "policy_decision", "policy"),
                                      Source("regeerakkoord_secties.jsonl", "text", "coalition_agreement", "policy")],
    "be-kamer-vragen-2020": [Source("be_parliament_2020_nl_*.jsonl", "text_nl", "parliament", "policy")],
    "npo2023-nieuwsmonitor": [Source("websites_amcat.csv", "text", "news", "news"),
                              Source("radio_transcripten_politici*.csv", "text", "radio_speech", "interview")],
}


class CorporaMissing(RuntimeError):
    """The shared corpora are not beside the repository (a clone without ../shared)."""


def root() -> Path:
    if not SHARED_CORPORA.is_dir():
        raise CorporaMissing(f"real text needs the shared corpora at {SHARED_CORPORA}; that folder is not there")
    return SHARED_CORPORA


def available() -> bool:
    return SHARED_CORPORA.is_dir()


def source_of(corpus: str, file: str) -> Source:
    for source in SOURCES.get(corpus, []):
        if fnmatch(file, source.pattern):
            return source
    raise ValueError(f"{corpus}/{file} is not one of the real-text sources")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(1-based row, record) for a JSONL file (row = line) or a CSV file (row = data row after the header)."""
    with open(path, encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            csv.field_size_limit(sys.maxsize)
            yield from enumerate(csv.DictReader(handle), start=1)
        else:
            for line_no, line in enumerate(handle, start=1):
                yield line_no, json.loads(line)


@lru_cache(maxsize=8)
def _document_table(corpus: str, file: str) -> dict[int, str]:
    field = source_of(corpus, file).field
    return {row: record.get(field) or "" for row, record in _rows(root() / corpus / file)}


def document_text(corpus: str, file: str, row: int) -> str:
    table = _document_table(corpus, file)
    if row not in table:
        raise ValueError(f"{corpus}/{file} has no row {row}")
    return table[row]


def record_field(corpus: str, file: str, row: int, field: str) -> str:
    """One field of one record (1-based JSONL line or CSV data row) of any file in a corpus folder."""
    for number, record in _rows(root() / corpus / file):
        if number == row:
            return record.get(field) or ""
    raise ValueError(f"{corpus}/{file} has no row {row}")


def iter_documents(corpora: list[str] | None = None) -> Iterator[tuple[str, str, int, str]]:
    """Yield (corpus, file, row, text) for every document of the real-text sources."""
    base = root()
    for corpus, sources in SOURCES.items():
        if corpora is not None and corpus not in corpora:
            continue
        for source in (s for s in sources if s.listed):
            for path in sorted((base / corpus).glob(source.pattern)):
                for row, record in _rows(path):
                    yield corpus, path.name, row, record.get(source.field) or ""


def resolve(ref: dict) -> str:
    """The text a reference points to, hash-checked. `row` (or the older `line`) addresses the document."""
    row = ref.get("row", ref.get("line"))
    doc = document_text(ref["corpus"], ref["file"], row)
    if "start" in ref:
        text = doc[ref["start"]:ref["end"]]
        if sha256(text) == ref["sha256"]:
            return text
        raise ValueError(f"hash mismatch for {ref['corpus']}/{ref['file']}:{row} [{ref['start']}:{ref['end']}]: "
                         "the corpus changed")
    sentences = sentence_texts(doc)
    index = ref["sentence"]
    if 0 <= index < len(sentences) and sha256(sentences[index]) == ref["sha256"]:
        return sentences[index]
    # A segmenter fix elsewhere in the document can shift indices; the hash still identifies the sentence.
    for text in sentences:
        if sha256(text) == ref["sha256"]:
            return text
    raise ValueError(f"hash mismatch for {ref['corpus']}/{ref['file']}:{row} sentence {index}: the corpus or the "
                     "segmenter changed this sentence")


def read_rows(path: Path) -> list[dict]:
    """The rows of one of the project's own JSON-lines data files (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_labels(split: str | None = None) -> list[dict]:
    """The labelled real units (references and labels, no text), optionally one split's: train, dev or test."""
    if not REAL_LABELS.exists():
        return []
    rows = read_rows(REAL_LABELS)
    return [r for r in rows if split is None or r["split"] == split]


def test_split_digest() -> dict:
    """A checksum over the test split's references and labels (order-independent), and its size."""
    lines = sorted(json.dumps({k: r[k] for k in ("uid", "sha256", "relevant", "stance", "frames")}, sort_keys=True)
                   for r in load_labels("test"))
    return {"units": len(lines), "sha256": sha256("\n".join(lines))}


def load_real_units(split: str | None = None):
    """The labelled real units as corpus `Unit`s, their text resolved from the shared corpora."""
    from discourse.training.corpus import Unit

    units = []
    for row in load_labels(split):
        units.append(Unit(id=row["uid"], batch=f"real-{row['register']}", genre=row["genre"],
                          variety="nl-BE" if row["corpus"] in BELGIAN else "nl-NL", text=resolve(row).strip(),
                          relevant=row["relevant"], stance=row["stance"], frames=tuple(row["frames"]),
                          hard_case=None, split=row["split"]))
    return units


BELGIAN = ("vlaamse-regering-beslissingen", "be-kamer-vragen-2020")
