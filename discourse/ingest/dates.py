"""Publication dates in the many shapes news archives write them, to a `datetime.date`.

An unreadable date must never cost the article: `parse_date` returns None instead of raising, and the record is
kept without a date. The parser is deliberately a closed list of formats rather than a fuzzy parser (such as
dateutil's): a fuzzy parser fills what is missing from today's date, so "editie 12" would become the 12th of this
month, a wrong date that looks right; None is honest.

Ambiguity is settled the Dutch way: numeric dates are DAY-first ("05-03-2024" and "5/3/2024" are 5 March), except
year-first forms ("2024-03-05", "2024/03/05"), which are unambiguous.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

#: Dates outside this range are treated as misreadings (a millisecond timestamp read as seconds, a page number)
#: rather than real publication dates. The lower bound leaves room for historical newspapers (Delpher).
MIN_YEAR = 1600
MAX_YEAR = 2200

MONTHS: dict[str, int] = {
    # Dutch
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
    "september": 9, "oktober": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "febr": 2, "mrt": 3, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "okt": 10, "nov": 11, "dec": 12,
    # English (only the names that differ from the Dutch ones)
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8, "october": 10,
    "oct": 10,
}

WEEKDAYS = {
    "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag",
    "ma", "di", "wo", "do", "vr", "za", "zo",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
}

# "5 maart 2024", "05 Mar 2024 10:00:00 +0100" (RSS), "5th March 2024": day, month name, year, then anything.
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|e)?\s+([^\W\d_]+)\s+(\d{4})(?!\d)")
# "March 5, 2024", "maart 5 2024"
_MONTH_DAY_YEAR = re.compile(r"^([^\W\d_]+)\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})(?!\d)")
# "maart 2024" -> first of the month
_MONTH_YEAR = re.compile(r"^([^\W\d_]+)\s+(\d{4})$")
# "05-03-2024", "5/3/2024", "5.3.2024" (day first), optionally followed by a time
_DAY_FIRST_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)")
# "2024/03/05", "2024.03.05", "2024-3-5" (year first: unambiguous), optionally followed by a time
_YEAR_FIRST_NUMERIC = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DIGITS = re.compile(r"^\d+(?:\.\d+)?$")


def _make(year: int, month: int, day: int) -> _dt.date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return _dt.date(year, month, day)
    except ValueError:  # 31 February and the like
        return None


def _from_timestamp(seconds: float) -> _dt.date | None:
    """A Unix timestamp (seconds, or milliseconds when too large to be seconds) to its UTC date."""
    if not math.isfinite(seconds):
        return None
    # 1e11 seconds is the year 5138; any value that large is a millisecond timestamp (JavaScript, Elasticsearch).
    if abs(seconds) >= 1e11:
        seconds /= 1000.0
    try:
        moment = _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.date() if MIN_YEAR <= moment.year <= MAX_YEAR else None


def _from_compact(digits: str) -> _dt.date | None:
    """"20240305" -> 2024-03-05 (YYYYMMDD), or None."""
    return _make(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def _month(word: str) -> int | None:
    return MONTHS.get(word.rstrip("."))


def _from_text(text: str) -> _dt.date | None:
    s = text.strip().lower()
    if not s:
        return None

    if _DIGITS.match(s):
        if len(s) == 8 and s.isdigit():
            return _from_compact(s)
        return _from_timestamp(float(s))

    # ISO 8601 first: the most common form, and fromisoformat (3.11) knows "T", "Z", offsets and fractions. The
    # date is taken as written, not converted to UTC: "2024-03-05T23:30:00+01:00" was published on the 5th.
    try:
        return _in_range(_dt.datetime.fromisoformat(s.upper()).date())
    except ValueError:
        pass

    # Drop a leading weekday ("dinsdag 5 maart 2024", "Tue, 05 Mar 2024 ...") and the punctuation around words.
    words = re.split(r"[\s,]+", s)
    while words and words[0].rstrip(".") in WEEKDAYS:
        words = words[1:]
    s = " ".join(w.rstrip(".") if _month(w) else w for w in words).strip()

    m = _YEAR_FIRST_NUMERIC.match(s)
    if m:
        return _make(int(m[1]), int(m[2]), int(m[3]))
    m = _DAY_FIRST_NUMERIC.match(s)
    if m:
        return _make(int(m[3]), int(m[2]), int(m[1]))
    m = _DAY_MONTH_YEAR.match(s)
    if m and _month(m[2]):
        return _make(int(m[3]), _month(m[2]), int(m[1]))
    m = _MONTH_DAY_YEAR.match(s)
    if m and _month(m[1]):
        return _make(int(m[3]), _month(m[1]), int(m[2]))
    m = _MONTH_YEAR.match(s)
    if m and _month(m[1]):
        return _make(int(m[2]), _month(m[1]), 1)
    return None


def _in_range(value: _dt.date) -> _dt.date | None:
    return value if MIN_YEAR <= value.year <= MAX_YEAR else None


def parse_date(value: object) -> _dt.date | None:
    """The calendar date in `value`, or None when there is none or it cannot be read. Never raises."""
    try:
        if value is None or isinstance(value, bool):  # bool is an int; True is not 1970-01-01
            return None
        if isinstance(value, _dt.datetime):
            return _in_range(value.date())
        if isinstance(value, _dt.date):
            return _in_range(value)
        if isinstance(value, int):
            # An 8-digit integer that is a valid YYYYMMDD is a compact date, not a timestamp in August 1970.
            if 10_000_000 <= value <= 99_999_999:
                compact = _from_compact(str(value))
                if compact is not None:
                    return compact
            return _from_timestamp(float(value))
        if isinstance(value, float):
            return _from_timestamp(value)
        if isinstance(value, str):
            if len(value) == 10 and value[4:5] == "-":  # "2024-03-05": by far the most common; try it first
                try:
                    return _in_range(_dt.date.fromisoformat(value))
                except ValueError:
                    pass
            return _from_text(value)
        return None
    except Exception:  # noqa: BLE001 - a date is optional; a parsing bug must not cost the article
        return None


__all__ = ["parse_date", "MONTHS", "MIN_YEAR", "MAX_YEAR"]
