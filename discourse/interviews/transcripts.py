"""Interview transcripts (.txt, .md, .docx) to speaker turns with character offsets.

Transcripts are typed by people, with whatever convention they were taught: "Interviewer:", "I:", "R7:",
"**Respondent 13 (M, 39, 3-5-6):**", "[00:12:31] R7:", a first name ("Sofie:"). This module reads them all into one
shape: a list of turns, each with a normalised speaker label ("I", "R7", or the name as written), a role, its text
without the speaker prefix and timestamps, and its offsets in `Transcript.text`. The analysis works on sentences
of what parents said, so `Transcript.sentences()` leaves the interviewer's questions out unless asked.

Design decisions, because transcripts are ambiguous:

* A line that starts with a known label (interviewer or respondent forms, case-insensitive) is always a new turn.
  A name before a colon is a speaker only when the same name starts a line at least twice, or is listed in
  `names`/`speaker_roles`: "Opmerking: ..." once in an answer is text, not a speaker. A fixed list of heading
  words ("Datum:", "Locatie:", "Vraag:") is never a name unless listed explicitly. A name must look like one: a
  capitalised word, optionally followed by capitalised words, Dutch particles ("Mama van Lotte") or a number
  ("Spreker 2"); "Toen zei ik:" is not a name.
* A line without a speaker prefix continues the previous turn; a blank line inside a turn is kept as a paragraph
  break (so a sentence never runs across paragraphs). Lines before the first speaker are the header.
* Timestamps are removed from the start of a turn ("[00:12:31] R7:", "R7 (00:12:31):", "00:12:31 - R7:",
  "R7: [00:12:31] ..."), from a line of their own (and then given to the next turn if it has none), and, in
  brackets, from the start of a continuation line. A bare time after the colon is removed only before a dash
  ("R7: 12:31 - ..."), because "R7: 8:00 opstaan, ..." is an answer. Timestamps are stored as HH:MM:SS; a
  two-part time is minutes:seconds, as in recordings ("12:31" -> "00:12:31").
* Before the first turn, a label line whose text is a respondent with notation ("Respondent: R7 (V, 26, 37w)")
  describes the interview and belongs to the header; its attributes are still registered.
* A label with a timestamp and no colon on a line of its own ("Interviewer  0:05", as Teams and Word transcription
  write it) starts a turn whose text follows on the next lines.
* Every run of spaces and tabs (and other spaces, non-breaking ones included) becomes one space before anything
  is matched, and a speaker prefix must lie within the first SCAN_CHARS characters of its line. The speaker
  pattern has several optional parts separated by optional spaces; on a line with a long run of spaces they
  could split the run in very many ways before failing ("R7" + 200 spaces + "x" took minutes), and a very long
  line would be searched from every position. With both bounds every line is matched in linear time.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..segment import split_sentences
from ..text import Sentence
from .respondents import ROLES, classify_label, normalise_label, parse_notation

#: Words that end in a colon at the start of a line in headers and notes, never speakers unless listed explicitly.
NOT_NAMES = frozenset(
    """
    opmerking opmerkingen noot nota nb n.b ps p.s let op bijvoorbeeld bv vraag vragen antwoord tip citaat datum
    locatie plaats duur tijd tijdstip transcriptie transcript interview thema onderwerp context toelichting
    samenvatting conclusie bron info aanwezig aanwezigen deelnemer deelnemers opname codes code memo
    http https www
    """.split()
)

#: Lower-case words allowed inside a multi-word name ("Mama van Lotte", "Oma de Smet").
PARTICLES = frozenset("van de der den het 't ter ten te vd v/d von du la le".split())

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_TS_BRACKETED = rf"\[\s*{_TIME}\s*\]|\(\s*{_TIME}\s*\)"
_TS_ANY = rf"{_TS_BRACKETED}|{_TIME}(?![\d:])"
_DASH = r"[-–—]"
_BOLD = r"(?:\*\*|__)"
_LABEL = r"[^\W\d_][\w'’.\-]*(?:[ \t]+[\w'’.\-/]+){0,3}?"

# A speaker line: [bold] [time [-]] [bold] LABEL [(time)] [(notation)] [(time)] [bold] : [bold] [time -] text
_SPEAKER = re.compile(
    rf"""^{_BOLD}?\s*
    (?:(?P<ts1>{_TS_ANY})\s*(?:{_DASH}\s*)?)?
    {_BOLD}?\s*
    (?P<label>{_LABEL})
    \s*(?P<ts2>{_TS_BRACKETED})?
    \s*(?:\((?P<notation>[^()]*)\))?
    \s*(?P<ts3>{_TS_BRACKETED})?
    \s*(?P<bold_close>{_BOLD})?\s*
    [:：](?!//)(?!\d{{2}}(?!\d))  # not "Interviewer 12:31", which is a label and a time
    [ \t]*(?P<bold_after>{_BOLD})?[ \t]*
    (?:(?P<ts4>{_TS_BRACKETED})[ \t]*(?:{_DASH}[ \t]*)?|(?P<ts5>{_TIME})[ \t]*{_DASH}[ \t]*|(?P<ts6>{_TIME})[ \t]*$)?
    (?P<rest>.*)$""",
    re.VERBOSE,
)
# A label and a timestamp alone on a line, without a colon: "Interviewer  0:05", "[00:00:05] R7".
_SPEAKER_NO_COLON = re.compile(
    rf"""^{_BOLD}?\s*
    (?:(?P<ts1>{_TS_ANY})\s*(?:{_DASH}\s*)?)?
    {_BOLD}?\s*
    (?P<label>{_LABEL})
    \s*(?:\((?P<notation>[^()]*)\))?
    \s*(?:{_DASH}\s*)?(?P<ts2>{_TS_ANY})?
    \s*{_BOLD}?\s*$""",
    re.VERBOSE,
)
_TS_LINE = re.compile(rf"^{_BOLD}?\s*(?P<ts>{_TS_ANY})\s*(?:{_DASH})?\s*{_BOLD}?$")
_TS_CONTINUATION = re.compile(rf"^(?P<ts>{_TS_BRACKETED})\s*(?:{_DASH}\s*)?")
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.\-]*")
# "R7 (V, 26, 37w)" anywhere in a header line.
_HEADER_NOTATION = re.compile(r"(?P<label>[^\W\d_][\w.]*(?:[ \t]*\d{1,4})?)[ \t]*\((?P<notation>[^()]*)\)")
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\ufeff": None,
                         "\u200b": None})
# Runs of white space other than the line break ("\s" covers tabs, form feeds, Unicode spaces).
_BLANKS = re.compile(r"[^\S\n]+")

#: A speaker prefix (label, notation, timestamps, colon) must start a line and end within this many characters;
#: header notation ("R7 (V, 26, 37w)") is looked for in the first this-many characters of a header line.
SCAN_CHARS = 500


@dataclass
class Turn:
    speaker: str           # "I" for the interviewer, "R7" for respondent 7, or a name as written ("Sofie")
    role: str              # "interviewer" | "respondent" | "other"
    text: str              # the turn's text, without the speaker prefix and timestamps
    start: int             # offset of `text` in Transcript.text
    end: int
    timestamp: str | None = None  # "00:12:31" if the turn had one


@dataclass
class Transcript:
    name: str                                   # file stem
    text: str                                   # turn texts joined by "\n\n"; the offsets refer to this
    turns: list[Turn]
    respondents: dict[str, dict[str, Any]]      # label -> attributes from inline notation ("R7 (V, 26, 37w)")
    header: str = ""                            # the lines before the first speaker, not part of `text`

    def sentences(self, include_interviewer: bool = False) -> list[tuple[Turn, Sentence]]:
        """Every turn's sentences (interviewer turns only when asked), with offsets in `self.text`."""
        found: list[tuple[Turn, Sentence]] = []
        for turn in self.turns:
            if turn.role == "interviewer" and not include_interviewer:
                continue
            for s in split_sentences(turn.text):
                found.append((turn, Sentence(s.text, turn.start + s.start, turn.start + s.end)))
        return found

    def turns_of(self, speaker: str) -> list[Turn]:
        """The turns of one speaker; `speaker` may be written any way a label can ("Respondent 7", "r7")."""
        label = normalise_label(speaker)
        return [t for t in self.turns if t.speaker == label]


@dataclass
class _Draft:
    speaker: str
    role: str
    timestamp: str | None
    paragraphs: list[list[str]] = field(default_factory=lambda: [[]])

    def add_line(self, line: str) -> None:
        self.paragraphs[-1].append(line)

    def break_paragraph(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    def text(self) -> str:
        return "\n\n".join("\n".join(p) for p in self.paragraphs if p).strip()


def parse_transcript(text: str, name: str = "", *, names: Iterable[str] | None = None,
                     speaker_roles: dict[str, str] | None = None) -> Transcript:
    """Parse a transcript's text into turns.

    `names`: speaker names to accept even when they start only one line. `speaker_roles`: label or name -> role
    ("interviewer", "respondent", "other"), overriding the role read from the label; a name listed here is a
    speaker like one in `names`.
    """
    roles = _check_roles(speaker_roles or {})
    lines = _normalise(text).split("\n")
    known_names = {n.strip().casefold() for n in (names or ()) if n.strip()}
    known_names |= {k.strip().casefold() for k in roles if classify_label(k) is None}
    speakers = _accepted_names(lines, known_names)

    drafts: list[_Draft] = []
    header: list[str] = []
    respondents: dict[str, dict[str, Any]] = {}
    pending_ts: str | None = None
    for raw in lines:
        line = raw.strip()
        if not line:
            if drafts:
                drafts[-1].break_paragraph()
            continue
        ts_only = _TS_LINE.match(line) if len(line) <= SCAN_CHARS else None
        if ts_only:
            pending_ts = _timestamp(ts_only["ts"])
            if drafts:
                drafts[-1].break_paragraph()
            continue
        speaker = _speaker_line(line, speakers)
        if speaker is None:
            pending_ts = None
            if drafts:
                ts = _TS_CONTINUATION.match(line)
                rest = line[ts.end():] if ts else line
                if rest:
                    drafts[-1].add_line(rest)
            else:
                header.append(line)
            continue
        label, role, timestamp, notation, rest = speaker
        if not drafts and _describes_respondent(rest):
            header.append(line)  # "Respondent: R7 (V, 26, 37w)" in a header describes, it does not speak
            continue
        role = roles.get(label, roles.get(label.casefold(), role))
        draft = _Draft(label, role, timestamp or pending_ts)
        pending_ts = None
        if rest:
            draft.add_line(rest)
        drafts.append(draft)
        if notation is not None and role != "interviewer" and not _is_time(notation):
            _register(respondents, label, parse_notation(notation))

    for line in header:
        for m in _HEADER_NOTATION.finditer(line[:SCAN_CHARS]):
            label = _header_label(m["label"], speakers)
            attrs = parse_notation(m["notation"])
            if label and (attrs.keys() - {"extra"}):
                _register(respondents, label, attrs)
    for draft in drafts:
        if draft.role == "respondent":
            respondents.setdefault(draft.speaker, {})

    turns: list[Turn] = []
    pieces: list[str] = []
    offset = 0
    for draft in drafts:
        body = draft.text()
        if not body:
            continue
        if pieces:
            offset += 2  # the "\n\n" between turns
        turns.append(Turn(draft.speaker, draft.role, body, offset, offset + len(body), draft.timestamp))
        pieces.append(body)
        offset += len(body)
    return Transcript(name=name, text="\n\n".join(pieces), turns=turns, respondents=respondents,
                      header="\n".join(header))


def read_transcript(path: str | Path, *, names: Iterable[str] | None = None,
                    speaker_roles: dict[str, str] | None = None) -> Transcript:
    """Read a .txt/.md (UTF-8, or cp1252 when not valid UTF-8) or .docx transcript; the name is the file stem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        text = docx_text(path)
    elif suffix in {".txt", ".md", ".markdown", ".text"}:
        text = _decode(path.read_bytes())
    else:
        raise ValueError(f"{path}: unsupported transcript format {suffix!r} (use .txt, .md or .docx)")
    return parse_transcript(text, path.stem, names=names, speaker_roles=speaker_roles)


def docx_text(path: str | Path) -> str:
    """A .docx file's body as text, in document order: paragraphs, and the cells of tables, separated by blank
    lines. A table row whose first cell is a speaker label (and maybe a timestamp cell) becomes one
    "[time] label: text" line, so transcripts typed as a speaker | text table parse like typed ones."""
    import docx  # python-docx; imported here so the text formats work without it

    blocks: list[str] = []
    _docx_blocks(docx.Document(str(path)), blocks)
    return "\n\n".join(b for b in blocks if b.strip())


def _docx_blocks(container: Any, blocks: list[str]) -> None:
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                _docx_row(row, blocks)
        else:
            blocks.append(item.text)


def _docx_row(row: Any, blocks: list[str]) -> None:
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) not in seen:  # a merged cell appears once per grid column it spans
            seen.add(id(cell._tc))
            cells.append(cell)
    texts = [c.text.strip() for c in cells]
    times = [t for t in texts[:3] if re.fullmatch(_TS_ANY, t)]  # a time column before or after the speaker
    rest = [t for i, t in enumerate(texts) if t and not (i < 3 and re.fullmatch(_TS_ANY, t))]
    if len(rest) >= 2 and "\n" not in rest[0] and len(rest[0]) <= 40 and _looks_like_label(rest[0].rstrip(":")):
        prefix = f"[{times[0].strip('[]()')}] " if times else ""
        blocks.append(f"{prefix}{rest[0].rstrip(':').strip()}: " + "\n\n".join(rest[1:]))
        return
    for cell in cells:
        if cell.tables:
            _docx_blocks(cell, blocks)
        else:
            blocks.append(cell.text)


def _looks_like_label(text: str) -> bool:
    label = text.strip()
    m = _SPEAKER_NO_COLON.fullmatch(label)
    label = m["label"] if m else label
    return classify_label(label) is not None or _name_form(label)


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark (Notepad's "Unicode")
        return raw.decode("utf-16", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _normalise(text: str) -> str:
    """Line breaks as "\n", every other run of white space one space (see the module docstring)."""
    return _BLANKS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n").translate(_SPACES))


def _check_roles(roles: dict[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, role in roles.items():
        if role not in ROLES:
            raise ValueError(f"speaker_roles[{key!r}] = {role!r}; a role is one of {', '.join(ROLES)}")
        label = normalise_label(key)
        checked[label] = role
        checked[label.casefold()] = role
    return checked


def _name_form(label: str) -> bool:
    """Whether `label` looks like a person's name: "Sofie", "Papa Tom", "Mama van Lotte", "Spreker 2"."""
    words = label.split()
    if not words or len(words) > 4 or not _NAME_WORD.fullmatch(words[0]) or not words[0][0].isupper():
        return False
    if label.casefold() in NOT_NAMES or words[0].casefold().rstrip(".") in NOT_NAMES:
        return False
    for i, word in enumerate(words[1:], 1):
        if word.isdigit() and i == len(words) - 1:
            continue
        if word.casefold() in PARTICLES:
            continue
        if not (_NAME_WORD.fullmatch(word) and word[0].isupper()):
            return False
    return True


def _name_candidate(line: str, known: set[str]) -> str | None:
    """The name a line starts with ("Sofie: ...", or "Sofie  0:05" alone), if it has the form of one or is known."""
    m = _SPEAKER.match(line[:SCAN_CHARS])
    if m is None:
        m = _SPEAKER_NO_COLON.match(line) if len(line) <= SCAN_CHARS else None
        if m is None or not (m["ts1"] or m["ts2"]):
            return None
    label = " ".join(m["label"].split())
    if classify_label(label) is None and (label.casefold() in known or _name_form(label)):
        return label
    return None


def _accepted_names(lines: list[str], known: set[str]) -> dict[str, str]:
    """casefolded name -> the label (first spelling) of every name that counts as a speaker."""
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for raw in lines:
        candidate = _name_candidate(raw.strip(), known)
        if candidate is not None:
            key = candidate.casefold()
            counts[key] += 1
            spelling.setdefault(key, candidate)
    accepted = {k: spelling[k] for k, n in counts.items() if n >= 2 and k not in NOT_NAMES}
    accepted.update({k: spelling[k] for k in known if k in spelling})
    return accepted


def _speaker_line(line: str, names: dict[str, str]):
    """(label, role, timestamp, notation, rest) when `line` starts a turn, else None. The prefix is matched in
    the first SCAN_CHARS characters; the rest of a longer line is the turn's text."""
    head, tail = line[:SCAN_CHARS], line[SCAN_CHARS:]
    m = _SPEAKER.match(head)
    if m:
        found = _label(m["label"], names)
        if found:
            ts6 = m["ts6"]
            rest = m["rest"]
            if tail and ts6:  # the time ended the cut-off head, not the line: it is part of the text
                rest, ts6 = head[m.start("ts6"):], None
            ts = m["ts1"] or m["ts2"] or m["ts3"] or m["ts4"] or m["ts5"] or ts6
            rest = (rest + tail).strip()
            if (m["bold_after"] is None and m["bold_close"] is None and line.lstrip().startswith(("**", "__"))
                    and rest.endswith(("**", "__"))):
                rest = rest[:-2].rstrip()  # "**Interviewer: the whole line bold**"
            return found[0], found[1], _timestamp(ts) if ts else None, m["notation"], rest
    m = _SPEAKER_NO_COLON.match(line) if not tail else None
    if m and (m["ts1"] or m["ts2"]):
        found = _label(m["label"], names)
        if found:
            return found[0], found[1], _timestamp(m["ts1"] or m["ts2"]), m["notation"], ""
    return None


def _label(text: str, names: dict[str, str]) -> tuple[str, str] | None:
    found = classify_label(text)
    if found:
        return found.label, found.role
    key = " ".join(text.split()).casefold()
    if key in names:
        return names[key], "other"
    return None


def _header_label(text: str, names: dict[str, str]) -> str | None:
    found = classify_label(text)
    if found and found.role == "respondent":
        return found.label
    return names.get(" ".join(text.split()).casefold())


def _register(respondents: dict[str, dict[str, Any]], label: str, attrs: dict[str, Any]) -> None:
    """Add attributes for `label`; what was found first is kept when a later notation disagrees."""
    known = respondents.setdefault(label, {})
    for key, value in attrs.items():
        if key == "extra" and key in known:
            known[key] += [v for v in value if v not in known[key]]
        else:
            known.setdefault(key, value)


def _describes_respondent(text: str) -> bool:
    m = _HEADER_NOTATION.match(text[:SCAN_CHARS])
    if m is None:
        return False
    found = classify_label(m["label"])
    return bool(found and found.role == "respondent" and parse_notation(m["notation"]).keys() - {"extra"})


def _is_time(text: str) -> bool:
    return re.fullmatch(rf"\s*{_TIME}\s*", text) is not None


def _timestamp(text: str) -> str:
    """"[00:12:31]", "(12:31)", "1:02:03.5" -> "HH:MM:SS" (two parts are minutes:seconds; fractions dropped)."""
    parts = re.sub(r"[.,]\d+$", "", text.strip(" \t[]()")).split(":")
    if len(parts) == 2:
        parts = ["0", *parts]
    return ":".join(f"{int(p):02d}" for p in parts)
