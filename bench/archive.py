"""Archive scoring end to end: `discourse score-archive` on real NOS news, as a user runs it.

    .venv/bin/python bench/archive.py nos --write        # 3,481 NOS articles: docs/s, time per stage, pass share, RSS
    .venv/bin/python bench/archive.py identity --write   # rows with and without the pre-filter, 300 articles
    .venv/bin/python bench/archive.py big --write        # 100,000 articles (NOS repeated with new ids), killed and resumed
    .venv/bin/python bench/archive.py progress DB [--pid PID]   # the same figures from a big run still going

Every run is the real CLI in a child process (`discourse score-archive`, default settings: onnx int8 backend,
pre-filter on, batches of 64) writing into a fresh SQLite store under a temporary folder; peak RSS is that process's
own high-water mark (os.wait4). The archives are written to the temporary folder, never into the repository.
`--write` merges the figures into bench/results/archive.json. Needs ../shared/corpora/nos-wedemeyer.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sentences import NOS, ROOT, merge_result  # noqa: E402  (puts the repo on sys.path)

from discourse.pipeline.score_archive import DEFAULT_BATCH

RESULTS = ROOT / "bench" / "results" / "archive.json"
CLI = Path(sys.executable).parent / "discourse"


def nos_articles() -> list[dict]:
    if not NOS.is_dir():
        raise SystemExit(f"this benchmark needs {NOS} (the shared NOS corpus); it is not there")
    articles = []
    for path in sorted(NOS.glob("nos_articles_*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                record = json.loads(line)
                articles.append({"id": f"{path.stem}-{line_no}", "title": record.get("title"),
                                 "date": record.get("date"), "text": record.get("text") or "",
                                 "source": "NOS"})
    return articles


def write_jsonl(path: Path, records) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def run_cli(archive: Path, db: Path, *extra: str, kill_after: float | None = None) -> dict:
    """Run `discourse score-archive` on `archive` into SQLite file `db`; returns wall time, peak RSS, exit."""
    command = [str(CLI), "score-archive", str(archive), "--db", f"sqlite:///{db}", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    _, status, usage = os.wait4(process.pid, 0)
    stderr = process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if kill_after is None and process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}")
    return {"seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "exit": process.returncode, "log_tail": stderr.strip().splitlines()[-2:]}


def last_run(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        state, counts = conn.execute("SELECT state, counts FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return {"state": state, **(json.loads(counts) if counts else {})}


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchone()[0]


def bench_nos(tmp: Path) -> dict:
    archive = tmp / "nos.jsonl"
    n = write_jsonl(archive, nos_articles())
    db = tmp / "nos.db"
    process = run_cli(archive, db)
    run = last_run(db)
    stages = run.get("stage_seconds", {})
    total_stages = sum(stages.values()) or 1.0
    return {
        "command": "bench/archive.py nos --write", "articles": n, "scored": run["scored"],
        "skipped": run["skipped"], "wall_seconds_with_start": process["seconds"],
        "run_seconds": run["seconds"], "docs_per_second": run["docs_per_second"],
        "sentences_total": run["sentences_total"], "sentences_to_model": run["sentences_to_model"],
        "sentences_encoded": run.get("sentences_encoded"),
        "prefilter_pass_share": round(run["sentences_to_model"] / max(run["sentences_total"], 1), 4),
        "stage_seconds": stages,
        "stage_share": {k: round(v / total_stages, 3) for k, v in sorted(stages.items(), key=lambda kv: -kv[1])},
        "peak_rss_mb": process["peak_rss_mb"], "batch_size": DEFAULT_BATCH,
    }


def bench_identity(tmp: Path, n: int) -> dict:
    """Score the same articles with and without the pre-filter: every sentence the filter passes must have the
    identical row; the rest is what the filter changes (dropped sentences, document labels)."""
    archive = tmp / "identity.jsonl"
    write_jsonl(archive, nos_articles()[:n])
    with_filter, without = tmp / "with.db", tmp / "without.db"
    run_cli(archive, with_filter)
    run_cli(archive, without, "--no-prefilter")
    columns = "document_id, position, label, score_supportive, score_pressuring, score_neutral, relevance, frames"
    with sqlite3.connect(with_filter) as conn:
        filtered = {row[:2]: row for row in conn.execute(
            f"SELECT {columns}, passed_prefilter FROM segment_scores")}
        doc_with = dict(conn.execute("SELECT document_id, label FROM document_scores"))
    with sqlite3.connect(without) as conn:
        full = {row[:2]: row for row in conn.execute(f"SELECT {columns} FROM segment_scores")}
        doc_without = dict(conn.execute("SELECT document_id, label FROM document_scores"))
    passed = [key for key, row in filtered.items() if row[-1]]
    identical = sum(filtered[key][:-1] == full[key] for key in passed)
    dropped = [key for key, row in filtered.items() if not row[-1]]
    dropped_relevant = sum(full[key][6] >= 0.5 for key in dropped)
    return {
        "command": f"bench/archive.py identity --n {n} --write", "articles": n, "sentences": len(filtered),
        "passed": len(passed), "passed_rows_identical": identical,
        "dropped": len(dropped), "dropped_the_model_calls_relevant": dropped_relevant,
        "document_labels_equal": sum(doc_with[d] == doc_without.get(d) for d in doc_with),
        "documents": len(doc_with),
        "document_labels_with_filter": dict(Counter(doc_with.values())),
        "document_labels_without_filter": dict(Counter(doc_without.values())),
    }


def bench_big(tmp: Path, docs: int, kill_after: float) -> dict:
    """NOS repeated with new ids up to `docs` articles; the first run is SIGKILLed after `kill_after` seconds,
    the same command then finishes the archive."""
    base = nos_articles()
    archive = tmp / "big.jsonl"

    def repeated():
        for i in range(docs):
            article = base[i % len(base)]
            yield {**article, "id": f"{article['id']}-r{i // len(base)}"}

    write_jsonl(archive, repeated())
    db = tmp / "big.db"
    first = run_cli(archive, db, kill_after=kill_after)
    scored_before = count(db, "SELECT COUNT(*) FROM document_scores")
    second = run_cli(archive, db)
    run = last_run(db)
    scored_total = count(db, "SELECT COUNT(*) FROM document_scores")
    distinct = count(db, "SELECT COUNT(DISTINCT document_id) FROM document_scores")
    with sqlite3.connect(db) as conn:  # throughput per 5-minute window, from the rows' own timestamps
        windows = [round(n / 300, 1) for (n,) in conn.execute(
            "SELECT COUNT(*) FROM document_scores GROUP BY CAST(strftime('%s', scored_at) AS INTEGER) / 300 "
            "ORDER BY MIN(scored_at)")]
    return {
        "command": f"bench/archive.py big --docs {docs} --kill-after {kill_after:g} --write",
        "articles": docs, "first_run": {**first, "killed": first["exit"] != 0, "documents_scored": scored_before},
        "second_run": {**second, "scored": run["scored"], "skipped": run["skipped"],
                       "docs_per_second": run["docs_per_second"],
                       "resume_seconds": round(run["stage_seconds"].get("read", 0)
                                               + run["stage_seconds"].get("resume_check", 0), 1)},
        "document_scores": scored_total, "distinct_documents": distinct,
        "rescored_after_kill": run["scored"] + scored_before - scored_total,
        "docs_per_second_by_5_min_window": windows[1:-1] if len(windows) > 2 else windows,
        "peak_rss_mb": max(first["peak_rss_mb"], second["peak_rss_mb"]),
    }


def store_progress(db: Path, pid: int | None) -> dict:
    """Figures of a big run read from its store while (or after) it runs: documents per run, the gap between the
    resumed run's start and its first new batch (the resume cost), throughput per 5-minute window, and the live
    process's peak RSS (VmHWM) when its pid is given."""
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT id, state, started_at FROM runs ORDER BY id").fetchall()
        per_run = {run: (n, first, last) for run, n, first, last in conn.execute(
            "SELECT run_id, COUNT(*), MIN(scored_at), MAX(scored_at) FROM document_scores GROUP BY run_id")}
        windows = [round(n / 300, 1) for (n,) in conn.execute(
            "SELECT COUNT(*) FROM document_scores GROUP BY CAST(strftime('%s', scored_at) AS INTEGER) / 300 "
            "ORDER BY MIN(scored_at)")]
    out = {"command": f"bench/archive.py progress {db}" + (f" --pid {pid}" if pid else ""), "runs": []}
    for run_id, state, started in runs:
        n, first, last = per_run.get(run_id, (0, None, None))
        out["runs"].append({"run": run_id, "state": state, "started": started, "documents": n,
                            "first_written": first, "last_written": last})
    out["docs_per_second_by_5_min_window"] = windows
    if pid:
        status = Path(f"/proc/{pid}/status").read_text()
        out["peak_rss_mb_live"] = round(int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["nos", "identity", "big", "progress"])
    parser.add_argument("db", nargs="?", type=Path, help="progress: the big run's SQLite file")
    parser.add_argument("--pid", type=int, help="progress: the running score-archive process")
    parser.add_argument("--n", type=int, default=300, help="identity: articles")
    parser.add_argument("--docs", type=int, default=100_000, help="big: articles")
    parser.add_argument("--kill-after", type=float, default=600, help="big: seconds before the SIGKILL")
    parser.add_argument("--write", action="store_true", help=f"merge the figures into {RESULTS}")
    args = parser.parse_args()
    if args.what == "progress":
        print(json.dumps(store_progress(args.db, args.pid), indent=2))
        return
    with tempfile.TemporaryDirectory(prefix="discourse-bench-") as folder:
        tmp = Path(folder)
        if args.what == "nos":
            result = bench_nos(tmp)
        elif args.what == "identity":
            result = bench_identity(tmp, args.n)
        else:
            result = bench_big(tmp, args.docs, args.kill_after)
    result["date"] = time.strftime("%Y-%m-%d")
    print(json.dumps(result, indent=2))
    if args.write:
        merge_result(RESULTS, args.what, result)


if __name__ == "__main__":
    main()
