"""examples/sdss_kfg/run.py end to end (``--smoke``: every table and figure, tiny sizes), and with ``--data``."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.conftest import TEMPLATES
from tests.examples import load_script

run = load_script("sdss_kfg/run.py", "specnet_examples_sdss_kfg")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CLASSES = {"K": ["K1", "K3", "K5", "K7"], "F": ["F2", "F5", "F9"], "G": ["G0", "G2", "G5"]}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("sdss_kfg")
    results = run.main(["--smoke", "--output", str(out), "--seed", "0", "--n-jobs", "1", "--precision", "float32"])
    return out, results


def test_outputs_exist(smoke):
    out, results = smoke
    assert (out / "tables.md").is_file() and (out / "results.json").is_file()
    assert set(results["figures"]) == {"confusion_K", "confusion_F", "confusion_G", "vs_fraction"}
    for name in results["figures"].values():
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, name


def test_json_holds_every_table(smoke):
    out, results = smoke
    on_disk = json.loads((out / "results.json").read_text())
    assert list(on_disk["tables"]) == ["table3a", "table3b", "table3c", "table4", "grid_K", "grid_F", "grid_G"]
    assert on_disk["tables"] == json.loads(json.dumps(results["tables"]))
    md = (out / "tables.md").read_text()
    for entry in on_disk["tables"].values():
        assert entry["title"] in md


@pytest.mark.parametrize("task,key", [("K", "table3a"), ("F", "table3b"), ("G", "table3c")])
def test_table3_rows_and_columns(smoke, task, key):
    _, results = smoke
    table = results["tables"][key]
    assert list(table["columns"]) == ["training", "subclass", "precision", "recall", "f1", "support"]
    expected = [(f"{p}%", c) for p in (30, 40, 50, 60, 70) for c in CLASSES[task] + ["average (macro)"]]
    assert [(r["training"], r["subclass"]) for r in table["rows"]] == expected
    n = results["run"]["sizes"][task]["n"]
    for row in table["rows"]:
        for k in ("precision", "recall", "f1"):
            assert 0.0 <= row[k] <= 1.0 and math.isfinite(row[k])
    for p in (30, 40, 50, 60, 70):
        rows = [r for r in table["rows"] if r["training"] == f"{p}%"]
        total = rows[-1]["support"]
        assert sum(r["support"] for r in rows[:-1]) == total
        assert total == pytest.approx(n * (1 - p / 100), abs=1)  # tested on the rest of the set
        m = results["metrics"]["table3"][task][f"{p}%"]
        assert rows[-1]["f1"] == m["macro_f1"] and m["n"] == total


def test_table4_accuracy_and_average(smoke):
    _, results = smoke
    t4 = results["tables"]["table4"]
    assert list(t4["columns"]) == ["method", "K", "F", "G", "average"]
    assert [r["method"] for r in t4["rows"]] == ["SVM", "CNN", "BERT-CNN"]
    for row in t4["rows"]:
        accs = [row[t] for t in "KFG"]
        assert all(0.0 <= a <= 1.0 for a in accs)
        assert row["average"] == pytest.approx(np.mean(accs))
    bert = t4["rows"][2]
    for t in "KFG":
        assert bert[t] == results["metrics"]["table3"][t]["70%"]["accuracy"]  # the same 70 % run
        cm = np.array(results["metrics"]["table4"][t]["SVM"]["confusion_matrix"])
        assert cm.shape == (len(CLASSES[t]),) * 2
        assert np.trace(cm) / cm.sum() == pytest.approx(t4["rows"][0][t])


def test_grid_search_covers_the_grid(smoke):
    _, results = smoke
    grid = run.MODES["smoke"]["grid"]
    n_comb = int(np.prod([len(v) for v in grid.values()]))
    for task in "KFG":
        gs = results["grid_search"][task]
        bert = gs["bert_cnn"]
        assert len(bert["results"]) == n_comb and bert["n_folds"] == run.MODES["smoke"]["cv"]
        assert bert["n_fits"] == n_comb * bert["n_folds"]
        assert bert["best_accuracy"] == max(r["mean_accuracy"] for r in bert["results"])
        assert {k: bert["best_params"][k] in grid[k] for k in grid} == {k: True for k in grid}
        assert [r["C"] for r in gs["svm"]["results"]] == list(run.MODES["smoke"]["svm_cs"])
        assert gs["svm"]["best_params"]["C"] in run.MODES["smoke"]["svm_cs"]
        rows = results["tables"][f"grid_{task}"]["rows"]
        assert [r["model"] for r in rows] == ["BERT-CNN"] * n_comb + ["SVM"] * len(run.MODES["smoke"]["svm_cs"])


def test_run_record(smoke):
    _, results = smoke
    rec = results["run"]
    assert rec["mode"] == "smoke" and rec["seed"] == 0
    assert rec["data"]["kind"] == "mock" and rec["data"]["library"]["path"] == str(TEMPLATES)
    assert rec["data"]["snr_windows"]["F9"] == [75.0, 80.0]
    n = run.MODES["smoke"]["n_per_class"]
    for task, classes in CLASSES.items():
        assert rec["sizes"][task] == {"n": n * len(classes), "per_class": {c: n for c in classes}}
    assert rec["preprocess"]["normalisation"] == "minmax" and rec["preprocess"]["grid"]["npix"] == 3840
    assert rec["versions"]["tensorflow"] and rec["versions"]["sklearn"]


def test_parse_args_grids():
    assert run.parse_args([]).cfg["grid"] == run.MODES["full"]["grid"]
    full = run.parse_args(["--full-grid"])
    assert full.cfg["grid"] == run.PAPER_GRID and full.cfg["svm_cs"] == run.PAPER_SVM_CS
    assert len(run.common.grid_combinations(full.cfg["grid"])) == 81
    assert full.cfg["cv"] == 10
    quick = run.parse_args(["--quick", "--tasks", "G", "K"])
    assert quick.tasks == ["K", "G"] and len(run.common.grid_combinations(quick.cfg["grid"])) <= 2
    with pytest.raises(SystemExit):
        run.parse_args(["--cv", "1"])


def test_data_path_on_sdss_format_files(tmp_path):
    """``--data``: real-format SDSS files (written by specnet.simulate) read back with specnet.io."""
    from specnet.labels import parse_subtype
    from specnet.simulate import builtin_library, mock_survey

    lib = builtin_library(subtypes=list(range(48, 60)))
    mock_survey(lib, 40, profile="sdss", snr=(50, 70), seed=3, out_dir=tmp_path / "data", layout="sdss-spec",
                subtype_distribution=[parse_subtype(c) for c in CLASSES["K"]], n_jobs=1, return_spectra=False)
    results = run.main(["--smoke", "--data", str(tmp_path / "data"), "--tasks", "K", "F",
                        "--output", str(tmp_path / "out"), "--n-jobs", "1", "--precision", "float32"])
    src = results["run"]["data"]
    assert src["kind"] == "files" and src["n_read"] == 40 and src["n_rejected"] == 0
    assert "F" in src["skipped_sets"] and sum(src["skipped_sets"]["F"].values()) == 0
    assert list(results["tables"]) == ["table3a", "table4", "grid_K"]
    assert results["run"]["sizes"]["K"]["n"] == 40
    assert list(results["tables"]["table4"]["columns"]) == ["method", "K", "average"]
