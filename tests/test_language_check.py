"""Which texts are refused as not Dutch: only long, confidently foreign ones. Short Dutch headlines that the
detector takes for Afrikaans, German or English are classified and flagged (`language_uncertain`), through the
library, the archive scorer, the HTTP service and the CLI; `strict`, `warn` and `off` choose the policy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from discourse.pipeline.language import check_language
from discourse.settings import REPO_ROOT, SHARED_CORPORA

# Real NOS headlines the detector does not call Dutch (Afrikaans 0.58, German 0.45, English 0.62).
HEADLINES = ["OM wil Tata Steel vervolgen om stofuitstoot",
             "Facebook verbiedt berichten die Holocaust ontkennen",
             "Tientallen lichamen in clandestiene graven Mexico"]
ENGLISH = "This is an English article about the weather in London and the price of tea, which no Dutch model should score."


def test_short_dutch_headlines_are_classified_and_flagged_not_refused():
    for headline in HEADLINES:
        verdict = check_language(headline)
        assert not verdict.refuse and verdict.uncertain, (headline, verdict)
        assert verdict.fields()["language_uncertain"] is True and verdict.fields()["detected_language"] != "nl"


def test_long_confident_foreign_text_is_refused_only_when_strict():
    assert check_language(ENGLISH, "strict").refuse
    assert check_language("Ek is baie moeg na die geboorte van my baba, dit was swaar.", "strict").refuse
    warned = check_language(ENGLISH, "warn")
    assert not warned.refuse and warned.uncertain and warned.fields()["detected_language"] == "en"
    off = check_language(ENGLISH, "off")
    assert not off.refuse and not off.uncertain and off.guess is None
    dutch = check_language("Kind en Gezin biedt gratis consultaties aan voor alle baby's en peuters.")
    assert not dutch.refuse and dutch.fields() == {"language": "nl", "language_uncertain": False}
    with pytest.raises(ValueError, match="expected one of strict, warn, off"):
        check_language(ENGLISH, "lenient")


@pytest.mark.skipif(not SHARED_CORPORA.is_dir(), reason=f"NOS titles need the corpora at {SHARED_CORPORA}")
def test_no_nos_title_is_refused():
    titles = [json.loads(line)["title"] for path in sorted((SHARED_CORPORA / "nos-wedemeyer").glob("*.jsonl"))
              for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(titles) > 3000
    refused = [t for t in titles if check_language(t).refuse]
    assert refused == []


@pytest.fixture(scope="module")
def model():
    from discourse.model.framing import FramingModel
    from discourse.settings import DEFAULT_MODEL_DIR

    return FramingModel.load(DEFAULT_MODEL_DIR)


@pytest.mark.encoder
def test_classify_rows_carry_the_flag_and_the_policy(model):
    from discourse.pipeline.classify import classify_texts

    headline, english = classify_texts(model, [HEADLINES[0], ENGLISH])
    assert headline["label"] and headline["language"] == "nl" and headline["language_uncertain"] is True
    assert headline["detected_language"] == "af" and 0 < headline["language_confidence"] < 0.8
    assert "not Dutch" in english["error"] and english["language"] == "en"
    warned = classify_texts(model, [ENGLISH], language_check="warn")[0]
    assert "error" not in warned and warned["language_uncertain"] is True and warned["detected_language"] == "en"
    assert classify_texts(model, [ENGLISH], language_check="off")[0]["language_uncertain"] is False


@pytest.mark.encoder
def test_archive_scores_the_uncertain_and_records_the_flag(model):
    from discourse.ingest import IngestRecord
    from discourse.pipeline.score import Document, Refusal, score_documents
    from discourse.pipeline.score_archive import score_records

    headline, english = score_documents(model, [Document("h", HEADLINES[0]), Document("en", ENGLISH)]).results
    assert isinstance(english, Refusal) and english.reason_code == "not_dutch"
    assert headline.language.fields()["language_uncertain"] is True
    [warned] = score_documents(model, [Document("en", ENGLISH)], language_check="warn").results
    assert not isinstance(warned, Refusal)
    records = [IngestRecord(id="h", text=HEADLINES[0], title=None, published=None, source="nos", url=None,
                            meta={"rubriek": "economie"}, path="titles.jsonl", position=1)]
    scored = score_records(model, records)
    assert scored.documents[0]["meta"] == {"rubriek": "economie", "language_uncertain": True,
                                           "detected_language": "af",
                                           "language_confidence": headline.language.fields()[
                                               "language_confidence"]}


@pytest.mark.encoder
def test_service_setting_language_check(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    for mode, refused in (("strict", True), ("warn", False)):
        settings = Settings(language_check=mode, database_url=f"sqlite:///{tmp_path / mode}.sqlite")
        with TestClient(create_app(settings)) as client:
            rows = client.post("/v1/classify", json={"texts": [HEADLINES[0], ENGLISH]}).json()["items"]
        assert rows[0]["language_uncertain"] is True and "error" not in rows[0]
        assert ("error" in rows[1]) is refused
    with pytest.raises(ValueError):
        Settings(language_check="lenient")


@pytest.mark.encoder
def test_cli_language_check_flag():
    cli = [sys.executable, "-m", "discourse.cli", "classify"]
    strict = subprocess.run(cli + [ENGLISH], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert "not Dutch" in strict.stdout
    warned = subprocess.run(cli + ["--language-check", "warn", ENGLISH], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=300)
    assert warned.returncode == 0 and "label:" in warned.stdout and "language: uncertain (detected 'en'" in warned.stdout
    bad = subprocess.run(cli + ["--language-check", "lenient", ENGLISH], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=300)
    assert bad.returncode == 2 and "expected one of strict, warn, off" in bad.stderr
