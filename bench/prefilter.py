"""Train (optionally) and measure the relevance pre-filter: recall on the annotated corpus, share of real news
sentences it passes, speed.

    .venv/bin/python bench/prefilter.py --train --write     # retrain models/prefilter (needs ../shared/corpora)
    .venv/bin/python bench/prefilter.py                     # measure the shipped filter

Training uses the train split plus 3,000 NOS sentences (sentences 3,001–6,000 of `nos_sentences`) as negatives;
the NOS pass share is measured on sentences 1–3,000, which the filter never saw. The threshold is set on dev
(≥ 99 % of relevant dev units pass); test recall is the honest figure. `--write` saves the filter and
models/prefilter/metrics.json.
"""

from __future__ import annotations

import argparse
import json

from sentences import NOS, nos_sentences  # noqa: E402  (puts the repo on sys.path)

from discourse.corpus import load_units
from discourse.prefilter import DEFAULT_PREFILTER_DIR, RelevancePrefilter, evaluate_prefilter, train_prefilter

NEGATIVES = slice(3000, 6000)
MEASURED = slice(0, 3000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", action="store_true", help="retrain before measuring")
    parser.add_argument("--write", action="store_true", help="save the (re)trained filter and metrics.json")
    args = parser.parse_args()
    units = load_units()
    split = {name: [u for u in units if u.split == name] for name in ("train", "dev", "test")}
    nos = nos_sentences(6000) if NOS.is_dir() else None
    if args.train:
        if nos is None:
            raise SystemExit(f"training needs real news as negatives: {NOS} is not there")
        prefilter = train_prefilter([u.text for u in split["train"]], [u.relevant for u in split["train"]],
                                    [u.text for u in split["dev"]], [u.relevant for u in split["dev"]],
                                    nos[NEGATIVES], trained_on="train split + NOS sentences 3001-6000")
    else:
        prefilter = RelevancePrefilter.load()
    report = {"command": "bench/prefilter.py --train --write", "threshold": prefilter.config.threshold}
    for name in ("dev", "test"):
        report[name] = evaluate_prefilter(prefilter, [u.text for u in split[name]], [u.relevant for u in split[name]])
        report[f"{name}_interview"] = evaluate_prefilter(
            prefilter, [u.text for u in split[name] if u.genre == "interview"],
            [u.relevant for u in split[name] if u.genre == "interview"])
    if nos is not None:
        report["nos_unseen"] = evaluate_prefilter(prefilter, nos[MEASURED], [False] * len(nos[MEASURED]))
    print(json.dumps(report, indent=2))
    if args.write:
        prefilter.save(DEFAULT_PREFILTER_DIR)
        (DEFAULT_PREFILTER_DIR / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
