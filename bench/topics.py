"""Topic modelling speed: `TopicModel.fit` on n real Dutch sentences whose embeddings are already cached.

    .venv/bin/python bench/topics.py [--n 20000] [--cache PATH] [--write]

Sentences: distinct 5-60-word sentences from the NOS articles (bench/sentences.py), topped up from the other
shared corpora (bench/real_sentences.py) when NOS has fewer. They are embedded by the topic encoder
(discourse.topics.topic_encoder: the base multilingual-e5-small, onnx int8) through an EmbeddingCache SQLite file,
$DISCOURSE_HOME/bench/topics-embeddings.sqlite by default: the first run computes them (~100 sentences/s on two
cores) and later runs read them back. The embedding time is reported separately; the timed figure is the fit alone
(UMAP, HDBSCAN, c-TF-IDF, outlier reduction), the target being 20,000 sentences within 3 minutes on two
cores. Memory: the peak resident size during the fit (the kernel's high-water mark, reset just before it), and
the peak before it (encoder loaded and running).
`--write` saves the JSON as bench/results/topics.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

from sentences import ROOT, nos_sentences  # noqa: E402  (puts the repo on sys.path)

from discourse.encoder import EmbeddingCache  # noqa: E402
from discourse.settings import discourse_home  # noqa: E402
from discourse.topics import TopicConfig, TopicModel, topic_encoder  # noqa: E402

TARGET_SECONDS = 180
MIN_WORDS, MAX_WORDS = 5, 60
RESULTS = ROOT / "bench" / "results" / "topics.json"


def real_sentences(n: int) -> tuple[list[str], dict[str, int]]:
    """`n` distinct sentences, NOS first (file order, deterministic); repeated boilerplate is kept once, or it
    would form topics of its own."""
    out: list[str] = []
    seen: set[str] = set()
    sources: dict[str, int] = {}

    def add(sentence: str, source: str) -> None:
        if sentence not in seen and MIN_WORDS <= len(sentence.split()) <= MAX_WORDS:
            seen.add(sentence)
            out.append(sentence)
            sources[source] = sources.get(source, 0) + 1

    for sentence in nos_sentences(2 * n, MIN_WORDS, MAX_WORDS):
        add(sentence, "nos-wedemeyer")
        if len(out) == n:
            return out, sources
    from real_sentences import iter_documents

    from discourse.segment import sentence_texts

    for corpus, _file, _line, text in iter_documents():
        if corpus == "nos-wedemeyer":
            continue  # already read above
        for sentence in sentence_texts(text):
            add(sentence, corpus)
            if len(out) == n:
                return out, sources
    raise SystemExit(f"the shared corpora hold only {len(out)} distinct sentences of {MIN_WORDS}-{MAX_WORDS} words")


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's resident size (VmHWM), so that the next reading is the
    peak of what runs from here on; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="sentences to fit on (default 20000)")
    parser.add_argument("--cache", type=Path, default=discourse_home() / "bench" / "topics-embeddings.sqlite",
                        help="EmbeddingCache SQLite file (created if absent)")
    parser.add_argument("--write", action="store_true", help=f"save the result as {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()

    texts, sources = real_sentences(args.n)
    cache = EmbeddingCache(args.cache)
    started = time.perf_counter()
    encoder = topic_encoder(cache=cache)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    embeddings = encoder.encode(texts)
    embed_seconds = time.perf_counter() - started
    computed, encoder_version = encoder.computed, encoder.version
    process_peak = peak_rss_mb()
    config = TopicConfig()
    if config.representation == "c-tf-idf":  # only representation models embed candidate terms with it
        encoder = None  # so the fit's peak memory is the fit's own
    gc.collect()

    reset = reset_peak_rss()
    started = time.perf_counter()
    model = TopicModel.fit(texts, embeddings, config, encoder_version=encoder_version, encoder=encoder)
    fit_seconds = time.perf_counter() - started
    fit_peak = peak_rss_mb() if reset else None
    meta = model.meta
    topics = model.topics()
    result = {
        "command": f"bench/topics.py --n {args.n}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "bertopic": meta["bertopic_version"]},
        "n": len(texts),
        "sources": sources,
        "embedding": {"encoder_version": encoder_version, "encoder_load_seconds": round(load_seconds, 1), "seconds": round(embed_seconds, 1),
                      "computed": computed, "from_cache": len(texts) - computed, "cache": str(args.cache)},
        "config": meta["config"],
        "fit_seconds": round(fit_seconds, 1),
        "target_seconds": TARGET_SECONDS,
        "within_target": fit_seconds <= TARGET_SECONDS,
        "topics_found": meta["n_topics"],
        "outlier_share_before": meta["outlier_share_before"],
        "outlier_share_after": meta["outlier_share_after"],
        "outlier_reduction": meta["outlier_reduction"],
        "assign_threshold": round(meta["assign_threshold"], 4),
        "min_df": meta["min_df"],
        # During the fit: the process's peak after the encoder was dropped (VmHWM reset just before the fit), so
        # it includes the texts and embeddings the fit is given. Before the fit: loading and running the encoder.
        "peak_rss_mb_during_fit": round(fit_peak) if fit_peak is not None else None,
        "peak_rss_mb_before_fit": round(process_peak) if process_peak is not None else None,
        "largest_topics": [{"id": t["id"], "size": t["size"], "label": t["label"]}
                           for t in sorted(topics[1:], key=lambda t: -t["size"])[:15]],
    }
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
