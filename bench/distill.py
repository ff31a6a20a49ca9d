"""The agreement gate for a distilled student (`discourse distill`): does it give its teacher's labels?

    .venv/bin/python bench/distill.py --student DIR [--teacher models/framing-e5-small] [--backend onnx] [--write]
    .venv/bin/python bench/distill.py --student DIR --distill [--max-sentences N] [--epochs N] [--layers 6]

Per split (the real dev and test splits of corpora/real_annotated, resolved from ../shared/corpora; the authored
dev and test splits): the share of texts on which student and teacher give the same product label (what `classify`
returns), the stance macro-F1 of both on units coded relevant, and seconds to encode the split (uncached, same
backend, same run). Gate for shipping a student as the default: agreement ≥ 97 % on each real split and ≥ 98 % on
authored dev; stance macro-F1 within 0.01 of the teacher's on every test split. `--distill` first runs
`discourse distill` into --student (its time goes into the result). `--write`: bench/results/distill.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from discourse.training import realcorpus  # noqa: E402
from discourse.training.corpus import load_units  # noqa: E402
from discourse.model.framing import FramingModel  # noqa: E402
from discourse.settings import model_dir  # noqa: E402
from discourse.training.framing import evaluate_framing  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "distill.json"
GATE_REAL, GATE_AUTHORED_DEV, GATE_F1 = 0.97, 0.98, 0.01


def splits() -> dict[str, list]:
    out = {}
    if realcorpus.available():
        out.update({f"real {name}": realcorpus.load_real_units(name) for name in ("dev", "test")})
    else:
        print(f"warning: {realcorpus.SHARED_CORPORA} is not there: the real splits are left out", file=sys.stderr)
    out.update({f"authored {name}": load_units(name) for name in ("dev", "test")})
    return out


def measure(model: FramingModel, units: list) -> tuple[dict, dict, float]:
    texts = [u.text for u in units]
    started = time.perf_counter()
    x = model.encoder.encode(texts)
    seconds = time.perf_counter() - started
    return model.predict_embeddings(x), evaluate_framing(model, units, x), seconds


def gate_row(name: str, n: int, agreement: float, f1_teacher: float, f1_student: float) -> dict:
    needed = GATE_REAL if name.startswith("real") else GATE_AUTHORED_DEV if name == "authored dev" else None
    checks = []
    if needed is not None:
        checks.append(agreement >= needed)
    if name.endswith("test"):
        checks.append(f1_student >= f1_teacher - GATE_F1)
    return {"n": n, "label_agreement": round(agreement, 4), "agreement_needed": needed,
            "stance_macro_f1_teacher": round(f1_teacher, 4), "stance_macro_f1_student": round(f1_student, 4),
            "passes": all(checks)}


def run_distill(args) -> dict:
    command = [sys.executable, "-m", "discourse.cli", "distill", "--teacher", str(args.teacher), "--out",
               str(args.student), "--layers", str(args.layers), "--max-sentences", str(args.max_sentences),
               "--epochs", str(args.epochs), "--seed", str(args.seed)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"command": " ".join(command[2:]), "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(peak), "metrics": json.loads((args.student / "metrics.json").read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", type=Path, required=True)
    parser.add_argument("--teacher", type=Path, default=model_dir())
    parser.add_argument("--backend", default="onnx", choices=("onnx", "torch"))
    parser.add_argument("--distill", action="store_true", help="run `discourse distill` into --student first")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--max-sentences", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help=f"save the result to {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()

    distilled = run_distill(args) if args.distill else None
    teacher = FramingModel.load(args.teacher, backend=args.backend)
    student = FramingModel.load(args.student, backend=args.backend)
    rows, seconds = {}, {"teacher": 0.0, "student": 0.0}
    for name, units in splits().items():
        raw_t, report_t, s_t = measure(teacher, units)
        raw_s, report_s, s_s = measure(student, units)
        seconds["teacher"] += s_t
        seconds["student"] += s_s
        agreement = float((raw_t["scores"].argmax(1) == raw_s["scores"].argmax(1)).mean())
        rows[name] = gate_row(name, len(units), agreement, report_t["stance"]["macro_f1"],
                              report_s["stance"]["macro_f1"])
    passed = all(r["passes"] for r in rows.values())

    print(f"{'split':<14} {'n':>5} {'agree':>7} {'needed':>7} {'F1 teacher':>11} {'F1 student':>11}  gate")
    for name, r in rows.items():
        needed = f"{r['agreement_needed']:.0%}" if r["agreement_needed"] else "-"
        print(f"{name:<14} {r['n']:>5} {r['label_agreement']:>7.2%} {needed:>7} {r['stance_macro_f1_teacher']:>11.3f} "
              f"{r['stance_macro_f1_student']:>11.3f}  {'pass' if r['passes'] else 'FAIL'}")
    texts = sum(r["n"] for r in rows.values())
    print(f"encoding {texts} texts ({args.backend}): teacher {seconds['teacher']:.1f}s, student "
          f"{seconds['student']:.1f}s ({seconds['teacher'] / max(seconds['student'], 1e-9):.2f}x)")
    print(f"gate: {'pass' if passed else 'FAIL'}")
    if args.write:
        result = {"command": "bench/distill.py " + " ".join(sys.argv[1:]), "teacher": str(args.teacher),
                  "student": str(args.student), "backend": args.backend, "splits": rows, "gate_passes": passed,
                  "encode_seconds": {k: round(v, 1) for k, v in seconds.items()}, "distill": distilled}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
