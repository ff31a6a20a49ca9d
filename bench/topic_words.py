"""Topic words a researcher can read: coherence and diversity of the topics' top-10 terms, before and after.

    .venv/bin/python bench/topic_words.py [--only demo|nos] [--n 20000] [--write]

Before: plain c-TF-IDF terms of word forms (the topic model as it was: bigrams across dropped words, verbs and
inflections as terms). After: lemmas, no inflected verbs, bigrams only of adjacent content words
(discourse.topics.vocabulary), then the representation models on the project's encoder: KeyBERTInspired,
MaximalMarginalRelevance, and both. The default after is lemmas with plain c-TF-IDF: it measured best (see
bench/README.md). All variants use today's stop list (the vague words included).

Every variant describes the SAME topics: the model is fitted once (UMAP, HDBSCAN, outlier reduction), and each
variant re-computes only the terms of that assignment (TopicModel.curated), so differences are the terms' alone.

- coherence: NPMI (Bouma 2009) of every pair of a topic's top-10 terms, from their co-occurrence in the same
  sentence across the data set itself (each variant on its own analysis of the sentences: word forms before, lemmas
  after), averaged per topic, then over topics; -1 for a pair that never co-occurs, 1 for one that always does.
  A two-word term occurs in fewer sentences than its words, so `npmi_words` also scores the distinct single words
  of the top-10 terms ("jong gezin" counts as "jong" and "gezin");
- diversity: the share of distinct terms among the top-10 terms of all topics (1 = no term in two topics);
- noise: the share of top-10 terms with a filler, a vague word or an inflected verb form (is_verb_form) in them.

Data: the demo (invented interviews and institutional texts, loaded into a temporary store as `make run` does, the
sentences `discourse topics fit --filter 'genre=interview|policy'` fits on), and `--n` real NOS sentences from
../shared/corpora/nos-wedemeyer (bench/topics.py's reader; skipped, saying so, when the folder is absent).
Embeddings are cached in $DISCOURSE_HOME/bench/topics-embeddings.sqlite, shared with bench/topics.py.
`--write` merges the result into bench/results/topic_words.json under "demo" / "nos".
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import datetime, timezone
from itertools import combinations

import numpy as np
from sentences import NOS, ROOT, merge_result  # noqa: E402  (puts the repo on sys.path)

from discourse.compare.tokens import lemma  # noqa: E402
from discourse.encoder import EmbeddingCache  # noqa: E402
from discourse.settings import discourse_home  # noqa: E402
from discourse.topics import TopicConfig, TopicModel, topic_encoder  # noqa: E402
from discourse.topics.model import topic_documents  # noqa: E402
from discourse.topics.vocabulary import is_verb_form  # noqa: E402
from discourse.vocabulary import FILLERS, VAGUE_WORDS  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "topic_words.json"
TOP = 10
VARIANTS = {
    "before: c-TF-IDF, word forms": TopicConfig(lemmas=False, representation="c-tf-idf"),
    "lemmas, no verbs: c-TF-IDF": TopicConfig(lemmas=True, representation="c-tf-idf"),
    "lemmas + KeyBERTInspired": TopicConfig(lemmas=True, representation="keybert"),
    "lemmas + MMR": TopicConfig(lemmas=True, representation="mmr"),
    "lemmas + KeyBERTInspired + MMR": TopicConfig(lemmas=True, representation="keybert-mmr"),
}


def demo_sentences() -> list[str]:
    from discourse.model.framing import FramingModel
    from discourse.pipeline.demo import load_demo
    from discourse.settings import DEFAULT_MODEL_DIR
    from discourse.store import make_engine, session_factory
    from discourse.store.selection import SegmentFilter, select_segments

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.sqlite"
        load_demo(url, FramingModel.load(DEFAULT_MODEL_DIR))
        engine = make_engine(url)
        with session_factory(engine)() as session:
            rows = select_segments(session, SegmentFilter.parse("genre=interview|policy"))
        engine.dispose()
    return list({(r.document_id, r.position): r.text for r in rows}.values())


def npmi_coherence(topics: list[list[str]], incidence, vocabulary: dict[str, int]) -> float:
    """Mean over topics of the mean NPMI of their term pairs, from sentence-level co-occurrence."""
    n_docs = incidence.shape[0]
    scores = []
    for terms in topics:
        columns = [incidence[:, vocabulary[t]] for t in terms if t in vocabulary]
        pairs = []
        for a, b in combinations(columns, 2):
            joint = a.multiply(b).sum() / n_docs
            if joint == 0:
                pairs.append(-1.0)
                continue
            p_a, p_b = a.sum() / n_docs, b.sum() / n_docs
            pairs.append(1.0 if joint == 1 else float(np.log(joint / (p_a * p_b)) / -np.log(joint)))
        if pairs:
            scores.append(float(np.mean(pairs)))
    return round(float(np.mean(scores)), 4) if scores else float("nan")


def words_of(topics: list[list[str]]) -> list[list[str]]:
    """Each topic's terms as distinct single words ("jong gezin" -> "jong", "gezin"), in order."""
    return [list(dict.fromkeys(w for term in terms for w in term.split())) for terms in topics]


def noisy(term: str) -> bool:
    return any(w in FILLERS or w in VAGUE_WORDS or is_verb_form(w, lemma(w)) for w in term.split())


def measure(model: TopicModel, texts: list[str], seconds: float) -> dict:
    topics = [[term for term, _ in t["terms"]][:TOP] for t in model.topics() if t["id"] != -1 and t["size"]]
    vectorizer = model._bertopic.vectorizer_model
    incidence = (vectorizer.transform(topic_documents(texts, model.config)) > 0).astype(np.int32).tocsc()
    all_terms = [term for terms in topics for term in terms]
    largest = sorted((t for t in model.topics() if t["id"] != -1), key=lambda t: -t["size"])[:6]
    return {"seconds": round(seconds, 1),
            "npmi": npmi_coherence(topics, incidence, vectorizer.vocabulary_),
            "npmi_words": npmi_coherence(words_of(topics), incidence, vectorizer.vocabulary_),
            "diversity": round(len(set(all_terms)) / max(1, len(all_terms)), 4),
            "noise_share": round(sum(map(noisy, all_terms)) / max(1, len(all_terms)), 4),
            "multi_word_share": round(sum(" " in t for t in all_terms) / max(1, len(all_terms)), 4),
            "largest_topics": [{"size": t["size"], "terms": [term for term, _ in t["terms"]][:TOP]}
                               for t in largest]}


def run(name: str, texts: list[str], min_topic_size: int) -> dict:
    encoder = topic_encoder(cache=EmbeddingCache(discourse_home() / "bench" / "topics-embeddings.sqlite"))
    started = time.perf_counter()
    embeddings = encoder.encode(texts)
    embed_seconds = time.perf_counter() - started
    before = replace(VARIANTS["before: c-TF-IDF, word forms"], min_topic_size=min_topic_size)
    started = time.perf_counter()
    fitted = TopicModel.fit(texts, embeddings, before, encoder_version=encoder.version, encoder=encoder)
    fit_seconds = time.perf_counter() - started
    topics = fitted.document_topics
    variants = {}
    for label, config in VARIANTS.items():
        config = replace(config, min_topic_size=min_topic_size)
        started = time.perf_counter()
        model = TopicModel(fitted._bertopic, {**fitted.meta, "config": asdict(config)}).curated(
            texts, embeddings, topics, {}, encoder, {"operation": "bench"})
        variants[label] = measure(model, texts, time.perf_counter() - started)
        print(f"{name} · {label}: npmi {variants[label]['npmi']}, diversity {variants[label]['diversity']}, "
              f"noise {variants[label]['noise_share']}", file=sys.stderr)
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "sentences": len(texts),
            "topics": fitted.meta["n_topics"], "min_topic_size": min_topic_size,
            "embed_seconds": round(embed_seconds, 1), "embeddings_computed": encoder.computed,
            "fit_seconds": round(fit_seconds, 1), "variants": variants}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["demo", "nos"])
    parser.add_argument("--n", type=int, default=20_000, help="NOS sentences (default 20000)")
    parser.add_argument("--write", action="store_true", help=f"merge the result into {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    results = {}
    if args.only in (None, "demo"):
        results["demo"] = {"command": "bench/topic_words.py --only demo", **run("demo", demo_sentences(), 8)}
    if args.only in (None, "nos"):
        if not NOS.is_dir():
            print(f"skipping the NOS part: {NOS} (the shared NOS corpus) is not there", file=sys.stderr)
        else:
            from topics import real_sentences

            texts, sources = real_sentences(args.n)
            results["nos"] = {"command": f"bench/topic_words.py --only nos --n {args.n}", "sources": sources,
                              **run("nos", texts, TopicConfig().min_topic_size)}
    print(json.dumps(results, ensure_ascii=False, indent=2))
    if args.write:
        for key, result in results.items():
            merge_result(RESULTS, key, result)


if __name__ == "__main__":
    main()
