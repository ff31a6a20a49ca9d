"""`discourse distill` on a tiny random BERT: a 1-layer student of a 2-layer teacher, in seconds.

The teacher is a real model folder made the way train-framing and `discourse train` make theirs (heads fitted by
their own code on the teacher's embeddings); the student goes through the real distillation, is written as a model
folder and loaded by the ordinary loaders. The real e5 run is the same code, only slower (bench/distill.py).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from discourse.codebook import STANCES
from discourse.training.corpus import Unit

CLI = [sys.executable, "-m", "discourse.cli"]
PARENT = ["moeder", "vader", "baby", "kraamzorg", "borstvoeding"]
OTHER = ["de", "het", "een", "is", "niet", "goed", "slaapt", "helpt", "."]


def _sentence(rng: random.Random) -> str:
    """Words of the tiny vocabulary only; a parent word makes it relevant, 'zwaar' pressuring, 'fijn' supportive."""
    words = rng.choices(OTHER, k=rng.randint(3, 6))
    if rng.random() < 0.6:
        words.insert(rng.randrange(len(words) + 1), rng.choice(PARENT))
    if rng.random() < 0.6:
        words.insert(rng.randrange(len(words) + 1), rng.choice(["zwaar", "fijn"]))
    return " ".join(words)


def _unit(i: int, text: str, split: str) -> Unit:
    words = set(text.split())
    relevant = bool(words & set(PARENT))
    stance = "pressuring" if "zwaar" in words else "supportive" if "fijn" in words else "neutral"
    frames = {"pressuring": ("perfect_parent",), "supportive": ("good_enough",)}.get(stance, ()) if relevant else ()
    return Unit(f"u{i}", "tiny", "news", "nl-BE", text, relevant, stance if relevant else None, frames, None, split)


def _splits(rng: random.Random) -> dict[str, list[Unit]]:
    return {split: [_unit(i, _sentence(rng), split) for i in range(n)] for split, n in (("train", 240), ("dev", 80))}


@pytest.fixture(scope="module")
def tiny_framing_teacher(tmp_path_factory, tiny_model_dir):
    """A framing model folder on the tiny encoder with a LoRA adapter (as train-framing --mode finetune makes it:
    the adapter's merge leaves the weights frozen, which the student must undo), its heads fitted by
    train-framing's code on the adapted embeddings."""
    from discourse.codebook import load_codebook
    from discourse.encoder import Encoder
    from discourse.training.finetune import Task, finetune_lora
    from discourse.model.framing import FramingConfig
    from discourse.training.framing import fit_heads

    rng = random.Random(1)
    splits = _splits(rng)
    folder = tmp_path_factory.mktemp("teacher") / "tiny-framing"
    encoder = Encoder.load(str(tiny_model_dir))
    texts = [u.text for u in splits["train"]]
    task = [Task("relevance", 2, np.array([int(u.relevant) for u in splits["train"]]), np.ones(len(texts), bool))]
    finetune_lora(encoder, texts, task, folder / "adapter", texts[:40], [Task("relevance", 2, task[0].targets[:40],
                  task[0].mask[:40])], epochs=1, lr=1e-3, log=lambda _: None)
    encoder = Encoder.load(str(tiny_model_dir)).with_adapter(folder / "adapter")  # the load-time path
    x = {name: encoder.encode([u.text for u in units]) for name, units in splits.items()}
    heads = fit_heads(splits, x, load_codebook().frames, seed=0)
    FramingConfig("tiny-framing", "0.1", str(tiny_model_dir), encoder.version, load_codebook().version,
                  "adapter").write(folder)
    for name, head in heads.items():
        head.save(folder, name)
    return folder, splits


def _chance(a: list[str], b: list[str]) -> float:
    """Agreement two labelers with these label frequencies reach by chance."""
    ca, cb = Counter(a), Counter(b)
    return sum(ca[label] * cb[label] for label in ca) / (len(a) * len(b))


def test_distilled_framing_student_loads_classifies_and_agrees(tmp_path, monkeypatch, tiny_framing_teacher):
    from discourse.training.distill import distill
    from discourse.model.framing import FramingModel
    from discourse.model.loading import load_model

    monkeypatch.setenv("DISCOURSE_HOME", str(tmp_path / "home"))
    teacher_dir, splits = tiny_framing_teacher
    rng = random.Random(2)
    sentences = [_sentence(rng) for _ in range(600)]
    held_out = [_sentence(rng) for _ in range(300)]
    out = tmp_path / "student"
    log = []
    metrics = distill(teacher_dir, out, layers=1, seed=0, epochs=3, batch_size=16, lr=3e-3, sentences=sentences,
                      label_splits=splits, log=log.append)

    assert metrics["student"]["kept_layers"] == [1] and metrics["distilled_from"]["layers"] == 2
    config = json.loads((out / "config.json").read_text())
    assert config["type"] == "framing" and config["encoder"] == "encoder" and config["adapter"] is None
    assert json.loads((out / "encoder" / "config.json").read_text())["num_hidden_layers"] == 1
    assert metrics["loss_per_epoch"][-1] < metrics["loss_per_epoch"][0], metrics["loss_per_epoch"]
    assert (out / "MODEL_CARD.md").is_file() and any("label agreement" in line for line in log)

    # An ordinary model folder, wherever it is moved: the encoder is named relative to it.
    moved = tmp_path / "elsewhere" / "student"
    shutil.move(str(out), str(moved))
    student = load_model(moved, backend="torch")
    assert isinstance(student, FramingModel)
    assert student.describe()["model"] == "tiny-framing-1l"
    assert student.encoder.prefix == "" and student.encoder.st_model[0].auto_model.config.num_hidden_layers == 1
    teacher = FramingModel.load(teacher_dir, backend="torch")
    assert teacher.encoder.st_model[0].auto_model.config.num_hidden_layers == 2

    rows_s, rows_t = student.predict(held_out), teacher.predict(held_out)
    assert all(abs(sum(r["scores"].values()) - 1) < 2e-3 and r["label"] in STANCES for r in rows_s)
    labels_s, labels_t = [r["label"] for r in rows_s], [r["label"] for r in rows_t]
    assert len(set(labels_t)) >= 2, Counter(labels_t)  # a teacher with one answer would make agreement trivial
    agreement = float(np.mean([a == b for a, b in zip(labels_s, labels_t)]))
    assert agreement > _chance(labels_t, labels_s) + 0.15, (agreement, Counter(labels_t), Counter(labels_s))


def test_distill_cli_on_a_classifier_and_bad_layers(tmp_path, tiny_model_dir):
    """`discourse distill` through the real CLI on a `discourse train`-style classifier (its head is kept), then
    `discourse classify` on the student's default (onnx int8) backend."""
    from discourse.encoder import Encoder
    from discourse.training.classifier import fit_head

    rng = random.Random(3)
    texts = [_sentence(rng) for _ in range(300)]
    labels = ["zwaar" if "zwaar" in t else "fijn" if "fijn" in t else "geen" for t in texts]
    encoder = Encoder.load(str(tiny_model_dir))
    head, _ = fit_head(encoder.encode(texts[:220]), labels[:220], encoder.encode(texts[220:]), labels[220:],
                       sorted(set(labels)))
    teacher = tmp_path / "clf"
    teacher.mkdir()
    (teacher / "config.json").write_text(json.dumps({
        "type": "classifier", "name": "clf", "version": "1", "encoder": str(tiny_model_dir),
        "encoder_version": encoder.version, "adapter": None, "labels": head.labels}), encoding="utf-8")
    head.save(teacher, "head")
    data = tmp_path / "zinnen.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": _sentence(rng)}) + "\n" for i in range(400)) + "{kapot\n",
                    encoding="utf-8")
    env = {"DISCOURSE_HOME": str(tmp_path / "home")}
    import os

    env = {**os.environ, **env}
    bad = subprocess.run(CLI + ["distill", "--teacher", str(teacher), "--out", str(tmp_path / "s"), "--layers", "2",
                                "--data", str(data)], capture_output=True, text=True, timeout=300, env=env)
    assert bad.returncode == 2 and "--layers must be between 1 and 1" in bad.stderr, bad.stderr

    out = tmp_path / "student"
    result = subprocess.run(CLI + ["distill", "--teacher", str(teacher), "--out", str(out), "--layers", "1",
                                   "--data", str(data), "--epochs", "2", "--lr", "3e-3", "--batch-size", "16"],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    assert "could not be read and were skipped" in result.stderr  # the broken line is skipped, not fatal
    config = json.loads((out / "config.json").read_text())
    assert config["type"] == "classifier" and config["encoder"] == "encoder" and config["labels"] == head.labels

    held_out = [_sentence(rng) for _ in range(150)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                                               for i, t in enumerate(held_out)), encoding="utf-8")
    rows = {}
    for name, folder in (("teacher", teacher), ("student", out)):
        run = subprocess.run(CLI + ["classify", "--model", str(folder), "--input", str(tmp_path / "in.jsonl"),
                                    "--output", str(tmp_path / f"{name}.jsonl"), "--language-check", "off"],
                             capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode == 0, run.stderr
        rows[name] = [json.loads(line)["label"] for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
    assert len(rows["student"]) == len(held_out)
    agreement = float(np.mean([a == b for a, b in zip(rows["teacher"], rows["student"])]))
    assert agreement > _chance(rows["teacher"], rows["student"]) + 0.15, (agreement, Counter(rows["teacher"]))
