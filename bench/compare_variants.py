"""Choose between trained framing-model variants on dev, real text first, and record the choice.

    discourse train-framing --out /tmp/framing-a --mode head --seed 0 --adapter-from models/framing-e5-small/adapter
    discourse train-framing --out /tmp/framing-b --mode head --seed 0 --real-weight 3
    .venv/bin/python bench/compare_variants.py /tmp/framing-a /tmp/framing-b --ship models/framing-e5-small

The variant with the higher mean of relevance macro-F1 and stance macro-F1 on the REAL dev split (on the authored
dev split for variants trained without real units), among those whose int8 build keeps the torch labels on at least
98 % of the authored dev split (the gate of bench/onnx_agreement.py) and whose stance macro-F1 on the authored dev
interviews (the only parent speech the project has labels for) is at most --speech-tolerance below the shipped
model's, is copied to --ship (its folder replaces the shipped model's heads, config, metrics and adapter), with
comparison.json beside it. No test split plays a part in the choice.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

GATE = 0.98  # bench/onnx_agreement.py
SHIPPED_FILES = ("config.json", "metrics.json", "relevance.safetensors", "relevance.json", "stance.safetensors",
                 "stance.json", "frames.safetensors", "frames.json")


def dev_score(metrics: dict) -> float:
    dev = metrics.get("real_dev") or metrics["dev"]
    return (dev["relevance"]["macro_f1"] + dev["stance"]["macro_f1"]) / 2


def int8_agreement(folders: list[Path]) -> dict[str, float]:
    """Product-label agreement of each variant's int8 build with its torch reference on the authored dev split.
    Variants that share an encoder (the same adapter) share its embeddings, so each is encoded once."""
    from discourse.training.corpus import load_units
    from discourse.model.framing import FramingModel

    texts = [u.text for u in load_units("dev")]
    embeddings: dict[str, tuple] = {}
    out = {}
    for folder in folders:
        torch_model = FramingModel.load(folder, backend="torch")
        key = torch_model.encoder.version
        if key not in embeddings:
            embeddings[key] = (torch_model.encoder.encode(texts),
                               FramingModel.load(folder, backend="onnx").encoder.encode(texts))
        reference, optimised = embeddings[key]
        a = torch_model.predict_embeddings(reference)["scores"].argmax(1)
        b = torch_model.predict_embeddings(optimised)["scores"].argmax(1)
        out[str(folder)] = round(float((a == b).mean()), 4)
    return out


def interview_dev(metrics: dict) -> float:
    """Stance macro-F1 on the authored dev split's interview units."""
    return metrics["dev"]["per_genre"]["interview"]["stance"]["macro_f1"]


def variant_name(m: dict) -> str:
    continued = "--adapter-from" in m["command"]
    if m["mode"] == "finetune":
        encoder = "LoRA adapter trained further" if continued else "new LoRA adapter"
        encoder += f" (seed {m['seed']})"
    else:
        encoder = ("kept LoRA adapter" if continued else "frozen base encoder")
    return f"{encoder} + heads" + (f", real units ×{m['real_weight']}" if m.get("real_dev") else ", authored only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+", type=Path, help="model folders written by train-framing")
    parser.add_argument("--ship", type=Path, required=True)
    parser.add_argument("--speech-tolerance", type=float, default=0.02,
                        help="how far below the shipped model's authored-dev interview stance a variant may fall")
    args = parser.parse_args()
    shipped = args.ship / "metrics.json"
    speech_floor = (interview_dev(json.loads(shipped.read_text(encoding="utf-8"))) - args.speech_tolerance
                    if shipped.is_file() else 0.0)
    rows = []
    for folder in args.variants:
        m = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        real = m.get("real_dev") or {}
        rows.append({"variant": variant_name(m), "folder": str(folder), "mode": m["mode"],
                     "real_dev_relevance": real.get("relevance", {}).get("macro_f1"),
                     "real_dev_stance": real.get("stance", {}).get("macro_f1"),
                     "real_dev_frames_micro": real.get("frames", {}).get("micro_f1"),
                     "dev_relevance": m["dev"]["relevance"]["macro_f1"],
                     "dev_stance": m["dev"]["stance"]["macro_f1"], "dev_frames_micro": m["dev"]["frames"]["micro_f1"],
                     "dev_interview_stance": round(interview_dev(m), 4),
                     "score": round(dev_score(m), 4), "train_seconds": m["train_seconds"], "command": m["command"]})
    agreement = int8_agreement(args.variants)
    for row in rows:
        row["int8_agreement_dev"] = agreement[row["folder"]]
    def failures(row: dict) -> list[str]:
        return ((["fails the int8 gate"] if row["int8_agreement_dev"] < GATE else [])
                + ([f"interview dev stance {row['dev_interview_stance']:.3f} < {speech_floor:.3f}"]
                   if row["dev_interview_stance"] < speech_floor else []))

    passing = [r for r in rows if not failures(r)]
    if not passing:
        raise SystemExit("no variant passes the int8 gate and keeps the interview stance: nothing shipped\n"
                         + "\n".join(f"{r['folder']}: {', '.join(failures(r))}" for r in rows))
    best = max(passing, key=lambda r: r["score"])
    decision = (f"Shipped: **{best['variant']}** (mean of real-dev relevance and stance macro-F1 {best['score']:.3f} vs "
                + ", ".join(f"{r['score']:.3f}" + "".join(f" ({f})" for f in failures(r))
                            for r in rows if r is not best) + ").")
    args.ship.mkdir(parents=True, exist_ok=True)
    source = Path(best["folder"])
    for name in SHIPPED_FILES:
        shutil.copy2(source / name, args.ship / name)
    if (args.ship / "adapter").exists():
        shutil.rmtree(args.ship / "adapter")
    if (source / "adapter").exists():
        shutil.copytree(source / "adapter", args.ship / "adapter")
    comparison = {"variants": rows, "chosen": best["mode"], "decision": decision, "speech_floor": round(speech_floor, 4),
                  "command": "bench/compare_variants.py " + " ".join(str(v) for v in args.variants)}
    (args.ship / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n", encoding="utf-8")
    print(decision)


if __name__ == "__main__":
    main()
