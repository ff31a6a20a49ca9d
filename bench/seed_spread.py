"""Mean and spread over seeds of one training recipe, real text first.

    discourse train-framing --out /tmp/seed0 --seed 0 ...   # the same command, seeds 0, 1, 2
    .venv/bin/python bench/real_test.py --model /tmp/seed0 --split test --write           # each seed
    .venv/bin/python bench/seed_spread.py models/framing-e5-small /tmp/seed1 /tmp/seed2 [--write]

Reads each folder's real_test.json (bench/real_test.py) and metrics.json (train-framing: real dev, authored test)
and prints, per figure, every seed's value, the mean, the sample standard deviation and the range; --write saves
seeds.json in the first folder (the shipped model, whose card renders it). Which seed is shipped is decided on dev
(bench/compare_variants.py) before any of them is evaluated on the test split.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

#: (name, file, path of keys) of every figure reported.
FIGURES = (
    ("real test relevance macro-F1", "real_test.json", ("relevance", "macro_f1")),
    ("real test relevant recall", "real_test.json", ("relevance", "per_class", "relevant", "recall")),
    ("real test relevant precision", "real_test.json", ("relevance", "per_class", "relevant", "precision")),
    ("real test stance macro-F1", "real_test.json", ("stance", "macro_f1")),
    ("real test pressuring F1", "real_test.json", ("stance", "per_class", "pressuring", "f1")),
    ("real test supportive F1", "real_test.json", ("stance", "per_class", "supportive", "f1")),
    ("real test stance end to end macro-F1", "real_test.json", ("stance_end_to_end", "macro_f1")),
    ("real test sub-frames micro-F1", "real_test.json", ("frames", "micro_f1")),
    ("real test documents stance macro-F1", "real_test.json", ("documents", "stance", "macro_f1")),
    ("real dev relevance macro-F1", "metrics.json", ("real_dev", "relevance", "macro_f1")),
    ("real dev stance macro-F1", "metrics.json", ("real_dev", "stance", "macro_f1")),
    ("authored test stance macro-F1", "metrics.json", ("test", "stance", "macro_f1")),
    ("authored test interview stance macro-F1", "metrics.json", ("test", "per_genre", "interview", "stance",
                                                                 "macro_f1")),
)


def _get(data: dict, keys: tuple) -> float | None:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def spread(folders: list[Path]) -> dict:
    loaded = {}
    for folder in folders:
        for name in ("real_test.json", "metrics.json"):
            path = folder / name
            if not path.is_file():
                raise SystemExit(f"{path} is missing: run train-framing and bench/real_test.py --write first")
            loaded[(folder, name)] = json.loads(path.read_text(encoding="utf-8"))
    commands = [loaded[(f, "metrics.json")]["command"] for f in folders]
    rows = []
    for label, name, keys in FIGURES:
        values = [_get(loaded[(f, name)], keys) for f in folders]
        if any(v is None for v in values):
            continue
        rows.append({"figure": label, "values": [round(v, 4) for v in values],
                     "mean": round(statistics.mean(values), 4),
                     "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
                     "range": round(max(values) - min(values), 4)})
    return {"seeds": [loaded[(f, "metrics.json")]["seed"] for f in folders], "commands": commands, "figures": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="model folders of one recipe, one per seed")
    parser.add_argument("--write", action="store_true", help="save seeds.json in the first folder")
    args = parser.parse_args()
    report = spread(args.folders)
    for row in report["figures"]:
        print(f"{row['figure']:<45} {row['mean']:.3f} ± {row['sd']:.3f} (range {row['range']:.3f}; "
              + ", ".join(f"{v:.3f}" for v in row["values"]) + ")")
    if args.write:
        (args.folders[0] / "seeds.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
