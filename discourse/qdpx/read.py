"""A `.qdpx` archive read into a Project, checked before anything in it is used.

Order of the checks: the zip (readable, within the unpacking limits), its `project.qde` (well-formed, then valid
against Project.xsd), then the content the schema cannot check (every GUID a reference names exists, source texts
are UTF-8, every selection lies inside its source's text). Each failure is a QdpxError with the reason.

Text sources are read from their inline PlainTextContent or from `plainTextPath="internal://NAME"` (the archive's
`sources/NAME`); a leading byte-order mark is not part of the text. What the store cannot take (picture, PDF, audio
and video sources; a text that lives outside the archive) is listed in `Project.skipped` with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import IO, Any

from lxml import etree

from .model import Case, Code, Coding, Note, Project, Selection, Source, User, Variable
from .schema import NS, QdpxError, validate

#: Unpacking limits: a .qdpx of interviews is megabytes; a zip that unpacks to more is refused, not read.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 100_000

_OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def read_qdpx(path: str | Path | IO[bytes]) -> Project:
    """The project in the `.qdpx` at `path` (a path or a binary file object)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise QdpxError(f"not a .qdpx file: the zip archive cannot be read ({exc})", "corrupt") from None
    with archive:
        _check_limits(archive)
        tree = validate(_read_member(archive, _project_member(archive)))
        return _project(tree.getroot(), archive)


def _check_limits(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_ENTRIES:
        raise QdpxError(f"the archive holds {len(members):,} files; at most {MAX_ENTRIES:,} are read", "too_large")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise QdpxError(f"the archive unpacks to {unpacked:,} bytes; at most {MAX_UNPACKED_BYTES:,} are read",
                        "too_large")


def _project_member(archive: zipfile.ZipFile) -> str:
    """The archive's project.qde: at its root (the standard), or the one .qde file it holds."""
    names = archive.namelist()
    if "project.qde" in names:
        return "project.qde"
    found = [name for name in names if name.lower().endswith(".qde") and "/" not in name.strip("/")]
    if len(found) != 1:
        raise QdpxError("not a .qdpx file: no project.qde at the root of the archive", "corrupt")
    return found[0]


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zipfile.LargeZipFile) as exc:
        raise QdpxError(f"the archive is damaged: {name} cannot be unpacked ({exc})", "corrupt") from None


def _child_text(element: etree._Element, tag: str) -> str | None:
    child = element.find(_q(tag))
    return child.text or "" if child is not None else None


def _refs(element: etree._Element, tag: str) -> list[str]:
    return [ref.get("targetGUID") for ref in element.findall(_q(tag))]


def _project(root: etree._Element, archive: zipfile.ZipFile) -> Project:
    project = Project(name=root.get("name"), origin=root.get("origin"), description=_child_text(root, "Description"))
    project.users = [User(u.get("guid"), u.get("name") or u.get("id") or u.get("guid"))
                     for u in root.iterfind(f"{_q('Users')}/{_q('User')}")]
    project.codes = [_code(c) for c in root.iterfind(f"{_q('CodeBook')}/{_q('Codes')}/{_q('Code')}")]
    project.variables = [Variable(v.get("guid"), v.get("name"), v.get("typeOfVariable"))
                         for v in root.iterfind(f"{_q('Variables')}/{_q('Variable')}")]
    project.notes = [_note(n, archive, project) for n in root.iterfind(f"{_q('Notes')}/{_q('Note')}")]
    sources = root.find(_q("Sources"))
    for element in sources if sources is not None else ():
        if element.tag == _q("TextSource"):
            source = _source(element, archive, project)
            if source is not None:
                project.sources.append(source)
        elif isinstance(element.tag, str):
            kind = etree.QName(element).localname
            project.skipped.append(f"{kind} {element.get('name') or element.get('guid')!r}: only text sources "
                                   "can be imported")
    project.cases = [_case(c, project) for c in root.iterfind(f"{_q('Cases')}/{_q('Case')}")]
    _check_references(project)
    return project


def _code(element: etree._Element) -> Code:
    return Code(element.get("guid"), element.get("name"), element.get("isCodable") in ("true", "1"),
                _child_text(element, "Description"), [_code(child) for child in element.findall(_q("Code"))])


def _note(element: etree._Element, archive: zipfile.ZipFile, project: Project) -> Note:
    text = _plain_text(element, archive, project, "Note")
    return Note(element.get("guid"), element.get("name"), text or "", element.get("creatingUser"))


def _plain_text(element: etree._Element, archive: zipfile.ZipFile, project: Project, kind: str) -> str | None:
    """A TextSource's (or Note's) text: inline, or from the archive's sources/ folder; None (and the reason in
    project.skipped) when it is elsewhere."""
    inline = _child_text(element, "PlainTextContent")
    if inline is not None:
        return inline
    path = element.get("plainTextPath")
    name = element.get("name") or element.get("guid")
    if not path:
        if kind == "Note":
            return None
        project.skipped.append(f"{kind} {name!r}: no plain text (neither PlainTextContent nor plainTextPath)")
        return None
    if not path.startswith("internal://"):
        project.skipped.append(f"{kind} {name!r}: its text {path!r} is outside the archive")
        return None
    member = "sources/" + path[len("internal://"):]
    try:
        archive.getinfo(member)
    except KeyError:
        raise QdpxError(f"{kind} {name!r}: {path} is not in the archive (no {member})", "corrupt") from None
    try:
        return _read_member(archive, member).decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise QdpxError(f"{kind} {name!r}: {member} is not UTF-8 text ({exc})", "corrupt") from None


def _source(element: etree._Element, archive: zipfile.ZipFile, project: Project) -> Source | None:
    text = _plain_text(element, archive, project, "TextSource")
    if text is None:
        return None
    source = Source(element.get("guid"), element.get("name") or element.get("guid"), text,
                    description=_child_text(element, "Description"), note_guids=_refs(element, "NoteRef"))
    for selection in element.findall(_q("PlainTextSelection")):
        source.selections.append(_selection(selection, source))
    for coding in element.findall(_q("Coding")):
        project.skipped.append(f"a code on the whole of source {source.name!r}: only coded selections are imported")
    return source


def _selection(element: etree._Element, source: Source) -> Selection:
    start, end = int(element.get("startPosition")), int(element.get("endPosition"))
    if not 0 <= start <= end <= len(source.text):
        raise QdpxError(f"selection {element.get('guid')} of source {source.name!r} runs from {start} to {end}, "
                        f"outside the source's text (0 to {len(source.text)} characters)")
    codings = [Coding(c.get("guid"), c.find(_q("CodeRef")).get("targetGUID"), c.get("creatingUser"),
                      _refs(c, "NoteRef")) for c in element.findall(_q("Coding"))]
    return Selection(element.get("guid"), start, end, element.get("creatingUser"), codings,
                     description=_child_text(element, "Description"), note_guids=_refs(element, "NoteRef"))


def _case(element: etree._Element, project: Project) -> Case:
    types = {variable.guid: variable.type for variable in project.variables}
    values: dict[str, Any] = {}
    for value in element.findall(_q("VariableValue")):
        target = value.find(_q("VariableRef")).get("targetGUID")
        if target not in types:
            raise QdpxError(f"case {element.get('name')!r}: a value of variable {target}, which is not in "
                            "the project's Variables")
        typed = [child for child in value if isinstance(child.tag, str) and child.tag != _q("VariableRef")]
        if typed:
            values[target] = parse_value(etree.QName(typed[0]).localname.removesuffix("Value"), typed[0].text or "")
    return Case(element.get("guid"), element.get("name") or element.get("guid"), _child_text(element, "Description"),
                values, _refs(element, "SourceRef"))


def parse_value(kind: str, text: str) -> Any:
    """A variable value from its schema lexical form (the types write.format_value writes, and dates). A text
    value that holds a JSON list or object (how an export writes a list-valued attribute) is decoded."""
    text = text.strip() if kind != "Text" else text
    if kind == "Boolean":
        return text in ("true", "1")
    if kind == "Integer":
        return int(text)
    if kind == "Float":
        return float(text)
    if kind == "Date":
        return dt.date.fromisoformat(text[:10]).isoformat()
    if kind == "Text" and text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _check_references(project: Project) -> None:
    """Every GUID a coding, case or note reference names must exist: the schema cannot check this."""
    codes = {code.guid for code, _ in project.all_codes()}
    users = {user.guid for user in project.users}
    notes = {note.guid for note in project.notes}
    for source in project.sources:
        for selection in source.selections:
            for coding in selection.codings:
                if coding.code_guid not in codes:
                    raise QdpxError(f"selection {selection.guid} of source {source.name!r} is coded with "
                                    f"{coding.code_guid}, which is not in the CodeBook")
                _known_user(coding.user_guid, users, f"a coding of selection {selection.guid}")
                _known_notes(coding.note_guids, notes, f"a coding of selection {selection.guid}")
            _known_user(selection.user_guid, users, f"selection {selection.guid}")
            _known_notes(selection.note_guids, notes, f"selection {selection.guid}")
    for note in project.notes:
        _known_user(note.user_guid, users, f"note {note.name or note.guid!r}")


def _known_user(user_guid: str | None, users: set[str], what: str) -> None:
    if user_guid is not None and user_guid not in users:
        raise QdpxError(f"{what} was made by user {user_guid}, who is not in the project's Users")


def _known_notes(guids: list[str], notes: set[str], what: str) -> None:
    missing = [g for g in guids if g not in notes]
    if missing:
        raise QdpxError(f"{what} refers to note {missing[0]}, which is not in the project's Notes")
