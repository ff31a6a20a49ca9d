"""The relevance pre-filter: the shipped one keeps ≥ 98 % of the relevant annotated units (its recall floor:
what it drops is never seen by the model), drops plainly unrelated news, and survives a save/load round trip
unchanged."""

from __future__ import annotations

import numpy as np

from discourse.training.corpus import load_units
from discourse.model.prefilter import TARGET_DEV_RECALL, RelevancePrefilter, evaluate_prefilter, train_prefilter


def test_shipped_prefilter_keeps_relevant_units():
    prefilter = RelevancePrefilter.load()
    held_out = [u for u in load_units() if u.split in ("dev", "test")]
    report = evaluate_prefilter(prefilter, [u.text for u in held_out], [u.relevant for u in held_out])
    assert report["recall"] >= 0.98, report
    interview = [u for u in held_out if u.genre == "interview" and u.relevant]
    assert prefilter.passes([u.text for u in interview]).mean() >= 0.98
    assert report["texts_per_second"] > 500  # vs ~100 sentences/s for the encoder


def test_prefilter_separates_plain_cases():
    prefilter = RelevancePrefilter.load()
    passed = prefilter.passes([
        "Na de bevalling kreeg ik weinig hulp van de kraamzorg en voelde ik me alleen.",
        "Het Nederlands elftal won gisteravond met 3-1 van België in de Kuip.",
        "De beurskoersen in Amsterdam sloten vrijdag licht hoger na sterke cijfers van ASML.",
    ])
    assert passed.tolist() == [True, False, False]
    # The word rule passes a sentence with a parenthood word whatever its score; "ouderen" is not such a word.
    words = ["Het kabinet trekt geld uit voor het ouderschapsverlof.", "Ouderen krijgen eerst een vaccin."]
    assert prefilter.passes(words).tolist()[0] is True
    assert prefilter.config.word_rule and prefilter.passes(words[1:]).tolist() == [
        bool(prefilter.scores(words[1:])[0] >= prefilter.config.threshold)]
    assert prefilter.scores([]).shape == (0,)


def test_train_save_load_round_trip(tmp_path):
    units = load_units()
    train = [u for u in units if u.split == "train"][:600]
    dev = [u for u in units if u.split == "dev"]
    negatives = [u.text for u in units if u.split == "train" and not u.relevant][:100]
    prefilter = train_prefilter([u.text for u in train], [u.relevant for u in train], [u.text for u in dev],
                                [u.relevant for u in dev], negatives)
    dev_relevant = [u.text for u in dev if u.relevant]
    assert prefilter.passes(dev_relevant).mean() >= TARGET_DEV_RECALL  # the threshold rule, word rule included
    prefilter.save(tmp_path / "pf")
    again = RelevancePrefilter.load(tmp_path / "pf")
    texts = [u.text for u in dev]
    assert np.allclose(again.scores(texts), prefilter.scores(texts), atol=1e-5)
    assert again.config.threshold == prefilter.config.threshold


ODD_TEXTS = ["", " ", "a", "ab", "abc", "Ça va a\u0301 l'école", "😀😀 baby's!", "kind\tkind  KIND\n", "ǅ" * 10,
             "\u00a0niet\u2003breed\u200b", "Ouderschapsverlof: 15 weken, 3-1 (2024).", "İstanbul ĲSSEL ß"]


def test_serving_features_are_scikit_learns():
    """Serving hashes n-grams without scikit-learn; its features and scores are those of the vectorizer it was
    trained with (the count of each index included)."""
    from collections import Counter

    from discourse.model.prefilter import _vectorizer, hashed_ngrams

    prefilter = RelevancePrefilter.load()
    texts = ODD_TEXTS + [u.text for u in load_units("dev")]
    matrix = _vectorizer(prefilter.config).transform(texts)
    for i, text in enumerate(texts):
        ours = Counter(hashed_ngrams(text, prefilter.config.ngram_min, prefilter.config.ngram_max,
                                     prefilter.config.n_features).tolist())
        row = matrix[i]
        assert ours == dict(zip(row.indices.tolist(), row.data.astype(int).tolist())), text
    counts = matrix.copy()
    counts.data = 1.0 + np.log(counts.data)
    x = counts.multiply(prefilter.idf).tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    expected = 1 / (1 + np.exp(-(np.asarray(x @ prefilter.coef).ravel() / np.maximum(norms, 1e-12)
                                 + prefilter.intercept)))
    assert np.allclose(prefilter.scores(texts), expected, atol=1e-9)
    # a text scores the same alone as in any batch
    assert np.allclose(prefilter.scores(texts[5:6]), prefilter.scores(texts)[5:6], atol=1e-12)


def test_a_lone_surrogate_raises_as_in_scikit_learn():
    """Not a crash of the process: mmh3 cannot hash a string without a UTF-8 form."""
    import pytest

    from discourse.model.prefilter import _vectorizer

    prefilter = RelevancePrefilter.load()
    with pytest.raises(UnicodeEncodeError):
        _vectorizer(prefilter.config).transform(["\ud800 baby"])
    with pytest.raises(UnicodeEncodeError):
        prefilter.scores(["Een baby slaapt.", "\ud800 baby"])


def test_scoring_does_not_import_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; from discourse.model.prefilter import RelevancePrefilter; "
            "RelevancePrefilter.load().passes(['Een baby slaapt.', 'De beurs sloot hoger.']); "
            "print(sorted(m for m in ('sklearn', 'scipy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
