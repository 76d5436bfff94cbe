"""The zoo's training recipes: their helpers, and a --quick run of the SDSS one on the real fixtures."""
import importlib.util
import json

import numpy as np
import pytest

from specnet import zoo
from tests.conftest import FIXTURES, TEMPLATES


def _recipe(name):
    spec = importlib.util.spec_from_file_location(name, zoo.zoo_dir() / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sdss = _recipe("sdss_classifiers")


def test_split_is_7_1_2_inside_every_subclass_and_snr_part():
    y = np.repeat([0, 1, 2], 40)
    part = np.tile(np.repeat([0, 1], 20), 3)
    tr, va, te = sdss.split_groups(y, part, seed=3)
    assert len(np.intersect1d(tr, te)) == len(np.intersect1d(tr, va)) == len(np.intersect1d(va, te)) == 0
    assert len(tr) + len(va) + len(te) == len(y)
    for key in range(6):
        members = np.flatnonzero(y * 2 + part == key)
        assert [len(np.intersect1d(s, members)) for s in (tr, va, te)] == [14, 2, 4]


def test_real_scores_count_exact_labels_and_the_nearest_class():
    classes = ["K1", "K3", "K5", "K7"]
    # K2 sits between K1 and K3 (either is nearest); K4V -> K3 or K5; G8 -> K1 only
    scores = sdss.real_scores(["K1", "K2", "K4V", "G8", "K7"], [0, 1, 2, 1, 0], classes)
    assert scores["n"] == 5 and scores["n_exact"] == 2
    assert scores["exact_accuracy"] == pytest.approx(0.5)          # K1 right, K7 called K1
    assert scores["nearest_class_accuracy"] == pytest.approx(3 / 5)  # K1, K2->K3, K4V->K5
    assert scores["mean_abs_subtype_error"] == pytest.approx((0 + 1 + 1 + 5 + 6) / 5)


def test_real_stars_leave_out_sky_fibres_and_other_classes():
    stars = sdss.real_stars(FIXTURES, "F")
    labels = {label for _, label, _ in stars}
    assert labels <= {"F0", "F2", "F5", "F9"} and "F9" in labels
    sky = {"spec-2342-53742-0192.fits"}                                # a sky fibre the pipeline calls F9
    assert not sky & {p.split("/")[-1] for p, _, _ in stars}
    assert ("SDSS" in {s for _, _, s in stars}) and ("LAMOST" in {s for _, _, s in stars})


def test_quick_run_trains_all_methods_and_scores_real_stars(tmp_path):
    out = tmp_path / "sdss"
    assert sdss.main(["--quick", "--tasks", "f", "--output", str(out),
                      "--templates", str(TEMPLATES), "--fixtures", str(FIXTURES)]) == 0
    result = json.loads((out / "summary.json").read_text())["f"]
    assert result["classes"] == ["F2", "F5", "F9"] and "MILES" in result["libraries"]
    assert result["n_train"] + result["n_val"] + result["n_test_window"] + result["n_test_wide"] == result["n_mock"]
    assert set(result["methods"]) == {"bert_cnn", "cnn", "svm", "chi2_sdss_eigen"}
    n_real = len(result["real_set"])
    for name, method in result["methods"].items():
        assert method["real"]["n"] == n_real and len(method["real_predictions"]) == n_real, name
        assert set(method["real_predictions"]) <= {"F2", "F5", "F9"}
        if name != "chi2_sdss_eigen":
            assert 0 <= method["mock_test"]["accuracy"] <= 1 and method["mock_test"]["n"] == result["n_test_window"]
    for arch in ("bertcnn-sdss-f", "cnn-sdss-f"):             # a loadable model folder per network
        assert zoo.load(out / arch / "model").classes == ["F2", "F5", "F9"]


def test_holdout_experiment_cannot_install_weights(capsys):
    with pytest.raises(SystemExit):
        sdss.main(["--holdout-library", "MILES", "--install"])
    assert "--holdout-library is an experiment" in capsys.readouterr().err
