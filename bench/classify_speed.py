"""Sentences per second: the framing model's own path vs a plain transformers pipeline of the same model.

    .venv/bin/python bench/classify_speed.py [--n 2000] [--threads 2] [--model DIR] [--write]

Both sides run the same weights: the rebuilt multilingual-e5-small with the shipped stance head. The baseline wraps
them in a plain `transformers` model (mean pooling + normalise + the stance layer) and calls
`pipeline("text-classification")` the ordinary way, one text per call, and again with batch_size=32. The model's
own path (`FramingModel.predict`) sorts by length, batches, and runs three heads. The embedding cache is off: every
sentence is encoded. Printed: sentences/s for each, the ratio, and how often the two agree on the stance label.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from sentences import nos_sentences  # noqa: E402  (puts the repo on sys.path)
from transformers import PreTrainedModel, pipeline
from transformers.modeling_outputs import SequenceClassifierOutput

from discourse.codebook import STANCES
from discourse.framing import FramingModel
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path, default=model_dir())
    parser.add_argument("--write", action="store_true", help="save the figures as speed.json in the model folder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = nos_sentences(args.n)
    model = FramingModel.load(args.model)
    encoder = model.encoder
    head = model.stance_head

    plain = MeanPoolClassifier(encoder.st_model[0].auto_model, head.weight, head.bias, head.temperature).eval()
    plain.config.id2label = dict(enumerate(STANCES))
    plain.config.label2id = {label: i for i, label in enumerate(STANCES)}
    classifier = pipeline("text-classification", model=plain, tokenizer=encoder.st_model.tokenizer, device=-1)
    prefixed = [encoder.prefix + t for t in texts]

    model.predict(texts[:32])  # warm-up, both sides
    classifier(prefixed[:8])

    started = time.perf_counter()
    ours = model.predict(texts)
    ours_s = time.perf_counter() - started

    started = time.perf_counter()
    baseline = [classifier(t, truncation=True)[0]["label"] for t in prefixed]
    plain_s = time.perf_counter() - started

    started = time.perf_counter()
    batched = [r["label"] for r in classifier(prefixed, batch_size=32, truncation=True)]
    batched_s = time.perf_counter() - started

    ours_labels = [STANCES[int(np.argmax([r["stance_given_relevant"][s] for s in STANCES]))] for r in ours]
    agree = np.mean([a == b for a, b in zip(ours_labels, baseline)])
    words = np.mean([len(t.split()) for t in texts])
    lines = [
        f"{len(texts)} NOS sentences, mean {words:.1f} words, torch threads {args.threads}",
        f"framing model (length-sorted batches of 32, 3 heads): {len(texts) / ours_s:.1f} sentences/s",
        f"transformers pipeline, one call per text: {len(texts) / plain_s:.1f} sentences/s",
        f"transformers pipeline, batch_size=32: {len(texts) / batched_s:.1f} sentences/s",
        f"ratio vs plain pipeline: {plain_s / ours_s:.2f}x; vs batched pipeline: {batched_s / ours_s:.2f}x",
        f"stance labels agree with the pipeline on {agree:.1%} of sentences; batched pipeline agrees with plain "
        f"on {np.mean([a == b for a, b in zip(baseline, batched)]):.1%}",
    ]
    print("\n".join(lines))
    if args.write:
        payload = {"command": f"bench/classify_speed.py --n {args.n} --threads {args.threads} --write",
                   "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads", "lines": lines,
                   "sentences_per_second": {"framing_model": len(texts) / ours_s, "pipeline": len(texts) / plain_s,
                                            "pipeline_batched": len(texts) / batched_s}}
        (args.model / "speed.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
