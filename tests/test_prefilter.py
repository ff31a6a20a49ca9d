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
