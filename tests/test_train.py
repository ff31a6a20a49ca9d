"""`discourse train` → `discourse classify --model` → `discourse evaluate`, through the real CLI."""

import csv
import json
import subprocess
import sys

import pytest

from discourse.corpus import load_units
from discourse.textclassifier import read_labelled

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
    assert "dev accuracy" in result.stderr and "macro-F1" in result.stderr
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
    from discourse.finetune import Task, finetune_lora

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
