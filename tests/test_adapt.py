"""`discourse adapt-encoder` (masked-LM LoRA on unlabelled text) and `discourse train --encoder ADAPTER`, through
the real CLI: on a tiny random BERT for the whole chain, and a few steps on the real e5 for its tokenizer and size."""

import json
import subprocess
import sys

import pytest

from discourse.encoder.adapters import ADAPTER_MANIFEST

CLI = [sys.executable, "-m", "discourse.cli"]
SENTENCES = ["de baby slaapt niet goed .", "de moeder is zwaar .", "het is fijn .", "de kraamzorg helpt .",
             "de vader helpt de moeder .", "borstvoeding is zwaar .", "de baby is goed ."]


def _text_file(path, n_lines: int = 120):
    # Each line a short text of three sentences (a record of the TXT reader); blank lines are not records.
    lines = [" ".join(SENTENCES[(i + k) % len(SENTENCES)].capitalize() for k in range(3)) for i in range(n_lines)]
    path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return path


def _adapt(data, out, encoder, *flags):
    return subprocess.run(CLI + ["adapt-encoder", "--data", str(data), "--out", str(out), "--encoder", str(encoder),
                                 *flags], capture_output=True, text=True, timeout=600)


def test_txt_records_are_read_when_named_but_not_from_a_folder(tmp_path):
    from discourse.ingest.paths import expand_paths
    from discourse.ingest.readers import IngestRecord, read_records

    path = _text_file(tmp_path / "notes.txt", 5)
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "Een zin."}) + "\n", encoding="utf-8")
    records = list(read_records([path]))
    assert len(records) == 5 and all(isinstance(r, IngestRecord) for r in records)
    assert [r.position for r in records] == [1, 3, 5, 7, 9]  # blank separator lines skipped, line numbers kept
    assert [p.name for p in expand_paths([str(tmp_path)])] == ["a.jsonl"]
    assert [p.name for p in expand_paths([str(tmp_path / "*.txt")])] == ["notes.txt"]


def test_adapt_then_train_on_the_adapter_then_classify(tmp_path, tiny_model_dir):
    import numpy as np

    from discourse.encoder import Encoder, EncoderIntegrityError
    from discourse.model.loading import load_model

    adapter = tmp_path / "adapter"
    result = _adapt(_text_file(tmp_path / "corpus.txt"), adapter, tiny_model_dir, "--steps", "6", "--rank", "2",
                    "--batch-size", "4", "--max-tokens", "16", "--lr", "1e-2")
    assert result.returncode == 0, result.stderr
    assert "step 6/6: masked-LM loss" in result.stderr and "held-out masked-LM loss" in result.stderr
    assert "head step 3/3: masked-LM loss" in result.stderr  # the head alone first: half the steps by default
    manifest = json.loads((adapter / ADAPTER_MANIFEST).read_text())
    assert manifest["base"] == str(tiny_model_dir) and manifest["rank"] == 2 and manifest["steps"] == 6
    assert manifest["head_steps"] == 3
    assert set(manifest["sha256"]) == {"adapter_config.json", "adapter_model.safetensors"}
    assert np.isfinite(manifest["held_out_loss"]) and manifest["windows"]["held_out"] >= 1

    base, adapted = Encoder.load(str(tiny_model_dir)), Encoder.load(str(adapter))
    assert adapted.name == str(tiny_model_dir) and adapted.adapters == [adapter]
    assert adapted.version != base.version
    texts = ["de baby slaapt niet goed .", "de moeder is zwaar ."]
    assert not np.allclose(adapted.encode(texts), base.encode(texts), atol=1e-5)  # the adapter changed something

    rows = [{"tekst": f"de baby is {w} . de moeder is {w} .", "code": w} for w in ("fijn", "zwaar") * 20]
    with open(tmp_path / "d.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    out = tmp_path / "model"
    trained = subprocess.run(CLI + ["train", "--data", str(tmp_path / "d.jsonl"), "--text-column", "tekst",
                                    "--label-column", "code", "--out", str(out), "--encoder", str(adapter),
                                    "--mode", "head"],
                             capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["encoder"] == str(tiny_model_dir) and config["encoder_adapters"] == ["encoder-adapter"]
    assert config["encoder_version"] == adapted.version
    assert (out / "encoder-adapter" / ADAPTER_MANIFEST).is_file()  # the model folder is complete on its own
    model = load_model(out, backend="torch")
    assert model.encoder.version == adapted.version
    assert np.allclose(model.encoder.encode(texts), adapted.encode(texts), atol=1e-6)

    weights = out / "encoder-adapter" / "adapter_model.safetensors"
    damaged = bytearray(weights.read_bytes())
    damaged[-8] ^= 0xFF  # one byte of the LoRA weights
    weights.write_bytes(bytes(damaged))
    with pytest.raises(EncoderIntegrityError, match="sha256"):
        load_model(out, backend="torch")


def test_train_framing_on_a_domain_adapter(tmp_path, tiny_model_dir):
    """`discourse train-framing --encoder ADAPTER`: the framing model carries a copy of the domain adapter, records
    it in its config, and loads to the adapted encoder (checked before merging)."""
    import numpy as np

    from discourse.encoder import Encoder, EncoderIntegrityError
    from discourse.model.framing import FramingModel

    adapter = tmp_path / "adapter"
    result = _adapt(_text_file(tmp_path / "corpus.txt", 40), adapter, tiny_model_dir, "--steps", "2", "--rank", "2",
                    "--batch-size", "4", "--max-tokens", "16", "--lr", "1e-2")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "framing"
    trained = subprocess.run(CLI + ["train-framing", "--out", str(out), "--mode", "head", "--no-real",
                                    "--encoder", str(adapter), "--model-version", "0.0.1"],
                             capture_output=True, text=True, timeout=900)
    assert trained.returncode == 0, trained.stderr
    config = json.loads((out / "config.json").read_text())
    adapted = Encoder.load(str(adapter))
    assert config["encoder"] == str(tiny_model_dir) and config["encoder_adapters"] == ["encoder-adapter"]
    assert config["encoder_version"] == adapted.version and config["adapter"] is None
    assert json.loads((out / "metrics.json").read_text())["command"].endswith(f"--encoder {adapter}")
    model = FramingModel.load(out, backend="torch")
    texts = ["de baby slaapt niet goed .", "de moeder is zwaar ."]
    assert model.encoder.version == adapted.version
    assert np.allclose(model.encoder.encode(texts), adapted.encode(texts), atol=1e-6)
    assert len(model.predict(texts)) == 2

    manifest = out / "encoder-adapter" / ADAPTER_MANIFEST
    manifest.write_text(manifest.read_text().replace('"sha256": {', '"sha256": {"extra.bin": "00", ', 1))
    with pytest.raises(EncoderIntegrityError, match="extra.bin"):
        FramingModel.load(out, backend="torch")


def test_train_framing_refuses_a_missing_encoder_clearly(tmp_path):
    result = subprocess.run(CLI + ["train-framing", "--out", str(tmp_path / "m"), "--mode", "head", "--no-real",
                                   "--encoder", str(tmp_path / "no-such-adapter")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "no-such-adapter" in result.stderr and "Traceback" not in result.stderr


def test_an_adapter_is_refused_on_another_base(tmp_path, tiny_model_dir, tiny_bert_factory):
    from discourse.encoder import Encoder, EncoderIntegrityError

    other = tiny_bert_factory(tmp_path / "other-base", seed=1)
    adapter = tmp_path / "adapter"
    result = _adapt(_text_file(tmp_path / "corpus.txt", 40), adapter, other, "--steps", "1", "--batch-size", "2",
                    "--max-tokens", "16")
    assert result.returncode == 0, result.stderr
    (other / "model.safetensors").write_bytes((tiny_model_dir / "model.safetensors").read_bytes())  # base changed
    with pytest.raises(EncoderIntegrityError, match="only fits the weights it was trained on"):
        Encoder.load(str(adapter))


def test_adapt_refuses_input_without_text(tmp_path, tiny_model_dir):
    (tmp_path / "empty.jsonl").write_text(json.dumps({"title": "geen tekst"}) + "\n", encoding="utf-8")
    result = _adapt(tmp_path / "empty.jsonl", tmp_path / "a", tiny_model_dir, "--steps", "1")
    assert result.returncode == 2 and "usable text window" in result.stderr and "missing_text 1" in result.stderr


@pytest.mark.encoder
def test_adapt_the_real_encoder_for_a_few_steps(tmp_path):
    """The rebuilt e5 (XLM-R tokenizer, 250k-word vocabulary): a few steps give a small adapter that loads."""
    from discourse.training.corpus import load_units
    from discourse.encoder import DEFAULT_ALIAS, Encoder

    corpus = tmp_path / "units.jsonl"
    with open(corpus, "w", encoding="utf-8") as handle:
        for unit in load_units()[:300]:
            handle.write(json.dumps({"text": unit.text}, ensure_ascii=False) + "\n")
    adapter = tmp_path / "e5-adapter"
    result = _adapt(corpus, adapter, DEFAULT_ALIAS, "--steps", "2", "--batch-size", "4", "--max-tokens", "48")
    assert result.returncode == 0, result.stderr
    size = sum(p.stat().st_size for p in adapter.iterdir())
    assert size < 5_000_000, size  # a few MB, never full weights
    encoder = Encoder.load(str(adapter))
    assert encoder.name == DEFAULT_ALIAS and encoder.encode(["De baby slaapt slecht."]).shape == (1, 384)
