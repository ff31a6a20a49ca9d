"""The store as a REFI-QDA project (export) and a QDA tool's project into the store (import).

Export: the documents (interviews: documents of an "interview" source; or the documents of the segments a filter
selects) as text sources; their speakers (interviewers left out) as cases, with the speakers' attributes as
variables; the codebook as the code tree (codes.py); and coded selections at the sentences' character offsets:
the model's stance and frames for each scored sentence of one model version (user "<model> <version>"), and the
coders' annotations (user: the coder; their free codes and memos too). Every GUID is derived from a stable key, so
two exports of one store are byte for byte the same.

Import: one transaction. The file is read and checked (read.py), every selection and coder is checked, and only
then are the sources written as interview documents of source `source_name` (through the store's document writer,
so an id stored with another text is refused, not overwritten), the cases as their speakers, and each user's codes
on a selection as one annotation of that coder (origin "qdpx"). Imported documents are not scored: `discourse
rescore --unscored` scores them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from discourse.codebook import load_codebook
from discourse.store.annotations import annotation_rows, item_for_span, save_annotation
from discourse.store.queries import latest_model_version
from discourse.store.schema import Document, SegmentScore, Source as SourceRow, Speaker
from discourse.store.selection import SegmentFilter, SegmentRow, select_segments
from discourse.store.writer import ID_CHUNK, ScoreWriter

from .codes import Mapped, code_guid, codebook_codes, free_code_guid, map_codes
from .model import Case, Coding, Note, Project, Selection, Source, User, Variable, guid
from .read import read_qdpx
from .schema import QdpxError
from .write import write_qdpx

#: The documents an export takes when no filter is given, and the sentences whose model labels it exports.
INTERVIEWS = "corpus=interview"


# -- export -------------------------------------------------------------------------------------------------------

def export_qdpx(session: Session, out: str | Path | IO[bytes], *, filter: str | None = None,
                model_version: str | None = None, include_model: bool = True, include_coders: bool = True) -> dict:
    """Write the .qdpx of the store's interviews (or of the documents `filter` selects) to `out`; returns counts."""
    project = export_project(session, filter=filter, model_version=model_version, include_model=include_model,
                             include_coders=include_coders)
    write_qdpx(project, out)
    return {"sources": len(project.sources), "cases": len(project.cases), "users": len(project.users),
            "selections": sum(len(s.selections) for s in project.sources),
            "codings": sum(len(sel.codings) for s in project.sources for sel in s.selections)}


def export_project(session: Session, *, filter: str | None = None, model_version: str | None = None,
                   include_model: bool = True, include_coders: bool = True) -> Project:
    segment_filter = SegmentFilter.parse(filter or INTERVIEWS)
    version = segment_filter.get("model_version") or model_version or latest_model_version(session)
    segments = select_segments(session, segment_filter, version) if version else []
    documents = _documents(session, sorted({row.document_id for row in segments}) if filter else None)
    ids = {doc.id for doc in documents}
    builder = _Builder(Project(name="discourse export", origin="discourse",
                               description=_description(filter, version if include_model else None)))
    if include_model and version:
        builder.add_model_codes([row for row in segments if row.document_id in ids],
                                f"{_model_name(session, version)} {version}")
    if include_coders:
        builder.add_annotations(row for row in annotation_rows(session) if row["document_id"] in ids)
    project = builder.project
    project.codes = codebook_codes(load_codebook(), builder.free_codes)
    project.sources = [Source(guid("source", doc.id), doc.title or doc.id, doc.text,
                              selections=builder.selections_of(doc.id)) for doc in documents]
    project.variables, project.cases = _cases(session, sorted(ids))
    project.notes.sort(key=lambda note: note.guid)
    return project


def _description(filter: str | None, version: str | None) -> str:
    what = f"documents selected by {filter!r}" if filter else "the interviews"
    return f"{what} from the discourse store" + (f"; model labels of version {version}" if version else "")


def _documents(session: Session, ids: list[str] | None) -> list[Document]:
    if ids is None:
        query = (select(Document).join(SourceRow, SourceRow.id == Document.source_id)
                 .where(SourceRow.kind == "interview").order_by(Document.id))
        return list(session.scalars(query))
    found: list[Document] = []
    for start in range(0, len(ids), ID_CHUNK):
        found.extend(session.scalars(select(Document).where(Document.id.in_(ids[start:start + ID_CHUNK]))))
    return sorted(found, key=lambda doc: doc.id)


class _Builder:
    """Users, selections and codings as they are added; one selection per (document, start, end)."""

    def __init__(self, project: Project):
        self.project = project
        self.users: dict[str, User] = {}
        self.selections: dict[str, dict[tuple[int, int], Selection]] = defaultdict(dict)  # per document
        self.free_codes: set[str] = set()

    def user(self, name: str) -> str:
        if name not in self.users:
            self.users[name] = User(guid("user", name), name)
            self.project.users = sorted(self.users.values(), key=lambda u: u.name)
        return self.users[name].guid

    def selection(self, document_id: str, start: int, end: int) -> Selection:
        found = self.selections[document_id]
        if (start, end) not in found:
            found[(start, end)] = Selection(guid("selection", document_id, start, end), start, end)
        return found[(start, end)]

    def code(self, selection: Selection, user: str, code: str) -> None:
        selection.codings.append(Coding(guid("coding", selection.guid, user, code), code, user))

    def add_model_codes(self, segments: list[SegmentRow], user_name: str) -> None:
        """The model's stance and frames of each scored sentence, as codings of user `user_name`."""
        for row in segments:
            if row.start is None or row.end is None or row.label is None:
                continue
            user, selection = self.user(user_name), self.selection(row.document_id, row.start, row.end)
            self.code(selection, user, code_guid(f"stance/{row.label}"))
            for frame in sorted(row.frames):
                self.code(selection, user, code_guid(f"frames/{frame}"))

    def add_annotations(self, rows: Iterable[dict]) -> None:
        for row in rows:
            user = self.user(row["coder"])
            selection = self.selection(row["document_id"], row["start"], row["end"])
            if row.get("relevant") is not None:
                self.code(selection, user, code_guid(f"relevance/{'relevant' if row['relevant'] else 'irrelevant'}"))
            if row.get("stance"):
                self.code(selection, user, code_guid(f"stance/{row['stance']}"))
            for frame in row.get("frames") or ():
                self.code(selection, user, code_guid(f"frames/{frame}"))
            for name in row.get("codes") or ():
                self.free_codes.add(name)
                self.code(selection, user, free_code_guid(name))
            if row.get("memo"):
                note = Note(guid("memo", selection.guid, user), f"memo {row['coder']}", row["memo"], user)
                self.project.notes.append(note)
                selection.note_guids.append(note.guid)

    def selections_of(self, document_id: str) -> list[Selection]:
        found = list(self.selections.get(document_id, {}).values())
        for selection in found:
            selection.codings.sort(key=lambda c: (c.user_guid or "", c.code_guid))
        return sorted(found, key=lambda s: (s.start, s.end))


def _model_name(session: Session, version: str) -> str:
    return session.scalar(select(SegmentScore.model).where(SegmentScore.model_version == version).limit(1))


def _cases(session: Session, ids: list[str]) -> tuple[list[Variable], list[Case]]:
    """Every speaker but the interviewers as a case of its document, its attributes as variable values."""
    speakers: list[Speaker] = []
    for start in range(0, len(ids), ID_CHUNK):
        speakers.extend(session.scalars(select(Speaker).where(Speaker.document_id.in_(ids[start:start + ID_CHUNK]),
                                                              Speaker.role != "interviewer")))
    speakers.sort(key=lambda s: (s.document_id, s.label))
    values: dict[str, list] = defaultdict(list)
    for speaker in speakers:
        for name, value in (speaker.attributes or {}).items():
            if value is not None:
                values[name].append(value)
    variables = {name: Variable(guid("variable", name), name, _variable_type(found))
                 for name, found in sorted(values.items())}
    cases = [Case(guid("case", s.document_id, s.label), s.label,
                  values={variables[k].guid: _variable_value(variables[k].type, v)
                          for k, v in sorted((s.attributes or {}).items()) if v is not None},
                  source_guids=[guid("source", s.document_id)]) for s in speakers]
    return list(variables.values()), cases


def _variable_type(values: list) -> str:
    if all(isinstance(v, bool) for v in values):
        return "Boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Integer"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "Float"
    return "Text"


def _variable_value(kind: str, value: Any) -> Any:
    if kind == "Text" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)  # read.parse_value decodes it
    return value


# -- import -------------------------------------------------------------------------------------------------------

@dataclass
class ImportReport:
    """What an import did. `mapped`: code path -> "stance:<id>", "frame:<id>" or "relevance:<bool>"; `free`: codes
    kept as free codes; `nested`: codes with a parent code (their path); `memos`: memos stored with annotations;
    `skipped`: what was not taken over, each with its reason."""

    source: str
    documents: int = 0
    documents_existing: int = 0
    speakers: int = 0
    annotations: int = 0
    coders: dict[str, str] = field(default_factory=dict)
    mapped: dict[str, str] = field(default_factory=dict)
    free: list[str] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)
    memos: int = 0
    skipped: list[str] = field(default_factory=list)
    scored: bool = False
    note: str = "the documents are stored unscored: `discourse rescore --unscored` gives them the model's labels"

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _coding_users(selection: Selection) -> set[str | None]:
    """Who coded the selection (a coding without a user is the selection's creator's); its creator if nobody."""
    return {c.user_guid or selection.user_guid for c in selection.codings} or {selection.user_guid}


def _selection_users(selection: Selection, notes: dict[str, Note]) -> set[str | None]:
    """Every user an annotation of the selection is stored for: its coders and the writers of its memos."""
    users = {c.user_guid or selection.user_guid for c in selection.codings}
    users |= {notes[g].user_guid or selection.user_guid for g in selection.note_guids if notes[g].text}
    return users | (_coding_users(selection) if selection.description else set())


@dataclass
class _Annotation:
    document_id: str
    start: int
    end: int
    coder: str
    relevant: bool | None = None
    stance: str | None = None
    frames: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    memos: list[str] = field(default_factory=list)


def import_qdpx(session: Session, path: str | Path | IO[bytes], *, source_name: str,
                coder_map: dict[str, str] | None = None) -> ImportReport:
    """Import the .qdpx at `path` into the store as source `source_name` (kind "interview"), in one transaction:
    on any QdpxError nothing is written."""
    project = read_qdpx(path)
    plan = _Plan(project, source_name, coder_map)
    try:
        plan.write(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return plan.report


class _Plan:
    """Everything an import will write, worked out and checked before the first write."""

    def __init__(self, project: Project, source_name: str, coder_map: dict[str, str] | None):
        if not source_name or not source_name.strip():
            raise QdpxError("a source name is needed for the imported documents")
        self.project, self.source_name = project, source_name
        self.report = ImportReport(source_name, skipped=list(project.skipped))
        self.meanings = map_codes(project, load_codebook())
        self.document_ids = self._document_ids()
        self.documents = [self._document(s) for s in project.sources if s.guid in self.document_ids]
        self.speakers = self._speakers()
        self.users = {user.guid: user.name for user in project.users}
        self.coders = self._coders(coder_map)
        self.annotations = self._annotations()
        self._report_codes()
        for a in self.annotations:
            if a.relevant is False and (a.stance or a.frames):
                self.report.skipped.append(f"{a.document_id!r} {a.start}-{a.end} by {a.coder!r}: coded irrelevant "
                                           "and with a stance or frames; relevance left open")
                a.relevant = None

    # documents and speakers
    def _document_ids(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        seen: set[str] = set()
        for source in self.project.sources:
            if not source.text.strip():
                self.report.skipped.append(f"source {source.name!r}: its text is empty")
                continue
            doc_id = f"{self.source_name}:{source.name}"
            ids[source.guid] = doc_id if doc_id not in seen else f"{doc_id}:{source.guid}"
            seen.add(ids[source.guid])
        return ids

    def _document(self, source: Source) -> dict:
        meta = {"qdpx": {"project": self.project.name, "source_guid": source.guid}}
        if source.description:
            meta["description"] = source.description
        return {"id": self.document_ids[source.guid], "title": source.name, "text": source.text,
                "genre": "interview", "meta": meta}

    def _speakers(self) -> list[dict]:
        names = {variable.guid: variable.name for variable in self.project.variables}
        rows: dict[tuple[str, str], dict] = {}
        for case in self.project.cases:
            documents = [self.document_ids[g] for g in case.source_guids if g in self.document_ids]
            if not documents:
                self.report.skipped.append(f"case {case.name!r}: linked to no imported text source")
                continue
            if len(case.name) > 64:
                self.report.skipped.append(f"case {case.name[:64]!r}...: a speaker label has at most 64 characters")
                continue
            attributes = {names[g]: value for g, value in case.values.items()}
            for document_id in documents:
                if (document_id, case.name) in rows:
                    self.report.skipped.append(f"case {case.name!r}: a second case of that name in one source")
                    continue
                rows[(document_id, case.name)] = {"document_id": document_id, "label": case.name,
                                                  "role": "respondent", "attributes": attributes}
        return list(rows.values())

    # coders
    def _coders(self, coder_map: dict[str, str] | None) -> dict[str | None, str]:
        notes = {note.guid: note for note in self.project.notes}
        used = {user for source in self.project.sources for selection in source.selections
                for user in _selection_users(selection, notes)}
        coders: dict[str | None, str] = {}
        unknown = []
        for user in sorted(used, key=str):
            name = self.users.get(user, "qdpx") if user else "qdpx"
            if coder_map is not None:
                if name not in coder_map and user not in coder_map:
                    unknown.append(name)
                    continue
                coders[user] = coder_map.get(name) or coder_map[user]
            else:
                coders[user] = name
        if unknown:
            raise QdpxError(f"unknown coder(s) {', '.join(repr(n) for n in unknown)}: not in the coder map "
                            f"({', '.join(repr(k) for k in coder_map) or 'empty'})")
        too_long = [c for c in coders.values() if len(c) > 100]
        if too_long:
            raise QdpxError(f"coder name {too_long[0][:100]!r}... is longer than 100 characters")
        self.report.coders = {self.users.get(u, "qdpx") if u else "qdpx": c for u, c in coders.items()}
        return coders

    # annotations
    def _annotations(self) -> list[_Annotation]:
        notes = {note.guid: note for note in self.project.notes}
        found: dict[tuple, _Annotation] = {}
        for source in self.project.sources:
            if source.guid not in self.document_ids:
                continue
            for selection in source.selections:
                if selection.start == selection.end:
                    self.report.skipped.append(f"selection {selection.guid} of {source.name!r}: it is empty")
                    continue
                self._selection(self.document_ids[source.guid], source, selection, notes, found)
        return list(found.values())

    def _selection(self, document_id: str, source: Source, selection: Selection, notes: dict[str, Note],
                   found: dict[tuple, _Annotation]) -> None:
        def annotation(user: str | None) -> _Annotation:
            coder = self.coders[user]
            key = (document_id, selection.start, selection.end, coder)
            return found.setdefault(key, _Annotation(*key))

        for coding in selection.codings:
            user = coding.user_guid or selection.user_guid
            target = annotation(user)
            self._apply(target, self.meanings[coding.code_guid], source, selection)
            target.memos.extend(notes[g].text for g in coding.note_guids if notes[g].text)
        for note_guid in selection.note_guids:
            note = notes[note_guid]
            if note.text:
                annotation(note.user_guid or selection.user_guid).memos.append(note.text)
        if selection.description:
            for user in _coding_users(selection):
                annotation(user).memos.insert(0, selection.description)

    def _apply(self, target: _Annotation, meaning: Mapped, source: Source, selection: Selection) -> None:
        if meaning.dimension == "relevance":
            target.relevant = bool(meaning.value)
        elif meaning.dimension == "stance":
            if target.stance not in (None, meaning.value):
                self.report.skipped.append(f"selection {selection.guid} of {source.name!r}: coder {target.coder!r} "
                                           f"gave two stances; kept {target.stance!r}, not {meaning.value!r}")
            else:
                target.stance = meaning.value
        elif meaning.dimension == "frame":
            if meaning.value not in target.frames:
                target.frames.append(meaning.value)
        elif meaning.value not in target.codes:
            target.codes.append(meaning.value)

    def _report_codes(self) -> None:
        used = {c.code_guid for s in self.project.sources for sel in s.selections for c in sel.codings}
        paths: dict[str, str] = {}
        for code, parent in self.project.all_codes():
            paths[code.guid] = f"{paths[parent.guid]}/{code.name}" if parent else code.name
            meaning = self.meanings[code.guid]
            if parent is not None:
                self.report.nested.append(paths[code.guid])
            if meaning.dimension == "free":
                if code.guid in used:
                    self.report.free.append(meaning.value)
                elif not code.children:
                    self.report.skipped.append(f"code {paths[code.guid]!r}: never used on a text selection")
            else:
                self.report.mapped[paths[code.guid]] = f"{meaning.dimension}:{meaning.value}"
        self.report.memos = sum(1 for a in self.annotations if a.memos)
        attached = {g for s in self.project.sources for sel in s.selections
                    for g in sel.note_guids + [n for c in sel.codings for n in c.note_guids]}
        other_notes = sum(1 for note in self.project.notes if note.guid not in attached)
        if other_notes:
            self.report.skipped.append(f"{other_notes} note(s) not attached to a coded selection (project, source or "
                                       "code memos): not stored")

    # writing
    def write(self, session: Session) -> None:
        conn = session.connection()
        writer = ScoreWriter(conn.engine)
        kind = session.scalar(select(SourceRow.kind).where(SourceRow.name == self.source_name))
        if kind is not None and kind != "interview":
            raise QdpxError(f"source {self.source_name!r} exists with kind {kind!r}; imported documents are "
                            "interviews: choose another source name")
        source_id = writer.ensure_source(self.source_name, "interview", conn=conn)
        try:
            counts = writer.write_documents([{**d, "source_id": source_id} for d in self.documents], self.speakers,
                                            conn=conn)
        except ValueError as exc:
            raise QdpxError(str(exc)) from None
        if counts.conflicts:
            raise QdpxError(f"document(s) {', '.join(map(repr, counts.conflicts[:5]))} are stored already with "
                            "another text: import under another source name")
        self.report.documents = counts.documents
        self.report.documents_existing = len(self.documents) - counts.documents
        self.report.speakers = len(self.speakers)
        for a in self.annotations:
            try:
                item = item_for_span(session, a.document_id, a.start, a.end)
                save_annotation(session, item, a.coder, relevant=a.relevant, stance=a.stance, frames=a.frames,
                                codes=a.codes, memo="\n\n".join(a.memos) or None, origin="qdpx")
            except ValueError as exc:
                raise QdpxError(f"selection {a.start}-{a.end} of {a.document_id!r} by {a.coder!r}: {exc}") from None
        self.report.annotations = len(self.annotations)

