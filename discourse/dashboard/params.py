"""The dashboard's query parameters: one pydantic model per kind of question, all sharing `Filters`.

`Filters` is one spelling of the filter model (discourse.store.filters): `segment_filter()` turns the parameters
into its conditions, and `filter` takes conditions in the string syntax of /v1/compare (`gender=V,age>=30`), so a
selection written for a comparison can be asked of the dashboard as it is.

They are plain data, validated before anything touches the store: an unknown parameter (extra="forbid"), a
value of the wrong type, an unknown stance, frame or role, a malformed speaker attribute, or a date range
that ends before it starts is refused with the field named. The API takes them straight from the query string
(FastAPI query-parameter models), so the HTTP 422 names the same field. Checks that need the data (does this
source exist?) happen in the query and raise `QueryError(field, message)`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from discourse.codebook import load_codebook
from discourse.ingest.records import Utf8Str
from discourse.store.filters import ROLES, Condition, SegmentFilter, parse_conditions, speaker_conditions

__all__ = ["ROLES", "DIMENSIONS", "PERIODS", "QueryError", "Filters", "TimeseriesParams", "GroupParams",
           "MatrixParams", "DocumentListParams", "DocumentParams", "SummaryParams", "TopicParams"]

#: Dimensions a result can be grouped by; `attr:NAME` is any speaker attribute (parent, gender, region...).
DIMENSIONS = ("source", "genre", "corpus", "stance", "frame", "topic", "role")
PERIODS = ("day", "week", "month", "year")

_ATTRIBUTE = re.compile(r"^attr:[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


class QueryError(ValueError):
    """A valid-looking parameter the data cannot answer (an unknown source, a topic model that was never
    fitted): the API turns it into a 422 (or 404) naming `field`."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


def _dimension(value: str) -> str:
    if value in DIMENSIONS or _ATTRIBUTE.match(value):
        return value
    raise ValueError(f"expected one of {', '.join(DIMENSIONS)} or attr:NAME (a speaker attribute), got {value!r}")


class Filters(BaseModel):
    """Which sentences a dashboard question is about. Lists mean "any of"; different fields all apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_version: Utf8Str | None = Field(None, max_length=64, description="Default: the latest version.")
    date_from: dt.date | None = Field(None, description="Publication date, inclusive (YYYY-MM-DD).")
    date_to: dt.date | None = Field(None, description="Publication date, inclusive (YYYY-MM-DD).")
    source: list[Utf8Str] = Field([], max_length=200, description="Source names.")
    genre: list[Utf8Str] = Field([], max_length=50, description="Document genres (news, policy, interview).")
    corpus: list[Utf8Str] = Field([], max_length=50, description="Kinds of source (news, policy, interview).")
    stance: list[Literal["supportive", "pressuring", "neutral"]] = Field([], description="Sentence stance.")
    frame: list[Utf8Str] = Field([], max_length=50, description="Codebook frame ids; any of them.")
    topic_model: Utf8Str | None = Field(None, max_length=200, description="A fitted topic model (topic filter, "
                                                                       "grouping by topic).")
    topic: list[Annotated[int, Field(ge=-1, le=1_000_000)]] = Field([], max_length=500,
                                                                    description="Topic ids of topic_model.")
    min_relevance: float = Field(0.5, ge=0.0, le=1.0, description="Sentences at least this relevant.")
    role: list[Literal["respondent", "interviewer", "other", "none"]] = Field(
        [], description="Speaker role; default: everyone but the interviewer.")
    speaker: list[Utf8Str] = Field([], max_length=50, description="Speaker attribute as key:value, e.g. "
                                                                  "parent:mother; one key's values are OR'ed, "
                                                                  "keys AND'ed.")
    filter: list[Annotated[Utf8Str, Field(max_length=1000)]] = Field(
        [], max_length=20, description="Conditions in the syntax of /v1/compare, e.g. 'gender=V,age>=30' or "
                                       "'relevance<0.5,date>=2023-01-01' (=, !=, >=, >, <=, <; a|b for any of); "
                                       "repeated, all apply. A relevance condition replaces the default "
                                       "min_relevance.")
    lang: Literal["nl", "en"] = Field("nl", description="Language of frame and stance labels.")

    @field_validator("frame")
    @classmethod
    def _known_frames(cls, frames: list[str]) -> list[str]:
        known = load_codebook().frames
        unknown = [f for f in frames if f not in known]
        if unknown:
            raise ValueError(f"unknown frame {', '.join(unknown)}; the codebook's frames are {', '.join(known)}")
        return frames

    @field_validator("speaker")
    @classmethod
    def _speaker_pairs(cls, pairs: list[str]) -> list[str]:
        speaker_conditions(pairs)
        return pairs

    @field_validator("filter")
    @classmethod
    def _filter_syntax(cls, specs: list[str]) -> list[str]:
        for spec in specs:
            parse_conditions(spec)
        return specs

    @model_validator(mode="after")
    def _consistent(self) -> "Filters":
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        if self.topic and not self.topic_model:
            raise ValueError("topic needs topic_model: topic ids belong to one fitted topic model")
        self.segment_filter()  # conditions that contradict each other (two topic models, a topic without one)
        return self

    def segment_filter(self) -> SegmentFilter:
        """These parameters as conditions of the filter model, those of the `filter` strings too; each condition
        remembers its parameter, so an error about it names that field."""
        written = [c for spec in self.filter for c in parse_conditions(spec, "filter")]
        conditions = [Condition(key, "=", tuple(map(str, values)), key) for key, values in (
            ("source", self.source), ("genre", self.genre), ("corpus", self.corpus), ("stance", self.stance),
            ("frame", self.frame), ("role", self.role), ("topic", self.topic)) if values]
        conditions += speaker_conditions(self.speaker)
        if self.model_version:
            conditions.append(Condition("model_version", "=", self.model_version, "model_version"))
        if self.topic_model and any(c.column == "topic" for c in conditions + written):
            conditions.append(Condition("topic_model", "=", self.topic_model, "topic_model"))
        if self.date_from:
            conditions.append(Condition("date", ">=", self.date_from.isoformat(), "date_from"))
        if self.date_to:
            conditions.append(Condition("date", "<=", self.date_to.isoformat(), "date_to"))
        relevance_written = any(c.column == "relevance" for c in written)
        if self.min_relevance > 0 and ("min_relevance" in self.model_fields_set or not relevance_written):
            conditions.append(Condition("relevance", ">=", repr(self.min_relevance), "min_relevance"))
        return SegmentFilter(tuple(conditions + written))

    def chosen_topic_model(self) -> str | None:
        """The topic model the question reads: the parameter, else one a `filter` condition names."""
        return self.topic_model or self.segment_filter().get("topic_model")

    def cache_key(self) -> tuple:
        """Hashable and order-free: the same question asked with parameters in another order hits the cache.
        The conditions are part of it: whether min_relevance was given changes them, not the parameters."""
        fields = tuple(sorted((k, tuple(sorted(map(str, v))) if isinstance(v, list) else str(v))
                              for k, v in self.model_dump().items()))
        return fields + (tuple(sorted(map(str, self.segment_filter().conditions))),)


class TimeseriesParams(Filters):
    period: Literal["day", "week", "month", "year"] = "month"
    format: Literal["json", "csv"] = "json"


class GroupParams(Filters):
    by: Utf8Str = Field("source", description="source, genre, corpus, stance, frame, topic, role or attr:NAME.")
    sort: Literal["share_pressuring", "share_supportive", "share_neutral", "n", "documents", "mean_pressuring",
                  "mean_supportive", "group"] = "n"
    order: Literal["asc", "desc"] = "desc"
    limit: int = Field(50, ge=1, le=500)
    min_n: int = Field(1, ge=1, le=1_000_000, description="Leave out groups with fewer sentences.")
    format: Literal["json", "csv"] = "json"

    @field_validator("by")
    @classmethod
    def _known_dimension(cls, value: str) -> str:
        return _dimension(value)


class MatrixParams(Filters):
    rows: Utf8Str = Field("frame", description="A grouping dimension (as `by`).")
    cols: Utf8Str = Field("source", description="A grouping dimension (as `by`).")
    format: Literal["json", "csv"] = "json"

    @field_validator("rows", "cols")
    @classmethod
    def _known_dimensions(cls, value: str) -> str:
        return _dimension(value)

    @model_validator(mode="after")
    def _one_multi_valued(self) -> "MatrixParams":
        if self.rows == self.cols:
            raise ValueError("rows and cols must differ")
        if self.rows == "frame" and self.cols == "frame":
            raise ValueError("rows and cols cannot both be frame")
        return self


DOCUMENT_SORTS = ("published", "-published", "share_pressuring", "-share_pressuring", "share_supportive",
                  "-share_supportive", "n", "-n", "title", "-title", "source", "-source")


class DocumentListParams(Filters):
    sort: Literal[DOCUMENT_SORTS] = "-published"
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=200)
    format: Literal["json", "csv"] = "json"


class DocumentParams(BaseModel):
    """One document's page: which model version's scores (default: the latest that scored it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_version: Utf8Str | None = Field(None, max_length=64)


class SummaryParams(Filters):
    format: Literal["json", "csv"] = "json"


class TopicParams(Filters):
    format: Literal["json", "csv"] = "json"

