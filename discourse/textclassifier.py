"""A classifier on the user's own labels: `discourse train`, `discourse evaluate`, `discourse classify --model`.

Any label set works; labels are kept as strings exactly as they appear in the data ("-1", "pro", "3"). The body is
the project's encoder, frozen (`--mode head`) or LoRA-fine-tuned (`--mode finetune`); the head is a calibrated
logistic layer either way.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from .encoder import CachingEncoder, Encoder, load_inference_encoder, resolve_encoder_spec
from .heads import SoftmaxHead
from .segment import Sentence

Mode = Literal["head", "finetune"]
C_GRID = (0.25, 1.0, 4.0, 16.0, 64.0)
DEV_SHARE = 0.15


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[str]
    skipped: list[tuple[int, str]]  # (row number, reason)


def read_labelled(path: str | Path, text_column: str, label_column: str) -> LabelledData:
    """Read a CSV or JSON-lines file; rows without usable text or label are skipped with a reason, not fatal."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    texts, labels, skipped = [], [], []
    for number, row in _rows(path):
        if isinstance(row, str):
            skipped.append((number, row))
            continue
        if text_column not in row or label_column not in row:
            missing = text_column if text_column not in row else label_column
            skipped.append((number, f"missing column {missing!r}"))
            continue
        text, label = row[text_column], row[label_column]
        if not isinstance(text, str) or not text.strip():
            skipped.append((number, "empty text"))
            continue
        if label is None or (isinstance(label, str) and not label.strip()):
            skipped.append((number, "empty label"))
            continue
        texts.append(text.strip())
        labels.append(_label_string(label))
    return LabelledData(texts, labels, skipped)


def _label_string(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1.0 from a float column means the label "1"
    return str(value).strip()


def _rows(path: Path):
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                try:
                    row = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    yield number, f"unreadable line: {exc}"
                    continue
                yield number, row if isinstance(row, dict) else "line is not a JSON object"
    else:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            for number, row in enumerate(csv.DictReader(handle), 2):
                yield number, row


class TextClassifier:
    def __init__(self, config: dict, encoder: CachingEncoder, head: SoftmaxHead):
        self.config, self.encoder, self.head = config, encoder, head

    @classmethod
    def load(cls, directory: str | Path, encoder: CachingEncoder | None = None,
             backend: str | None = None) -> "TextClassifier":
        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if encoder is None:
            adapter = directory / config["adapter"] if config.get("adapter") else None
            encoder = load_inference_encoder(resolve_encoder_spec(config["encoder"], directory), adapter, backend,
                                             prefix=config.get("encoder_prefix"))
        return cls(config, encoder, SoftmaxHead.load(directory, "head"))

    @property
    def labels(self) -> list[str]:
        return self.head.labels

    def describe(self) -> dict:
        return {"model": self.config["name"], "model_version": self.config["version"],
                "codebook_version": None, "encoder_version": self.encoder.version}

    def predict(self, texts: list[str], batch_size: int = 32) -> list[dict]:
        if not texts:
            return []
        probs = self.head.predict_proba(self.encoder.encode(texts, batch_size=batch_size))
        return [{"label": self.labels[int(p.argmax())],
                 "scores": {label: round(float(v), 4) for label, v in zip(self.labels, p)}} for p in probs]

    def aggregate(self, sentences: list[Sentence], predictions: list[dict]) -> dict:
        """Document = mean of its sentences' probabilities; evidence = the strongest sentence per label."""
        probs = np.array([[p["scores"][label] for label in self.labels] for p in predictions]).mean(axis=0)
        evidence = {}
        for label in self.labels:
            best = max(range(len(sentences)), key=lambda i: predictions[i]["scores"][label])
            if predictions[best]["label"] == label:
                s = sentences[best]
                evidence[label] = [{"sentence": s.text, "start": s.start, "end": s.end,
                                    "score": predictions[best]["scores"][label]}]
        return {"label": self.labels[int(probs.argmax())],
                "scores": {label: round(float(v), 4) for label, v in zip(self.labels, probs)},
                "sentences": {"total": len(sentences)}, "evidence": evidence}


def fit_head(x_train: np.ndarray, y_train: list[str], x_dev: np.ndarray, y_dev: list[str], labels: list[str],
             seed: int = 0, class_weight: str | None = "balanced") -> tuple[SoftmaxHead, float]:
    """Pick the regularisation on dev macro-F1, then calibrate the temperature on dev."""
    from .metrics import macro_f1  # scikit-learn: for training and evaluating, not for loading a model

    best, best_f1 = None, -1.0
    for c in C_GRID:
        head = SoftmaxHead.fit(x_train, y_train, labels, c=c, class_weight=class_weight, seed=seed)
        predicted = [labels[i] for i in head.predict_proba(x_dev).argmax(axis=1)]
        score = macro_f1(y_dev, predicted)
        if score > best_f1 + 1e-9:
            best, best_f1 = head, score
    index = {label: i for i, label in enumerate(labels)}
    best.calibrate(x_dev, np.array([index[v] for v in y_dev]))
    return best, best_f1


def train_classifier(data: str | Path, text_column: str, label_column: str, out_dir: str | Path,
                     mode: Mode = "head", seed: int = 0, encoder_spec: str | None = None, epochs: int = 4,
                     log: Callable[[str], None] = print) -> dict:
    """Train, pick on a stratified dev split, write the model folder with a card; returns the dev report."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    dataset = read_labelled(data, text_column, label_column)
    for number, reason in dataset.skipped[:10]:
        log(f"skipped row {number}: {reason}")
    if len(dataset.skipped) > 10:
        log(f"... {len(dataset.skipped) - 10} more rows skipped")
    counts = Counter(dataset.labels)
    if len(counts) < 2:
        raise ValueError(f"need at least two distinct labels in column {label_column!r}, found {sorted(counts)}")
    from sklearn.model_selection import train_test_split

    from .metrics import classification_report

    labels = sorted(counts)
    stratify = dataset.labels if min(counts.values()) >= 2 else None
    if stratify is None:
        log("warning: a label has a single example; the dev split is not stratified")
    train_x, dev_x, train_y, dev_y = train_test_split(
        dataset.texts, dataset.labels, test_size=max(DEV_SHARE, len(labels) / len(dataset.texts)),
        random_state=seed, stratify=stratify)
    log(f"{len(dataset.texts)} rows: {len(train_x)} train / {len(dev_x)} dev; labels {dict(sorted(counts.items()))}")

    encoder = Encoder.load(encoder_spec)
    adapter = None
    if mode == "finetune":
        from .finetune import Task, finetune_lora

        index = {label: i for i, label in enumerate(labels)}
        task = Task("label", len(labels), np.array([index[v] for v in train_y]), np.ones(len(train_y), bool))
        dev_task = Task("label", len(labels), np.array([index[v] for v in dev_y]), np.ones(len(dev_y), bool))
        result = finetune_lora(encoder, train_x, [task], out_dir / "adapter", dev_x, [dev_task],
                               epochs=epochs, seed=seed, log=log)
        encoder = Encoder.load(encoder_spec).with_adapter(out_dir / "adapter")  # the exact load-time path
        adapter = "adapter"
        log(f"fine-tuned {result.epochs_run} epoch(s), best epoch {result.best_epoch} in {result.seconds:.0f}s")
    elif mode != "head":
        raise ValueError(f"mode must be 'head' or 'finetune', got {mode!r}")

    head, _ = fit_head(encoder.encode(train_x), train_y, encoder.encode(dev_x), dev_y, labels, seed)
    predicted = [p["label"] for p in TextClassifier({}, encoder, head).predict(dev_x)]
    report = classification_report(dev_y, predicted, labels)
    config = {"type": "classifier", "name": out_dir.name, "version": "1", "encoder": encoder.name,
              "encoder_version": encoder.version, "adapter": adapter, "labels": labels, "mode": mode, "seed": seed,
              "text_column": text_column, "label_column": label_column}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    head.save(out_dir, "head")
    seconds = time.perf_counter() - started
    _write_card(out_dir, config, report, data, len(train_x), len(dev_x), seconds, dataset.skipped)
    log(f"dev accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f} ({seconds:.0f}s)")
    return report


def evaluate_classifier(model, data: str | Path, text_column: str, label_column: str) -> dict:
    from .metrics import classification_report

    dataset = read_labelled(data, text_column, label_column)
    labels = list(model.labels)
    predicted = [p["label"] for p in model.predict(dataset.texts)]
    extra = sorted(set(dataset.labels) - set(labels))
    report = classification_report(dataset.labels, predicted, labels + extra)
    report["skipped_rows"] = len(dataset.skipped)
    if extra:
        report["labels_unknown_to_model"] = extra
    return report


def _write_card(out_dir: Path, config: dict, report: dict, data, n_train: int, n_dev: int, seconds: float,
                skipped: list) -> None:
    from .metrics import format_confusion

    rows = "\n".join(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |"
                     for label, m in report["per_class"].items())
    card = f"""# {config['name']}

A text classifier trained with `discourse train` on the user's own labels.

- Data: `{data}` (text column `{config['text_column']}`, label column `{config['label_column']}`),
  {n_train} training and {n_dev} dev rows (stratified split, seed {config['seed']}); {len(skipped)} rows skipped.
- Body: encoder `{config['encoder']}` (version `{config['encoder_version']}`), mode `{config['mode']}`.
- Head: logistic regression, regularisation picked on dev macro-F1, temperature-calibrated on dev.
- Training time: {seconds:.0f} s.

## Dev figures
Accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}.

| label | precision | recall | F1 | support |
|---|---|---|---|---|
{rows}

```
{format_confusion(report)}
```

Reproduce: `discourse train --data {data} --text-column {config['text_column']} --label-column {config['label_column']} --out {out_dir} --mode {config['mode']} --seed {config['seed']}`
"""
    (out_dir / "MODEL_CARD.md").write_text(card, encoding="utf-8")
