"""Train (optionally) and measure the relevance pre-filter: recall on the annotated corpus, share of real news
sentences it passes, speed.

    .venv/bin/python bench/prefilter.py --train --write     # retrain models/prefilter (needs ../shared/corpora)
    .venv/bin/python bench/prefilter.py                     # measure the shipped filter

Training uses the train split plus real sentences as negatives: 24,000 sentences of DPG news, Flemish government
decisions, Belgian parliamentary questions and NPO 2023 web articles and radio transcripts that contain no word of
early parenthood (discourse.model.prefilter.PARENTHOOD), so that a relevant news sentence is not taught as irrelevant. NOS is left out of training entirely: it is the archive the
archive benchmark (bench/archive.py) scores, and the NOS pass share below is measured on sentences the filter never
saw. The threshold is set on dev (≥ 99 % of relevant dev units pass); test recall is the honest figure, and recall
on the 226 relevant sentences of the real validation set (corpora/real_validation) is the check on real text.
`--write` saves the filter and models/prefilter/metrics.json.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random

from real_sentences import iter_documents, resolve  # noqa: E402
from sentences import NOS, ROOT, nos_sentences  # noqa: E402  (puts the repo on sys.path)

from discourse.training.corpus import load_units
from discourse.model.prefilter import (DEFAULT_PREFILTER_DIR, PARENTHOOD, RelevancePrefilter, evaluate_prefilter,
                                       train_prefilter)

MEASURED = slice(0, 3000)
N_NEGATIVES = 24_000
NEGATIVE_CORPORA = ("dpgmedia2019", "vlaamse-regering-beslissingen", "be-kamer-vragen-2020")
def _npo_documents():
    """NPO 2023 election coverage: 663 web articles (NOS.nl 2023, none of them in the NOS benchmark archive, which
    ends in 2021) and the radio transcripts (spoken Dutch)."""
    folder = NOS.parent / "npo2023-nieuwsmonitor"
    for path in [folder / "websites_amcat.csv", *sorted(folder.glob("radio_transcripten_politici*.csv"))]:
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield row.get("text") or ""


def real_negatives(exclude: set[str], n: int = N_NEGATIVES, seed: int = 0) -> list[str]:
    """A seeded sample of `n` real sentences of 5-60 words without a parenthood word, from NEGATIVE_CORPORA and
    NPO, minus `exclude` (the validation set's texts)."""
    from discourse.segment import sentence_texts

    documents = (text for corpus, _file, _line, text in iter_documents() if corpus in NEGATIVE_CORPORA)
    pool = [s for text in itertools.chain(documents, _npo_documents()) for s in sentence_texts(text)
            if 5 <= len(s.split()) <= 60 and s not in exclude and not PARENTHOOD.search(s)]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def real_validation() -> tuple[list[str], list[bool]]:
    rows = [json.loads(line) for line in (ROOT / "corpora" / "real_validation" / "labels.jsonl").open()]
    return [resolve(r) for r in rows], [bool(r["relevant"]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", action="store_true", help="retrain before measuring")
    parser.add_argument("--write", action="store_true", help="save the (re)trained filter and metrics.json")
    args = parser.parse_args()
    units = load_units()
    split = {name: [u for u in units if u.split == name] for name in ("train", "dev", "test")}
    nos = nos_sentences(3000) if NOS.is_dir() else None
    if args.train:
        texts, _ = real_validation()
        negatives = real_negatives(set(texts))
        prefilter = train_prefilter([u.text for u in split["train"]], [u.relevant for u in split["train"]],
                                    [u.text for u in split["dev"]], [u.relevant for u in split["dev"]],
                                    negatives, trained_on=(
                                        f"train split + {len(negatives)} real sentences without a parenthood word "
                                        f"({', '.join(NEGATIVE_CORPORA)}, NPO 2023 web and radio) as negatives; "
                                        f"the NOS archive and the real validation set unseen"))
    else:
        prefilter = RelevancePrefilter.load()
    report = {"command": "bench/prefilter.py --train --write", "threshold": prefilter.config.threshold}
    for name in ("dev", "test"):
        report[name] = evaluate_prefilter(prefilter, [u.text for u in split[name]], [u.relevant for u in split[name]])
        report[f"{name}_interview"] = evaluate_prefilter(
            prefilter, [u.text for u in split[name] if u.genre == "interview"],
            [u.relevant for u in split[name] if u.genre == "interview"])
    texts, relevant = real_validation()
    report["real_validation"] = evaluate_prefilter(prefilter, texts, relevant)
    if nos is not None:
        report["nos_unseen"] = evaluate_prefilter(prefilter, nos[MEASURED], [False] * len(nos[MEASURED]))
    print(json.dumps(report, indent=2))
    if args.write:
        prefilter.save(DEFAULT_PREFILTER_DIR)
        (DEFAULT_PREFILTER_DIR / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
