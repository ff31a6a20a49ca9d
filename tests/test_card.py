"""The model card's figures come from the metrics files, and the shipped model is small enough to commit."""

import json

from discourse.training.card import END, START, render_figures
from discourse.settings import DEFAULT_MODEL_DIR, REPO_ROOT


def test_card_block_matches_the_metrics_file():
    metrics = json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text())
    card = (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text()
    block = card.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == render_figures(DEFAULT_MODEL_DIR).strip(), "run `discourse card` after retraining"
    assert f"| {metrics['test']['stance']['macro_f1']:.3f} |" in block
    assert metrics["command"] in block


def test_committed_models_stay_under_50_mb():
    total = sum(p.stat().st_size for p in (REPO_ROOT / "models").rglob("*") if p.is_file())
    assert total < 50 * 1024 * 1024, total
