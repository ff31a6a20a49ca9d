"""A Project written as `project.qde` (QDA-XML) and packed with its source texts into a `.qdpx` zip.

Each source's text goes to `sources/<GUID>.txt` (UTF-8) and the TextSource points at it with
`plainTextPath="internal://<GUID>.txt"`. Nothing time-dependent is written (no creation dates, fixed zip entry
times), so the same project always gives the same bytes. The XML is validated against Project.xsd before it is
packed: a file this module writes is one every REFI-QDA tool must accept.
"""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from lxml import etree

from .model import Case, Code, Coding, Note, Project, Selection, Source, Variable
from .schema import NS, validate

#: Characters XML 1.0 cannot hold (control characters other than tab and newlines, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _sub(parent: etree._Element, tag: str, **attributes: Any) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    for name, value in attributes.items():
        if value is not None:
            element.set(name, _xml_text(str(value)))
    return element


def _text(parent: etree._Element, tag: str, value: str | None) -> None:
    if value is not None:
        _sub(parent, tag).text = _xml_text(value)


def _refs(parent: etree._Element, tag: str, guids: list[str]) -> None:
    for target in guids:
        _sub(parent, tag, targetGUID=target)


def project_xml(project: Project) -> bytes:
    """The `project.qde` of `project`, validated against Project.xsd."""
    root = etree.Element(f"{{{NS}}}Project", nsmap={None: NS})
    root.set("name", _xml_text(project.name))
    if project.origin:
        root.set("origin", _xml_text(project.origin))
    if project.users:
        users = _sub(root, "Users")
        for user in project.users:
            _sub(users, "User", guid=user.guid, name=user.name)
    if project.codes:
        codes = _sub(_sub(root, "CodeBook"), "Codes")
        for code in project.codes:
            _code(codes, code)
    if project.variables:
        variables = _sub(root, "Variables")
        for variable in project.variables:
            _sub(variables, "Variable", guid=variable.guid, name=variable.name, typeOfVariable=variable.type)
    if project.cases:
        cases = _sub(root, "Cases")
        types = {variable.guid: variable for variable in project.variables}
        for case in project.cases:
            _case(cases, case, types)
    if project.sources:
        sources = _sub(root, "Sources")
        for source in project.sources:
            _source(sources, source)
    if project.notes:
        notes = _sub(root, "Notes")
        for note in project.notes:
            _note(notes, note)
    _text(root, "Description", project.description)
    data = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    validate(data)
    return data


def _code(parent: etree._Element, code: Code) -> None:
    element = _sub(parent, "Code", guid=code.guid, name=code.name, isCodable="true" if code.codable else "false")
    _text(element, "Description", code.description)
    for child in code.children:
        _code(element, child)


def _case(parent: etree._Element, case: Case, variables: dict[str, Variable]) -> None:
    element = _sub(parent, "Case", guid=case.guid, name=case.name)
    _text(element, "Description", case.description)
    for variable_guid, value in case.values.items():
        _variable_value(element, variables[variable_guid], value)
    _refs(element, "SourceRef", case.source_guids)


def _variable_value(parent: etree._Element, variable: Variable, value: Any) -> None:
    element = _sub(parent, "VariableValue")
    _sub(element, "VariableRef", targetGUID=variable.guid)
    _text(element, f"{variable.type}Value", format_value(variable.type, value))


def format_value(kind: str, value: Any) -> str:
    """A variable's value as the schema's lexical form of its type (xsd:boolean, xsd:integer, xsd:decimal)."""
    if kind == "Boolean":
        return "true" if value else "false"
    if kind == "Float":
        return format(Decimal(repr(float(value))), "f")  # xsd:decimal has no exponent: 1e-05 is 0.00001
    return str(value)


def _source(parent: etree._Element, source: Source) -> None:
    element = _sub(parent, "TextSource", guid=source.guid, name=source.name,
                   plainTextPath=f"internal://{source.guid}.txt")
    _text(element, "Description", source.description)
    for selection in source.selections:
        _selection(element, selection)
    _refs(element, "NoteRef", source.note_guids)


def _selection(parent: etree._Element, selection: Selection) -> None:
    element = _sub(parent, "PlainTextSelection", guid=selection.guid, startPosition=selection.start,
                   endPosition=selection.end, creatingUser=selection.user_guid)
    _text(element, "Description", selection.description)
    for coding in selection.codings:
        _coding(element, coding)
    _refs(element, "NoteRef", selection.note_guids)


def _coding(parent: etree._Element, coding: Coding) -> None:
    element = _sub(parent, "Coding", guid=coding.guid, creatingUser=coding.user_guid)
    _sub(element, "CodeRef", targetGUID=coding.code_guid)
    _refs(element, "NoteRef", coding.note_guids)


def _note(parent: etree._Element, note: Note) -> None:
    element = _sub(parent, "Note", guid=note.guid, name=note.name, creatingUser=note.user_guid)
    _text(element, "PlainTextContent", note.text)


def write_qdpx(project: Project, out: str | Path | IO[bytes]) -> None:
    """The `.qdpx` archive of `project` to a path or a binary file object: project.qde, then sources/*.txt."""
    entries = [("project.qde", project_xml(project))]
    entries += [(f"sources/{source.guid}.txt", source.text.encode("utf-8")) for source in project.sources]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def qdpx_bytes(project: Project) -> bytes:
    buffer = io.BytesIO()
    write_qdpx(project, buffer)
    return buffer.getvalue()
