"""How a framing model does on the real annotated corpus (corpora/real_annotated): real text first.

    .venv/bin/python bench/real_test.py --model models/framing-e5-small --split dev          # for choices
    .venv/bin/python bench/real_test.py --model models/framing-e5-small --split test --write # frozen; report only

Texts are resolved from ../shared/corpora at run time (never committed). Sentence level: relevance, stance on
units coded relevant (the stance head), stance end to end (irrelevant counts as neutral, as `classify` outputs),
sub-frames (micro-F1), per register. Document level (test only): the document aggregate of `classify --level
document` against the document labels. With --write the report goes to real_<split>.json in the model folder,
where the model card and GET /v1/models read it. Use the dev split for every choice; the test split is frozen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discourse.training import realcorpus  # noqa: E402
from discourse.codebook import STANCES  # noqa: E402
from discourse.model.framing import FramingModel  # noqa: E402
from discourse.training.metrics import bootstrap_f1, classification_report  # noqa: E402
from discourse.settings import REPO_ROOT, model_dir  # noqa: E402
from discourse.training.framing import evaluate_real  # noqa: E402

DOCUMENT_LABELS = REPO_ROOT / "corpora" / "real_annotated" / "document_labels.jsonl"


def document_report(model: FramingModel) -> dict | None:
    """Document-level stance of the model's aggregate against the document labels (relevant documents: the
    stance; all documents: end to end, irrelevant counting as neutral)."""
    from discourse.pipeline.classify import classify_texts

    if not DOCUMENT_LABELS.exists():
        return None
    rows = realcorpus.read_rows(DOCUMENT_LABELS)
    rows = [r for r in rows if r["split"] == "test"]
    texts = [realcorpus.document_text(r["corpus"], r["file"], r["row"]) for r in rows]
    out = classify_texts(model, texts, level="document")
    predicted = [o.get("label", "neutral") for o in out]
    relevant = [i for i, r in enumerate(rows) if r["relevant"]]
    per_register = {}
    for register in sorted({r["register"] for r in rows}):
        idx = [i for i in relevant if rows[i]["register"] == register]
        per_register[register] = classification_report([rows[i]["stance"] for i in idx],
                                                        [predicted[i] for i in idx], list(STANCES))
    return {
        "n": len(rows), "relevant": len(relevant), "neutral_weight": model.config.document_neutral_weight,
        "stance": classification_report([rows[i]["stance"] for i in relevant], [predicted[i] for i in relevant],
                                        list(STANCES)),
        "stance_end_to_end": classification_report([r["stance"] if r["relevant"] else "neutral" for r in rows],
                                                   predicted, list(STANCES)),
        "per_register": per_register,
    }


def intervals(model: FramingModel, units: list) -> dict:
    """Bootstrap intervals of the sentence-level F1s (the rare classes have ~50 units: the intervals are wide)."""
    preds = model.predict([u.text for u in units])
    rel_true = ["relevant" if u.relevant else "irrelevant" for u in units]
    rel_pred = ["relevant" if p["relevance"] >= model.config.relevance_threshold else "irrelevant" for p in preds]
    relevant = [i for i, u in enumerate(units) if u.relevant]
    cond = [max(p["stance_given_relevant"], key=p["stance_given_relevant"].get) for p in preds]
    return {
        "relevance": bootstrap_f1(rel_true, rel_pred, ["irrelevant", "relevant"]),
        "stance": bootstrap_f1([units[i].stance for i in relevant], [cond[i] for i in relevant], list(STANCES)),
        "stance_end_to_end": bootstrap_f1([u.stance3 for u in units], [p["label"] for p in preds], list(STANCES)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=model_dir())
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--backend", default="torch", help="torch (the reference) or onnx")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--documents-only", action="store_true",
                        help="recompute only the document figures (after the document aggregate changed)")
    args = parser.parse_args()
    model = FramingModel.load(args.model, backend=args.backend)
    if args.documents_only:
        path = args.model / f"real_{args.split}.json"
        report = json.loads(path.read_text(encoding="utf-8"))
        report["documents"] = document_report(model)
        d = report["documents"]
        print(f"documents n={d['n']} relevant {d['relevant']}  stance macro-F1 {d['stance']['macro_f1']:.3f}"
              f"  end to end {d['stance_end_to_end']['macro_f1']:.3f}")
        if args.write:
            path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return
    units = realcorpus.load_real_units(args.split)
    report = evaluate_real(model, units)
    report["intervals"] = intervals(model, units)
    report["n"] = len(realcorpus.load_labels(args.split))
    if args.split == "test":
        report["documents"] = document_report(model)
    report["command"] = f"bench/real_test.py --model {args.model} --split {args.split} --backend {args.backend}"
    report["frozen_test"] = realcorpus.test_split_digest() if args.split == "test" else None
    for key in ("relevance", "stance", "stance_end_to_end"):
        r = report[key]
        print(f"{key:18s} n={r['n']:4d}  macro-F1 {r['macro_f1']:.3f}  "
              + "  ".join(f"{k} F1 {v['f1']:.2f} (n={v['support']})" for k, v in r["per_class"].items()))
    print(f"frames             micro-F1 {report['frames']['micro_f1']:.3f}")
    for register, r in report["per_register"].items():
        print(f"  {register:20s} n={r['n']:4d} relevance F1 {r['relevance']['macro_f1']:.3f} "
              f"stance F1 {r['stance'].get('macro_f1', float('nan')):.3f} (relevant {r['relevant']})")
    if report.get("documents"):
        d = report["documents"]
        print(f"documents          n={d['n']} relevant {d['relevant']}  stance macro-F1 {d['stance']['macro_f1']:.3f}"
              f"  end to end {d['stance_end_to_end']['macro_f1']:.3f}")
    if args.write:
        (args.model / f"real_{args.split}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
