"""Which input field holds an article's id, text, title, date, source and url.

News archives come from many exporters (LexisNexis, Delpher, scrapers, newspaper APIs), each with its own field
names. A `FieldMapping` names the field for each role; for a role left at its default, a short list of common
alternatives (Dutch and English) is tried, so most archives read without any flag. A role the user maps
explicitly (`text=body`) is taken literally: if they named it, falling back to a different field would hide a typo.

Every field not used for a role is kept in `meta`, converted to JSON-serialisable values, so nothing the archive
carried (section, author, page) is lost on the way to the output.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import math
from dataclasses import dataclass, field, replace
from typing import Any

ROLES = ("id", "text", "title", "date", "source", "url")

#: Alternatives tried, in order, when a role is left at its default and the default field is absent.
ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "id": ("_id", "doc_id", "article_id", "uuid", "guid"),
    # text_nl: the Dutch side of a bilingual Belgian record (text_nl / text_fr, as in federal parliament data)
    "text": ("body", "content", "tekst", "full_text", "fulltext", "article", "artikel", "inhoud", "text_nl"),
    "title": ("titel", "headline", "kop", "kopregel"),
    "date": ("published", "datum", "pubdate", "pub_date", "published_at", "publication_date", "publicatiedatum",
             "created_at", "timestamp"),
    "source": ("bron", "publisher", "medium", "newspaper", "krant", "publication"),
    "url": ("link", "uri", "permalink"),
}


class _Missing:
    """Marks a role whose field is absent (distinct from a field that is present with value null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class FieldMapping:
    id: str = "id"
    text: str = "text"
    title: str = "title"
    date: str = "date"
    source: str = "source"
    url: str = "url"
    #: Roles the user set explicitly: for these no alternative is tried.
    explicit: frozenset[str] = field(default=frozenset(), compare=False)
    # Field choice per set of input keys. Archive records nearly all share one set of keys, so resolving the roles
    # once per key set instead of once per record keeps mapping off the profile of a million-article run.
    _resolved: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, spec: str | None) -> "FieldMapping":
        """Build a mapping from a CLI string such as "text=body,date=pub_date" (empty or None: all defaults)."""
        if not spec or not spec.strip():
            return cls()
        chosen: dict[str, str] = {}
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            role, sep, name = part.partition("=")
            role, name = role.strip(), name.strip()
            if not sep or not name:
                raise ValueError(f"field mapping {part!r} must look like ROLE=FIELD, e.g. text=body")
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r} in field mapping; roles are: {', '.join(ROLES)}")
            if role in chosen:
                raise ValueError(f"role {role!r} is mapped twice in {spec!r}")
            chosen[role] = name
        return replace(cls(), **chosen, explicit=frozenset(chosen))

    def candidates(self, role: str) -> tuple[str, ...]:
        primary = getattr(self, role)
        if role in self.explicit:
            return (primary,)
        return (primary, *(alt for alt in ALTERNATIVES.get(role, ()) if alt != primary))

    def split(self, row: dict) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
        """Split one input object into (values by role, field used by role, meta).

        A role whose field is absent has value MISSING and no entry in the fields-used dict. Matching is exact
        first, then case-insensitive ("Text", "TITEL" in spreadsheet exports), and each input field serves at most
        one role.
        """
        keys = tuple(row)
        cached = self._resolved.get(keys)
        if cached is None:
            used = self._resolve(keys)
            cached = (used, frozenset(used.values()))
            if len(self._resolved) > 1024:  # bound the cache for archives whose keys vary from record to record
                self._resolved.clear()
            self._resolved[keys] = cached
        used, taken = cached
        values = {role: (row[used[role]] if role in used else MISSING) for role in ROLES}
        meta = {str(key): to_jsonable(value) for key, value in row.items() if key not in taken}
        return values, used, meta

    def _resolve(self, keys: tuple) -> dict[str, str]:
        lowered: dict[str, Any] = {}
        for key in keys:
            if isinstance(key, str):
                lowered.setdefault(key.lower(), key)
        present = set(keys)
        used: dict[str, str] = {}
        for role in ROLES:
            for name in self.candidates(role):
                key = name if name in present else lowered.get(name.lower())
                if key is not None and key not in used.values():
                    used[role] = key
                    break
        return used

    def describe(self, role: str) -> str:
        """The field names tried for a role, for error messages ("text, body, content, ...")."""
        return ", ".join(self.candidates(role))


def to_jsonable(value: Any) -> Any:
    """Convert a value (from JSON, CSV or Parquet/Arrow) to something json.dumps accepts without options.

    Parquet brings datetimes, Decimals and bytes; JSON brings NaN. Meta ends up in JSON output, so these become
    ISO strings, numbers, base64 text and null rather than a crash at write time, far from the input.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(raw).decode("ascii")
    return str(value)


__all__ = ["ALTERNATIVES", "FieldMapping", "MISSING", "ROLES", "to_jsonable"]
