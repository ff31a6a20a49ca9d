"""What a model change does downstream: NOS document labels before and after, and changed documents read by a judge.

    .venv/bin/python bench/downstream_nos.py run --old DIR --new DIR [--write]    # labels of all 3,481 NOS articles
    .venv/bin/python bench/downstream_nos.py export --out /tmp/judge --n 20       # 20 random changed documents
    .venv/bin/python bench/downstream_nos.py judged --labels FILE [--write]       # the judge's verdicts, tallied

Every NOS article is scored as `score-archive` scores it (pre-filter, sentence model, document aggregate) with the
old and the new model, on the torch backend for both. The report gives the share of documents labelled
pressuring, supportive and neutral under each, and the change matrix. `export` writes 20 randomly drawn changed
documents for a judge (outside the repository), with the two labels in random order and unnamed; `judged` tallies
which model the judge sided with. Results (ids and labels, no text) go to bench/results/downstream_nos.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands import outside_repository  # noqa: E402
from discourse.pipeline.score import Document, ScoredDocument, score_documents  # noqa: E402
from discourse.model.framing import FramingModel  # noqa: E402
from discourse.model.prefilter import RelevancePrefilter  # noqa: E402
from discourse.settings import REPO_ROOT, SHARED_CORPORA  # noqa: E402

NOS = SHARED_CORPORA / "nos-wedemeyer"
RESULT = REPO_ROOT / "bench" / "results" / "downstream_nos.json"
SEED = 20261209


def articles() -> list[tuple[str, str]]:
    if not NOS.is_dir():
        raise SystemExit(f"this benchmark needs {NOS}; it is not there")
    out = []
    for path in sorted(NOS.glob("nos_articles_*.jsonl")):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            record = json.loads(line)
            out.append((f"{path.name}:{line_no}", record.get("text") or ""))
    return out


def labels(model_dir: Path, docs: list[tuple[str, str]]) -> dict[str, str]:
    model = FramingModel.load(model_dir, backend="torch")
    prefilter = RelevancePrefilter.load()
    out = {}
    for start in range(0, len(docs), 256):
        batch = score_documents(model, [Document(key, text) for key, text in docs[start:start + 256]],
                                prefilter=prefilter)
        out.update({r.key: r.document["label"] for r in batch.results if isinstance(r, ScoredDocument)})
    return out


def run(old: Path, new: Path) -> dict:
    docs = articles()
    before, after = labels(old, docs), labels(new, docs)
    ids = sorted(set(before) & set(after))
    share = lambda table: {k: round(v / len(ids), 4) for k, v in Counter(table[i] for i in ids).items()}  # noqa: E731
    changed = [i for i in ids if before[i] != after[i]]
    return {"documents": len(ids), "old": str(old), "new": str(new),
            "share_before": share(before), "share_after": share(after),
            "non_neutral_before": round(sum(before[i] != "neutral" for i in ids) / len(ids), 4),
            "non_neutral_after": round(sum(after[i] != "neutral" for i in ids) / len(ids), 4),
            "changes": {f"{a}->{b}": n for (a, b), n in sorted(Counter((before[i], after[i])
                                                                        for i in changed).items())},
            "changed": [{"id": i, "before": before[i], "after": after[i]} for i in changed]}


def export(out: Path, n: int) -> None:
    result = json.loads(RESULT.read_text(encoding="utf-8"))
    rng = random.Random(SEED)
    drawn = rng.sample(result["changed"], min(n, len(result["changed"])))
    texts = dict(articles())
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "changed.jsonl", "w", encoding="utf-8") as handle:
        for row in drawn:
            options = [row["before"], row["after"]]
            rng.shuffle(options)
            handle.write(json.dumps({"id": row["id"], "text": texts[row["id"]], "label_1": options[0],
                                     "label_2": options[1]}, ensure_ascii=False) + "\n")
    result["judge_sample"] = [row["id"] for row in drawn]
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{len(drawn)} changed documents in {out / 'changed.jsonl'}")


def judged(labels_file: Path) -> dict:
    result = json.loads(RESULT.read_text(encoding="utf-8"))
    by_id = {row["id"]: row for row in result["changed"]}
    verdicts = Counter()
    rows = []
    for line in labels_file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        j = json.loads(line)
        row = by_id[j["id"]]
        side = "new" if j["correct"] == row["after"] else "old" if j["correct"] == row["before"] else "neither"
        verdicts[side] += 1
        rows.append({"id": j["id"], "before": row["before"], "after": row["after"], "judge": j["correct"],
                     "sided_with": side})
    result["judged"] = {"verdicts": dict(verdicts), "rows": rows}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--old", type=Path, required=True)
    r.add_argument("--new", type=Path, required=True)
    r.add_argument("--write", action="store_true")
    e = sub.add_parser("export")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--n", type=int, default=20)
    j = sub.add_parser("judged")
    j.add_argument("--labels", type=Path, required=True)
    j.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.command == "run":
        result = run(args.old, args.new)
        print(json.dumps({k: v for k, v in result.items() if k != "changed"}, indent=1))
        if args.write:
            RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    elif args.command == "export":
        export(outside_repository(args.out), args.n)
    else:
        result = judged(args.labels)
        print(json.dumps(result["judged"]["verdicts"]))
        if args.write:
            RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
