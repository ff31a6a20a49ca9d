"""Figures for a model card, rendered from the files the scripts wrote — never typed by hand.

`discourse card --model DIR` rewrites the block between the two markers in DIR/MODEL_CARD.md with tables from
DIR/metrics.json, DIR/comparison.json (frozen head vs fine-tuned, if present), DIR/speed.json (bench output, if
present) and the corpus agreement report. The prose around the block is written by people.
"""

from __future__ import annotations

import json
from pathlib import Path

from .agreement import agreement_report

START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def render_figures(directory: Path) -> str:
    metrics = _load(directory / "metrics.json")
    if metrics is None:
        raise FileNotFoundError(f"{directory}/metrics.json not found: train the model first")
    test, dev = metrics["test"], metrics["dev"]
    out = [f"Produced by `{metrics['command']}` (mode `{metrics['mode']}`, seed {metrics['seed']}, encoder "
           f"`{metrics['encoder']}` version `{metrics['encoder_version']}`, codebook {metrics['codebook_version']}, "
           f"{metrics['train_seconds']:.0f} s on {metrics['machine']}).", ""]
    out += _real_figures(directory, metrics)
    out += [f"### Authored test split ({test['relevance']['n']} units, see \"How the test split was used\" above)", "",
            "| task | macro-F1 | accuracy | dev macro-F1 |", "|---|---|---|---|"]
    for key, name in (("relevance", "relevance"), ("stance", "stance (gold-relevant units)"),
                      ("stance_end_to_end", "stance end to end (irrelevant → neutral)")):
        out.append(f"| {name} | {_f(test[key]['macro_f1'])} | {_f(test[key]['accuracy'])} | "
                   f"{_f(dev[key]['macro_f1'])} |")
    out.append(f"| sub-frames (multi-label) | {_f(test['frames']['macro_f1'])} (micro {_f(test['frames']['micro_f1'])})"
               f" | – | {_f(dev['frames']['macro_f1'])} |")
    out += ["", "Per class, test:", "", "| layer | class | precision | recall | F1 | support |", "|---|---|---|---|---|---|"]
    for key in ("relevance", "stance"):
        for label, m in test[key]["per_class"].items():
            out.append(f"| {key} | {label} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} | {m['support']} |")
    out += ["", "Per genre, test:", "", "| genre | stance macro-F1 | stance end-to-end macro-F1 | relevance macro-F1 |",
            "|---|---|---|---|"]
    for genre, m in test["per_genre"].items():
        out.append(f"| {genre} | {_f(m['stance']['macro_f1'])} | {_f(m['stance_end_to_end_macro_f1'])} | "
                   f"{_f(m['relevance_macro_f1'])} |")
    out += ["", "Per genre and class (stance, gold-relevant units), test:", "",
            "| genre | class | precision | recall | F1 |", "|---|---|---|---|---|"]
    for genre, m in test["per_genre"].items():
        for label, c in m["stance"]["per_class"].items():
            out.append(f"| {genre} | {label} | {_f(c['precision'])} | {_f(c['recall'])} | {_f(c['f1'])} |")
    out += ["", "Sub-frames, test:", "", "| frame | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for frame, m in test["frames"]["per_label"].items():
        out.append(f"| {frame} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} | {m['support']} |")
    out += ["", "Hard cases, test (accuracy of the end-to-end label):", "", "| case | n | accuracy |", "|---|---|---|"]
    for case, m in test["hard_cases"].items():
        out.append(f"| {case} | {m['n']} | {_f(m['accuracy'])} |")
    cal = test["calibration"]
    dev_cal = dev["calibration"]
    out += ["", "### Calibration", "",
            f"Temperature scaling fitted on dev (stance T = {cal['stance_temperature']}, relevance T = "
            f"{cal['relevance_temperature']}). Expected calibration error (15 bins): stance {_f(cal['stance_ece'])} "
            f"on test; relevance {_f(cal['relevance_ece'])} on test. On dev, before → after: stance "
            f"{_f(dev_cal.get('stance_ece_uncalibrated'))} → {_f(dev_cal['stance_ece'])}, relevance "
            f"{_f(dev_cal.get('relevance_ece_uncalibrated'))} → {_f(dev_cal['relevance_ece'])}."]
    comparison = _load(directory / "comparison.json")
    if comparison:
        out += ["", "### Variants compared (dev splits; the choice was made on real dev)", "",
                "| variant | real dev relevance | real dev stance | real dev frames micro | authored dev relevance | "
                "authored dev stance | authored dev interview stance | int8 agreement (dev) | train time | command |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for row in comparison["variants"]:
            out.append(f"| {row['variant']} | {_f(row.get('real_dev_relevance'))} | {_f(row.get('real_dev_stance'))} | "
                       f"{_f(row.get('real_dev_frames_micro'))} | {_f(row['dev_relevance'])} | {_f(row['dev_stance'])} | "
                       f"{_f(row.get('dev_interview_stance'))} | {_f(row.get('int8_agreement_dev'))} | "
                       f"{row['train_seconds']:.0f} s | `{row['command']}` |")
        out += ["", comparison.get("decision", "")]
    speed = _load(directory / "speed.json")
    if speed:
        out += ["", "### Speed", "", f"`{speed['command']}` ({speed['machine']}):", ""]
        out += [f"- {line}" for line in speed["lines"]]
    onnx = _load(directory / "onnx.json")
    if onnx:
        dev, test = onnx["agreement"]["dev"], onnx["agreement"]["test"]
        out += ["", "### Optimised backend (onnx int8, the default for `classify` and the service)", "",
                f"`{onnx['command']}`: SmoothQuant (α = {onnx['build']['smoothing_alpha']}) then int8 weights per "
                f"channel with dynamic int8 activations (`discourse/encoder/onnx_backend.py`). Labels compared with "
                f"the torch backend:", "",
                "| split | n | product label | relevance | stance given relevant | sub-frame decisions | cosine min |",
                "|---|---|---|---|---|---|---|"]
        for name, a in (("dev", dev), ("test", test), *((("real dev", onnx["agreement"]["real_dev"]),)
                                                         if "real_dev" in onnx["agreement"] else ())):
            out.append(f"| {name} | {a['n']} | {a['product_label']:.1%} | {a['relevance_decision']:.1%} | "
                       f"{a['stance_given_relevant']:.1%} | {a['frame_decisions']:.1%} | "
                       f"{a['embedding_cosine_min']:.3f} |")
        t, o = onnx["test"]["torch"], onnx["test"]["onnx"]
        out += ["", "| test split | torch | onnx int8 |", "|---|---|---|"]
        out += [f"| {key.replace('_', ' ')} | {_f(t[key])} | {_f(o[key])} |" for key in t]
    agreement = agreement_report()
    out += ["", "### Annotation reliability (corpus)", "",
            f"{agreement['units_double_coded']} units double-coded (`discourse corpus agreement`): Cohen's κ relevance "
            f"{agreement['relevance_kappa']:.3f}, stance {agreement['stance_kappa_4way']:.3f} (4-way), sub-frames "
            f"{agreement['frames_kappa_mean']:.3f} (mean per frame)."]
    return "\n".join(out)


def _real_figures(directory: Path, metrics: dict) -> list[str]:
    """Real text first: the frozen real test split (bench/real_test.py), per register and at document level, then
    the real dev split the choices were made on."""
    real = _load(directory / "real_test.json")
    out: list[str] = []
    if real:
        frozen = real.get("frozen_test") or {}
        out += [f"### Real test split ({real['n']} real sentences, frozen; `{real['command']}`)", "",
                f"Double-coded blind and adjudicated (`corpora/real_annotated/`, checksum `{frozen.get('sha256', '')[:12]}`); "
                "never used for any choice. 95 % bootstrap intervals in brackets.", "",
                "| task | n | macro-F1 | per class F1 |", "|---|---|---|---|"]
        for key, name in (("relevance", "relevance"), ("stance", "stance (units coded relevant)"),
                          ("stance_end_to_end", "stance end to end (irrelevant → neutral)")):
            r = real[key]
            ci = real.get("intervals", {}).get(key, {})
            per = ", ".join(f"{k} {v['f1']:.2f}" + (f" [{ci[k][0]:.2f}, {ci[k][1]:.2f}]" if k in ci else "")
                            + f" (n={v['support']})" for k, v in r["per_class"].items())
            macro = _f(r["macro_f1"]) + (f" [{ci['macro_f1'][0]:.2f}, {ci['macro_f1'][1]:.2f}]"
                                         if "macro_f1" in ci else "")
            out.append(f"| {name} | {r['n']} | {macro} | {per} |")
        out.append(f"| sub-frames | {real['frames'].get('n', '–')} | micro {_f(real['frames']['micro_f1'])} | "
                   + ", ".join(f"{k} {v['f1']:.2f} (n={v['support']})"
                               for k, v in real["frames"]["per_label"].items() if v["support"]) + " |")
        out += ["", "| register | units | relevant | relevance macro-F1 | stance macro-F1 |", "|---|---|---|---|---|"]
        for register, r in real["per_register"].items():
            out.append(f"| {register} | {r['n']} | {r['relevant']} | {_f(r['relevance']['macro_f1'])} | "
                       f"{_f(r['stance'].get('macro_f1'))} |")
        docs = real.get("documents")
        if docs:
            out += ["", f"Documents ({docs['n']} real documents, {docs['relevant']} relevant; the document aggregate of "
                        "`classify --level document`): stance macro-F1 on relevant documents "
                        f"{_f(docs['stance']['macro_f1'])}, end to end (irrelevant → neutral) "
                        f"{_f(docs['stance_end_to_end']['macro_f1'])}."]
        out.append("")
    seeds = _load(directory / "seeds.json")
    if seeds:
        out += [f"### Seeds (the same command with seeds {', '.join(map(str, seeds['seeds']))}; "
                "`bench/seed_spread.py`)", "",
                f"The shipped model is seed {seeds['seeds'][0]}, chosen on dev before any seed met the test split.", "",
                "| figure | mean ± sd | range | per seed |", "|---|---|---|---|"]
        out += [f"| {row['figure']} | {row['mean']:.3f} ± {row['sd']:.3f} | {row['range']:.3f} | "
                + ", ".join(f"{v:.3f}" for v in row["values"]) + " |" for row in seeds["figures"]]
        out.append("")
    real_dev = metrics.get("real_dev")
    if real_dev:
        out += [f"### Real dev split ({real_dev['relevance']['n']} sentences; choices were made here)", "",
                f"Relevance macro-F1 {_f(real_dev['relevance']['macro_f1'])}, stance macro-F1 "
                f"{_f(real_dev['stance']['macro_f1'])}, stance end to end {_f(real_dev['stance_end_to_end']['macro_f1'])}, "
                f"sub-frames micro-F1 {_f(real_dev['frames']['micro_f1'])}. Trained with "
                f"{metrics.get('real_corpus', {}).get('train', 0)} real training units, each counted "
                f"{metrics.get('real_weight', 1)} times.", ""]
    return out


def update_card(directory: str | Path) -> Path:
    directory = Path(directory)
    card = directory / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{card} has no {START} … {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    card.write_text(f"{head}{START}\n{render_figures(directory)}\n{END}{tail}", encoding="utf-8")
    return card
