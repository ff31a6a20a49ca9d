"""The shipped framing model through the library and the real CLI, on the real rebuilt encoder."""

import json
import subprocess
import sys

import pytest

from discourse.pipeline.classify import classify_records, classify_texts
from discourse.codebook import STANCES, load_codebook
from discourse.model.framing import FramingModel
from discourse.ingest.readers import read_jsonl
from discourse.settings import DEFAULT_MODEL_DIR

pytestmark = pytest.mark.encoder

CLI = [sys.executable, "-m", "discourse.cli"]


@pytest.fixture(scope="module")
def model():
    return FramingModel.load(DEFAULT_MODEL_DIR)


def _check_schema(row, document=False):
    assert row["label"] in STANCES
    assert set(row["scores"]) == set(STANCES)
    assert sum(row["scores"].values()) == pytest.approx(1.0, abs=2e-3)
    assert all(0.0 <= p <= 1.0 for p in row["scores"].values())
    assert row["label"] == max(row["scores"], key=row["scores"].get)
    assert 0.0 <= row["relevance"] <= 1.0
    frames = load_codebook().frames
    for frame in row["frames"]:
        keys = {"frame", "score", "share"} if document else {"frame", "score"}  # share: of relevant sentences
        assert set(frame) == keys and frame["frame"] in frames and 0 <= frame["score"] <= 1
    assert row["language"] == "nl"
    assert row["model"] == "framing-e5-small" and row["model_version"] and row["codebook_version"]


def test_sentence_level_schema_and_clear_cases(model):
    rows = classify_texts(model, [
        "Wat je kind in de eerste 1000 dagen mist, haalt het nooit meer in: als ouder moet je alles juist doen.",
        "Je hoeft geen perfecte ouder te zijn; een goed genoeg ouder is precies wat je baby nodig heeft.",
        "De nieuwe tramlijn naar het station rijdt vanaf maandag elke tien minuten.",
    ])
    for row in rows:
        _check_schema(row)
        assert "evidence" not in row
    assert [r["label"] for r in rows] == ["pressuring", "supportive", "neutral"]
    assert rows[0]["relevance"] > 0.5 and rows[2]["relevance"] < 0.5
    assert rows[2]["frames"] == []


def test_document_level_evidence_points_into_the_text(model):
    text = ("Kind en Gezin organiseert gratis consultaties voor alle baby's. "
            "Toch voelen veel moeders zich schuldig als hun baby niet doorslaapt, omdat iedereen zegt dat het hun fout is. "
            "Gelukkig zei de vroedvrouw dat fouten maken mag en dat ik het goed deed.")
    [row] = classify_texts(model, [text], level="document")
    _check_schema(row, document=True)
    assert row["sentences"]["total"] == 3
    evidence = row["evidence"]
    assert set(evidence) == {"pressuring", "supportive"}
    assert evidence["pressuring"] and evidence["supportive"]
    for items in evidence.values():
        for item in items:
            assert text[item["start"]:item["end"]] == item["sentence"]
    assert "schuldig" in evidence["pressuring"][0]["sentence"]
    assert "fouten maken mag" in evidence["supportive"][0]["sentence"]


def test_bad_lines_get_errors_and_good_lines_are_still_classified(model, tmp_path):
    path = tmp_path / "in.jsonl"
    good = {"id": "ok-1", "text": "Ik voelde me zo schuldig dat de borstvoeding niet lukte.", "bron": "test"}
    lines = [
        json.dumps(good).encode(),
        json.dumps({"id": "empty", "text": ""}).encode(),
        json.dumps({"id": "blank", "text": "  \n\t "}).encode(),
        json.dumps({"id": "huge", "text": "woord " * 200_000}).encode(),  # 1.2 MB
        b'{"id": "broken", "text": ',
        b'{"id": "latin1", "text": "\xe9\xe9n zin"}',
        json.dumps({"id": "no-text", "tekst": "verkeerd veld"}).encode(),
        json.dumps({"id": "english", "text": "Parents feel a lot of pressure in the first thousand days."}).encode(),
        json.dumps({"id": "ok-2", "text": "Gelukkig hielp mijn man 's nachts, we deden het echt samen."}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    rows = list(classify_records(model, read_jsonl(path)))
    assert len(rows) == len(lines)
    by_id = {r.get("id"): r for r in rows}
    assert [r.get("id") for r in rows][:4] == ["ok-1", "empty", "blank", "huge"]
    _check_schema(rows[0])
    assert rows[0]["bron"] == "test" and "text" not in rows[0]
    _check_schema(rows[-1])
    assert "empty" in by_id["empty"]["error"] and "empty" in by_id["blank"]["error"]
    assert "limit" in by_id["huge"]["error"]
    assert rows[4]["error"].startswith("invalid JSON") and rows[4]["id"] is None
    assert "UTF-8" in rows[5]["error"]
    assert by_id["no-text"]["error"] == 'missing field "text"'
    assert "not Dutch" in by_id["english"]["error"] and by_id["english"]["language"] == "en"
    for row in rows[1:-1]:
        assert "label" not in row


def test_cli_file_mode_keeps_order_and_reports_counts(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": 1, "text": "Je kent je kind zelf het best, vertrouw op je gevoel."}),
        "niet eens json",
        json.dumps({"id": 3, "text": "Zonder kinderopvang kan ik niet gaan werken. Wat moeten we dan?"}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = subprocess.run(CLI + ["classify", "--input", str(src), "--output", str(out), "--level", "document"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == [1, None, 3]
    assert "error" in rows[1] and "evidence" in rows[0] and "evidence" in rows[2]
    assert "3 lines: 2 classified, 1 errors" in result.stderr


def test_cli_quick_text_prints_readable_output():
    result = subprocess.run(CLI + ["classify", "Ik voel eigenlijk geen druk, we doen het op ons eigen tempo."],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("label: ")
    assert "supportive" in result.stdout and "model: framing-e5-small" in result.stdout


def test_cli_refuses_bad_arguments_clearly(tmp_path):
    result = subprocess.run(CLI + ["classify", "--input", str(tmp_path / "missing.jsonl")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "input file not found" in result.stderr
    result = subprocess.run(CLI + ["classify", "tekst", "--level", "alinea"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "--level" in result.stderr
