"""`discourse ingest-interviews` end to end with the shipped model, on SQLite and PostgreSQL: transcripts (.txt and
.docx) and a respondents CSV become documents, scored sentences with speaker and role, and speakers with merged
attributes that filters can select; bad transcripts are rejected with a reason; a second run scores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from discourse.model.framing import FramingModel
from discourse.interviews.ingest import ingest_interviews
from discourse.settings import DEFAULT_MODEL_DIR
from discourse.store import make_engine, session_factory
from discourse.store.schema import DocumentScore, RejectedRecord, SegmentScore, Speaker
from discourse.store.selection import SegmentFilter, select_segments

pytestmark = pytest.mark.encoder

MOTHER = """Interview R1 (V, 29, 8m) — fictief, voor de tests geschreven
Interviewer: Hoe waren de eerste weken na de bevalling?
R1: Zwaar, eerlijk gezegd. Ik voelde me constant schuldig als de borstvoeding niet lukte.
Iedereen had een mening over hoe ik het moest doen.
Interviewer: En je partner?
R1: Hij hielp waar hij kon, maar ik bleef de eindverantwoordelijke. Dat voelde eenzaam.
"""

ENGLISH = """Interviewer: How were the first weeks?
R3: Honestly it was hard, everybody had advice and nobody listened to what we actually needed at home.
"""

QUESTIONS_ONLY = """Interviewer: Hoe gaat het met de kleine?
Interviewer: Slaapt hij al door?
"""


def _father_docx(path):
    import docx

    document = docx.Document()
    for line in ["Interviewer: Nam je ouderschapsverlof?",
                 "R2: Ja, drie maanden voltijds. Op het werk vonden ze dat raar voor een vader.",
                 "Interviewer: Hoe werd je onthaald op de consultatie?",
                 "R2: Ze spraken vooral mijn vrouw aan, alsof ik er maar bij was als helper."]:
        document.add_paragraph(line)
    document.save(path)


@pytest.fixture(scope="module")
def model():
    return FramingModel.load(DEFAULT_MODEL_DIR)


def test_transcripts_into_the_store_with_speakers_and_attributes(model, store_url, tmp_path):
    folder = tmp_path / "interviews"
    folder.mkdir()
    (folder / "R1.txt").write_text(MOTHER, encoding="utf-8")
    _father_docx(folder / "R2.docx")
    (folder / "R3.txt").write_text(ENGLISH, encoding="utf-8")
    (folder / "R4.txt").write_text(QUESTIONS_ONLY, encoding="utf-8")
    (folder / "respondents.csv").write_text(
        "id;gender;age;region;household\nR1;V;30;Gent;tweeverdieners\nR2;M;35;Limburg;tweeverdieners\n"
        "R9;V;41;Brussel;alleenstaand\n", encoding="utf-8")

    summary = ingest_interviews(folder, model, folder / "respondents.csv", db_url=store_url, source="demo")
    assert (summary.transcripts, summary.scored) == (4, 2)
    assert summary.skipped == {"not_dutch": 1, "no_respondent_speech": 1}
    assert summary.respondents_without_transcript == ["R9"]

    engine = make_engine(store_url)
    with session_factory(engine)() as session:
        speakers = {(s.document_id, s.label): s for s in session.scalars(select(Speaker))}
        r1 = speakers[("demo:R1", "R1")]
        # The CSV wins over the transcript's notation (age 30, not 29); the notation's child age stays.
        assert r1.role == "respondent"
        assert r1.attributes["age"] == 30 and r1.attributes["child_age_months"] == 8
        assert r1.attributes["region"] == "Gent" and r1.attributes["parent"] == "mother"
        assert speakers[("demo:R2", "R2")].attributes["parent"] == "father"
        assert speakers[("demo:R1", "I")].role == "interviewer"

        segments = session.scalars(select(SegmentScore).where(SegmentScore.document_id == "demo:R1")
                                   .order_by(SegmentScore.position)).all()
        assert [s.speaker for s in segments][:2] == ["I", "R1"]
        assert all(s.label in ("supportive", "pressuring", "neutral") for s in segments)
        respondent = [s for s in segments if s.speaker_role == "respondent"]
        score = session.scalars(select(DocumentScore).where(DocumentScore.document_id == "demo:R1")).one()
        assert score.n_sentences == len(respondent) == 5  # the interviewer's questions are not in the aggregate

        mothers = select_segments(session, SegmentFilter.parse("genre=interview,parent=mother"))
        assert {r.speaker for r in mothers} == {"R1"} and len(mothers) == 5
        fathers = select_segments(session, SegmentFilter.parse("gender=M"))
        assert [r.text for r in fathers][0] == "Ja, drie maanden voltijds."
        reasons = {r.reason_code for r in session.scalars(select(RejectedRecord))}
        assert reasons == {"not_dutch", "no_respondent_speech"}
    engine.dispose()

    again = ingest_interviews(folder, model, folder / "respondents.csv", db_url=store_url, source="demo")
    assert again.scored == 0 and again.skipped["already_scored"] == 2


def test_missing_folder_and_empty_folder_are_clear_errors(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        ingest_interviews(tmp_path / "nergens", model, db_url=f"sqlite:///{tmp_path / 's.db'}")
    (tmp_path / "leeg").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no transcript"):
        ingest_interviews(tmp_path / "leeg", model, db_url=f"sqlite:///{tmp_path / 's.db'}")


def test_one_bad_transcript_never_stops_the_others_and_is_rejected_once(model, store_url, tmp_path):
    import time

    from sqlalchemy import func

    folder = tmp_path / "interviews"
    folder.mkdir()
    (folder / "A-nul.txt").write_bytes(MOTHER.replace("R1", "R5").encode("utf-8").replace(b"Zwaar", b"Zw\x00aar"))
    (folder / "B-moeder.txt").write_text(MOTHER, encoding="utf-8")
    # Notepad's "Unicode": UTF-16 with a byte-order mark (read as text, not rejected for its NUL bytes)
    (folder / "C-unicode.txt").write_bytes(MOTHER.replace("R1", "R6").encode("utf-16"))
    # a line that used to take minutes to match (the speaker pattern backtracked over the spaces)
    (folder / "D-spaties.txt").write_text(MOTHER.replace("R1", "R7") + "R7" + " " * 200 + "x\n", encoding="utf-8")
    (folder / "E-kapot.docx").write_bytes(b"PK\x03\x04 not really a zip file")

    for attempt in range(2):
        started = time.perf_counter()
        summary = ingest_interviews(folder, model, db_url=store_url, source="demo")
        assert time.perf_counter() - started < 120
        assert summary.transcripts == 5
        assert summary.scored == (3 if attempt == 0 else 0)
        assert {k: v for k, v in summary.skipped.items() if v} == (
            {"nul_character": 1, "invalid_transcript": 1} | ({"already_scored": 3} if attempt else {}))

    engine = make_engine(store_url)
    with session_factory(engine)() as session:
        rejected = session.execute(select(RejectedRecord.record_id, RejectedRecord.reason_code,
                                          RejectedRecord.reason).order_by(RejectedRecord.record_id)).all()
        scored = session.scalars(select(DocumentScore.document_id).order_by(DocumentScore.document_id)).all()
        speakers = session.scalar(select(func.count()).select_from(Speaker).where(Speaker.label == "R6"))
    engine.dispose()
    assert [(r[0], r[1]) for r in rejected] == [("demo:A-nul", "nul_character"), ("demo:E-kapot", "invalid_transcript")]
    assert "UTF-16" in rejected[0][2]
    assert scored == ["demo:B-moeder", "demo:C-unicode", "demo:D-spaties"]
    assert speakers == 1
