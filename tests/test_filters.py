"""One filter model (discourse.store.filters), two evaluators: a table of conditions, each evaluated in SQL over the
store (discourse.store.selection, what compare and topics read) and with numpy over the dashboard's in-memory
columns (discourse.dashboard, through its real selection path) on the same demo store; both must select the same
sentences. Also: the dashboard's query parameters build the same conditions as the string syntax, and the parts of
the model that need no data (spellings, refusals)."""

from __future__ import annotations

import pytest

from discourse.dashboard import queries
from discourse.dashboard.facts import Facts
from discourse.dashboard.params import SummaryParams
from discourse.store import make_engine, session_factory
from discourse.store.filters import Condition, SegmentFilter
from discourse.store.selection import select_segments

pytestmark = pytest.mark.encoder  # the demo store is scored by the shipped model

CASES = [
    "",
    "genre=interview", "genre=policy", "genre!=interview",
    "source=Kind en Gezin", "source=Kind en Gezin|Opgroeien", "source!=Opgroeien",
    "corpus=interview", "corpus!=interview", "corpus=Expert opinie",
    "document=demo-inst-1", "document!=demo-inst-1,genre=policy",
    "date>=2023-01-01", "date>=2022-06-01,date<2023-01-01", "date<=2022-02-15", "date>2024-05-22",
    "date!=2022-02-15", "date_from=2023-01-01,date_to=2023-12-31",
    "relevance>=0.5", "relevance<0.5", "relevance>0.9", "relevance<=0.3", "relevance!=0", "min_relevance=0.7",
    "stance=pressuring", "stance!=neutral,relevance>=0.3", "label=supportive|pressuring",
    "frame=determinism", "frame=determinism|good_enough", "frame!=determinism,genre=policy",
    "role=interviewer", "role=respondent", "role=none", "role!=respondent", "role=interviewer|respondent",
    "gender=V", "gender!=M", "parent=mother", "speaker=gender:V", "speaker=parent:mother|father",
    "speaker=role:moeder", "speaker=role:vader,age>=30",  # the respondents file's `role`, not the speaker role
    "region=Gent|Limburg", "household=tweeverdieners", "household!=tweeverdieners,genre=interview",
    "age>=30", "age<30,gender=V", "age=33", "age=33|36", "age!=33", "age>41", "pregnancy_weeks>30",
    "child_age_months<=10",
    "genre=interview,speaker=gender:V,relevance>=0.5,stance=pressuring",
    "role=interviewer,age<35",
]
#: Cases that select nothing on the demo data on purpose: a bound no respondent passes; interviewers have no age.
EMPTY = {"age>41", "role=interviewer,age<35"}


@pytest.fixture(scope="module")
def store(demo_store):
    engine = make_engine(demo_store)
    facts = Facts()
    facts.refresh(engine)
    with session_factory(engine)() as session:
        yield session, facts, engine
    engine.dispose()


def by_sql(session, segment_filter: SegmentFilter) -> set[tuple[str, int]]:
    """The store's evaluator; the dashboard's unit is a sentence with a stance, so unlabelled ones are left out."""
    return {(r.document_id, r.position) for r in select_segments(session, segment_filter) if r.label is not None}


def by_numpy(facts: Facts, params: SummaryParams, topics=None) -> set[tuple[str, int]]:
    selection = queries.select(facts, params, facts.versions[-1], topics)
    return {(facts.documents.ids[facts.doc[r]], int(facts.position[r])) for r in selection.rows}


@pytest.mark.parametrize("spec", CASES)
def test_sql_and_numpy_select_the_same_segments(store, spec):
    session, facts, _ = store
    assert len(facts.versions) == 1  # select_segments reads the latest version, the dashboard this one
    sql = by_sql(session, SegmentFilter.parse(spec))
    # min_relevance=0: the dashboard's default threshold off, so the string's conditions are the whole filter
    numpy = by_numpy(facts, SummaryParams(filter=[spec], min_relevance=0))
    assert sql == numpy
    assert bool(sql) is (spec not in EMPTY)


def test_the_cases_tell_segments_apart(store):
    """A table of filters that all selected everything would prove nothing."""
    session, _, _ = store
    sizes = {spec: len(by_sql(session, SegmentFilter.parse(spec))) for spec in CASES}
    everything = sizes[""]
    assert sum(0 < n < everything for n in sizes.values()) >= len(CASES) - 6


@pytest.mark.parametrize("params, spec", [
    ({"speaker": ["parent:mother"]}, "parent=mother,relevance>=0.5"),
    ({"source": ["Kind en Gezin", "Opgroeien"], "date_from": "2022-06-01", "date_to": "2023-12-31"},
     "source=Kind en Gezin|Opgroeien,date>=2022-06-01,date<=2023-12-31,relevance>=0.5"),
    ({"stance": ["pressuring"], "frame": ["determinism"], "min_relevance": 0.3},
     "stance=pressuring,frame=determinism,relevance>=0.3"),
    ({"role": ["interviewer", "none"], "min_relevance": 0}, "role=interviewer|none"),
    ({"corpus": ["interview"], "speaker": ["gender:V", "gender:M", "region:Gent"]},
     "corpus=interview,gender=V|M,region=Gent,relevance>=0.5"),
    ({"filter": ["relevance<0.5"]}, "relevance<0.5"),  # a relevance condition replaces the default threshold
    ({"filter": ["relevance<0.9"], "min_relevance": 0.5}, "relevance>=0.5,relevance<0.9"),  # unless it is given
    ({"genre": ["interview"], "filter": ["age>=30", "gender=V"]}, "genre=interview,relevance>=0.5,age>=30,gender=V"),
    ({"speaker": ["role:moeder"], "role": ["respondent"]}, "speaker=role:moeder,role=respondent,relevance>=0.5"),
])
def test_query_parameters_are_the_same_conditions(store, params, spec):
    session, facts, _ = store
    built = SummaryParams(**params).segment_filter()
    assert set(built.conditions) == set(SegmentFilter.parse(spec).conditions)
    sql = by_sql(session, built)
    assert sql and sql == by_numpy(facts, SummaryParams(**params))


def test_topic_conditions_agree(store, demo_topic_model):
    session, facts, engine = store
    session.rollback()  # end the read transaction the earlier tests left open: the fit wrote after it began
    topics = facts.topic_column(engine, demo_topic_model, None)
    name = demo_topic_model
    for spec in (f"topic_model={name}", f"topic_model={name},topic=0", f"topic_model={name},topic!=0",
                 f"topic_model={name},topic>=1,gender=V", f"topic_model={name},topic=-1|1"):
        sql = by_sql(session, SegmentFilter.parse(spec))
        assert sql == by_numpy(facts, SummaryParams(filter=[spec], min_relevance=0), topics), spec
    assigned = by_sql(session, SegmentFilter.parse(f"topic_model={name}"))
    assert 0 < len(by_sql(session, SegmentFilter.parse(f"topic_model={name},topic=0"))) < len(assigned)
    # the dashboard's topic_model + topic parameters: the same sentences as the string
    params = SummaryParams(topic_model=name, topic=[0], min_relevance=0)
    assert by_numpy(facts, params, topics) == by_sql(session, SegmentFilter.parse(f"topic_model={name},topic=0"))


def test_spellings_of_one_condition():
    assert SegmentFilter.parse("speaker=gender:V").conditions == (Condition("gender", "=", ("V",)),)
    assert SegmentFilter.parse("gender=V").conditions == SegmentFilter.parse("speaker=gender:V").conditions
    assert SegmentFilter.parse("label=pressuring") == SegmentFilter.parse("stance=pressuring")
    assert SegmentFilter.parse("date_from=2023-01-01,date_to=2023-12-31,min_relevance=0.7") == \
        SegmentFilter.parse("date>=2023-01-01,date<=2023-12-31,relevance>=0.7")
    assert str(SegmentFilter.parse(" genre = interview , speaker=parent:mother|father")) == \
        "genre=interview,parent=mother|father"
    assert Condition("topic_model", "=", "demo").values == ("demo",)
    attribute = SegmentFilter.parse("speaker=role:moeder")  # an attribute named like a column stays an attribute
    assert attribute.conditions[0].attribute and attribute.excludes_interviewer
    assert str(attribute) == "speaker=role:moeder" and SegmentFilter.parse(str(attribute)) == attribute
    assert not SegmentFilter.parse("role=respondent").excludes_interviewer
    with pytest.raises(ValueError, match="takes one value"):
        Condition("age", ">=", ("30", "40"))


@pytest.mark.parametrize("spec, message", [
    ("speaker=gender", "KEY:VALUE"),
    ("speaker>=age:30", "KEY:VALUE"),
    ("date_from>=2023-01-01", "date_from takes ="),
    ("stance=angry", "unknown stance angry"),
    ("role=moderator", "unknown role moderator"),
    ("age>=30|40", "needs a number"),
    ("age>=dertig", "needs a number"),
    ("relevance>=inf", "expected a number"),
    ("model_version!=1.0", "model_version takes ="),
    ("topic_model=a,topic_model=b", "one topic_model"),
    ("genre", "expected key=value"),
    ("genre>=interview", "takes = or !="),
    ("date>=gisteren", "expected YYYY-MM-DD"),
    ("relevance>=veel", "expected a number"),
    ("topic=3", "needs both topic=N and topic_model"),
    ("=V", "expected key=value"),
])
def test_refusals(spec, message):
    with pytest.raises(ValueError, match=message):
        SegmentFilter.parse(spec)
