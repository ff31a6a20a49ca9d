"""`discourse train` → `discourse classify --model` → `discourse evaluate`, through the real CLI."""

import csv
import json
import subprocess
import sys

import pytest

from discourse.training.corpus import load_units
from discourse.training.classifier import read_labelled

CLI = [sys.executable, "-m", "discourse.cli"]


def _write_csv(path, units):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["tekst", "code"])
        writer.writeheader()
        for u in units:  # the user's own label values: "-1" for not about early parenthood
            writer.writerow({"tekst": u.text, "code": "1" if u.relevant else "-1"})


def test_read_labelled_skips_bad_rows_and_keeps_labels_as_strings(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join([
        json.dumps({"t": "een", "l": -1}), json.dumps({"t": "twee", "l": 1.0}), "{kapot",
        json.dumps({"t": "", "l": 1}), json.dumps({"t": "drie"}), json.dumps({"t": "vier", "l": "pro"}),
    ]) + "\n", encoding="utf-8")
    data = read_labelled(path, "t", "l")
    assert data.texts == ["een", "twee", "vier"]
    assert data.labels == ["-1", "1", "pro"]
    assert [n for n, _ in data.skipped] == [3, 4, 5]


@pytest.mark.encoder
def test_train_then_classify_beats_chance(tmp_path):
    units = load_units()
    train_units = [u for u in units if u.batch in ("irr01", "ima01", "pbe01", "nnl01")]
    test_units = [u for u in units if u.batch in ("irr02", "ifa02")]
    _write_csv(tmp_path / "train.csv", train_units)
    _write_csv(tmp_path / "test.csv", test_units)
    model_dir = tmp_path / "relevantie"
    result = subprocess.run(CLI + ["train", "--data", str(tmp_path / "train.csv"), "--text-column", "tekst",
                                   "--label-column", "code", "--out", str(model_dir), "--mode", "head",
                                   "--seed", "3"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stderr and "macro-F1" in result.stderr and "baseline" in result.stderr
    config = json.loads((model_dir / "config.json").read_text())
    assert config["labels"] == ["-1", "1"] and config["seed"] == 3
    assert (model_dir / "MODEL_CARD.md").read_text().count("macro-F1") >= 1

    with open(tmp_path / "in.jsonl", "w", encoding="utf-8") as handle:
        for i, u in enumerate(test_units):
            handle.write(json.dumps({"id": i, "text": u.text}, ensure_ascii=False) + "\n")
    result = subprocess.run(CLI + ["classify", "--model", str(model_dir), "--input", str(tmp_path / "in.jsonl"),
                                   "--output", str(tmp_path / "out.jsonl")], capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == list(range(len(test_units)))
    assert all(r["label"] in ("-1", "1") and abs(sum(r["scores"].values()) - 1) < 2e-3 for r in rows)
    truth = ["1" if u.relevant else "-1" for u in test_units]
    accuracy = sum(r["label"] == t for r, t in zip(rows, truth)) / len(rows)
    majority = max(truth.count("1"), truth.count("-1")) / len(truth)
    assert accuracy > majority + 0.1, (accuracy, majority)

    result = subprocess.run(CLI + ["evaluate", "--model", str(model_dir), "--data", str(tmp_path / "test.csv"),
                                   "--text-column", "tekst", "--label-column", "code", "--json"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == len(test_units)
    assert report["accuracy"] == pytest.approx(accuracy, abs=1e-3)
    assert len(report["confusion"]["matrix"]) == 2


def test_train_refuses_a_single_label(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("tekst,code\neen zin,a\nnog een zin,a\n", encoding="utf-8")
    result = subprocess.run(CLI + ["train", "--data", str(path), "--text-column", "tekst", "--label-column", "code",
                                   "--out", str(tmp_path / "m")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "two distinct labels" in result.stderr


def test_finetune_mode_trains_a_lora_adapter_and_reloads_it(tmp_path, tiny_model_dir):
    """--mode finetune end to end on a tiny random BERT (the real e5 path is the same code, only slower)."""
    import random

    rng = random.Random(0)
    # Words outside the tiny vocabulary become [UNK]; they are there so the language check sees Dutch.
    subjects = ["de moeder", "de vader", "de baby", "de kraamzorg"]
    frames = ["Eerlijk gezegd vond ik dat {s} het in die eerste weken {w} had .",
              "Volgens mij was het voor {s} toen echt {w} , zeker 's nachts .",
              "Ik denk dat {s} dat heel {w} vond , maar we praten er nu nog over ."]
    rows = []
    for i in range(80):
        label = "fijn" if i % 2 else "zwaar"
        text = rng.choice(frames).format(s=rng.choice(subjects), w=label)
        rows.append({"tekst": text, "code": label})
    train, held_out = rows[:60], rows[60:]
    with open(tmp_path / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["tekst", "code"])
        writer.writeheader()
        writer.writerows(train)
    out = tmp_path / "ft"
    result = subprocess.run(CLI + ["train", "--data", str(tmp_path / "train.csv"), "--text-column", "tekst",
                                   "--label-column", "code", "--out", str(out), "--mode", "finetune", "--epochs", "2",
                                   "--encoder", str(tiny_model_dir)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "epoch 1:" in result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["adapter"] == "adapter" and config["mode"] == "finetune"
    assert (out / "adapter" / "adapter_config.json").is_file()
    with open(tmp_path / "in.jsonl", "w", encoding="utf-8") as handle:
        for i, row in enumerate(held_out):
            handle.write(json.dumps({"id": i, "text": row["tekst"]}) + "\n")
    env_free = subprocess.run(CLI + ["classify", "--model", str(out), "--input", str(tmp_path / "in.jsonl"),
                                     "--output", str(tmp_path / "out.jsonl")], capture_output=True, text=True,
                              timeout=600)
    assert env_free.returncode == 0, env_free.stderr
    predictions = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert all("label" in p for p in predictions), predictions
    accuracy = sum(p["label"] == row["code"] for p, row in zip(predictions, held_out)) / len(held_out)
    assert accuracy > 0.7


def test_lora_linear_schedule_trains_and_bad_schedule_is_refused(tmp_path, tiny_model_dir):
    """The learning-rate schedule option of finetune_lora, on a tiny random BERT, jointly with a multi-task setup."""
    import numpy as np

    from discourse.encoder import Encoder
    from discourse.training.finetune import Task, finetune_lora

    texts = [f"ik vond het {w} , de baby was {w} ." for w in ("fijn", "zwaar") * 20]  # words in the tiny vocabulary
    labels = np.array([i % 2 for i in range(len(texts))])
    tasks = [Task("toy", 2, labels, np.ones(len(texts), bool))]
    encoder = Encoder.load(str(tiny_model_dir))
    with pytest.raises(ValueError, match="schedule"):
        finetune_lora(encoder, texts, tasks, tmp_path / "bad", texts, tasks, epochs=1, schedule="cosine")
    encoder = Encoder.load(str(tiny_model_dir))
    log = []
    result = finetune_lora(encoder, texts, tasks, tmp_path / "adapter", texts, tasks, epochs=4, lr=5e-3,
                           schedule="linear", patience=9, log=log.append)
    assert result.epochs_run == 4 and (tmp_path / "adapter" / "adapter_config.json").is_file()
    losses = [float(line.split("train loss ")[1].split(",")[0]) for line in log if "train loss" in line]
    assert len(losses) == 4 and losses[-1] < losses[0], log


def test_lora_continues_a_given_adapter_with_its_rank_and_layers(tmp_path, tiny_model_dir):
    """finetune_lora(init_adapter=...): the adapter keeps the first one's shape (rank, layers) whatever rank and
    layers are asked, starts from its weights, and training goes on changing them."""
    import json

    import numpy as np
    from safetensors.numpy import load_file

    from discourse.encoder import Encoder
    from discourse.training.finetune import Task, finetune_lora

    texts = [f"ik vond het {w} , de baby was {w} ." for w in ("fijn", "zwaar") * 20]
    tasks = [Task("toy", 2, np.array([i % 2 for i in range(len(texts))]), np.ones(len(texts), bool))]

    def run(name, **options):
        result = finetune_lora(Encoder.load(str(tiny_model_dir)), texts, tasks, tmp_path / name, texts, tasks,
                               patience=9, **options)
        # only the adapter: no placeholder card naming this machine's paths
        assert sorted(f.name for f in result.adapter_dir.iterdir()) == ["adapter_config.json",
                                                                        "adapter_model.safetensors"]
        return (json.loads((result.adapter_dir / "adapter_config.json").read_text()),
                load_file(str(result.adapter_dir / "adapter_model.safetensors")))

    first_config, first = run("first", epochs=2, lr=5e-3, rank=4, top_layers=1)
    assert any(np.abs(v).max() > 1e-4 for k, v in first.items() if "lora_B" in k)  # B starts at 0: it trained
    for name, lr in (("kept", 1e-9), ("continued", 5e-3)):
        config, weights = run(name, epochs=2, lr=lr, rank=16, top_layers=None, init_adapter=tmp_path / "first")
        assert config["r"] == 4 and config["layers_to_transform"] == first_config["layers_to_transform"]
        assert weights.keys() == first.keys()
        same = all(np.allclose(weights[k], first[k], atol=1e-5) for k in first)
        assert same if name == "kept" else not same, name


# ---------------------------------------------------------------------------------------------------------------
# Honest reporting, seed ensembles and document level, on a tiny random BERT (the e5 path is the same code).

def _tiny_rows(n: int, sentences_per_text: int = 1, seed: int = 0, skew: float = 0.5) -> list[dict]:
    """`n` labelled texts; 'fijn' texts and 'zwaar' texts differ in one word per sentence. `skew`: share of 'fijn'."""
    import random

    rng = random.Random(seed)
    subjects = ["De baby", "De moeder", "De vader", "De kraamzorg"]
    rows = []
    for i in range(n):
        label = "fijn" if rng.random() < skew else "zwaar"
        parts = [f"{rng.choice(subjects)} slaapt niet goed en het is {label} ." if k % 2 == 0 else
                 f"{rng.choice(subjects)} helpt , de baby is {rng.choice(['fijn', 'zwaar', 'goed'])} ."
                 for k in range(sentences_per_text)]
        rows.append({"tekst": " ".join(parts), "code": label})
    return rows


def _write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["tekst", "code"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _train(tmp_path, data, out, *flags):
    return subprocess.run(CLI + ["train", "--data", str(data), "--text-column", "tekst", "--label-column", "code",
                                 "--out", str(out), *flags], capture_output=True, text=True, timeout=600)


def test_card_reports_test_figures_beside_a_tfidf_baseline_with_ece_and_small_class_warning(tmp_path, tiny_model_dir):
    rows = _tiny_rows(160, skew=0.8)  # about 20 'zwaar' rows end up in training: fewer than 50
    data = _write_rows(tmp_path / "d.csv", rows)
    result = _train(tmp_path, data, tmp_path / "m", "--encoder", str(tiny_model_dir))
    assert result.returncode == 0, result.stderr
    assert "warning: label 'zwaar' has" in result.stderr and "warning: label 'fijn'" not in result.stderr
    report = json.loads((tmp_path / "m" / "report.json").read_text())
    assert report["evaluated_on"] == "test" and report["n_test"] == report["n"] == 24
    assert report["n_train"] + report["n_dev"] + report["n_test"] == 160
    assert set(report["per_class"]) == {"fijn", "zwaar"} and 0 <= report["ece"] <= 1
    assert sum(map(sum, report["confusion"]["matrix"])) == 24
    assert report["baseline"]["n"] == 24 and "ece" in report["baseline"]  # the same test rows
    card = (tmp_path / "m" / "MODEL_CARD.md").read_text()
    for needed in ("## Figures on test (24 rows)", "baseline: TF-IDF + logistic regression", "ECE (15 bins)",
                   "| zwaar |", "baseline F1", "Confusion matrix (test)", "**Warning:** label 'zwaar'"):
        assert needed in card, needed


def test_test_share_zero_reports_on_dev_and_says_so(tmp_path, tiny_model_dir):
    data = _write_rows(tmp_path / "d.csv", _tiny_rows(60))
    result = _train(tmp_path, data, tmp_path / "m", "--encoder", str(tiny_model_dir), "--test-share", "0")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "m" / "report.json").read_text())
    assert report["evaluated_on"] == "dev" and report["n_test"] == 0 and report["n"] == report["n_dev"]
    assert "**These figures are on the dev split**" in (tmp_path / "m" / "MODEL_CARD.md").read_text()


def test_seeds_train_an_ensemble_that_classify_loads_and_averages(tmp_path, tiny_model_dir):
    import numpy as np

    from discourse.encoder import Encoder
    from discourse.model.heads import SoftmaxHead
    from discourse.model.loading import load_model

    data = _write_rows(tmp_path / "d.csv", _tiny_rows(120, seed=1))
    out = tmp_path / "ens"
    result = _train(tmp_path, data, out, "--encoder", str(tiny_model_dir), "--seeds", "3", "--mode", "head")
    assert result.returncode == 0, result.stderr
    assert "over 3 seeds: accuracy" in result.stderr and "ensemble of 3" in result.stderr
    config = json.loads((out / "config.json").read_text())
    assert [m["head"] for m in config["members"]] == ["member-0/head", "member-1/head", "member-2/head"]
    report = json.loads((out / "report.json").read_text())
    assert [m["seed"] for m in report["members"]] == [0, 1, 2]
    assert set(report["seeds"]["macro_f1"]) == {"mean", "sd", "min", "max"}
    assert "mean ± sd over 3 seeds" in (out / "MODEL_CARD.md").read_text()

    model = load_model(out, backend="torch")
    assert len(model.members) == 3 and len({id(e) for e, _ in model.members}) == 1  # one encoder, three heads
    texts = ["De baby slaapt niet goed en het is fijn .", "De vader helpt , de baby is zwaar ."]
    x = Encoder.load(str(tiny_model_dir)).encode(texts)
    expected = np.mean([SoftmaxHead.load(out, f"member-{i}/head").predict_proba(x) for i in range(3)], axis=0)
    got = model.predict(texts)
    assert np.allclose([[r["scores"][l] for l in model.labels] for r in got], expected, atol=1e-4)

    classified = subprocess.run(CLI + ["classify", "--model", str(out), "--backend", "torch", "--language-check",
                                       "off", texts[0]], capture_output=True, text=True, timeout=300)
    assert classified.returncode == 0, classified.stderr
    assert f"label: {got[0]['label']}" in classified.stdout


def test_finetune_seeds_keep_one_adapter_per_model(tmp_path, tiny_model_dir):
    from discourse.model.loading import load_model

    data = _write_rows(tmp_path / "d.csv", _tiny_rows(60, seed=2))
    out = tmp_path / "ft"
    result = _train(tmp_path, data, out, "--encoder", str(tiny_model_dir), "--mode", "finetune", "--seeds", "2",
                    "--epochs", "1", "--class-weight", "none")
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert [m["adapter"] for m in config["members"]] == ["member-0/adapter", "member-1/adapter"]
    assert all((out / m["adapter"] / "adapter_config.json").is_file() for m in config["members"])
    model = load_model(out, backend="torch")
    encoders = [e for e, _ in model.members]
    assert encoders[0] is not encoders[1] and encoders[0].version != encoders[1].version
    assert len(model.predict(["De baby slaapt niet goed en het is fijn ."])) == 1


def test_document_level_finetune_learns_from_a_few_sentences_per_text(tmp_path, tiny_model_dir):
    import re

    data = _write_rows(tmp_path / "docs.csv", _tiny_rows(60, sentences_per_text=4, seed=5))
    out = tmp_path / "doc-ft"
    result = _train(tmp_path, data, out, "--encoder", str(tiny_model_dir), "--level", "document", "--mode",
                    "finetune", "--epochs", "1", "--max-sentences", "3", "--finetune-sentences", "2")
    assert result.returncode == 0, result.stderr
    sentences, texts = map(int, re.search(r"LoRA stage: (\d+) sentences from (\d+) training texts",
                                          result.stderr).groups())
    assert texts > 0 and sentences == 2 * texts  # 2 of each text's 4 sentences; the pooled head still sees 3
    assert "--finetune-sentences 2" in (out / "MODEL_CARD.md").read_text()


def test_document_level_pools_sentences_in_training_and_in_classify(tmp_path, tiny_model_dir):
    import numpy as np

    from discourse.encoder import Encoder
    from discourse.model.heads import SoftmaxHead
    from discourse.segment import split_sentences

    data = _write_rows(tmp_path / "docs.csv", _tiny_rows(80, sentences_per_text=4, seed=3))
    out = tmp_path / "doc"
    result = _train(tmp_path, data, out, "--encoder", str(tiny_model_dir), "--level", "document",
                    "--max-sentences", "3", "--mode", "head")
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["level"] == "document" and config["max_sentences"] == 3
    assert "mean-pooled" in (out / "MODEL_CARD.md").read_text()

    document = ("De baby slaapt niet goed en het is zwaar . De moeder helpt , de baby is fijn . "
                "De vader slaapt niet goed en het is zwaar . De kraamzorg helpt , de baby is goed .")
    sentences = [s.text for s in split_sentences(document)]
    assert len(sentences) == 4
    encoder = Encoder.load(str(tiny_model_dir))
    head = SoftmaxHead.load(out, "head")
    kept = [sentences[0], sentences[2], sentences[3]]  # 3 of 4, spread over the text (first and last kept)
    pooled = encoder.encode(kept).mean(axis=0)
    expected = head.predict_proba((pooled / np.linalg.norm(pooled))[None])[0]
    per_sentence = head.predict_proba(encoder.encode(sentences)).mean(axis=0)  # what sentence-averaging would give
    assert not np.allclose(expected, per_sentence, atol=1e-3)

    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "a1", "text": document}) + "\n", encoding="utf-8")
    for level in ("document", "sentence"):  # a document model pools whatever it is given
        run = subprocess.run(CLI + ["classify", "--model", str(out), "--input", str(tmp_path / "in.jsonl"),
                                    "--level", level, "--backend", "torch", "--language-check", "off"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        row = json.loads(run.stdout.splitlines()[0])
        assert row["id"] == "a1" and row["sentences"] == {"total": 4, "pooled": 3}
        assert np.allclose([row["scores"][l] for l in head.labels], expected, atol=1e-4), (level, row)


def test_cap_sentences_spreads_over_the_text():
    from discourse.model.textclassifier import cap_sentences

    kept = cap_sentences(list(range(200)), 64)
    assert len(kept) == 64 and kept[0] == 0 and kept[-1] == 199 and kept == sorted(set(kept))
    assert cap_sentences([1, 2], 64) == [1, 2]


def test_train_refuses_bad_options_before_loading(tmp_path):
    data = _write_rows(tmp_path / "d.csv", _tiny_rows(10))
    for flags, message in ((["--level", "paragraph"], "level must be"), (["--seeds", "0"], "seeds must be"),
                           (["--class-weight", "auto"], "--class-weight"), (["--schedule", "cosine"], "schedule"),
                           (["--test-share", "0.7"], "test share"),
                           (["--finetune-sentences", "0"], "finetune sentences must be at least 1")):
        result = _train(tmp_path, data, tmp_path / "m", *flags)
        assert result.returncode == 2 and message in result.stderr, (flags, result.stderr)


def test_cli_defaults_are_the_library_defaults():
    """`discourse train` spells its defaults out (importing the trainer would slow every command's start); they
    must stay the ones TrainOptions documents, which the sweep chose."""
    import inspect

    from discourse.cli.train import train
    from discourse.training.classifier import TrainOptions

    flags = {name: p.default.default for name, p in inspect.signature(train).parameters.items()}
    chosen = TrainOptions()
    for field in ("mode", "level", "seeds", "test_share", "max_sentences", "finetune_sentences", "epochs", "lr",
                  "rank", "schedule", "patience"):
        assert flags[field] == getattr(chosen, field), field
    assert flags["top_layers"] == chosen.top_layers and flags["class_weight"] == chosen.class_weight
