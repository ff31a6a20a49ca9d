"""LoRA fine-tuning of the encoder, for one or several classification tasks at once.

The encoder's attention projections get a low-rank adapter (peft LoRA) and each task a linear layer on the pooled,
normalised embedding; they are trained jointly with cross-entropy (single-label) or binary cross-entropy
(multi-label), masked per task so the stance loss only sees relevant units. Only the adapter is kept (~1 MB); the
task layers are thrown away and refitted as calibrated heads on the adapted embeddings, so a fine-tuned model and
a frozen-encoder model share one head format and one inference path.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sklearn.metrics import f1_score

import numpy as np
import torch
from torch import nn

LORA_TARGETS = ["query", "key", "value", "dense"]
SCHEDULES = ("constant", "linear")  # learning rate after warm-up


@dataclass
class Task:
    name: str
    n_outputs: int
    targets: np.ndarray  # (n,) class indices, or (n, k) 0/1 for multilabel
    mask: np.ndarray  # (n,) bool: which examples this task learns from
    multilabel: bool = False
    weight: np.ndarray | None = None  # (n_outputs,) per-class loss weights (single-label), e.g. balanced


@dataclass
class FinetuneResult:
    adapter_dir: Path
    epochs_run: int
    best_epoch: int
    best_dev_score: float
    seconds: float


def finetune_lora(encoder, texts: list[str], tasks: list[Task], out_dir: Path,
                  dev_texts: list[str], dev_tasks: list[Task], epochs: int = 4, batch_size: int = 16,
                  lr: float = 2e-4, head_lr: float = 5e-3, rank: int = 8, patience: int = 1, seed: int = 0,
                  top_layers: int | None = 6, schedule: str = "constant", init_adapter: Path | None = None,
                  log: Callable[[str], None] = print) -> FinetuneResult:
    """Train a LoRA adapter on `encoder` (modified in place); after each epoch score the dev set with the
    jointly trained task layers (mean over tasks of macro-F1, or micro-F1 for multi-label), keep the best epoch
    (early stopping with `patience`), save that adapter to `out_dir` and leave `encoder` holding the best
    adapted weights, merged. `schedule`: after a half-epoch warm-up the learning rate stays `constant`, or falls
    `linear`ly to zero at the last planned epoch (smaller steps late in training, when the dev score levels off).
    `init_adapter`: continue training that LoRA adapter (its rank and layers; `rank` and `top_layers` are ignored)
    instead of a new one, e.g. to add real units to what an adapter learned from the authored corpus."""
    from peft import LoraConfig, PeftModel, get_peft_model

    _seed_everything(seed)
    transformer = encoder.st_model[0]
    base = transformer.auto_model
    if init_adapter is not None:
        peft_model = PeftModel.from_pretrained(base, str(init_adapter), is_trainable=True)
    else:
        # Adapting only the top layers keeps the backward pass short (the lower layers need no gradients at all),
        # which on a 2-core CPU roughly halves an epoch; the lower layers' general Dutch stays as pre-trained.
        n_layers = base.config.num_hidden_layers
        layers = list(range(max(n_layers - top_layers, 0), n_layers)) if top_layers else None
        config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.1, target_modules=LORA_TARGETS,
                            bias="none", layers_to_transform=layers)
        peft_model = get_peft_model(base, config)
    transformer.auto_model = peft_model
    heads = nn.ModuleDict({t.name: nn.Linear(encoder.dim, t.n_outputs) for t in tasks})
    optimiser = torch.optim.AdamW([
        {"params": [p for p in peft_model.parameters() if p.requires_grad], "lr": lr},
        {"params": heads.parameters(), "lr": head_lr},
    ], weight_decay=0.01)
    steps_per_epoch = math.ceil(len(texts) / batch_size)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be 'constant' or 'linear', got {schedule!r}")
    warmup, total_steps = max(steps_per_epoch // 2, 1), steps_per_epoch * epochs

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 1.0 if schedule == "constant" else max(0.0, (total_steps - step) / (total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lr_factor)
    prefixed = [encoder.prefix + t for t in texts]
    rng = np.random.default_rng(seed)
    best_state, best_score, best_epoch, epochs_run = None, -math.inf, 0, 0
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        encoder.st_model.train()
        total = 0.0
        for step, idx in enumerate(_length_bucketed_batches(prefixed, batch_size, rng), 1):
            features = encoder.st_model.preprocess([prefixed[i] for i in idx])
            embeddings = encoder.st_model(features)["sentence_embedding"] * 10.0  # unit vectors → usable logits
            loss = _multitask_loss(heads, tasks, embeddings, idx)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += float(loss.detach())
            if step % 25 == 0:
                log(f"epoch {epoch}: step {step}/{steps_per_epoch}, loss {total / step:.4f} "
                    f"({time.perf_counter() - started:.0f}s)")
        encoder.st_model.eval()
        score = _dev_score(encoder, heads, dev_texts, dev_tasks, batch_size)
        epochs_run = epoch
        log(f"epoch {epoch}: train loss {total / steps_per_epoch:.4f}, dev score {score:.4f} "
            f"({time.perf_counter() - started:.0f}s)")
        if score > best_score:
            best_score, best_epoch = score, epoch
            best_state = {k: v.detach().clone() for k, v in peft_model.state_dict().items() if "lora_" in k}
        elif epoch - best_epoch >= patience:
            log(f"early stop: no dev improvement for {patience} epoch(s)")
            break
    peft_model.load_state_dict(best_state, strict=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(out_dir))
    # peft writes a placeholder model card naming this machine's encoder path; the model folder has its own card
    (out_dir / "README.md").unlink(missing_ok=True)
    transformer.auto_model = peft_model.merge_and_unload()
    encoder.st_model.eval()
    return FinetuneResult(out_dir, epochs_run, best_epoch, best_score, time.perf_counter() - started)


def _multitask_loss(heads: nn.ModuleDict, tasks: list[Task], embeddings: torch.Tensor, idx: np.ndarray):
    loss = embeddings.new_zeros(())
    for task in tasks:
        mask = torch.as_tensor(task.mask[idx])
        if not mask.any():
            continue
        logits = heads[task.name](embeddings[mask])
        targets = torch.as_tensor(task.targets[idx][mask.numpy()])
        if task.multilabel:
            loss = loss + nn.functional.binary_cross_entropy_with_logits(logits, targets.float())
        else:
            weight = None if task.weight is None else torch.as_tensor(task.weight, dtype=logits.dtype)
            loss = loss + nn.functional.cross_entropy(logits, targets.long(), weight=weight)
    return loss


def _length_bucketed_batches(texts: list[str], batch_size: int, rng: np.random.Generator):
    """Shuffled batches of similar length: shuffle, sort within windows of 8 batches, shuffle the batches.
    Padding to the longest text in a batch is most of the waste on short units; this removes most of it."""
    order = rng.permutation(len(texts))
    window = batch_size * 8
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: len(texts[i]))
        batches += [np.array(chunk[i:i + batch_size]) for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


@torch.inference_mode()
def _dev_score(encoder, heads: nn.ModuleDict, texts: list[str], tasks: list[Task], batch_size: int) -> float:
    chunks = []
    for start in range(0, len(texts), batch_size * 4):
        features = encoder.st_model.preprocess([encoder.prefix + t for t in texts[start:start + batch_size * 4]])
        chunks.append(encoder.st_model(features)["sentence_embedding"] * 10.0)
    embeddings = torch.cat(chunks)
    scores = []
    for task in tasks:
        mask = torch.as_tensor(task.mask)
        if not mask.any():
            continue
        logits = heads[task.name](embeddings[mask]).numpy()
        truth = task.targets[task.mask]
        if task.multilabel:
            scores.append(f1_score(truth, logits > 0, average="micro", zero_division=0))
        else:
            scores.append(f1_score(truth, logits.argmax(1), average="macro", zero_division=0))
    return float(np.mean(scores))


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
