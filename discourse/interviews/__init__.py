"""Interview transcripts and respondent attributes (the thesis' parent interviews), as plain data: no database.

    transcript = read_transcript("interviews/R7.docx")          # or parse_transcript(text, "R7")
    for turn, sentence in transcript.sentences():               # the parents' sentences, offsets in .text
        ...
    register = read_respondents("interviews/respondenten.csv")   # label -> attributes
    attrs = merge_attributes(transcript.respondents, register)   # the CSV wins on conflicts
"""

from .respondents import (
    ROLES,
    Label,
    classify_label,
    merge_attributes,
    normalise_label,
    parse_notation,
    read_respondents,
    role_of_parent,
)
from .transcripts import Transcript, Turn, docx_text, parse_transcript, read_transcript

__all__ = [
    "Label",
    "ROLES",
    "Transcript",
    "Turn",
    "classify_label",
    "docx_text",
    "merge_attributes",
    "normalise_label",
    "parse_notation",
    "parse_transcript",
    "read_respondents",
    "read_transcript",
    "role_of_parent",
]
