"""Inter-coder agreement (discourse/annotations/agreement.py): kappa and alpha against published worked examples,
the bootstrap intervals, the disagreement list, the command line on an exported file, and the corpus tool's kappas
(which now come from the same implementation) unchanged."""

from __future__ import annotations

import csv
import importlib
import json

import krippendorff
import numpy as np
import pytest
import typer
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from discourse.annotations.agreement import (agreement_report, bootstrap_alpha, bootstrap_kappa, dimension_agreement,
                                             disagreements, read_annotation_file, resample_weights)
from discourse.cli.agreement import agreement_command
from discourse.settings import REPO_ROOT

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", C: nominal data, 4 observers, 12 units, missing
# values (None); alpha = 0.743.
KRIPPENDORFF_C = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
                  "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
                  "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
                  "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]}
# The same paper, A: binary data, two observers, no missing data; alpha = 0.095.
KRIPPENDORFF_A = {"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]}
# Cohen's kappa's textbook example (Wikipedia, "Cohen's kappa"): 50 proposals, yes/no; both yes 20, A yes B no 5,
# A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
COHEN_CELLS = [((True, True), 20), ((True, False), 5), ((False, True), 10), ((False, False), 15)]
FRAMES = ("good_enough", "prevention_risk")


def _values(table: dict) -> dict:
    """{unit: {coder: value}} from {coder: [value per unit]} (None = not coded)."""
    units: dict = {}
    for coder, row in table.items():
        for unit, value in enumerate(row):
            if value is not None:
                units.setdefault(unit, {})[coder] = value
    return units


def _row(item, coder, relevant, stance=None, frames=(), **extra) -> dict:
    return {"item_id": item, "coder": coder, "relevant": relevant, "stance": stance if relevant else None,
            "frames": list(frames), **extra}


def _cohen_rows() -> list[dict]:
    pairs = [pair for pair, n in COHEN_CELLS for _ in range(n)]
    return [_row(i, coder, pair[k]) for i, pair in enumerate(pairs) for k, coder in enumerate(("ann", "bob"))]


def test_krippendorffs_worked_example_four_coders_missing_values():
    result = dimension_agreement(_values(KRIPPENDORFF_C), resamples=0)
    assert round(result["krippendorff_alpha"], 3) == 0.743
    assert result["n"] == 11 and result["n_coders"] == 4  # unit 12 has one value: not pairable
    assert result["cohen_kappa"] is None  # kappa is for exactly two coders


def test_krippendorffs_binary_two_coder_example_through_annotation_rows():
    rows = [_row(unit, coder, bool(value)) for coder, values in KRIPPENDORFF_A.items()
            for unit, value in enumerate(values)]
    relevance = agreement_report(rows, frames=FRAMES, resamples=0)["dimensions"]["relevance"]
    assert round(relevance["krippendorff_alpha"], 3) == 0.095
    assert relevance["n"] == 10 and relevance["observed_agreement"] == 0.6


def test_cohens_kappa_textbook_example():
    report = agreement_report(_cohen_rows(), frames=FRAMES, resamples=0)
    assert report["dimensions"]["relevance"]["cohen_kappa"] == 0.4
    assert report["dimensions"]["relevance"]["observed_agreement"] == 0.7
    assert (report["n_items"], report["n_coders"], report["coders"]) == (50, 2, ["ann", "bob"])


def test_kappa_is_none_where_undefined_and_a_report_with_such_a_layer_is_valid_json():
    from discourse.training.agreement import pairwise_agreement
    from discourse.training.metrics import kappa

    assert kappa([], []) is None
    assert kappa(["a", "a"], ["a", "a"]) is None
    # two units no coder found relevant: stance where both coded relevant has no items
    coded = {u: {"relevant": False, "stance": None, "frames": []} for u in ("u1", "u2")}
    other = {"u1": {"relevant": False, "stance": None, "frames": []},
             "u2": {"relevant": True, "stance": "neutral", "frames": []}}
    report = pairwise_agreement(coded, other, ["u1", "u2"])
    assert report["stance_kappa_both_relevant"] is None
    assert report["relevance_kappa"] == 0.0
    json.loads(json.dumps(report, allow_nan=False))


def test_the_vectorised_bootstrap_is_the_packages_statistic_on_each_resample():
    rng = np.random.default_rng(3)
    pairs = np.stack([rng.integers(0, 3, 40), rng.integers(0, 3, 40)], axis=1)
    pairs[:25, 1] = pairs[:25, 0]
    counts = np.zeros((40, 3))
    np.add.at(counts, (np.repeat(np.arange(40), 2), pairs.ravel()), 1)
    weights = resample_weights(40, 20, seed=5)
    kappas, alphas = bootstrap_kappa(pairs, 3, weights), bootstrap_alpha(counts, weights)
    for r in range(20):
        drawn = np.repeat(np.arange(40), weights[r].astype(int))
        assert kappas[r] == pytest.approx(cohen_kappa_score(pairs[drawn, 0], pairs[drawn, 1]), abs=1e-12)
        reference = krippendorff.alpha(value_counts=counts[drawn], level_of_measurement="nominal")
        assert alphas[r] == pytest.approx(reference, abs=1e-12)


def test_bootstrap_intervals_hold_the_estimate_and_are_seeded():
    rows = _cohen_rows()
    first, again = (agreement_report(rows, frames=FRAMES, seed=7)["dimensions"]["relevance"] for _ in range(2))
    other = agreement_report(rows, frames=FRAMES, seed=8)["dimensions"]["relevance"]
    assert first == again and first["cohen_kappa_ci"] != other["cohen_kappa_ci"]
    for name in ("cohen_kappa", "krippendorff_alpha"):
        low, high = first[f"{name}_ci"]
        assert low < first[name] < high and high - low < 0.6


def test_dimensions_stance_three_way_only_where_all_coded_relevant_and_frames_binary():
    rows = [_row(1, "ann", True, "pressuring", ["prevention_risk"]), _row(1, "bob", True, "pressuring", []),
            _row(2, "ann", True, "supportive", ["good_enough"]), _row(2, "bob", False),
            _row(3, "ann", True, "neutral"), _row(3, "bob", True, "neutral"),
            _row(4, "ann", False), _row(4, "bob", False), _row(5, "ann", True, "neutral"),
            _row(6, "ann", None), _row(6, "bob", True, "supportive"),  # relevant left empty: not coded
            _row(7, "ann", True, None), _row(7, "bob", True, "neutral")]  # relevant, no stance: stance missing
    report = agreement_report(rows, frames=FRAMES, resamples=0)
    dims = report["dimensions"]
    assert (report["n_items"], report["n_double_coded"]) == (7, 5)
    assert (dims["relevance"]["n"], dims["stance_4way"]["n"], dims["stance"]["n"]) == (5, 4, 2)
    assert dims["stance"]["observed_agreement"] == 1.0 and dims["stance_4way"]["observed_agreement"] == 0.75
    prevention = report["frames"]["prevention_risk"]
    assert prevention["n"] == 3 and prevention["observed_agreement"] == 0.6667
    assert report["frames"]["good_enough"]["krippendorff_alpha"] is None  # one value in all the data: undefined


def test_the_disagreement_list_for_adjudication():
    adjudicated = {"relevant": True, "stance": "pressuring", "frames": ["prevention_risk"]}
    rows = [_row(1, "ann", True, "pressuring", ["prevention_risk"], text="Eén.", memo="twijfel"),
            _row(1, "bob", True, "neutral", ["prevention_risk", "good_enough"], text="Eén.", adjudicated=adjudicated),
            _row(2, "ann", False), _row(2, "bob", False, memo="ruis"),
            _row(3, "ann", True, "neutral"), _row(3, "cas", False), _row(4, "bob", True, "neutral")]
    found = disagreements(rows)
    assert [d["item_id"] for d in found] == [1, 3]
    first = found[0]
    assert first["differs"] == ["stance", "frame:good_enough"] and first["text"] == "Eén."
    assert first["codes"]["ann"] == {"relevant": True, "stance": "pressuring", "frames": ["prevention_risk"],
                                     "memo": "twijfel"}
    assert first["adjudicated"] == adjudicated and found[1]["adjudicated"] is None
    assert found[1]["differs"] == ["relevance", "stance"]
    # a coder sees only the disagreements on items they coded themselves
    assert [d["item_id"] for d in disagreements(rows, coder="cas")] == [3]
    assert agreement_report(rows, frames=FRAMES, resamples=0)["disagreements"] == 2


def _cli(*args: str):
    app = typer.Typer()  # a stand-in group: discourse/cli/annotations.py registers the command in the CLI
    app.command("agreement")(agreement_command)
    app.command("unused")(lambda: None)  # two commands keep typer from collapsing the group into the command
    return CliRunner().invoke(app, ["agreement", *args])


def _export_csv(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["item_id", "document_id", "coder", "relevant", "stance", "frames",
                                                    "memo"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "document_id": 1, "frames": json.dumps(row["frames"]), "memo": ""})


def test_the_command_on_exported_csv_and_jsonl(tmp_path):
    rows = _cohen_rows()
    rows[0]["frames"], rows[0]["stance"] = ["good_enough"], "supportive"
    _export_csv(tmp_path / "codes.csv", rows)
    (tmp_path / "codes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    codes = [[(r["item_id"], r["coder"], r["relevant"], r["stance"], r["frames"]) for r in read_annotation_file(path)]
             for path in (tmp_path / "codes.csv", tmp_path / "codes.jsonl")]
    assert codes[0] == codes[1] == [(r["item_id"], r["coder"], r["relevant"], r["stance"], r["frames"]) for r in rows]
    result = _cli("--from", str(tmp_path / "codes.csv"), "--json", "--resamples", "200")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dimensions"]["relevance"]["cohen_kappa"] == 0.4 and report["resamples"] == 200
    assert set(report["frames"]) >= {"good_enough", "prevention_risk"}
    table = _cli("--from", str(tmp_path / "codes.jsonl"))
    assert table.exit_code == 0 and "relevance" in table.output and "0.400" in table.output
    listed = _cli("--from", str(tmp_path / "codes.jsonl"), "--disagreements")
    # the 15 off-diagonal proposals, and item 0 where only ann gave a stance and a frame
    assert [json.loads(line)["item_id"] for line in listed.output.splitlines()][0] == 0
    assert len(listed.output.splitlines()) == 16


@pytest.mark.parametrize("name, content, message", [
    ("codes.txt", "x", "is .csv or .jsonl"),
    ("codes.jsonl", '{"item_id": 1, "coder": "ann", "relevant": true}\n{"item_id": 2\n', "line 2 is not JSON"),
    ("codes.jsonl", '{"item_id": 1, "relevant": true}\n', "line 1: no coder"),
    ("codes.csv", "item_id,coder,relevant\n1,ann,misschien\n", "line 2: relevant must be true or false"),
])
def test_the_command_rejects_a_bad_file_clearly(tmp_path, name, content, message):
    (tmp_path / name).write_text(content, encoding="utf-8")
    result = _cli("--from", str(tmp_path / name))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_the_real_corpus_kappas_stay_as_published(monkeypatch):
    """bench/real_corpus.py's agreement (metrics.kappa, now the annotations implementation) reproduces the published
    corpora/real_annotated/agreement.json."""
    monkeypatch.syspath_prepend(str(REPO_ROOT / "bench"))  # the bench scripts import their siblings
    bench = importlib.import_module("real_corpus")
    published = json.loads((REPO_ROOT / "corpora" / "real_annotated" / "agreement.json").read_text(encoding="utf-8"))
    assert bench.agreement(0) == published
