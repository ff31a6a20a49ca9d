"""A REFI-QDA project as plain dataclasses: what read.py parses a `project.qde` into and write.py writes out.

Only what the store can use is modelled: text sources with their text, their selections (character offsets) and the
codings on them, the code tree, users, variables and cases, and notes (memos). Objects refer to each other by GUID,
as in the XML, so a project read from a file and one built from the store look the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

#: Namespace of the GUIDs an export derives from stable keys (uuid5), so two exports of one store are identical.
GUID_NAMESPACE = uuid.UUID("6f1c3a52-1d5e-4c1f-9a57-2f8c0b7d4e21")

#: typeOfVariable values of the schema.
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")


def guid(*key: object) -> str:
    """A GUID derived from a stable key, e.g. guid("source", document_id)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(part) for part in key)))


@dataclass
class User:
    guid: str
    name: str


@dataclass
class Code:
    guid: str
    name: str
    codable: bool = True
    description: str | None = None
    children: list[Code] = field(default_factory=list)


@dataclass
class Variable:
    guid: str
    name: str
    type: str = "Text"


@dataclass
class Case:
    guid: str
    name: str
    description: str | None = None
    values: dict[str, Any] = field(default_factory=dict)  # variable GUID -> value (str, bool, int, float)
    source_guids: list[str] = field(default_factory=list)


@dataclass
class Coding:
    guid: str
    code_guid: str
    user_guid: str | None = None
    note_guids: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class _Described:
    """What sources and selections share: a description and the notes (memos) attached."""

    description: str | None = None
    note_guids: list[str] = field(default_factory=list)


@dataclass
class Selection(_Described):
    """A PlainTextSelection: characters start..end (end excluded) of its source's text."""

    guid: str
    start: int
    end: int
    user_guid: str | None = None
    codings: list[Coding] = field(default_factory=list)


@dataclass
class Source(_Described):
    """A TextSource with its plain text (read from sources/ in the archive, or inline PlainTextContent)."""

    guid: str
    name: str
    text: str
    selections: list[Selection] = field(default_factory=list)


@dataclass
class Note:
    guid: str
    name: str | None
    text: str
    user_guid: str | None = None


@dataclass
class Project:
    name: str
    origin: str | None = None
    description: str | None = None
    users: list[User] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)  # the top level of the code tree
    variables: list[Variable] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: What the reader could not take over (a PDF or audio source, a source outside the archive), with why.
    skipped: list[str] = field(default_factory=list)

    def all_codes(self) -> Iterator[tuple[Code, Code | None]]:
        """Every code of the tree with its parent (None at the top), depth first."""
        stack: list[tuple[Code, Code | None]] = [(code, None) for code in reversed(self.codes)]
        while stack:
            code, parent = stack.pop()
            yield code, parent
            stack.extend((child, code) for child in reversed(code.children))
