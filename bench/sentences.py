"""Real Dutch sentences for benchmarks, drawn from ../shared/corpora (never copied into the repository)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from discourse.segment import sentence_texts  # noqa: E402
from discourse.settings import SHARED_CORPORA  # noqa: E402

NOS = SHARED_CORPORA / "nos-wedemeyer"


def merge_result(path: Path, key: str, result: dict) -> None:
    """Store `result` under `key` in the JSON file `path`, keeping the other keys (one file per benchmark, one
    key per measurement)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(path.read_text()) if path.exists() else {}
    results[key] = result
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def nos_sentences(n: int, min_words: int = 5, max_words: int = 60) -> list[str]:
    """The first `n` sentences of 5-60 words from the NOS articles, in file order (deterministic)."""
    if not NOS.is_dir():
        raise SystemExit(f"benchmark needs {NOS} (the shared NOS corpus); it is not there")
    out: list[str] = []
    for path in sorted(NOS.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                article = json.loads(line)
                for sentence in sentence_texts(article.get("text") or ""):
                    if min_words <= len(sentence.split()) <= max_words:
                        out.append(sentence)
                        if len(out) == n:
                            return out
    return out
