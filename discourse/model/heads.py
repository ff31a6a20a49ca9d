"""Classification heads that sit on top of sentence embeddings.

A head is a linear layer (weights + bias), a temperature, and its label names: small enough to commit, read with
safetensors (no pickle), and applied with numpy at inference. Training uses scikit-learn's logistic regression,
whose L2-regularised solution is what a frozen-encoder head should be; the fine-tuned variant trains the same
linear layer jointly with a LoRA adapter and exports it into this format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from .calibration import fit_temperature, sigmoid, softmax


def row_product(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x @ weight, each row computed on its own: BLAS multiplies one row (gemv) and a block of rows (gemm) with
    different kernels whose float sums differ in the last bits, so a text's scores would depend on how many texts
    share its call. einsum's plain loops give every row the same bits in any batch (about 0.2 s per 100,000 rows)."""
    return np.einsum("...j,jk->...k", x, weight)


@dataclass
class SoftmaxHead:
    """Single-label head: exactly one of `labels` per input; probabilities sum to 1."""

    labels: list[str]
    weight: np.ndarray  # (dim, n_labels)
    bias: np.ndarray  # (n_labels,)
    temperature: float = 1.0

    def logits(self, x: np.ndarray) -> np.ndarray:
        return row_product(x, self.weight) + self.bias

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x), self.temperature)

    def calibrate(self, x: np.ndarray, y: np.ndarray) -> None:
        self.temperature = fit_temperature(self.logits(x), y)

    @classmethod
    def fit(cls, x: np.ndarray, y_labels: list[str], labels: list[str] | None = None, c: float = 1.0,
            class_weight: str | None = "balanced", seed: int = 0) -> "SoftmaxHead":
        labels = labels or sorted(set(y_labels))
        index = {label: i for i, label in enumerate(labels)}
        y = np.array([index[v] for v in y_labels])
        from sklearn.linear_model import LogisticRegression  # fitting only; a served head is numpy

        model = LogisticRegression(C=c, max_iter=3000, class_weight=class_weight, random_state=seed)
        model.fit(x, y)
        if len(model.classes_) == 2 and len(labels) == 2:
            # scikit-learn keeps one weight vector for two classes; spread it so both have a logit.
            w = model.coef_[0] / 2
            weight = np.stack([-w, w], axis=1)
            bias = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
        else:
            weight = np.zeros((x.shape[1], len(labels)))
            bias = np.full(len(labels), -1e4)  # a label absent from training can never win
            for row, cls_index in enumerate(model.classes_):
                weight[:, cls_index] = model.coef_[row]
                bias[cls_index] = model.intercept_[row]
        return cls(labels, weight.astype(np.float32), bias.astype(np.float32))

    def save(self, directory: Path, name: str) -> None:
        save_file({"weight": self.weight, "bias": self.bias}, str(directory / f"{name}.safetensors"))
        _write_json(directory / f"{name}.json", {"type": "softmax", "labels": self.labels,
                                                 "temperature": self.temperature})

    @classmethod
    def load(cls, directory: Path, name: str) -> "SoftmaxHead":
        tensors = load_file(str(directory / f"{name}.safetensors"))
        meta = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        return cls(meta["labels"], tensors["weight"], tensors["bias"], meta["temperature"])


@dataclass
class MultiLabelHead:
    """Multi-label head: an independent sigmoid per label and a per-label decision threshold tuned on dev."""

    labels: list[str]
    weight: np.ndarray  # (dim, n_labels)
    bias: np.ndarray
    temperature: float = 1.0
    thresholds: list[float] = field(default_factory=list)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return row_product(x, self.weight) + self.bias

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.logits(x), self.temperature)

    def calibrate(self, x: np.ndarray, y: np.ndarray) -> None:
        """Fit the temperature, then for each label the threshold that maximises its F1 on (x, y)."""
        self.temperature = fit_temperature(self.logits(x), y, multilabel=True)
        probs = self.predict_proba(x)
        self.thresholds = [_best_threshold(probs[:, j], y[:, j]) for j in range(len(self.labels))]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, labels: list[str], c: float = 1.0, seed: int = 0) -> "MultiLabelHead":
        from sklearn.linear_model import LogisticRegression  # fitting only; a served head is numpy

        weight = np.zeros((x.shape[1], len(labels)), dtype=np.float32)
        bias = np.full(len(labels), -1e4, dtype=np.float32)
        for j in range(len(labels)):
            if 0 < y[:, j].sum() < len(y):
                model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
                model.fit(x, y[:, j])
                weight[:, j], bias[j] = model.coef_[0], model.intercept_[0]
        return cls(labels, weight, bias, 1.0, [0.5] * len(labels))

    def save(self, directory: Path, name: str) -> None:
        save_file({"weight": self.weight, "bias": self.bias}, str(directory / f"{name}.safetensors"))
        _write_json(directory / f"{name}.json", {"type": "multilabel", "labels": self.labels,
                                                 "temperature": self.temperature, "thresholds": self.thresholds})

    @classmethod
    def load(cls, directory: Path, name: str) -> "MultiLabelHead":
        tensors = load_file(str(directory / f"{name}.safetensors"))
        meta = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        return cls(meta["labels"], tensors["weight"], tensors["bias"], meta["temperature"], meta["thresholds"])


def _best_threshold(probs: np.ndarray, truth: np.ndarray) -> float:
    if truth.sum() == 0:
        return 0.5
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.1, 0.91, 0.05):
        pred = probs >= t
        tp = float((pred & (truth == 1)).sum())
        f1 = 2 * tp / max(pred.sum() + truth.sum(), 1)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(round(t, 2)), f1
    return best


def _write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
