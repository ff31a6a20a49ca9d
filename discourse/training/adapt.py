"""Domain-adaptive pre-training: continued masked-language-model training of the encoder, kept as a LoRA adapter.

`discourse adapt-encoder --data PATH... --out DIR` reads unlabelled text with the archive readers (JSONL, CSV/TSV,
Parquet, plain text), splits it into sentences, packs consecutive sentences into windows of at most `max_tokens`
and trains LoRA on the encoder's attention and feed-forward projections to restore masked tokens (15 %, BERT's
80/10/10 replacement). The e5 encoder was distilled without its pre-training head, so a small head (dense + GELU +
LayerNorm, the decoder tied to the word embeddings as in BERT) is trained along and thrown away: only the
encoder's LoRA weights are kept (a few MB). The head is first trained alone for `head_steps` batches over the frozen
encoder (a forward pass without gradients, about a third of a step's cost): a head that starts from nothing sends
noise into the adapter, and the adapter's first hundreds of steps went into serving it (masked-LM loss 11 → 7.5
over 200 steps, most of it the head). The LoRA weights sit next to `discourse_adapter.json`, which names the base
the adapter belongs to, how it was trained, and the sha256 of every file. `Encoder.load(DIR)` checks both before
merging.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..encoder.adapters import ADAPTER_MANIFEST

MASK_SHARE = 0.15
EVAL_SHARE = 0.05
MAX_EVAL_WINDOWS = 128


def read_texts(paths: list[str], log: Callable[[str], None] = print) -> list[str]:
    """Every readable text in `paths` (files, folders, globs), via the archive readers; rejections are counted and
    reported, never fatal."""
    from ..ingest.paths import expand_paths
    from ..ingest.readers import Rejection, read_records

    texts, rejected = [], Counter()
    for item in read_records(expand_paths(list(paths))):
        if isinstance(item, Rejection):
            rejected[item.reason_code] += 1
        else:
            texts.append(item.text)
    if rejected:
        log(f"skipped {sum(rejected.values())} records: " + ", ".join(f"{k} {v}" for k, v in rejected.most_common()))
    return texts


def sentence_windows(texts: list[str], tokenizer, max_tokens: int) -> list[str]:
    """Consecutive sentences of a text packed into windows of at most `max_tokens` tokens (a longer sentence is a
    window of its own and is truncated when tokenised), so the model learns from context as it reads it."""
    from ..segment import split_sentences

    windows = []
    for text in texts:
        sentences = [s.text for s in split_sentences(text)]
        if not sentences:
            continue
        lengths = [len(ids) for ids in tokenizer(sentences, add_special_tokens=False)["input_ids"]]
        current, used = [], 0
        for sentence, n in zip(sentences, lengths):
            if current and used + n > max_tokens:
                windows.append(" ".join(current))
                current, used = [], 0
            current.append(sentence)
            used += n
        windows.append(" ".join(current))
    return windows


def adapt_encoder(paths: list[str], out_dir: str | Path, base: str | None = None, steps: int = 1000,
                  rank: int = 8, lr: float = 5e-4, batch_size: int = 16, max_tokens: int = 128,
                  top_layers: int | None = None, seed: int = 0, head_steps: int | None = None,
                  log: Callable[[str], None] = print) -> dict:
    """Train the adapter and write it to `out_dir`; returns the manifest (held-out masked-LM loss included).
    `head_steps`: batches that train the masked-word head alone first (default: half of `steps`)."""
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForLanguageModeling

    from ..encoder import Encoder
    from ..encoder.registry import sha256_file
    from .finetune import LORA_TARGETS, _seed_everything

    head_steps = steps // 2 if head_steps is None else head_steps
    if steps < 1 or rank < 1 or batch_size < 1 or head_steps < 0:
        raise ValueError("steps, rank and batch size must be at least 1, head steps at least 0")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    _seed_everything(seed)
    encoder = Encoder.load(base)
    if encoder.adapters:
        raise ValueError(f"{base} is an adapter already; adapt the base encoder instead")
    tokenizer = encoder.tokenizer
    if tokenizer.mask_token_id is None:
        raise ValueError(f"encoder {encoder.name} has no mask token: it cannot be trained on masked words")
    windows = sentence_windows(read_texts(paths, log), tokenizer, max_tokens)
    if len(windows) < 2:
        raise ValueError(f"found {len(windows)} usable text window(s) in {', '.join(map(str, paths))}; need more")
    order = np.random.default_rng(seed).permutation(len(windows))
    n_eval = min(MAX_EVAL_WINDOWS, max(1, int(len(windows) * EVAL_SHARE)))
    eval_windows = [windows[i] for i in order[:n_eval]]
    train_windows = [windows[i] for i in order[n_eval:]]
    log(f"{len(windows)} windows of up to {max_tokens} tokens: {len(train_windows)} train / {n_eval} held out")

    transformer = encoder.st_model[0]
    base_model = transformer.auto_model
    n_layers = base_model.config.num_hidden_layers
    layers = list(range(max(n_layers - top_layers, 0), n_layers)) if top_layers else None
    peft_model = get_peft_model(base_model, LoraConfig(
        r=rank, lora_alpha=2 * rank, lora_dropout=0.1, target_modules=LORA_TARGETS, bias="none",
        layers_to_transform=layers))
    word_embeddings = base_model.get_input_embeddings()
    head = _MaskedWordHead(word_embeddings.embedding_dim, word_embeddings.num_embeddings)
    optimiser = torch.optim.AdamW([
        {"params": [p for p in peft_model.parameters() if p.requires_grad], "lr": lr},
        {"params": head.parameters(), "lr": max(lr, 1e-3)},  # the head starts from nothing
    ], weight_decay=0.01)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / max(steps - warmup, 1)))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=MASK_SHARE, seed=seed)
    length = max_tokens + 8  # the prefix and <s>/</s>

    def batch(texts: list[str]):
        encoded = [tokenizer(encoder.prefix + t, truncation=True, max_length=length) for t in texts]
        return collator([{"input_ids": e["input_ids"], "attention_mask": e["attention_mask"]} for e in encoded])

    def loss_of(features, encoder_grad: bool = True) -> torch.Tensor | None:
        labels = features["labels"]
        chosen = labels != -100
        if not chosen.any():
            return None
        with torch.set_grad_enabled(encoder_grad and torch.is_grad_enabled()):
            hidden = peft_model(input_ids=features["input_ids"],
                                attention_mask=features["attention_mask"]).last_hidden_state
        logits = head(hidden[chosen], word_embeddings.weight)
        return nn.functional.cross_entropy(logits, labels[chosen])

    rng = np.random.default_rng(seed + 1)

    def train_steps(n: int, optimiser, scheduler=None, encoder_grad: bool = True, name: str = "step") -> list:
        losses = []
        for step in range(n):
            idx = rng.choice(len(train_windows), size=min(batch_size, len(train_windows)), replace=False)
            loss = loss_of(batch([train_windows[i] for i in idx]), encoder_grad)
            if loss is None:
                continue
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
            losses.append(float(loss.detach()))
            if (step + 1) % 25 == 0 or step + 1 == n:
                log(f"{name} {step + 1}/{n}: masked-LM loss {np.mean(losses[-25:]):.4f} "
                    f"({time.perf_counter() - started:.0f}s)")
        return losses

    peft_model.train()
    if head_steps:
        train_steps(head_steps, torch.optim.AdamW(head.parameters(), lr=max(lr, 1e-3), weight_decay=0.01),
                    encoder_grad=False, name="head step")
    losses = train_steps(steps, optimiser, scheduler)
    peft_model.eval()
    eval_loss = _mean_loss(loss_of, batch, eval_windows, batch_size)

    out_dir.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(out_dir))
    (out_dir / "README.md").unlink(missing_ok=True)  # peft's generic hub card; the manifest says what this is
    files = sorted(p.name for p in out_dir.iterdir() if p.is_file() and p.name != ADAPTER_MANIFEST)
    manifest = {
        "type": "encoder-adapter", "objective": "masked-lm", "base": encoder.name, "base_version": encoder.version,
        "rank": rank, "top_layers": top_layers, "steps": steps, "head_steps": head_steps, "batch_size": batch_size,
        "lr": lr, "max_tokens": max_tokens, "seed": seed, "data": [str(p) for p in paths],
        "windows": {"train": len(train_windows), "held_out": n_eval},
        "train_loss_last_25": round(float(np.mean(losses[-25:])), 4) if losses else None,
        "held_out_loss": round(eval_loss, 4), "seconds": round(time.perf_counter() - started, 1),
        "sha256": {name: sha256_file(out_dir / name) for name in files},
    }
    (out_dir / ADAPTER_MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    log(f"held-out masked-LM loss {eval_loss:.4f}; adapter written to {out_dir} ({manifest['seconds']:.0f}s)")
    return manifest


def _mean_loss(loss_of, batch, texts: list[str], batch_size: int) -> float:
    torch.manual_seed(0)  # the same masks for the same texts
    total, n = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            loss = loss_of(batch(texts[start:start + batch_size]))
            if loss is not None:
                total, n = total + float(loss), n + 1
    return total / n if n else math.nan


class _MaskedWordHead(nn.Module):
    """BERT's pre-training head, the decoder tied to the (frozen) word embeddings."""

    def __init__(self, dim: int, vocab: int):
        super().__init__()
        self.transform = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim))
        self.bias = nn.Parameter(torch.zeros(vocab))

    def forward(self, hidden: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        return self.transform(hidden) @ embeddings.T + self.bias
