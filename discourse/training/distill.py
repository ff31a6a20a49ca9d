"""`discourse distill`: a smaller, faster student of a model's encoder, with the same heads' behaviour.

The student is the teacher's own encoder with fewer layers (k of n, spread evenly and keeping the first and the
last; the teacher's LoRA adapter, if it has one, merged first), the same tokenizer and the same embedding table.
It learns from unlabelled sentences to reproduce, for each sentence, the teacher's sentence embedding (squared
distance of the unit vectors, i.e. 2·(1 − cosine)) and the distributions of the teacher's heads applied to its
own embedding: KL divergence for the softmax heads (relevance, stance; a `discourse train` classifier's one head)
and binary cross-entropy for the sub-frames, stance and frames weighted by the teacher's relevance (those heads
were trained on relevant units). Only the transformer layers learn; the embedding table stays as it is.

Sentences: the files given (`--data`, read by the archive readers and split by the project's segmenter), or by
default the real documents of ../shared/corpora — half of them sentences the relevance pre-filter passes, the rest
drawn at random — plus the authored training units. Documents and units that any evaluation uses (the authored
dev and test splits, the real dev/test/held-out references, the real validation set, the document labels) are
never used, so agreement measured on them is agreement on unseen text.

Heads: a framing model's three heads are re-fitted and calibrated on the student's embeddings by the very code
train-framing uses (`training.fit_heads`, on the same authored + real splits); a classifier keeps its teacher's
head (its labelled data is not in the model folder), which the student was trained to feed. The output folder is
an ordinary model folder: the student encoder is saved as a sentence-transformers folder inside it (`encoder/`),
named in config.json by that relative path, and the int8 onnx build is made from it as for any model.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..codebook import STANCES
from ..model.heads import MultiLabelHead, SoftmaxHead
from ..settings import REPO_ROOT, embedding_cache_path
from .corpus import Unit, load_units

STUDENT_ENCODER_DIR = "encoder"
DEFAULT_LAYERS = 6
DEFAULT_MAX_SENTENCES = 200_000
PREFILTER_SHARE = 0.5  # of the real sentences: pre-filter-passing (the text the model actually sees in archives)
MIN_WORDS, MAX_CHARS = 4, 600  # a "sentence" shorter than this is a heading or a fragment; longer is a run-on table
VALIDATION_SHARE, MAX_VALIDATION = 0.02, 2000  # distillation sentences held out to report agreement on


@dataclass
class TeacherHead:
    name: str
    head: SoftmaxHead | MultiLabelHead
    weighted_by_relevance: bool  # its loss counts each sentence by the teacher's P(relevant)


# ----------------------------------------------------------------------------------------------------------------
# The student's layers


def student_layers(n_layers: int, k: int) -> list[int]:
    """Which of the teacher's `n_layers` the student keeps: `k` spread evenly, the first and the last included
    (6 of 12: 0 2 4 7 9 11). One layer: the last, whose output the heads were fitted on."""
    if not 1 <= k < n_layers:
        raise ValueError(f"--layers must be between 1 and {n_layers - 1} (the teacher has {n_layers}), got {k}")
    if k == 1:
        return [n_layers - 1]
    return sorted({round(i * (n_layers - 1) / (k - 1)) for i in range(k)})


def shrink_encoder(encoder, k: int) -> list[int]:
    """Drop all but `k` layers of a torch `Encoder`'s transformer, in place; returns the kept layer indices."""
    from torch import nn

    transformer = encoder.st_model[0].auto_model
    stack = getattr(getattr(transformer, "encoder", None), "layer", None)
    if not isinstance(stack, nn.ModuleList):
        raise ValueError(f"cannot distil a {type(transformer).__name__}: only encoders with a BERT-style "
                         "encoder.layer stack (BERT, RoBERTa, XLM-R, E5, ...) are supported")
    keep = student_layers(len(stack), k)
    transformer.encoder.layer = nn.ModuleList([stack[i] for i in keep])
    for position, layer in enumerate(transformer.encoder.layer):  # cache slots are addressed by position
        for module in layer.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = position
    transformer.config.num_hidden_layers = len(keep)
    return keep


# ----------------------------------------------------------------------------------------------------------------
# Sentences


def distillation_sentences(data: list[str] | None = None, max_sentences: int = DEFAULT_MAX_SENTENCES, seed: int = 0,
                           log: Callable[[str], None] = print) -> list[str]:
    """Distinct sentences to distil on, in a seeded random order: from `data` files (any format `score-archive`
    reads), or the real corpora and the authored training units. Held-out evaluation text is left out."""
    rng = np.random.default_rng(seed)
    excluded = {u.text for u in load_units() if u.split != "train"}
    if data:
        documents = _file_documents(data, log)
        authored = []
    else:
        documents = _real_documents()
        authored = [u.text for u in load_units("train")]
    order = rng.permutation(len(documents))
    budget = max(max_sentences - len(authored), 0)
    chosen = _sample_sentences((documents[i] for i in order), budget, excluded, prefilter_share=0.0 if data else
                               PREFILTER_SHARE)
    sentences = list(dict.fromkeys(authored + chosen))[:max_sentences]
    rng.shuffle(sentences)
    log(f"distillation sentences: {len(sentences)} ({len(chosen)} from "
        f"{'the data files' if data else 'the real corpora'}, {len(authored)} authored training units)")
    return sentences


def _sample_sentences(documents: Iterable[str], budget: int, excluded: set[str], prefilter_share: float) -> list[str]:
    """Up to `budget` distinct usable sentences from `documents` (already in random order): `prefilter_share` of
    them sentences the relevance pre-filter passes (as many as there are), the rest any sentence."""
    from ..model.prefilter import RelevancePrefilter
    from ..segment import sentence_texts

    prefilter = RelevancePrefilter.load() if prefilter_share > 0 else None
    want_passing = int(budget * prefilter_share)
    passing, other, seen = [], [], set(excluded)
    for text in documents:
        candidates = [s for s in sentence_texts(text) if _usable(s) and s not in seen]
        seen.update(candidates)
        flags = prefilter.passes(candidates) if prefilter is not None and candidates else [False] * len(candidates)
        for sentence, passed in zip(candidates, flags):
            if passed and len(passing) < want_passing:
                passing.append(sentence)
            elif len(passing) + len(other) < budget:
                other.append(sentence)
        if len(passing) + len(other) >= budget and (prefilter is None or len(passing) >= want_passing):
            break
    other = other[:max(budget - len(passing), 0)]
    return passing + other


def _usable(sentence: str) -> bool:
    return len(sentence) <= MAX_CHARS and len(sentence.split()) >= MIN_WORDS


def _file_documents(paths: list[str], log: Callable[[str], None]) -> list[str]:
    from ..ingest.paths import expand_paths
    from ..ingest.readers import IngestRecord, read_records

    files = expand_paths(paths)
    texts, rejected = [], 0
    for item in read_records(files):
        if isinstance(item, IngestRecord):
            texts.append(item.text)
        else:
            rejected += 1
    if rejected:
        log(f"{rejected} records of the data files could not be read and were skipped")
    if not texts:
        raise ValueError(f"no text found in {', '.join(paths)}")
    return texts


def _real_documents() -> list[str]:
    """The texts of the real corpora, without the documents any real evaluation set draws on."""
    from . import realcorpus

    if not realcorpus.available():
        raise realcorpus.CorporaMissing(
            f"distilling on the real corpora needs {realcorpus.SHARED_CORPORA}; give sentences with --data instead")
    held_out = held_out_documents()
    return [text for corpus, file, row, text in realcorpus.iter_documents()
            if text and (corpus, file, row) not in held_out]


def held_out_documents() -> set[tuple[str, str, int]]:
    """(corpus, file, row) of every real document an evaluation uses: the dev, test and held-out references of the
    real annotated corpus, its document labels, and the real validation set."""
    from . import realcorpus

    rows = [r for r in realcorpus.load_labels() if r["split"] != "train"]
    for path in (realcorpus.REAL_DIR / "document_labels.jsonl", REPO_ROOT / "corpora" / "real_validation" /
                 "labels.jsonl"):
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["corpus"], r["file"], r.get("row", r.get("line"))) for r in rows}


# ----------------------------------------------------------------------------------------------------------------
# Training


def train_student(student, sentences: list[str], targets: np.ndarray, heads: list[TeacherHead],
                  teacher_probs: dict[str, np.ndarray], epochs: int = 1, batch_size: int = 32, lr: float = 1e-4,
                  seed: int = 0, log: Callable[[str], None] = print) -> list[float]:
    """Train `student` (a torch `Encoder`, in place) to reproduce `targets` (the teacher's unit embeddings) and
    `teacher_probs` (each head's probabilities on the teacher's embeddings); returns the mean loss per epoch."""
    import torch

    from .finetune import _length_bucketed_batches, _seed_everything

    _seed_everything(seed)
    st_model = student.st_model
    transformer = st_model[0].auto_model
    for parameter in st_model.parameters():  # a merged adapter leaves the weights frozen: the layers learn
        parameter.requires_grad_(True)
    for parameter in transformer.embeddings.parameters():  # most of the weights, and the same for any layer count
        parameter.requires_grad_(False)
    trainable = [p for p in st_model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(sentences) / batch_size)
    total_steps = steps_per_epoch * epochs
    warmup = max(total_steps // 20, 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: (step + 1) / warmup if step < warmup
        else max(0.0, (total_steps - step) / max(total_steps - warmup, 1)))
    frozen = {h.name: _torch_head(h.head) for h in heads}
    target = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32))
    probs = {name: torch.from_numpy(np.asarray(p, dtype=np.float32)) for name, p in teacher_probs.items()}
    relevance = probs.get("relevance")
    relevance = relevance[:, 1] if relevance is not None else torch.ones(len(sentences))
    prefixed = [student.prefix + s for s in sentences]
    rng = np.random.default_rng(seed)
    started, losses = time.perf_counter(), []
    for epoch in range(1, epochs + 1):
        st_model.train()
        total = 0.0
        for step, idx in enumerate(_length_bucketed_batches(prefixed, batch_size, rng), 1):
            features = st_model.preprocess([prefixed[i] for i in idx])
            embedding = st_model(features)["sentence_embedding"]
            index = torch.as_tensor(idx)
            loss = ((embedding - target[index]) ** 2).sum(1).mean()
            for head in heads:
                weight = relevance[index] if head.weighted_by_relevance else None
                loss = loss + _head_loss(frozen[head.name], head.head, embedding, probs[head.name][index], weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += float(loss.detach())
            if step % 50 == 0 or step == steps_per_epoch:
                log(f"epoch {epoch}: step {step}/{steps_per_epoch}, loss {total / step:.4f} "
                    f"({time.perf_counter() - started:.0f}s)")
        losses.append(total / steps_per_epoch)
    st_model.eval()
    return losses


def _torch_head(head: SoftmaxHead | MultiLabelHead):
    import torch

    return (torch.from_numpy(np.asarray(head.weight, np.float32)), torch.from_numpy(np.asarray(head.bias, np.float32)),
            float(head.temperature))


def _head_loss(frozen, head, embedding, teacher, weight):
    import torch.nn.functional as F

    w, b, temperature = frozen
    logits = (embedding @ w + b) / temperature
    if isinstance(head, MultiLabelHead):
        per_row = F.binary_cross_entropy_with_logits(logits, teacher, reduction="none").mean(1)
    else:  # KL(teacher ‖ student); the teacher's entropy is a constant and left in for a readable zero
        per_row = (teacher * (teacher.clamp_min(1e-8).log() - F.log_softmax(logits, dim=1))).sum(1)
    if weight is None:
        return per_row.mean()
    return (per_row * weight).sum() / weight.sum().clamp_min(1e-6)


# ----------------------------------------------------------------------------------------------------------------
# The whole run


def distill(teacher_dir: str | Path, out_dir: str | Path, layers: int = DEFAULT_LAYERS, data: list[str] | None = None,
            seed: int = 0, max_sentences: int = DEFAULT_MAX_SENTENCES, epochs: int = 1, batch_size: int = 32,
            lr: float = 1e-4, sentences: list[str] | None = None, label_splits: dict[str, list[Unit]] | None = None,
            log: Callable[[str], None] = print) -> dict:
    """Distil the model folder `teacher_dir` into a `layers`-layer student model folder `out_dir`; returns the
    metrics written to out_dir/metrics.json. `sentences` replaces the sentence sampling; `label_splits` (train/dev
    units) replaces the labelled data a framing model's heads are re-fitted on (authored + real, as train-framing)."""
    from ..encoder import EmbeddingCache, Encoder
    from ..model.loading import model_type

    started = time.perf_counter()
    teacher_dir, out_dir = Path(teacher_dir).resolve(), Path(out_dir)
    kind = model_type(teacher_dir)
    if kind not in ("framing", "classifier"):
        raise ValueError(f"{teacher_dir}: cannot distil a model of type {kind!r}")
    if out_dir.resolve() == teacher_dir:
        raise ValueError("--out must be a new folder, not the teacher's")
    raw_config = json.loads((teacher_dir / "config.json").read_text(encoding="utf-8"))
    heads = _teacher_heads(teacher_dir, kind)
    if sentences is None:
        sentences = distillation_sentences(data, max_sentences, seed, log)
    sentences = list(dict.fromkeys(s for s in sentences if s.strip()))
    if len(sentences) < 2:
        raise ValueError("need at least two sentences to distil on")
    n_validation = min(MAX_VALIDATION, max(1, int(len(sentences) * VALIDATION_SHARE)))
    validation, sentences = sentences[:n_validation], sentences[n_validation:]
    authored_dev = [u.text for u in load_units("dev")] if kind == "framing" else []

    cache = EmbeddingCache(embedding_cache_path())
    teacher = _load_torch_encoder(teacher_dir, raw_config, cache)
    teacher_name, teacher_version = teacher.name, teacher.version
    n_teacher_layers = teacher.st_model[0].auto_model.config.num_hidden_layers
    log(f"teacher: {teacher_dir} ({kind}, {n_teacher_layers} layers, encoder {teacher_version}); "
        f"encoding {len(sentences) + len(validation)} sentences")
    t0 = time.perf_counter()
    targets = teacher.encode(sentences)
    x_validation_teacher = teacher.encode(validation)
    x_dev_teacher = teacher.encode(authored_dev)
    teacher_seconds = time.perf_counter() - t0
    teacher_probs = {h.name: h.head.predict_proba(targets) for h in heads}

    # The teacher's outputs are all computed: its transformer becomes the student (no second copy in memory).
    student = teacher
    student.cache = None
    kept = shrink_encoder(student, layers)
    log(f"student: layers {kept} of the teacher's {n_teacher_layers}")
    t0 = time.perf_counter()
    losses = train_student(student, sentences, targets, heads, teacher_probs, epochs, batch_size, lr, seed, log)
    train_seconds = time.perf_counter() - t0

    out_dir.mkdir(parents=True, exist_ok=True)
    encoder_dir = out_dir / STUDENT_ENCODER_DIR
    if encoder_dir.exists():
        shutil.rmtree(encoder_dir)
    student.st_model.save(str(encoder_dir))
    # Reload from disk: the heads are fitted on exactly what a later load computes, and the version is the folder's.
    student = Encoder.load(str(encoder_dir), cache=cache, prefix=teacher.prefix)
    x_validation = student.encode(validation)
    if kind == "framing":
        student_heads, refit = _refit_framing_heads(student, teacher_dir, label_splits, seed, log)
        _write_framing(out_dir, teacher_dir, student, student_heads, layers)
        teacher_heads = {h.name: h.head for h in heads}
        agreement = {"held_out_sentences": _framing_agreement(teacher_heads, student_heads, x_validation_teacher,
                                                              x_validation),
                     "authored_dev": _framing_agreement(teacher_heads, student_heads, x_dev_teacher,
                                                        student.encode(authored_dev))}
    else:
        refit = {"heads": "kept from the teacher (its labelled data is not in the model folder)"}
        _write_classifier(out_dir, teacher_dir, raw_config, student, heads[0].head, layers)
        agreement = {"held_out_sentences": _label_agreement(heads[0].head, x_validation_teacher, x_validation)}

    metrics = {
        "type": kind, "distilled_from": {"model": str(teacher_dir), "name": raw_config.get("name"),
                                         "version": raw_config.get("version"), "encoder": teacher_name,
                                         "encoder_version": teacher_version, "layers": n_teacher_layers},
        "student": {"layers": layers, "kept_layers": kept, "encoder": STUDENT_ENCODER_DIR,
                    "encoder_version": student.version},
        "sentences": len(sentences), "validation_sentences": len(validation), "epochs": epochs,
        "batch_size": batch_size, "lr": lr, "seed": seed, "loss_per_epoch": [round(x, 5) for x in losses],
        "heads": refit, "agreement": agreement,
        "seconds": {"teacher_encoding": round(teacher_seconds, 1), "training": round(train_seconds, 1),
                    "total": round(time.perf_counter() - started, 1)},
        "command": f"discourse distill --teacher {teacher_dir} --out {out_dir} --layers {layers} --seed {seed} "
                   f"--max-sentences {max_sentences} --epochs {epochs}" + "".join(f" --data {p}" for p in data or []),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_card(out_dir, metrics)
    summary = ", ".join(f"{split} {figures['product_label']:.1%}" for split, figures in agreement.items())
    log(f"student written to {out_dir} ({metrics['seconds']['total']:.0f}s); label agreement with the teacher: "
        f"{summary}")
    return metrics


def _load_torch_encoder(model_dir: Path, config: dict, cache):
    """The teacher's encoder on torch with its adapter merged, as its model folder loads it."""
    from ..encoder import Encoder, resolve_encoder_spec

    encoder = Encoder.load(resolve_encoder_spec(config["encoder"], model_dir), cache=cache,
                           prefix=config.get("encoder_prefix"))
    if config.get("adapter"):
        encoder = encoder.with_adapter(model_dir / config["adapter"])
    return encoder


def _teacher_heads(model_dir: Path, kind: str) -> list[TeacherHead]:
    if kind == "classifier":
        return [TeacherHead("head", SoftmaxHead.load(model_dir, "head"), False)]
    return [TeacherHead("relevance", SoftmaxHead.load(model_dir, "relevance"), False),
            TeacherHead("stance", SoftmaxHead.load(model_dir, "stance"), True),
            TeacherHead("frames", MultiLabelHead.load(model_dir, "frames"), True)]


def _refit_framing_heads(student, teacher_dir: Path, label_splits: dict[str, list[Unit]] | None, seed: int,
                         log: Callable[[str], None]) -> tuple[dict, dict]:
    """The three heads fitted and calibrated on the student's embeddings by train-framing's own code, on the
    labelled data train-framing uses (authored train/dev, plus the real train/dev units when the teacher was
    trained with them, the real train units counted as often as the teacher counted them)."""
    from ..codebook import load_codebook
    from .framing import fit_heads, _real_splits

    if label_splits is None:
        label_splits = {name: load_units(name) for name in ("train", "dev")}
        teacher_metrics = _read_json(teacher_dir / "metrics.json")
        if teacher_metrics.get("real_corpus"):
            real = _real_splits()
            weight = max(1, int(teacher_metrics.get("real_weight", 2)))
            label_splits = {"train": label_splits["train"] + real.get("train", []) * weight,
                            "dev": label_splits["dev"] + real.get("dev", [])}
    x = {name: student.encode([u.text for u in units]) for name, units in label_splits.items()}
    heads = fit_heads(label_splits, x, load_codebook().frames, seed)
    log("heads re-fitted on " + ", ".join(f"{name} {len(units)}" for name, units in label_splits.items()))
    return heads, {"heads": "re-fitted and calibrated on the student (training.fit_heads)",
                   **{f"{name}_units": len(units) for name, units in label_splits.items()}}


def _write_framing(out_dir: Path, teacher_dir: Path, student, heads: dict, layers: int) -> None:
    from ..model.framing import FramingConfig

    teacher = FramingConfig.read(teacher_dir)
    config = FramingConfig(f"{teacher.name}-{layers}l", teacher.version, STUDENT_ENCODER_DIR, student.version,
                           teacher.codebook_version, None, teacher.relevance_threshold, student.prefix)
    config.write(out_dir)
    for name, head in heads.items():
        head.save(out_dir, name)


def _write_classifier(out_dir: Path, teacher_dir: Path, config: dict, student, head: SoftmaxHead, layers: int) -> None:
    config = {**config, "name": f"{config.get('name', teacher_dir.name)}-{layers}l", "encoder": STUDENT_ENCODER_DIR,
              "encoder_version": student.version, "encoder_prefix": student.prefix, "adapter": None}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    head.save(out_dir, "head")


def _framing_agreement(teacher: dict, student: dict, x_teacher: np.ndarray, x_student: np.ndarray) -> dict:
    """Share of texts on which the two give the same product label (what `classify` returns), and the same
    stance given relevance."""
    a, b = _framing_outputs(teacher, x_teacher), _framing_outputs(student, x_student)
    return {"n": len(x_teacher), "product_label": round(float((a["label"] == b["label"]).mean()), 4),
            "stance_given_relevant": round(float((a["stance"] == b["stance"]).mean()), 4),
            "relevance_decision": round(float((a["relevant"] == b["relevant"]).mean()), 4),
            "embedding_cosine_mean": round(float((x_teacher * x_student).sum(1).mean()), 4)}


def _framing_outputs(heads: dict, x: np.ndarray) -> dict:
    relevance = heads["relevance"].predict_proba(x)[:, heads["relevance"].labels.index("relevant")]
    stance = heads["stance"].predict_proba(x)
    scores = stance * relevance[:, None]
    scores[:, STANCES.index("neutral")] += 1.0 - relevance
    return {"label": scores.argmax(1), "stance": stance.argmax(1), "relevant": relevance >= 0.5}


def _label_agreement(head: SoftmaxHead, x_teacher: np.ndarray, x_student: np.ndarray) -> dict:
    """A classifier's: the same head on the teacher's and the student's embeddings."""
    same = head.predict_proba(x_teacher).argmax(1) == head.predict_proba(x_student).argmax(1)
    return {"n": len(x_teacher), "product_label": round(float(same.mean()), 4),
            "embedding_cosine_mean": round(float((x_teacher * x_student).sum(1).mean()), 4)}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write_card(out_dir: Path, metrics: dict) -> None:
    source, student = metrics["distilled_from"], metrics["student"]
    rows = "\n".join(f"| {split} | {f['n']} | {f['product_label']:.4f} |" for split, f in metrics["agreement"].items())
    card = f"""# {out_dir.name}

A {student['layers']}-layer student of `{source['name']}` {source['version']} (`{source['model']}`, {source['layers']}
layers), made by `discourse distill`: layers {student['kept_layers']} of the teacher's encoder (its adapter merged),
trained on {metrics['sentences']} unlabelled sentences to reproduce the teacher's sentence embeddings and its heads'
distributions. Heads: {metrics['heads']['heads']}.

| split | texts | label agreement with the teacher |
|---|---|---|
{rows}

The agreement gate for shipping a student as the default: `bench/distill.py` (real dev/test, authored dev).

Reproduce: `{metrics['command']}`
"""
    (out_dir / "MODEL_CARD.md").write_text(card, encoding="utf-8")
