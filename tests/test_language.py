import pytest

from discourse.pipeline.language import detect_language


def test_flemish_and_netherlands_dutch_are_dutch():
    for text in ["Ik had zoiets van, allez, ge moet dat toch niet allemaal perfect doen hé.",
                 "Nou, ik vond het consultatiebureau eigenlijk gewoon heel fijn.",
                 "Kind en Gezin biedt gratis consultaties aan voor alle baby's en peuters."]:
        assert detect_language(text).is_dutch, text


def test_other_languages_are_flagged():
    assert detect_language("The first thousand days shape a child's future, experts say.").code == "en"
    assert detect_language("Les mille premiers jours sont essentiels pour le développement.").code == "fr"
    assert detect_language("Die ersten tausend Tage sind für die Entwicklung entscheidend.").code == "de"
    assert detect_language("Ek is baie moeg na die geboorte van my baba, dit was swaar.").code == "af"


def test_very_short_text_is_accepted_as_dutch():
    assert detect_language("Ja.").is_dutch


def test_only_the_sample_is_read():
    """A verdict is a function of the first SAMPLE_CHARS characters, letters counted included, so checking a
    100,000-character text costs what checking its first 600 characters costs."""
    from discourse.pipeline.language import SAMPLE_CHARS

    head = "Kind en Gezin biedt gratis consultaties aan voor alle baby's en peuters. " * 10
    long = head + "The rest of this text is English and would otherwise be counted. " * 1500
    whole, sample = detect_language(long), detect_language(long[:SAMPLE_CHARS])
    assert (whole.code, whole.letters) == (sample.code, sample.letters)
    assert whole.confidence == pytest.approx(sample.confidence)  # the detector's floats vary in the last bit
    assert whole.letters <= SAMPLE_CHARS


def test_authored_check_set_dutch_never_refused_foreign_rarely_taken_for_dutch():
    """bench/data/language_check_sentences.jsonl: 12 texts in each of 15 languages near or around Dutch, and 40
    Dutch texts a detector may take for something else (headlines with English names, spoken Flemish, Dutch mixed
    with English)."""
    import json

    from discourse.pipeline.language import check_language
    from discourse.settings import REPO_ROOT

    rows = [json.loads(line) for line in
            (REPO_ROOT / "bench" / "data" / "language_check_sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    dutch = [check_language(r["text"]) for r in rows if r["lang"] == "nl"]
    assert len(dutch) == 40 and not any(v.refuse for v in dutch)
    foreign = [(r, check_language(r["text"])) for r in rows if r["lang"] != "nl"]
    taken_for_dutch = [r["lang"] for r, v in foreign if not v.refuse and not v.uncertain]
    assert "af" not in taken_for_dutch and len(taken_for_dutch) <= 2, taken_for_dutch
    assert all(v.refuse for r, v in foreign if r["lang"] == "af")  # Afrikaans is refused, not flagged
    assert sum(v.refuse for _, v in foreign) >= 150  # of 180; the rest are classified and flagged


def test_lone_surrogates_and_nul_bytes_are_read_past():
    """Neither detector accepts text that is not valid UTF-8; a text carrying a lone surrogate is judged on the
    rest of it."""
    dutch = detect_language("Kind en Gezin biedt gratis consultaties aan \ud800 voor alle baby's en peuters.")
    assert dutch.is_dutch
    english = detect_language("The first thousand days \udfff shape a child's future,\x00 experts say.")
    assert english.code == "en"
