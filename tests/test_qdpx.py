"""REFI-QDA (.qdpx) export and import: every project.qde written validates against Project.xsd; export -> import
into a fresh store -> export reproduces sources, cases, codes and selections; a hand-made QDA project imports with a
report of what was mapped; bad files change nothing; the HTTP faces. Stores are built through the store's own
writers (a small invented interview set scored by a named model version), so no model is loaded except by the API
tests."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from discourse.qdpx import QdpxError, export_project, export_qdpx, import_qdpx
from discourse.qdpx.read import read_qdpx
from discourse.qdpx.schema import XSD_PATH
from discourse.settings import REPO_ROOT
from discourse.store import ScoreWriter, make_engine, session_factory, upgrade
from discourse.store.annotations import annotation_rows, item_for_span, save_annotation
from discourse.store.schema import Annotation, CodingItem, Document, Source, Speaker

SHARED_XSD = REPO_ROOT.parent / "shared" / "standards" / "refi-qda" / "Project.xsd"

# Invented interview speech (not corpus text): two respondents, one policy text that an export must leave out.
INTERVIEWS = {
    "R1": ("Ik voelde me schuldig toen de borstvoeding niet lukte. Nu gaat het beter met ons. Mijn man helpt veel.",
           {"gender": "V", "age": 33, "parent": "mother", "children": [2, 5]}),
    "R2": ("De kraamzorg stelde me gerust. Niemand is een perfecte vader.", {"gender": "M", "age": 36.5,
                                                                           "parent": "father", "first_child": True}),
}
POLICY = "Het consultatiebureau nodigt alle ouders uit voor een gesprek."


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, char in enumerate(text):
        if char == ".":
            spans.append((start, i + 1))
            start = i + 2
    return spans


def _segment(doc_id: str, position: int, span: tuple[int, int], text: str, label: str, frames: dict) -> dict:
    return {"document_id": doc_id, "position": position, "start": span[0], "end": span[1],
            "text": text[span[0]:span[1]], "label": label, "score_supportive": 0.2, "score_pressuring": 0.6,
            "score_neutral": 0.2, "relevance": 0.9, "frames": frames or None, "speaker": doc_id.split(":")[1],
            "speaker_role": "respondent"}


def _score(label: str) -> dict:
    return {"label": label, "score_supportive": 0.3, "score_pressuring": 0.4, "score_neutral": 0.3, "relevance": 0.9}


def build_store(url: str) -> str:
    """Two scored interviews with respondents' attributes, one policy text, and two coders' annotations."""
    engine = make_engine(url)
    upgrade(engine)
    writer = ScoreWriter(engine)
    run = writer.start_run(model="framing", model_version="v1")
    interviews, policy = writer.ensure_source("gesprekken", "interview"), writer.ensure_source("beleid", "policy")
    documents, scores, segments, speakers = [], [], [], []
    frames = [{"perfect_parent": 0.8}, {}, {"shared_responsibility": 0.7}]
    for label, (text, attributes) in INTERVIEWS.items():
        doc_id = f"gesprekken:{label}"
        documents.append({"id": doc_id, "source_id": interviews, "title": label, "text": text, "genre": "interview"})
        scores.append({"document_id": doc_id, **_score("pressuring")})
        segments += [_segment(doc_id, i, span, text, ("pressuring", "supportive", "neutral")[i], frames[i])
                     for i, span in enumerate(_sentences(text))]
        speakers.append({"document_id": doc_id, "label": label, "role": "respondent", "attributes": attributes})
        speakers.append({"document_id": doc_id, "label": "I", "role": "interviewer", "attributes": {}})
    documents.append({"id": "beleid:1", "source_id": policy, "title": "Brief", "text": POLICY, "genre": "policy"})
    scores.append({"document_id": "beleid:1", **_score("neutral")})
    writer.write_batch(run, documents, scores, segments, speakers)
    writer.finish_run(run)
    with session_factory(engine)() as session:
        first = item_for_span(session, "gesprekken:R1", *_sentences(INTERVIEWS["R1"][0])[0])
        save_annotation(session, first, "anna", relevant=True, stance="pressuring", frames=["perfect_parent"],
                        codes=["emoties/schuld"], memo="Schuld over voeding.")
        save_annotation(session, first, "bert", relevant=True, stance="pressuring", frames=[])
        other = item_for_span(session, "gesprekken:R2", *_sentences(INTERVIEWS["R2"][0])[0])
        save_annotation(session, other, "bert", relevant=False, stance=None, frames=[], memo="Geen framing.")
        session.commit()
    engine.dispose()
    return url


@pytest.fixture
def store(store_url) -> str:
    """The small store on SQLite and (with DISCOURSE_TEST_POSTGRES_URL) PostgreSQL."""
    return build_store(store_url)


@pytest.fixture
def empty_store(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@contextmanager
def _session(url: str):
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _export(url: str, **options) -> bytes:
    buffer = io.BytesIO()
    with _session(url) as session:
        export_qdpx(session, buffer, **options)
    return buffer.getvalue()


def _project_qde(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("project.qde")


def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


# -- export -------------------------------------------------------------------------------------------------------

def test_the_shipped_schema_is_the_official_one():
    if not SHARED_XSD.exists():
        pytest.skip(f"the shared standards folder is absent ({SHARED_XSD}); the in-repo copy is tested below")
    assert XSD_PATH.read_bytes() == SHARED_XSD.read_bytes()
    assert "MIT license" in XSD_PATH.read_text(encoding="utf-8")


def test_export_validates_against_project_xsd_and_is_deterministic(store):
    data = _export(store)
    assert data == _export(store)  # GUIDs from stable keys, no timestamps: two exports are the same bytes
    document = etree.fromstring(_project_qde(data))
    schemas = [XSD_PATH] + ([SHARED_XSD] if SHARED_XSD.exists() else [])
    for path in schemas:
        checker = _schema(path)
        assert checker.validate(document), checker.error_log
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    ns = {"q": "urn:QDA-XML:project:1.0"}
    paths = [s.get("plainTextPath") for s in document.iterfind("q:Sources/q:TextSource", ns)]
    assert len(paths) == 2 and all(p.startswith("internal://") for p in paths)  # the policy text is no interview
    assert sorted(names) == sorted(["project.qde"] + [f"sources/{p[len('internal://'):]}" for p in paths])


def test_export_content_model_and_coders(store):
    with _session(store) as session:
        project = export_project(session)
        no_model = export_project(session, include_model=False)
        no_coders = export_project(session, include_coders=False)
        mothers = export_project(session, filter="parent=mother")
    assert [s.name for s in project.sources] == ["R1", "R2"]
    assert [s.text for s in project.sources] == [INTERVIEWS["R1"][0], INTERVIEWS["R2"][0]]
    variables = {v.name: v.type for v in project.variables}
    assert variables == {"age": "Float", "children": "Text", "first_child": "Boolean", "gender": "Text",
                         "parent": "Text"}
    assert [c.name for c in project.cases] == ["R1", "R2"]  # interviewers are no cases
    users = {u.name for u in project.users}
    assert users == {"framing v1", "anna", "bert"}
    assert {u.name for u in no_model.users} == {"anna", "bert"}
    assert {u.name for u in no_coders.users} == {"framing v1"}
    assert [s.name for s in mothers.sources] == ["R1"]
    top = [code.name for code in project.codes]
    assert top == ["relevance", "stance", "frames", "emoties"]
    assert [c.name for c in project.codes[3].children] == ["schuld"] and not project.codes[3].codable
    r1 = project.sources[0]
    assert [(s.start, s.end) for s in r1.selections] == _sentences(INTERVIEWS["R1"][0])
    coded = {(c["user"], c["code"]) for c in _normal(project)["codings"] if c["start"] == 0 and c["source"] == "R1"}
    assert coded == {("framing v1", "stance/pressuring"), ("framing v1", "frames/perfect_parent"),
                     ("anna", "relevance/relevant"), ("anna", "stance/pressuring"), ("anna", "frames/perfect_parent"),
                     ("anna", "emoties/schuld"), ("bert", "relevance/relevant"), ("bert", "stance/pressuring")}
    assert _normal(project)["memos"] == [
        {"source": "R1", "start": 0, "end": 54, "user": "anna", "text": "Schuld over voeding."},
        {"source": "R2", "start": 0, "end": 30, "user": "bert", "text": "Geen framing."}]


def test_the_demo_interviews_export_and_come_back(demo_store, empty_store):
    """The demo store as `make run` loads it: real transcripts, respondents' attributes, the shipped model's labels."""
    data = _export(demo_store)
    assert _schema(XSD_PATH).validate(etree.fromstring(_project_qde(data)))
    project = read_qdpx(io.BytesIO(data))
    assert len(project.sources) == 8 and len(project.cases) >= 8
    assert {u.name.split()[-1] for u in project.users} == {_latest_version(demo_store)}
    with _session(empty_store) as session:
        report = import_qdpx(session, io.BytesIO(data), source_name="demo")
    assert report.documents == 8 and not report.skipped
    assert _normal(read_qdpx(io.BytesIO(_export(empty_store)))) == _normal(project)


def _latest_version(url: str) -> str:
    from discourse.store.queries import latest_model_version

    with _session(url) as session:
        return latest_model_version(session)


# -- round trip ---------------------------------------------------------------------------------------------------

def _normal(project) -> dict:
    """What must survive a round trip, by name instead of GUID."""
    users = {u.guid: u.name for u in project.users}
    paths = {}
    for code, parent in project.all_codes():
        paths[code.guid] = f"{paths[parent.guid]}/{code.name}" if parent else code.name
    variables = {v.guid: (v.name, v.type) for v in project.variables}
    sources = {s.guid: s.name for s in project.sources}
    notes = {n.guid: (users.get(n.user_guid), n.text) for n in project.notes}
    return {
        "sources": sorted((s.name, s.text) for s in project.sources),
        "codes": sorted((path, code.codable) for code, _ in project.all_codes() for path in [paths[code.guid]]),
        "variables": sorted(variables.values()),
        "cases": sorted((c.name, tuple(sources[g] for g in c.source_guids),
                         json.dumps({variables[g][0]: v for g, v in c.values.items()}, sort_keys=True))
                        for c in project.cases),
        "codings": sorted(({"source": s.name, "start": sel.start, "end": sel.end, "user": users[c.user_guid],
                            "code": paths[c.code_guid]} for s in project.sources for sel in s.selections
                           for c in sel.codings), key=lambda c: tuple(c.values())),
        "memos": sorted(({"source": s.name, "start": sel.start, "end": sel.end, "user": notes[g][0],
                          "text": notes[g][1]} for s in project.sources for sel in s.selections
                         for g in sel.note_guids), key=lambda m: tuple(m.values())),
    }


def test_round_trip_reproduces_sources_cases_codes_and_selections(store, empty_store):
    data = _export(store)
    with _session(empty_store) as session:
        report = import_qdpx(session, io.BytesIO(data), source_name="terug")
    assert report.documents == 2 and report.speakers == 2 and not report.skipped
    assert report.coders == {"anna": "anna", "bert": "bert", "framing v1": "framing v1"}
    again = _export(empty_store)
    assert _normal(read_qdpx(io.BytesIO(again))) == _normal(read_qdpx(io.BytesIO(data)))
    with _session(empty_store) as session:
        attributes = dict(session.execute(select(Speaker.label, Speaker.attributes)).all())
    assert attributes == {label: attrs for label, (_, attrs) in INTERVIEWS.items()}


# -- a hand-made project ------------------------------------------------------------------------------------------

G = {name: f"00000000-0000-4000-8000-{i:012d}" for i, name in enumerate(
    ["user", "houding", "druk", "emoties", "schuld", "steun", "ongebruikt", "var_age", "var_first", "var_region",
     "case", "source", "pdf", "sel1", "sel2", "c1", "c2", "c3", "c4", "note", "projnote"], start=1)}

HAND_TEXT = "Ik moest alles perfect doen. Gelukkig hielp de kraamhulp ons enorm."

HAND_MADE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Thesis" origin="NVivo 14">
  <Users><User guid="{G['user']}" name="Marie"/></Users>
  <CodeBook><Codes>
    <Code guid="{G['houding']}" name="Houding" isCodable="false">
      <Code guid="{G['druk']}" name="Druk zettend" isCodable="true"><Description>Druk op ouders</Description></Code>
    </Code>
    <Code guid="{G['emoties']}" name="Emoties" isCodable="true">
      <Code guid="{G['schuld']}" name="Schuld" isCodable="true"/>
    </Code>
    <Code guid="{G['steun']}" name="Structural support" isCodable="true"/>
    <Code guid="{G['ongebruikt']}" name="Ongebruikt" isCodable="true"/>
  </Codes></CodeBook>
  <Variables>
    <Variable guid="{G['var_age']}" name="leeftijd" typeOfVariable="Integer"/>
    <Variable guid="{G['var_first']}" name="eerste kind" typeOfVariable="Boolean"/>
    <Variable guid="{G['var_region']}" name="regio" typeOfVariable="Text"/>
  </Variables>
  <Cases>
    <Case guid="{G['case']}" name="Moeder 4">
      <VariableValue><VariableRef targetGUID="{G['var_age']}"/><IntegerValue>29</IntegerValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{G['var_first']}"/><BooleanValue>true</BooleanValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{G['var_region']}"/><TextValue>Gent</TextValue></VariableValue>
      <SourceRef targetGUID="{G['source']}"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="{G['source']}" name="Interview 4" plainTextPath="internal://{G['source']}.txt">
      <PlainTextSelection guid="{G['sel1']}" startPosition="0" endPosition="28" creatingUser="{G['user']}">
        <Description>Perfectionisme</Description>
        <Coding guid="{G['c1']}" creatingUser="{G['user']}"><CodeRef targetGUID="{G['druk']}"/></Coding>
        <Coding guid="{G['c2']}" creatingUser="{G['user']}"><CodeRef targetGUID="{G['schuld']}"/></Coding>
        <NoteRef targetGUID="{G['note']}"/>
      </PlainTextSelection>
      <PlainTextSelection guid="{G['sel2']}" startPosition="29" endPosition="{len(HAND_TEXT)}"
                          creatingUser="{G['user']}">
        <Coding guid="{G['c3']}" creatingUser="{G['user']}"><CodeRef targetGUID="{G['steun']}"/></Coding>
        <Coding guid="{G['c4']}" creatingUser="{G['user']}"><CodeRef targetGUID="{G['emoties']}"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <PDFSource guid="{G['pdf']}" name="Folder.pdf" path="relative:///folder.pdf"/>
  </Sources>
  <Notes>
    <Note guid="{G['note']}" name="Memo" creatingUser="{G['user']}">
      <PlainTextContent>Zie ook R7.</PlainTextContent></Note>
    <Note guid="{G['projnote']}" name="Projectmemo"><PlainTextContent>Over het project.</PlainTextContent></Note>
  </Notes>
</Project>
"""


def make_qdpx(xml: str = HAND_MADE, text: str = HAND_TEXT, extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", xml.encode("utf-8"))
        archive.writestr(f"sources/{G['source']}.txt", "\ufeff" + text)  # a byte-order mark, as some tools write
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_hand_made_project_imports_with_a_report(empty_store):
    assert _schema(XSD_PATH).validate(etree.fromstring(HAND_MADE.encode()))
    with _session(empty_store) as session:
        report = import_qdpx(session, io.BytesIO(make_qdpx()), source_name="thesis")
    assert report.mapped == {"Houding/Druk zettend": "stance:pressuring",
                             "Structural support": "frame:structural_support"}
    assert report.free == ["Emoties", "Emoties/Schuld"]
    assert report.nested == ["Houding/Druk zettend", "Emoties/Schuld"]
    assert report.documents == 1 and report.speakers == 1 and report.annotations == 2 and report.memos == 1
    assert report.coders == {"Marie": "Marie"} and report.scored is False
    skipped = "\n".join(report.skipped)
    assert "PDFSource 'Folder.pdf'" in skipped and "'Ongebruikt': never used" in skipped
    assert "1 note(s) not attached" in skipped
    with _session(empty_store) as session:
        rows = annotation_rows(session)
        document = session.get(Document, "thesis:Interview 4")
        speaker = session.execute(select(Speaker)).scalar_one()
    assert document.text == HAND_TEXT and document.genre == "interview"  # the byte-order mark is no text
    assert (speaker.label, speaker.role, speaker.attributes) == (
        "Moeder 4", "respondent", {"leeftijd": 29, "eerste kind": True, "regio": "Gent"})
    first, second = rows
    assert (first["start"], first["end"], first["text"]) == (0, 28, HAND_TEXT[:28])
    assert (first["coder"], first["stance"], first["frames"], first["codes"]) == (
        "Marie", "pressuring", [], ["Emoties/Schuld"])
    assert first["memo"] == "Perfectionisme\n\nZie ook R7." and first["origin"] == "qdpx"
    assert (second["stance"], second["frames"], second["codes"]) == (None, ["structural_support"], ["Emoties"])


def test_a_coder_map_renames_users(empty_store):
    with _session(empty_store) as session:
        report = import_qdpx(session, io.BytesIO(make_qdpx()), source_name="thesis", coder_map={"Marie": "marie"})
        assert {row["coder"] for row in annotation_rows(session)} == {"marie"}
    assert report.coders == {"Marie": "marie"}


# -- bad input: a clear error and nothing written -----------------------------------------------------------------

def _counts(url: str) -> tuple:
    with _session(url) as session:
        return tuple(session.scalar(select(func.count()).select_from(table))
                     for table in (Source, Document, Speaker, CodingItem, Annotation))


BAD = {
    "corrupt zip": (lambda: make_qdpx()[:-40], {}, "zip archive cannot be read"),
    "not a qdpx": (lambda: _zip({"readme.txt": b"hallo"}), {}, "no project.qde"),
    "schema": (lambda: make_qdpx(HAND_MADE.replace(' isCodable="true"/>', "/>", 1)), {}, "isCodable"),
    "not XML": (lambda: make_qdpx("<Project"), {}, "not well-formed"),
    "selection past the end": (lambda: make_qdpx(text=HAND_TEXT[:40]), {}, "outside the source's text"),
    "unknown coder": (lambda: make_qdpx(), {"coder_map": {"Jan": "jan"}}, "unknown coder(s) 'Marie'"),
    # the first source is new and written before the second is found to conflict: the rollback removes it
    "document stored with another text": (lambda: make_qdpx(HAND_MADE.replace(
        "<PDFSource", '<TextSource guid="00000000-0000-4000-8000-000000000099" name="R1"><PlainTextContent>Een '
        'andere tekst.</PlainTextContent></TextSource><PDFSource')), {"source_name": "gesprekken"},
        "stored already with another text"),
    "source of another kind": (lambda: make_qdpx(), {"source_name": "beleid"}, "kind 'policy'"),
}


def _zip(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_a_clear_error_and_changes_nothing(store, case):
    make, options, message = BAD[case]
    before = _counts(store)
    options = {"source_name": "thesis", **options}
    with _session(store) as session, pytest.raises(QdpxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_qdpx(session, io.BytesIO(make()), **options)
    assert _counts(store) == before


def test_an_archive_that_unpacks_past_the_limit_is_refused(monkeypatch, empty_store):
    monkeypatch.setattr("discourse.qdpx.read.MAX_UNPACKED_BYTES", 1000)
    with _session(empty_store) as session, pytest.raises(QdpxError) as raised:
        import_qdpx(session, io.BytesIO(make_qdpx(extra={"sources/big.txt": "a" * 5000})), source_name="x")
    assert raised.value.kind == "too_large"
    assert _counts(empty_store) == (0, 0, 0, 0, 0)


# -- command line -------------------------------------------------------------------------------------------------

def test_cli_export_and_import(store, empty_store, tmp_path):
    out = tmp_path / "export.qdpx"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "discourse.cli", *args], capture_output=True, text=True,
                              cwd=REPO_ROOT, timeout=300)

    exported = run("export-qdpx", str(out), "--db", store, "--no-model")
    assert exported.returncode == 0, exported.stderr
    assert "2 sources" in exported.stdout and out.read_bytes() == _export(store, include_model=False)
    imported = run("import-qdpx", str(out), "--source", "terug", "--db", empty_store)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["documents"] == 2
    (tmp_path / "bad.qdpx").write_bytes(b"geen zip")
    refused = run("import-qdpx", str(tmp_path / "bad.qdpx"), "--source", "x", "--db", empty_store)
    assert refused.returncode == 2 and "zip archive cannot be read" in refused.stderr


# -- HTTP ---------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api_store(tmp_path_factory) -> str:
    return build_store(f"sqlite:///{tmp_path_factory.mktemp('qdpx-api') / 'store.sqlite'}")


@pytest.fixture(scope="module")
def client(api_store):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(api_keys=["geheim"], database_url=api_store))) as client:
        yield client


def test_api_download_and_upload(client, api_store):
    store = api_store
    download = client.get("/v1/export/qdpx")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert "discourse.qdpx" in download.headers["content-disposition"]
    assert download.content == _export(store)
    filtered = read_qdpx(io.BytesIO(client.get("/v1/export/qdpx", params={"filter": "parent=father"}).content))
    assert [s.name for s in filtered.sources] == ["R2"]
    assert client.get("/v1/export/qdpx", params={"filter": "age>>3"}).status_code == 422
    assert 'id="qdpx-export" href="v1/export/qdpx"' in client.get("/").text  # the dashboard's download link

    upload = {"headers": {"Content-Type": "application/zip", "X-API-Key": "geheim"}}
    assert client.post("/v1/import/qdpx?source=thesis", content=make_qdpx(),
                       headers={"Content-Type": "application/zip"}).status_code == 401
    answer = client.post("/v1/import/qdpx?source=thesis", content=make_qdpx(), **upload)
    assert answer.status_code == 200, answer.text
    assert answer.json()["mapped"]["Houding/Druk zettend"] == "stance:pressuring"
    with _session(store) as session:
        assert [row["coder"] for row in annotation_rows(session) if row["origin"] == "qdpx"] == ["Marie", "Marie"]


@pytest.mark.parametrize("body, status, message", [
    (b"", 400, "empty"),
    (b"[" * 30_000, 400, "zip archive cannot be read"),  # binary bodies are bounded by size, not JSON brackets
    (make_qdpx(HAND_MADE.replace(' isCodable="true"/>', "/>", 1)), 422, "REFI-QDA schema"),
    (make_qdpx(text=HAND_TEXT[:40]), 422, "outside the source's text"),
])
def test_api_bad_uploads_are_4xx_and_change_nothing(client, api_store, body, status, message):
    store = api_store
    before = _counts(store)
    answer = client.post("/v1/import/qdpx?source=thesis", content=body,
                         headers={"Content-Type": "application/zip", "X-API-Key": "geheim"})
    assert answer.status_code == status and message in json.dumps(answer.json()["detail"]), answer.text
    assert _counts(store) == before


def test_api_upload_past_the_unpacking_limit_is_413(client, monkeypatch):
    monkeypatch.setattr("discourse.qdpx.read.MAX_UNPACKED_BYTES", 1000)
    answer = client.post("/v1/import/qdpx?source=x", content=make_qdpx(extra={"sources/big.txt": "a" * 5000}),
                         headers={"Content-Type": "application/zip", "X-API-Key": "geheim"})
    assert answer.status_code == 413 and "unpacks to" in answer.json()["detail"]
