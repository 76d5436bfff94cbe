"""examples/lamost_resnet/run.py end to end (``--smoke``: every table and figure, tiny sizes) and its data paths."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.conftest import FIXTURES, TEMPLATES, fixture_rows
from tests.examples import load_script

run = load_script("lamost_resnet/run.py", "specnet_examples_lamost_resnet")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
METHODS = ["Kernel regression", "AdaBoost (CART)", "K-Means"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("lamost_resnet")
    results = run.main(["--smoke", "--output", str(out), "--seed", "0", "--n-jobs", "1", "--precision", "float32"])
    return out, results


def _check_regression_row(row):
    for key in ("max_abs_error", "mae", "std", "within_0.5"):
        assert isinstance(row[key], float) and math.isfinite(row[key]), (key, row)
    assert 0.0 <= row["mae"] <= row["max_abs_error"] <= 89.0
    assert 0.0 <= row["std"] <= row["max_abs_error"]
    assert 0.0 <= row["within_0.5"] <= 1.0


def test_outputs_exist(smoke):
    out, results = smoke
    for name in ("tables.md", "results.json", "fig2_pred_vs_true.png", "fig3_error_distributions.png",
                 "fig4_gradcam_AFGK.png", "learning_curves.png", "report/report.md", "report/report.json",
                 "report/pred_vs_true.png"):
        assert (out / name).is_file(), name
    for name in results["figures"].values():
        if name.endswith(".png"):
            data = (out / name).read_bytes()
            assert data[:8] == PNG_MAGIC and len(data) > 10_000, name


def test_json_holds_every_table(smoke):
    out, results = smoke
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["tables"] == json.loads(json.dumps(results["tables"]))
    assert set(on_disk["tables"]) == {"table1", "table2", "per_class_mae"}
    for entry in on_disk["tables"].values():
        assert entry["title"] and entry["rows"] and entry["columns"]


def test_table1_has_the_papers_rows_and_columns(smoke):
    _, results = smoke
    t1 = results["tables"]["table1"]
    assert list(t1["columns"])[:5] == ["kernel_size", "max_abs_error", "mae", "std", "within_0.5"]
    assert [r["kernel_size"] for r in t1["rows"]] == [3, 5, 7, 9]
    for row in t1["rows"]:
        _check_regression_row(row)
        assert row["n_params"] > 0 and row["fit_s"] > 0
        metrics = results["metrics"][f"resnet_k{row['kernel_size']}"]
        assert metrics["mae"] == row["mae"] and metrics["n"] == results["run"]["sizes"]["test"]
    params = [r["n_params"] for r in t1["rows"]]
    assert params == sorted(params) and len(set(params)) == 4  # bigger kernels, more weights


def test_table2_compares_the_chosen_resnet_with_the_baselines(smoke):
    _, results = smoke
    t1, t2 = results["tables"]["table1"], results["tables"]["table2"]
    chosen = results["run"]["config"]["chosen_kernel"]
    val = {r["kernel_size"]: r["val_mae"] for r in t1["rows"]}
    assert chosen == min(val, key=lambda k: (val[k], k))  # chosen on validation, never on test
    assert [r["method"] for r in t2["rows"]] == [f"ResNet (kernel {chosen})"] + METHODS
    resnet_row = next(r for r in t1["rows"] if r["kernel_size"] == chosen)
    assert t2["rows"][0]["mae"] == resnet_row["mae"]
    for row in t2["rows"]:
        _check_regression_row(row)
        assert row["fit_s"] >= 0 and row["predict_s"] >= 0
    # the classical methods beat chance on the mock survey (uniform labels over B0-M9 give MAE ~ 20)
    assert min(r["mae"] for r in t2["rows"][1:]) < 10


def test_per_class_table_and_fit(smoke):
    _, results = smoke
    rows = {r["method"]: r for r in results["tables"]["per_class_mae"]["rows"]}
    assert set(rows) == {t["method"] for t in results["tables"]["table2"]["rows"]} | {"N (test spectra)"}
    counts = rows.pop("N (test spectra)")
    assert sum(v for k, v in counts.items() if k != "method") == results["run"]["sizes"]["test"]
    for row in rows.values():
        assert all(0 <= v <= 89 for k, v in row.items() if k != "method")
    fit = results["second_order_fit"]
    assert len(fit["coeffs"]) == 3 and fit["level"] == 0.95 and fit["sigma"] >= 0


def test_gradcam_summary(smoke):
    _, results = smoke
    cam = results["gradcam"]
    assert set(cam["per_class"]) == {"A", "F", "G", "K"}
    assert cam["n_maps"] == sum(v["n"] for v in cam["per_class"].values()) > 0
    for cls, v in cam["per_class"].items():
        if v["n"]:
            assert 3690 < v["peak_wavelength"] < 9110
            assert 0 < v["pixel_fraction_in_paper_features"] < 1


def test_run_record(smoke):
    out, results = smoke
    rec = results["run"]
    assert rec["mode"] == "smoke" and rec["seed"] == 0 and "--smoke" in rec["command"]
    assert rec["data"]["kind"] == "mock" and rec["data"]["library"]["path"] == str(TEMPLATES)
    sizes = rec["sizes"]
    assert sizes["train"] + sizes["validation"] + sizes["test"] == sizes["n"] == run.MODES["smoke"]["n"]
    assert rec["versions"]["tensorflow"] and rec["versions"]["keras"] and rec["versions"]["specnet"]
    assert rec["preprocess"]["normalisation"] == "continuum" and rec["preprocess"]["grid"]["npix"] == 3909
    md = (out / "tables.md").read_text()
    for entry in results["tables"].values():
        assert entry["title"] in md
    header = next(line for line in md.splitlines() if line.startswith("| Kernel size"))
    assert [h.strip() for h in header.strip("|").split("|")][:5] == ["Kernel size", "Max error", "MAE", "Std",
                                                                      "Within ±0.5"]


def test_parse_args_modes_and_validation(tmp_path):
    quick = run.parse_args(["--quick", "--output", str(tmp_path)])
    assert quick.mode == "quick" and quick.cfg["n"] == run.MODES["quick"]["n"] and quick.cfg["epochs"] <= 3
    full = run.parse_args(["--epochs", "7", "--kernels", "9", "3"])
    assert full.mode == "full" and full.cfg["epochs"] == 7 and full.kernels == [3, 9]
    assert full.output == run.common.REPO / "results" / "lamost_resnet"
    with pytest.raises(SystemExit):
        run.parse_args(["--snr", "0", "10"])
    with pytest.raises(SystemExit):
        run.parse_args(["--quick", "--smoke"])
    with pytest.raises(SystemExit):
        run.parse_args(["--kernels", "4"])


def test_load_data_reads_real_lamost_files():
    from specnet.labels import parse_subtype

    folder = FIXTURES / "lamost" / "dr1_calibration"
    args = run.parse_args(["--smoke", "--data", str(folder)])
    data = run.load_data(args, run.preprocess_config())
    index = {r["abspath"]: r["subclass"] for r in fixture_rows() if r["path"].startswith("lamost/dr1_calibration/")}
    assert data["source"]["kind"] == "files" and data["source"]["n_read"] == len(data["y"])
    assert len(data["y"]) + data["source"]["n_rejected"] == len(index) == 82
    assert data["X"].shape == (len(data["y"]), 3909, 2) and np.isfinite(data["X"]).all()
    for path, value in zip(data["ids"], data["y"]):
        assert value == parse_subtype(index[path])
    assert 20 <= data["y"].min() and data["y"].max() <= 69  # A1 ... M2 in this calibration set


def test_load_data_rejects_too_few_spectra(tmp_path):
    (tmp_path / "cat.csv").write_text(f"path,label\n{tmp_path / 'a.fits'},K3\n")
    args = run.parse_args(["--smoke", "--data", str(tmp_path / "cat.csv")])
    with pytest.raises(SystemExit, match="at least 10"):
        run.load_data(args, run.preprocess_config())
