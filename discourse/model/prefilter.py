"""A fast relevance pre-filter: spares the transformer the sentences that are clearly not about early parenthood.

Archive scoring runs every sentence of every article; most news sentences are about something else. This
filter is a character n-gram logistic regression (hashed 3–5-grams, tf-idf): about 15,000 sentences/s on one core
against 100–200/s for the encoder on two (bench/README.md, "Cheaper stages around the model"). A sentence passes
when the regression's score reaches the threshold *or* it contains a word of early parenthood (PARENTHOOD). The
threshold is set low, for recall: with the word rule, the filter lets through ≥ 98.5 % of the dev units coded
relevant, so that nearly everything relevant still reaches the transformer; what it drops is scored as irrelevant
without the model. Figures: `models/prefilter/metrics.json` (`bench/prefilter.py --train --write`).

Why these choices:
- Hashed features store no vocabulary, so the shipped weights contain no n-grams of the news used as negatives.
- Real text is needed as negative data: trained on the authored corpus alone, the filter passed 84 % of NOS
  sentences (everything Dutch and human looks "relevant" next to authored parenting text). The negatives are real
  sentences with no parenthood word (news, radio, policy; see bench/prefilter.py), so a relevant news sentence is
  never taught as irrelevant.
- Scoring needs no scikit-learn: the n-grams are hashed as scikit-learn's HashingVectorizer hashes them (signed
  32-bit MurmurHash3 of the UTF-8 bytes, `|h| mod n_features`) and a whole batch is weighted and summed with numpy.
  Importing scikit-learn (with scipy and pandas) cost a served process about 200 MB; training still uses it, and
  `tests/test_prefilter.py` checks that both give the same features.
- The word rule is there for real text: the regression alone passed only 93 % of the relevant sentences of the real
  validation set (it learns the style of the authored positives as much as their subject), the union passes 99 %.
  The word rule alone is not enough either: 0.71–0.81 recall on the annotated units, because interview speech
  names the child by "hij", "ze", "de kleine", "3,2 kilo".
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import mmh3
import numpy as np

from ..settings import DEFAULT_PREFILTER_DIR
TARGET_DEV_RECALL = 0.985

#: Words of early parenthood: a sentence with one of them always passes. "ouders" but not "ouderen" (the elderly),
#: "vader" but not "vaderland".
PARENTHOOD = re.compile(
    r"\b(baby\w*|zwanger\w*|bevall\w*|geboorte\w*|kraam\w*|ouders?|ouderschap\w*|\w*moeders?|mama'?s?|"
    r"\w*vaders?|papa'?s?|kind|kinderen|kindje\w*|kinderopvang\w*|kinderbijslag|groeipakket|gezin\w*|"
    r"peuter\w*|kleuter\w*|zuigeling\w*|borstvoeding|flesvoeding|luier\w*|opvoed\w*|opgroei\w*|"
    r"\w*verlof|cr[eè]che\w*|kinderdagverblijf\w*|onthaalouder\w*|consultatiebureau\w*|jeugdgezondheid\w*|"
    r"vroedvrouw\w*|verlosk\w*|prenata\w*|postnata\w*|miskraam\w*|ivf|adoptie\w*|pasgeboren\w*|"
    r"moederschap\w*|vaderschap\w*)\b", re.IGNORECASE)


@dataclass
class PrefilterConfig:
    n_features: int = 2 ** 18
    ngram_min: int = 3
    ngram_max: int = 5
    threshold: float = 0.5
    word_rule: bool = True  # a sentence with a PARENTHOOD word passes whatever its score
    version: str = "2"
    trained_on: str = ""


class RelevancePrefilter:
    def __init__(self, config: PrefilterConfig, idf: np.ndarray, coef: np.ndarray, intercept: float):
        self.config, self.idf, self.coef, self.intercept = config, idf, coef, float(intercept)

    @classmethod
    def load(cls, directory: str | Path = DEFAULT_PREFILTER_DIR) -> "RelevancePrefilter":
        directory = Path(directory)
        config = PrefilterConfig(**json.loads((directory / "config.json").read_text(encoding="utf-8")))
        with np.load(directory / "weights.npz") as weights:
            return cls(config, weights["idf"], weights["coef"], float(weights["intercept"]))

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(asdict(self.config), indent=2) + "\n", encoding="utf-8")
        np.savez_compressed(directory / "weights.npz", idf=self.idf.astype(np.float32),
                            coef=self.coef.astype(np.float32), intercept=np.float32(self.intercept))

    def scores(self, texts: list[str]) -> np.ndarray:
        """P(relevant) as the filter sees it; only its ranking and the threshold matter. The batch is one set of
        numpy operations: each (text, n-gram) count is weighted by sublinear tf × idf, as in training, and every
        text's dot product with the weights and its L2 norm are summed per row."""
        if not texts:
            return np.zeros(0, np.float32)
        n_features = self.config.n_features
        per_text = [hashed_ngrams(t, self.config.ngram_min, self.config.ngram_max, n_features) for t in texts]
        lengths = [len(h) for h in per_text]
        keys = np.repeat(np.arange(len(texts), dtype=np.int64), lengths) * n_features + np.concatenate(per_text)
        keys, counts = np.unique(keys, return_counts=True)
        rows, columns = keys // n_features, keys % n_features
        weights = (1.0 + np.log(counts)) * self.idf[columns]
        dots = np.bincount(rows, weights * self.coef[columns], minlength=len(texts))
        norms = np.sqrt(np.bincount(rows, weights * weights, minlength=len(texts)))
        logits = dots / np.maximum(norms, 1e-12) + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def passes(self, texts: list[str]) -> np.ndarray:
        """True where the text must go on to the transformer."""
        passed = self.scores(texts) >= self.config.threshold
        if self.config.word_rule:
            passed |= np.fromiter((PARENTHOOD.search(t) is not None for t in texts), bool, len(texts))
        return passed


def char_wb_ngrams(text: str, n_min: int, n_max: int) -> list[str]:
    """scikit-learn's `char_wb` analyzer, lower-cased: the n-grams of each whitespace-separated word padded with one
    space on each side; a word shorter than an n-gram length gives itself once."""
    grams = []
    for word in text.lower().split():
        word = f" {word} "
        length = len(word)
        for n in range(n_min, n_max + 1):
            if length <= n:
                grams.append(word)
                break
            grams.extend(word[i:i + n] for i in range(length - n + 1))
    return grams


def hashed_ngrams(text: str, n_min: int, n_max: int, n_features: int) -> np.ndarray:
    """The feature index of each n-gram of `text`, as scikit-learn's HashingVectorizer computes it. A word's
    n-grams depend on the word alone (each word is padded on its own), so they are hashed once per distinct word
    and remembered: news repeats its words, and hashing was most of the filter's time."""
    # A lone surrogate has no UTF-8 form: scikit-learn raised UnicodeEncodeError on it, and mmh3 would crash the
    # whole process (a segmentation fault), so the text is checked here first and raises as before.
    text.encode("utf-8")
    words = text.lower().split()
    if not words:
        return np.zeros(0, np.int64)
    return np.concatenate([_word_features(word, n_min, n_max, n_features) for word in words]).astype(np.int64)


@lru_cache(maxsize=2 ** 14)  # the most recent 16,384 words: about 8 MB
def _word_features(word: str, n_min: int, n_max: int, n_features: int) -> np.ndarray:
    hashes = np.fromiter(map(mmh3.hash, char_wb_ngrams(word, n_min, n_max)), np.int64)
    # |h| in int64, so |-2**31| is 2**31 (scikit-learn maps it to the same index); the index fits in int32
    features = (np.abs(hashes) % n_features).astype(np.int32)
    features.flags.writeable = False  # shared by every text with this word
    return features


def _vectorizer(config: PrefilterConfig):
    """The training-time vectorizer (scikit-learn); serving uses `hashed_ngrams`, which gives the same features."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char_wb", ngram_range=(config.ngram_min, config.ngram_max),
                             n_features=config.n_features, alternate_sign=False, norm=None)


def train_prefilter(train_texts: list[str], train_relevant: list[bool], dev_texts: list[str],
                    dev_relevant: list[bool], negatives: list[str], trained_on: str = "",
                    seed: int = 0) -> RelevancePrefilter:
    """Fit on the training units plus `negatives` (real text taken as not relevant); set the threshold to the
    highest value at which the filter (word rule included) keeps TARGET_DEV_RECALL of the relevant dev units."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    config = PrefilterConfig(trained_on=trained_on)
    texts = list(train_texts) + list(negatives)
    labels = np.array(list(train_relevant) + [False] * len(negatives))
    tfidf = TfidfTransformer(sublinear_tf=True).fit(_vectorizer(config).transform(texts))
    x = tfidf.transform(_vectorizer(config).transform(texts))
    model = LogisticRegression(C=10, max_iter=3000, class_weight="balanced", random_state=seed).fit(x, labels)
    prefilter = RelevancePrefilter(config, tfidf.idf_.astype(np.float32), model.coef_[0].astype(np.float32),
                                   float(model.intercept_[0]))
    relevant = [t for t, r in zip(dev_texts, dev_relevant) if r]
    scores = prefilter.scores(relevant)
    by_word = np.array([PARENTHOOD.search(t) is not None for t in relevant]) if config.word_rule else \
        np.zeros(len(relevant), bool)
    needed = int(np.ceil(TARGET_DEV_RECALL * len(relevant))) - int(by_word.sum())  # the rest the score must pass
    rest = np.sort(scores[~by_word])[::-1]  # scores of the relevant units without a parenthood word, high first
    if needed > 0:
        config.threshold = float(rest[needed - 1]) - 1e-6  # the needed-th highest still passes
    else:  # the word rule alone reaches the target
        config.threshold = float(rest[0]) + 1e-6 if len(rest) else 0.5
    return prefilter


def evaluate_prefilter(prefilter: RelevancePrefilter, texts: list[str], relevant: list[bool]) -> dict:
    started = time.perf_counter()
    passed = prefilter.passes(texts)
    seconds = time.perf_counter() - started
    relevant = np.asarray(relevant, bool)
    return {"n": len(texts), "relevant": int(relevant.sum()),
            "recall": round(float(passed[relevant].mean()), 4) if relevant.any() else None,
            "pass_share_irrelevant": round(float(passed[~relevant].mean()), 4) if (~relevant).any() else None,
            "pass_share": round(float(passed.mean()), 4), "texts_per_second": round(len(texts) / seconds)}
