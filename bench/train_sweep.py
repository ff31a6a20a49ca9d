"""The sweep behind `discourse train`'s defaults: the same grid on every human-coded Dutch task, 3 seeds each.

Tasks (each written to a temporary JSONL file and trained through `train_classifier`, the code `discourse train`
runs, so a sweep point is exactly a command a user could type):
- `dpg-partisan`: the 766 article-level partisanship labels of ../shared/corpora/dpgmedia2019 (true/false, majority
  of the DPG survey's readers), at document level (sentences pooled).
- `framing-stance`: the stance of the relevant units of the project's authored corpus (corpora/annotated),
  supportive / pressuring / neutral, at sentence level.
- `framing-relevance`: relevant or not, same corpus (optional: `--tasks`).

Each grid point trains `--seeds` models (seeds 0..N-1, one test split drawn with seed 0, each model its own dev
split) and records the ensemble's and each model's test accuracy, macro-F1 and ECE, the TF-IDF + logistic
regression baseline on the same split, and the training time. The summary ranks the points by macro-F1 averaged over
the tasks (never one task alone) and shows each point's gain over the baseline and over the old defaults (`head`).

    .venv/bin/python bench/train_sweep.py                       # the full grid: hours on 2 cores
    .venv/bin/python bench/train_sweep.py --grid smoke --limit 120 --seeds 2   # a minute or two: does it run
    .venv/bin/python bench/train_sweep.py --configs head,ft-default --encoder /path/to/adapter  # with DAPT
    .venv/bin/python bench/train_sweep.py --merge a.json b.json --out all.json   # rank points run separately
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from discourse.settings import REPO_ROOT, SHARED_CORPORA  # noqa: E402
from discourse.training.classifier import TrainOptions, train_classifier  # noqa: E402

DPG = SHARED_CORPORA / "dpgmedia2019"
OUT = REPO_ROOT / "bench" / "results" / "train_sweep.json"

HEAD = TrainOptions(mode="head")
# The old finetune defaults, spelled out (TrainOptions' own defaults are what this sweep chose): 4 epochs, lr 2e-4,
# rank 8, top 6 layers, constant, patience 1
FT = TrainOptions(mode="finetune", epochs=4, lr=2e-4, rank=8, top_layers=6, schedule="constant", patience=1)
# One factor at a time around the old finetune defaults, plus the combinations the single factors point to; a full
# factorial (2^7 points x tasks x 3 seeds) would take weeks on 2 cores.
FULL_GRID = {
    "head": HEAD,
    "head-unweighted": replace(HEAD, class_weight=None),
    "ft-default": FT,
    "ft-epochs8": replace(FT, epochs=8),
    "ft-epochs8-patience2": replace(FT, epochs=8, patience=2),
    "ft-lr5e-4": replace(FT, lr=5e-4),
    "ft-lr1e-4": replace(FT, lr=1e-4),
    "ft-linear": replace(FT, schedule="linear"),
    "ft-rank16": replace(FT, rank=16),
    "ft-rank4": replace(FT, rank=4),
    "ft-all-layers": replace(FT, top_layers=None),
    "ft-unweighted": replace(FT, class_weight=None),
    "ft-linear-lr5e-4": replace(FT, schedule="linear", lr=5e-4, patience=2),
    "ft-epochs8-linear-lr5e-4": replace(FT, epochs=8, schedule="linear", lr=5e-4, patience=2),
    "ft-epochs8-linear-all-layers-rank16": replace(FT, epochs=8, schedule="linear", top_layers=None, rank=16,
                                                   patience=2),
}
SMOKE_GRID = {
    "head": HEAD,
    "head-unweighted": replace(HEAD, class_weight=None),
    "ft-1epoch": replace(FT, epochs=1, top_layers=2),
}
GRIDS = {"full": FULL_GRID, "smoke": SMOKE_GRID}


def dpg_partisan() -> list[dict]:
    """Article text (title + body) with its article-level label."""
    labels = {}
    with open(DPG / "dpgMedia2019-labels-byarticle.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            labels[str(row["id"])] = row["partisan"]
    rows = []
    with open(DPG / "dpgMedia2019-articles-byarticle.jsonl", encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            label = labels.get(str(article["id"]))
            text = "\n\n".join(part for part in (article.get("title"), article.get("text")) if part)
            if label is not None and text.strip():
                rows.append({"text": text, "label": label})
    return rows


def framing(task: str) -> list[dict]:
    from discourse.training.corpus import load_units

    units = load_units()
    if task == "stance":
        return [{"text": u.text, "label": u.stance} for u in units if u.relevant and u.stance]
    return [{"text": u.text, "label": "relevant" if u.relevant else "not"} for u in units]


TASKS = {
    "dpg-partisan": ("document", dpg_partisan),
    "framing-stance": ("sentence", lambda: framing("stance")),
    "framing-relevance": ("sentence", lambda: framing("relevance")),
}
DEFAULT_TASKS = ("dpg-partisan", "framing-stance")


def subsample(rows: list[dict], limit: int | None, seed: int = 0) -> list[dict]:
    if not limit or len(rows) <= limit:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), limit, replace=False))
    return [rows[i] for i in keep]


def run(args) -> dict:
    from discourse.encoder import EmbeddingCache

    grid = GRIDS[args.grid]
    names = args.configs.split(",") if args.configs else list(grid)
    unknown = [n for n in names if n not in grid]
    if unknown:
        raise SystemExit(f"unknown config(s) {unknown}; {args.grid} grid has {list(grid)}")
    tasks = args.tasks.split(",") if args.tasks else list(DEFAULT_TASKS)
    cache = EmbeddingCache()  # in memory: head points of one task share the frozen encoder's embeddings
    results: dict = {"grid": args.grid, "seeds": args.seeds, "limit": args.limit, "encoder": args.encoder,
                     "max_sentences": args.max_sentences, "finetune_sentences": args.finetune_sentences,
                     "tasks": {}, "started": time.strftime("%Y-%m-%d %H:%M")}
    with tempfile.TemporaryDirectory() as tmp:
        for task in tasks:
            level, loader = TASKS[task]
            rows = subsample(loader(), args.limit)
            data = Path(tmp) / f"{task}.jsonl"
            data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
            results["tasks"][task] = {"n": len(rows), "level": level, "configs": {}}
            for name in names:
                options = replace(grid[name], level=level, seeds=args.seeds, max_sentences=args.max_sentences,
                                  finetune_sentences=args.finetune_sentences)
                print(f"[{task}] {name}: {options}", file=sys.stderr, flush=True)
                report = train_classifier(data, "text", "label", Path(tmp) / f"{task}-{name}", options, seed=0,
                                          encoder_spec=args.encoder, cache=cache,
                                          log=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
                results["tasks"][task]["configs"][name] = {
                    "accuracy": report["accuracy"], "macro_f1": report["macro_f1"], "ece": report["ece"],
                    "per_class_f1": {k: v["f1"] for k, v in report["per_class"].items()},
                    "seeds": report["seeds"], "members": report["members"],
                    "baseline": {k: report["baseline"][k] for k in ("accuracy", "macro_f1", "ece")},
                    "n_test": report["n_test"], "seconds": report["seconds"], "warnings": report["warnings"]}
                _write(results, args.out)  # a long sweep keeps what it has if it is stopped
    results["summary"] = summarise(results, names)
    _write(results, args.out)
    return results


def summarise(results: dict, names: list[str]) -> list[dict]:
    """Per config: macro-F1 (ensemble, and single models' mean) averaged over tasks, the gain over the baseline and
    over the old default (`head`), and the worst task's gain: defaults must win on every task, not on average only."""
    rows = []
    tasks = results["tasks"]
    for name in names:
        per_task = {t: v["configs"][name] for t, v in tasks.items() if name in v["configs"]}
        if len(per_task) != len(tasks):
            continue
        gain_baseline = [c["macro_f1"] - c["baseline"]["macro_f1"] for c in per_task.values()]
        row = {"config": name,
               "macro_f1_mean_over_tasks": round(float(np.mean([c["macro_f1"] for c in per_task.values()])), 4),
               "single_model_macro_f1_mean": round(float(np.mean([c["seeds"]["macro_f1"]["mean"]
                                                                  for c in per_task.values()])), 4),
               "gain_over_baseline_mean": round(float(np.mean(gain_baseline)), 4),
               "gain_over_baseline_worst_task": round(float(min(gain_baseline)), 4),
               "seconds_total": round(sum(c["seconds"] for c in per_task.values()), 1)}
        if "head" in names and name != "head":
            row["gain_over_head_worst_task"] = round(float(min(
                c["macro_f1"] - tasks[t]["configs"]["head"]["macro_f1"] for t, c in per_task.items())), 4)
        rows.append(row)
    return sorted(rows, key=lambda r: -r["macro_f1_mean_over_tasks"])


def merge(paths: list[Path]) -> dict:
    """One results file from several runs with the same seeds: tasks and points united, then ranked."""
    merged: dict = {"merged_from": [], "tasks": {}}
    for path in paths:
        part = json.loads(path.read_text(encoding="utf-8"))
        if merged.setdefault("seeds", part["seeds"]) != part["seeds"]:
            raise SystemExit(f"{path}: {part['seeds']} seeds, the others {merged['seeds']}")
        merged["merged_from"].append({"file": path.name, "started": part.get("started"),
                                      **{k: part.get(k) for k in ("encoder", "max_sentences", "finetune_sentences")}})
        for task, found in part["tasks"].items():
            into = merged["tasks"].setdefault(task, {"n": found["n"], "level": found["level"], "configs": {}})
            into["configs"].update(found["configs"])
    names = list(dict.fromkeys(name for t in merged["tasks"].values() for name in t["configs"]))
    merged["summary"] = summarise(merged, names)
    return merged


def _write(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", choices=sorted(GRIDS), default="full")
    parser.add_argument("--configs", help="comma-separated grid points (default: all of the grid)")
    parser.add_argument("--tasks", help=f"comma-separated, of {', '.join(TASKS)} (default: {', '.join(DEFAULT_TASKS)})")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--limit", type=int, help="at most N rows per task (a smoke run)")
    parser.add_argument("--max-sentences", type=int, default=64, help="document level: sentences pooled per text")
    parser.add_argument("--finetune-sentences", type=int, default=TrainOptions.finetune_sentences,
                        help="document level, finetune: sentences per text the LoRA stage learns from")
    parser.add_argument("--encoder", help="encoder or adapter folder (discourse adapt-encoder) for every point")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--merge", type=Path, nargs="+", metavar="RESULTS",
                        help="train nothing: merge these results files (runs of some points or tasks each) into "
                             "--out, a later file's point replacing an earlier one's, and rank the points")
    args = parser.parse_args()
    if args.merge:
        results = merge(args.merge)
        _write(results, args.out)
    else:
        if "dpg-partisan" in (args.tasks or ",".join(DEFAULT_TASKS)) and not DPG.is_dir():
            raise SystemExit(f"{DPG} not found: the dpgmedia2019 task needs ../shared/corpora")
        results = run(args)
    print(f"{'config':<40} {'macro-F1 (tasks)':>16} {'single':>8} {'vs baseline':>12} {'worst task':>11} {'s':>8}")
    for row in results["summary"]:
        print(f"{row['config']:<40} {row['macro_f1_mean_over_tasks']:>16.4f} {row['single_model_macro_f1_mean']:>8.4f} "
              f"{row['gain_over_baseline_mean']:>+12.4f} {row['gain_over_baseline_worst_task']:>+11.4f} "
              f"{row['seconds_total']:>8.0f}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
