"""discourse.ingest: streaming archive reading (JSONL, CSV/TSV, Parquet, gzip), field mapping, dates, ids and the
rejection of bad records without stopping. Every input file is written by the test itself into tmp_path."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tracemalloc
import unicodedata
from pathlib import Path

import pytest

from discourse.ingest import (
    REASON_CODES,
    FieldMapping,
    IngestRecord,
    Rejection,
    content_id,
    estimate_records,
    expand_paths,
    parse_date,
    read_records,
)

ARTICLE = "De kraamzorg helpt jonge ouders in de eerste week na de geboorte."


def write_jsonl(path: Path, rows: list) -> Path:
    """rows: dicts (dumped as JSON), str (written as is) or bytes (written raw), one per line."""
    chunks = []
    for row in rows:
        if isinstance(row, bytes):
            chunks.append(row)
        elif isinstance(row, str):
            chunks.append(row.encode("utf-8"))
        else:
            chunks.append(json.dumps(row, ensure_ascii=False).encode("utf-8"))
    data = b"\n".join(chunks) + b"\n"
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def records(items) -> list[IngestRecord]:
    return [i for i in items if isinstance(i, IngestRecord)]


def rejections(items) -> list[Rejection]:
    return [i for i in items if isinstance(i, Rejection)]


# ------------------------------------------------------------------------------------------------ paths


def test_expand_paths_files_directories_globs_sorted_and_deduplicated(tmp_path):
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    wanted = [
        tmp_path / "a" / "x.jsonl", tmp_path / "a" / "deep" / "y.csv.gz", tmp_path / "a" / "z.parquet",
        tmp_path / "b" / "k.ndjson", tmp_path / "b" / "l.json.gz", tmp_path / "b" / "m.tsv",
        tmp_path / "b" / "n.csv", tmp_path / "b" / "o.jsonl.gz",
    ]
    for path in wanted:
        path.write_bytes(b"")
    (tmp_path / "a" / "notes.txt").write_text("not an archive")
    (tmp_path / "a" / ".hidden.jsonl").write_text("")
    (tmp_path / "b" / "plain.json").write_text("[]")

    specs = [str(tmp_path / "b" / "*"), str(tmp_path / "a"), str(tmp_path / "a" / "x.jsonl"),
             str(tmp_path / "b" / "n.csv")]
    got = expand_paths(specs)
    assert [p.resolve() for p in got] == sorted((p.resolve() for p in wanted), key=str)
    # deterministic: the order of the specs does not matter
    assert [p.resolve() for p in expand_paths(list(reversed(specs)))] == [p.resolve() for p in got]
    # recursive glob
    assert {p.name for p in expand_paths([str(tmp_path / "**" / "*.csv*")])} == {"y.csv.gz", "n.csv"}


def test_expand_paths_reports_the_spec_that_matches_nothing(tmp_path):
    (tmp_path / "ok.jsonl").write_text("")
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        expand_paths([str(tmp_path / "ok.jsonl"), str(tmp_path / "missing.jsonl")])
    with pytest.raises(FileNotFoundError, match=r"nothing-\*\.csv"):
        expand_paths([str(tmp_path / "nothing-*.csv")])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("")
    with pytest.raises(FileNotFoundError, match="empty"):
        expand_paths([str(tmp_path / "empty")])
    (tmp_path / "notes.docx").write_text("")
    with pytest.raises(ValueError, match="notes.docx"):
        expand_paths([str(tmp_path / "notes.docx")])


# ------------------------------------------------------------------------------------------------ formats


@pytest.mark.parametrize("name", ["a.jsonl", "a.ndjson", "a.jsonl.gz", "a.json.gz"])
def test_jsonl_plain_and_gzip(tmp_path, name):
    path = write_jsonl(tmp_path / name, [
        {"id": "n1", "text": ARTICLE, "title": "Kraamzorg", "date": "2024-03-05", "source": "NRC",
         "url": "https://example.nl/1", "section": "binnenland"},
        "",  # a blank line is not a record, but it still counts for the line numbers
        {"id": 2, "text": "Tweede artikel over ouderschap.", "date": "5 maart 2024"},
    ])
    items = list(read_records([path]))
    assert rejections(items) == []
    first, second = items
    assert (first.id, first.title, first.published, first.source, first.url) == (
        "n1", "Kraamzorg", dt.date(2024, 3, 5), "NRC", "https://example.nl/1")
    assert first.meta == {"section": "binnenland"}
    assert (first.path, first.position) == (str(path), 1)
    assert (second.id, second.position, second.published, second.title) == ("2", 3, dt.date(2024, 3, 5), None)


@pytest.mark.parametrize("name, delimiter", [("a.csv", ","), ("a.csv.gz", ","), ("a.tsv", "\t"),
                                             ("semicolon.csv", ";")])
def test_csv_and_tsv_with_quoted_newlines_and_editor_line_numbers(tmp_path, name, delimiter):
    d = delimiter
    text = (f"id{d}text{d}datum{d}rubriek\r\n"
            f'1{d}"Eerste regel\nTweede regel{d} met scheidingsteken"{d}05-03-2024{d}opinie\r\n'
            f"2{d}{ARTICLE}{d}maart 2024{d}nieuws\r\n")
    path = write_bytes(tmp_path / name, text.encode("utf-8"))
    items = list(read_records([path]))
    assert rejections(items) == []
    first, second = items
    assert first.text == f"Eerste regel\nTweede regel{d} met scheidingsteken"
    assert first.published == dt.date(2024, 3, 5)
    assert first.meta == {"rubriek": "opinie"}
    # the header is line 1; the second record starts on line 4 because the first spans lines 2-3
    assert (first.position, second.position) == (2, 4)
    assert second.published == dt.date(2024, 3, 1)


def test_csv_with_byte_order_mark_and_missing_optional_values(tmp_path):
    path = write_bytes(tmp_path / "bom.csv", "\ufeffid,text,title\n,Zonder id en titel.,\n".encode("utf-8"))
    (record,) = list(read_records([path]))
    assert record.title is None
    assert record.id_generated and record.id == content_id("Zonder id en titel.")


def test_parquet_in_batches_with_typed_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = 2500  # more than two batches of 1024
    table = pa.table({
        "id": [f"p{i}" for i in range(n)],
        "body": [f"Artikel {i} over jonge ouders." for i in range(n)],
        "published": pa.array([dt.datetime(2024, 3, 5, 10, 0)] * n, type=pa.timestamp("s")),
        "views": list(range(n)),
        "fetched": pa.array([dt.datetime(2024, 4, 1, 12, 30)] * n, type=pa.timestamp("ms")),
    })
    path = tmp_path / "archive.parquet"
    pq.write_table(table, path, row_group_size=700)
    items = list(read_records([path]))
    assert rejections(items) == [] and len(items) == n
    assert [r.position for r in items] == list(range(1, n + 1))
    last = items[-1]
    assert (last.id, last.text, last.published) == ("p2499", "Artikel 2499 over jonge ouders.", dt.date(2024, 3, 5))
    assert last.meta == {"views": 2499, "fetched": "2024-04-01T12:30:00"}
    json.dumps(last.meta)  # meta must be JSON-serialisable


def test_directory_and_glob_mixed_formats_in_sorted_order(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    archive = tmp_path / "archive"
    (archive / "2024").mkdir(parents=True)
    write_jsonl(archive / "2024" / "a.jsonl.gz", [{"id": "a", "text": "Artikel a."}])
    write_bytes(archive / "b.csv", b"id,text\nb,Artikel b.\n")
    pq.write_table(pa.table({"id": ["c"], "text": ["Artikel c."]}), archive / "c.parquet")
    write_jsonl(tmp_path / "extra-1.jsonl", [{"id": "d", "text": "Artikel d."}])
    (archive / "README.txt").write_text("geen artikelen")

    paths = expand_paths([str(archive), str(tmp_path / "extra-*.jsonl")])
    assert [r.id for r in read_records(paths)] == ["a", "b", "c", "d"]


# ------------------------------------------------------------------------------------------------ mapping


def test_field_mapping_tries_common_alternatives(tmp_path):
    path = write_jsonl(tmp_path / "alt.jsonl", [
        {"body": "Tekst uit body.", "titel": "Een titel", "datum": "5 mrt. 2024", "bron": "Trouw", "link": "u1"},
        {"content": "Tekst uit content.", "headline": "Kop", "published": 1709632800},
        {"tekst": "Tekst uit tekst.", "pubdate": "20240305", "Title": "Hoofdletters"},
        {"Text": "Kolomnaam met hoofdletter.", "DATE": "05-03-2024"},
        {"text_fr": "Texte en français.", "text_nl": "De Nederlandse kant.", "date": "2024-03-05"},
    ])
    items = list(read_records([path]))
    assert rejections(items) == []
    assert [r.text for r in items] == ["Tekst uit body.", "Tekst uit content.", "Tekst uit tekst.",
                                       "Kolomnaam met hoofdletter.", "De Nederlandse kant."]
    assert [r.title for r in items] == ["Een titel", "Kop", "Hoofdletters", None, None]
    assert all(r.published == dt.date(2024, 3, 5) for r in items)
    assert (items[0].source, items[0].url, items[0].meta) == ("Trouw", "u1", {})


def test_explicit_field_mapping_from_cli_string(tmp_path):
    mapping = FieldMapping.parse("text=artikel_tekst, date=pub_date,id=nummer")
    assert (mapping.text, mapping.date, mapping.id, mapping.title) == ("artikel_tekst", "pub_date", "nummer", "title")
    path = write_jsonl(tmp_path / "m.jsonl", [
        {"nummer": 7, "artikel_tekst": "Het gekozen veld.", "pub_date": "2024-03-05", "body": "niet dit",
         "text": "ook niet dit"},
        {"nummer": 8, "body": "Alleen body: met een expliciete mapping geen terugval."},
    ])
    first, second = list(read_records([path], mapping))
    assert (first.id, first.text, first.published) == ("7", "Het gekozen veld.", dt.date(2024, 3, 5))
    assert first.meta == {"body": "niet dit", "text": "ook niet dit"}
    assert isinstance(second, Rejection) and second.reason_code == "missing_text" and second.record_id == "8"
    assert "artikel_tekst" in second.reason

    assert FieldMapping.parse("") == FieldMapping()
    for bad in ("text", "tekst=body", "text=", "text=a,text=b"):
        with pytest.raises(ValueError):
            FieldMapping.parse(bad)


def test_unparseable_date_keeps_the_record_and_the_raw_value(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "x", "text": ARTICLE, "date": "ergens vorig jaar"}])
    (record,) = list(read_records([path]))
    assert record.published is None
    assert record.meta == {"date": "ergens vorig jaar"}


# ------------------------------------------------------------------------------------------------ ids


def test_content_ids_are_stable_and_ignore_whitespace_and_unicode_composition():
    base = content_id("Een kind krijgen is een grote stap.", title="Ouderschap", source="NRC")
    assert base.startswith("sha256:") and len(base) == len("sha256:") + 24
    assert base == content_id("  Een kind krijgen\n is een   grote\tstap. ", title=" Ouderschap ", source="NRC")
    assert base == "sha256:" + __import__("hashlib").sha256(
        "NRC\x1fOuderschap\x1fEen kind krijgen is een grote stap.".encode()).hexdigest()[:24]
    assert base != content_id("Een kind krijgen is een grote stap.", title="Ouderschap", source="Trouw")
    assert base != content_id("Een kind krijgen is een kleine stap.", title="Ouderschap", source="NRC")
    composed, decomposed = "café", unicodedata.normalize("NFD", "café")
    assert composed != decomposed and content_id(composed) == content_id(decomposed)


def test_records_without_id_get_the_content_id(tmp_path):
    path = write_jsonl(tmp_path / "noid.jsonl", [{"text": ARTICLE, "title": "T"}, {"text": "  " + ARTICLE + "\n",
                                                                                   "title": "T", "id": ""}])
    first, second = list(read_records([path]))
    assert first.id == second.id == content_id(ARTICLE, "T") and first.id_generated


# ------------------------------------------------------------------------------------------------ rejections


def test_every_bad_jsonl_record_is_rejected_and_reading_continues(tmp_path):
    good = {"id": "ok", "text": ARTICLE}
    path = write_jsonl(tmp_path / "bad.jsonl", [
        good,
        "{not json",
        {**good, "id": "after-invalid"},
        "[1, 2, 3]",
        {**good, "id": "after-array"},
        b'{"id": "latin1", "text": "caf\xe9"}',
        {**good, "id": "after-bytes"},
        {"id": "m", "body_text": "wrong field"},
        {"id": "e", "text": "   "},
        {"id": "n", "text": 42},
        {"id": "null", "text": None},
        {"id": "big", "text": "x" * (5 * 1024 * 1024)},
        {**good, "id": "last"},
    ])
    items = list(read_records([path]))
    summary = [(i.position, i.reason_code if isinstance(i, Rejection) else i.id) for i in items]
    assert summary == [
        (1, "ok"), (2, "invalid_json"), (3, "after-invalid"), (4, "not_an_object"), (5, "after-array"),
        (6, "not_utf8"), (7, "after-bytes"), (8, "missing_text"), (9, "empty_text"), (10, "text_not_string"),
        (11, "missing_text"), (12, "too_long"), (13, "last"),
    ]
    by_code = {r.reason_code: r for r in rejections(items)}
    too_long = by_code["too_long"]
    assert too_long.record_id == "big" and "100,000" in too_long.reason and "5,242,880" in too_long.reason
    assert len(too_long.excerpt) == 300
    assert by_code["not_utf8"].excerpt.startswith('{"id": "latin1"')
    assert by_code["text_not_string"].record_id == "n"
    missing = [r for r in rejections(items) if r.reason_code == "missing_text"]
    assert "body_text" in missing[0].reason  # the reason lists the fields that are there
    assert "null" in missing[1].reason
    assert all(r.path == str(path) and r.reason for r in rejections(items))


def test_bad_csv_rows_are_rejected_one_by_one(tmp_path):
    # A UTF-8 file (its accented words are valid UTF-8) with one stray byte that is not: that row alone goes.
    data = (b"id,text,date\n"
            + "1,Goede rij: café en reeën bij de ruïne.,2024-03-05\n".encode()
            + b"2,Te veel,velden,hier,2024-03-05\n"
            b"3,Na de kapotte rij.,\n"
            b"4,Niet utf-8: caf\xe9,2024-03-05\n"
            b'5,"Quote"kapot,2024-03-05\n'
            b"6,,2024-03-05\n"
            b"7," + b"y" * (5 * 1024 * 1024) + b",2024-03-05\n"
            b"8,Laatste rij.,5/3/2024\n")
    path = write_bytes(tmp_path / "bad.csv.gz", data)
    items = list(read_records([path]))
    summary = [(i.position, i.reason_code if isinstance(i, Rejection) else i.id) for i in items]
    assert summary == [(2, "1"), (3, "invalid_csv"), (4, "3"), (5, "not_utf8"), (6, "invalid_csv"),
                       (7, "empty_text"), (8, "too_long"), (9, "8")]
    assert items[-1].published == dt.date(2024, 3, 5)
    assert "caf\ufffd" in items[3].excerpt  # the bad byte is shown, not carried as a lone surrogate
    json.dumps([r.__dict__ for r in rejections(items)])


def test_unreadable_files_give_one_rejection_and_the_next_file_is_read(tmp_path):
    corrupt_gz = tmp_path / "a-corrupt.jsonl.gz"
    corrupt_gz.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage, not deflate" * 10)
    truncated = tmp_path / "b-truncated.jsonl.gz"
    whole = gzip.compress(b"\n".join(json.dumps({"id": f"t{i}", "text": ARTICLE}).encode() for i in range(2000)))
    truncated.write_bytes(whole[: len(whole) // 2])
    not_parquet = tmp_path / "c-broken.parquet"
    not_parquet.write_bytes(b"PAR1 this is not a parquet file")
    good = write_jsonl(tmp_path / "d-good.jsonl", [{"id": "good", "text": ARTICLE}])

    items = list(read_records([corrupt_gz, truncated, not_parquet, tmp_path / "e-gone.jsonl", good]))
    unreadable = [r for r in rejections(items) if r.reason_code == "unreadable_file"]
    assert [Path(r.path).name for r in unreadable] == ["a-corrupt.jsonl.gz", "b-truncated.jsonl.gz",
                                                       "c-broken.parquet", "e-gone.jsonl"]
    assert all(r.reason for r in unreadable)
    assert items[-1].id == "good"
    # what could be read from the truncated file before the cut was yielded
    assert any(isinstance(i, IngestRecord) and i.id.startswith("t") for i in items)


def test_every_reason_code_is_exercised():
    # The tests above craft one bad record per code; keep this list and REASON_CODES in step.
    assert set(REASON_CODES) == {"invalid_json", "not_an_object", "invalid_csv", "not_utf8", "missing_text",
                                 "empty_text", "text_not_string", "too_long", "unreadable_file", "nul_character",
                                 "path_not_allowed", "record_error"}


def test_lone_surrogates_and_nul_characters_in_any_field_are_rejected_in_every_format(tmp_path):
    good = {"id": "ok", "text": ARTICLE}
    # JSON escapes: "\ud800" parses to a lone surrogate, "\u0000" to NUL; neither can be stored.
    path = write_jsonl(tmp_path / "bad.jsonl", [
        good,
        '{"id": "s-text", "text": "Een moeder \\ud800 schrijft."}',
        '{"id": "s-title", "text": "Goede tekst.", "title": "kop \\udfff"}',
        '{"id": "s-meta", "text": "Goede tekst.", "extra": {"deep": ["\\udc80"]}}',
        '{"id": "s-key", "text": "Goede tekst.", "sleutel\\ud83d": 1}',
        '{"id": "s-id-\\ud800", "text": "Goede tekst."}',
        '{"id": "n-title", "text": "Goede tekst.", "title": "kop\\u0000"}',
        '{"id": "n-url", "text": "Goede tekst.", "url": "https://x.nl/\\u0000"}',
        '{"id": "n-source", "text": "Goede tekst.", "source": "\\u0000bron"}',
        '{"id": "n-text", "text": "tekst\\u0000"}',
        '{"id": "pair", "text": "Een emoji \\ud83d\\ude00 is een geldig paar."}',
        '{"id": "deep", "text": "Goede tekst.", "x": ' + "[" * 900 + "]" * 900 + "}",
        {**good, "id": "last"},
    ])
    items = list(read_records([path]))
    summary = [(i.position, i.reason_code if isinstance(i, Rejection) else i.id) for i in items]
    assert summary == [(1, "ok"), (2, "not_utf8"), (3, "not_utf8"), (4, "not_utf8"), (5, "not_utf8"),
                       (6, "not_utf8"), (7, "nul_character"), (8, "nul_character"), (9, "nul_character"),
                       (10, "nul_character"), (11, "pair"), (12, summary[11][1]), (13, "last")]
    # JSON nested 900 deep parses; walking it may hit the recursion limit, depending on the stack: then it is a
    # record_error, never an exception that ends the file.
    assert summary[11][1] in ("deep", "record_error")
    bad = rejections(items)
    assert "'title'" in bad[1].reason and "'extra.deep[0]'" in bad[2].reason and "'url'" in bad[6].reason
    # Every rejection can be printed, stored and sent as JSON: no surrogate survives into it.
    for rejection in bad:
        json.dumps(rejection.__dict__, ensure_ascii=False).encode("utf-8")

    csv_path = write_bytes(tmp_path / "bad.csv", b"id,text,title\n1,Goede rij.,kop\n2,Met NUL\x00 erin.,kop\n"
                                                 b"3,Goede tekst.,kop\x00\n4,Laatste rij.,kop\n")
    summary = [(i.position, i.reason_code if isinstance(i, Rejection) else i.id)
               for i in read_records([csv_path])]
    assert summary == [(2, "1"), (3, "nul_character"), (4, "nul_character"), (5, "4")]

    import pyarrow as pa
    import pyarrow.parquet as pq

    # A string column Arrow wrote without validating it: one row is not UTF-8, one holds a NUL.
    texts = pa.array([b"Goede rij.", b"caf\xe9 kapot", b"met\x00nul", b"Laatste rij."], type=pa.binary())
    pq.write_table(pa.table({"id": ["p1", "p2", "p3", "p4"], "text": texts.view(pa.string())},),
                   tmp_path / "bad.parquet")
    summary = [(i.position, i.reason_code if isinstance(i, Rejection) else i.id)
               for i in read_records([tmp_path / "bad.parquet"])]
    assert summary == [(1, "p1"), (2, "not_utf8"), (3, "nul_character"), (4, "p4")]


def test_a_cp1252_csv_is_read_as_cp1252_and_recorded(tmp_path):
    text = "Een moeder voelt zich schuldig: ze krijgt het advies van de vroedvrouw niet toegepast, zegt ze."
    rows = [f"{i};{text} Café nummer {i} à la crème, reeën en ruïnes.;5/3/2024" for i in range(50)]
    path = write_bytes(tmp_path / "export.csv", ("id;tekst;datum\n" + "\n".join(rows) + "\n").encode("cp1252"))
    encodings: dict[str, str] = {}
    items = list(read_records([path], encodings=encodings))
    assert not rejections(items) and len(records(items)) == 50
    assert records(items)[3].text.endswith("Café nummer 3 à la crème, reeën en ruïnes.")
    assert encodings == {str(path): "cp1252"}
    # The same rows in UTF-8 are read as UTF-8, and nothing is recorded for them.
    utf8 = write_bytes(tmp_path / "export-utf8.csv.gz", ("id;tekst;datum\n" + "\n".join(rows) + "\n").encode())
    encodings.clear()
    assert [r.text for r in records(read_records([utf8], encodings=encodings))] == [r.text for r in records(items)]
    assert encodings == {}


def test_a_byte_order_mark_on_a_later_jsonl_line_is_dropped(tmp_path):
    # Two exports joined with `cat`: each brought its own byte-order mark.
    data = ("\ufeff" + json.dumps({"id": "a", "text": ARTICLE}) + "\n"
            + "\ufeff" + json.dumps({"id": "b", "text": ARTICLE}) + "\n").encode("utf-8")
    path = write_bytes(tmp_path / "joined.jsonl.gz", data)
    assert [i.id for i in read_records([path])] == ["a", "b"]


def test_content_ids_ignore_invisible_characters():
    plain = content_id("Een kind krijgen is een grote stap.", title="Ouderschap", source="NRC")
    assert plain == content_id("\ufeffEen kind\u200b krijgen is een gro\u00adte stap.\u2060",
                               title="Ouder\u200dschap\u200c", source="\ufeffNRC")
    # an invisible character between a letter and its combining accent does not block composition
    assert content_id("cafe\u200b\u0301") == content_id("café")


def test_reading_confined_to_roots_refuses_links_out_and_special_files(tmp_path):
    import os

    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    outside = write_jsonl(tmp_path / "geheim.jsonl", [{"id": "geheim", "text": "niet van jou"}])
    write_jsonl(root / "a-good.jsonl", [{"id": "good", "text": ARTICLE}])
    write_jsonl(root / "sub" / "inner.jsonl", [{"id": "inner", "text": ARTICLE}])
    (root / "b-link-out.jsonl").symlink_to(outside)
    (root / "c-environ.jsonl").symlink_to("/proc/self/environ")
    (root / "d-link-in.jsonl").symlink_to(root / "sub" / "inner.jsonl")  # inside the root: fine
    os.mkfifo(root / "e-fifo.jsonl")
    (root / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    files = [root / name for name in ("a-good.jsonl", "b-link-out.jsonl", "c-environ.jsonl", "d-link-in.jsonl",
                                      "e-fifo.jsonl", "linked-dir/geheim.jsonl")]
    items = list(read_records(files, roots=[root]))
    assert [i.id for i in records(items)] == ["good", "inner"]
    refused = rejections(items)
    assert [Path(r.path).name for r in refused] == ["b-link-out.jsonl", "c-environ.jsonl", "e-fifo.jsonl",
                                                    "geheim.jsonl"]
    assert all(r.reason_code == "path_not_allowed" and r.excerpt == "" and r.position == 0 for r in refused)
    assert "outside the data roots" in refused[0].reason and "not a regular file" in refused[2].reason
    # Not confined (the command line, where the user names their own files): links are followed.
    assert [i.id for i in records(read_records(files[:2]))] == ["good", "geheim"]


# ------------------------------------------------------------------------------------------------ memory


def test_reading_a_large_jsonl_file_uses_constant_memory(tmp_path):
    n = 200_000
    path = tmp_path / "big.jsonl"
    line = ('{"id": "%d", "text": "Artikel %d over kraamzorg, slapeloze nachten en de eerste weken met een baby.",'
            ' "date": "2024-03-05", "source": "Test"}\n')
    with open(path, "w", encoding="utf-8") as out:
        for start in range(0, n, 10_000):
            out.write("".join(line % (i, i) for i in range(start, start + 10_000)))
    assert path.stat().st_size > 20_000_000

    # tracemalloc slows every allocation several-fold, so it traces the second half of the file only: whatever
    # reading kept per record (a list, a cache, a buffer) would show up as growth over those 100,000 records. The
    # real peak is a few kilobytes.
    count = 0
    try:
        for item in read_records([path]):
            assert isinstance(item, IngestRecord)
            count += 1
            if count == n // 2:
                tracemalloc.start()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# ------------------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize("value, expected", [
    ("2024-03-05", dt.date(2024, 3, 5)),
    ("2024-03-05T10:00:00Z", dt.date(2024, 3, 5)),
    ("2024-03-05T23:30:00+01:00", dt.date(2024, 3, 5)),  # the date as written, not converted to UTC
    ("2024-03-05 10:00:00", dt.date(2024, 3, 5)),
    ("20240305", dt.date(2024, 3, 5)),
    (20240305, dt.date(2024, 3, 5)),
    ("2024/03/05", dt.date(2024, 3, 5)),
    (1709632800, dt.date(2024, 3, 5)),            # Unix seconds
    (1709632800.5, dt.date(2024, 3, 5)),
    (1709632800000, dt.date(2024, 3, 5)),         # Unix milliseconds
    ("1709632800", dt.date(2024, 3, 5)),
    ("5 maart 2024", dt.date(2024, 3, 5)),
    ("5 mrt. 2024", dt.date(2024, 3, 5)),
    ("5 mrt 2024", dt.date(2024, 3, 5)),
    ("dinsdag 5 maart 2024", dt.date(2024, 3, 5)),
    ("Dinsdag, 5 Maart 2024 10:15", dt.date(2024, 3, 5)),
    ("di 5 mrt 2024", dt.date(2024, 3, 5)),
    ("17 oktober 2023", dt.date(2023, 10, 17)),
    ("1 mei 2024", dt.date(2024, 5, 1)),
    ("05-03-2024", dt.date(2024, 3, 5)),          # day first
    ("5/3/2024", dt.date(2024, 3, 5)),            # day first
    ("13-12-2023", dt.date(2023, 12, 13)),
    ("5.3.2024", dt.date(2024, 3, 5)),
    ("maart 2024", dt.date(2024, 3, 1)),          # month only: the first of the month
    ("okt. 2023", dt.date(2023, 10, 1)),
    ("March 5, 2024", dt.date(2024, 3, 5)),
    ("5 March 2024", dt.date(2024, 3, 5)),
    ("Tuesday 5th March 2024", dt.date(2024, 3, 5)),
    ("Tue, 05 Mar 2024 10:00:00 +0100", dt.date(2024, 3, 5)),  # RSS
    ("May 2024", dt.date(2024, 5, 1)),
    (dt.datetime(2024, 3, 5, 10), dt.date(2024, 3, 5)),
    (dt.date(2024, 3, 5), dt.date(2024, 3, 5)),
    # garbage and missing values: None, never an exception
    ("garbage", None),
    ("editie 12", None),
    ("31-02-2024", None),
    ("2024-13-01", None),
    ("32 maart 2024", None),
    ("5 blurp 2024", None),
    ("", None),
    ("   ", None),
    (None, None),
    (True, None),
    (float("nan"), None),
    (float("inf"), None),
    (10 ** 30, None),
    ([2024, 3, 5], None),
    ({"date": "2024-03-05"}, None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_estimate_records_counts_lines_rows_and_parquet_metadata(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "a.jsonl").write_text('{"text": "een"}\n{"text": "twee"}\n{"text": "drie"}', encoding="utf-8")
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write('{"text": "vier"}\n' * 5)
    (tmp_path / "c.csv").write_text("id,text\n1,vijf\n2,zes\n", encoding="utf-8")
    pq.write_table(pa.table({"text": ["zeven"] * 7}), tmp_path / "d.parquet")
    (tmp_path / "e.jsonl.gz").write_bytes(b"not gzip at all")  # unreadable: counts 0, the run reports it
    files = sorted(tmp_path.iterdir())
    assert estimate_records(files) == 3 + 5 + 2 + 7
    assert sum(1 for _ in read_records(files[:4])) == 3 + 5 + 2 + 7  # here the estimate is exact


def test_the_length_limit_follows_discourse_max_chars(tmp_path, monkeypatch):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "lang", "text": "Een zin over de kinderopvang. " * 10}) + "\n", encoding="utf-8")
    assert isinstance(next(read_records([path])), IngestRecord)  # 300 characters: under the default
    monkeypatch.setenv("DISCOURSE_MAX_CHARS", "200")
    rejected = next(read_records([path]))
    assert isinstance(rejected, Rejection) and rejected.reason_code == "too_long" and "200" in rejected.reason
