"""The optimised inference path: SmoothQuant is an exact rewrite, the int8 onnx build keeps the torch model's
labels (the ≥ 98 % dev gate), is built once and reused, and refuses what it cannot export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from discourse.training.corpus import load_units
from discourse.encoder import Encoder, load_inference_encoder
from discourse.encoder.onnx_backend import BUILD_FILE, OnnxEncoder, calibration_texts, onnx_dir
from discourse.encoder.onnx_build import _activation_maxima, smooth_linears
from discourse.model.framing import FramingModel
from discourse.settings import DEFAULT_MODEL_DIR

TEXTS = ["de baby slaapt niet", "kraamzorg helpt", "borstvoeding is zwaar .", "de moeder is fijn", "onbekend"]


def test_smoothing_is_an_exact_rewrite(tiny_model_dir):
    encoder = Encoder.load(str(tiny_model_dir))
    transformer = encoder.st_model[0].auto_model
    features = encoder.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        before = transformer(**features).last_hidden_state.clone()
    linears = sum(isinstance(m, torch.nn.Linear) for m in transformer.modules())  # q k v out up down ×2, pooler
    maxima = _activation_maxima(transformer, encoder.tokenizer, TEXTS, 64)
    assert smooth_linears(transformer, maxima) == linears == 13
    with torch.inference_mode():
        after = transformer(**features).last_hidden_state
    assert torch.allclose(before, after, atol=1e-5)


def test_onnx_build_of_a_local_model_matches_torch_and_is_reused(tiny_model_dir, tmp_path):
    encoder = Encoder.load(str(tiny_model_dir))
    optimised = OnnxEncoder.from_encoder(encoder, calibration=TEXTS * 4, home=tmp_path)
    assert optimised.folder == onnx_dir(encoder, tmp_path) and (optimised.folder / BUILD_FILE).is_file()
    assert optimised.version == encoder.version + "+int8" and optimised.dim == encoder.dim
    reference, fast = encoder.encode(TEXTS), optimised.encode(TEXTS)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-5)
    assert (reference * fast).sum(1).min() > 0.97  # int8 error on a random 16-dim model
    assert optimised.count_tokens(TEXTS) == encoder.count_tokens(TEXTS)
    stamp = (optimised.folder / "model.int8.onnx").stat().st_mtime_ns
    again = OnnxEncoder.from_encoder(encoder, calibration=TEXTS, home=tmp_path)
    assert (again.folder / "model.int8.onnx").stat().st_mtime_ns == stamp  # not rebuilt
    assert np.array_equal(again.encode(TEXTS), fast)  # and deterministic
    assert [p.name for p in tmp_path.joinpath("onnx").iterdir()] == [optimised.folder.name]  # no temp leftovers


def test_a_first_load_builds_from_the_fixed_calibration_set_without_the_corpus(tiny_model_dir, tmp_path):
    """The inference path reads no training data: a model's first onnx load builds the int8 file from the fixed
    calibration texts shipped with the encoder (encoder/calibration.json), which are training units, never dev or
    test (the agreement gate is measured on dev)."""
    import json
    import os
    import subprocess
    import sys

    texts = calibration_texts()
    splits = {u.text: u.split for u in load_units()}
    assert len(texts) == len(set(texts)) == 1024 and {splits.get(t) for t in texts} == {"train"}
    script = ("import json, sys; from discourse.encoder import load_inference_encoder; "
              f"e = load_inference_encoder({str(tiny_model_dir)!r}, backend='onnx'); "
              "print(json.dumps({'corpus': 'discourse.training.corpus' in sys.modules, "
              "'texts': e.build_info['calibration_texts'], 'folder': str(e.folder)}))")
    env = {**os.environ, "DISCOURSE_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout.strip().splitlines()[-1])
    assert run == {"corpus": False, "texts": 1024, "folder": run["folder"]} and run["folder"].startswith(str(tmp_path))


def test_unknown_backend_and_unsupported_pooling_are_refused(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
        load_inference_encoder(str(tiny_model_dir), backend="tensorflow")
    encoder = Encoder.load(str(tiny_model_dir))
    encoder.st_model[1].pooling_mode = "max"
    with pytest.raises(ValueError, match="mean or CLS pooling"):
        OnnxEncoder.from_encoder(encoder, calibration=TEXTS, home=tmp_path)


@pytest.mark.encoder
def test_int8_build_keeps_the_shipped_models_labels_on_dev():
    """The gate the int8 build is held to: product labels of the int8 path agree with the torch reference on
    ≥ 98 % of dev."""
    reference = FramingModel.load(DEFAULT_MODEL_DIR, backend="torch")
    optimised = FramingModel.load(DEFAULT_MODEL_DIR, backend="onnx")
    assert isinstance(optimised.encoder, OnnxEncoder)
    assert optimised.describe()["encoder_version"].endswith("+int8")
    dev = [u.text for u in load_units() if u.split == "dev"]
    torch_rows, onnx_rows = reference.predict(dev), optimised.predict(dev)
    agree = np.mean([a["label"] == b["label"] for a, b in zip(torch_rows, onnx_rows)])
    assert agree >= 0.98, f"int8 labels agree with torch on only {agree:.1%} of dev"
    relevance = np.mean([(a["relevance"] >= 0.5) == (b["relevance"] >= 0.5) for a, b in zip(torch_rows, onnx_rows)])
    assert relevance >= 0.98
    # A text's scores do not depend on the texts it is encoded with (dynamic quantisation would make them so in
    # a batch; each text runs alone).
    alone = optimised.encoder.encode(dev[:1])  # a lone text runs on the all-cores session
    with_others = optimised.encoder.encode(dev[200:240] + dev[:1])[-1:]  # parallel single-thread runs
    assert np.array_equal(alone, with_others)


def test_fast_tokenizer_gives_the_transformers_ids(tiny_model_dir):
    """Serving without transformers: tokenizer.json through `tokenizers` alone, truncation as transformers does it."""
    from discourse.encoder.onnx_backend import FastTokenizer

    encoder = Encoder.load(str(tiny_model_dir))
    fast = FastTokenizer(tiny_model_dir / "tokenizer.json", 8)
    texts = TEXTS + [" ".join(TEXTS * 3), "", "de"]
    assert fast(texts, truncation=True, max_length=8) == {"input_ids": encoder.tokenizer(
        texts, truncation=True, max_length=8)["input_ids"]}
    assert fast(texts)["input_ids"] == encoder.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
    assert max(len(ids) for ids in fast(texts, truncation=True)["input_ids"]) == 8


def test_an_existing_build_is_served_without_torch(tiny_model_dir, tmp_path):
    """Once built, a model runs from its int8 file alone: a fresh process loads neither torch nor the torch model
    (about 0.5 GB less resident memory for e5-small), and gets the same embeddings. A build from before the shape
    was recorded in build.json loads through torch once and is completed for next time."""
    import json
    import os
    import subprocess
    import sys

    encoder = Encoder.load(str(tiny_model_dir))
    built = OnnxEncoder.from_encoder(encoder, calibration=TEXTS * 4, home=tmp_path)
    info_path = built.folder / BUILD_FILE
    info = json.loads(info_path.read_text())
    assert info["max_length"] == encoder.st_model.max_seq_length and info["dim"] == encoder.dim
    del info["max_length"], info["dim"]  # as an older build wrote it
    info_path.write_text(json.dumps(info))
    env = {**os.environ, "DISCOURSE_HOME": str(tmp_path)}
    script = ("import json, sys; from discourse.encoder import load_inference_encoder; "
              f"e = load_inference_encoder({str(tiny_model_dir)!r}, backend='onnx'); "
              f"print(json.dumps({{'torch': 'torch' in sys.modules, 'version': e.version, "
              f"'x': e.encode({TEXTS!r}).tolist(), 'tokens': e.count_tokens({TEXTS!r})}}))")
    runs = []
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert runs[0]["torch"] and not runs[1]["torch"]  # the older build went through torch once, then never again
    assert "max_length" in json.loads(info_path.read_text())
    for run in runs:
        assert run["version"] == built.version and run["tokens"] == built.count_tokens(TEXTS)
        assert np.allclose(np.array(run["x"]), built.encode(TEXTS), atol=1e-6)
