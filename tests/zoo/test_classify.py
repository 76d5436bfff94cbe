"""ZooModel.classify on real survey files: the table, the labels, and the flags on non-stellar inputs."""
import warnings

import numpy as np
import pytest

from specnet import zoo
from specnet.io import read_spectrum
from specnet.labels import parse_subtype
from specnet.preprocess import preprocess
from specnet.zoo.flags import DEFAULT_THRESHOLDS, compute_flags, flag_strings, thresholds_for
from tests.conftest import FIXTURES

LAMOST_STAR = FIXTURES / "lamost/dr10_table/3703110.fits"
SDSS_STAR = FIXTURES / "sdss/spec_dr8plus/spec-3128-54776-0008.fits"
QSO = FIXTURES / "sdss/spec_dr8plus/spec-0548-51986-0020.fits"
GALAXIES = [FIXTURES / "sdss/spec_dr8plus/spec-0548-51986-0001.fits",
            FIXTURES / "sdss/spec_dr8plus/spec-1230-52672-0233.fits"]
SKY = [FIXTURES / f"sdss/spec_dr8plus/{f}" for f in
       ("spec-1942-53415-0073.fits", "spec-1944-53385-0520.fits", "spec-2342-53742-0192.fits")]
COLUMNS = ["id", "label", "subtype", "uncertainty", "flags", "snr", "coverage", "path"]


def _load(name):
    """The trained entry when its weights are in the package, else the architecture untrained."""
    if zoo.info(name)["weights"]:
        return zoo.load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return zoo.load(name, weights=False)


@pytest.fixture(scope="module")
def resnet():
    return _load("resnet-lamost")


@pytest.fixture(scope="module")
def classifiers():
    return {name: _load(name) for name in zoo.list("*-sdss-*")}


def test_regressor_on_a_real_lamost_file(resnet):
    t = resnet.classify(LAMOST_STAR)
    assert len(t) == 1 and t.colnames == COLUMNS
    row = t[0]
    assert row["id"] == "3703110" and row["path"] == str(LAMOST_STAR)
    assert np.isfinite(row["subtype"]) and np.isnan(row["uncertainty"])
    assert abs(parse_subtype(row["label"]) - round(row["subtype"])) < 1e-9 or row["subtype"] < 0 or row["subtype"] > 89
    assert row["coverage"] > 0.95 and row["snr"] == pytest.approx(19.35, rel=1e-3)
    assert not {"low_snr", "poor_coverage", "non_stellar"} & set(row["flags"].split(","))


@pytest.mark.parametrize("name", zoo.list("*-sdss-*"))
def test_classifier_on_a_real_sdss_star(classifiers, name):
    zm = classifiers[name]
    t = zm.classify(str(SDSS_STAR))
    assert len(t) == 1 and t.colnames == COLUMNS[:4] + ["proba"] + COLUMNS[4:]
    row = t[0]
    proba = np.asarray(row["proba"])
    assert proba.shape == (len(zm.classes),) and proba.sum() == pytest.approx(1.0, abs=1e-5)
    assert row["label"] == zm.classes[int(proba.argmax())]
    assert row["subtype"] == parse_subtype(row["label"])
    assert row["uncertainty"] == pytest.approx(1 - proba.max())
    assert ("ood" in row["flags"]) == (proba.max() < DEFAULT_THRESHOLDS["ood_proba"])
    assert "non_stellar" not in row["flags"] and "low_snr" not in row["flags"]


def test_non_stellar_and_garbage_inputs_are_flagged(resnet, classifiers):
    files = [QSO, *GALAXIES, *SKY]
    for zm in (resnet, *classifiers.values()):
        t = zm.classify(files)
        flags = {p.split("/")[-1]: set(f.split(",")) for p, f in zip(t["path"], t["flags"])}
        assert len(t) == len(files)
        for f in [QSO, *GALAXIES]:
            assert "non_stellar" in flags[f.name], (zm.name, f.name)
        assert "poor_coverage" in flags[QSO.name]           # z = 2.2: nothing left on the grid
        for f in SKY:                                         # labelled STAR, S/N ≈ 0.6
            assert "low_snr" in flags[f.name] and "non_stellar" not in flags[f.name]


def test_spectra_paths_and_arrays_give_the_same_answer(resnet):
    spec = read_spectrum(LAMOST_STAR)
    X, mask = preprocess([spec], resnet.preprocess_config)
    by_path = resnet.classify([LAMOST_STAR])
    by_spectrum = resnet.classify(spec)
    by_array = resnet.classify(X)
    np.testing.assert_allclose(by_spectrum["subtype"], by_path["subtype"], rtol=1e-6)
    np.testing.assert_allclose(by_array["subtype"], by_path["subtype"], rtol=1e-6)
    np.testing.assert_allclose(resnet.predict_array(X)[:, 0], by_path["subtype"], rtol=1e-6)
    assert by_array["coverage"][0] == pytest.approx(by_path["coverage"][0])
    assert by_array["id"][0] == "" and np.isnan(by_array["snr"][0])
    with pytest.raises(ValueError, match="Received: X.shape=\\(1, 100, 2\\)"):
        resnet.predict_array(np.zeros((1, 100, 2)))
    with pytest.raises(ValueError, match="Received: inputs\\[0\\]=42"):
        resnet.classify([42])
    assert len(resnet.classify([])) == 0


def test_regression_ood_and_manifest_thresholds(resnet):
    narrow = dict(resnet.manifest, labels=dict(resnet.manifest["labels"], min=-100.0, max=-90.0),
                  thresholds={"low_snr": 50.0})
    zm = zoo.ZooModel(resnet.model, narrow)
    flags = zm.classify(LAMOST_STAR)["flags"][0].split(",")
    assert "ood" in flags                  # far outside the trained label range
    assert "low_snr" in flags              # S/N 19 < the manifest's own threshold of 50


def test_flag_rules():
    th = thresholds_for(None)
    rows = compute_flags(4, th, snr=[0.6, 10, np.nan, 10], coverage=[1, 0.5, 1, 1],
                         non_stellar=[False, False, True, False], task="regression",
                         subtype=[40, 80, 45, 45], sigma=[1, 1, 1, 9], label_range=(20, 69))
    assert flag_strings(rows) == ["low_snr", "poor_coverage,ood", "non_stellar", "ood"]
    rows = compute_flags(2, th, task="classification", proba=np.array([[0.4, 0.35, 0.25], [0.9, 0.05, 0.05]]))
    assert flag_strings(rows) == ["ood", ""]
    with pytest.raises(ValueError, match="Received: thresholds="):
        thresholds_for({"thresholds": {"low_sn": 3}})


@pytest.mark.parametrize("name, path, label", [
    ("bertcnn-sdss-f", SDSS_STAR, "F9"),                                       # DR8+ pipeline: F9, S/N 66
    ("cnn-sdss-f", SDSS_STAR, "F9"),
    ("bertcnn-sdss-g", FIXTURES / "sdss/spSpec_dr7/spSpec-52885-1117-287.fit", "G0"),  # DR7, Hammer: G0
    ("cnn-sdss-g", FIXTURES / "sdss/spSpec_dr7/spSpec-52885-1117-287.fit", "G0"),
])
def test_trained_classifiers_type_real_sdss_stars(classifiers, name, path, label):
    """Trained on mock spectra only, the zoo's classifiers get these real SDSS stars right."""
    zm = classifiers[name]
    assert zm.trained, f"{name} has no weights in the package"
    row = zm.classify(path)[0]
    assert row["label"] == label and "non_stellar" not in row["flags"]
