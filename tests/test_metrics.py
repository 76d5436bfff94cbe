"""specnet.metrics: the papers' metrics on hand-computable inputs, against numpy and scikit-learn."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from specnet.metrics import (
    class_letters,
    classification_metrics,
    per_class_regression,
    regression_metrics,
    second_order_fit,
)

# errors (pred - true) = [0, 0.5, 1, 3]
Y_TRUE = [10.0, 20.0, 30.0, 40.0]
Y_PRED = [10.0, 20.5, 31.0, 43.0]


def _all_plain(obj):
    """True if obj holds only plain JSON types (no numpy scalars)."""
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _all_plain(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_all_plain(v) for v in obj)
    return type(obj) in (int, float, str, bool) or obj is None


# ----------------------------------------------------------------------------- regression
def test_regression_metrics_on_hand_computable_errors():
    m = regression_metrics(Y_TRUE, Y_PRED)
    assert m["n"] == 4 and m["n_omitted"] == 0
    assert m["mae"] == pytest.approx((0 + 0.5 + 1 + 3) / 4)  # 1.125
    dev = np.array([0, 0.5, 1, 3]) - 1.125                    # |e| about the MAE
    assert m["std"] == pytest.approx(math.sqrt((dev ** 2).sum() / 4))
    assert m["std"] == pytest.approx(math.sqrt(5.1875 / 4))
    assert m["bias"] == pytest.approx(1.125)                 # all errors positive
    assert m["rmse"] == pytest.approx(math.sqrt((0 + 0.25 + 1 + 9) / 4))
    assert m["max_abs_error"] == 3.0
    assert m["median_abs_error"] == pytest.approx(0.75)
    assert (m["within_0.5"], m["within_1"], m["within_2"]) == (0.5, 0.75, 0.75)  # |e| <= t inclusive
    assert _all_plain(m)
    assert json.loads(json.dumps(m)) == m


def test_bias_is_signed_and_mae_is_not():
    m = regression_metrics([50, 50, 50], [49, 48, 50])
    assert m["bias"] == pytest.approx(-1.0)
    assert m["mae"] == pytest.approx(1.0)


def test_wang_std_is_the_std_of_absolute_errors_not_of_signed_errors():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 69, 500)
    e = rng.normal(0.3, 1.5, 500)
    m = regression_metrics(t, t + e)
    assert m["std"] == pytest.approx(np.std(np.abs(e)))
    assert m["std"] == pytest.approx(np.sqrt(np.mean((np.abs(e) - np.mean(np.abs(e))) ** 2)))
    assert abs(m["std"] - np.std(e)) > 0.3  # the signed-error std is a different number
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean(e ** 2)))
    assert m["within_1"] == pytest.approx(np.mean(np.abs(e) <= 1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-20, 20, allow_nan=False), min_size=1, max_size=50),
       st.floats(0, 69, allow_nan=False))
def test_rmse_squared_is_mae_squared_plus_wang_std_squared(errors, base):
    e = np.asarray(errors)
    m = regression_metrics(np.full(e.size, base), base + e)
    assert m["rmse"] ** 2 == pytest.approx(m["mae"] ** 2 + m["std"] ** 2, rel=1e-6, abs=1e-6)
    assert 0 <= m["within_0.5"] <= m["within_1"] <= m["within_2"] <= 1
    assert m["median_abs_error"] <= m["max_abs_error"] + 1e-9


def test_validation_errors_quote_what_was_received():
    with pytest.raises(ValueError, match=r"len\(y_true\)=3, len\(y_pred\)=4"):
        regression_metrics([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"len\(y_true\)=3, len\(y_pred\)=4"):
        per_class_regression([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"len\(y_true\)=0"):
        regression_metrics([], [])
    with pytest.raises(ValueError, match=r"y_pred.shape=\(2, 2\)"):
        regression_metrics([1, 2], [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"nan_policy='ignore'"):
        regression_metrics([1, 2], [1, 2], nan_policy="ignore")
    with pytest.raises(ValueError, match="y_true"):
        regression_metrics(["K3", "G2"], [53, 42])


def test_nan_predictions_raise_unless_omitted():
    t = [20, 30, 40, 50]
    p = [21, np.nan, 40, 52]
    with pytest.raises(ValueError, match="1 NaN in y_pred"):
        regression_metrics(t, p)
    m = regression_metrics(t, p, nan_policy="omit")
    assert m["n"] == 3 and m["n_omitted"] == 1
    assert m == {**regression_metrics([20, 40, 50], [21, 40, 52]), "n_omitted": 1}
    with pytest.raises(ValueError, match="no finite"):
        regression_metrics([1, 2], [np.nan, np.nan], nan_policy="omit")


def test_class_letters_on_the_subtype_scale():
    values = [0, 9.9, 10, 29.5, 35, 41, 53.4, 59.99, 60, 69, 75, 89.5]
    assert class_letters(values).tolist() == ["O", "O", "B", "A", "F", "G", "K", "K", "M", "M", "L", "T"]
    for bad in (-0.5, 90, np.nan):
        with pytest.raises(ValueError, match="subtypes"):
            class_letters([10, bad])


def test_per_class_regression_groups_by_label_letter():
    t = np.array([53.4, 55.0, 57.0, 41.0, 42.5, 61.0, 23.0])
    p = np.array([53.0, 56.0, 56.0, 44.0, 42.0, 60.5, 22.0])
    per = per_class_regression(t, p)
    assert list(per) == ["A", "G", "K", "M"]  # scale order, only the classes present
    overall_k = regression_metrics(t[[0, 1, 2]], p[[0, 1, 2]])
    assert per["K"] == {k: v for k, v in overall_k.items() if k != "n_omitted"}
    assert per["K"]["mae"] == pytest.approx((0.4 + 1 + 1) / 3)
    assert per["G"]["n"] == 2 and per["G"]["max_abs_error"] == 3.0
    # a K9.9 label predicted as M0 still counts for K: grouping follows the label
    assert list(per_class_regression([59.9], [61.0])) == ["K"]
    assert _all_plain(per)


# ----------------------------------------------------------------------------- classification
CLASSES = ["K1", "K3", "K5", "K7"]


def _random_case(n=300, seed=7):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 4, n)
    p = np.where(rng.random(n) < 0.7, t, rng.integers(0, 4, n))
    return t, p


def test_classification_metrics_equal_sklearn_on_a_random_case():
    ti, pi = _random_case()
    names = np.array(CLASSES)
    t, p = names[ti], names[pi]
    m = classification_metrics(t, p, CLASSES)
    assert m["n"] == 300 and m["classes"] == CLASSES
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(t, p))
    prec, rec, f1, sup = skm.precision_recall_fscore_support(t, p, labels=CLASSES)
    assert [m["precision"][c] for c in CLASSES] == pytest.approx(prec)
    assert [m["recall"][c] for c in CLASSES] == pytest.approx(rec)
    assert [m["f1"][c] for c in CLASSES] == pytest.approx(f1)
    assert [m["support"][c] for c in CLASSES] == sup.tolist()
    for avg in ("macro", "weighted"):
        assert m[f"{avg}_f1"] == pytest.approx(skm.f1_score(t, p, average=avg))
        assert m[f"{avg}_precision"] == pytest.approx(skm.precision_score(t, p, average=avg))
        assert m[f"{avg}_recall"] == pytest.approx(skm.recall_score(t, p, average=avg))
    assert m["confusion_matrix"] == skm.confusion_matrix(t, p, labels=CLASSES).tolist()
    assert _all_plain(m) and json.loads(json.dumps(m)) == m


def test_confusion_matrix_rows_are_true_classes():
    m = classification_metrics(["K1"] * 5 + ["K5"] * 2, ["K3"] * 5 + ["K5"] * 2, CLASSES)
    cm = np.array(m["confusion_matrix"])
    assert cm[0, 1] == 5 and cm[1, 0] == 0      # true K1 (row 0) predicted K3 (column 1)
    assert cm[2, 2] == 2 and cm.sum() == 7
    assert m["support"] == {"K1": 5, "K3": 0, "K5": 2, "K7": 0}
    assert m["recall"]["K1"] == 0.0 and m["precision"]["K3"] == 0.0  # zero_division=0


def test_indices_names_and_scores_give_the_same_metrics():
    ti, pi = _random_case(120, seed=3)
    by_index = classification_metrics(ti, pi, CLASSES)
    by_name = classification_metrics([CLASSES[i] for i in ti], [CLASSES[i] for i in pi], CLASSES)
    rng = np.random.default_rng(0)
    scores = rng.random((pi.size, 4)) * 0.5
    scores[np.arange(pi.size), pi] += 1.0          # argmax = pi
    by_scores = classification_metrics(ti, scores / scores.sum(axis=1, keepdims=True), CLASSES)
    assert by_index == by_name == by_scores
    # numeric class values are matched by value first (53 is class 1, not index 53)
    numeric = classification_metrics([51, 53, 53], [51, 53, 55], classes=[51, 53, 55])
    assert numeric["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 0, 0]]


def test_classification_validation_and_nan_policy():
    with pytest.raises(ValueError, match=r"len\(y_true\)=3, len\(y_pred\)=4"):
        classification_metrics(["K1", "K3", "K5"], ["K1", "K3", "K5", "K7"], CLASSES)
    with pytest.raises(ValueError, match="G2"):
        classification_metrics(["K1", "G2"], ["K1", "K3"], CLASSES)
    with pytest.raises(ValueError, match="one column per class"):
        classification_metrics([0, 1], np.ones((2, 3)), CLASSES)
    with pytest.raises(ValueError, match="unique"):
        classification_metrics([0], [0], ["K1", "K1"])
    with pytest.raises(ValueError, match="classes"):
        classification_metrics([0], [0], "K1")
    with pytest.raises(ValueError, match="1 in y_pred"):
        classification_metrics(["K1", "K3", "K5"], ["K1", None, "K5"], CLASSES)
    m = classification_metrics(["K1", "K3", "K5"], ["K1", None, "K5"], CLASSES, nan_policy="omit")
    assert m["n"] == 2 and m["n_omitted"] == 1 and m["accuracy"] == 1.0
    m = classification_metrics([0, 1, 2], [0.0, np.nan, 1.0], CLASSES, nan_policy="omit")
    assert m["n"] == 2 and m["accuracy"] == 0.5


# ----------------------------------------------------------------------------- second-order fit
def test_second_order_fit_matches_polyfit_and_its_band_covers_95_percent():
    rng = np.random.default_rng(42)
    x = rng.uniform(20, 65, 400)
    truth = np.array([0.004, 0.6, 4.0])
    y = np.polyval(truth, x) + rng.normal(0, 1.0, x.size)
    coeffs, band = second_order_fit(x, y)
    assert coeffs == pytest.approx(np.polyfit(x, y, 2), rel=1e-6)
    assert band.x.shape == band.fit.shape == band.lower.shape == band.upper.shape == (200,)
    assert band.x[0] == pytest.approx(x.min()) and band.x[-1] == pytest.approx(x.max())
    assert band.fit == pytest.approx(np.polyval(coeffs, band.x))
    assert band.sigma == pytest.approx(1.0, abs=0.1) and band.level == 0.95
    # new spectra from the same law fall inside the band ~95% of the time
    x_new = rng.uniform(20, 65, 20000)
    y_new = np.polyval(truth, x_new) + rng.normal(0, 1.0, x_new.size)
    inside = (y_new >= np.interp(x_new, band.x, band.lower)) & (y_new <= np.interp(x_new, band.x, band.upper))
    assert inside.mean() == pytest.approx(0.95, abs=0.01)
    # a wider level gives a wider band; the band is wider at the ends (leverage)
    _, band99 = second_order_fit(x, y, x=band.x, level=0.99)
    assert ((band99.upper - band99.lower) > (band.upper - band.lower)).all()
    width = band.upper - band.lower
    assert width[0] > width[100] and width[-1] > width[100]


def test_second_order_fit_validation():
    with pytest.raises(ValueError, match="n=3"):
        second_order_fit([1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="distinct labels=2"):
        second_order_fit([1, 1, 2, 2, 2], [1, 1, 2, 2, 3])
    with pytest.raises(ValueError, match="level=1.5"):
        second_order_fit([1, 2, 3, 4], [1, 2, 3, 4], level=1.5)
