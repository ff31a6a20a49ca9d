"""Topics in a collection of sentences: which themes there are, how they are worded, and who talks about which.

BERTopic does the work (UMAP → HDBSCAN → c-TF-IDF); this wrapper fixes what the project needs around it:

- embeddings always come from the caller (the project's encoder, cached), so nothing is ever downloaded, and the
  encoder is identified by `encoder_version` in our own metadata, not by a model id BERTopic would fetch;
- Dutch terms (discourse.topics.vocabulary: lemmas, no stop words, no inflected verbs), by c-TF-IDF or, on
  request (`representation`), chosen among its candidates by BERTopic's representation models (KeyBERTInspired,
  MaximalMarginalRelevance) on the project's own encoder, and readable labels ("term · term · term" + three example
  sentences), or a researcher's own label;
- the same input gives the same topics (seeded, single-threaded UMAP; HDBSCAN is deterministic given its input);
- at most `max_outlier_share` of the texts left in the outlier topic -1;
- `assign` works the same before and after save/load. BERTopic's safetensors format keeps only topic embeddings
  and c-TF-IDF, not UMAP/HDBSCAN, and a loaded BERTopic predicts by cosine similarity to the topic embeddings.
  `assign` therefore always does that (also right after `fit`), so a saved model and the one that was fitted agree.
- data that cannot carry topics raise a ValueError that says why, instead of a stack trace from UMAP or HDBSCAN.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..compare.tokens import tokenize
from .vocabulary import adjacent_bigrams, dutch_vectorizer, min_df_for, topic_document

META_FILE = "topic_model.json"
BERTOPIC_DIR = "bertopic"
FORMAT = 1
MIN_TEXTS = 20  # below this UMAP's neighbourhood graph and HDBSCAN's densities are mostly noise
EXAMPLES_PER_TOPIC = 3
LABEL_TERMS = 3
OUTLIER = -1
# A text stays an outlier in the first reduction step unless it is at least as similar to a topic's centroid as
# the least typical 5 % of that topic's own members are: a scale-free bar (E5 cosine similarities all sit
# between ~0.7 and 1, so a fixed number would mean something else for another encoder).
MEMBER_PERCENTILE = 5.0
# Cosine between an outlier's c-TF-IDF vector and a topic's. Measured on the five-theme test corpus: an outlier's
# best match spans 0.05-0.36, median 0.10; the top of that range is a sentence with one of the topic's own
# distinctive words, the bottom one that shares only common words. 0.1 admits the upper half on words alone and
# leaves the rest to the cap step, which decides by embeddings.
CTFIDF_THRESHOLD = 0.1
#: How a topic's terms are chosen among the c-TF-IDF candidates: "c-tf-idf" keeps c-TF-IDF's order; "keybert"
#: ranks candidates by the similarity of their embedding to the topic's representative sentences; "mmr" keeps
#: c-TF-IDF's candidates but skips near-synonyms of terms already chosen; "keybert-mmr" does both, in that order.
REPRESENTATIONS = ("c-tf-idf", "keybert", "mmr", "keybert-mmr")
MMR_DIVERSITY = 0.3  # 0 = keybert's order, 1 = as different as possible; 0.3 drops "vader"/"vaders"-like pairs


@dataclass
class TopicConfig:
    min_topic_size: int = 10  # HDBSCAN's min_cluster_size: fewer texts than this are never a topic
    n_neighbors: int = 15  # UMAP: local (small) versus global (large) structure; lowered for tiny corpora
    n_components: int = 5  # UMAP output dimensions that HDBSCAN clusters in
    seed: int = 42
    max_outlier_share: float = 0.15
    top_terms: int = 10  # c-TF-IDF terms kept per topic
    language: str = "nl"  # stop words (stopwordsiso code)
    lemmas: bool = True  # terms are lemmas and inflected verbs no terms (vocabulary.topic_document)
    # One of REPRESENTATIONS; all but c-tf-idf need the encoder in fit. c-TF-IDF of lemmas is the default because
    # it measured best (bench/topic_words.py on 20,000 NOS sentences: NPMI -0.19 against -0.46 with KeyBERTInspired
    # and -0.67 with KeyBERTInspired + MMR, at similar diversity and noise); KeyBERT also fills a topic with
    # variants of one name ("joe biden · trump biden · biden").
    representation: str = "c-tf-idf"

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"representation {self.representation!r}: one of {', '.join(REPRESENTATIONS)}")


class TopicModel:
    def __init__(self, bertopic, meta: dict):
        self._bertopic = bertopic
        self.meta = meta
        # A model saved before terms were lemmatised and refined has neither key: it used plain c-TF-IDF.
        self.config = TopicConfig(**{"lemmas": False, "representation": "c-tf-idf", **meta["config"]})

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(cls, texts: list[str], embeddings: np.ndarray, config: TopicConfig = TopicConfig(),
            encoder_version: str = "", encoder=None) -> "TopicModel":
        """Find the topics of `texts`; `embeddings` are their L2-normalised encoder rows, in the same order.
        `encoder` (the one that made the embeddings) embeds candidate terms for the representation models."""
        texts = list(texts)
        embeddings = _as_embeddings(texts, embeddings)
        needed = max(MIN_TEXTS, 2 * config.min_topic_size)
        distinct = len(set(texts))  # repeated boilerplate is one point to UMAP, however often it occurs
        if distinct < needed:
            raise ValueError(f"topic modelling needs at least {needed} distinct texts (two topics of "
                             f"min_topic_size={config.min_topic_size}, and never fewer than {MIN_TEXTS}); "
                             f"{len(texts)} given, {distinct} distinct")
        _check_encoder(config, encoder)  # before the fit's minute, after the data checks that cost nothing
        docs = topic_documents(texts, config)
        bertopic, topics, n_neighbors = _fit_bertopic(docs, embeddings, config,
                                                      topic_vectorizer(texts, docs, config))
        vectorizer = bertopic.vectorizer_model
        found = len(set(topics) - {OUTLIER})
        if found < 2:
            raise ValueError(f"{len(texts)} texts gave {found} topic(s) (min_topic_size={config.min_topic_size}); "
                             f"at least 2 are needed: give more texts, more varied texts, or a smaller "
                             f"min_topic_size")

        ids, centroids = _centroids(topics, embeddings)
        member_floor = _member_similarity_floor(topics, embeddings, dict(zip(ids, centroids)))
        before = topics.count(OUTLIER) / len(topics)
        topics, steps = _reduce_outliers(bertopic, docs, topics, embeddings, config.max_outlier_share, member_floor)
        no_content = describe(bertopic, texts, docs, topics, config, vectorizer, encoder)
        examples = _set_topic_embeddings(bertopic, texts, topics, embeddings)

        # New texts become outliers below the most lenient bar any embedding step used to admit a fitted text.
        thresholds = [s["threshold"] for s in steps if s["strategy"] == "embeddings"]
        meta = {
            "type": "topics",
            "format": FORMAT,
            "encoder_version": encoder_version,
            "config": asdict(config),
            "n_texts": len(texts),
            "n_neighbors": n_neighbors,
            "min_df": min_df_for(len(texts)),
            "n_topics": found,
            "sizes": {str(t): n for t, n in sorted(Counter(topics).items())},
            "outlier_share_before": round(before, 4),
            "outlier_share_after": round(topics.count(OUTLIER) / len(topics), 4),
            "outlier_reduction": steps,
            "assign_threshold": float(min([member_floor, *thresholds])),
            "examples": {str(t): docs for t, docs in examples.items()},
            "no_content_words": no_content,  # topics described by their word forms (see describe)
            "created_at": _now(),
            "bertopic_version": _bertopic_version(),
        }
        return cls(bertopic, meta)

    def curated(self, texts: list[str], embeddings: np.ndarray, topics: list[int], labels: dict[int, str],
                encoder, curation: dict) -> "TopicModel":
        """A new model over the same fitted `texts` with a researcher's `topics` (after merging or splitting) and
        `labels`: terms, sizes, topic embeddings and examples recomputed from that assignment, this model's config
        and assign threshold kept, `curation` (what was done) recorded in its metadata."""
        from bertopic import BERTopic
        from bertopic._bertopic import TopicMapper

        texts, topics = list(texts), [int(t) for t in topics]
        embeddings = _as_embeddings(texts, embeddings)
        _check_encoder(self.config, encoder)
        docs = topic_documents(texts, self.config)
        vectorizer = topic_vectorizer(texts, docs, self.config)
        bertopic = BERTopic(language="dutch", top_n_words=self.config.top_terms, n_gram_range=(1, 2),
                            embedding_model=None, vectorizer_model=vectorizer, calculate_probabilities=False)
        # What fit_transform would have set: update_topics checks topics_, save writes the mapper and _outliers.
        bertopic.topics_, bertopic.topic_mapper_ = topics, TopicMapper(topics)
        no_content = describe(bertopic, texts, docs, topics, self.config, vectorizer, encoder)
        examples = _set_topic_embeddings(bertopic, texts, topics, embeddings)
        sizes = Counter(topics)
        meta = {**self.meta, "n_texts": len(texts), "n_topics": len(set(topics) - {OUTLIER}),
                "sizes": {str(t): n for t, n in sorted(sizes.items())},
                "outlier_share_after": round(sizes[OUTLIER] / len(topics), 4),
                "examples": {str(t): docs for t, docs in examples.items()},
                "labels": {str(t): label for t, label in sorted(labels.items()) if t in sizes},
                "curation": curation, "created_at": _now(), "no_content_words": no_content}
        return TopicModel(bertopic, meta)

    # ------------------------------------------------------------------ using

    def assign(self, texts: list[str], embeddings: np.ndarray) -> list[int]:
        """The topic of each new text: the most similar topic centroid (cosine), or -1 when even that one is less
        similar than `meta["assign_threshold"]`."""
        embeddings = _as_embeddings(list(texts), embeddings)
        if len(embeddings) == 0:
            return []
        ids = self._topic_rows()
        real = [i for i, t in enumerate(ids) if t != OUTLIER]
        similarity = _cosine(embeddings, np.asarray(self._bertopic.topic_embeddings_)[real])
        best = similarity.argmax(axis=1)
        best_similarity = similarity[np.arange(len(best)), best]
        threshold = self.meta["assign_threshold"]
        return [int(ids[real[b]]) if s >= threshold else OUTLIER for b, s in zip(best, best_similarity)]

    @property
    def document_topics(self) -> list[int]:
        """The topic of each text the model was fitted on, in input order, after outlier reduction."""
        return [int(t) for t in self._bertopic.topics_]

    def topic_ids(self) -> list[int]:
        """-1 first (even when empty: `assign` can still produce it), then the topics in id order."""
        return [OUTLIER] + [t for t in self._topic_rows() if t != OUTLIER]

    def topics(self) -> list[dict]:
        return [self.topic(t) for t in self.topic_ids()]

    def topic(self, topic_id: int) -> dict:
        if topic_id not in self.topic_ids():
            raise KeyError(f"no topic {topic_id}: the model has {', '.join(map(str, self.topic_ids()))}")
        terms = [(str(term), round(float(weight), 4)) for term, weight in (self._bertopic.get_topic(topic_id) or [])
                 if term]  # BERTopic pads a topic with fewer non-zero terms with ("", 1e-05)
        custom = self.labels.get(topic_id)
        return {"id": topic_id,
                "label": custom or ("outliers" if topic_id == OUTLIER else _label(terms)),
                "terms": terms,
                "size": int(self._bertopic.topic_sizes_.get(topic_id, 0)),
                "examples": list(self.meta["examples"].get(str(topic_id), []))}

    @property
    def labels(self) -> dict[int, str]:
        """The labels a researcher gave topics (`discourse topics rename`), by topic id."""
        return {int(t): label for t, label in self.meta.get("labels", {}).items()}

    def shares(self, topics: list[int], groups: list[str]) -> dict[str, dict[int, float]]:
        """Per group (mothers/fathers, a source, a month): the share of its texts in each topic, -1 included, so
        each group's shares sum to 1 and groups can be compared topic by topic."""
        topics, groups = list(topics), list(groups)
        if len(topics) != len(groups):
            raise ValueError(f"{len(topics)} topics but {len(groups)} groups: one group per text")
        known = self.topic_ids()
        unknown = sorted(set(topics) - set(known))
        if unknown:
            raise ValueError(f"topic ids {unknown} are not in this model ({known})")
        counts: dict[str, Counter] = {}
        for topic, group in zip(topics, groups):
            counts.setdefault(group, Counter())[topic] += 1
        return {group: {t: counter[t] / sum(counter.values()) for t in known}
                for group, counter in sorted(counts.items())}

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> None:
        """BERTopic's safetensors files (topic embeddings, c-TF-IDF and its vectorizer) in `bertopic/`, and our
        metadata (encoder version, config, sizes, outlier shares, examples) in topic_model.json."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with _quiet_bertopic():  # it warns that no embedding model is saved: on purpose, see encoder_version
            self._bertopic.save(directory / BERTOPIC_DIR, serialization="safetensors", save_ctfidf=True,
                                save_embedding_model=False)
        (directory / META_FILE).write_text(json.dumps(self.meta, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> "TopicModel":
        from bertopic import BERTopic

        directory = Path(directory)
        meta_path = directory / META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{directory} is not a topic model folder: it has no {META_FILE}")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("type") != "topics" or meta.get("format") != FORMAT:
            raise ValueError(f"{meta_path}: not a topic model of format {FORMAT} "
                             f"(type={meta.get('type')!r}, format={meta.get('format')!r})")
        # No embedding_model: the saved config.json names none, so BERTopic falls back to an empty BaseEmbedder
        # instead of fetching one; `assign` is always given embeddings.
        with _quiet_bertopic():
            bertopic = BERTopic.load(str(directory / BERTOPIC_DIR))
        bertopic.representative_docs_ = {int(t): docs for t, docs in meta["examples"].items()}
        return cls(bertopic, meta)

    def _topic_rows(self) -> list[int]:
        """Topic ids in the order of the rows of topic_embeddings_ (sorted, -1 first when it has texts)."""
        return sorted(int(t) for t in self._bertopic.topic_sizes_)

    def __repr__(self) -> str:
        return (f"TopicModel(topics={self.meta['n_topics']}, texts={self.meta['n_texts']}, "
                f"outliers={self.meta['outlier_share_after']}, encoder_version={self.meta['encoder_version']!r})")


def topic_encoder(backend: str | None = None, cache=None):
    """The encoder to find topics with: the project's base sentence encoder ($DISCOURSE_ENCODER, default the
    rebuilt multilingual-e5-small), deliberately without the shipped framing model's LoRA adapter. The adapter was
    trained to tell stances and frames apart, and it pulls sentences on different subjects together when they carry
    the same frame: on the five-theme test corpus it merges borstvoeding, slapen and kinderopvang (all "the burden
    of care") into one topic, where the base encoder finds five topics that match the five themes exactly."""
    from ..encoder import load_inference_encoder

    return load_inference_encoder(None, None, backend, cache)


# ---------------------------------------------------------------------- helpers


def topic_documents(texts: list[str], config: TopicConfig) -> list[str]:
    """The texts as c-TF-IDF and the representation models read them (lemmas, see vocabulary.topic_document)."""
    return [topic_document(t, config.language) for t in texts] if config.lemmas else list(texts)


def topic_vectorizer(texts: list[str], docs: list[str], config: TopicConfig):
    """The vectorizer of `docs` (topic_documents of `texts`): with lemmas, bigrams only of adjacent words."""
    bigrams = adjacent_bigrams(texts, config.language) if config.lemmas else None
    return dutch_vectorizer(docs, config.language, bigrams=bigrams)


def describe(bertopic, texts: list[str], docs: list[str], topics: list[int], config: TopicConfig, vectorizer,
             encoder=None) -> list[int]:
    """Terms of each topic of `topics` (one per text; `docs` the texts as topic_documents): c-TF-IDF's, refined
    by the representation models of `config.representation`, which embed candidate terms and representative
    sentences with `encoder`. A topic whose sentences have no content word at all ("Ja.", "(lacht) Ja.") gets
    their most frequent word forms instead, so that its label says what it is; returns those topics' ids."""
    representation = _representation_models(config)
    bertopic.embedding_model = _encoder_backend(encoder) if representation else None
    try:
        with _quiet_bertopic():  # it warns that custom assignments must be the last step: they are
            bertopic.update_topics(docs, topics=topics, top_n_words=config.top_terms, vectorizer_model=vectorizer,
                                   representation_model=representation)
    finally:  # neither is saved (nothing for BERTopic to fetch on load) nor needed after this
        bertopic.embedding_model = None
        bertopic.representation_model = None
    empty = [t for t, words in bertopic.topic_representations_.items()
             if t != OUTLIER and not any(word for word, _ in words)]
    for topic in empty:
        counts = Counter(token for text, t in zip(texts, topics) if t == topic for token in tokenize(text))
        total = sum(counts.values()) or 1
        bertopic.topic_representations_[topic] = [(word, n / total) for word, n in
                                                  counts.most_common(config.top_terms)] or [("", 1e-05)]
    return sorted(int(t) for t in empty)


def _representation_models(config: TopicConfig) -> list | None:
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

    top = config.top_terms
    # KeyBERT offers twice the terms: MMR then has near-synonyms to skip, and the empty strings c-TF-IDF pads a
    # topic's candidates with (which KeyBERT embeds and may rank) can be dropped without leaving a topic short.
    keybert = [KeyBERTInspired(top_n_words=2 * top, random_state=config.seed), _non_empty(2 * top)]
    mmr = _enough_words(MaximalMarginalRelevance(diversity=MMR_DIVERSITY, top_n_words=top), top)
    models = {"c-tf-idf": None,
              "keybert": keybert + [_non_empty(top)],
              "mmr": [_non_empty(top * 3), mmr],
              "keybert-mmr": keybert + [mmr]}
    return models[config.representation]


def _enough_words(step, top_n: int):
    """`step` (MMR) on the topics with more than `top_n` candidate terms; the others keep theirs (BERTopic
    0.17's MMR fails on a topic with fewer candidates than it is asked to choose, and has nothing to choose)."""
    from bertopic.representation import BaseRepresentation

    class EnoughWords(BaseRepresentation):
        def extract_topics(self, topic_model, documents, c_tf_idf, topics):
            ranked = {topic: words for topic, words in topics.items() if len(words) > top_n}
            chosen = step.extract_topics(topic_model, documents, c_tf_idf, ranked) if ranked else {}
            return {topic: chosen.get(topic, words) for topic, words in topics.items()}

    return EnoughWords()


def _non_empty(top_n: int):
    """A representation step that drops empty terms and keeps the first `top_n`. A topic with no term at all (an
    outlier topic of sentences made only of stop words) keeps one padding term: MMR cannot rank zero words."""
    from bertopic.representation import BaseRepresentation

    class NonEmpty(BaseRepresentation):
        def extract_topics(self, topic_model, documents, c_tf_idf, topics):
            return {topic: [(word, value) for word, value in words if word][:top_n] or words[:1]
                    for topic, words in topics.items()}

    return NonEmpty()


def _encoder_backend(encoder):
    """The project's encoder as a BERTopic embedding backend (terms and sentences embedded, cached, offline)."""
    from bertopic.backend import BaseEmbedder

    class EncoderBackend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return encoder.encode(list(documents))

    return EncoderBackend()


def _check_encoder(config: TopicConfig, encoder) -> None:
    if config.representation != "c-tf-idf" and encoder is None:
        raise ValueError(f"representation {config.representation!r} embeds candidate terms: pass the encoder "
                         f"that made the embeddings (or use representation='c-tf-idf')")


def _set_topic_embeddings(bertopic, texts: list[str], topics: list[int], embeddings: np.ndarray) -> dict:
    """Topic embeddings (centroids) and examples from the final assignment; returns the examples. update_topics
    (0.17.4) never refreshes the embeddings right: it compares the new topics with topics_ after already
    overwriting topics_, so once -1 is emptied the rows would shift by one against the topic ids."""
    ids, centroids = _centroids(topics, embeddings)
    bertopic.topic_embeddings_ = centroids
    examples = _examples(texts, topics, embeddings, dict(zip(ids, centroids)))
    bertopic.representative_docs_ = {topic: docs for topic, docs in examples.items()}
    return examples


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _as_embeddings(texts: list[str], embeddings) -> np.ndarray:
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or len(embeddings) != len(texts):
        raise ValueError(f"{len(texts)} texts need a ({len(texts)}, dim) embedding matrix; got shape "
                         f"{embeddings.shape}")
    if not np.isfinite(embeddings).all():
        raise ValueError("embeddings contain NaN or infinite values")
    return embeddings


def _fit_bertopic(texts: list[str], embeddings: np.ndarray, config: TopicConfig,
                  vectorizer) -> tuple[object, list[int], int]:
    """BERTopic fitted on `texts` with `vectorizer` (topic_vectorizer): (model, topic per text, the n_neighbors
    UMAP used)."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

    n_neighbors = min(config.n_neighbors, len(texts) - 1)  # UMAP cannot have more neighbours than points
    # random_state makes UMAP reproducible and single-threaded (n_jobs=1 said explicitly: no warning).
    umap_model = UMAP(n_neighbors=n_neighbors, n_components=config.n_components, min_dist=0.0, metric="cosine",
                      random_state=config.seed, n_jobs=1)
    # prediction_data is not kept: `assign` predicts from topic embeddings (see the module docstring).
    hdbscan_model = HDBSCAN(min_cluster_size=config.min_topic_size, metric="euclidean",
                            cluster_selection_method="eom", prediction_data=False)
    # language only matters to BERTopic when it must pick an embedding model (never: embeddings are given) and for
    # "english", which strips every non-ASCII letter before c-TF-IDF ("crèche" → "crche"): so not that.
    bertopic = BERTopic(language="dutch", top_n_words=config.top_terms, n_gram_range=(1, 2),
                        min_topic_size=config.min_topic_size, embedding_model=None, umap_model=umap_model,
                        hdbscan_model=hdbscan_model, vectorizer_model=vectorizer, calculate_probabilities=False)
    with _quiet_bertopic():
        topics, _ = bertopic.fit_transform(texts, embeddings)
    return bertopic, [int(t) for t in topics], n_neighbors


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from sklearn.metrics.pairwise import cosine_similarity

    return cosine_similarity(a, b)


def _centroids(topics: list[int], embeddings: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Mean embedding per topic id in sorted order (-1 first when present): what BERTopic computes at fit time,
    float32 like the rows it saves, so `assign` gives the same before and after save/load."""
    labels = np.asarray(topics)
    ids = sorted(set(topics))
    return ids, np.stack([embeddings[labels == t].mean(axis=0) for t in ids]).astype(np.float32)


def _member_similarity_floor(topics: list[int], embeddings: np.ndarray, centroids: dict[int, np.ndarray]) -> float:
    labels = np.asarray(topics)
    similarities = [_cosine(embeddings[labels == t], centroids[t][None, :])[:, 0]
                    for t in centroids if t != OUTLIER]
    return float(np.percentile(np.concatenate(similarities), MEMBER_PERCENTILE))


def _reduce_outliers(bertopic, texts: list[str], topics: list[int], embeddings: np.ndarray, max_share: float,
                     member_floor: float) -> tuple[list[int], list[dict]]:
    """Move outliers into topics until at most `max_share` of the texts are left in -1, most convincing first:
    1. embeddings: similar to a topic centroid as its own members are (`member_floor`);
    2. c-TF-IDF: the text shares a topic's distinctive words (CTFIDF_THRESHOLD);
    3. the cap: of those still left, the ones closest to a centroid join until exactly the cap remains (the bar
       is the similarity of the last one admitted), so -1 keeps the texts that fit no topic at all.
    Between steps BERTopic's topic embeddings and c-TF-IDF stay those of the fit, as reduce_outliers expects."""
    allowed = math.floor(max_share * len(topics))
    steps: list[dict] = []

    def run(strategy: str, threshold: float) -> None:
        nonlocal topics
        kwargs = {"embeddings": embeddings} if strategy == "embeddings" else {}
        with _quiet_bertopic():
            topics = [int(t) for t in bertopic.reduce_outliers(texts, topics, strategy=strategy,
                                                               threshold=threshold, **kwargs)]
        steps.append({"strategy": strategy, "threshold": float(threshold),  # exact: assign_threshold reuses it
                      "outlier_share": round(topics.count(OUTLIER) / len(topics), 4)})

    if topics.count(OUTLIER) > allowed:
        run("embeddings", member_floor)
    if topics.count(OUTLIER) > allowed:
        run("c-tf-idf", CTFIDF_THRESHOLD)
    if topics.count(OUTLIER) > allowed:
        outliers = [i for i, t in enumerate(topics) if t == OUTLIER]
        # Same similarities as reduce_outliers computes: against the non-outlier rows of the fit's embeddings.
        best = _cosine(embeddings[outliers], np.asarray(bertopic.topic_embeddings_)[1:]).max(axis=1)
        admit = len(outliers) - allowed
        run("embeddings", float(np.sort(best)[::-1][admit - 1]))
    return topics, steps


def _examples(texts: list[str], topics: list[int], embeddings: np.ndarray,
              centroids: dict[int, np.ndarray]) -> dict[int, list[str]]:
    """Per topic the texts closest to its centroid, distinct (news repeats boilerplate sentences). Chosen by
    embedding rather than BERTopic's c-TF-IDF sampling so that they follow the final, outlier-reduced topics."""
    labels = np.asarray(topics)
    out = {}
    for topic, centroid in centroids.items():
        members = np.flatnonzero(labels == topic)
        order = members[np.argsort(-_cosine(embeddings[members], centroid[None, :])[:, 0], kind="stable")]
        chosen: list[str] = []
        for i in order:
            if texts[i] not in chosen:
                chosen.append(texts[i])
            if len(chosen) == EXAMPLES_PER_TOPIC:
                break
        out[topic] = chosen
    return out


def _label(terms: list[tuple[str, float]]) -> str:
    """The first LABEL_TERMS terms by weight that repeat no word: "borstvoeding · borstvoeding geven · geven"
    would say one thing three times, so a term sharing a word with the label so far is skipped."""
    chosen: list[str] = []
    seen: set[str] = set()
    for term, _ in terms:
        words = set(term.split())
        if words & seen:
            continue
        chosen.append(term)
        seen |= words
        if len(chosen) == LABEL_TERMS:
            break
    return " · ".join(chosen)


def _bertopic_version() -> str:
    from importlib.metadata import version

    return version("bertopic")


@contextmanager
def _quiet_bertopic():
    """Silence BERTopic's warnings about what this wrapper does on purpose (no embedding model saved or loaded,
    custom topic assignments). A filter, not a level: BERTopic resets its logger's level on every construction."""
    logger = logging.getLogger("BERTopic")

    def errors_only(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    logger.addFilter(errors_only)
    try:
        yield
    finally:
        logger.removeFilter(errors_only)
