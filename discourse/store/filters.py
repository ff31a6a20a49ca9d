"""The one filter model over scored segments: which sentences a comparison, a topic model or a dashboard question
is about. A filter is a list of conditions (key, operator, values), all of which must hold.

It is read from two spellings that mean the same thing:

- the string syntax of `discourse compare`, `POST /v1/compare`, `discourse topics` and the dashboard's `filter`
  parameter: comma-separated conditions, `genre=interview,gender=V,age>=30,date>=2023-01-01,relevance>=0.5`;
- the dashboard's query parameters (discourse.dashboard.params), built into the same conditions:
  `source=NOS&source=Opgroeien` is `source=NOS|Opgroeien`, `speaker=gender:V` is `gender=V`, `date_from` is
  `date>=`, `date_to` is `date<=`, `min_relevance` is `relevance>=`. The string syntax takes these spellings too
  (`speaker=gender:V`, `date_from=2023-01-01`, `min_relevance=0.7`).

Keys: genre, source, corpus (the source's kind: news, policy, interview; a source's name is accepted too), date,
relevance, stance (or label), frame, role (respondent, interviewer, other, none), document, topic (with
topic_model), topic_model (alone: the segments that model assigned), model_version; any other key is a speaker
attribute (gender, age, region, parent, a CSV column...). Operators: = and != for everything, >= > <= < for date,
relevance, topic and speaker attributes with a number; `a|b` after = means any of, after != none of. A missing
value (no date, no speaker, no relevance) fails every condition but !=. Interviewer turns are left out unless a
condition names a role: the questions are the researcher's words, not the parents'.

This module is the model only (parsing and checks, no data). It has two evaluators that must select the same
segments, tested against each other on the same store: SQL for the store (discourse.store.selection) and numpy
over the dashboard's in-memory columns (discourse.dashboard.filtering).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from discourse.codebook import STANCES

OPERATORS = ("!=", ">=", "<=", "=", ">", "<")  # two-character operators first, so ">=" is not read as ">"
ORDERED = (">=", ">", "<=", "<")
ORDERED_KEYS = {"date", "relevance", "topic"}
COLUMN_KEYS = {"genre", "source", "corpus", "date", "relevance", "stance", "frame", "role", "document", "topic",
               "topic_model", "model_version"}
#: Speaker roles a filter can ask for; "none" is a sentence without a speaker (news, policy).
ROLES = ("respondent", "interviewer", "other", "none")
ALIASES = {"label": "stance"}
_SINGLE = {"topic_model", "model_version"}  # one value, operator =: they choose what is read, not rows of it
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(!=|>=|<=|=|>|<)\s*(.*?)\s*$")
_SPEAKER = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]{0,63}):(.{1,200})$")
#: The dashboard's parameter names, written as conditions of the string syntax.
_SPELLINGS = {"date_from": ("date", ">="), "date_to": ("date", "<="), "min_relevance": ("relevance", ">=")}


@dataclass(frozen=True)
class Condition:
    """`key op values`: with = any of the values, with != none of them; the ordered operators take one value.
    `attribute`: the key is a speaker attribute (always so for a key that is no column; speaker=role:moeder is
    the attribute `role`, not the speaker role). `param` is the query parameter the condition came from, for
    error messages (not part of its meaning)."""

    key: str
    op: str
    values: tuple[str, ...]
    param: str | None = field(default=None, compare=False)
    attribute: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.values, str):
            object.__setattr__(self, "values", (self.values,))
        object.__setattr__(self, "values", tuple(str(v) for v in self.values))
        object.__setattr__(self, "attribute", self.attribute or self.key not in COLUMN_KEYS)
        _check(self)

    @property
    def value(self) -> str:
        return self.values[0]

    @property
    def column(self) -> str | None:
        """The column key (genre, date, role...), None for a speaker attribute."""
        return None if self.attribute else self.key

    def __str__(self) -> str:
        values = "|".join(self.values)
        if self.attribute and self.key in COLUMN_KEYS:
            return f"speaker{self.op}{self.key}:{values}"
        return f"{self.key}{self.op}{values}"


@dataclass(frozen=True)
class SegmentFilter:
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        columns = [c.column for c in self.conditions]
        if "topic" in columns and "topic_model" not in columns:
            raise ValueError("a topic filter needs both topic=N and topic_model=NAME (topic ids belong to a model)")
        for key in _SINGLE:
            if len({c.value for c in self.conditions if c.column == key}) > 1:
                raise ValueError(f"a filter can name one {key}, not several")

    @classmethod
    def parse(cls, spec: str | None) -> "SegmentFilter":
        """'genre=interview,gender=V' -> a filter; ValueError naming the bad part otherwise."""
        return cls(parse_conditions(spec))

    def __str__(self) -> str:
        return ",".join(map(str, self.conditions)) or "(all)"

    def get(self, key: str) -> str | None:
        """The value of the first `key=value` condition (model_version, topic_model), or None."""
        return next((c.value for c in self.conditions if c.column == key and c.op == "="), None)

    @property
    def excludes_interviewer(self) -> bool:
        """Interviewer turns are left out unless a condition names a role."""
        return not any(c.column == "role" for c in self.conditions)


def parse_conditions(spec: str | None, param: str | None = None) -> tuple[Condition, ...]:
    conditions = []
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        match = _CONDITION.match(part)
        if not match or not match.group(3):
            raise ValueError(f"filter part {part.strip()!r}: expected key=value (or !=, >=, <=, >, <), "
                             f"e.g. genre=interview")
        key, op, value = match.group(1).lower(), match.group(2), match.group(3)
        try:
            conditions.append(_condition(key, op, value, param))
        except ValueError as exc:
            raise ValueError(f"filter part {part.strip()!r}: {exc}") from None
    return tuple(conditions)


def _condition(key: str, op: str, value: str, param: str | None) -> Condition:
    key, attribute = ALIASES.get(key, key), False
    if key == "speaker":  # the dashboard's speaker=KEY:VALUE
        match = _SPEAKER.match(value)
        if not match or op not in ("=", "!="):
            raise ValueError("speaker takes = or != and KEY:VALUE, e.g. speaker=gender:V")
        key, value, attribute = match.group(1), match.group(2), True  # as the dashboard's parameter: case kept
    elif key in _SPELLINGS:
        if op != "=":
            raise ValueError(f"{key} takes =, e.g. {key}=...")
        key, op = _SPELLINGS[key]
    values = tuple(v.strip() for v in value.split("|") if v.strip()) if op in ("=", "!=") else (value,)
    if not values:
        raise ValueError("expected a value")
    return Condition(key, op, values, param, attribute)


def speaker_conditions(pairs: list[str], param: str = "speaker") -> list[Condition]:
    """The dashboard's speaker=KEY:VALUE pairs: one condition per key, its values "any of"."""
    by_key: dict[str, list[str]] = {}
    for pair in pairs:
        match = _SPEAKER.match(pair)
        if not match:
            raise ValueError(f"{pair!r}: expected key:value, e.g. parent:mother or gender:V")
        by_key.setdefault(match.group(1), []).append(match.group(2))
    return [Condition(key, "=", tuple(values), param, attribute=True) for key, values in by_key.items()]


def _check(condition: Condition) -> None:
    column, op, values = condition.column, condition.op, condition.values
    if op not in OPERATORS:
        raise ValueError(f"unknown operator {op!r}")
    if not values or not all(values):
        raise ValueError(f"{condition.key}: expected a value")
    if op in ORDERED:
        if column in COLUMN_KEYS - ORDERED_KEYS:
            raise ValueError(f"{column} takes = or !=, not {op}")
        if len(values) > 1:
            raise ValueError(f"{condition.key}{op} takes one value, not a|b")
        if column not in ORDERED_KEYS and not is_number(values[0]):
            raise ValueError(f"{condition}: {op} needs a number")
    if column in _SINGLE and (op != "=" or len(values) > 1):
        raise ValueError(f"{column} takes = and one name")
    for value in values:
        if column == "date":
            to_date(value)
        elif column in ("relevance", "topic"):
            to_number(column, value)
    _known(column, values)


def _known(key: str | None, values: tuple[str, ...]) -> None:
    known = {"stance": STANCES, "role": ROLES}.get(key)  # frames are not checked: a store may hold older ones
    unknown = [v for v in values if known is not None and v not in known]
    if unknown:
        raise ValueError(f"unknown {key} {', '.join(unknown)}; expected one of {', '.join(known)}")


def to_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"date {value!r}: expected YYYY-MM-DD") from None


def to_number(key: str, value: str) -> float:
    if not is_number(value):
        raise ValueError(f"{key} {value!r}: expected a number")
    return float(value)


def is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def numeric(condition: Condition) -> bool:
    """Whether a speaker-attribute condition compares numbers (every value is one) rather than text."""
    return all(is_number(v) for v in condition.values)
