"""Respondent labels and attributes: the thesis notation "R7 (V, 26, 37w)" and a respondents CSV.

The thesis identifies each parent interview by a label and a short notation in parentheses: gender, the parent's
age, then where the child stands in its first 1000 days. Weeks are pregnancy weeks ("37w"), "m" is the child's age
in months ("8m"), "j"/"jaar" its age in years ("2j" = 24 months), and a run of numbers joined by dashes lists the
ages in years of older children ("3-5-6"). Parts combine: "V, 33, 30w, 2" is a woman of 33, 30 weeks pregnant,
with a 2-year-old.

A notation is written by hand, so parsing never raises: a part that does not fit goes into `extra` as written, and
the analysis can decide what to do with it. The CSV is different: it is the researcher's own register, and a row
without an id or with an id used twice is a mistake that must be fixed there, so it raises with the line number.

Labels are normalised the same way everywhere ("7", "r 7", "Resp. 7", "Respondent 07" -> "R7"; "Interviewster" ->
"I"), so a transcript's speakers and the CSV's rows meet on the same key.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLES = ("interviewer", "respondent", "other")

#: Gender words to the thesis' letters. Anything else (X, NB, ...) is kept as written.
GENDERS = {
    "v": "V", "vr": "V", "vrouw": "V", "f": "V", "female": "V", "vrouwelijk": "V",
    "m": "M", "man": "M", "male": "M", "mannelijk": "M",
}

#: A first part this short and without digits is read as a gender even when unknown ("X", "NB").
_MAX_OTHER_GENDER = 2

#: A bare number is the parent's age only when plausible for a parent; a smaller one is a child's age in years.
MIN_PARENT_AGE = 14
MAX_PARENT_AGE = 99

_INTERVIEWER = re.compile(
    r"(?:interviewer|interviewster|int\.?|i|onderzoeker|onderzoekster|moderator|moderatrice)"
    r"(?:\s*(?P<n>\d{1,3}))?",
    re.IGNORECASE,
)
_RESPONDENT = re.compile(
    r"(?:respondente?|resp\.?|r\.?|geïnterviewde|interviewee)(?:\s*(?P<n>\d{1,4}))?",
    re.IGNORECASE,
)
_NUMBER_ONLY = re.compile(r"\d{1,4}")

_WEEKS = re.compile(r"(\d{1,2})\s*(?:w|wk|wkn|week|weken)\.?(?:\s+zwanger)?", re.IGNORECASE)
_MONTHS = re.compile(r"(\d{1,3})\s*(?:m|mnd|maand|maanden)\.?", re.IGNORECASE)
_YEARS = re.compile(r"(\d{1,2}(?:\.\d+)?)\s*(?:j|jr|jaar)\.?", re.IGNORECASE)
_AGE_LIST = re.compile(r"\d{1,2}(?:\s*[-/]\s*\d{1,2})+(?:\s*(?:j|jr|jaar)\.?)?", re.IGNORECASE)
_INT = re.compile(r"\d{1,3}")


@dataclass(frozen=True)
class Label:
    label: str  # "I", "I2", "R7", "R", or a name as written
    role: str   # "interviewer" | "respondent" | "other"


def classify_label(text: str) -> Label | None:
    """The interviewer or respondent label `text` spells, or None when it is neither (a name, a heading)."""
    s = " ".join(text.split())
    m = _INTERVIEWER.fullmatch(s)
    if m:
        return Label("I" + (str(int(m["n"])) if m["n"] else ""), "interviewer")
    m = _RESPONDENT.fullmatch(s)
    if m:
        return Label("R" + (str(int(m["n"])) if m["n"] else ""), "respondent")
    return None


def normalise_label(text: str) -> str:
    """A speaker or respondent id in its canonical form: "7", "r 7", "Resp. 7", "Respondent 07" -> "R7",
    interviewer forms -> "I"; anything else (a name) comes back stripped, as written."""
    s = " ".join(str(text).split())
    if _NUMBER_ONLY.fullmatch(s):
        return f"R{int(s)}"
    found = classify_label(s)
    return found.label if found else s


def parse_notation(s: str | None) -> dict[str, Any]:
    """Attributes from the notation inside the parentheses after a respondent label.

    "V, 26, 37w" -> {"gender": "V", "age": 26, "pregnancy_weeks": 37}; "M, 39, 3-5-6" -> {..., "children_ages_years":
    [3, 5, 6]}; "V, 31, 8m" -> {..., "child_age_months": 8}; "2j"/"2 jaar" -> child_age_months 24. The first bare
    number of a plausible parent's age (14-99) is the age; other bare numbers are children's ages in years. A part
    that fits none of this goes into "extra" as written. Never raises.
    """
    if s is None:
        return {}
    text = str(s).strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    attrs: dict[str, Any] = {}
    extra: list[str] = []
    parts = [p.strip() for p in re.split(r"[,;]", text)]
    for position, part in enumerate(p for p in parts if p):
        if not _notation_part(part, position, attrs):
            extra.append(part)
    if extra:
        attrs["extra"] = extra
    return attrs


def _notation_part(part: str, position: int, attrs: dict[str, Any]) -> bool:
    """Read one comma-separated part into `attrs`; False when it fits no rule."""
    low = part.lower()
    if not any(c.isdigit() for c in part):
        if "gender" in attrs:
            return False
        if low in GENDERS:
            attrs["gender"] = GENDERS[low]
            return True
        if position == 0 and part.isalpha() and len(part) <= _MAX_OTHER_GENDER:
            attrs["gender"] = part  # "X", "NB": kept as written
            return True
        return False
    if _INT.fullmatch(part):
        n = int(part)
        if "age" not in attrs and MIN_PARENT_AGE <= n <= MAX_PARENT_AGE:
            attrs["age"] = n
        else:
            attrs.setdefault("children_ages_years", []).append(n)
        return True
    m = _YEARS.fullmatch(part)
    if m and "age" not in attrs and float(m[1]) >= MIN_PARENT_AGE and float(m[1]) <= MAX_PARENT_AGE:
        attrs["age"] = int(float(m[1]))  # "29 jaar" before any other number: the parent's own age
        return True
    return _child_part(part, attrs)


#: (pattern, attribute, value of the matched number): "32 weken", "8 maanden", "1.5 jaar".
_CHILD_AGES = ((_WEEKS, "pregnancy_weeks", int), (_MONTHS, "child_age_months", int),
               (_YEARS, "child_age_months", lambda years: round(float(years) * 12)))


def _child_part(part: str, attrs: dict[str, Any]) -> bool:
    """Pregnancy weeks, a child's age in months or years, or a list of children's ages; False otherwise.

    Only one focal child age (`child_age_months`) is kept; a second one is not guessed at and stays in extra."""
    part = part.strip()
    for pattern, key, value in _CHILD_AGES:
        m = pattern.fullmatch(part)
        if m:
            if key in attrs:
                return False
            attrs[key] = value(m[1])
            return True
    if _AGE_LIST.fullmatch(part):
        attrs.setdefault("children_ages_years", []).extend(int(n) for n in re.findall(r"\d+", part))
        return True
    if _INT.fullmatch(part):
        attrs.setdefault("children_ages_years", []).append(int(part))
        return True
    return False


def role_of_parent(attrs: dict[str, Any]) -> str | None:
    """"mother", "father" or None for a respondent's attributes.

    In the thesis' parent interviews the gender letter is the parent's: V (vrouw) is the mother, M (man) the father.
    An explicit role (a CSV column: moeder/mama/mother, vader/papa/father) wins over the gender; anything else, or
    no gender at all, gives None rather than a guess.
    """
    role = str(attrs.get("role", "")).strip().lower()
    if role in {"moeder", "mama", "mother", "mum", "mom"}:
        return "mother"
    if role in {"vader", "papa", "father", "dad"}:
        return "father"
    gender = GENDERS.get(str(attrs.get("gender", "")).strip().lower())
    return {"V": "mother", "M": "father"}.get(gender or "")


# --- the respondents CSV ------------------------------------------------------------------------------------------

#: Header names (lower case, spaces and hyphens as "_", dots dropped) to attribute keys.
COLUMNS = {
    "id": "id", "respondent": "id", "resp": "id", "r": "id", "respondent_id": "id", "resp_id": "id",
    "gender": "gender", "geslacht": "gender", "sex": "gender",
    "age": "age", "leeftijd": "age",
    "role": "role", "rol": "role",
    "child_age": "child_age", "leeftijd_kind": "child_age", "child_ages": "child_age",
    "leeftijd_kinderen": "child_age",
    "pregnancy_week": "pregnancy_weeks", "pregnancy_weeks": "pregnancy_weeks",
    "zwangerschapsweek": "pregnancy_weeks", "zwangerschapsweken": "pregnancy_weeks",
    "region": "region", "regio": "region",
}


def read_respondents(path: str | Path) -> dict[str, dict[str, Any]]:
    """Respondent label -> attributes from a CSV register (comma, semicolon or tab; UTF-8 with or without BOM,
    UTF-16 with BOM, or cp1252 as Excel writes it on Windows).

    Known columns are normalised like `parse_notation` (gender V/M, numbers as ints, child_age "8m", "3-5-6",
    "37w" or "2j" into the same keys as the notation); other columns are kept as strings under their header.
    Empty cells are left out. A row without an id, an id used twice (after normalisation: "7" and "R7" are the
    same respondent), or a row with more cells than the header raises ValueError naming the line.
    """
    path = Path(path)
    text = _decode(path.read_bytes())
    lines = text.splitlines()
    delimiter = _delimiter(lines[0] if lines else "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return {}
    keys = [_column_key(name, i) for i, name in enumerate(header)]
    if "id" not in keys:
        raise ValueError(f"{path}: line 1: no id column (id, respondent, resp or r) in header {header!r}")
    id_col = keys.index("id")
    keys = [k if k != "id" or i == id_col else header[i].strip() for i, k in enumerate(keys)]

    respondents: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    line = reader.line_num
    for row in reader:
        row_line, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(keys) and any(cell.strip() for cell in row[len(keys):]):
            raise ValueError(f"{path}: line {row_line}: {len(row)} cells but the header has {len(keys)}")
        raw_id = row[id_col].strip() if id_col < len(row) else ""
        if not raw_id:
            raise ValueError(f"{path}: line {row_line}: no respondent id")
        label = normalise_label(raw_id)
        if label in respondents:
            raise ValueError(
                f"{path}: line {row_line}: duplicate respondent id {label!r} (first on line {first_line[label]})")
        first_line[label] = row_line
        attrs: dict[str, Any] = {}
        for key, cell in zip(keys, row):
            if key != "id" and cell.strip():
                _csv_value(key, cell.strip(), attrs)
        respondents[label] = attrs
    return respondents


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _delimiter(header_line: str) -> str:
    """The most frequent of ; , and tab in the header line outside quotes (Dutch Excel writes ";")."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column_key(name: str, index: int) -> str:
    plain = re.sub(r"[\s\-]+", "_", name.strip().lower()).replace(".", "")
    if not plain:
        return f"column_{index + 1}"
    return COLUMNS.get(plain, name.strip())


def _csv_value(key: str, value: str, attrs: dict[str, Any]) -> None:
    if key == "gender":
        attrs["gender"] = GENDERS.get(value.lower(), value)
    elif key == "age":
        m = _YEARS.fullmatch(value)
        attrs["age"] = int(value) if value.isdigit() else int(float(m[1])) if m else value
    elif key == "pregnancy_weeks":
        m = _WEEKS.fullmatch(value)
        attrs["pregnancy_weeks"] = int(value) if value.isdigit() else int(m[1]) if m else value
    elif key == "child_age":
        for part in (p.strip() for p in re.split(r"[,;]", value)):
            if part and not _child_part(part, attrs):
                attrs.setdefault("extra", []).append(part)
    else:
        attrs[key] = value


def merge_attributes(inline: dict[str, Any], csv: dict[str, Any]) -> dict[str, Any]:
    """Merge attributes found in a transcript with those from the CSV register: the CSV wins on a conflict, keys
    found in only one are kept. Works on one respondent's attributes and on label -> attributes mappings alike
    (nested dicts are merged key by key); "extra" lists are combined rather than replaced. Inputs are not changed.
    """
    merged: dict[str, Any] = {k: _copy(v) for k, v in inline.items()}
    for key, value in csv.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = merge_attributes(old, value)
        elif key == "extra" and isinstance(old, list) and isinstance(value, list):
            merged[key] = old + [v for v in value if v not in old]
        else:
            merged[key] = _copy(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value
