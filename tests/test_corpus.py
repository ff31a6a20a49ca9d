"""The corpus tooling: split rule, the leakage check that keeps paraphrases of test units out of training, and
dropping units from batch files."""

import json

import numpy as np

from discourse.training.corpus import Unit, drop_units, held_out_overlap, load_units, split_for_batch


def _unit(uid: str, text: str, split: str = "train") -> Unit:
    return Unit(uid, uid.split("-")[0], "interview", "nl-BE", text, True, "supportive", (), None, split)


def test_split_rule():
    assert split_for_batch("ita01") == "train"
    assert split_for_batch("ita07") == "train"
    assert split_for_batch("ita08") == "dev"
    assert split_for_batch("ita10") == "test"
    assert split_for_batch("ibe90") == "test"
    assert split_for_batch("irr05") == "dev"


def test_overlap_flags_paraphrase_by_shared_wording_and_by_cosine():
    held = [_unit("ima09-018", "'Vraag gewoon hulp', zeggen ze dan. Ah ja, aan wie? Mijn familie woont in Limburg.",
                  "test"),
            _unit("pbe09-001", "Het Groeipakket bestaat uit een startbedrag en een maandelijks bedrag.", "test")]
    candidates = [_unit("ita02-021", "'Vraag gewoon hulp', zei de vroedvrouw. Ah ja, aan wie? Mijn familie woont "
                                     "in Marokko."),
                  _unit("ita02-002", "Mijn moeder kwam twee weken inwonen en deed de nachten."),
                  _unit("ita02-003", "Een heel andere zin over slapen.")]
    held_emb = np.eye(3)[:2]
    # ita02-002 gets an embedding close to pbe09-001 (cosine 0.95), ita02-003 one far from both.
    cand_emb = np.array([[0.0, 0.0, 1.0], [0.312, 0.95, 0.0], [0.0, 0.0, 1.0]])
    cand_emb /= np.linalg.norm(cand_emb, axis=1, keepdims=True)
    flagged = {row["id"]: row for row in held_out_overlap(candidates, held, cand_emb, held_emb)}
    assert set(flagged) == {"ita02-021", "ita02-002"}
    assert flagged["ita02-021"]["nearest"] == "ima09-018" and flagged["ita02-021"]["shared_4grams"] >= 2
    assert flagged["ita02-002"]["nearest"] == "pbe09-001" and flagged["ita02-002"]["cosine"] > 0.92


def test_drop_units_removes_only_named_ids(tmp_path):
    batches = tmp_path / "batches"
    batches.mkdir()
    rows = [{"id": f"xyz01-00{i}", "text": f"zin {i}"} for i in range(1, 4)]
    (batches / "xyz01.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert drop_units({"xyz01-002", "nope-001"}, tmp_path) == 1
    kept = [json.loads(line)["id"] for line in (batches / "xyz01.jsonl").read_text(encoding="utf-8").splitlines()]
    assert kept == ["xyz01-001", "xyz01-003"]


def test_committed_corpus_meets_the_issue_minimums():
    units = load_units()
    relevant = [u for u in units if u.relevant]
    for genre in ("news", "policy", "interview"):
        for stance in ("supportive", "pressuring", "neutral"):
            assert sum(u.genre == genre and u.stance == stance for u in relevant) >= 150, (genre, stance)
    assert sum(not u.relevant for u in units) >= 300
    assert len({u.id for u in units}) == len(units)
