"""Request and response bodies of /v1, with Dutch examples for the OpenAPI docs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EXAMPLE_TEXT = "Ge moet u niet schuldig voelen als het niet perfect loopt; goed genoeg is echt genoeg."


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only white space")
    return text


class ClassifyItem(BaseModel):
    """One text with the caller's id; any other field passes through to the result, as in `discourse classify`."""
    model_config = ConfigDict(extra="allow")

    id: str | int | None = Field(None, examples=["art-17"])
    text: str = Field(examples=[EXAMPLE_TEXT])

    _check_text = field_validator("text")(_not_blank)


class ClassifyRequest(BaseModel):
    """Exactly one of `text`, `texts` or `items`."""
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": EXAMPLE_TEXT},
        {"texts": ["Mama's moeten alles uit de kast halen in de eerste 1000 dagen.",
                   "Het geboorteverlof voor vaders gaat naar twintig dagen."], "level": "sentence"},
        {"items": [{"id": "r7", "text": "Ik voelde mij echt schuldig als ik eens een avond weg was. [..] "
                                        "Dat mag precies niet, als mama."}], "level": "document"},
    ]})

    text: str | None = None
    texts: list[str] | None = None
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
