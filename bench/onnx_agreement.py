"""Does the optimised (onnx int8) backend keep the torch model's labels? Agreement on dev and test, and the test
figures of both backends side by side.

    .venv/bin/python bench/onnx_agreement.py [--model DIR] [--write]

Agreement is counted per unit: the product label (supportive / pressuring / neutral, what `classify` returns), the
relevance decision, the stance given relevance, and every (unit, sub-frame) decision. The gate the project holds
the int8 build to: product labels agree on ≥ 98 % of dev. `--write` saves onnx.json in the model folder
for the model card.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import sentences  # noqa: F401  (puts the repo on sys.path)

from discourse.training import realcorpus
from discourse.training.corpus import load_units
from discourse.model.framing import FramingModel
from discourse.settings import model_dir
from discourse.training.framing import evaluate_framing

GATE = 0.98


def agreement(reference: FramingModel, optimised: FramingModel, texts: list[str]) -> dict:
    x_ref, x_opt = reference.encoder.encode(texts), optimised.encoder.encode(texts)
    a, b = reference.predict_embeddings(x_ref), optimised.predict_embeddings(x_opt)
    threshold = reference.config.relevance_threshold
    frame_thresholds = np.array(reference.frames_head.thresholds)
    cosine = (x_ref * x_opt).sum(1)
    return {
        "n": len(texts),
        "product_label": round(float((a["scores"].argmax(1) == b["scores"].argmax(1)).mean()), 4),
        "relevance_decision": round(float(((a["relevance"] >= threshold) == (b["relevance"] >= threshold)).mean()), 4),
        "stance_given_relevant": round(float((a["stance_given_relevant"].argmax(1)
                                              == b["stance_given_relevant"].argmax(1)).mean()), 4),
        "frame_decisions": round(float(((a["frames"] >= frame_thresholds)
                                        == (b["frames"] >= frame_thresholds)).mean()), 4),
        "embedding_cosine_mean": round(float(cosine.mean()), 4),
        "embedding_cosine_min": round(float(cosine.min()), 4),
    }


def headline(report: dict) -> dict:
    return {"relevance_macro_f1": report["relevance"]["macro_f1"], "stance_macro_f1": report["stance"]["macro_f1"],
            "stance_end_to_end_macro_f1": report["stance_end_to_end"]["macro_f1"],
            "frames_micro_f1": report["frames"]["micro_f1"],
            "interview_stance_macro_f1": report["per_genre"]["interview"]["stance"]["macro_f1"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=model_dir())
    parser.add_argument("--write", action="store_true", help="save onnx.json in the model folder")
    args = parser.parse_args()
    reference = FramingModel.load(args.model, backend="torch")
    optimised = FramingModel.load(args.model, backend="onnx")
    units = load_units()
    splits = {name: [u for u in units if u.split == name] for name in ("dev", "test")}
    if realcorpus.available() and realcorpus.load_labels("dev"):  # real text too, where the corpora are here
        splits["real_dev"] = realcorpus.load_real_units("dev")
    payload = {"command": "bench/onnx_agreement.py --write", "gate_product_label_dev": GATE,
               "build": optimised.encoder.build_info,
               "agreement": {name: agreement(reference, optimised, [u.text for u in split])
                             for name, split in splits.items()},
               "test": {"torch": headline(evaluate_framing(reference, splits["test"])),
                        "onnx": headline(evaluate_framing(optimised, splits["test"]))}}
    print(json.dumps({k: payload[k] for k in ("agreement", "test")}, indent=2))
    passed = payload["agreement"]["dev"]["product_label"] >= GATE
    print(f"gate: product labels agree on {payload['agreement']['dev']['product_label']:.1%} of dev "
          f"(needs ≥ {GATE:.0%}): {'pass' if passed else 'FAIL'}")
    if args.write:
        (args.model / "onnx.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
