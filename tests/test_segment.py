import importlib
import sys
import time

import pytest

from discourse.training.corpus import running_text
from discourse.segment import split_sentences, sentence_texts
from discourse.settings import REPO_ROOT, SHARED_CORPORA


def test_abbreviations_do_not_end_a_sentence():
    text = "Dr. Peeters van Kind en Gezin geeft o.a. tips, bv. over slapen. Mevr. De Smet i.p.v. dhr. Claes kwam ook."
    assert sentence_texts(text) == [
        "Dr. Peeters van Kind en Gezin geeft o.a. tips, bv. over slapen.",
        "Mevr. De Smet i.p.v. dhr. Claes kwam ook.",
    ]


def test_numbers_and_initials():
    text = "Het Groeipakket bedraagt 1.250,50 euro. Om 12.30 uur begint het. J. Janssens en A.B. de Vries tekenden."
    assert sentence_texts(text) == [
        "Het Groeipakket bedraagt 1.250,50 euro.",
        "Om 12.30 uur begint het.",
        "J. Janssens en A.B. de Vries tekenden.",
    ]


def test_year_at_end_of_sentence_is_a_boundary():
    assert sentence_texts("Het plan startte in 2021. Daarna kwam er meer geld.") == [
        "Het plan startte in 2021.", "Daarna kwam er meer geld."]


def test_quotes_stay_with_their_sentence():
    text = 'De vroedvrouw zei: "Ge doet dat goed." Ik was opgelucht. \'Slaap als de baby slaapt!\' Dat lukte nooit.'
    assert sentence_texts(text) == [
        'De vroedvrouw zei: "Ge doet dat goed."',
        "Ik was opgelucht.",
        "'Slaap als de baby slaapt!'",
        "Dat lukte nooit.",
    ]


def test_transcript_cuts_and_ellipses_followed_by_lower_case_continue():
    text = "Ja, euhm [..] ik weet het niet... en dan zegt ze: 'ge moet dat doen'. Wat moet ge dan?"
    assert sentence_texts(text) == ["Ja, euhm [..] ik weet het niet... en dan zegt ze: 'ge moet dat doen'.",
                                    "Wat moet ge dan?"]


def test_bullet_lists_and_paragraphs():
    text = "Tips voor de eerste weken:\n- Leg je baby op de rug\n- Rook niet in huis.\n2. Vraag hulp\n\nNieuwe alinea zonder punt\nloopt door op de volgende regel."
    assert sentence_texts(text) == [
        "Tips voor de eerste weken:",
        "Leg je baby op de rug",
        "Rook niet in huis.",
        "Vraag hulp",
        "Nieuwe alinea zonder punt\nloopt door op de volgende regel.",
    ]


def test_offsets_point_into_the_original_text():
    text = "  Eerste zin.  Tweede zin!\n\n- Derde"
    for sentence in split_sentences(text):
        assert text[sentence.start:sentence.end] == sentence.text


def test_empty_and_whitespace_give_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\t ") == []


def test_plural_with_apostrophe_is_not_an_initial():
    assert sentence_texts("Er zijn consultaties voor alle baby's. Toch twijfelen ouders. Ook auto's. Zo gaat het.") == [
        "Er zijn consultaties voor alle baby's.", "Toch twijfelen ouders.", "Ook auto's.", "Zo gaat het."]


def test_units_and_inline_enumerations():
    assert sentence_texts("De breedte gaat naar 4,00 m. Omwille van de eenvoud geldt dat overal.") == [
        "De breedte gaat naar 4,00 m.", "Omwille van de eenvoud geldt dat overal."]
    text = "Er zijn drie percelen: 1. Integratiediensten; 2. Werkplekdiensten; 3. Clouddiensten. Dat is alles."
    assert sentence_texts(text) == [
        "Er zijn drie percelen: 1. Integratiediensten; 2. Werkplekdiensten; 3. Clouddiensten.", "Dat is alles."]


def _seconds(text: str) -> tuple[float, list]:
    started = time.perf_counter()
    sentences = split_sentences(text)
    return time.perf_counter() - started, sentences


def test_long_text_of_ordinary_dutch_is_segmented_in_linear_time():
    # One long text must not stall the service: the model runs on one worker thread.
    seconds, sentences = _seconds(running_text(100_000))
    assert len(sentences) > 500
    assert seconds < 1.0, f"100,000 characters took {seconds:.1f} s"


def test_adversarial_long_word_before_a_boundary_is_linear():
    seconds, sentences = _seconds("a" * 100_000 + " b. C")
    assert [s.text for s in sentences] == ["a" * 100_000 + " b.", "C"]
    assert seconds < 1.0, f"took {seconds:.1f} s"
    seconds, sentences = _seconds("." * 100_000 + "x. Y")
    assert len(sentences) == 2 and seconds < 1.0, f"took {seconds:.1f} s"


@pytest.mark.skipif(not SHARED_CORPORA.is_dir(), reason=f"real gold boundaries need the corpora at {SHARED_CORPORA}")
def test_accuracy_on_hand_marked_real_boundaries():
    """368 boundaries marked by hand in real news, policy, parliament and radio text (bench/segmenters.py)."""
    bench = _bench_module("segmenters")
    counts = bench.accuracy(bench.load_gold(), bench._ours)
    precision, recall, f1 = bench.prf(*counts["all"])
    assert f1 >= 0.92, f"boundary F1 {f1:.3f} (precision {precision:.3f}, recall {recall:.3f})"


def _bench_module(name: str):
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(REPO_ROOT / "bench"))
