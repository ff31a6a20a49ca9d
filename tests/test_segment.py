from discourse.segment import split_sentences, sentence_texts


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
