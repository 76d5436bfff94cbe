"""examples/common.py: data sources, JSON output, grid combinations and BatchNorm recalibration."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.conftest import FIXTURES, TEMPLATES, fixture_rows
from tests.examples import load_script

common = load_script("common.py", "specnet_examples_common")


def test_default_templates_is_the_shared_folder():
    assert common.default_templates() == TEMPLATES


def test_load_library_reads_the_shared_templates():
    lib, source = common.load_library()
    assert source["kind"] == "templates" and source["path"] == str(TEMPLATES)
    assert source["n_templates"] == len(lib) > 1000
    assert {"MILES", "Hammer", "Pickles1998", "SDSS-eigenstar"} <= set(source["libraries"])
    assert len(source["fingerprint"]) == 16


def test_load_library_falls_back_to_builtin(monkeypatch, tmp_path):
    monkeypatch.setenv("SPECNET_SHARED_DATA", str(tmp_path / "nowhere"))
    lib, source = common.load_library()
    assert source["kind"] == "builtin"
    assert set(source["libraries"]) == {"builtin"} and len(lib) == source["n_templates"] > 50


def test_load_library_rejects_a_missing_path(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        common.load_library(tmp_path / "missing")


def test_read_labelled_real_lamost_catalogue(tmp_path):
    from specnet.labels import parse_subtype
    from specnet.preprocess import LAMOST_GRID, PreprocessConfig

    rows = [r for r in fixture_rows() if r["path"].startswith("lamost/dr1_calibration/")][:6]
    lines = ["path,label"] + [f"{r['abspath']},{r['subclass']}" for r in rows]
    lines += [f"{tmp_path / 'missing.fits'},K3", f"{rows[0]['abspath']},"]  # unreadable; header label
    (tmp_path / "cat.csv").write_text("\n".join(lines) + "\n")
    got = common.read_labelled(tmp_path / "cat.csv", PreprocessConfig(grid=LAMOST_GRID))
    assert got["X"].shape == (7, LAMOST_GRID.npix, 2) and got["X"].dtype == np.float32
    assert np.isfinite(got["X"]).all()
    assert [r["path"] for r in got["rejects"]] == [str(tmp_path / "missing.fits")]
    expected = {r["abspath"]: r["subclass"] for r in rows}
    for path, label in zip(got["paths"], got["labels"]):
        assert parse_subtype(label) == parse_subtype(expected[path])  # the header agrees with the catalogue
    assert np.nanmedian(got["snr"]) > 0


def test_grid_combinations_order_and_validation():
    combos = common.grid_combinations({"lr": [1, 2], "bs": [16, 32, 64]})
    assert len(combos) == 6 and combos[0] == {"bs": 16, "lr": 1} and combos[-1] == {"bs": 64, "lr": 2}
    with pytest.raises(ValueError, match="non-empty"):
        common.grid_combinations({"lr": []})


def test_to_jsonable_and_write_results(tmp_path):
    results = {"a": np.float32(1.5), "b": np.array([1, 2]), "nan": float("nan"), "t": (np.int64(3), None),
               "p": tmp_path}
    json_path, md_path = common.write_results(tmp_path / "out", results, "# hi\n")
    back = json.loads(json_path.read_text())
    assert back == {"a": 1.5, "b": [1, 2], "nan": None, "t": [3, None], "p": str(tmp_path)}
    assert md_path.read_text() == "# hi\n"


def test_render_table_lays_out_a_table_entry():
    entry = common.table_entry("T", {"m": "Method", "mae": "MAE"}, [{"m": "ResNet", "mae": 0.41234}], "note")
    text = common.render_table(entry)
    assert text.splitlines()[0] == "### T"
    assert "| Method |   MAE |" in text and "| ResNet | 0.412 |" in text and text.rstrip().endswith("note")


def test_run_record_holds_command_and_versions():
    rec = common.run_record("examples/x/run.py", ["--quick", "--seed", "3"], "quick", 3)
    assert rec["command"].endswith("examples/x/run.py --quick --seed 3")
    assert rec["seed"] == 3 and rec["mode"] == "quick"
    for lib in ("numpy", "tensorflow", "keras", "sklearn", "specnet"):
        assert rec["versions"][lib]


def test_recalibrate_batchnorm_sets_exact_batch_averages():
    import keras

    from specnet.models import build

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 256, 2)).astype(np.float32)
    common.set_seed(0)
    model = build("resnet_regressor", input_shape=(256, 2), stem_filters=4, widths=(4, 4, 4, 4), head_units=4)
    bn = model.get_layer("stem_bn")
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), 0.0)  # untrained: initial statistics
    n = common.recalibrate_batchnorm(model, X, batch_size=16)
    assert n == sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers) > 20
    conv = keras.Model(model.input, model.get_layer("stem_conv").output)
    h = keras.ops.convert_to_numpy(conv(X))
    batch_means = [h[i:i + 16].mean(axis=(0, 1)) for i in range(0, 40, 16)]
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), np.mean(batch_means, axis=0), atol=1e-5)
    assert math.isclose(bn.momentum, 0.9)  # restored to the builder's momentum


def test_keras_grid_search_scores_every_fold():
    from specnet.models import build

    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 12)
    X = rng.normal(size=(24, 64, 1)).astype(np.float32)
    X[y == 1, 20:30, 0] += 3.0  # an easy feature
    folds = [(np.r_[0:6, 12:18], np.r_[6:12, 18:24]), (np.r_[6:12, 18:24], np.r_[0:6, 12:18])]
    out = common.keras_grid_search(
        lambda p: build("cnn", input_shape=(64, 1), num_classes=2, filters=(4,), pool_size=2,
                        hidden_units=p["hidden_units"]),
        X, y, {"batch_size": [8], "learning_rate": [1e-2, 1e-3], "hidden_units": [8]}, folds, epochs=2, seed=0,
        run_eagerly=True)
    assert out["n_folds"] == 2 and out["n_fits"] == 4 and len(out["results"]) == 2
    for row in out["results"]:
        assert len(row["fold_accuracies"]) == 2 and all(0.0 <= a <= 1.0 for a in row["fold_accuracies"])
        assert row["mean_accuracy"] == pytest.approx(np.mean(row["fold_accuracies"]))
    best = max(out["results"], key=lambda r: r["mean_accuracy"])
    assert out["best_accuracy"] == best["mean_accuracy"]
    assert out["best_params"] == {"batch_size": 8, "hidden_units": 8, "learning_rate": best["learning_rate"]}


def test_fixtures_present():
    assert (FIXTURES / "lamost" / "dr1_calibration").is_dir()


def test_precision_is_restored_after_the_block():
    import keras

    before = keras.mixed_precision.global_policy().name
    with common.precision("mixed_bfloat16") as policy:
        assert policy == "mixed_bfloat16" == keras.mixed_precision.global_policy().name
    assert keras.mixed_precision.global_policy().name == before
