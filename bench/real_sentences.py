"""Real Dutch documents and sentences from ../shared/corpora, addressed by reference.

The licences of these corpora (NOS and DPG Media: no licence, research use only; see each SOURCE.md) do not allow
copying their text into this repository. The real-sentence validation set (corpora/real_validation/labels.jsonl)
therefore stores only a reference per sentence: corpus, file, 1-based line, 0-based sentence index after
`discourse.segment.sentence_texts`, and the SHA-256 of the sentence. `resolve` reads the text back at run time from
the shared corpora and checks the hash, so a changed corpus or segmenter fails loudly instead of silently shifting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from fnmatch import fnmatch

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


def resolve(ref: dict) -> str:
    """The sentence text that `ref` ({"corpus", "file", "line", "sentence", "sha256"}) points to, hash-checked."""
    field = _field(ref["corpus"], ref["file"])
    path = _root() / ref["corpus"] / ref["file"]
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line_no == ref["line"]:
                break
        else:
            raise ValueError(f"{path} has no line {ref['line']}")
    sentences = sentence_texts(json.loads(line).get(field) or "")
    if 0 <= ref["sentence"] < len(sentences) and sha256(sentences[ref["sentence"]]) == ref["sha256"]:
        return sentences[ref["sentence"]]
    # A segmenter fix elsewhere in the document can shift indices; the hash still identifies the sentence.
    for text in sentences:
        if sha256(text) == ref["sha256"]:
            return text
    raise ValueError(f"hash mismatch for {path}:{ref['line']} sentence {ref['sentence']}: the corpus or the "
                     f"segmenter changed this sentence")
