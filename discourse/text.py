"""The text types every stage shares: a sentence with its character offsets in the text it came from.

Kept apart from the segmenter so that the model layer (aggregation, evidence) can name a sentence without
importing the code that finds sentences.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # character offsets into the original text
    end: int
