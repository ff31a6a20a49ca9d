"""How the framing model does on REAL sentences: the reference-only validation set in corpora/real_validation/.

    .venv/bin/python bench/real_validation.py [--model models/framing-e5-small] [--write]

Texts are resolved from ../shared/corpora at run time (never committed). Prints relevance and stance figures on
real news and policy sentences; with --write, saves them as real_validation.json in the model folder, where the
model card picks them up. Single-coded labels: read the figures as an estimate, not a benchmark.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from real_sentences import resolve  # noqa: E402  (puts the repo on sys.path)

from discourse.codebook import STANCES
from discourse.model.framing import FramingModel
from discourse.training.metrics import classification_report
from discourse.settings import REPO_ROOT, model_dir

LABELS = REPO_ROOT / "corpora" / "real_validation" / "labels.jsonl"


def evaluate(model: FramingModel) -> dict:
    refs = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [resolve(ref) for ref in refs]
    rows = model.predict(texts)
    rel_true = ["relevant" if r["relevant"] else "irrelevant" for r in refs]
    rel_pred = ["relevant" if p["relevance"] >= 0.5 else "irrelevant" for p in rows]
    relevant = [i for i, r in enumerate(refs) if r["relevant"]]
    cond = [max(rows[i]["stance_given_relevant"], key=rows[i]["stance_given_relevant"].get) for i in relevant]
    e2e_true = [r["stance"] if r["relevant"] else "neutral" for r in refs]
    return {
        "n": len(refs),
        "relevance": classification_report(rel_true, rel_pred, ["irrelevant", "relevant"]),
        "stance": classification_report([refs[i]["stance"] for i in relevant], cond, list(STANCES)),
        "stance_end_to_end": classification_report(e2e_true, [p["label"] for p in rows], list(STANCES)),
        "command": "bench/real_validation.py --write",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=model_dir())
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    report = evaluate(FramingModel.load(args.model))
    for key in ("relevance", "stance", "stance_end_to_end"):
        r = report[key]
        print(f"{key:18s} n={r['n']:4d}  accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  "
              + "  ".join(f"{k} F1 {v['f1']:.2f} (n={v['support']})" for k, v in r["per_class"].items()))
    if args.write:
        (args.model / "real_validation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
