"""Real Dutch documents and sentences from ../shared/corpora, addressed by reference.

The licences of these corpora (NOS and DPG Media: no licence, research use only; see each SOURCE.md) do not allow
copying their text into this repository. The real-sentence validation set (corpora/real_validation/labels.jsonl)
therefore stores only a reference per sentence: corpus, file, 1-based line, 0-based sentence index after
`discourse.segment.sentence_texts`, and the SHA-256 of the sentence. `resolve` reads the text back at run time from
the shared corpora and checks the hash, so a changed corpus or segmenter fails loudly instead of silently shifting.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

# The scripts beside this file measure this checkout's code, not whichever copy of the package is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discourse.segment import sentence_texts
from discourse.settings import SHARED_CORPORA

# corpus folder -> [(file glob, text field)]
SOURCES: dict[str, list[tuple[str, str]]] = {
    "nos-wedemeyer": [("nos_articles_*.jsonl", "text")],
    "dpgmedia2019": [("dpgMedia2019-articles-byarticle.jsonl", "text")],
    "vlaamse-regering-beslissingen": [("beslissingen_*.jsonl", "text"), ("regeerakkoord_secties.jsonl", "text")],
    "be-kamer-vragen-2020": [("be_parliament_2020_nl_*.jsonl", "text_nl")],
}


def _root():
    if not SHARED_CORPORA.is_dir():
        raise SystemExit(f"real sentences need the shared corpora at {SHARED_CORPORA}; that folder is not there")
    return SHARED_CORPORA


def _field(corpus: str, file: str) -> str:
    for pattern, field in SOURCES.get(corpus, []):
        if fnmatch(file, pattern):
            return field
    raise ValueError(f"{corpus}/{file} is not one of the real-sentence sources")


def iter_documents() -> Iterator[tuple[str, str, int, str]]:
    """Yield (corpus, file, line_no, doc_text) for every document; line_no is 1-based."""
    root = _root()
    for corpus, sources in SOURCES.items():
        for pattern, field in sources:
            for path in sorted((root / corpus).glob(pattern)):
                with open(path, encoding="utf-8") as handle:
                    for line_no, line in enumerate(handle, start=1):
                        yield corpus, path.name, line_no, json.loads(line).get(field) or ""


def sha256(sentence: str) -> str:
    return hashlib.sha256(sentence.encode("utf-8")).hexdigest()


def read_document(corpus: str, file: str, line: int, field: str) -> str:
    """The text in `field` of one record: the 1-based `line` of a JSON-lines file, or the 1-based data row (after
    the header) of a CSV file."""
    path = _root() / corpus / file
    with open(path, encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            csv.field_size_limit(1 << 30)  # radio transcripts hold long fields
            records = (row for row in csv.DictReader(handle))
        else:
            records = (json.loads(row) for row in handle)
        for number, record in enumerate(records, start=1):
            if number == line:
                return record.get(field) or ""
    raise ValueError(f"{path} has no record {line}")


def resolve(ref: dict) -> str:
    """The sentence text that `ref` ({"corpus", "file", "line", "sentence", "sha256"}) points to, hash-checked."""
    field = _field(ref["corpus"], ref["file"])
    path = _root() / ref["corpus"] / ref["file"]
    sentences = sentence_texts(read_document(ref["corpus"], ref["file"], ref["line"], field))
    if 0 <= ref["sentence"] < len(sentences) and sha256(sentences[ref["sentence"]]) == ref["sha256"]:
        return sentences[ref["sentence"]]
    # A segmenter fix elsewhere in the document can shift indices; the hash still identifies the sentence.
    for text in sentences:
        if sha256(text) == ref["sha256"]:
            return text
    raise ValueError(f"hash mismatch for {path}:{ref['line']} sentence {ref['sentence']}: the corpus or the "
                     f"segmenter changed this sentence")
