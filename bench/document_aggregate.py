"""Choose the document aggregate's neutral weight on real dev documents (never on the test documents).

    .venv/bin/python bench/document_aggregate.py [--model DIR] [--write]

Every dev document (corpora/real_annotated/document_labels.jsonl, split "dev") is split into sentences and scored
once; the document label is then recomputed for each neutral weight in the grid (discourse.model.aggregate). The weight
with the best stance macro-F1 on the relevant dev documents (ties: the larger weight, the smaller change) is
written into the model's config.json with --write, with the grid in document_aggregate.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discourse.training import realcorpus  # noqa: E402
from discourse.model.aggregate import aggregate_document  # noqa: E402
from discourse.codebook import STANCES  # noqa: E402
from discourse.model.framing import CONFIG_FILE, FramingModel  # noqa: E402
from discourse.training.metrics import classification_report  # noqa: E402
from discourse.segment import split_sentences  # noqa: E402
from discourse.settings import REPO_ROOT, model_dir  # noqa: E402

LABELS = REPO_ROOT / "corpora" / "real_annotated" / "document_labels.jsonl"
GRID = (1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=model_dir())
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    docs = realcorpus.read_rows(LABELS)
    docs = [d for d in docs if d["split"] == "dev"]
    model = FramingModel.load(args.model, backend="torch")
    thresholds = dict(zip(model.frames_head.labels, model.frames_head.thresholds))
    scored = []
    for d in docs:
        sentences = split_sentences(realcorpus.document_text(d["corpus"], d["file"], d["row"]))
        scored.append((d, sentences, model.predict([s.text for s in sentences])))
    grid = []
    for weight in GRID:
        labels = [aggregate_document(s, p, model.config.relevance_threshold, thresholds, weight)["label"]
                  for _, s, p in scored]
        relevant = [i for i, (d, _, _) in enumerate(scored) if d["relevant"]]
        stance = classification_report([scored[i][0]["stance"] for i in relevant], [labels[i] for i in relevant],
                                       list(STANCES))
        e2e = classification_report([d["stance"] if d["relevant"] else "neutral" for d, _, _ in scored], labels,
                                    list(STANCES))
        grid.append({"neutral_weight": weight, "stance_macro_f1": stance["macro_f1"],
                     "end_to_end_macro_f1": e2e["macro_f1"], "relevant_documents": len(relevant)})
        print(f"neutral weight {weight:4.2f}: stance macro-F1 {stance['macro_f1']:.3f} (relevant {len(relevant)}), "
              f"end to end {e2e['macro_f1']:.3f}")
    best = max(grid, key=lambda g: (round(g["stance_macro_f1"], 4), g["neutral_weight"]))
    print(f"chosen: {best['neutral_weight']}")
    if args.write:
        config_path = args.model / CONFIG_FILE
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["document_neutral_weight"] = best["neutral_weight"]
        config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        (args.model / "document_aggregate.json").write_text(json.dumps(
            {"command": "bench/document_aggregate.py --write", "dev_documents": len(docs), "grid": grid,
             "chosen": best["neutral_weight"]}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
