"""Filters over scored segments (discourse.store.selection), on SQLite and PostgreSQL: columns, speaker
attributes kept as JSON (text and numbers), interviewer turns left out by default, topics, bad filters refused."""

from __future__ import annotations

import datetime as dt

import pytest

from discourse.store import ScoreWriter, make_engine, session_factory, upgrade
from discourse.store.schema import TopicAssignment
from discourse.store.selection import SegmentFilter, select_segments

MODEL, VERSION = "framing-e5-small", "9.9.9"


def _segment(doc_id: str, position: int, text: str, label: str, speaker=None, role=None, frames=None,
             relevance=0.9) -> dict:
    return {"document_id": doc_id, "position": position, "start": 0, "end": len(text), "text": text,
            "label": label, "score_supportive": 0.2, "score_pressuring": 0.3, "score_neutral": 0.5,
            "relevance": relevance, "frames": frames, "speaker": speaker, "speaker_role": role}


@pytest.fixture
def store(store_url):
    engine = make_engine(store_url)
    upgrade(engine)
    writer = ScoreWriter(engine)
    run = writer.start_run(model=MODEL, model_version=VERSION)
    interviews = writer.ensure_source("demo-interviews", "interview")
    kg = writer.ensure_source("Kind en Gezin", "policy")
    documents = [
        {"id": "int-1", "source_id": interviews, "text": "x", "genre": "interview", "published": None},
        {"id": "int-2", "source_id": interviews, "text": "y", "genre": "interview", "published": None},
        {"id": "pol-1", "source_id": kg, "text": "z", "genre": "policy", "published": dt.date(2023, 5, 1)},
        {"id": "pol-2", "source_id": kg, "text": "w", "genre": "policy", "published": dt.date(2021, 1, 9)},
    ]
    scores = [{"document_id": d["id"], "label": "neutral", "score_supportive": 0.1, "score_pressuring": 0.1,
               "score_neutral": 0.8} for d in documents]
    segments = [
        _segment("int-1", 0, "Hoe was dat voor jou?", "neutral", "I", "interviewer"),
        _segment("int-1", 1, "Ik voelde me schuldig.", "pressuring", "R1", "respondent", {"guilt": 0.9}),
        _segment("int-1", 2, "Mijn man hielp wel.", "supportive", "R1", "respondent"),
        _segment("int-2", 0, "En de kinderopvang?", "neutral", "I", "interviewer"),
        _segment("int-2", 1, "Ik nam drie maanden verlof.", "supportive", "R2", "respondent"),
        _segment("pol-1", 0, "Je hoeft geen perfecte ouder te zijn.", "supportive", relevance=0.95),
        _segment("pol-2", 0, "De eerste 1000 dagen zijn cruciaal.", "pressuring", frames={"determinism": 0.8},
                 relevance=0.4),
    ]
    speakers = [
        {"document_id": "int-1", "label": "I", "role": "interviewer", "attributes": {}},
        {"document_id": "int-1", "label": "R1", "role": "respondent",
         "attributes": {"gender": "V", "age": 26, "region": "Gent"}},
        {"document_id": "int-2", "label": "I", "role": "interviewer", "attributes": {}},
        {"document_id": "int-2", "label": "R2", "role": "respondent",
         "attributes": {"gender": "M", "age": 39, "region": "Limburg"}},
    ]
    writer.write_batch(run, documents, scores, segments, speakers)
    with session_factory(engine)() as session:
        session.add_all([TopicAssignment(topic_model="demo", document_id="int-1", position=1, topic=3),
                         TopicAssignment(topic_model="demo", document_id="pol-2", position=0, topic=3),
                         TopicAssignment(topic_model="demo", document_id="int-2", position=1, topic=5)])
        session.commit()
    session = session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


def texts(session, spec: str) -> list[str]:
    return [row.text for row in select_segments(session, SegmentFilter.parse(spec))]


def test_columns_and_interviewer_turns(store):
    assert texts(store, "genre=interview") == ["Ik voelde me schuldig.", "Mijn man hielp wel.",
                                               "Ik nam drie maanden verlof."]
    assert texts(store, "genre=interview,role=interviewer") == ["Hoe was dat voor jou?", "En de kinderopvang?"]
    assert len(texts(store, "")) == 5  # everything but the interviewer's questions
    assert texts(store, "source=Kind en Gezin,date>=2022-01-01") == ["Je hoeft geen perfecte ouder te zijn."]
    assert texts(store, "corpus=Kind en Gezin,relevance<0.5") == ["De eerste 1000 dagen zijn cruciaal."]
    assert texts(store, "stance=supportive|pressuring,genre!=interview") == [
        "Je hoeft geen perfecte ouder te zijn.", "De eerste 1000 dagen zijn cruciaal."]
    assert texts(store, "frame=guilt") == ["Ik voelde me schuldig."]
    assert texts(store, "model_version=0.0.1") == []


def test_speaker_attributes_as_text_and_numbers(store):
    assert texts(store, "gender=V") == ["Ik voelde me schuldig.", "Mijn man hielp wel."]
    assert texts(store, "gender=M") == ["Ik nam drie maanden verlof."]
    assert texts(store, "age>=30") == ["Ik nam drie maanden verlof."]
    assert texts(store, "age=26") == ["Ik voelde me schuldig.", "Mijn man hielp wel."]
    assert texts(store, "region=Gent|Limburg,gender!=M") == ["Ik voelde me schuldig.", "Mijn man hielp wel."]
    rows = select_segments(store, SegmentFilter.parse("gender=V"))
    assert rows[0].attributes["age"] == 26 and rows[0].cluster == "int-1#R1"
    policy = select_segments(store, SegmentFilter.parse("genre=policy"))
    assert {row.cluster for row in policy} == {"pol-1", "pol-2"}  # a document is its own cluster


def test_topic_filter(store):
    assert texts(store, "topic_model=demo,topic=3") == ["Ik voelde me schuldig.", "De eerste 1000 dagen zijn cruciaal."]
    assert texts(store, "topic_model=demo,topic!=3") == ["Ik nam drie maanden verlof."]


def test_numeric_operator_on_text_attribute(store):
    with pytest.raises(ValueError, match="needs a number"):
        select_segments(store, SegmentFilter.parse("region>=Gent"))


def test_the_dashboard_spellings_and_any_of(store):
    assert texts(store, "speaker=gender:V") == texts(store, "gender=V")
    assert texts(store, "age=26|39") == texts(store, "genre=interview")  # numbers, any of
    assert texts(store, "role=none") == ["Je hoeft geen perfecte ouder te zijn.", "De eerste 1000 dagen zijn cruciaal."]
    assert texts(store, "role=none|interviewer,genre=interview") == ["Hoe was dat voor jou?", "En de kinderopvang?"]
    assert texts(store, "corpus=policy") == texts(store, "genre=policy")  # the source's kind
    assert texts(store, "frame=guilt|determinism") == ["Ik voelde me schuldig.", "De eerste 1000 dagen zijn cruciaal."]
    assert texts(store, "date_from=2022-01-01,min_relevance=0.9") == ["Je hoeft geen perfecte ouder te zijn."]


@pytest.mark.parametrize("spec", [
    "", "genre=interview", "role=none", "role=interviewer", "corpus=policy", "corpus=Kind en Gezin", "gender=V",
    "gender!=M", "age>=30", "age=26|39", "region=Gent|Limburg,gender!=M", "relevance<0.5", "date>=2022-01-01",
    "date!=2023-05-01", "stance=supportive|pressuring,genre!=interview", "topic_model=demo,topic!=5",
])
def test_the_dashboard_evaluator_selects_the_same_segments(store, store_url, spec):
    """The numpy evaluator behind the dashboard on this store (both backends): the same rows as SQL."""
    from discourse.dashboard import queries
    from discourse.dashboard.facts import Facts
    from discourse.dashboard.params import SummaryParams

    engine = make_engine(store_url)
    facts = Facts()
    facts.refresh(engine)
    topics = facts.topic_column(engine, "demo", None)
    engine.dispose()
    selection = queries.select(facts, SummaryParams(filter=[spec], min_relevance=0), VERSION, topics)
    numpy = [(facts.documents.ids[facts.doc[r]], int(facts.position[r])) for r in selection.rows]
    sql = [(row.document_id, row.position) for row in select_segments(store, SegmentFilter.parse(spec))]
    assert sorted(numpy) == sql
