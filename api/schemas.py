"""Request and response bodies of /v1, with Dutch examples for the OpenAPI docs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from discourse.records import Utf8Str, utf8_text

__all__ = ["Utf8Str", "ClassifyItem", "ClassifyRequest", "ClassifyResponse"]

EXAMPLE_TEXT = "Ge moet u niet schuldig voelen als het niet perfect loopt; goed genoeg is echt genoeg."


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only white space")
    return text


def _utf8_everywhere(value: object, where: str) -> None:
    """Every string in a pass-through JSON value, keys included, must be encodable: the response carries it."""
    if isinstance(value, str):
        try:
            utf8_text(value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _utf8_everywhere(key, f"{where} (a key)")
            _utf8_everywhere(item, f"{where}.{ascii(key)[1:-1]}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _utf8_everywhere(item, f"{where}[{i}]")


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
            _utf8_everywhere(key, "a field name")
            _utf8_everywhere(value, f"field {ascii(key)[1:-1]}")
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
    texts: list[Utf8Str] | None = None
    items: list[ClassifyItem] | None = None
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
