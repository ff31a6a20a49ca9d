"""Evaluation figures, computed one way for the model card, `discourse evaluate` and the tests."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from ..annotations.agreement import cohen_kappa


def classification_report(truth: list[str], predicted: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix (rows = truth)."""
    if not truth:
        return {"n": 0}
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4),
        "per_class": {label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                              "f1": round(float(f[i]), 4), "support": int(s[i])} for i, label in enumerate(labels)},
        "confusion": {"labels": labels, "matrix": confusion_matrix(truth, predicted, labels=labels).tolist()},
    }


def multilabel_report(truth: np.ndarray, predicted: np.ndarray, labels: list[str]) -> dict:
    p, r, f, s = precision_recall_fscore_support(truth, predicted, zero_division=0)
    return {
        "n": int(len(truth)),
        "micro_f1": round(float(f1_score(truth, predicted, average="micro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "per_label": {label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                              "f1": round(float(f[i]), 4), "support": int(s[i])} for i, label in enumerate(labels)},
    }


def bootstrap_f1(truth: list, predicted: list, labels: list, resamples: int = 1000, seed: int = 0) -> dict:
    """95 % percentile intervals of each class's F1 and the macro-F1, resampling units with replacement."""
    truth, predicted = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(resamples):
        idx = rng.integers(0, len(truth), len(truth))
        per = f1_score(truth[idx], predicted[idx], labels=labels, average=None, zero_division=0)
        rows.append([*per, per.mean()])
    low, high = np.percentile(np.array(rows), [2.5, 97.5], axis=0)
    return {name: [round(float(lo), 4), round(float(hi), 4)]
            for name, lo, hi in zip([*labels, "macro_f1"], low, high)}


def kappa(first: list, second: list) -> float | None:
    """Cohen's kappa to 4 decimals, by the one implementation the coding view's agreement report uses; None where it
    is undefined (no items, or a single code in all of them), so that reports stay valid JSON."""
    value = cohen_kappa(first, second)
    return None if np.isnan(value) else round(value, 4)


def macro_f1(truth, predicted) -> float:
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def format_confusion(report: dict) -> str:
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    width = max(8, *(len(str(l)) for l in labels)) + 1
    lines = ["truth \\ predicted".ljust(width + 4) + "".join(str(l).rjust(width) for l in labels)]
    for label, row in zip(labels, matrix):
        lines.append(str(label).ljust(width + 4) + "".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)
