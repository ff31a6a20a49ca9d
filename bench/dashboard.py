"""Dashboard queries: p95 latency of the main /v1/dashboard aggregations over 1,000,000 sentence rows
in SQLite, with the per-query cache and its invalidation when new scores land.

    .venv/bin/python bench/dashboard.py build [--segments 1000000] [--db PATH] [--rebuild] [--write]
    .venv/bin/python bench/dashboard.py measure [--db PATH] [--repeats 40] [--write]

`build` writes a store of `--segments` sentence rows (default ~/.cache/discourse/bench/dashboard-1m.sqlite, reused
when it already holds a finished build of that size) through the project's own store code (discourse.store: the
Alembic schema, ScoreWriter batches), so the tables and indexes are the real ones. The texts are real: the 3,481
NOS articles of ../shared/corpora/nos-wedemeyer, segmented once with discourse.segment and repeated with new ids
until the row count is reached (~43,000 documents). The rest is synthetic and seeded (numpy default_rng(0)): 32
sources (news, policy, interview collections) with their own stance mix, pass rates and frame preferences,
publication dates 2015-01-01..2025-12-31, 5 % undated interview documents with a respondent (attributes parent,
gender, age, region) and an interviewer; ~85 % of the sentences "dropped by the pre-filter" (neutral, relevance 0),
the rest scored (relevance, label, three scores summing to 1, 0-2 codebook frames); one document score per
document (as discourse/model/aggregate.py makes them, evidence included); topic assignments of a topic model "bench"
(40 topics and outliers) for the scored sentences.

`measure` starts the real server (uvicorn api.main:app on a free port, DISCOURSE_API_DATABASE_URL = the store) twice:
  1. cache off (DISCOURSE_API_DASHBOARD_CACHE_SIZE=0): the first request after start (cold), then each main
     aggregation `--repeats` times with filters drawn from a seeded RNG (random date ranges, source subsets,
     min_relevance, stances, speaker attributes), interleaved: what the server computes, not what it remembers;
  2. cache on (default settings): the same query repeated (cache hits), then a small batch of new scores written
     through ScoreWriter into the same SQLite file while the server runs, and how long until the summary shows
     the new rows (invalidation). The batch is deleted from the store again after the server stops.
Peak RSS is the server process's VmHWM (/proc). `--write` merges the figures into bench/results/dashboard.json.
Needs ../shared/corpora/nos-wedemeyer for `build`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from sentences import NOS, ROOT, merge_result  # noqa: E402  (puts the repo on sys.path)
from service import free_port, percentiles  # noqa: E402

from discourse.codebook import STANCES, load_codebook
from discourse.segment import split_sentences
from discourse.settings import discourse_home
from discourse.store import ScoreWriter, make_engine, upgrade
from discourse.store.schema import TopicAssignment
from discourse.store.writer import dialect_insert

RESULTS = ROOT / "bench" / "results" / "dashboard.json"
APP = "api.main:app"
MODEL, MODEL_VERSION = "framing-e5-small", "bench-synthetic"
TOPIC_MODEL, N_TOPICS = "bench", 40
DATE_MIN, DATE_MAX = dt.date(2015, 1, 1), dt.date(2025, 12, 31)
SEGMENTS_PER_BATCH = 5000  # rows per write_batch transaction (whole documents, so a little more)
INTERVIEW_SHARE = 0.05
FRESH_PREFIX = "bench-fresh-"  # ids of the documents `measure` adds to test invalidation (deleted afterwards)

# (name, kind); kind is also the documents' genre. Roughly in order of size: weights fall off as 1/rank^0.8.
SOURCES = [
    ("NOS", "news"), ("Het Laatste Nieuws", "news"), ("Het Nieuwsblad", "news"), ("De Standaard", "news"),
    ("AD", "news"), ("De Telegraaf", "news"), ("VRT NWS", "news"), ("de Volkskrant", "news"),
    ("Kind en Gezin", "policy"), ("De Morgen", "news"), ("NU.nl", "news"), ("Gazet van Antwerpen", "news"),
    ("Opgroeien", "policy"), ("NRC", "news"), ("Het Belang van Limburg", "news"), ("Trouw", "news"),
    ("Vlaamse Regering", "policy"), ("Het Parool", "news"), ("Knack", "news"), ("Rijksoverheid", "policy"),
    ("Ouders van Nu", "news"), ("Libelle", "news"), ("Huis van het Kind", "policy"), ("Vlaams Parlement", "policy"),
    ("Nederlands Jeugdinstituut", "policy"), ("RIVM", "policy"), ("Gezinsbond", "policy"), ("HUMO", "news"),
    ("Flair", "news"),
]
INTERVIEW_SOURCES = [("Interviews jonge ouders Vlaanderen", "interview"),
                     ("Interviews jonge ouders Nederland", "interview"), ("Focusgroepen ouders", "interview")]
PASS_RATE = {"news": 0.11, "policy": 0.30, "interview": 0.45}  # share of sentences the pre-filter lets through
REGIONS = ["Antwerpen", "Limburg", "Oost-Vlaanderen", "Vlaams-Brabant", "West-Vlaanderen", "Brussel", "Utrecht",
           "Noord-Holland", "Zuid-Holland", "Gelderland"]


def shown(path: Path) -> str:
    """A path as recorded in the results: under the home folder as ~/..., so results name no user."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)


def default_db(segments: int) -> Path:
    label = f"{segments // 1_000_000}m" if segments % 1_000_000 == 0 else str(segments)
    return discourse_home() / "bench" / f"dashboard-{label}.sqlite"


# -- build ------------------------------------------------------------------------------------------------------

def nos_segmented() -> tuple[list[dict], float]:
    """The NOS articles with their sentences (discourse.segment), and the seconds segmentation took."""
    if not NOS.is_dir():
        raise SystemExit(f"`build` needs {NOS} (the shared NOS corpus); it is not there")
    articles, seconds = [], 0.0
    for path in sorted(NOS.glob("nos_articles_*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                record = json.loads(line)
                text = (record.get("text") or "").replace("\x00", " ")
                started = time.perf_counter()
                sentences = split_sentences(text)
                seconds += time.perf_counter() - started
                if sentences:
                    articles.append({"id": f"{path.stem}-{line_no}", "title": record.get("title"), "text": text,
                                     "sentences": sentences})
    return articles, seconds


def finished_build(db: Path, segments: int) -> dict | None:
    """The finished build run of `segments` rows in `db`, if its rows are all there."""
    if not db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            for run_id, parameters, counts in conn.execute(
                    "SELECT id, parameters, counts FROM runs WHERE state = 'finished' ORDER BY id"):
                parameters = json.loads(parameters or "null") or {}
                if parameters.get("bench") == "dashboard" and parameters.get("segments") == segments:
                    stored = conn.execute("SELECT COUNT(*) FROM segment_scores WHERE run_id = ?",
                                          (run_id,)).fetchone()[0]
                    if stored == segments:
                        return {"run_id": run_id, **(json.loads(counts) if counts else {})}
    except sqlite3.DatabaseError:
        return None
    return None


class Synthesizer:
    """Seeded, source-dependent scores for real sentences."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        codebook = load_codebook()
        self.codebook_version = codebook.version
        self.side_frames = {"pressuring": list(codebook.pressuring_frames),
                            "supportive": list(codebook.supportive_frames),
                            "neutral": list(codebook.frames)}
        self.sources = SOURCES + INTERVIEW_SOURCES
        n = len(self.sources)
        # Per source: P(pressuring, supportive, neutral | relevant sentence), so that sources really differ.
        self.stance_mix = rng.dirichlet([2.0, 2.0, 3.0], size=n)
        # Per source and side: which frames it leans on.
        self.frame_weights = {side: rng.dirichlet(np.full(len(frames), 0.8), size=n)
                              for side, frames in self.side_frames.items()}
        # Per stance: topic distribution (Zipf-like over 40 topics, shuffled per stance), outliers 30 %.
        base = 1.0 / np.arange(1, N_TOPICS + 1) ** 0.9
        self.topic_p = {s: rng.permutation(base) / base.sum() for s in STANCES}
        weights = np.array([1.0 / (rank + 1) ** 0.8 for rank in range(len(SOURCES))])
        self.news_policy_p = weights / weights.sum()
        self.n_dated = len(SOURCES)

    def document_meta(self, i: int) -> dict:
        """Source, genre, date and (interviews) respondent of document number i."""
        rng = self.rng
        if rng.random() < INTERVIEW_SHARE:
            source = self.n_dated + int(rng.integers(len(INTERVIEW_SOURCES)))
            parent = "mother" if rng.random() < 0.65 else "father"
            attributes = {"parent": parent, "gender": "V" if parent == "mother" else "M",
                          "age": int(rng.integers(21, 46)), "region": REGIONS[int(rng.integers(len(REGIONS)))]}
            return {"source": source, "kind": "interview", "published": None, "respondent": attributes}
        source = int(rng.choice(self.n_dated, p=self.news_policy_p))
        published = DATE_MIN + dt.timedelta(days=int(rng.integers((DATE_MAX - DATE_MIN).days + 1)))
        return {"source": source, "kind": self.sources[source][1], "published": published, "respondent": None}

    def sentence_scores(self, source: int, kind: str, n: int, interviewer: np.ndarray) -> dict:
        """Arrays for n sentences of one document."""
        rng = self.rng
        rate = np.where(interviewer, 0.15, PASS_RATE[kind])
        passed = rng.random(n) < rate
        relevance = np.where(passed, np.round(rng.beta(2.2, 1.8, n), 4), 0.0)
        mix = self.stance_mix[source]
        u = rng.random(n)
        # Below the relevance threshold a sentence is mostly neutral; above, the source's own mix.
        damp = np.where(relevance >= 0.5, 1.0, 0.3)
        p_press, p_supp = mix[0] * damp, mix[1] * damp
        label = np.where(u < p_press, 0, np.where(u < p_press + p_supp, 1, 2))  # 0 pressuring, 1 supportive
        label = np.where(passed, label, 2)
        top = 0.5 + 0.45 * rng.beta(2.0, 2.0, n)  # the label's score: always the largest
        rest = rng.dirichlet([1.0, 1.0], size=n) * (1.0 - top)[:, None]
        scores = np.zeros((n, 3))
        order = {0: (0, 1, 2), 1: (1, 0, 2), 2: (2, 0, 1)}  # (label, other, other) as indexes of press, supp, neu
        for lab, (a, b, c) in order.items():
            rows = label == lab
            scores[rows, a], scores[rows, b], scores[rows, c] = top[rows], rest[rows, 0], rest[rows, 1]
        scores[~passed] = (0.0, 0.0, 1.0)
        scores = np.round(scores, 4)
        return {"passed": passed, "relevance": relevance, "label": label, "scores": scores}

    def frames_for(self, source: int, stance: str) -> dict[str, float] | None:
        rng = self.rng
        k = int(rng.choice(3, p=[0.25, 0.55, 0.20])) if stance != "neutral" else int(rng.random() < 0.15)
        if not k:
            return None
        names = self.side_frames[stance]
        chosen = rng.choice(len(names), size=k, replace=False, p=self.frame_weights[stance][source])
        return {names[j]: round(float(rng.uniform(0.5, 0.99)), 4) for j in chosen}

    def topic_for(self, stance: str) -> int:
        if self.rng.random() < 0.3:
            return -1
        return int(self.rng.choice(N_TOPICS, p=self.topic_p[stance]))


STANCE_BY_INDEX = ("pressuring", "supportive", "neutral")


def make_document(doc_id: str, article: dict, sentences: list, meta: dict, source_id: int, syn: Synthesizer
                  ) -> tuple[dict, dict, list[dict], list[dict], list[tuple[int, int]]]:
    """Rows for one document: (document, document score, segment scores, speakers, (position, topic))."""
    n = len(sentences)
    speakers: list[dict] = []
    if meta["kind"] == "interview":
        # A transcript: each sentence one turn, about 30 % of them the interviewer's.
        interviewer = syn.rng.random(n) < 0.3
        parts, spans, pos = [], [], 0
        for sentence, is_i in zip(sentences, interviewer):
            prefix = "I: " if is_i else "R1: "
            start = pos + len(prefix)
            parts.append(prefix + sentence.text)
            spans.append((start, start + len(sentence.text)))
            pos += len(parts[-1]) + 1
        text = "\n".join(parts)
        speakers = [{"document_id": doc_id, "label": "R1", "role": "respondent", "attributes": meta["respondent"]},
                    {"document_id": doc_id, "label": "I", "role": "interviewer", "attributes": None}]
    else:
        interviewer = np.zeros(n, dtype=bool)
        text = article["text"]
        spans = [(s.start, s.end) for s in sentences]
    arrays = syn.sentence_scores(meta["source"], meta["kind"], n, interviewer)
    segments, topics = [], []
    frames_of: list[dict | None] = []
    for position, (sentence, (start, end)) in enumerate(zip(sentences, spans)):
        stance = STANCE_BY_INDEX[int(arrays["label"][position])]
        passed = bool(arrays["passed"][position])
        frames = syn.frames_for(meta["source"], stance) if passed else None
        frames_of.append(frames)
        press, supp, neu = (float(v) for v in arrays["scores"][position])
        row = {"document_id": doc_id, "position": position, "start": start, "end": end, "text": sentence.text,
               "label": stance, "score_supportive": supp, "score_pressuring": press, "score_neutral": neu,
               "relevance": float(arrays["relevance"][position]), "frames": frames, "passed_prefilter": passed}
        if meta["kind"] == "interview":
            row["speaker"], row["speaker_role"] = ("I", "interviewer") if interviewer[position] else ("R1",
                                                                                                     "respondent")
        segments.append(row)
        if passed:
            topics.append((position, syn.topic_for(stance)))
    document = {"id": doc_id, "source_id": source_id, "title": article["title"], "text": text,
                "url": f"https://example.org/bench/{doc_id}", "published": meta["published"], "genre": meta["kind"],
                "language": "nl", "meta": {"bench": "dashboard", "base": article["id"]}}
    return document, document_score(doc_id, segments, frames_of, arrays), segments, speakers, topics


def document_score(doc_id: str, segments: list[dict], frames_of: list, arrays: dict) -> dict:
    """A document_scores row the way discourse/model/aggregate.py and store/rows.document_score_row make one:
    relevance-weighted stance, the most relevant sentence's relevance, frame profile and evidence."""
    relevance = arrays["relevance"]
    # Columns in STANCES order (supportive, pressuring, neutral) from the arrays' (pressuring, supportive, neutral).
    scores = arrays["scores"][:, [1, 0, 2]]
    doc_relevance = float(relevance.max())
    if relevance.sum() > 0:
        given_relevant = (relevance / relevance.sum()) @ scores
    else:
        given_relevant = np.array([0.0, 0.0, 1.0])
    doc_scores = given_relevant * doc_relevance
    doc_scores[2] += 1.0 - doc_relevance
    relevant = relevance >= 0.5
    n_relevant = int(relevant.sum())
    frame_hits: dict[str, list[float]] = {}
    for is_relevant, frames in zip(relevant, frames_of):
        if is_relevant and frames:
            for name, value in frames.items():
                frame_hits.setdefault(name, []).append(value)
    frames = sorted(({"frame": name, "score": max(values), "share": round(len(values) / max(n_relevant, 1), 4)}
                     for name, values in frame_hits.items()), key=lambda f: -f["score"])
    evidence = {}
    for side in ("pressuring", "supportive"):
        ranked = sorted((s for s in segments if s["label"] == side), key=lambda s: -s[f"score_{side}"])
        evidence[side] = [{"sentence": s["text"], "start": s["start"], "end": s["end"], "score": s[f"score_{side}"],
                           "relevance": s["relevance"], "frames": list(s["frames"] or {})} for s in ranked[:3]]
    return {"document_id": doc_id, "label": STANCES[int(doc_scores.argmax())],
            **{f"score_{s}": round(float(v), 4) for s, v in zip(STANCES, doc_scores)},
            "relevance": round(doc_relevance, 4), "n_sentences": len(segments), "n_relevant": n_relevant,
            "evidence": evidence,
            "frames": {"frames": frames,
                       "stance_given_relevant": {s: round(float(v), 4) for s, v in zip(STANCES, given_relevant)}}}


def write_topics(engine, rows: list[dict]) -> None:
    if not rows:
        return
    insert = dialect_insert(engine)
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
        conn.execute(insert(TopicAssignment.__table__).on_conflict_do_nothing(
            index_elements=["topic_model", "document_id", "position"]), rows)


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def build(db: Path, segments: int, rebuild: bool) -> dict:
    existing = None if rebuild else finished_build(db, segments)
    if existing is not None:
        print(f"{db}: a finished build of {segments:,} segments is there (run {existing['run_id']}); reusing it "
              f"(--rebuild to write it again)", file=sys.stderr)
        return {"reused": True, "db": shown(db), **existing}
    if db.exists():
        print(f"{db}: exists without a finished build of {segments:,} segments; writing it again", file=sys.stderr)
        remove_db(db)
    started = time.perf_counter()
    articles, segment_seconds = nos_segmented()
    print(f"segmented {len(articles):,} NOS articles ({sum(len(a['sentences']) for a in articles):,} sentences) "
          f"in {segment_seconds:.1f} s", file=sys.stderr)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    writer = ScoreWriter(engine)
    syn = Synthesizer(np.random.default_rng(0))
    source_ids = [writer.ensure_source(name, kind) for name, kind in syn.sources]
    command = f"bench/dashboard.py build --segments {segments}"
    run_id = writer.start_run(model=MODEL, model_version=MODEL_VERSION, codebook_version=syn.codebook_version,
                              command=command, parameters={"bench": "dashboard", "segments": segments, "seed": 0})
    written = n_docs = n_speaker_docs = n_topics = n_passed = 0
    labels: Counter = Counter()
    batch: dict[str, list] = {"documents": [], "doc_scores": [], "segment_scores": [], "speakers": [], "topics": []}
    write_seconds = 0.0
    last_print = time.perf_counter()

    def flush() -> None:
        nonlocal write_seconds
        t = time.perf_counter()
        writer.write_batch(run_id, batch["documents"], batch["doc_scores"], batch["segment_scores"],
                           batch["speakers"])
        write_topics(engine, batch["topics"])
        write_seconds += time.perf_counter() - t
        for rows in batch.values():
            rows.clear()

    while written < segments:
        article = articles[n_docs % len(articles)]
        sentences = article["sentences"][:segments - written]
        doc_id = f"bench-{n_docs:06d}"
        meta = syn.document_meta(n_docs)
        document, doc_score, rows, speakers, topics = make_document(
            doc_id, article, sentences, meta, source_ids[meta["source"]], syn)
        batch["documents"].append(document)
        batch["doc_scores"].append(doc_score)
        batch["segment_scores"].extend(rows)
        batch["speakers"].extend(speakers)
        batch["topics"].extend({"topic_model": TOPIC_MODEL, "document_id": doc_id, "position": p, "topic": t}
                               for p, t in topics)
        n_speaker_docs += bool(speakers)
        n_topics += len(topics)
        n_passed += sum(r["passed_prefilter"] for r in rows)
        labels.update(r["label"] for r in rows if r["passed_prefilter"])
        written += len(rows)
        n_docs += 1
        if len(batch["segment_scores"]) >= SEGMENTS_PER_BATCH:
            flush()
            if time.perf_counter() - last_print > 10:
                last_print = time.perf_counter()
                elapsed = last_print - started
                print(f"  {written:,} / {segments:,} segments, {n_docs:,} documents, {elapsed:.0f} s "
                      f"({written / elapsed:,.0f} rows/s)", file=sys.stderr)
    if batch["documents"]:
        flush()
    counts = {"documents": n_docs, "segments": written, "interview_documents": n_speaker_docs,
              "passed_prefilter": n_passed, "passed_share": round(n_passed / written, 4),
              "passed_labels": dict(labels), "topic_assignments": n_topics,
              "sources": len(source_ids)}
    seconds = time.perf_counter() - started
    writer.finish_run(run_id, "finished", {**counts, "seconds": round(seconds, 1)})
    engine.dispose()
    size_mb = sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists()) / 1e6
    return {"command": command, "db": shown(db), "reused": False, "run_id": run_id, **counts,
            "build_seconds": round(seconds, 1), "segmentation_seconds": round(segment_seconds, 1),
            "write_seconds": round(write_seconds, 1), "rows_per_second": round(written / seconds),
            "size_mb": round(size_mb), "segments_per_batch": SEGMENTS_PER_BATCH}


# -- measure ----------------------------------------------------------------------------------------------------

def proc_status(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process, MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {key: round(int(m[1]) / 1024) for key in ("VmRSS", "VmHWM")
            if (m := re.search(rf"{key}:\s+(\d+)", status))}


class Server:
    """`uvicorn api.main:app` on a free port against the bench store (the wait loop of tests/conftest.py)."""

    def __init__(self, db: Path, log_path: Path, env: dict[str, str]):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", APP, "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, "DISCOURSE_API_DATABASE_URL": f"sqlite:///{db}", **env},
            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)

    def wait_ready(self, seconds: float = 600) -> float:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the server exited: " + self.log()[-2000:])
            try:
                if httpx.get(f"{self.base}/v1/ready", timeout=2).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit("the server did not become ready: " + self.log()[-2000:])

    def memory(self) -> dict:
        return proc_status(self.process.pid)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed_get(client: httpx.Client, path: str, params) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    response.read()
    return (time.perf_counter() - started) * 1000, response


class QueryDrawer:
    """Filters drawn from a seeded RNG: each request a different query, so no per-query cache can serve it."""

    def __init__(self, seed: int, sources: list[str], frames: list[str], attributes: dict[str, list[str]]):
        self.rng = random.Random(seed)
        self.sources, self.frames, self.attributes = sources, frames, attributes

    def dates(self) -> list[tuple[str, str]]:
        rng = self.rng
        span = (DATE_MAX - DATE_MIN).days
        start = DATE_MIN + dt.timedelta(days=rng.randrange(span))
        end = min(start + dt.timedelta(days=rng.choice([31, 92, 365, 3 * 365, 11 * 365])), DATE_MAX)
        return [("date_from", start.isoformat()), ("date_to", end.isoformat())]

    def filters(self, dated: bool = True) -> list[tuple[str, str]]:
        rng = self.rng
        params: list[tuple[str, str]] = []
        if dated and rng.random() < 0.6:
            params += self.dates()
        if rng.random() < 0.4:
            params += [("source", s) for s in rng.sample(self.sources, rng.randint(1, 6))]
        elif rng.random() < 0.2:
            params.append(("genre", rng.choice(["news", "policy"])))
        params.append(("min_relevance", rng.choice(["0", "0.3", "0.5", "0.5", "0.7", "0.9"])))
        if rng.random() < 0.3:
            params += [("stance", s) for s in rng.sample(list(STANCES), rng.randint(1, 2))]
        if rng.random() < 0.1:
            params.append(("frame", rng.choice(self.frames)))
        return params

    def speaker_filters(self) -> list[tuple[str, str]]:
        """Interviews are undated, so no date range; one or two speaker attributes instead."""
        rng = self.rng
        params = [("min_relevance", rng.choice(["0", "0.3", "0.5", "0.7"]))]
        for key in rng.sample(sorted(self.attributes), rng.randint(1, 2)):
            params.append(("speaker", f"{key}:{rng.choice(self.attributes[key])}"))
        if rng.random() < 0.3:
            params += [("stance", s) for s in rng.sample(list(STANCES), rng.randint(1, 2))]
        if rng.random() < 0.3:
            params.append(("role", rng.choice(["respondent", "interviewer"])))
        return params


def endpoints(drawer: QueryDrawer) -> dict[str, tuple[str, callable]]:
    """name -> (path, a function drawing one request's params)."""
    return {
        "summary": ("/v1/dashboard/summary", lambda: drawer.filters()),
        "timeseries_month": ("/v1/dashboard/timeseries", lambda: [("period", "month")] + drawer.filters()),
        "timeseries_week": ("/v1/dashboard/timeseries", lambda: [("period", "week")] + drawer.filters()),
        "groups_source_share_pressuring": ("/v1/dashboard/groups", lambda: [
            ("by", "source"), ("sort", "share_pressuring")] + drawer.filters()),
        "groups_frame": ("/v1/dashboard/groups", lambda: [("by", "frame")] + drawer.filters()),
        "matrix_frame_source": ("/v1/dashboard/matrix", lambda: [
            ("rows", "frame"), ("cols", "source")] + drawer.filters()),
        "documents_share_pressuring": ("/v1/dashboard/documents", lambda: [
            ("sort", "-share_pressuring"), ("page", str(drawer.rng.randint(1, 3)))] + drawer.filters()),
        "groups_topic": ("/v1/dashboard/groups", lambda: [
            ("by", "topic"), ("topic_model", TOPIC_MODEL)] + drawer.filters()),
        "groups_attr_parent_speaker": ("/v1/dashboard/groups", lambda: [
            ("by", "attr:parent")] + drawer.speaker_filters()),
    }


def store_facts(db: Path) -> dict:
    """What the store holds, counted with plain SQL: the figures the API's answers are checked against."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        one = lambda sql, *args: conn.execute(sql, args).fetchone()[0]  # noqa: E731
        version = one("SELECT model_version FROM document_scores GROUP BY model_version "
                      "ORDER BY MIN(scored_at) DESC LIMIT 1")
        return {
            "model_version": version,
            "segments": one("SELECT COUNT(*) FROM segment_scores WHERE model_version = ?", version),
            "documents": one("SELECT COUNT(*) FROM documents"),
            # The summary's defaults: min_relevance 0.5, every role but interviewer.
            "default_summary_n": one(
                "SELECT COUNT(*) FROM segment_scores WHERE model_version = ? AND relevance >= 0.5 "
                "AND (speaker_role IS NULL OR speaker_role != 'interviewer')", version),
            "all_roles_but_interviewer_n": one(
                "SELECT COUNT(*) FROM segment_scores WHERE model_version = ? "
                "AND (speaker_role IS NULL OR speaker_role != 'interviewer')", version),
            "sources": [row[0] for row in conn.execute("SELECT name FROM sources ORDER BY name")],
        }


def options(client: httpx.Client, facts: dict) -> tuple[float, dict, list[str]]:
    """GET /options (timed) and what the query drawer needs from it; falls back to the store's facts."""
    ms, response = timed_get(client, "/v1/dashboard/options", None)
    data = response.json() if response.status_code == 200 else {}
    attributes = data.get("speaker_attributes") or {"parent": ["mother", "father"], "gender": ["V", "M"],
                                                    "region": REGIONS[:4]}
    attributes = {k: [str(v) for v in values][:12] for k, values in attributes.items() if values}
    attributes.pop("age", None)
    sources = [s["name"] for s in data.get("sources", [])] or facts["sources"]
    return ms, {"sources": sources, "attributes": attributes}, ([] if response.status_code == 200 else
                                                                [f"options: {response.status_code} "
                                                                 f"{response.text[:200]}"])


def run_varied(client: httpx.Client, drawer: QueryDrawer, repeats: int) -> dict:
    """Each endpoint `repeats` times, round robin, a new query every time."""
    specs = endpoints(drawer)
    timings: dict[str, list[float]] = {name: [] for name in specs}
    slowest: dict[str, tuple[float, str]] = {}
    errors: dict[str, list[str]] = {name: [] for name in specs}
    cache: dict[str, Counter] = {name: Counter() for name in specs}
    for i in range(repeats):
        for name, (path, draw) in specs.items():
            params = draw()
            try:
                ms, response = timed_get(client, path, params)
            except httpx.HTTPError as exc:
                errors[name].append(repr(exc))
                continue
            cache[name][response.headers.get("x-cache", "(none)")] += 1
            if response.status_code != 200:
                errors[name].append(f"{response.status_code} {path}?{httpx.QueryParams(params)}: "
                                    f"{response.text[:200]}")
                continue
            timings[name].append(ms)
            if ms > slowest.get(name, (0.0, ""))[0]:
                slowest[name] = (ms, f"{path}?{httpx.QueryParams(params)}")
        print(f"  round {i + 1}/{repeats}: " + ", ".join(
            f"{name} {timings[name][-1]:.0f}" for name in specs if timings[name]) + " ms", file=sys.stderr)
    out = {}
    for name, (path, _) in specs.items():
        first = round(timings[name][0], 1) if timings[name] else None
        out[name] = {"path": path, **percentiles(timings[name]), "first_ms": first, "errors": len(errors[name]),
                     "x_cache": dict(cache[name]), "slowest": slowest.get(name, (0, None))[1]}
        if errors[name]:
            out[name]["first_errors"] = errors[name][:3]
    return out


def run_hits(client: httpx.Client, drawer: QueryDrawer, repeats: int) -> dict:
    """Per endpoint: one query (drawn once) sent `repeats` + 1 times; the first is a miss, the rest should hit."""
    out = {}
    for name, (path, draw) in endpoints(drawer).items():
        params = draw()
        first_ms, response = timed_get(client, path, params)
        if response.status_code != 200:
            out[name] = {"error": f"{response.status_code}: {response.text[:200]}"}
            continue
        times, states = [], Counter()
        for _ in range(repeats):
            ms, response = timed_get(client, path, params)
            times.append(ms)
            states[response.headers.get("x-cache", "(none)")] += 1
        out[name] = {"first_ms": round(first_ms, 1), **percentiles(times), "x_cache": dict(states)}
    return out


def fresh_batch(db: Path, n_docs: int) -> tuple[int, float]:
    """Write `n_docs` new NOS-like documents with every sentence scored (relevance >= 0.5) through ScoreWriter into
    the store the server reads; returns (segments written, perf_counter when the batch was committed)."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    engine = make_engine(f"sqlite:///{db}")
    writer = ScoreWriter(engine)
    source_id = writer.ensure_source("NOS", "news")
    run_id = writer.start_run(model=MODEL, model_version=MODEL_VERSION, command="bench/dashboard.py measure",
                              parameters={"bench": "dashboard-fresh"})
    text = ("Jonge ouders voelen veel druk om het perfect te doen. De eerste duizend dagen zouden alles bepalen. "
            "Kind en Gezin wil ouders vooral geruststellen. Een goed genoeg ouder is genoeg.")
    sentences = split_sentences(text)
    documents, doc_scores, segments = [], [], []
    for i in range(n_docs):
        doc_id = f"{FRESH_PREFIX}{stamp}-{i}"
        documents.append({"id": doc_id, "source_id": source_id, "title": "nieuw", "text": text,
                          "published": dt.date(2025, 12, 1), "genre": "news", "language": "nl"})
        doc_scores.append({"document_id": doc_id, "label": "pressuring", "score_supportive": 0.2,
                           "score_pressuring": 0.7, "score_neutral": 0.1, "relevance": 0.9,
                           "n_sentences": len(sentences), "n_relevant": len(sentences)})
        for position, s in enumerate(sentences):
            segments.append({"document_id": doc_id, "position": position, "start": s.start, "end": s.end,
                             "text": s.text, "label": "pressuring", "score_supportive": 0.2, "score_pressuring": 0.7,
                             "score_neutral": 0.1, "relevance": 0.9, "frames": {"perfect_parent": 0.8}})
    writer.write_batch(run_id, documents, doc_scores, segments)
    committed = time.perf_counter()
    writer.finish_run(run_id, "finished", {"scored": n_docs})
    engine.dispose()
    return len(segments), committed


def delete_fresh(db: Path) -> int:
    """Take the invalidation test's documents out of the store again (after the server stopped)."""
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM documents WHERE id LIKE ?", (FRESH_PREFIX + "%",))]
        for table in ("topic_assignments", "speakers", "segment_scores", "document_scores"):
            conn.executemany(f"DELETE FROM {table} WHERE document_id = ?", [(i,) for i in ids])
        conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in ids])
        conn.execute("DELETE FROM runs WHERE parameters LIKE '%dashboard-fresh%'")
    return len(ids)


def run_invalidation(client: httpx.Client, db: Path, n_docs: int = 10, timeout: float = 120) -> dict:
    """Summary (default filters) cached; new scores written by another process; how long until it shows them."""
    path = "/v1/dashboard/summary"
    client.get(path)
    before_ms, before = timed_get(client, path, None)
    if before.status_code != 200:
        return {"error": f"{before.status_code}: {before.text[:200]}"}
    n_before = before.json().get("n")
    added, written = fresh_batch(db, n_docs)
    polls, stale = [], 0
    while time.perf_counter() - written < timeout:
        ms, response = timed_get(client, path, None)
        polls.append((ms, response.headers.get("x-cache")))
        if response.status_code == 200 and response.json().get("n") == n_before + added:
            visible = time.perf_counter() - written
            after_ms, again = timed_get(client, path, None)
            # New rows also drop the snapshot's derived columns: the first by=topic query after them reloads the
            # topic assignments; a second (different, so uncached) one shows the query without that reload.
            topic = [("by", "topic"), ("topic_model", TOPIC_MODEL)]
            topic_first_ms, topic_response = timed_get(client, "/v1/dashboard/groups", topic + [
                ("min_relevance", "0.51")])
            topic_second_ms, _ = timed_get(client, "/v1/dashboard/groups", topic + [("min_relevance", "0.52")])
            return {"documents_added": n_docs, "segments_added": added, "n_before": n_before,
                    "n_after": n_before + added, "before_ms": round(before_ms, 1),
                    "before_x_cache": before.headers.get("x-cache"),
                    "seconds_until_visible": round(visible, 3), "stale_responses": stale,
                    "refresh_request_ms": round(ms, 1), "refresh_x_cache": response.headers.get("x-cache"),
                    "next_request_ms": round(after_ms, 1), "next_x_cache": again.headers.get("x-cache"),
                    "groups_topic_first_after_refresh_ms": round(topic_first_ms, 1),
                    "groups_topic_first_after_refresh_status": topic_response.status_code,
                    "groups_topic_second_after_refresh_ms": round(topic_second_ms, 1)}
        stale += 1
        time.sleep(0.05)
    return {"documents_added": n_docs, "segments_added": added, "n_before": n_before,
            "error": f"the summary did not show the {added} new segments within {timeout:.0f} s "
                     f"({stale} stale responses; last: {polls[-1] if polls else None})"}


def start(db: Path, tmp: Path, name: str, env: dict[str, str], facts: dict) -> tuple[Server, dict]:
    """A server, ready, and its cold figures: start-up time, the first summary, RSS before and after it."""
    server = Server(db, tmp / f"{name}.log", env)
    try:
        return server, cold_figures(server, facts)
    except BaseException:
        server.stop()
        raise


def cold_figures(server: Server, facts: dict) -> dict:
    ready = server.wait_ready()
    rss_ready = server.memory()
    client = httpx.Client(base_url=server.base, timeout=600)
    first_ms, response = timed_get(client, "/v1/dashboard/summary", None)
    cold = {"seconds_to_ready": round(ready, 1), "first_summary_ms": round(first_ms, 1),
            "first_summary_status": response.status_code, "rss_mb_at_ready": rss_ready.get("VmRSS"),
            "rss_mb_after_first_summary": server.memory().get("VmRSS")}
    if response.status_code == 200:
        body = response.json()
        cold["first_summary_n"] = body.get("n")
        cold["summary_n_matches_store"] = body.get("n") == facts["default_summary_n"]
        if not cold["summary_n_matches_store"]:
            print(f"warning: summary n = {body.get('n')}, the store's own count {facts['default_summary_n']}",
                  file=sys.stderr)
    else:
        cold["first_summary_error"] = response.text[:300]
    second_ms, _ = timed_get(client, "/v1/dashboard/summary", [("min_relevance", "0.42")])
    cold["second_summary_ms"] = round(second_ms, 1)
    client.close()
    return cold


def measure(db: Path, repeats: int, hit_repeats: int, seed: int) -> dict:
    if not db.exists():
        raise SystemExit(f"{db} does not exist: run `bench/dashboard.py build` first")
    facts = store_facts(db)
    print(f"store: {facts['segments']:,} segments, {facts['documents']:,} documents, version "
          f"{facts['model_version']}", file=sys.stderr)
    codebook = load_codebook()
    result: dict = {"command": f"bench/dashboard.py measure --repeats {repeats}", "db": shown(db),
                    "store": {k: v for k, v in facts.items() if k != "sources"}, "repeats": repeats,
                    "load_average_before": load_average()}
    with tempfile.TemporaryDirectory(prefix="discourse-bench-dashboard-") as folder:
        tmp = Path(folder)
        # 1. Cache off: cold start, then varied queries (computation).
        print("server 1: cache off (DISCOURSE_API_DASHBOARD_CACHE_SIZE=0)", file=sys.stderr)
        server, cold = start(db, tmp, "nocache", {"DISCOURSE_API_DASHBOARD_CACHE_SIZE": "0"}, facts)
        try:
            with httpx.Client(base_url=server.base, timeout=600) as client:
                options_ms, drawn, errors = options(client, facts)
                drawer = QueryDrawer(seed, drawn["sources"], list(codebook.frames), drawn["attributes"])
                result["cache_off"] = {"cold": cold, "options_ms": round(options_ms, 1),
                                       "endpoints": run_varied(client, drawer, repeats)}
                if errors:
                    result["cache_off"]["errors"] = errors
            result["cache_off"]["rss_mb"] = server.memory()
            # The server holds the classification model too (~1.6 GB): the dashboard's share is the growth
            # from /v1/ready (model loaded, no dashboard snapshot yet) to the peak after the queries.
            result["cache_off"]["rss_mb_growth_after_ready"] = (result["cache_off"]["rss_mb"].get("VmHWM", 0)
                                                                - (cold.get("rss_mb_at_ready") or 0))
        finally:
            server.stop()
        # 2. Cache on (the default): hits, then invalidation by a write from another process.
        print("server 2: cache on (default settings)", file=sys.stderr)
        server, cold = start(db, tmp, "cache", {}, facts)
        try:
            with httpx.Client(base_url=server.base, timeout=600) as client:
                drawer = QueryDrawer(seed + 1, drawn["sources"], list(codebook.frames), drawn["attributes"])
                result["cache_on"] = {"cold": cold, "hits": run_hits(client, drawer, hit_repeats),
                                      "invalidation": run_invalidation(client, db)}
            result["cache_on"]["rss_mb"] = server.memory()
            result["cache_on"]["rss_mb_growth_after_ready"] = (result["cache_on"]["rss_mb"].get("VmHWM", 0)
                                                               - (cold.get("rss_mb_at_ready") or 0))
        finally:
            server.stop()
            removed = delete_fresh(db)
            print(f"removed the {removed} documents the invalidation test added", file=sys.stderr)
    result["load_average_after"] = load_average()  # 1, 5, 15 minutes: how busy the machine was meanwhile
    result["peak_rss_mb"] = max(result["cache_off"]["rss_mb"].get("VmHWM", 0),
                                result["cache_on"]["rss_mb"].get("VmHWM", 0))
    ep = result["cache_off"]["endpoints"]
    p95s = [e["p95"] for e in ep.values() if e["p95"] is not None]
    result["worst_p95_ms"] = max(p95s) if p95s else None
    result["all_p95_within_200_ms"] = bool(p95s) and len(p95s) == len(ep) and max(p95s) <= 200
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["build", "measure"])
    parser.add_argument("--segments", type=int, default=1_000_000, help="build: sentence rows")
    parser.add_argument("--db", type=Path, help="the store (default ~/.cache/discourse/bench/dashboard-1m.sqlite)")
    parser.add_argument("--rebuild", action="store_true", help="build: write the store again even if it exists")
    parser.add_argument("--repeats", type=int, default=40, help="measure: requests per endpoint (varied queries)")
    parser.add_argument("--hit-repeats", type=int, default=20, help="measure: repeats of one query (cache hits)")
    parser.add_argument("--seed", type=int, default=0, help="measure: seed of the query drawer")
    parser.add_argument("--write", action="store_true", help=f"merge the figures into {RESULTS}")
    args = parser.parse_args()
    db = (args.db or default_db(args.segments)).expanduser()
    if args.what == "build":
        result = build(db, args.segments, args.rebuild)
        if result.get("reused"):
            print(json.dumps(result, indent=2))
            return  # nothing new to record
    else:
        result = measure(db, args.repeats, args.hit_repeats, args.seed)
    result["date"] = time.strftime("%Y-%m-%d")
    result["machine"] = f"{os.cpu_count()} cores"
    print(json.dumps(result, indent=2))
    if args.write:
        merge_result(RESULTS, args.what, result)


if __name__ == "__main__":
    main()
