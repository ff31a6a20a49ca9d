"""How long `discourse train` takes on 6,000 short real Dutch texts (the budget: the defaults ≤ 30 min, head ≤ 3).

    .venv/bin/python bench/train_speed.py [--n 6000] [--mode head|finetune] [--epochs N]

Without --mode and --epochs the command runs with `discourse train`'s own defaults.

The texts are NOS sentences of 5-20 words labelled with their article's first category (Binnenland, Buitenland,
Politiek, Economie, …): a real, noisy label set. The command is run as a user would, in a subprocess, and timed
end to end (loading, encoding, training, writing the model).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sentences import NOS  # noqa: E402  (puts the repo on sys.path)

from discourse.segment import sentence_texts


def labelled_sentences(n: int) -> list[tuple[str, str]]:
    rows = []
    for path in sorted(NOS.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            article = json.loads(line)
            label = (article.get("categories") or ["?"])[0]
            for sentence in sentence_texts(article.get("text") or ""):
                if 5 <= len(sentence.split()) <= 20:
                    rows.append((sentence, label))
                    if len(rows) == n:
                        return rows
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--mode", choices=("head", "finetune"), help="default: the command's default")
    parser.add_argument("--epochs", type=int, help="default: the command's default")
    args = parser.parse_args()
    rows = labelled_sentences(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.csv"
        with open(data, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        command = [sys.executable, "-m", "discourse.cli", "train", "--data", str(data), "--text-column", "text",
                   "--label-column", "label", "--out", str(Path(tmp) / "model"), "--seed", "0"]
        command += ["--mode", args.mode] if args.mode else []
        command += ["--epochs", str(args.epochs)] if args.epochs else []
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    print("\n".join(line for line in result.stderr.splitlines() if "dev accuracy" in line or "epoch" in line
                    or "rows:" in line))
    flags = " ".join(command[command.index("--seed"):])
    print(f"discourse train {flags} on {len(rows)} texts: {seconds / 60:.1f} min "
          f"(exit code {result.returncode})")
    if result.returncode:
        print(result.stderr[-2000:])
        raise SystemExit(result.returncode)


if __name__ == "__main__":
    main()
