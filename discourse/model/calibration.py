"""Temperature scaling and expected calibration error.

One temperature per head, fitted on dev logits by minimising the negative log-likelihood (Guo et al., 2017): it
changes confidence, never the arg-max, so it cannot cost accuracy.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits / temperature))


def fit_temperature(logits: np.ndarray, targets: np.ndarray, multilabel: bool = False) -> float:
    """Return T > 0 minimising the NLL of `targets` under logits / T (class indices, or 0/1 matrix if multilabel)."""
    if len(logits) == 0:
        return 1.0
    import torch  # fitting only: a served model applies its temperature with numpy, without torch in memory

    x = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(targets, dtype=torch.float64 if multilabel else torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def nll():
        optimiser.zero_grad()
        scaled = x / log_t.exp()
        if multilabel:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(scaled, y)
        else:
            loss = torch.nn.functional.cross_entropy(scaled, y)
        loss.backward()
        return loss

    optimiser.step(nll)
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))


def expected_calibration_error(probs: np.ndarray, targets: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-label confidence (equal-width bins), for class-index targets."""
    if len(probs) == 0:
        return 0.0
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == targets
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)
