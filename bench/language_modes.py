"""The language detector's memory against its decisions: which set-up can serve Dutch text in little memory.

    .venv/bin/python bench/language_modes.py [--radio 3000]

Two sets of text go through each set-up, each set-up in a fresh process so that its RSS is its own:
- real Dutch from ../shared/corpora (every NOS and DPG title, the first `--radio` NPO radio turns: short, hard
  text) and the authored units of corpora/annotated (spoken Flemish and Netherlands Dutch);
- the authored check set `bench/data/language_check_sentences.jsonl`: 12 texts in each of 15 other languages
  (headline, sentence, paragraph; Afrikaans and Frisian the hard ones) and 40 Dutch texts a detector may take for
  something else (headlines with English names, spoken Flemish, Dutch mixed with English, short policy lines).
Set-ups: `served` (what `discourse.pipeline.language` serves: fastText's lid.176 restricted to the candidate
languages, a lingua Dutch/Afrikaans pair where it says Dutch or Afrikaans); `high` (what it served before: lingua,
15 languages, high accuracy); `low` (the same, lingua's low-accuracy mode: trigram models only); `pair` (low accuracy
first; a text it does not call Dutch is decided by a high-accuracy detector of Dutch and that language alone);
`fasttext` (lid.176 alone, all 176 languages). Per set-up: RSS after loading and after the run; Dutch texts flagged
and refused under the service's rule (confidence >= REFUSE_CONFIDENCE with >= REFUSE_MIN_LETTERS letters) and at
the confidences in STRICTER; per language of the check set, how many were refused, flagged or taken for Dutch.
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
MODES = ("served", "high", "low", "pair", "fasttext")
STRICTER = (0.8, 0.9, 0.95)  # refusal confidences tried beside each set-up's own
LINGUA_REFUSE_AT = 0.80  # the confidence lingua's 15-language detector refused from when it was served

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


def check_set() -> list[dict]:
    """The authored language-check set: non-Dutch text in 15 languages (Afrikaans and Frisian the hard ones) and
    Dutch that a detector may take for something else (headlines with English names, spoken Flemish, Dutch mixed
    with English, short policy lines)."""
    path = ROOT / "bench" / "data" / "language_check_sentences.jsonl"
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def decide(guess, text: str):
    """(the set-up's guess, the service's verdict on it: `discourse.pipeline.language.judge`, mode strict)."""
    from discourse.pipeline import language as L

    sample, letters = L.sample_of(text)
    if letters < L.MIN_LETTERS:
        found = L.LanguageGuess("nl", 0.0, letters)
    else:
        code, confidence, refuse_at = guess(sample)
        found = L.LanguageGuess(code, confidence, letters, refuse_at)
    return found, L.judge(found)


def verdict_name(verdict) -> str:
    return "refused" if verdict.refuse else "flagged" if verdict.uncertain else "dutch"


def run(mode: str, radio: int) -> dict:
    from discourse.pipeline import language as L
    from discourse.training.corpus import load_units

    texts = dutch_texts(radio)
    start = status_mb("VmRSS")
    guess, extra = SETUPS[mode](mode)
    loaded = status_mb("VmRSS")
    flagged, refused, stricter = 0, [], {c: 0 for c in STRICTER}
    started = time.perf_counter()
    for text in texts:
        found, verdict = decide(guess, text)
        flagged += verdict.uncertain or verdict.refuse
        if verdict.refuse:
            refused.append(f"{found.code} {found.confidence:.2f}: {text[:80]}")
        if not found.is_dutch and found.letters >= L.REFUSE_MIN_LETTERS:
            for c in STRICTER:
                stricter[c] += found.confidence >= c
    seconds = round(time.perf_counter() - started, 1)
    units = [u.text for u in load_units()]
    authored = {"texts": len(units), "flagged": 0, "refused": 0}
    for text in units:
        verdict = verdict_name(decide(guess, text)[1])
        if verdict != "dutch":
            authored[verdict] += 1
    per_language: dict[str, dict[str, int]] = {}
    wrong: list[str] = []
    for row in check_set():
        verdict = verdict_name(decide(guess, row["text"])[1])
        per_language.setdefault(row["lang"], {"dutch": 0, "flagged": 0, "refused": 0})[verdict] += 1
        if (verdict == "dutch") != (row["lang"] == "nl"):
            wrong.append(f"{row['lang']} -> {verdict}: {row['text'][:70]}")
    return {"mode": mode, "texts": len(texts), "rss_start_mb": start, "rss_loaded_mb": loaded,
            "rss_after_mb": status_mb("VmRSS"), "seconds": seconds,
            "flagged_not_dutch": flagged, "refused": len(refused),
            "refused_at": {str(c): n for c, n in stricter.items()}, "refused_examples": refused[:10],
            "authored_units": authored, "check_set": per_language, "check_set_wrong": wrong, **extra()}


def _served(mode: str):
    from discourse.pipeline import language as L

    L.load_detectors()

    def guess(sample: str):
        found = L.detect_language(sample)
        return found.code, found.confidence, found.refuse_at

    return guess, dict


def _lingua(mode: str):
    from lingua import Language, LanguageDetectorBuilder

    languages = (Language.DUTCH, Language.ENGLISH, Language.FRENCH, Language.GERMAN, Language.SPANISH,
                 Language.ITALIAN, Language.PORTUGUESE, Language.TURKISH, Language.ARABIC, Language.POLISH,
                 Language.ROMANIAN, Language.AFRIKAANS, Language.DANISH, Language.SWEDISH, Language.INDONESIAN)

    def build(chosen, low=False):
        builder = LanguageDetectorBuilder.from_languages(*chosen)
        return (builder.with_low_accuracy_mode() if low else builder).with_preloaded_language_models().build()

    detector = build(languages, low=mode != "high")
    pairs: dict = {}

    def guess(sample: str):
        best = detector.compute_language_confidence_values(sample)[0]
        if mode == "pair" and best.language != Language.DUTCH:
            if best.language not in pairs:
                pairs[best.language] = build((Language.DUTCH, best.language))
            best = pairs[best.language].compute_language_confidence_values(sample)[0]
        return best.language.iso_code_639_1.name.lower(), best.value, LINGUA_REFUSE_AT

    return guess, lambda: {"pair_detectors_built": len(pairs)}


def _fasttext(mode: str):
    """lid.176's best language over all 176 (Dutch's regional varieties counted as Dutch)."""
    from discourse.pipeline import language as L

    model = L._fasttext()

    def guess(sample: str):
        labels, probs = model.predict(" ".join(sample.split()), k=10)
        scores: dict[str, float] = {}
        for label, p in zip(labels, probs):
            code = label.removeprefix("__label__")
            code = "nl" if code in L.DUTCH_VARIETIES else code
            scores[code] = scores.get(code, 0.0) + float(p)
        return (*max(scores.items(), key=lambda kv: kv[1]), L.REFUSE_CONFIDENCE)

    return guess, dict


SETUPS = {"served": _served, "high": _lingua, "low": _lingua, "pair": _lingua, "fasttext": _fasttext}


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
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--radio", str(args.radio)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{mode:8} RSS loaded {r['rss_loaded_mb']:6.1f} MB, after {r['rss_after_mb']:6.1f} MB; "
              f"{r['texts']} Dutch texts in {r['seconds']} s: {r['flagged_not_dutch']} flagged, {r['refused']} "
              f"refused (at {', '.join(f'{c}: {n}' for c, n in r['refused_at'].items())})")
        other = [v for lang, v in r["check_set"].items() if lang != "nl"]
        dutch = r["check_set"].get("nl", {})
        missed = ", ".join(f"{lang} {v['dutch']}" for lang, v in r["check_set"].items() if lang != "nl" and v["dutch"])
        print(f"{'':8} non-Dutch check set: {sum(v['refused'] for v in other)} refused, "
              f"{sum(v['flagged'] for v in other)} flagged, {sum(v['dutch'] for v in other)} taken for Dutch "
              f"({missed or 'none'}); "
              f"Dutch check set: {dutch.get('refused', 0)} refused, {dutch.get('flagged', 0)} flagged; "
              f"authored units: {r['authored_units']['refused']} refused, {r['authored_units']['flagged']} flagged "
              f"of {r['authored_units']['texts']}")
    OUT.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
