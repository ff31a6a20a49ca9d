"""Does a domain adapter (`discourse adapt-encoder`) help the framing tasks? Frozen-encoder heads, base vs adapted.

    .venv/bin/python bench/adapt_gain.py --adapter DIR [--write]

The authored train split and the real annotated corpus's train + dev units (never its test split or the sentences
of its labelled documents) are encoded by the base encoder and by the encoder with the adapter merged. On each,
logistic-regression heads (the heads `train-framing --mode head` fits, regularisation fixed at C=1) are scored by
5-fold cross-validation over the real units, the authored training units always in the training folds:
relevance over all real units; stance over the real units coded relevant (real units weighted 3, class-balanced).
Heads fitted on everything are also scored on the authored dev split (all genres, and the interview genre alone).
Same folds for both encoders. The real test split is not touched, so the figures may inform a choice.
Needs ../shared/corpora (the real units' text). Writes bench/results/adapt_gain.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "adapt_gain.json"
STANCE_LABELS = ("supportive", "pressuring", "neutral")
REAL_WEIGHT = 3


def units() -> tuple[list, list, list]:
    from discourse.training import realcorpus
    from discourse.training.corpus import load_units

    return (load_units("train"), load_units("dev"),
            realcorpus.load_real_units("train") + realcorpus.load_real_units("dev"))


def scores(x_auth: np.ndarray, x_dev: np.ndarray, x_real: np.ndarray, auth: list, dev: list, real: list) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    def fit(x, y, w=None):
        return LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced").fit(x, y, sample_weight=w)

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    rel_a = np.array([u.relevant for u in auth])
    rel_r = np.array([u.relevant for u in real])
    oof = np.zeros(len(real), bool)
    for train, test in folds.split(x_real, rel_r):
        model = fit(np.vstack([x_auth, x_real[train]]), np.concatenate([rel_a, rel_r[train]]))
        oof[test] = model.predict_proba(x_real[test])[:, 1] >= 0.5
    out = {"real_relevance_macro_f1": f1_score(rel_r, oof, average="macro"),
           "real_relevant_recall": float(oof[rel_r].mean()), "real_relevant_precision": float(rel_r[oof].mean())}

    xa, ya = x_auth[rel_a], np.array([STANCE_LABELS.index(u.stance) for u in auth if u.relevant])
    xr, yr = x_real[rel_r], np.array([STANCE_LABELS.index(u.stance) for u in real if u.relevant])

    def weights(n_real: int) -> np.ndarray:  # authored units count once, real ones REAL_WEIGHT times
        return np.concatenate([np.ones(len(xa)), np.full(n_real, REAL_WEIGHT)])

    oof_stance = np.zeros(len(xr), int)
    for train, test in folds.split(xr, yr):
        model = fit(np.vstack([xa, xr[train]]), np.concatenate([ya, yr[train]]), weights(len(train)))
        oof_stance[test] = model.predict(xr[test])
    per_class = f1_score(yr, oof_stance, average=None, labels=[0, 1, 2])
    out |= {"real_stance_macro_f1": f1_score(yr, oof_stance, average="macro"),
            "real_supportive_f1": per_class[0], "real_pressuring_f1": per_class[1]}
    model = fit(np.vstack([xa, xr]), np.concatenate([ya, yr]), weights(len(xr)))
    rel_d = np.array([u.relevant for u in dev])
    yd = np.array([STANCE_LABELS.index(u.stance) for u in dev if u.relevant])
    xd = x_dev[rel_d]
    interview = np.array([u.genre == "interview" for u in dev if u.relevant])
    predicted = model.predict(xd)
    out |= {"authored_dev_stance_macro_f1": f1_score(yd, predicted, average="macro"),
            "authored_dev_interview_stance_macro_f1": f1_score(yd[interview], predicted[interview], average="macro")}
    return {k: round(float(v), 4) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", required=True, help="a folder written by `discourse adapt-encoder`")
    parser.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(ROOT)}")
    args = parser.parse_args()
    from discourse.encoder import Encoder
    from discourse.encoder.adapters import read_adapter_manifest

    auth, dev, real = units()
    n_real_relevant = sum(u.relevant for u in real)
    print(f"authored train {len(auth)}, authored dev {len(dev)}, real train+dev {len(real)} "
          f"({n_real_relevant} relevant)", file=sys.stderr)
    report = {"adapter": str(args.adapter), "adapter_manifest": read_adapter_manifest(args.adapter),
              "units": {"authored_train": len(auth), "authored_dev": len(dev), "real": len(real),
                        "real_relevant": n_real_relevant}}
    for name, spec in (("base", None), ("adapted", str(args.adapter))):
        started = time.perf_counter()
        encoder = Encoder.load(spec)
        x = {key: encoder.encode([u.text for u in group], batch_size=64)
             for key, group in (("auth", auth), ("dev", dev), ("real", real))}
        report[name] = {**scores(x["auth"], x["dev"], x["real"], auth, dev, real),
                        "encoder_version": encoder.version, "seconds": round(time.perf_counter() - started, 1)}
        del encoder
    keys = [k for k in report["base"] if k not in ("encoder_version", "seconds")]
    for key in keys:
        print(f"{key:42s} base {report['base'][key]:.3f}  adapted {report['adapted'][key]:.3f}  "
              f"({report['adapted'][key] - report['base'][key]:+.3f})")
    if args.write:
        OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
