"""Real Dutch documents and sentences from ../shared/corpora, addressed by reference.

The licences of these corpora (NOS and DPG Media: no licence, research use only; see each SOURCE.md) do not allow
copying their text into this repository. The real-sentence validation set (corpora/real_validation/labels.jsonl)
therefore stores only a reference per sentence: corpus, file, 1-based line, 0-based sentence index after
`discourse.segment.sentence_texts`, and the SHA-256 of the sentence. `resolve` reads the text back at run time from
the shared corpora and checks the hash, so a changed corpus or segmenter fails loudly instead of silently shifting.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

# The scripts beside this file measure this checkout's code, not whichever copy of the package is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# the one reader and resolver
from discourse.training.realcorpus import record_field, resolve, sha256  # noqa: E402,F401
from discourse.settings import SHARED_CORPORA  # noqa: E402

# The documents the prefilter and topic benches read (kept as they were when their figures were made; the real
# annotated corpus reads every source in discourse.training.realcorpus.SOURCES).
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


def iter_documents() -> Iterator[tuple[str, str, int, str]]:
    """Yield (corpus, file, line_no, doc_text) for every document; line_no is 1-based."""
    root = _root()
    for corpus, sources in SOURCES.items():
        for pattern, field in sources:
            for path in sorted((root / corpus).glob(pattern)):
                with open(path, encoding="utf-8") as handle:
                    for line_no, line in enumerate(handle, start=1):
                        yield corpus, path.name, line_no, json.loads(line).get(field) or ""


def read_document(corpus: str, file: str, line: int, field: str) -> str:
    """The text in `field` of one record: the 1-based `line` of a JSON-lines file, or the 1-based data row (after
    the header) of a CSV file."""
    return record_field(corpus, file, line, field)
