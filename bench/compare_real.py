"""Comparison and topics validated on real institutional text (../shared/corpora).

    .venv/bin/python bench/compare_real.py --write

The institutional side is real: the Flemish government decisions 2019–2024 that mention Kind en Gezin, Opgroeien,
kinderopvang, a Huis van het Kind or the Groeipakket (../shared/corpora/vlaamse-regering-beslissingen, never copied
into the repository). The parent side is the invented demo interviews (corpora/demo/interviews): the thesis's real
interviews are withheld, so this run checks that the pipeline works on real institutional language and shows what
it reports, not a sociological finding. Steps: score the decisions (genre policy) and the interviews into a fresh
SQLite store, fit topics on the relevant sentences of both, compare parents with the decisions, and time each step.
Writes the figures to bench/results/compare_real.json; the HTML report quotes real sentences, so it goes outside the
repository (--html, default /tmp/compare_real.html).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

from sentences import ROOT  # noqa: E402  (puts the repo on sys.path)

from discourse.compare import build_report, report_json
from discourse.compare.run import compare
from discourse.model.framing import FramingModel
from discourse.interviews.ingest import ingest_interviews
from discourse.model.prefilter import RelevancePrefilter
from discourse.pipeline.score_archive import score_archive
from discourse.settings import DEFAULT_MODEL_DIR, SHARED_CORPORA
from discourse.store import make_engine, session_factory
from discourse.store.selection import SegmentFilter
from discourse.topics import TopicConfig
from discourse.topics.service import fit_from_store, model_path

DECISIONS = SHARED_CORPORA / "vlaamse-regering-beslissingen"
INSTITUTIONS = re.compile(r"Kind en Gezin|Opgroeien|kinderopvang|Huis van het Kind|Huizen van het Kind|Groeipakket",
                          re.IGNORECASE)
RESULTS = ROOT / "bench" / "results"


def decisions(folder: Path) -> Path:
    if not DECISIONS.is_dir():
        raise SystemExit(f"this benchmark needs {DECISIONS}; it is not there")
    out = folder / "beslissingen.jsonl"
    with open(out, "w", encoding="utf-8") as handle:
        for path in sorted(DECISIONS.glob("beslissingen_*.jsonl")):
            for line in open(path, encoding="utf-8"):
                record = json.loads(line)
                if INSTITUTIONS.search(record.get("text") or ""):
                    handle.write(json.dumps({"id": record["id"], "title": record.get("title"),
                                             "date": record.get("date"), "text": record["text"],
                                             "source": "Vlaamse Regering"}, ensure_ascii=False) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--html", type=Path, default=Path(tempfile.gettempdir()) / "compare_real.html")
    args = parser.parse_args()
    timings = {}
    with tempfile.TemporaryDirectory(prefix="discourse-compare-") as folder:
        url = f"sqlite:///{Path(folder) / 'store.sqlite'}"
        model = FramingModel.load(DEFAULT_MODEL_DIR)
        started = time.perf_counter()
        archive = score_archive([str(decisions(Path(folder)))], model, db_url=url, genre="policy",
                                prefilter=RelevancePrefilter.load())
        timings["score_decisions"] = round(time.perf_counter() - started, 1)
        demo = ROOT / "corpora" / "demo" / "interviews"
        started = time.perf_counter()
        ingest_interviews(demo, model, demo / "respondents.csv", db_url=url, source="demo-interviews")
        timings["ingest_interviews"] = round(time.perf_counter() - started, 1)
        engine = make_engine(url)
        name = "bench-compare-real"
        with session_factory(engine)() as session:
            started = time.perf_counter()
            topics = fit_from_store(session, name, SegmentFilter.parse("relevance>=0.5"), TopicConfig(min_topic_size=8))
            timings["topics_fit_with_embedding"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            result = compare(session, SegmentFilter.parse("genre=interview,relevance>=0.5"),
                             SegmentFilter.parse("genre=policy,relevance>=0.5"), encoder=model.encoder,
                             topic_model=name, labels=("Ouders (demo)", "Vlaamse Regering (echt)"))
            timings["compare"] = round(time.perf_counter() - started, 1)
        engine.dispose()
        shutil.rmtree(model_path(name), ignore_errors=True)
    summary = {
        "command": "bench/compare_real.py --write", "date": time.strftime("%Y-%m-%d"),
        "decisions_scored": archive.scored, "decision_sentences": archive.sentences_total,
        "decision_sentences_to_model": archive.sentences_to_model,
        "a": result["a"], "b": result["b"], "timings_seconds": timings,
        "stance": {k: {"a": round(v.a, 3), "b": round(v.b, 3), "diff": round(v.diff, 3),
                       "diff_95": [round(v.diff_low, 3), round(v.diff_high, 3)], "p": v.p_value}
                   for k, v in result["stance"].items()},
        "topics": len(topics.topic_ids()),
        "topic_labels": [t["label"] for t in topics.topics() if t["id"] != -1][:10],
        "keyness_top_parents": [t.term for t in result["keyness"].top_a[:12]],
        "keyness_top_decisions": [t.term for t in result["keyness"].top_b[:12]],
        "adoption": [{k: t[k] for k in ("term", "rate_a", "rate_b")} for t in result["adoption"]["terms"]
                     if t["count_a"] or t["count_b"]],
        "echo_share_above": result["echo"]["share_above"],
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "compare_real.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str)
                                                   + "\n", encoding="utf-8")
    args.html.write_text(build_report(result), encoding="utf-8")
    json.loads(report_json(result))  # the JSON form is valid too
    print(f"report: {args.html}")


if __name__ == "__main__":
    main()
