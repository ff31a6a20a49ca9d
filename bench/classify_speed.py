"""Sentences per second: the framing model's two backends vs a plain transformers pipeline of the same model.

    .venv/bin/python bench/classify_speed.py [--n 2000] [--threads 2] [--model DIR] [--write]

All sides run the same weights: the rebuilt multilingual-e5-small with the shipped adapter and stance head. The
baseline wraps them in a plain `transformers` model (mean pooling + normalise + the stance layer) and calls
`pipeline("text-classification")` the ordinary way, one text per call, and again with batch_size=32. The model's
own path (`FramingModel.predict`) sorts by length, batches, and runs three heads, on the torch backend and on the
optimised onnx backend (int8, discourse/encoder/onnx_backend.py). The embedding cache is off: every sentence is
encoded. Printed: sentences/s for each, the ratios, and how often the labels agree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from sentences import nos_sentences  # noqa: E402  (puts the repo on sys.path)
from transformers import PreTrainedModel, pipeline
from transformers.modeling_outputs import SequenceClassifierOutput

from discourse.codebook import STANCES
from discourse.model.framing import FramingModel
from discourse.settings import model_dir


class MeanPoolClassifier(PreTrainedModel):
    """The framing model's stance path as a plain transformers classifier: encoder → mean pool → L2 → linear."""

    _supports_sdpa = True  # attention runs inside the wrapped BertModel, which supports it

    def __init__(self, encoder_model, weight: np.ndarray, bias: np.ndarray, temperature: float):
        super().__init__(encoder_model.config)
        self.encoder = encoder_model
        self.classifier = torch.nn.Linear(weight.shape[0], weight.shape[1])
        with torch.no_grad():
            self.classifier.weight.copy_(torch.tensor(weight.T) / temperature)
            self.classifier.bias.copy_(torch.tensor(bias) / temperature)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **_):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1), dim=-1)
        return SequenceClassifierOutput(logits=self.classifier(pooled))


def measure(texts: list[str], threads: int = 2, model_path: Path | None = None) -> dict:
    """Time every side on the same texts; returns printable lines and the figures."""
    torch.set_num_threads(threads)
    model_path = model_path or model_dir()
    model = FramingModel.load(model_path, backend="torch")
    optimised = FramingModel.load(model_path, backend="onnx")  # built on first use (~1 min), then reused
    encoder = model.encoder
    head = model.stance_head

    plain = MeanPoolClassifier(encoder.st_model[0].auto_model, head.weight, head.bias, head.temperature).eval()
    plain.config.id2label = dict(enumerate(STANCES))
    plain.config.label2id = {label: i for i, label in enumerate(STANCES)}
    classifier = pipeline("text-classification", model=plain, tokenizer=encoder.st_model.tokenizer, device=-1)
    prefixed = [encoder.prefix + t for t in texts]

    model.predict(texts[:32])  # warm-up, every side
    optimised.predict(texts[:32])
    classifier(prefixed[:8])
    seconds = {}

    def timed(name, run):
        started = time.perf_counter()
        result = run()
        seconds[name] = time.perf_counter() - started
        return result

    fast = timed("framing_model_onnx", lambda: optimised.predict(texts))
    ours = timed("framing_model_torch", lambda: model.predict(texts))
    baseline = timed("pipeline", lambda: [classifier(t, truncation=True)[0]["label"] for t in prefixed])
    timed("pipeline_batched", lambda: classifier(prefixed, batch_size=32, truncation=True))

    per_second = {name: round(len(texts) / s, 1) for name, s in seconds.items()}
    ours_labels = [STANCES[int(np.argmax([r["stance_given_relevant"][s] for s in STANCES]))] for r in ours]
    words = np.mean([len(t.split()) for t in texts])
    ratio = {name: round(seconds["pipeline"] / s, 2) for name, s in seconds.items()}
    lines = [
        f"{len(texts)} NOS sentences, mean {words:.1f} words, {threads} threads",
        f"framing model, onnx int8 backend (one text per run, one run per core, 3 heads): "
        f"{per_second['framing_model_onnx']} sentences/s",
        f"framing model, torch backend (length-sorted batches of 32): {per_second['framing_model_torch']} sentences/s",
        f"transformers pipeline, one call per text: {per_second['pipeline']} sentences/s",
        f"transformers pipeline, batch_size=32: {per_second['pipeline_batched']} sentences/s",
        f"onnx backend vs plain pipeline: {ratio['framing_model_onnx']:.2f}x; vs batched pipeline: "
        f"{seconds['pipeline_batched'] / seconds['framing_model_onnx']:.2f}x; vs torch backend: "
        f"{seconds['framing_model_torch'] / seconds['framing_model_onnx']:.2f}x",
        f"torch backend vs plain pipeline: {ratio['framing_model_torch']:.2f}x",
        f"product labels, onnx vs torch backend: "
        f"{np.mean([a['label'] == b['label'] for a, b in zip(fast, ours)]):.1%} agree; torch stance labels agree "
        f"with the pipeline on {np.mean([a == b for a, b in zip(ours_labels, baseline)]):.1%}",
    ]
    return {"lines": lines, "sentences_per_second": per_second, "ratio_vs_plain_pipeline": ratio,
            "n": len(texts), "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path, default=model_dir())
    parser.add_argument("--write", action="store_true", help="save the figures as speed.json in the model folder")
    args = parser.parse_args()
    result = measure(nos_sentences(args.n), args.threads, args.model)
    print("\n".join(result["lines"]))
    if args.write:
        payload = {"command": f"bench/classify_speed.py --n {args.n} --threads {args.threads} --write",
                   "machine": f"{platform.machine()}, {os.cpu_count()} cores", **result}
        (args.model / "speed.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
