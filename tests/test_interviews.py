"""Interview transcripts and respondent attributes. Every transcript here is invented for the tests (no real
respondent): Flemish parents in the first 1000 days, written the way thesis transcripts are typed."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from discourse.interviews import (
    Transcript,
    classify_label,
    docx_text,
    merge_attributes,
    normalise_label,
    parse_notation,
    parse_transcript,
    read_respondents,
    read_transcript,
    role_of_parent,
)

DATA = Path(__file__).parent / "data" / "interviews"


def assert_offsets(transcript: Transcript) -> None:
    """Every turn and every sentence (interviewer included) points at its own text in transcript.text."""
    for turn in transcript.turns:
        assert transcript.text[turn.start:turn.end] == turn.text
        assert turn.text and turn.text == turn.text.strip()
    for turn, sentence in transcript.sentences(include_interviewer=True):
        assert transcript.text[sentence.start:sentence.end] == sentence.text
        assert turn.start <= sentence.start < sentence.end <= turn.end
    assert transcript.text == "\n\n".join(t.text for t in transcript.turns)


def one_turn(line: str, **kwargs):
    transcript = parse_transcript(line, **kwargs)
    assert_offsets(transcript)
    assert len(transcript.turns) == 1, transcript.turns
    return transcript.turns[0]


# --- the fictional interview ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def interview() -> Transcript:
    return read_transcript(DATA / "R7_fictief.txt")


def test_fictional_interview_turns(interview):
    assert interview.name == "R7_fictief"
    assert [(t.speaker, t.role, t.timestamp) for t in interview.turns] == [
        ("I", "interviewer", "00:00:05"),
        ("R7", "respondent", None),
        ("I", "interviewer", "00:01:10"),      # from the timestamp alone on the line before
        ("R7", "respondent", "00:01:32"),
        ("I", "interviewer", "00:02:10"),
        ("R7", "respondent", None),
        ("Tom", "other", None),                # a name that starts two lines is a speaker
        ("I", "interviewer", None),
        ("Tom", "other", None),
    ]
    assert interview.turns[0].text.startswith("Dag Sofie, bedankt")
    assert interview.turns[1].text == (
        "Goed eigenlijk, maar ik ben wel moe. De vroedvrouw zegt dat dat normaal is op 37 weken.\n\n"
        "Ge leest ook zoveel, hè. Moet ge nu wel of geen borstvoeding geven? Iedereen heeft daar een mening over.")
    # "Opmerking:" once, inside an answer, is text, not a speaker
    assert interview.turns[3].text.endswith("Opmerking: ze bedoelt het goed, hoor.")
    assert interview.turns[5].text.startswith("Soms wel, ja.")
    assert_offsets(interview)


def test_fictional_interview_header(interview):
    assert interview.header.splitlines() == [
        "Interview 7 (fictief: verzonnen voor de tests, geen echte respondent)",
        "Respondent: R7 (V, 26, 37w), Oost-Vlaanderen",
        "Duur: 54 minuten",
    ]
    assert "Duur" not in interview.text and "Oost-Vlaanderen" not in interview.text
    assert interview.respondents == {"R7": {"gender": "V", "age": 26, "pregnancy_weeks": 37}}


def test_sentences_leave_the_interviewer_out_by_default(interview):
    parents = interview.sentences()
    everyone = interview.sentences(include_interviewer=True)
    assert {turn.role for turn, _ in parents} == {"respondent", "other"}
    assert {turn.role for turn, _ in everyone} == {"interviewer", "respondent", "other"}
    assert len(everyone) > len(parents)
    texts = [s.text for _, s in parents]
    assert texts[:5] == [
        "Goed eigenlijk, maar ik ben wel moe.",
        "De vroedvrouw zegt dat dat normaal is op 37 weken.",
        "Ge leest ook zoveel, hè.",
        "Moet ge nu wel of geen borstvoeding geven?",
        "Iedereen heeft daar een mening over.",
    ]
    assert "Hoe gaat het nu met u?" not in texts
    assert "Hoe gaat het nu met u?" in [s.text for _, s in everyone]
    for turn, sentence in everyone:
        assert interview.text[sentence.start:sentence.end] == sentence.text


def test_turns_of_accepts_any_spelling_of_a_label(interview):
    assert interview.turns_of("Respondent 7") == interview.turns_of("R7")
    assert len(interview.turns_of("r 7")) == 3
    assert len(interview.turns_of("Interviewer")) == 4


# --- speaker notations ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "speaker", "role"),
    [
        ("Interviewer: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("Interviewster: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("I: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("Int: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("Int.: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("Onderzoeker: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("Moderator: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("INTERVIEWER: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("interviewster : Hoe oud is de kleine nu?", "I", "interviewer"),
        ("Interviewer 2: Hoe oud is de kleine nu?", "I2", "interviewer"),
        ("R7: Acht maanden.", "R7", "respondent"),
        ("R 7: Acht maanden.", "R7", "respondent"),
        ("r7: Acht maanden.", "R7", "respondent"),
        ("R07: Acht maanden.", "R7", "respondent"),
        ("Respondent 7: Acht maanden.", "R7", "respondent"),
        ("Resp. 7: Acht maanden.", "R7", "respondent"),
        ("resp 7: Acht maanden.", "R7", "respondent"),
        ("R7 (V, 26, 37w): Acht maanden.", "R7", "respondent"),
        ("Respondent 13 (M, 39, 3-5-6): Acht maanden.", "R13", "respondent"),
        ("R: Acht maanden.", "R", "respondent"),
        ("Respondent: Acht maanden.", "R", "respondent"),
        ("**Interviewer:** Hoe oud is de kleine nu?", "I", "interviewer"),
        ("**Interviewer**: Hoe oud is de kleine nu?", "I", "interviewer"),
        ("**R7 (V, 26, 37w):** Acht maanden.", "R7", "respondent"),
        ("__R7:__ Acht maanden.", "R7", "respondent"),
        ("R7:Acht maanden.", "R7", "respondent"),
    ],
)
def test_speaker_notations(line, speaker, role):
    turn = one_turn(line)
    assert (turn.speaker, turn.role) == (speaker, role)
    assert turn.text in {"Hoe oud is de kleine nu?", "Acht maanden."}
    assert turn.timestamp is None


def test_a_whole_bold_line_loses_its_closing_marker():
    assert one_turn("**Interviewer: Hoe oud is de kleine nu?**").text == "Hoe oud is de kleine nu?"


@pytest.mark.parametrize(
    "line",
    [
        "[00:12:31] R7: Ja, da's waar.",
        "(00:12:31) R7: Ja, da's waar.",
        "00:12:31 - R7: Ja, da's waar.",
        "00:12:31 – R7: Ja, da's waar.",
        "00:12:31 R7: Ja, da's waar.",
        "12:31 R7: Ja, da's waar.",
        "[12:31] R7: Ja, da's waar.",
        "R7 [00:12:31]: Ja, da's waar.",
        "R7 (00:12:31): Ja, da's waar.",
        "R7 (V, 26, 37w) [00:12:31]: Ja, da's waar.",
        "R7 [00:12:31] (V, 26, 37w): Ja, da's waar.",
        "R7: [00:12:31] Ja, da's waar.",
        "R7: (00:12:31) Ja, da's waar.",
        "R7: [00:12:31] - Ja, da's waar.",
        "R7: 00:12:31 - Ja, da's waar.",
        "R7: 12:31 - Ja, da's waar.",
        "**[00:12:31] R7:** Ja, da's waar.",
        "[00:12:31.480] R7: Ja, da's waar.",
    ],
)
def test_timestamps_in_every_position(line):
    turn = one_turn(line)
    assert (turn.speaker, turn.text, turn.timestamp) == ("R7", "Ja, da's waar.", "00:12:31")


def test_timestamp_alone_on_a_line_goes_to_the_next_turn_and_out_of_the_text():
    transcript = parse_transcript(
        "[00:03:00]\nI: Slaapt ze al door?\nR2: Nee, nog niet.\n(00:03:40)\nZe wordt twee keer wakker.\n"
        "00:04:02\nR2: Vroeger was dat vier keer.")
    assert [(t.speaker, t.timestamp, t.text) for t in transcript.turns] == [
        ("I", "00:03:00", "Slaapt ze al door?"),
        ("R2", None, "Nee, nog niet.\n\nZe wordt twee keer wakker."),  # the lone time is dropped, not given on
        ("R2", "00:04:02", "Vroeger was dat vier keer."),
    ]
    assert "00:" not in transcript.text
    assert_offsets(transcript)


def test_a_turns_own_timestamp_wins_over_a_lone_one_before_it():
    turn = one_turn("[00:01:00]\nR3 [00:01:05]: Ja.")
    assert turn.timestamp == "00:01:05"


def test_bracketed_timestamp_at_the_start_of_a_continuation_line_is_removed():
    transcript = parse_transcript("R4: Het eerste jaar was zwaar.\n[00:20:15] Vooral de nachten.")
    assert transcript.turns[0].text == "Het eerste jaar was zwaar.\nVooral de nachten."
    assert_offsets(transcript)


def test_a_time_that_is_part_of_the_answer_stays():
    assert one_turn("R7: 8:00 opstaan, dat is bij ons al laat.").text == "8:00 opstaan, dat is bij ons al laat."
    assert one_turn("R7: Om 12:31 was ze er.").text == "Om 12:31 was ze er."


def test_label_and_time_without_colon_start_a_turn():
    transcript = parse_transcript(
        "Interviewer  0:05\nHoe verliep de bevalling?\n\nR5 1:12\nVlot, eigenlijk.\n[00:02:01] Sofie\nHallo.\n"
        "Sofie 2:30\nIk ben de zus.")
    assert [(t.speaker, t.role, t.timestamp, t.text) for t in transcript.turns] == [
        ("I", "interviewer", "00:00:05", "Hoe verliep de bevalling?"),
        ("R5", "respondent", "00:01:12", "Vlot, eigenlijk."),
        ("Sofie", "other", "00:02:01", "Hallo."),
        ("Sofie", "other", "00:02:30", "Ik ben de zus."),
    ]
    assert_offsets(transcript)


def test_multi_paragraph_turns_keep_paragraphs_and_sentences_do_not_cross_them():
    transcript = parse_transcript(
        "I: Wat hebt ge gemist in die eerste weken?\n\n"
        "R9: Iemand die gewoon zei dat het oké was\n\n"
        "want ge twijfelt aan alles\n"
        "en dat gaat niet weg.\n\n\n"
        "Zelfs nu niet.\n"
        "I: Merci.")
    assert [t.speaker for t in transcript.turns] == ["I", "R9", "I"]
    assert transcript.turns[1].text == (
        "Iemand die gewoon zei dat het oké was\n\nwant ge twijfelt aan alles\nen dat gaat niet weg.\n\nZelfs nu niet.")
    assert [s.text for _, s in transcript.sentences()] == [
        "Iemand die gewoon zei dat het oké was",
        "want ge twijfelt aan alles\nen dat gaat niet weg.",
        "Zelfs nu niet.",
    ]
    assert_offsets(transcript)


def test_a_label_alone_on_its_line_takes_the_next_lines():
    transcript = parse_transcript("Interviewer:\nHoe is het met de kleine?\nR1:\n\nGoed, ze groeit goed.")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("I", "Hoe is het met de kleine?"), ("R1", "Goed, ze groeit goed.")]


def test_empty_turns_are_dropped():
    transcript = parse_transcript("I:\nR1: Ja.\nI: [00:01:00]\n\nR1: Nee.\n**I:**")
    assert [(t.speaker, t.text) for t in transcript.turns] == [("R1", "Ja."), ("R1", "Nee.")]
    assert_offsets(transcript)


def test_header_lines_stay_out_and_register_notation():
    transcript = parse_transcript(
        "Transcript focusgroep (fictief)\n"
        "Deelnemers: R7 (V, 26, 37w) en Respondent 13 (M, 39, 3-5-6), in Gent (Oost-Vlaanderen)\n"
        "Datum: 12 maart 2023\n"
        "\n"
        "Moderator: Welkom allemaal.\n"
        "R13: Dank u.\n")
    assert transcript.header.splitlines() == [
        "Transcript focusgroep (fictief)",
        "Deelnemers: R7 (V, 26, 37w) en Respondent 13 (M, 39, 3-5-6), in Gent (Oost-Vlaanderen)",
        "Datum: 12 maart 2023",
    ]
    assert [t.speaker for t in transcript.turns] == ["I", "R13"]
    assert transcript.respondents == {
        "R7": {"gender": "V", "age": 26, "pregnancy_weeks": 37},
        "R13": {"gender": "M", "age": 39, "children_ages_years": [3, 5, 6]},
    }
    assert "Datum" not in transcript.text


def test_notation_on_turns_is_registered_once_and_first_wins():
    transcript = parse_transcript(
        "R7 (V, 26, 37w): Ja.\nI: Goed.\nR7 (V, 27, 37w, tweeling): Nee.\nR8: Misschien.\nR9 (00:05:00): Ok.")
    assert transcript.respondents == {
        "R7": {"gender": "V", "age": 26, "pregnancy_weeks": 37, "extra": ["tweeling"]},
        "R8": {},  # a respondent who speaks is listed, with no attributes
        "R9": {},  # a time in parentheses is not a notation
    }
    assert transcript.turns[-1].timestamp == "00:05:00"
    # what is in parentheses after the interviewer describes no respondent
    assert parse_transcript("Interviewer (Lotte): Hoe?\nR1: Ja.").respondents == {"R1": {}}


def test_a_name_is_a_speaker_only_when_it_starts_two_lines():
    twice = parse_transcript("I: Wie staat 's nachts op?\nSofie: Ik.\nPapa Tom: Ik ook.\nSofie: Soms.\n"
                             "Papa Tom: Meestal.")
    assert [(t.speaker, t.role) for t in twice.turns] == [
        ("I", "interviewer"), ("Sofie", "other"), ("Papa Tom", "other"), ("Sofie", "other"), ("Papa Tom", "other")]
    assert_offsets(twice)

    once = parse_transcript("I: Wie staat 's nachts op?\nSofie: Ik.\nTom: Ik ook.\nSofie: Soms.")
    assert [t.speaker for t in once.turns] == ["I", "Sofie", "Sofie"]
    assert once.turns[1].text == "Ik.\nTom: Ik ook."  # "Tom:" once is text of Sofie's turn


def test_name_spelling_is_case_insensitive_and_the_first_spelling_is_the_label():
    transcript = parse_transcript("Sofie: Ja.\nSOFIE: Nee.")
    assert [t.speaker for t in transcript.turns] == ["Sofie", "Sofie"]


def test_names_argument_and_speaker_roles_accept_a_name_seen_once():
    text = "I: En uw man?\nTom: Ik werk veel.\nR7: Dat klopt."
    assert [t.speaker for t in parse_transcript(text).turns] == ["I", "R7"]
    assert [t.speaker for t in parse_transcript(text, names=["Tom"]).turns] == ["I", "Tom", "R7"]
    roles = parse_transcript(text, speaker_roles={"tom": "respondent", "Respondent 7": "other"})
    assert [(t.speaker, t.role) for t in roles.turns] == [
        ("I", "interviewer"), ("Tom", "respondent"), ("R7", "other")]
    assert "Tom" in roles.respondents
    assert [(t.role) for t, _ in roles.sentences()] == ["respondent", "other"]


def test_explicit_names_pass_even_when_they_do_not_look_like_names():
    transcript = parse_transcript("Vraag: Hoe gaat het?\nmama: Goed.", names=["Vraag", "mama"])
    assert [t.speaker for t in transcript.turns] == ["Vraag", "mama"]


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="parent"):
        parse_transcript("R1: Ja.", speaker_roles={"R1": "parent"})


def test_text_with_colons_is_not_taken_for_speakers():
    transcript = parse_transcript(
        "R3: Mijn moeder zei altijd dit.\n"
        "Toen zei ik: nee.\nToen zei ik: ja.\n"              # not a name: lower-case words
        "Datum: gisteren.\nDatum: vandaag.\n"                # a heading word, even twice
        "Opmerking: dit is lastig.\nOpmerking: echt.\n"
        "Zie https://www.kindengezin.be\nHttps://www.groeipakket.be\nHttps://www.vlaanderen.be\n"
        "Om 10:00: eten.\nOm 10:00: slapen.\n")
    assert len(transcript.turns) == 1
    assert transcript.turns[0].text.count("\n") == 11
    assert_offsets(transcript)


def test_windows_line_endings_and_non_breaking_spaces():
    transcript = parse_transcript("Interviewer:\u00a0Hoe gaat het?\r\nR7\u00a0(V,\u00a026,\u00a037w):\u00a0Goed.\r\n"
                                  "\r\nHeel goed.\rI: Fijn.")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("I", "Hoe gaat het?"), ("R7", "Goed.\n\nHeel goed."), ("I", "Fijn.")]
    assert "\r" not in transcript.text and "\u00a0" not in transcript.text
    assert transcript.respondents["R7"] == {"gender": "V", "age": 26, "pregnancy_weeks": 37}
    assert_offsets(transcript)


def test_no_speaker_at_all_is_all_header():
    transcript = parse_transcript("Alleen wat notities.\nGeen gesprek.")
    assert transcript.turns == [] and transcript.text == "" and transcript.sentences() == []
    assert transcript.header == "Alleen wat notities.\nGeen gesprek."
    assert parse_transcript("").turns == []


# --- files -----------------------------------------------------------------------------------------------------------

TEXT = "I: Hoe was de kraamtijd?\nR2 (V, 31, 8m): Zwaar, maar de kraamverzorgster was een engel.\n"


def test_read_utf8_with_bom_and_markdown(tmp_path):
    path = tmp_path / "R2.md"
    path.write_bytes(b"\xef\xbb\xbf# Interview R2\n\n**" + TEXT.replace("\n", "**\n", 1).encode("utf-8"))
    transcript = read_transcript(path)
    assert transcript.name == "R2"
    assert transcript.header == "# Interview R2"
    assert [t.speaker for t in transcript.turns] == ["I", "R2"]
    assert transcript.respondents == {"R2": {"gender": "V", "age": 31, "child_age_months": 8}}


def test_read_cp1252(tmp_path):
    path = tmp_path / "R3.txt"
    path.write_bytes("I: Hoe voelde ge u?\r\nR3: Eerlijk? Ik was één en al twijfel, ’t was niet simpel.\r\n"
                     .encode("cp1252"))
    transcript = read_transcript(path)
    assert transcript.turns[1].text == "Eerlijk? Ik was één en al twijfel, ’t was niet simpel."
    assert_offsets(transcript)


def test_read_refuses_other_formats(tmp_path):
    path = tmp_path / "R3.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(ValueError, match="unsupported"):
        read_transcript(path)


def test_read_docx_with_paragraphs_and_a_table(tmp_path):
    document = docx.Document()
    document.add_heading("Interview R11 (fictief)", level=1)
    document.add_paragraph("Respondent: R11 (M, 35, 2j)")
    document.add_paragraph("Interviewer: Hoe combineert ge werk en de kleine?")
    document.add_paragraph("R11: Dat lukt, maar het is puzzelen.")
    document.add_paragraph("Vooral als ze ziek is en niet naar de crèche mag.")
    table = document.add_table(rows=0, cols=3)
    for time, speaker, text in [
        ("00:10:02", "Interviewer", "Wie neemt dan verlof?"),
        ("[00:10:09]", "R11", "Meestal ik. Mijn vrouw kan niet weg op het werk."),
        ("", "", "(kindje huilt op de achtergrond)"),
    ]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = time, speaker, text
    two = document.add_table(rows=0, cols=2)
    cells = two.add_row().cells
    cells[0].text, cells[1].text = "I", "Merci voor uw tijd."
    document.add_paragraph("Einde opname.")
    path = tmp_path / "R11.docx"
    document.save(str(path))

    text = docx_text(path)
    assert text.index("Hoe combineert") < text.index("Wie neemt") < text.index("Merci") < text.index("Einde")
    transcript = read_transcript(path)
    assert transcript.name == "R11"
    assert [(t.speaker, t.timestamp) for t in transcript.turns] == [
        ("I", None), ("R11", None), ("I", "00:10:02"), ("R11", "00:10:09"), ("I", None)]
    assert transcript.turns[1].text == (
        "Dat lukt, maar het is puzzelen.\n\nVooral als ze ziek is en niet naar de crèche mag.")
    assert transcript.turns[3].text == (
        "Meestal ik. Mijn vrouw kan niet weg op het werk.\n\n(kindje huilt op de achtergrond)")
    assert transcript.turns[4].text == "Merci voor uw tijd.\n\nEinde opname."
    assert transcript.header == "Interview R11 (fictief)\nRespondent: R11 (M, 35, 2j)"
    assert transcript.respondents == {"R11": {"gender": "M", "age": 35, "child_age_months": 24}}
    assert [s.text for _, s in transcript.sentences()][:2] == [
        "Dat lukt, maar het is puzzelen.", "Vooral als ze ziek is en niet naar de crèche mag."]
    assert_offsets(transcript)


# --- the thesis notation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("notation", "attrs"),
    [
        ("V, 26, 37w", {"gender": "V", "age": 26, "pregnancy_weeks": 37}),
        ("M, 39, 3-5-6", {"gender": "M", "age": 39, "children_ages_years": [3, 5, 6]}),
        ("V, 31, 8m", {"gender": "V", "age": 31, "child_age_months": 8}),
        ("V, 29, 2j", {"gender": "V", "age": 29, "child_age_months": 24}),
        ("V, 29, 2 jaar", {"gender": "V", "age": 29, "child_age_months": 24}),
        ("V, 33, 30w, 2", {"gender": "V", "age": 33, "pregnancy_weeks": 30, "children_ages_years": [2]}),
        ("vrouw, 30", {"gender": "V", "age": 30}),
        ("man, 41, 5 mnd", {"gender": "M", "age": 41, "child_age_months": 5}),
        ("F, 22, 12 weken", {"gender": "V", "age": 22, "pregnancy_weeks": 12}),
        ("X, 40", {"gender": "X", "age": 40}),
        ("(V, 26, 37w)", {"gender": "V", "age": 26, "pregnancy_weeks": 37}),
        ("V;26;37w", {"gender": "V", "age": 26, "pregnancy_weeks": 37}),
        ("V, 29 jaar, 1.5j", {"gender": "V", "age": 29, "child_age_months": 18}),
        ("M, 36, 4/7", {"gender": "M", "age": 36, "children_ages_years": [4, 7]}),
        ("V, 35, 10m, 3-6", {"gender": "V", "age": 35, "child_age_months": 10, "children_ages_years": [3, 6]}),
        ("M, 3", {"gender": "M", "children_ages_years": [3]}),  # 3 is no parent's age
    ],
)
def test_parse_notation(notation, attrs):
    assert parse_notation(notation) == attrs


@pytest.mark.parametrize(
    ("notation", "attrs"),
    [
        ("", {}),
        (None, {}),
        ("   ", {}),
        ("V, , 26", {"gender": "V", "age": 26}),
        ("V, abc, 26", {"gender": "V", "age": 26, "extra": ["abc"]}),
        ("vroedvrouw, 45", {"age": 45, "extra": ["vroedvrouw"]}),
        ("V, 26, 37w, 40w", {"gender": "V", "age": 26, "pregnancy_weeks": 37, "extra": ["40w"]}),
        ("V, M, 26", {"gender": "V", "age": 26, "extra": ["M"]}),
        ("V, 26, 8m, 2j", {"gender": "V", "age": 26, "child_age_months": 8, "extra": ["2j"]}),
        ("??, 26, 37x", {"age": 26, "extra": ["??", "37x"]}),
        ("V, 26, 1234", {"gender": "V", "age": 26, "extra": ["1234"]}),
        ("00:12:31", {"extra": ["00:12:31"]}),
    ],
)
def test_parse_notation_never_raises_on_malformed_input(notation, attrs):
    assert parse_notation(notation) == attrs


@pytest.mark.parametrize(
    ("attrs", "role"),
    [
        ({"gender": "V", "age": 26}, "mother"),
        ({"gender": "M"}, "father"),
        ({"gender": "vrouw"}, "mother"),
        ({"gender": "X"}, None),
        ({}, None),
        ({"gender": "V", "role": "vader"}, "father"),  # an explicit role wins
        ({"role": "Moeder"}, "mother"),
        ({"gender": "M", "role": "grootouder"}, "father"),
    ],
)
def test_role_of_parent(attrs, role):
    assert role_of_parent(attrs) == role


@pytest.mark.parametrize(
    ("raw", "label"),
    [("7", "R7"), ("R7", "R7"), ("r 7", "R7"), ("Respondent 7", "R7"), ("Resp. 7", "R7"), ("R07", "R7"),
     (" respondente 12 ", "R12"), ("Interviewster", "I"), ("int.", "I"), ("Sofie", "Sofie"), ("Papa  Tom", "Papa Tom")],
)
def test_normalise_label(raw, label):
    assert normalise_label(raw) == label


def test_classify_label():
    assert classify_label("Moderator").role == "interviewer"
    assert classify_label("Resp. 3").label == "R3"
    assert classify_label("Sofie") is None
    assert classify_label("Ilse") is None and classify_label("Rik") is None


# --- the respondents CSV ---------------------------------------------------------------------------------------------

def write(tmp_path: Path, content: str, encoding: str = "utf-8", name: str = "respondenten.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def test_read_respondents_comma(tmp_path):
    path = write(tmp_path, "id,gender,age,role,child_age,region\n"
                           "7,vrouw,26,moeder,37w,Oost-Vlaanderen\n"
                           "R13,M,39,vader,3-5-6,Antwerpen\n"
                           "r 2,V,31,,8m,\n")
    assert read_respondents(path) == {
        "R7": {"gender": "V", "age": 26, "role": "moeder", "pregnancy_weeks": 37, "region": "Oost-Vlaanderen"},
        "R13": {"gender": "M", "age": 39, "role": "vader", "children_ages_years": [3, 5, 6], "region": "Antwerpen"},
        "R2": {"gender": "V", "age": 31, "child_age_months": 8},  # empty cells are left out
    }


def test_read_respondents_semicolon_bom_dutch_headers_and_extra_columns(tmp_path):
    path = write(tmp_path, "\ufeffRespondent;Geslacht;Leeftijd;Leeftijd kind;Zwangerschapsweek;Regio;Opleiding;"
                           "Notitie\n"
                           "Respondent 4;V;33;2;30;Limburg;hoger onderwijs;\"tweede kindje; eerste was keizersnede\"\n"
                           "Resp. 5;M;41 jaar;2j;;West-Vlaanderen;secundair;\n")
    assert read_respondents(path) == {
        "R4": {"gender": "V", "age": 33, "children_ages_years": [2], "pregnancy_weeks": 30, "region": "Limburg",
               "Opleiding": "hoger onderwijs", "Notitie": "tweede kindje; eerste was keizersnede"},
        "R5": {"gender": "M", "age": 41, "child_age_months": 24, "region": "West-Vlaanderen",
               "Opleiding": "secundair"},
    }


def test_read_respondents_cp1252_and_odd_values(tmp_path):
    path = write(tmp_path, "R;geslacht;leeftijd;regio;leeftijd_kind;zwangerschapsweek\r\n"
                           "1;X;onbekend;Brussel;één jaar;37w\r\n"
                           "2;F;28;Liège;;\r\n", encoding="cp1252")
    assert read_respondents(path) == {
        "R1": {"gender": "X", "age": "onbekend", "region": "Brussel", "extra": ["één jaar"], "pregnancy_weeks": 37},
        "R2": {"gender": "V", "age": 28, "region": "Liège"},
    }


def test_read_respondents_blank_lines_and_multiline_cells_keep_line_numbers(tmp_path):
    path = write(tmp_path, 'id,notitie\n\nR1,"twee\nregels"\n\nR1,dubbel\n')
    with pytest.raises(ValueError, match=r"line 6: duplicate respondent id 'R1' \(first on line 3\)"):
        read_respondents(path)


def test_read_respondents_duplicate_id_after_normalisation(tmp_path):
    path = write(tmp_path, "id;leeftijd\n7;26\n8;30\nRespondent 7;27\n")
    with pytest.raises(ValueError, match=r"line 4: duplicate respondent id 'R7' \(first on line 2\)"):
        read_respondents(path)


def test_read_respondents_row_without_id(tmp_path):
    path = write(tmp_path, "id,leeftijd\nR1,26\n,30\n")
    with pytest.raises(ValueError, match="line 3: no respondent id"):
        read_respondents(path)


def test_read_respondents_without_id_column_or_with_too_many_cells(tmp_path):
    with pytest.raises(ValueError, match="line 1: no id column"):
        read_respondents(write(tmp_path, "naam,leeftijd\nSofie,26\n"))
    with pytest.raises(ValueError, match="line 3: 3 cells but the header has 2"):
        read_respondents(write(tmp_path, "id,leeftijd\nR1,26\nR2,30,extra\n"))
    assert read_respondents(write(tmp_path, "")) == {}
    assert read_respondents(write(tmp_path, "id,leeftijd\n")) == {}


def test_merge_attributes(tmp_path):
    inline = {"R7": {"gender": "V", "age": 26, "pregnancy_weeks": 37, "extra": ["tweeling"]}, "R8": {}}
    register = {"R7": {"age": 27, "region": "Gent", "extra": ["eerste kind", "tweeling"]}, "R9": {"gender": "M"}}
    merged = merge_attributes(inline, register)
    assert merged == {
        "R7": {"gender": "V", "age": 27, "pregnancy_weeks": 37, "region": "Gent",
               "extra": ["tweeling", "eerste kind"]},
        "R8": {},
        "R9": {"gender": "M"},
    }
    assert inline["R7"]["age"] == 26 and inline["R7"]["extra"] == ["tweeling"]  # inputs untouched
    assert merge_attributes({"gender": "V", "age": 26}, {"age": 27}) == {"gender": "V", "age": 27}


def test_transcript_attributes_meet_the_register(interview, tmp_path):
    path = write(tmp_path, "respondent;leeftijd;regio\nRespondent 7;27;Oost-Vlaanderen\n")
    merged = merge_attributes(interview.respondents, read_respondents(path))
    assert merged["R7"] == {"gender": "V", "age": 27, "pregnancy_weeks": 37, "region": "Oost-Vlaanderen"}
    assert role_of_parent(merged["R7"]) == "mother"


ADVERSARIAL_LINES = {
    "spaces before text": "R7" + " " * 200 + "x",
    "spaces before a bracket": "R7" + " " * 200 + "(",
    "tabs and odd spaces": "R7" + " \t\u00a0\u2009\u3000\x0b" * 2000 + "x",
    "an unclosed notation": "R7 (" + "x" * 100_000,
    "an unclosed notation of words": "R7 (" + "x " * 50_000,
    "a long name": "Sofie" + " a" * 50_000,
    "bold markers": "**" * 50_000,
    "timestamps": "[00:00:00] " * 50_000,
    "bare times": "12:31 - " * 50_000,
    "colons": ":" * 100_000,
    "label and times": "R7" + " (12:31)" * 20_000 + " x",
    "one long word": "a" * 200_000,
    "notation at the end of a long word": "a" * 200_000 + " (V, 26)",
    "open brackets": "R7 (" * 50_000,
    "a long label number": "R" + "7" * 200_000,
}


@pytest.mark.parametrize("name", ADVERSARIAL_LINES)
def test_adversarial_lines_parse_in_linear_time(name):
    import time

    line = ADVERSARIAL_LINES[name]
    # In the header, as a turn, and as a continuation line: every place a line is matched.
    text = f"{line}\nR1: Ja.\n{line}\nInterviewer: Een vraag?\n{line}\n"
    started = time.perf_counter()
    transcript = parse_transcript(text, "x")
    elapsed = time.perf_counter() - started
    assert elapsed < 0.1 * 3, f"{name}: {elapsed:.2f} s for three lines"
    assert any(t.speaker == "I" for t in transcript.turns)


def test_a_speaker_prefix_on_a_very_long_line_keeps_the_whole_line_as_text():
    answer = "Ik las elke avond voor. " * 100  # 2,400 characters: longer than the scanned head
    transcript = parse_transcript(f"Interviewer: Hoe ging het?\nR7   (V, 26)  :   {answer}\nR7:\t\tJa.\n")
    turns = [(t.speaker, t.text) for t in transcript.turns]
    assert turns == [("I", "Hoe ging het?"), ("R7", answer.strip()), ("R7", "Ja.")]
    assert transcript.respondents["R7"]["age"] == 26
