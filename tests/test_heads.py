import numpy as np

from discourse.model.calibration import expected_calibration_error, fit_temperature, softmax
from discourse.model.heads import MultiLabelHead, SoftmaxHead


def _blobs(seed=0, n=300, dim=8):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dim)) * 2
    y = rng.integers(0, 3, n)
    return centres[y] + rng.normal(size=(n, dim)), y


def test_softmax_head_learns_saves_and_loads(tmp_path):
    x, y = _blobs()
    labels = ["a", "b", "c"]
    head = SoftmaxHead.fit(x, [labels[i] for i in y], labels)
    assert (head.predict_proba(x).argmax(1) == y).mean() > 0.9
    head.calibrate(x, y)
    head.save(tmp_path, "stance")
    again = SoftmaxHead.load(tmp_path, "stance")
    np.testing.assert_allclose(again.predict_proba(x), head.predict_proba(x), rtol=1e-5)
    np.testing.assert_allclose(again.predict_proba(x).sum(1), 1.0, rtol=1e-6)


def test_binary_head_has_a_logit_per_class():
    x, y = _blobs()
    binary = (y == 0).astype(int)
    head = SoftmaxHead.fit(x, [["no", "yes"][v] for v in binary], ["no", "yes"])
    assert head.weight.shape == (8, 2)
    assert (head.predict_proba(x).argmax(1) == binary).mean() > 0.9


def test_temperature_scaling_reduces_ece_of_overconfident_logits():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 2000)
    logits = rng.normal(size=(2000, 3))
    logits[np.arange(2000), y] += 1.0
    logits *= 6  # far too confident
    t = fit_temperature(logits, y)
    assert t > 2
    assert expected_calibration_error(softmax(logits, t), y) < expected_calibration_error(softmax(logits), y) / 2


def test_multilabel_head_thresholds_and_roundtrip(tmp_path):
    x, y = _blobs(n=400)
    targets = np.stack([(y == 0), (y != 0)], axis=1).astype(int)
    head = MultiLabelHead.fit(x, targets, ["first", "rest"])
    head.calibrate(x, targets)
    assert len(head.thresholds) == 2
    predicted = head.predict_proba(x) >= np.array(head.thresholds)
    assert (predicted == targets.astype(bool)).mean() > 0.9
    head.save(tmp_path, "frames")
    again = MultiLabelHead.load(tmp_path, "frames")
    assert again.thresholds == head.thresholds


def test_a_rows_scores_are_the_same_bits_alone_and_in_any_batch():
    """BLAS multiplies one row and a block of rows with different kernels (last-bit differences that, rounded to 4
    decimals, showed in a document's frame score); the heads compute every row on its own."""
    from pathlib import Path

    from discourse.settings import DEFAULT_MODEL_DIR

    heads = [SoftmaxHead.load(Path(DEFAULT_MODEL_DIR), "relevance"), SoftmaxHead.load(Path(DEFAULT_MODEL_DIR), "stance"),
             MultiLabelHead.load(Path(DEFAULT_MODEL_DIR), "frames")]
    rng = np.random.default_rng(0)
    for n in (2, 5, 33, 257):
        x = rng.standard_normal((n, heads[0].weight.shape[0])).astype(np.float32)
        for head in heads:
            batch = head.predict_proba(x)
            for i in (0, n // 2, n - 1):
                assert np.array_equal(head.predict_proba(x[i:i + 1])[0], batch[i])
                assert np.array_equal(head.predict_proba(x[i]), batch[i])
