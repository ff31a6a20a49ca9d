"""A hostile archive end to end: 1,000 good articles with one bad record of each kind among them (lone
surrogates, NULs in any field, an id a second archive reuses with another text, invalid JSON and bytes, non-Dutch,
too long; a BOM on a later JSONL line, an article repeated with invisible characters, a cp1252 CSV export, Parquet
with a row that is not UTF-8), scored by the real CLI, SIGKILLed part-way, then run twice more.

    .venv/bin/python bench/hostile_archive.py [--good 1000] [--db URL] [--write]

It checks what tests/test_score_archive.py checks with 200 articles: every good record scored exactly once, every
bad one rejected exactly once (one rejected_records row), the killed run closed as "interrupted"; and reports wall
time, documents/s and peak RSS per run. Default store: a fresh SQLite file in a temporary folder (`--db`: e.g. an
empty PostgreSQL database). `--write` merges the figures into bench/results/hostile_archive.json.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sentences import ROOT, merge_result  # noqa: E402  (puts the repo on sys.path)

sys.path.insert(0, str(ROOT / "tests"))
from hostile import good_articles, write_hostile_archive  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "hostile_archive.json"


def query(url: str, sql: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    except Exception:  # noqa: BLE001 - the tables do not exist yet
        return []
    finally:
        engine.dispose()


def scored(url: str) -> int:
    rows = query(url, "SELECT COUNT(*) FROM document_scores")
    return rows[0][0] if rows else 0


def run(command: list[str], url: str, kill_at: int | None = None) -> dict:
    """One CLI run; with `kill_at`, SIGKILLed once that many documents are scored."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if kill_at is not None:
        while process.poll() is None and scored(url) < kill_at:
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if kill_at is None and code != 0:
        raise SystemExit(f"run failed ({code}):\n{stderr[-3000:]}")
    summary = [line for line in stderr.splitlines() if line.startswith("run ")]
    return {"seconds": round(time.perf_counter() - started, 1), "exit": code,
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "scored_total_after": scored(url),
            "summary": summary[-1] if summary else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--good", type=int, default=1000)
    parser.add_argument("--db", default=None, help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--kill-at", type=int, default=300, help="SIGKILL the first run after this many scores")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "archief"
        expected = write_hostile_archive(folder, good_articles(args.good))
        url = args.db or f"sqlite:///{Path(tmp) / 'store.sqlite'}"
        command = [sys.executable, "-m", "discourse.cli", "score-archive", str(folder), "--db", url,
                   "--source", "hostile"]
        runs = [run(command, url, kill_at=args.kill_at), run(command, url), run(command, url)]
        documents = sorted(r[0] for r in query(url, "SELECT document_id FROM document_scores"))
        rejected = sorted((os.path.basename(p), line, code) for p, line, code in
                          query(url, "SELECT source_path, line_or_row, reason_code FROM rejected_records"))
        states = [r[0] for r in query(url, "SELECT state FROM runs ORDER BY id")]
    want_rejected = sorted((name, line, code) for (name, line), code in expected.rejected.items())
    checks = {"good_scored_once": documents == sorted(expected.scored),
              "bad_rejected_once": rejected == want_rejected,
              "run_states": states == ["interrupted", "finished", "finished"]}
    resumed = runs[1]
    result = {"command": f"bench/hostile_archive.py --good {args.good}" + (" --db URL" if args.db else ""),
              "backend": url.split(":", 1)[0], "good_records": len(expected.scored),
              "bad_records": len(expected.rejected), "killed_after_scores": runs[0]["scored_total_after"],
              "runs": runs, "run_states": states, "checks": checks,
              "resumed_docs_per_second": round((resumed["scored_total_after"] - runs[0]["scored_total_after"])
                                               / resumed["seconds"], 2)}
    print(result)
    if not all(checks.values()):
        raise SystemExit(f"checks failed: {checks}")
    if args.write:
        merge_result(RESULTS, result["backend"], result)


if __name__ == "__main__":
    main()
