"""discourse.compare: keyness against hand-computed values, the cluster bootstrap on simulated data with a known
truth, term adoption and echo on constructed inputs, and the HTML report's safety and content."""

from __future__ import annotations

import functools
import json
import math
import time
from html.parser import HTMLParser

import numpy as np
import pytest

from discourse.codebook import STANCES, load_codebook
from discourse.compare import (
    Interval,
    Unit,
    adoption,
    build_report,
    cluster_bootstrap,
    echo,
    frame_distribution,
    keyness,
    report_json,
    stance_distribution,
    tokenize,
    topic_prevalence,
)
from discourse.compare.keyness import chi2_sf_1df

# ---------------------------------------------------------------- tokens


def test_tokenize_keeps_inner_hyphens_apostrophes_and_drops_numbers():
    text = "'s Avonds zo’n zorg-en welzijn: 3de covid19 covid-19, de eerste 1000 dagen. Één geërgerde baby's"
    assert tokenize(text) == ["'s", "avonds", "zo'n", "zorg-en", "welzijn", "covid", "de", "eerste", "dagen",
                              "één", "geërgerde", "baby's"]


def test_tokenize_lemmas():
    assert tokenize("Kwetsbare gezinnen", lemmas=True) == ["kwetsbaar", "gezin"]


# ---------------------------------------------------------------- keyness

def test_keyness_matches_hand_computed_values():
    # A: 1,000 words, "kind" 20 times; B: 2,000 words, "kind" 5 times. The rest is one filler word ("vul").
    a = ["kind " * 20 + "vul " * 980]
    b = ["kind " * 5 + "vul " * 1995]
    result = keyness(a, b, min_freq=5, stop_words=False)
    assert (result.size_a, result.size_b) == (1000, 2000)
    kind = result.term("kind")
    assert (kind.freq_a, kind.freq_b) == (20, 5)
    # Expected counts from the margins (N = 3,000; "kind" 25 in all, the rest 2,975):
    #   E(kind, A) = 25 · 1000 / 3000 = 8.3333     E(kind, B) = 25 · 2000 / 3000 = 16.6667
    #   E(rest, A) = 2975 · 1000 / 3000 = 991.667  E(rest, B) = 2975 · 2000 / 3000 = 1983.333
    # Σ O ln(O/E):
    #   20 · ln(20 / 8.3333)      = 20 · ln 2.4        = 20 · 0.875469   =  17.509375
    #    5 · ln(5 / 16.6667)      =  5 · ln 0.3        =  5 · −1.203973  =  −6.019864
    #  980 · ln(980 / 991.667)    = 980 · ln 0.988235  = 980 · −0.011835 = −11.597768
    # 1995 · ln(1995 / 1983.333)  = 1995 · ln 1.005882 = 1995 · 0.005865 =  11.700913
    #   sum = 11.592656;  G² = 2 · 11.592656 = 23.185311
    # (The two-cell shortcut 2·(17.509 − 6.020) = 22.98 would be a different number: the test tells them apart.)
    assert kind.g2 == pytest.approx(23.185311, abs=1e-5)
    # Log ratio: log2((20/1000) / (5/2000)) = log2(0.02 / 0.0025) = log2(8) = 3.
    assert kind.log_ratio == pytest.approx(3.0)
    # p: χ² with 1 df is Z², so p = P(|Z| ≥ √23.185) = erfc(√(23.185/2)) = erfc(3.40480) ≈ 1.4712e-6.
    assert kind.p_value == pytest.approx(1.4711678e-6, rel=1e-6)
    # The filler has the same 2x2 table with rows swapped: same G², and it is key for B.
    vul = result.term("vul")
    assert vul.g2 == pytest.approx(kind.g2)
    assert vul.log_ratio == pytest.approx(math.log2((980 / 1000) / (1995 / 2000)))  # = log2(0.98/0.9975) < 0
    assert [t.term for t in result.top_a] == ["kind"]
    assert [t.term for t in result.top_b] == ["vul"]


def test_keyness_zero_frequency_and_min_freq():
    # "baby" 4 times in A (1,000 words), never in B (2,000 words); "slaap" 1 + 1 (below min_freq 3).
    a = ["baby " * 4 + "slaap " + "vul " * 995]
    b = ["slaap " + "vul " * 1999]
    result = keyness(a, b, min_freq=3, stop_words=False)
    assert result.term("slaap") is None
    baby = result.term("baby")
    # Log ratio with 0.5 for the zero: log2((4/1000) / (0.5/2000)) = log2(0.004 / 0.00025) = log2(16) = 4.
    assert baby.log_ratio == pytest.approx(4.0)
    # E(baby, A) = 4 · 1000/3000 = 1.3333, E(baby, B) = 2.6667 (O = 0: 0 · ln 0 = 0, the cell adds nothing);
    # rest: A 996, B 2000, total 2996: E(rest, A) = 998.667, E(rest, B) = 1997.333.
    #   4 · ln(4 / 1.3333)        = 4 · ln 3            =  4.394449
    #   996 · ln(996 / 998.667)   = 996 · ln 0.997330   = −2.663103
    #   2000 · ln(2000 / 1997.333) = 2000 · ln 1.001335 =  2.668446
    #   G² = 2 · (4.394449 − 2.663103 + 2.668446) = 2 · 4.399792 = 8.799584
    assert baby.g2 == pytest.approx(8.799584, abs=1e-5)


def test_chi2_tail_at_the_textbook_critical_value():
    # χ²₁ = 3.841459 is the 5 % critical value; 6.634897 the 1 % one.
    assert chi2_sf_1df(3.841459) == pytest.approx(0.05, abs=1e-6)
    assert chi2_sf_1df(6.634897) == pytest.approx(0.01, abs=1e-6)
    assert chi2_sf_1df(0.0) == 1.0


def test_keyness_stop_words_are_dropped_but_still_counted_in_corpus_size():
    a = ["euh ja de baby slaapt " * 5]
    b = ["de overheid investeert " * 5]
    result = keyness(a, b, min_freq=1)
    terms = {t.term for t in result.terms}
    assert {"baby", "slaapt", "overheid", "investeert"} <= terms
    assert not terms & {"euh", "ja", "de"}
    assert (result.size_a, result.size_b) == (25, 15)
    lemmatised = keyness(a, b, min_freq=1, lemmas=True)
    assert "slapen" in {t.term for t in lemmatised.terms}


# ---------------------------------------------------------------- bootstrap

def _simulate(rng: np.random.Generator, n_clusters: int, p_pressuring: float, prefix: str,
              concentration: float = 4.0, mean_size: int = 15) -> list[Unit]:
    """Units nested in clusters: each cluster draws its own pressuring probability from a Beta with mean
    `p_pressuring` (intra-cluster correlation 1 / (concentration + 1) = 0.2), then its units from it."""
    units = []
    for c in range(n_clusters):
        p = rng.beta(p_pressuring * concentration, (1 - p_pressuring) * concentration)
        size = 1 + rng.poisson(mean_size - 1)
        for pressured, coin in zip(rng.random(size) < p, rng.random(size)):
            stance = "pressuring" if pressured else ("supportive" if coin < 0.5 else "neutral")
            units.append(Unit(text="", cluster=f"{prefix}{c}", stance=stance, frames=(), topic=None))
    return units


def test_distributions():
    units = [Unit("x", "s1", "pressuring", ("determinism", "perfect_parent"), 0),
             Unit("x", "s1", "supportive", ("good_enough",), -1),
             Unit("x", "s2", "neutral", (), None),
             Unit("x", "s2", "pressuring", ("determinism",), 0)]
    assert stance_distribution(units) == {"pressuring": 0.5, "supportive": 0.25, "neutral": 0.25}
    assert list(stance_distribution(units)) == list(STANCES)
    frames = ("determinism", "good_enough", "structural_support")
    assert frame_distribution(units, frames) == {"determinism": 0.5, "good_enough": 0.25, "structural_support": 0.0}
    assert set(frame_distribution(units)) == set(load_codebook().frames)
    # topic None is not modelled: out of the denominator; -1 is a topic like the others.
    assert topic_prevalence(units) == {-1: pytest.approx(1 / 3), 0: pytest.approx(2 / 3)}
    with pytest.raises(ValueError, match="stance"):
        stance_distribution([Unit("x", "s", "angry")])


def test_bootstrap_recovers_a_known_difference():
    rng = np.random.default_rng(1)
    a = _simulate(rng, 300, 0.4, "a")
    b = _simulate(rng, 300, 0.2, "b")
    result = cluster_bootstrap(a, b, stance_distribution, n_resamples=2000, seed=0)
    pressuring = result["pressuring"]
    assert isinstance(pressuring, Interval)
    assert pressuring.diff_low < 0.2 < pressuring.diff_high  # covers the true difference
    assert pressuring.diff_low > 0  # and excludes 0
    assert pressuring.p_value == 1 / 2000  # no resample reached 0: the floor
    # One simulated sample is one draw: its interval covers the truth with probability ~0.95, not always (here
    # B came out at 0.23, so B's own interval just misses 0.2). Calibration is what the next test checks.
    assert pressuring.diff == pytest.approx(pressuring.a - pressuring.b)
    assert pressuring.a == pytest.approx(stance_distribution(a)["pressuring"])


def test_bootstrap_interval_covers_zero_when_both_sides_are_the_same():
    rng = np.random.default_rng(2)
    covered = 0
    for trial in range(50):
        a = _simulate(rng, 60, 0.3, "a")
        b = _simulate(rng, 60, 0.3, "b")
        pressuring = cluster_bootstrap(a, b, stance_distribution, n_resamples=500, seed=trial)["pressuring"]
        covered += pressuring.diff_low <= 0 <= pressuring.diff_high
    assert covered / 50 >= 0.9


def test_resampling_clusters_is_wider_than_resampling_units():
    # The reason for the cluster bootstrap: units of one speaker are alike, so they are fewer witnesses than
    # they look. With intra-cluster correlation 0.2 and ~15 units per cluster the design effect is
    # 1 + 14 · 0.2 = 3.8, so the honest interval is about √3.8 ≈ 1.9 times as wide.
    rng = np.random.default_rng(3)
    a = _simulate(rng, 100, 0.4, "a")
    b = _simulate(rng, 100, 0.2, "b")
    as_units = [[Unit(u.text, f"{u.cluster}/{i}", u.stance) for i, u in enumerate(side)] for side in (a, b)]
    clustered = cluster_bootstrap(a, b, stance_distribution, n_resamples=2000, seed=0)["pressuring"]
    naive = cluster_bootstrap(*as_units, stance_distribution, n_resamples=2000, seed=0)["pressuring"]
    ratio = (clustered.diff_high - clustered.diff_low) / (naive.diff_high - naive.diff_low)
    assert ratio > 1.5


def test_bootstrap_is_reproducible_and_fast_path_matches_the_definition():
    rng = np.random.default_rng(4)
    a, b = _simulate(rng, 40, 0.4, "a"), _simulate(rng, 30, 0.3, "b")
    first = cluster_bootstrap(a, b, stance_distribution, n_resamples=300, seed=7)
    assert first == cluster_bootstrap(a, b, stance_distribution, n_resamples=300, seed=7)
    assert first != cluster_bootstrap(a, b, stance_distribution, n_resamples=300, seed=8)
    # The same statistic as an opaque callable takes the slow route (rebuild each resample's unit list): it
    # draws the same clusters from the same seed, so it must give the same intervals.
    slow = cluster_bootstrap(a, b, lambda units: stance_distribution(units), n_resamples=300, seed=7)
    for stance in STANCES:
        for name in ("a_low", "a_high", "b_low", "b_high", "diff_low", "diff_high", "p_value"):
            assert getattr(slow[stance], name) == pytest.approx(getattr(first[stance], name), abs=1e-12)


def test_bootstrap_frames_and_topics_align_keys_across_sides():
    a = [Unit("x", f"a{i % 5}", "pressuring", ("determinism",), i % 2) for i in range(20)]
    b = [Unit("x", f"b{i % 4}", "supportive", ("good_enough",), -1 if i % 2 else 3) for i in range(20)]
    frames = ("determinism", "good_enough")
    result = cluster_bootstrap(a, b, functools.partial(frame_distribution, frames=frames), n_resamples=200)
    assert list(result) == list(frames)
    assert (result["determinism"].a, result["determinism"].b) == (1.0, 0.0)
    assert result["determinism"].p_value == pytest.approx(1 / 200)
    topics = cluster_bootstrap(a, b, topic_prevalence, n_resamples=200)
    assert list(topics) == [-1, 0, 1, 3]  # sorted union: a topic one side never has is share 0 there
    assert topics[3].a == 0.0 and topics[3].b == 0.5 and topics[-1].a == 0.0


def test_bootstrap_speed_on_a_large_sample():
    rng = np.random.default_rng(5)
    stances = np.array(STANCES)[rng.integers(0, 3, size=20_000)]
    clusters = rng.integers(0, 500, size=20_000)
    a = [Unit("", f"a{c}", str(s)) for c, s in zip(clusters, stances)]
    b = [Unit("", f"b{c}", str(s)) for c, s in zip(clusters[::-1], stances)]
    start = time.perf_counter()
    cluster_bootstrap(a, b, stance_distribution, n_resamples=2000, seed=0)
    elapsed = time.perf_counter() - start
    print(f"cluster bootstrap, 2 × 20,000 units in 500 clusters, 2,000 resamples: {elapsed:.2f} s")
    assert elapsed < 5.0  # typically well under a second; slack for a busy machine


# ---------------------------------------------------------------- adoption

def test_adoption_counts_variants_and_rates():
    texts_a = [
        "De eerste 1000 dagen zijn bepalend.",  # de eerste dagen zijn bepalend: 5 words (1000 is no word)
        "Eerste duizend dagen, goed \n  genoeg.",  # 5 words
        "Kwetsbare gezinnen en een kwetsbaar kind.",  # 6 words
        "Kwetsbaarheid en stressvol en stress-test.",  # 5 words: no "kwetsbaar", no "stress"
    ]  # 21 words
    texts_b = [
        "De EERSTE 1.000 DAGEN.",  # 3 words
        "Stress en nog eens stress bij kwetsbare gezinnen.",  # 8 words
        "Huid-op-huidcontact helpt; huid op huidcontact ook.",  # 6 words
        "Een responsieve ouder.",  # 3 words
    ]  # 20 words
    terms = ["eerste 1000 dagen", "eerste duizend dagen", "kwetsbaar", "kwetsbare gezinnen", "goed genoeg",
             "stress", "huid-op-huidcontact", "responsief", "hechting"]
    result = adoption(texts_a, texts_b, terms)
    assert (result["words_a"], result["words_b"]) == (21, 20)
    rows = {row["term"]: row for row in result["terms"]}
    assert list(rows) == ["eerste 1000 dagen", "kwetsbaar", "kwetsbare gezinnen", "goed genoeg", "stress",
                          "huid-op-huidcontact", "responsief", "hechting"]
    assert rows["eerste 1000 dagen"]["merged"] == ["eerste duizend dagen"]
    expected = {  # term: (count A, count B)
        "eerste 1000 dagen": (2, 1), "kwetsbaar": (2, 1), "kwetsbare gezinnen": (1, 1), "goed genoeg": (1, 0),
        "stress": (0, 2), "huid-op-huidcontact": (0, 2), "responsief": (0, 1), "hechting": (0, 0),
    }
    for term, (count_a, count_b) in expected.items():
        assert (rows[term]["count_a"], rows[term]["count_b"]) == (count_a, count_b), term
    first = rows["eerste 1000 dagen"]
    # 2 per 21 words = 2 · 10,000 / 21 = 952.38 per 10,000; 1 per 20 = 500; ratio 952.38 / 500 = 1.9048
    assert first["rate_a"] == pytest.approx(952.381, abs=1e-3)
    assert first["rate_b"] == pytest.approx(500.0)
    assert first["ratio"] == pytest.approx(1.904762, abs=1e-6)
    assert (first["texts_a"], first["texts_b"]) == (2, 1)
    assert rows["goed genoeg"]["ratio"] is None  # absent from B
    assert rows["stress"]["ratio"] == 0.0


def test_adoption_defaults_to_the_codebook_terms():
    result = adoption(["De eerste duizend dagen."], ["De eerste 1000 dagen."])
    listed = load_codebook().discourse_terms
    assert len(result["terms"]) == len(listed) - 1  # "eerste duizend dagen" merged into "eerste 1000 dagen"
    first = result["terms"][0]
    assert (first["term"], first["count_a"], first["count_b"]) == ("eerste 1000 dagen", 1, 1)


# ---------------------------------------------------------------- echo

def test_echo_finds_the_known_nearest_sentences():
    b_vectors = np.array([[1, 0, 0, 0], [0, 0.6, 0.8, 0], [0, 0, 0, 1]], dtype=np.float32)
    b_texts = ["B0", "B1", "B2"]
    a_vectors = np.array([
        [1, 0, 0, 0],  # · B0 = 1.0
        [0, 1, 0, 0],  # · B1 = 0.6 (B0, B2: 0)
        [0, 0, 1, 0],  # · B1 = 0.8
        [0.28, 0, 0, 0.96],  # · B0 = 0.28, · B2 = 0.96
    ], dtype=np.float32)
    a_texts = ["A0", "A1", "A2", "A3"]
    result = echo(a_vectors, b_vectors, a_texts, b_texts, threshold=0.85, top=2)
    assert result.best_index.tolist() == [0, 1, 1, 2]
    assert result.best_similarity.tolist() == pytest.approx([1.0, 0.6, 0.8, 0.96], abs=1e-6)
    assert result.share_above == 0.5  # A0 and A3
    assert [(m.a_text, m.b_text) for m in result.most] == [("A0", "B0"), ("A3", "B2")]
    assert [(m.a_text, m.b_text) for m in result.least] == [("A1", "B1"), ("A2", "B1")]
    assert result.most[1].similarity == pytest.approx(0.96, abs=1e-6)
    summary = result.to_dict()
    assert summary["n_above"] == 2 and summary["n_a"] == 4


def test_echo_chunks_agree_with_the_full_matrix_and_inputs_are_checked():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(203, 16)).astype(np.float32)
    b = rng.normal(size=(97, 16)).astype(np.float32)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    a_texts, b_texts = [f"a{i}" for i in range(203)], [f"b{i}" for i in range(97)]
    chunked = echo(a, b, a_texts, b_texts, chunk_rows=7)
    full = a @ b.T
    assert chunked.best_index.tolist() == full.argmax(axis=1).tolist()
    assert np.allclose(chunked.best_similarity, full.max(axis=1))
    # Repeated A texts appear once in the top lists.
    repeated = echo(a[[0, 0, 1]], b, ["same", "same", "other"], b_texts, top=5)
    assert [m.a_text for m in repeated.most] == ["same", "other"] or [m.a_text for m in repeated.most] == [
        "other", "same"]
    with pytest.raises(ValueError, match="normalised"):
        echo(a * 2, b, a_texts, b_texts)
    with pytest.raises(ValueError, match="texts"):
        echo(a, b, a_texts[:-1], b_texts)


# ---------------------------------------------------------------- report

MALICIOUS = "<img src=x onerror=alert(1)>"


class _TagChecker(HTMLParser):
    """Fails on an end tag that closes something other than the innermost open element."""

    VOID = {"meta", "br", "img", "input", "hr", "link", "col", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _result() -> dict:
    interval = Interval(a=0.4123, a_low=0.381, a_high=0.4456, b=0.2, b_low=0.17, b_high=0.231, diff=0.2123,
                        diff_low=0.15, diff_high=0.27, p_value=0.0005)
    small = Interval(a=0.031, a_low=0.02, a_high=0.045, b=0.052, b_low=0.04, b_high=0.066, diff=-0.021,
                     diff_low=-0.04, diff_high=-0.002, p_value=0.0346)
    nan = float("nan")
    return {
        "title": "Ouders tegenover beleid",
        "generated": "run 2024-01-01",
        "a": {"label": "Ouders", "filter": {"genre": "interview", "note": MALICIOUS}, "units": 12345,
              "clusters": 48},
        "b": {"label": "Beleid", "filter": "genre = policy", "units": 6789, "clusters": 210},
        "confidence": 0.95, "n_resamples": 2000,
        "stance": {"pressuring": interval, "supportive": small, "neutral": small},
        "frames": {"determinism": small.to_dict(), "good_enough": small.to_dict()},
        "topics": {-1: small, 3: Interval(nan, nan, nan, 0.1, 0.05, 0.15, nan, nan, nan, nan)},
        "topic_labels": {3: "slaap en voeding"},
        "keyness": {"size_a": 1000, "size_b": 2000, "min_freq": 5, "lemmas": False, "n_terms": 2,
                    "top_a": [{"term": "kind", "freq_a": 20, "freq_b": 5, "g2": 23.185311, "log_ratio": 3.0,
                               "p_value": 1.47e-6}],
                    "top_b": [{"term": MALICIOUS, "freq_a": 980, "freq_b": 1995, "g2": 23.185311,
                               "log_ratio": -0.02557, "p_value": 1.47e-6}]},
        "adoption": adoption(["De eerste 1000 dagen."], ["Kwetsbare gezinnen en de eerste 1000 dagen."],
                             ["eerste 1000 dagen", "kwetsbaar"]),
        "echo": {"threshold": 0.85, "n_a": 4, "n_above": 2, "share_above": 0.5, "median_similarity": 0.88,
                 "most": [{"a_index": 0, "a_text": MALICIOUS, "b_index": 0, "b_text": "B & co", "similarity": 0.987}],
                 "least": [{"a_index": 1, "a_text": "Ik slaap slecht.", "b_index": 2, "b_text": "Slaap is belangrijk.",
                            "similarity": 0.412}]},
    }


def test_report_is_self_contained_escaped_and_shows_its_numbers():
    html = build_report(_result())
    checker = _TagChecker()
    checker.feed(html)
    checker.close()
    assert checker.stack == ["html"] or checker.stack == []
    assert "svg" in checker.tags and "table" in checker.tags
    lowered = html.lower()
    for forbidden in ("http://", "https://", "<script", "javascript:", "<img", "@import", "url("):
        assert forbidden not in lowered
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    for shown in ("41.2 %", "20.0 %", "+21.2 pp", "+15.0 pp", "+27.0 pp", "&lt; 0.001", "0.035", "-2.1 pp", "3.1 %",
                  "12\u202f345", "6\u202f789", "48", "210", "23.19", "3.00", "-0.03", "1\u202f995", "50.0 %",
                  "0.987", "0.412", "B &amp; co", "slaap en voeding", "Houding", "Deelframes", "Onderwerpen",
                  "Kenmerkende woorden", "Overname van discourstermen", "Echo van", "genre = interview",
                  "genre = policy", "#0072B2", "#E69F00", "Ondersteunend", "Druk zettend"):
        assert shown in html, shown
    # The adoption row from the real function: 1 per 3 words in A = 3,333.33 per 10,000.
    assert "3\u202f333.33" in html


def test_report_leaves_out_absent_sections_and_json_round_trips():
    minimal = {"a": {"label": "A", "filter": "x", "units": 1, "clusters": 1},
               "b": {"label": "B", "filter": "y", "units": 2, "clusters": 1}}
    html = build_report(minimal)
    assert "Houding" not in html and "Kenmerkende woorden" not in html
    parsed = json.loads(report_json(_result()))
    assert parsed["stance"]["pressuring"]["a"] == 0.4123
    assert parsed["topics"]["3"]["a"] is None  # NaN becomes null: JSON has no NaN
    assert parsed["echo"]["most"][0]["a_text"] == MALICIOUS


def test_report_from_the_real_results():
    # The objects the functions return go in as they are; the page and the JSON take them apart.
    rng = np.random.default_rng(8)
    a, b = _simulate(rng, 20, 0.4, "a"), _simulate(rng, 20, 0.2, "b")
    a_texts = ["Ik moet altijd alles perfect doen voor mijn baby."] * 3 + ["De eerste 1000 dagen, euh, ja."]
    b_texts = ["De eerste 1000 dagen bepalen de ontwikkeling van kwetsbare gezinnen."] * 4
    vectors = np.eye(4, dtype=np.float32)
    result = {
        "a": {"label": "Ouders", "filter": "interview", "units": len(a), "clusters": 20},
        "b": {"label": "Beleid", "filter": "policy", "units": len(b), "clusters": 20},
        "stance": cluster_bootstrap(a, b, stance_distribution, n_resamples=200),
        "topics": cluster_bootstrap([Unit("", "x", "neutral", (), -1)], [Unit("", "y", "neutral", (), 2)],
                                    topic_prevalence, n_resamples=50),
        "keyness": keyness(a_texts, b_texts, min_freq=2),
        "adoption": adoption(a_texts, b_texts),
        "echo": echo(vectors, vectors, a_texts, b_texts, top=3),
    }
    html = build_report(result)
    assert "Overige (geen onderwerp)" in html and "perfect" in html and "Druk zettend" in html
    parsed = json.loads(report_json(result))
    top_a = {t["term"] for t in parsed["keyness"]["top_a"]}
    assert {"perfect", "altijd", "moet", "alles"} <= top_a and not top_a & {"euh", "ja", "mijn"}
    assert parsed["echo"]["share_above"] == 1.0 and "best_index" not in parsed["echo"]
