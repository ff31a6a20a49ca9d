import json

from discourse.ingest.readers import read_jsonl
from discourse.ingest.records import Rejection, check_record


def test_each_bad_line_gets_its_own_reason(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 1, "text": "Een goede zin."}).encode(),
        b"{not json",
        json.dumps({"id": 3}).encode(),
        json.dumps({"id": 4, "text": "   "}).encode(),
        b'{"id": 5, "text": "caf\xe9 zonder utf-8"}',
        json.dumps([1, 2]).encode(),
        json.dumps({"id": 7, "text": 42}).encode(),
        b"",
        json.dumps({"id": 9, "text": "x" * 100_001}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = list(read_jsonl(path))
    assert len(out) == 9
    assert out[0] == {"id": 1, "text": "Een goede zin."}
    reasons = [o.reason for o in out[1:]]
    assert all(isinstance(o, Rejection) for o in out[1:])
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1] == 'missing field "text"'
    assert "empty" in reasons[2]
    assert "UTF-8" in reasons[3]
    assert "not a JSON object" in reasons[4]
    assert "must be a string" in reasons[5]
    assert reasons[6] == "empty line"
    assert "100,001 characters" in reasons[7] and "100,000" in reasons[7]
    assert [o.position for o in out[1:]] == list(range(2, 10))
    assert out[2].record == {"id": 3}  # fields survive so that the output row keeps the id


def test_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("DISCOURSE_MAX_CHARS", "10")
    assert isinstance(check_record({"text": "elf tekens!"}, 1), Rejection)
    assert check_record({"text": "tien tekens"[:10]}, 1) == {"text": "tien teken"}


def test_classify_input_shares_the_archive_line_loop(tmp_path):
    # A byte-order mark (Windows tools; one per part of files joined with `cat`) is not part of the record.
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": 1, "text": "Een zin."}\r\n\xef\xbb\xbf{"id": 2, "text": "Nog een."}\n')
    assert list(read_jsonl(path)) == [{"id": 1, "text": "Een zin."}, {"id": 2, "text": "Nog een."}]
