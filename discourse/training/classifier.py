"""Training and evaluating a classifier on the user's own labels: `discourse train`, `discourse evaluate` (the model
as `discourse classify --model` loads and runs it is `discourse.model.textclassifier`).

Any label set works; labels are kept as strings exactly as they appear in the data ("-1", "pro", "3"). The body is
the project's encoder (or the encoder with a domain adapter from `discourse adapt-encoder`), frozen (`--mode head`)
or LoRA-fine-tuned (`--mode finetune`); the head is a calibrated logistic layer either way.

Figures are honest by construction: a stratified test split is held out before anything is fitted (each model
picks its regularisation, temperature and epochs on its own dev split from the rest), and the card sets them beside
a TF-IDF + logistic regression baseline on the same split, with per-class F1, the confusion matrix and the
calibration error. `seeds` > 1 trains that many models (their own dev splits and seeds) and averages their
probabilities: the card gives each model's figures (mean ± sd) and the ensemble's. `level="document"` labels whole
texts: a text's sentences are embedded and mean-pooled (at most `max_sentences`, spread over the text) before the
head, at training and at classification alike.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from ..encoder import EmbeddingCache, Encoder
from ..encoder.adapters import copy_domain_adapters
from ..model.calibration import expected_calibration_error
from ..model.heads import SoftmaxHead
from ..model.textclassifier import MAX_DOC_SENTENCES, Level, TextClassifier, document_sentences
from .metrics import classification_report, format_confusion, macro_f1

Mode = Literal["head", "finetune"]
C_GRID = (0.25, 1.0, 4.0, 16.0, 64.0)
DEV_SHARE = 0.15
TEST_SHARE = 0.15
FINETUNE_DOC_SENTENCES = 8
MIN_TRAIN_PER_CLASS = 50  # below this a class's figures (and its F1 in the card) are mostly noise


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


@dataclass
class TrainOptions:
    """How `train_classifier` trains; the CLI's flags. The finetune-only fields are ignored by `mode="head"`.

    The defaults are the point of `bench/train_sweep.py` that beat the former defaults (a frozen-encoder head) and
    a TF-IDF baseline on every task swept: LoRA on the top 6 layers, 4 epochs, lr 5e-4 decaying linearly, patience
    2 (bench/README.md, "Defaults of `discourse train`")."""

    mode: Mode = "finetune"
    level: Level = "sentence"
    seeds: int = 1
    test_share: float = TEST_SHARE  # 0: no test split; figures are then on dev (optimistic, and the card says so)
    class_weight: str | None = "balanced"  # or None
    max_sentences: int = MAX_DOC_SENTENCES
    # Document level, finetune: sentences per text the LoRA stage learns from (spread over the text). Each carries
    # its text's label, so more of them from one text add little new signal, and the stage's time grows with them.
    finetune_sentences: int = FINETUNE_DOC_SENTENCES
    epochs: int = 4
    lr: float = 5e-4
    rank: int = 8
    top_layers: int | None = 6
    schedule: str = "linear"
    patience: int = 2
    batch_size: int = 16

    def check(self) -> None:
        from .finetune import SCHEDULES

        if self.mode not in ("head", "finetune"):
            raise ValueError(f"mode must be 'head' or 'finetune', got {self.mode!r}")
        if self.level not in ("sentence", "document"):
            raise ValueError(f"level must be 'sentence' or 'document', got {self.level!r}")
        if self.seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {self.seeds}")
        if not 0 <= self.test_share < 0.5:
            raise ValueError(f"test share must be in [0, 0.5), got {self.test_share}")
        if self.class_weight not in ("balanced", None):
            raise ValueError(f"class weight must be 'balanced' or none, got {self.class_weight!r}")
        if self.max_sentences < 1:
            raise ValueError(f"max sentences must be at least 1, got {self.max_sentences}")
        if self.finetune_sentences < 1:
            raise ValueError(f"finetune sentences must be at least 1, got {self.finetune_sentences}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")


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


def tfidf_baseline(train_texts: list[str], train_y: list[str], dev_texts: list[str], dev_y: list[str],
                   eval_texts: list[str], labels: list[str], seed: int = 0,
                   class_weight: str | None = "balanced") -> np.ndarray:
    """Word uni- and bigram TF-IDF + logistic regression, regularisation picked on dev macro-F1 (as the heads
    are): the figure a model has to beat to be worth its encoder. Returns the probabilities on `eval_texts`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, max_features=200_000)
    x_train = vectoriser.fit_transform(train_texts)
    x_dev, x_eval = vectoriser.transform(dev_texts), vectoriser.transform(eval_texts)
    best, best_f1 = None, -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000, class_weight=class_weight, random_state=seed)
        model.fit(x_train, train_y)
        score = macro_f1(dev_y, model.predict(x_dev))
        if score > best_f1 + 1e-9:
            best, best_f1 = model, score
    probs = np.zeros((len(eval_texts), len(labels)))
    for column, label in enumerate(best.classes_):
        probs[:, labels.index(label)] = best.predict_proba(x_eval)[:, column]
    return probs


def _split(indices: np.ndarray, labels: list[str], share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (when every label has at least two rows) split of `indices` into (rest, held out)."""
    from sklearn.model_selection import train_test_split

    if share <= 0:
        return indices, indices[:0]
    ys = [labels[i] for i in indices]
    counts = Counter(ys)
    stratify = ys if min(counts.values()) >= 2 else None
    size = max(share, len(counts) / len(indices)) if stratify is not None else share
    return tuple(np.asarray(part) for part in train_test_split(indices, test_size=size, random_state=seed,
                                                               stratify=stratify))


def _figures(truth: list[str], probs: np.ndarray, labels: list[str]) -> dict:
    predicted = [labels[i] for i in probs.argmax(axis=1)]
    report = classification_report(truth, predicted, labels)
    index = {label: i for i, label in enumerate(labels)}
    report["ece"] = round(expected_calibration_error(probs, np.array([index[t] for t in truth])), 4)
    return report


def _spread(values: list[float]) -> dict:
    values = np.asarray(values, dtype=float)
    return {"mean": round(float(values.mean()), 4), "sd": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4),
            "min": round(float(values.min()), 4), "max": round(float(values.max()), 4)}


@dataclass
class _Member:
    seed: int
    encoder: Encoder
    head: SoftmaxHead
    prefix: str  # folder inside the model folder ("" for a single model)
    adapter: str | None
    probs: np.ndarray = field(default=None)  # on the evaluation split
    epochs: int | None = None


def train_classifier(data: str | Path, text_column: str, label_column: str, out_dir: str | Path,
                     options: TrainOptions | None = None, seed: int = 0, encoder_spec: str | None = None,
                     log: Callable[[str], None] = print, cache: EmbeddingCache | None = None) -> dict:
    """Train, write the model folder with its card and `report.json`, and return the report (see the module)."""
    started = time.perf_counter()
    options = options or TrainOptions()
    options.check()
    out_dir = Path(out_dir)
    dataset = read_labelled(data, text_column, label_column)
    for number, reason in dataset.skipped[:10]:
        log(f"skipped row {number}: {reason}")
    if len(dataset.skipped) > 10:
        log(f"... {len(dataset.skipped) - 10} more rows skipped")
    counts = Counter(dataset.labels)
    if len(counts) < 2:
        raise ValueError(f"need at least two distinct labels in column {label_column!r}, found {sorted(counts)}")
    labels = sorted(counts)
    texts, ys = dataset.texts, dataset.labels
    if min(counts.values()) < 3:
        log("warning: a label has fewer than 3 examples; the splits cannot all be stratified")
    rest, test = _split(np.arange(len(texts)), ys, options.test_share, seed)
    evaluated_on = "test" if len(test) else "dev"

    encoder = Encoder.load(encoder_spec, cache=cache)
    domain_adapters = list(encoder.adapters)
    warnings: list[str] = []
    members: list[_Member] = []
    shared_features: dict[int, np.ndarray] = {}  # row -> features of the shared (not fine-tuned) encoder
    baseline, sizes = None, {}
    for i in range(options.seeds):
        member_seed = seed + i
        # Without a test split every member shares one dev split, on which the ensemble is then reported.
        train, dev = _split(rest, ys, DEV_SHARE, member_seed if len(test) else seed)
        held = test if len(test) else dev
        if i == 0:
            train_counts = Counter(ys[j] for j in train)
            log(f"{len(texts)} rows: {len(train)} train / {len(dev)} dev / {len(test)} test; "
                f"labels {dict(sorted(counts.items()))}")
            for label in labels:
                if train_counts[label] < MIN_TRAIN_PER_CLASS:
                    warnings.append(f"label {label!r} has {train_counts[label]} training examples (fewer than "
                                    f"{MIN_TRAIN_PER_CLASS}): its figures are unreliable and it is likely missed")
            for message in warnings:
                log(f"warning: {message}")
            baseline_probs = tfidf_baseline([texts[j] for j in train], [ys[j] for j in train],
                                            [texts[j] for j in dev], [ys[j] for j in dev],
                                            [texts[j] for j in held], labels, seed, options.class_weight)
            baseline = _figures([ys[j] for j in held], baseline_probs, labels)
            log(f"baseline (TF-IDF + logistic regression) on {evaluated_on}: accuracy {baseline['accuracy']:.4f}, "
                f"macro-F1 {baseline['macro_f1']:.4f}")
        if i == 0:
            sizes = {"n_train": int(len(train)), "n_dev": int(len(dev)), "n_test": int(len(test))}
        prefix = f"member-{i}/" if options.seeds > 1 else ""
        members.append(_train_member(texts, ys, labels, train, dev, held, options, member_seed, encoder_spec,
                                     encoder, out_dir, prefix, cache, shared_features, log))
        member = members[-1]
        figures = _figures([ys[j] for j in held], member.probs, labels)
        if options.seeds > 1:
            log(f"model {i + 1}/{options.seeds} (seed {member_seed}): {evaluated_on} accuracy "
                f"{figures['accuracy']:.4f}, macro-F1 {figures['macro_f1']:.4f}")

    truth = [ys[j] for j in held]
    ensemble = _figures(truth, np.mean([m.probs for m in members], axis=0), labels)
    per_member = [{"seed": m.seed, "epochs": m.epochs, **{k: v for k, v in _figures(truth, m.probs, labels).items()
                                                         if k in ("accuracy", "macro_f1", "ece")}}
                  for m in members]
    seconds = time.perf_counter() - started
    report = {**ensemble, "evaluated_on": evaluated_on, **sizes, "baseline": baseline, "members": per_member,
              "seeds": {k: _spread([m[k] for m in per_member]) for k in ("accuracy", "macro_f1", "ece")},
              "warnings": warnings, "skipped_rows": len(dataset.skipped), "seconds": round(seconds, 1),
              "options": asdict(options)}
    config = {"type": "classifier", "name": out_dir.name, "version": "1", "encoder": encoder.name,
              "encoder_version": members[0].encoder.version, "labels": labels, "mode": options.mode,
              "level": options.level, "max_sentences": options.max_sentences, "seed": seed, "seeds": options.seeds,
              "text_column": text_column, "label_column": label_column,
              "adapter": members[0].adapter if options.seeds == 1 else None,
              "members": [{"head": f"{m.prefix}head", "adapter": m.adapter} for m in members]}
    out_dir.mkdir(parents=True, exist_ok=True)
    if domain_adapters:
        config["encoder_adapters"] = copy_domain_adapters(domain_adapters, out_dir)
    for member in members:
        (out_dir / member.prefix).mkdir(parents=True, exist_ok=True)
        member.head.save(out_dir, f"{member.prefix}head")
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_card(out_dir, config, report, data, encoder_spec, options)
    what = f"ensemble of {options.seeds}" if options.seeds > 1 else "model"
    log(f"{evaluated_on} accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}, ECE "
        f"{report['ece']:.4f} ({what}; {seconds:.0f}s)")
    if options.seeds > 1:
        s = report["seeds"]
        log(f"over {options.seeds} seeds: accuracy {s['accuracy']['mean']:.4f} ± {s['accuracy']['sd']:.4f}, "
            f"macro-F1 {s['macro_f1']['mean']:.4f} ± {s['macro_f1']['sd']:.4f}")
    return report


def _train_member(texts: list[str], ys: list[str], labels: list[str], train: np.ndarray, dev: np.ndarray,
                  held: np.ndarray, options: TrainOptions, seed: int, encoder_spec: str | None, shared: Encoder,
                  out_dir: Path, prefix: str, cache: EmbeddingCache | None, shared_features: dict[int, np.ndarray],
                  log: Callable[[str], None]) -> _Member:
    """One model: (in finetune mode) a LoRA adapter early-stopped on dev, then a head fitted on train, its
    regularisation and temperature picked on dev; its probabilities on the evaluation rows."""
    encoder, adapter, epochs, x = shared, None, None, shared_features
    if options.mode == "finetune":
        adapter = f"{prefix}adapter"
        encoder, epochs = _finetune(texts, ys, labels, train, dev, options, seed, encoder_spec, out_dir / adapter,
                                    cache, log)
        x = {}
    probe = TextClassifier({"level": options.level, "max_sentences": options.max_sentences}, encoder, None)
    wanted = [j for j in np.concatenate([train, dev, held]).tolist() if j not in x]
    if wanted:
        x.update(zip(wanted, probe.features(encoder, [texts[j] for j in wanted])))

    def rows(idx):
        return np.stack([x[j] for j in idx.tolist()]), [ys[j] for j in idx]

    head, _ = fit_head(*rows(train), *rows(dev), labels, seed, options.class_weight)
    member = _Member(seed, encoder, head, prefix, adapter, epochs=epochs)
    member.probs = head.predict_proba(rows(held)[0])
    return member


def _finetune(texts, ys, labels, train, dev, options: TrainOptions, seed: int, encoder_spec, adapter_dir: Path,
              cache, log) -> tuple[Encoder, int]:
    """LoRA on the training rows; a document-level model learns from its documents' sentences, each carrying its
    document's label (the head, fitted afterwards on pooled sentences, then sees documents again)."""
    from .finetune import Task, finetune_lora

    index = {label: i for i, label in enumerate(labels)}

    def units(idx):
        if options.level == "sentence":
            return [texts[j] for j in idx], [index[ys[j]] for j in idx]
        limit = min(options.max_sentences, options.finetune_sentences)
        pairs = [(s, index[ys[j]]) for j in idx for s in document_sentences(texts[j], limit)]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    train_texts, train_targets = units(train)
    dev_texts, dev_targets = units(dev)
    if options.level == "document":
        log(f"LoRA stage: {len(train_texts)} sentences from {len(train)} training texts")
    weight = None
    if options.class_weight == "balanced":
        found = np.bincount(train_targets, minlength=len(labels)).astype(float)
        weight = np.where(found > 0, len(train_targets) / (len(labels) * np.maximum(found, 1)), 0.0)
    task = Task("label", len(labels), np.array(train_targets), np.ones(len(train_targets), bool), weight=weight)
    dev_task = Task("label", len(labels), np.array(dev_targets), np.ones(len(dev_targets), bool))
    result = finetune_lora(Encoder.load(encoder_spec), train_texts, [task], adapter_dir, dev_texts,
                           [dev_task], epochs=options.epochs, batch_size=options.batch_size, lr=options.lr,
                           rank=options.rank, patience=options.patience, seed=seed,
                           top_layers=options.top_layers, schedule=options.schedule, log=log)
    log(f"fine-tuned {result.epochs_run} epoch(s), best epoch {result.best_epoch} in {result.seconds:.0f}s")
    # The exact load-time path: base (+ domain adapter) + this adapter, merged.
    return Encoder.load(encoder_spec, cache=cache).with_adapter(adapter_dir), result.best_epoch


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


def _row(name: str, figures: dict) -> str:
    return f"| {name} | {figures['accuracy']:.4f} | {figures['macro_f1']:.4f} | {figures['ece']:.4f} |"


def _write_card(out_dir: Path, config: dict, report: dict, data, encoder_spec, options: TrainOptions) -> None:
    where = report["evaluated_on"]
    rows = "\n".join(
        f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} | "
        f"{report['baseline']['per_class'][label]['f1']:.3f} |" for label, m in report["per_class"].items())
    what = f"ensemble of {options.seeds} (mean of their probabilities)" if options.seeds > 1 else "model"
    table = [_row(f"this {what}", report), _row("baseline: TF-IDF + logistic regression", report["baseline"])]
    if options.seeds > 1:
        s = report["seeds"]
        table.append(f"| each model, mean ± sd over {options.seeds} seeds | {s['accuracy']['mean']:.4f} ± "
                     f"{s['accuracy']['sd']:.4f} | {s['macro_f1']['mean']:.4f} ± {s['macro_f1']['sd']:.4f} | "
                     f"{s['ece']['mean']:.4f} ± {s['ece']['sd']:.4f} |")
    caveat = "" if where == "test" else (
        "\n**These figures are on the dev split**, which also picked the regularisation, the temperature and the "
        "epochs: they are optimistic. Train with a test split (the default) for figures you can report.\n")
    warning_lines = "".join(f"- **Warning:** {w}\n" for w in report["warnings"])
    encoder = config["encoder"] + (f" + domain adapter `{', '.join(config['encoder_adapters'])}` "
                                   f"(`discourse adapt-encoder`)" if config.get("encoder_adapters") else "")
    level = ("documents: each text's sentences (at most "
             f"{options.max_sentences}, spread over the text) embedded and mean-pooled" if options.level == "document"
             else "each text embedded as one unit")
    flags = [f"--mode {options.mode}", f"--seed {config['seed']}"]
    if options.seeds > 1:
        flags.append(f"--seeds {options.seeds}")
    if options.level != "sentence":
        flags.append(f"--level {options.level} --max-sentences {options.max_sentences}")
        if options.mode == "finetune":
            flags.append(f"--finetune-sentences {options.finetune_sentences}")
    if options.mode == "finetune":
        flags.append(f"--epochs {options.epochs} --lr {options.lr} --rank {options.rank} --top-layers "
                     f"{options.top_layers or 0} --schedule {options.schedule} --patience {options.patience}")
    if options.class_weight is None:
        flags.append("--class-weight none")
    if options.test_share != TEST_SHARE:
        flags.append(f"--test-share {options.test_share}")
    if encoder_spec:
        flags.append(f"--encoder {encoder_spec}")
    card = f"""# {config['name']}

A text classifier trained with `discourse train` on the user's own labels.

- Data: `{data}` (text column `{config['text_column']}`, label column `{config['label_column']}`):
  {report['n_train']} training, {report['n_dev']} dev and {report['n_test']} test rows (stratified splits; the
  test split drawn first with seed {config['seed']} and used for these figures only); {report['skipped_rows']} rows
  skipped.
- Input: {level}.
- Body: encoder `{encoder}` (version `{config['encoder_version']}`), mode `{config['mode']}`.
- Head: logistic regression (class weights: {options.class_weight or 'none'}), regularisation picked on dev
  macro-F1, temperature-calibrated on dev.
- Training time: {report['seconds']:.0f} s.
{warning_lines}
## Figures on {where} ({report['n']} rows)
{caveat}
| | accuracy | macro-F1 | ECE (15 bins) |
|---|---|---|---|
{chr(10).join(table)}

ECE: expected calibration error of the top label's probability (0 = a 0.8 means right 8 times in 10).

| label | precision | recall | F1 | support | baseline F1 |
|---|---|---|---|---|---|
{rows}

Confusion matrix ({where}):
```
{format_confusion(report)}
```

Reproduce: `discourse train --data {data} --text-column {config['text_column']} --label-column {config['label_column']} --out {out_dir} {' '.join(flags)}`
"""
    (out_dir / "MODEL_CARD.md").write_text(card, encoding="utf-8")
