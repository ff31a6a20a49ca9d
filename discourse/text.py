"""What every stage says about a text: a sentence with its character offsets in the text it came from, and the
hash that keys a text in the embedding cache and the store.

Kept apart from the segmenter and the readers so that the model and encoder layers can name a sentence or hash a
text without importing the code that finds sentences or reads files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # character offsets into the original text
    end: int


def text_hash(text: str) -> str:
    """sha256 hex of the UTF-8 text: the embedding cache's key, a stored document's text_hash, and the id of a
    document that has none."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
