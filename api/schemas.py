"""Request and response bodies of /v1, with Dutch examples for the OpenAPI docs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from discourse.ingest.records import Utf8Str, utf8_text

__all__ = ["Utf8Str", "ClassifyItem", "ClassifyRequest", "ClassifyResponse"]

EXAMPLE_TEXT = "Ge moet u niet schuldig voelen als het niet perfect loopt; goed genoeg is echt genoeg."


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only white space")
    return text


#: How deep a pass-through field may nest: enough for any real metadata; a 900-level array would otherwise
#: exhaust Python's recursion limit while the response is written.
MAX_PASSTHROUGH_DEPTH = 32
#: How many values (strings, numbers, keys, lists, objects) one pass-through field may hold: enough for any real
#: metadata. Checking and echoing 1,000,000 of them took over a second of the event loop.
MAX_PASSTHROUGH_VALUES = 1_000
#: Most texts a classify request may list, whatever DISCOURSE_API_MAX_ITEMS says: validation stops at this many
#: instead of validating (and reporting errors for) every entry of a huge list on the event loop.
MAX_ITEMS_CEILING = 5_000


def _check_passthrough(value: object, where: str) -> None:
    """Every string in a pass-through JSON value, keys included, must be encodable (the response carries it), and
    the value may nest at most MAX_PASSTHROUGH_DEPTH levels and hold at most MAX_PASSTHROUGH_VALUES values.
    Iterative: the depth check must not recurse."""
    stack = [(value, where, 0)]
    values = 1  # counted as they are put on the stack, so a huge list is refused before it is walked
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_PASSTHROUGH_DEPTH:
            raise ValueError(f"{where} nests deeper than {MAX_PASSTHROUGH_DEPTH} levels")
        if isinstance(item, (dict, list)):
            values += 2 * len(item) if isinstance(item, dict) else len(item)
            if values > MAX_PASSTHROUGH_VALUES:
                raise ValueError(f"{where} holds more than {MAX_PASSTHROUGH_VALUES:,} values")
        if isinstance(item, str):
            try:
                utf8_text(item)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
        elif isinstance(item, dict):
            for key, inner in item.items():
                stack.append((key, f"{path} (a key)", depth + 1))
                stack.append((inner, f"{path}.{ascii(key)[1:-1]}", depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{path}[{i}]", depth + 1) for i, inner in enumerate(item))


class ClassifyItem(BaseModel):
    """One text with the caller's id; any other field passes through to the result, as in `discourse classify`."""
    model_config = ConfigDict(extra="allow")

    id: str | int | None = Field(None, examples=["art-17"])
    text: Utf8Str = Field(examples=[EXAMPLE_TEXT])

    _check_text = field_validator("text")(_not_blank)

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_utf8(cls, value: object) -> object:
        return utf8_text(value) if isinstance(value, str) else value  # one error named "id", not one per type

    @model_validator(mode="after")
    def _passthrough_is_utf8(self) -> "ClassifyItem":
        for key, value in (self.model_extra or {}).items():
            _check_passthrough(key, "a field name")
            _check_passthrough(value, f"field {ascii(key)[1:-1]}")
        return self


class ClassifyRequest(BaseModel):
    """Exactly one of `text`, `texts` or `items`."""
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": EXAMPLE_TEXT},
        {"texts": ["Mama's moeten alles uit de kast halen in de eerste 1000 dagen.",
                   "Het geboorteverlof voor vaders gaat naar twintig dagen."], "level": "sentence"},
        {"items": [{"id": "r7", "text": "Ik voelde mij echt schuldig als ik eens een avond weg was. [..] "
                                        "Dat mag precies niet, als mama."}], "level": "document"},
    ]})

    text: Utf8Str | None = None
    texts: list[Utf8Str] | None = Field(None, max_length=MAX_ITEMS_CEILING)
    items: list[ClassifyItem] | None = Field(None, max_length=MAX_ITEMS_CEILING)
    level: Literal["sentence", "document"] = "sentence"

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str | None) -> str | None:
        return None if value is None else _not_blank(value)

    @field_validator("texts")
    @classmethod
    def _texts_not_blank(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for i, text in enumerate(value):
                if not text.strip():
                    raise ValueError(f"texts[{i}] is empty or only white space")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> "ClassifyRequest":
        given = [name for name in ("text", "texts", "items") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'text', 'texts' or 'items' (got {given or 'none'})")
        if given[0] != "text" and not getattr(self, given[0]):
            raise ValueError(f"'{given[0]}' is an empty list")
        return self

    def records(self) -> list[dict]:
        if self.text is not None:
            return [{"id": None, "text": self.text}]
        if self.texts is not None:
            return [{"id": i, "text": t} for i, t in enumerate(self.texts)]
        return [item.model_dump() for item in self.items or []]


class ClassifyResponse(BaseModel):
    items: list[dict] = Field(description="One result per input text, in input order: label, scores, relevance, "
                                          "frames, language, evidence (document level), model and versions; "
                                          "or 'error' with a reason.")
    model: dict
