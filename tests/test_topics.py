"""Topic modelling (discourse.topics) on a fixed Dutch corpus of five themes, embedded by the shipped model's
encoder: the themes must come out as topics with telling terms, the same run twice must give the same topics, and a
saved model must assign new sentences (in another process too) exactly as the fitted one does."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from discourse.topics import TopicConfig, TopicModel

# Who speaks, as subject and as object ("bij {who_obj}"): the same people in every theme, so that a topic can only
# be found by what is said, not by who says it.
WHO = [("Ik", "mij"), ("Mijn vrouw", "mijn vrouw"), ("Sarah", "Sarah"), ("Mijn zus", "mijn zus"),
       ("Een vriendin", "een vriendin"), ("Onze buurvrouw", "onze buurvrouw")]

# theme -> (sentence frames, fillers for {a}); {who}/{who_obj} come from WHO.
THEMES: dict[str, tuple[list[str], list[str]]] = {
    "borstvoeding": ([
        "{who} stopte met borstvoeding door {a}.",
        "Bij {who_obj} liep de borstvoeding moeizaam door {a}.",
        "De lactatiekundige hielp {who_obj} met de borstvoeding en {a}.",
        "{who} wilde borstvoeding geven, maar {a} maakte het zwaar.",
        "Voeden aan de borst werd voor {who_obj} een strijd door {a}.",
        "{who} bleef moedermelk kolven ondanks {a}.",
        "Flesvoeding was voor {who_obj} een opluchting na {a}.",
        "{who} voelde zich schuldig over de borstvoeding na {a}.",
    ], ["tepelkloven", "een borstontsteking", "te weinig moedermelk", "het urenlange kolven",
        "een slechte aanhap"]),
    "slapen": ([
        "De baby van {who_obj} werd {a} wakker en sliep nooit door.",
        "{who} lag {a} klaarwakker naast het wiegje.",
        "Door het slaaptekort was {who_obj} uitgeput, want de baby huilde {a}.",
        "{who} probeerde een slaapritueel, maar de baby werd toch {a} wakker.",
        "Doorslapen was voor {who_obj} een droom: de baby riep {a}.",
        "{who} sliep {a} in de zetel om de baby in slaap te wiegen.",
        "Na maanden gebroken nachten sliep {who_obj} {a} amper.",
        "{who} zocht een slaapcoach omdat de baby {a} wakker schrok.",
    ], ["elke twee uur", "rond drie uur 's nachts", "na elke nachtvoeding", "zodra het licht uitging",
        "bij het minste geluid"]),
    "opvang": ([
        "{who} stond {a} op de wachtlijst van de kinderopvang.",
        "Het ouderschapsverlof van {who_obj} was na {a} al op.",
        "{who} vond na {a} nog altijd geen plaats in de crèche.",
        "De kinderopvang kostte {who_obj} na {a} meer dan de helft van het loon.",
        "{who} nam {a} onbetaald ouderschapsverlof omdat de opvang volzat.",
        "Het kinderdagverblijf had voor {who_obj} pas na {a} een plaats vrij.",
        "{who} moest na {a} weer werken zonder opvangplaats voor de baby.",
        "Voor {who_obj} was {a} verlof veel te kort voor de crèche een plaats had.",
    ], ["drie maanden", "vier maanden", "vijf maanden", "zes maanden", "een vol jaar"]),
    "internet": ([
        "{who} las op {a} zoveel tegenstrijdig advies dat het verwarrend werd.",
        "{who} zocht elke klacht op {a} en raakte in paniek.",
        "Door alle informatie op {a} wist {who_obj} niet meer wat te geloven.",
        "{who} verdronk in de online informatie op {a}.",
        "Op {a} kreeg {who_obj} elke dag een ander advies.",
        "{who} googelde 's nachts symptomen en las op {a} de ergste verhalen.",
        "Al dat advies op {a} maakte {who_obj} onzeker.",
        "{who} raakte overspoeld door tips en meningen op {a}.",
    ], ["Google", "forums", "opvoedapps", "Instagram", "opvoedblogs"]),
    "vader": ([
        "{who} zag dat de vader {a} als hulpje van de moeder werd behandeld.",
        "Volgens {who_obj} mocht papa {a} alleen helpen als mama het vroeg.",
        "{who} merkte dat papa {a} een compliment kreeg voor één luier.",
        "Volgens {who_obj} wordt de vader {a} gezien als reservespeler.",
        "{who} ergerde zich eraan dat vaders {a} genegeerd werden.",
        "{who} hoorde {a} dat haar man zo goed meehielp, alsof het niet zijn kind was.",
        "Voor {who_obj} was het duidelijk dat de papa {a} maar een helper was.",
        "{who} vond dat vaders {a} nooit als volwaardige ouder werden gezien.",
    ], ["bij de kinderarts", "op het consultatiebureau", "in de kraamtijd", "bij de familie", "op het werk"]),
}
# Words of which a theme's topic must have at least one among its terms.
THEME_WORDS = {
    "borstvoeding": {"borstvoeding", "moedermelk", "kolven", "borst", "flesvoeding", "lactatiekundige"},
    "slapen": {"slaaptekort", "sliep", "wakker", "slaap", "doorslapen", "slaapritueel", "slaapcoach"},
    "opvang": {"kinderopvang", "ouderschapsverlof", "crèche", "opvang", "wachtlijst", "kinderdagverblijf"},
    "internet": {"advies", "informatie", "online", "google", "forums", "googelde", "tegenstrijdig"},
    "vader": {"vader", "vaders", "papa", "hulpje", "helper", "reservespeler"},
}
# Unrelated news sentences: too few and too different to be a topic, so the fit has outliers to reduce.
NOISE = [
    "Het regent morgen in het hele land.", "De voetbalclub won gisteren met drie tegen nul.",
    "De treinen rijden vandaag niet door een staking.", "De minister stelde de nieuwe begroting voor.",
    "De beurs sloot hoger na goede bedrijfscijfers.", "In Gent opent een museum voor moderne kunst.",
    "De wielrenner won de sprint in de laatste etappe.", "De gemeenteraad besliste over nieuwe parkeerzones.",
    "Het festival trok dit jaar meer bezoekers dan ooit.", "De prijs van benzine steeg opnieuw.",
    "Een storm veroorzaakte schade aan daken in het noorden.", "De bibliotheek verlengt haar openingsuren.",
]
PER_THEME = 50
HELD_OUT = 6


def build_corpus(seed: int = 0) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(texts, theme per text, unseen sentences per theme): PER_THEME sentences per theme drawn from all
    frame × filler × speaker combinations, then the noise; HELD_OUT more per theme never seen by the fit."""
    rng = random.Random(seed)
    texts, themes, unseen = [], [], {}
    for theme, (frames, fillers) in THEMES.items():
        combos = [frame.format(who=who, who_obj=who_obj, a=a)
                  for frame, a, (who, who_obj) in itertools.product(frames, fillers, WHO)]
        combos = [c[0].upper() + c[1:] for c in combos]
        rng.shuffle(combos)
        texts += combos[:PER_THEME]
        themes += [theme] * PER_THEME
        unseen[theme] = combos[PER_THEME:PER_THEME + HELD_OUT]
    return texts + NOISE, themes + ["noise"] * len(NOISE), unseen


@pytest.fixture(scope="module")
def data():
    """The corpus and its real embeddings: the project's base encoder (discourse.topics.topic_encoder)."""
    from discourse.topics import topic_encoder

    encoder = topic_encoder()
    texts, themes, unseen = build_corpus()
    unseen_texts = [t for theme in THEMES for t in unseen[theme]]
    return {"texts": texts, "themes": themes, "embeddings": encoder.encode(texts),
            "unseen_texts": unseen_texts, "unseen_themes": [theme for theme in THEMES for _ in unseen[theme]],
            "unseen_embeddings": encoder.encode(unseen_texts), "encoder_version": encoder.version,
            "encoder": encoder}


@pytest.fixture(scope="module")
def model(data) -> TopicModel:
    return TopicModel.fit(data["texts"], data["embeddings"], TopicConfig(), encoder_version=data["encoder_version"],
                          encoder=data["encoder"])


def theme_topics(model: TopicModel, themes: list[str]) -> dict[str, int]:
    """Each theme's majority topic, after checking that it holds most of the theme's sentences."""
    out = {}
    for theme in THEMES:
        counts = Counter(t for t, th in zip(model.document_topics, themes) if th == theme)
        topic, n = counts.most_common(1)[0]
        assert topic != -1 and n >= 0.8 * PER_THEME, f"{theme}: {counts}"
        out[theme] = topic
    return out


def test_themes_become_separate_topics_with_telling_terms(model, data):
    by_theme = theme_topics(model, data["themes"])
    assert len(set(by_theme.values())) == len(THEMES), by_theme  # five themes, five different topics
    for theme, topic_id in by_theme.items():
        topic = model.topic(topic_id)
        words = {word for term, _ in topic["terms"] for word in term.split()}
        assert words & THEME_WORDS[theme], f"{theme}: {topic['terms']}"
        assert len(topic["terms"]) == TopicConfig().top_terms
        assert all(weight > 0 and term for term, weight in topic["terms"])
        label_terms = topic["label"].split(" · ")
        assert len(label_terms) == 3 and label_terms[0] == topic["terms"][0][0]
        assert len({w for t in label_terms for w in t.split()}) == sum(len(t.split()) for t in label_terms)
        assert len(topic["examples"]) == 3 and len(set(topic["examples"])) == 3
        assert all(data["themes"][data["texts"].index(s)] == theme for s in topic["examples"])
    # Stop words and fillers never become terms; numbers never do.
    terms = {w for t in model.topics() for term, _ in t["terms"] for w in term.split()}
    assert not terms & {"de", "het", "een", "en", "van", "ja", "eigenlijk", "gewoon", "zegt"}
    assert all(w.isalpha() for w in terms)


def test_topics_lists_every_topic_with_outliers_first(model, data):
    listed = model.topics()
    assert [t["id"] for t in listed] == model.topic_ids() and listed[0]["id"] == -1
    assert listed[0]["label"] == "outliers"
    assert sum(t["size"] for t in listed) == len(data["texts"])
    assert {str(t["id"]): t["size"] for t in listed if t["size"]} == model.meta["sizes"]
    assert Counter(model.document_topics) == Counter({t["id"]: t["size"] for t in listed if t["size"]})
    assert model.meta["outlier_share_after"] <= 0.15
    assert model.meta["encoder_version"] == data["encoder_version"]
    with pytest.raises(KeyError, match="no topic 99"):
        model.topic(99)


def test_outliers_are_reduced_to_the_cap_and_terms_follow(data):
    """n_neighbors=5 leaves ~16 % outliers; a 5 % cap makes the reduction run. Afterwards the terms, sizes and topic
    embeddings describe the new assignment (BERTopic's update_topics alone leaves the embeddings one row off)."""
    config = TopicConfig(n_neighbors=5, max_outlier_share=0.05)
    model = TopicModel.fit(data["texts"], data["embeddings"], config, encoder=data["encoder"])
    meta = model.meta
    assert meta["outlier_share_before"] > 0.05
    assert meta["outlier_reduction"] and meta["outlier_reduction"][0]["strategy"] == "embeddings"
    assert meta["outlier_share_after"] <= 0.05
    assert meta["outlier_reduction"][-1]["outlier_share"] == meta["outlier_share_after"]
    assert model.document_topics.count(-1) / len(data["texts"]) == pytest.approx(meta["outlier_share_after"], abs=1e-4)
    assert Counter(model.document_topics) == Counter({int(k): v for k, v in meta["sizes"].items()})
    assert len(model._bertopic.topic_embeddings_) == len(meta["sizes"])
    # Each fitted text's topic, with -1 gone, is also where `assign` puts it in most cases: the centroids line up.
    assigned = model.assign(data["texts"], data["embeddings"])
    agree = np.mean([a == t for a, t in zip(assigned, model.document_topics) if t != -1])
    assert agree > 0.8


def test_outlier_reduction_falls_back_to_ctfidf_then_the_cap(data):
    """With a bar no embedding can pass (similarity above 1), the c-TF-IDF step and then the cap do the work; the
    cap keeps as outliers the texts least similar to every topic, and texts that had a topic keep it."""
    from discourse.topics.model import _fit_bertopic, _reduce_outliers
    from discourse.topics.vocabulary import dutch_vectorizer

    texts, embeddings = data["texts"], data["embeddings"]
    bertopic, topics, _ = _fit_bertopic(texts, embeddings, TopicConfig(n_neighbors=5), dutch_vectorizer(texts))
    allowed = int(0.02 * len(texts))
    assert topics.count(-1) > allowed
    reduced, steps = _reduce_outliers(bertopic, texts, topics, embeddings, 0.02, member_floor=1.01)
    assert [s["strategy"] for s in steps] == ["embeddings", "c-tf-idf", "embeddings"]
    assert steps[0]["outlier_share"] == round(topics.count(-1) / len(texts), 4)  # nothing passed the first bar
    assert steps[2]["outlier_share"] < steps[1]["outlier_share"] < steps[0]["outlier_share"]
    assert 0 < reduced.count(-1) <= allowed
    assert all(r == t for r, t in zip(reduced, topics) if t != -1)
    kept = [i for i, t in enumerate(reduced) if t == -1]
    centroids = np.asarray(bertopic.topic_embeddings_)[1:]
    best = (embeddings[kept] @ centroids.T / np.linalg.norm(centroids, axis=1)).max(axis=1)
    assert (best < steps[2]["threshold"]).all()


def test_same_input_gives_the_same_topics(model, data):
    again = TopicModel.fit(data["texts"], data["embeddings"], TopicConfig(), encoder_version=data["encoder_version"],
                           encoder=data["encoder"])
    assert again.document_topics == model.document_topics
    assert again.topics() == model.topics()
    assert again.meta["assign_threshold"] == model.meta["assign_threshold"]


LOAD_AND_ASSIGN = """
import json, sys
import numpy as np
from discourse.topics import TopicModel
model = TopicModel.load(sys.argv[1])
texts = json.loads(open(sys.argv[2], encoding="utf-8").read())
print(json.dumps({"assign": model.assign(texts, np.load(sys.argv[3])), "topics": model.topics()}, ensure_ascii=False))
"""


def test_save_load_round_trip_in_this_and_another_process(model, data, tmp_path):
    directory = tmp_path / "topics"
    model.save(directory)
    bertopic_config = json.loads((directory / "bertopic" / "config.json").read_text(encoding="utf-8"))
    assert "embedding_model" not in bertopic_config  # nothing for BERTopic to download on load
    assert (directory / "bertopic" / "topic_embeddings.safetensors").is_file()
    assert (directory / "bertopic" / "ctfidf.safetensors").is_file()
    meta = json.loads((directory / "topic_model.json").read_text(encoding="utf-8"))
    assert meta["encoder_version"] == data["encoder_version"] and meta["config"] == vars(TopicConfig())
    assert {"created_at", "sizes", "outlier_share_before", "outlier_share_after"} <= set(meta)

    unseen, unseen_embeddings = data["unseen_texts"], data["unseen_embeddings"]
    expected = model.assign(unseen, unseen_embeddings)
    by_theme = theme_topics(model, data["themes"])
    hits = sum(a == by_theme[theme] for a, theme in zip(expected, data["unseen_themes"]))
    assert hits >= 0.9 * len(unseen), list(zip(expected, data["unseen_themes"]))

    loaded = TopicModel.load(directory)
    assert loaded.topics() == model.topics()
    assert loaded.assign(unseen, unseen_embeddings) == expected
    assert loaded.document_topics == model.document_topics
    assert loaded.meta == model.meta

    (tmp_path / "texts.json").write_text(json.dumps(unseen, ensure_ascii=False), encoding="utf-8")
    np.save(tmp_path / "embeddings.npy", unseen_embeddings)
    # Another process, offline (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE): a download attempt would fail it.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", LOAD_AND_ASSIGN, str(directory), str(tmp_path / "texts.json"),
                             str(tmp_path / "embeddings.npy")], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    other = json.loads(result.stdout.strip().splitlines()[-1])
    assert other["assign"] == expected
    assert other["topics"] == json.loads(json.dumps(model.topics(), ensure_ascii=False))


def test_shares_per_group_sum_to_one(model, data):
    themes = data["themes"]
    shares = model.shares(model.document_topics, themes)
    assert set(shares) == set(themes)
    by_theme = theme_topics(model, themes)
    for group, share in shares.items():
        assert list(share) == model.topic_ids()
        assert sum(share.values()) == pytest.approx(1.0)
        if group in by_theme:
            assert share[by_theme[group]] >= 0.8
    # Two groups over the same texts (e.g. mothers and fathers): still one distribution each.
    halves = ["mothers" if i % 2 else "fathers" for i in range(len(themes))]
    assert all(sum(s.values()) == pytest.approx(1.0) for s in model.shares(model.document_topics, halves).values())
    with pytest.raises(ValueError, match="one group per text"):
        model.shares([0, 1], ["a"])
    with pytest.raises(ValueError, match="not in this model"):
        model.shares([0, 99], ["a", "b"])


def test_too_little_or_too_uniform_data_is_a_clear_error(data):
    texts, embeddings, themes = data["texts"], data["embeddings"], np.array(data["themes"])
    with pytest.raises(ValueError, match=r"at least 20 distinct texts .* 15 given"):
        TopicModel.fit(texts[:15], embeddings[:15])
    with pytest.raises(ValueError, match=r"at least 20 distinct texts .* 40 given, 1 distinct"):
        TopicModel.fit([texts[0]] * 40, np.repeat(embeddings[:1], 40, axis=0))
    one_theme = np.flatnonzero(themes == "slapen")[:30]  # one theme only: no two topics of 15 in it
    with pytest.raises(ValueError, match=r"30 texts gave [01] topic\(s\).* at least 2 are needed"):
        TopicModel.fit([texts[i] for i in one_theme], embeddings[one_theme], TopicConfig(min_topic_size=15),
                       encoder=data["encoder"])
    with pytest.raises(ValueError, match="embeds candidate terms: pass the encoder"):
        TopicModel.fit(texts, embeddings, TopicConfig(representation="keybert-mmr"))
    with pytest.raises(ValueError, match=r"need a \(262, dim\) embedding matrix"):
        TopicModel.fit(texts, embeddings[:10])


def test_topic_documents_keep_lemmas_of_content_words_and_adjacent_pairs():
    from discourse.topics.vocabulary import adjacent_bigrams, is_verb_form, topic_document

    assert topic_document("Ze lacht half, krijgt soms een fles melk.") == "melk"  # simplemma: fles -> flessen
    assert topic_document("Ik wilde borstvoeding geven, maar de keukens van de vaders waren klein.") == \
        "borstvoeding geven keuken vader klein"
    assert topic_document("De klanten wachten niet.") == "klant"  # "wachten" -> "wacht" is still a verb
    assert not is_verb_form("ouders", "ouder") and is_verb_form("krijgt", "krijgen")
    # "Sarah vond na drie maanden" leaves "sarah maand" after the stop words: no pair anybody wrote.
    pairs = adjacent_bigrams(["Sarah vond na drie maanden een slechte aanhap."])
    assert pairs == {"slecht aanhap"}


def test_a_model_saved_before_lemmas_reads_as_plain_c_tf_idf():
    old = {"config": {"min_topic_size": 10, "n_neighbors": 15, "n_components": 5, "seed": 42,
                      "max_outlier_share": 0.15, "top_terms": 10, "language": "nl"}}
    config = TopicModel(None, old).config
    assert (config.lemmas, config.representation) == (False, "c-tf-idf")
    with pytest.raises(ValueError, match="representation 'bert'"):
        TopicConfig(representation="bert")


@pytest.mark.parametrize("representation", ["keybert", "mmr", "keybert-mmr"])
def test_representation_models_describe_the_same_topics(model, data, representation):
    """BERTopic's representation models on the project's encoder choose among c-TF-IDF's candidates: ten terms
    per topic, still telling, none empty; the topics themselves are the fit's."""
    from dataclasses import asdict

    variant = TopicModel(model._bertopic, {**model.meta, "config": {**asdict(model.config),
                                                                    "representation": representation}})
    described = variant.curated(data["texts"], data["embeddings"], model.document_topics, {}, data["encoder"],
                                {"operation": "test"})
    assert described.document_topics == model.document_topics
    for theme, topic_id in theme_topics(model, data["themes"]).items():
        terms = described.topic(topic_id)["terms"]
        assert len(terms) == TopicConfig().top_terms and all(term for term, _ in terms)
        assert {w for term, _ in terms for w in term.split()} & THEME_WORDS[theme], (theme, terms)
