"""The real annotated corpus: references only, a frozen test split, and every reference resolving to its text."""

from __future__ import annotations

import json

import pytest

from discourse.training import realcorpus

needs_corpora = pytest.mark.skipif(not realcorpus.available(),
                                   reason=f"the shared corpora are not at {realcorpus.SHARED_CORPORA}")
POOL = realcorpus.REAL_DIR / "pool.jsonl"


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_test_split_is_frozen():
    """Any change to a test unit's reference or label changes the checksum; the split is never edited after coding."""
    frozen = json.loads(realcorpus.FROZEN_TEST.read_text(encoding="utf-8"))
    assert realcorpus.test_split_digest() == frozen
    assert frozen["units"] >= 1000


def test_no_real_text_is_stored_and_model_chosen_units_stay_out_of_test():
    for path in (POOL, realcorpus.REAL_LABELS, realcorpus.REAL_DIR / "codings.jsonl"):
        for row in _jsonl(path):
            assert "text" not in row, f"{path.name} holds text"
    pool = _jsonl(POOL)
    assert len({r["uid"] for r in pool}) == len(pool)
    assert not [r for r in pool if r["stratum"].startswith("active") and r["split"] == "test"]
    labels = {r["uid"]: r for r in realcorpus.load_labels()}
    assert {r["uid"] for r in pool if r["split"] == "test"} >= {u for u, r in labels.items() if r["split"] == "test"}
    # every double-coded disagreement was adjudicated: no test unit is single-coded
    assert {r["decided"] for r in labels.values() if r["split"] == "test"} <= {"agreed", "adjudicated"}


@needs_corpora
def test_every_reference_resolves_to_its_hashed_text():
    rows = sorted(realcorpus.load_labels(), key=lambda r: (r["corpus"], r["file"], r["row"]))
    texts = [realcorpus.resolve(r) for r in rows]
    assert all(realcorpus.sha256(t) == r["sha256"] for t, r in zip(texts, rows))
    units = realcorpus.load_real_units("test")
    assert len(units) == json.loads(realcorpus.FROZEN_TEST.read_text())["units"] and all(u.text for u in units)


@needs_corpora
def test_a_changed_text_fails_loudly():
    ref = dict(realcorpus.load_labels("test")[0])
    ref["sha256"] = "0" * 64
    with pytest.raises(ValueError, match="hash mismatch"):
        realcorpus.resolve(ref)
    ref = dict(realcorpus.load_labels("test")[0], row=10 ** 7)
    with pytest.raises(ValueError, match="no row"):
        realcorpus.resolve(ref)


def test_the_shipped_model_reports_the_frozen_real_test_split_first():
    """The card's lead figures are on today's frozen split, and the model was trained and chosen with real text."""
    from discourse.settings import DEFAULT_MODEL_DIR

    real_test = json.loads((DEFAULT_MODEL_DIR / "real_test.json").read_text(encoding="utf-8"))
    assert real_test["frozen_test"] == json.loads(realcorpus.FROZEN_TEST.read_text(encoding="utf-8"))
    metrics = json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["real_corpus"]["train"] > 0 and "real_test" not in metrics  # test never evaluated in training
    card = (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert card.index("### Real test split") < card.index("### Authored test split")


@needs_corpora
def test_real_evaluation_reports_every_register(tmp_path):
    from discourse.model.framing import FramingModel
    from discourse.settings import DEFAULT_MODEL_DIR
    from discourse.training.framing import evaluate_real

    units = realcorpus.load_real_units("dev")[:60]
    report = evaluate_real(FramingModel.load(DEFAULT_MODEL_DIR, backend="torch"), units)
    assert report["relevance"]["n"] == 60
    assert set(report["per_register"]) == {u.batch.removeprefix("real-") for u in units}
    assert sum(r["n"] for r in report["per_register"].values()) == 60
