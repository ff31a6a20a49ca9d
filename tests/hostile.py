"""A hostile archive: good Dutch articles in JSONL, a cp1252 CSV export and Parquet, with one bad record of each
kind among them, and the outcome each record must have. Shared by tests/test_score_archive.py (about 200 good
records) and bench/hostile_archive.py (1,000).

    expected = write_hostile_archive(folder, good_articles(200))
    expected.scored      # document ids that must be scored, once each
    expected.rejected    # (file name, line or row) -> reason code, each to be rejected once
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from discourse.ingest import content_id

ENGLISH = ("This is an English article about the weather in London and the price of tea, which no Dutch model "
           "should score at all, whatever it says.")
OTHER_TEXT = ("Een heel ander artikel dat toevallig hetzelfde id draagt: de gemeenteraad besprak gisteren de "
              "nieuwe parkeerregels in het centrum en de kosten van de vernieuwde markt.")


@dataclass
class Expected:
    scored: set[str] = field(default_factory=set)
    rejected: dict[tuple[str, int], str] = field(default_factory=dict)


def good_articles(n: int) -> list[dict]:
    """`n` distinct Dutch articles of three authored training units each (units reused in other combinations
    when n is larger than the corpus allows; every text is still distinct)."""
    from discourse.training.corpus import load_units

    units = [u.text for u in load_units() if u.split == "train"]
    m = len(units)
    return [{"id": f"art-{i}", "title": f"Artikel {i}", "date": "5 maart 2024", "rubriek": "binnenland",
             "text": " ".join(units[(i * k + j) % m] for j, k in ((0, 3), (1, 7), (2, 11)))}
            for i in range(n)]


def write_hostile_archive(folder: Path, good: list[dict]) -> Expected:
    folder.mkdir(parents=True, exist_ok=True)
    expected = Expected()
    n = len(good)
    in_jsonl, in_csv, in_parquet = good[: n * 7 // 10], good[n * 7 // 10: n * 9 // 10], good[n * 9 // 10:]
    _jsonl(folder / "a-news.jsonl", in_jsonl, expected)
    _csv(folder / "b-export.csv", in_csv, expected)
    _parquet(folder / "c-extra.parquet", in_parquet, expected)
    _second_archive(folder / "d-other-paper.jsonl", in_jsonl, expected)
    return expected


def _jsonl(path: Path, good: list[dict], expected: Expected) -> None:
    text = good[0]["text"]
    twin = {"title": "Zonder id", "text": good[1]["text"] + " Een extra zin zonder id."}
    bad = [  # (raw line, reason code or None for a record that must be scored, its id)
        ('{"id": "bad-surrogate", "text": "' + text[:200].replace('"', "'") + ' \\ud800"}', "not_utf8", None),
        (json.dumps({"id": "bad-surrogate-title", "text": text})[:-1] + ', "title": "kop \\udfff"}', "not_utf8", None),
        (json.dumps({"id": "bad-nul-title", "title": "kop\x00", "text": text}), "nul_character", None),
        (json.dumps({"id": "bad-nul-url", "url": "https://x.nl/\x00", "text": text}), "nul_character", None),
        (json.dumps({"id": "bad-nul-text", "text": text + "\x00"}), "nul_character", None),
        ("{dit is geen json", "invalid_json", None),
        (b'{"id": "bad-bytes", "text": "caf\xe9"}', "not_utf8", None),
        (json.dumps({"id": "bad-empty", "text": "   "}), "empty_text", None),
        (json.dumps({"id": "bad-english", "text": ENGLISH}), "not_dutch", None),
        (json.dumps({"id": "bad-long", "text": "woord " * 20_000}), "too_long", None),
        # the same id as the first article, another text: a conflict, not "already scored"
        (json.dumps({"id": good[0]["id"], "text": OTHER_TEXT}), "id_conflict", None),
        # a byte-order mark on a later line (files joined with cat): an ordinary record
        ("\ufeff" + json.dumps({"id": "good-bom", "text": good[2]["text"] + " Met een BOM ervoor."}), None,
         "good-bom"),
        # an article without id, then the same article with invisible characters: one content id, one document
        (json.dumps(twin, ensure_ascii=False), None, content_id(twin["text"], twin["title"])),
        (json.dumps({"title": "\ufeffZonder\u200b id", "text": "\u200b" + twin["text"].replace(" ", " \u2060", 3)},
                    ensure_ascii=False), None, None),
    ]
    lines: list[bytes] = []
    every = max(1, len(good) // (len(bad) + 1))
    queue = list(bad)
    for i, article in enumerate(good):
        lines.append(json.dumps(article, ensure_ascii=False).encode("utf-8"))
        expected.scored.add(article["id"])
        if i % every == every - 1 and queue:
            raw, code, doc_id = queue.pop(0)
            lines.append(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
            if code:
                expected.rejected[(path.name, len(lines))] = code
            if doc_id:
                expected.scored.add(doc_id)
    assert not queue, "too few good articles to place every bad one"
    path.write_bytes(b"\n".join(lines) + b"\n")


def _csv(path: Path, good: list[dict], expected: Expected) -> None:
    """Excel's CSV in a Dutch locale: cp1252, semicolons; accented words in every row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["id", "tekst", "titel", "datum"])
    line = 1
    for i, article in enumerate(good):
        text = article["text"] + " De crèche en het café van de geëngageerde ouders."
        writer.writerow([article["id"], text, article["title"], "05-03-2024"])
        line += 1
        expected.scored.add(article["id"])
        if i == len(good) // 2:
            writer.writerow(["bad-csv-nul", text + "\x00", "kop", "05-03-2024"])
            line += 1
            expected.rejected[(path.name, line)] = "nul_character"
    path.write_bytes(buffer.getvalue().encode("cp1252", "replace"))


def _parquet(path: Path, good: list[dict], expected: Expected) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids, texts = [], []
    for i, article in enumerate(good):
        ids.append(article["id"])
        texts.append(article["text"].encode("utf-8"))
        expected.scored.add(article["id"])
        if i == 1:  # a string column written without UTF-8 validation: one row is not UTF-8, one holds NUL
            ids += ["bad-parquet-bytes", "bad-parquet-nul"]
            texts += [article["text"].encode("utf-8") + b" caf\xe9", article["text"].encode("utf-8") + b"\x00"]
            expected.rejected[(path.name, len(ids) - 1)] = "not_utf8"
            expected.rejected[(path.name, len(ids))] = "nul_character"
    column = pa.array(texts, type=pa.binary()).view(pa.string())
    pq.write_table(pa.table({"id": ids, "text": column}), path)


def _second_archive(path: Path, first: list[dict], expected: Expected) -> None:
    """Another paper's export that reuses ids: one with another text (a conflict), one with the same text (the
    same document: already scored, not rejected)."""
    rows = [{"id": first[3]["id"], "text": OTHER_TEXT + " Tweede krant.", "source": "andere-krant"},
            {"id": first[4]["id"], "text": first[4]["text"], "source": "andere-krant"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    expected.rejected[(path.name, 1)] = "id_conflict"
