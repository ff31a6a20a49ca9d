"""Interview transcripts into the store, scored by the same model as news: `discourse ingest-interviews DIR`.

    DIR/*.txt|*.md|*.docx → read_transcript → every sentence of every turn → discourse.pipeline.score (language of
    the respondents' speech, the framing model, the document aggregate over the respondents' sentences only) → one
    transaction per transcript (document, its score, its sentences with speaker and role, its speakers with their
    attributes)

Interviewer turns are stored and scored too (a researcher may want to look at the questions), but the document
aggregate leaves them out and segment queries skip them unless asked (discourse.store.selection): the questions
are the researcher's words, not the parents'. No relevance pre-filter: an interview about early parenthood is
relevant throughout, and the filter was tuned on news. Attributes come from the transcript's own notation
("R7 (V, 26, 37w)") and from the respondents CSV, which wins on conflicts; `parent` (mother/father) is derived
from them, so a comparison can say `parent=mother`. Re-running skips transcripts this model version has scored.

Each transcript stands alone: one that cannot be read, parsed, scored or stored is rejected with a reason (once,
however often the command is repeated) and the next is read. A transcript holding NUL characters is rejected
(`nul_character`), not cleaned: in a text file they mean binary content, or UTF-16 without a byte-order mark,
and stripping them would store garbage as speech. (UTF-16 with a byte-order mark, as Notepad writes
"Unicode", is read as such.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..ingest.records import Rejection
from ..pipeline.score import Document, Refusal, ScoredDocument, score_documents
from ..pipeline.score_archive import STORE_UNAVAILABLE, RunSummary
from ..store import ScoreWriter, make_engine, upgrade
from ..store.rows import document_score_row, recorded_run, segment_score_row
from ..text import Sentence
from .respondents import merge_attributes, normalise_label, read_respondents, role_of_parent
from .transcripts import Transcript, Turn, read_transcript

TRANSCRIPT_SUFFIXES = (".txt", ".md", ".docx")


@dataclass
class InterviewSummary(RunSummary):
    transcripts: int = 0
    segments: int = 0
    respondent_segments: int = 0
    respondents_without_transcript: list[str] = field(default_factory=list)

    KEYS: ClassVar[tuple[str, ...]] = ("run_id", "transcripts", "scored", "segments", "respondent_segments",
                                       "skipped", "respondents_without_transcript", "seconds")

    def _own(self) -> dict:
        return {"transcripts": self.transcripts, "segments": self.segments,
                "respondent_segments": self.respondent_segments,
                "respondents_without_transcript": self.respondents_without_transcript}


def transcript_files(directory: str | Path) -> list[Path]:
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of transcripts")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in TRANSCRIPT_SUFFIXES
                   and not p.name.startswith((".", "~$")))  # "~$R1.docx": Word's lock file
    if not files:
        raise FileNotFoundError(f"{folder} holds no transcript ({', '.join(TRANSCRIPT_SUFFIXES)})")
    return files


def ingest_interviews(directory: str | Path, model, respondents: str | Path | None = None,
                      db_url: str | None = None, source: str = "interviews", command: str | None = None
                      ) -> InterviewSummary:
    """Score every transcript under `directory` with `model` (a FramingModel) into the store at `db_url`."""
    files = transcript_files(directory)
    register = read_respondents(respondents) if respondents else {}
    engine = make_engine(db_url)
    upgrade(engine)
    writer = ScoreWriter(engine)
    meta = model.describe()
    run_id = writer.start_run(model=meta["model"], model_version=meta["model_version"],
                              codebook_version=meta["codebook_version"], command=command,
                              parameters={"directory": str(directory), "respondents": str(respondents or ""),
                                          "source": source, "kind": "interviews"})
    summary = InterviewSummary(run_id)
    source_id = writer.ensure_source(source, "interview")
    started, seen = time.perf_counter(), set()
    with recorded_run(writer, summary, engine, started):
        for path in files:
            summary.transcripts += 1
            doc_id = f"{source}:{path.relative_to(directory).with_suffix('').as_posix()}"
            try:
                _ingest_one(writer, summary, model, meta, path, doc_id, source_id, register, seen)
            except STORE_UNAVAILABLE:
                raise  # the store is away: stop; the next run resumes
            except Exception as exc:  # noqa: BLE001 - this transcript alone fails; the others go on
                _reject(writer, summary, path, doc_id, "record_error",
                        f"scoring or storing the transcript failed: {type(exc).__name__}: {exc}"[:2000])
        summary.respondents_without_transcript = sorted(set(register) - seen)
    return summary


def _ingest_one(writer: ScoreWriter, summary: InterviewSummary, model, meta: dict, path: Path, doc_id: str,
                source_id: int, register: dict[str, dict], seen: set[str]) -> None:
    if writer.scored_document_ids([doc_id], meta["model"], meta["model_version"]):
        summary.skipped["already_scored"] += 1
        seen.update(_labels_in_register(path, register))
        return
    try:
        transcript = read_transcript(path)
    except Exception as exc:  # noqa: BLE001 - a corrupt .docx raises whatever its XML or zip library raises
        _reject(writer, summary, path, doc_id, "invalid_transcript",
                f"cannot read the transcript: {type(exc).__name__}: {exc}"[:2000])
        return
    problem = _problem(transcript)
    if problem:
        _reject(writer, summary, path, doc_id, *problem)
        return
    pairs = transcript.sentences(include_interviewer=True)
    result = _score(model, transcript, pairs)
    if isinstance(result, Refusal):
        _record(writer, summary, result.as_rejection(str(path), 0, doc_id))
        return
    speakers = _speakers(transcript, path, register)
    seen.update(s["label"] for s in speakers)
    _write(writer, summary, transcript, path, doc_id, source_id, speakers, pairs, result)


def _problem(transcript: Transcript) -> tuple[str, str] | None:
    nuls = transcript.text.count("\x00") + transcript.header.count("\x00")
    if nuls:
        return "nul_character", (f"the transcript holds {nuls} NUL character(s): a binary file, or text saved as "
                                 "UTF-16 without a byte-order mark? Save it as UTF-8 text or .docx")
    if not any(turn.role != "interviewer" for turn in transcript.turns):
        return "no_respondent_speech", "no respondent turn found (speaker labels such as 'R7:' or 'Respondent 7:')"
    return None


def _score(model, transcript: Transcript, pairs: list[tuple[Turn, Sentence]]) -> ScoredDocument | Refusal:
    """Every sentence of every turn, scored; the language is the respondents' speech's, and so is the aggregate."""
    speech = " ".join(t.text for t in transcript.turns if t.role != "interviewer")
    document = Document(None, speech, [sentence for _, sentence in pairs],
                        [turn.role != "interviewer" for turn, _ in pairs])
    return score_documents(model, [document]).results[0]


def _speakers(transcript: Transcript, path: Path, register: dict[str, dict]) -> list[dict]:
    """One row per speaker label: role and attributes (transcript notation merged with the CSV, CSV first)."""
    roles: dict[str, str] = {}
    for turn in transcript.turns:
        roles.setdefault(turn.speaker, turn.role)
    rows = []
    for label, role in roles.items():
        attributes: dict = {}
        if role != "interviewer":
            attributes = merge_attributes(transcript.respondents.get(label, {}), _register_entry(label, path, register))
            parent = role_of_parent(attributes)
            if parent:
                attributes["parent"] = parent
        rows.append({"label": label, "role": role, "attributes": attributes})
    return rows


def _register_entry(label: str, path: Path, register: dict[str, dict]) -> dict:
    """The CSV row of a speaker; a transcript that says just "R:" is matched by its file name ("R7.txt")."""
    if label in register:
        return register[label]
    if label == "R":
        return register.get(normalise_label(path.stem), {})
    return {}


def _labels_in_register(path: Path, register: dict[str, dict]) -> set[str]:
    label = normalise_label(path.stem)
    return {label} if label in register else set()


def _write(writer: ScoreWriter, summary: InterviewSummary, transcript: Transcript, path: Path, doc_id: str,
           source_id: int, speakers: list[dict], pairs: list[tuple[Turn, Sentence]], scored: ScoredDocument) -> None:
    segments = [{**segment_score_row(doc_id, row), "speaker": turn.speaker, "speaker_role": turn.role}
                for (turn, _), row in zip(pairs, scored.sentences)]
    counts = writer.write_batch(summary.run_id, [{
        "id": doc_id, "source_id": source_id, "title": path.stem, "text": transcript.text, "genre": "interview",
        "language": "nl", "meta": {"file": path.name, "header": transcript.header or None,
                                   "speakers": [s["label"] for s in speakers]}}],
        [document_score_row(doc_id, scored.document)], segments,
        [{**s, "document_id": doc_id} for s in speakers])
    if counts.conflicts:
        _reject(writer, summary, path, doc_id, "id_conflict",
                f"{doc_id!r} is stored already with a different text (the transcript changed since it was first "
                "ingested, or another folder has the same file name under this --source)")
        return
    summary.scored += 1
    summary.segments += len(segments)
    summary.respondent_segments += sum(turn.role != "interviewer" for turn, _ in pairs)


def _reject(writer: ScoreWriter, summary: InterviewSummary, path: Path, doc_id: str, code: str, reason: str) -> None:
    _record(writer, summary, Rejection(str(path), 0, doc_id, code, reason))


def _record(writer: ScoreWriter, summary: InterviewSummary, rejection: Rejection) -> None:
    writer.add_rejected(summary.run_id, **rejection.as_store_row())
    summary.skipped[rejection.reason_code] += 1
