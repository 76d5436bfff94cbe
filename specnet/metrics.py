"""The papers' metrics, in one place (pure numpy / scikit-learn; no TensorFlow).

Regression on the subtype scale (O0=0, B0=10, A0=20, F0=30, G0=40, K0=50, M0=60
… M9=69, L0=70 … T9=89) follows Wang et al. (2021, the LAMOST ResNet paper):
the error of one spectrum is ``e = y_pred - y_true`` in subtypes, and

* ``mae``  = mean(|e|)
* ``std``  = sqrt(mean((|e| - MAE)²)) — Wang et al.'s "Std" is the scatter of the
  **absolute** errors about the MAE, *not* ``np.std(e)`` of the signed errors;
* ``bias`` = mean(e), ``rmse`` = sqrt(mean(e²)), ``max_abs_error`` = max(|e|),
  ``median_abs_error`` = median(|e|);
* ``within_0.5``, ``within_1``, ``within_2`` = fraction with |e| ≤ 0.5, 1, 2 subtypes.

Classification (Liu & Wang 2022, the SDSS K-subtype CNN) uses scikit-learn's
accuracy, per-class precision / recall / F1 / support, their macro and
support-weighted means, and the confusion matrix (rows = true class, columns =
predicted class).

Every function validates its inputs (a ``ValueError`` quoting what it received),
handles NaN predictions only as told (``nan_policy="raise"`` or ``"omit"``) and
returns plain JSON-serialisable Python ``float``/``int``/``str``/``list``/``dict``.

>>> m = regression_metrics([10, 20, 30, 40], [10, 20.5, 31, 43])
>>> m["mae"], m["within_1"]
(1.125, 0.75)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from specnet.labels import CLASSES

__all__ = [
    "WITHIN_THRESHOLDS",
    "regression_metrics",
    "per_class_regression",
    "class_letters",
    "classification_metrics",
    "second_order_fit",
    "PredictionBand",
]

#: Thresholds (in subtypes) of the ``within_*`` fractions; key ``f"within_{t:g}"``.
WITHIN_THRESHOLDS = (0.5, 1.0, 2.0)

_NAN_POLICIES = ("raise", "omit")


# ----------------------------------------------------------------------------- helpers
def _check_nan_policy(nan_policy: str) -> None:
    if nan_policy not in _NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {_NAN_POLICIES}. Received: nan_policy={nan_policy!r}")


def _as_float_1d(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers on the subtype scale. Received: {name}={values!r:.80}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional. Received: {name}.shape={arr.shape}")
    return arr


def _check_lengths(n_true: int, n_pred: int) -> None:
    if n_true != n_pred:
        raise ValueError(f"y_true and y_pred must have the same length. "
                         f"Received: len(y_true)={n_true}, len(y_pred)={n_pred}")
    if n_true == 0:
        raise ValueError("y_true and y_pred must not be empty. Received: len(y_true)=0, len(y_pred)=0")


def _paired_floats(y_true, y_pred, nan_policy: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Validated float64 pairs; returns ``(y_true, y_pred, n_omitted)``."""
    _check_nan_policy(nan_policy)
    t = _as_float_1d("y_true", y_true)
    p = _as_float_1d("y_pred", y_pred)
    _check_lengths(t.size, p.size)
    if np.isinf(t).any() or np.isinf(p).any():
        raise ValueError(f"y_true and y_pred must not contain infinities. Received: "
                         f"{int(np.isinf(t).sum())} in y_true, {int(np.isinf(p).sum())} in y_pred")
    bad = np.isnan(t) | np.isnan(p)
    n_bad = int(bad.sum())
    if n_bad:
        if nan_policy == "raise":
            raise ValueError(f"y_true/y_pred contain NaN (pass nan_policy='omit' to drop those pairs). "
                             f"Received: {int(np.isnan(t).sum())} NaN in y_true, "
                             f"{int(np.isnan(p).sum())} NaN in y_pred of {t.size}")
        t, p = t[~bad], p[~bad]
        if t.size == 0:
            raise ValueError(f"no finite (y_true, y_pred) pairs left after omitting NaN. "
                             f"Received: len(y_true)={bad.size}, n_nan={n_bad}")
    return t, p, n_bad


def _error_metrics(t: np.ndarray, p: np.ndarray) -> dict:
    e = p - t
    a = np.abs(e)
    mae = float(a.mean())
    out = {
        "n": int(t.size),
        "mae": mae,
        "std": float(np.sqrt(np.mean((a - mae) ** 2))),
        "bias": float(e.mean()),
        "rmse": float(np.sqrt(np.mean(e ** 2))),
        "max_abs_error": float(a.max()),
        "median_abs_error": float(np.median(a)),
    }
    for thr in WITHIN_THRESHOLDS:
        out[f"within_{thr:g}"] = float(np.mean(a <= thr))
    return out


# ----------------------------------------------------------------------------- regression
def regression_metrics(y_true, y_pred, nan_policy: str = "raise") -> dict:
    """Wang et al. (2021) regression metrics on the subtype scale (O0=0 … M9=69).

    With ``e = y_pred - y_true`` (subtypes): ``mae = mean|e|``,
    ``std = sqrt(mean((|e| - mae)²))`` (scatter of the absolute errors about the
    MAE, Wang et al.'s definition), ``bias = mean(e)``, ``rmse = sqrt(mean(e²))``,
    ``max_abs_error``, ``median_abs_error`` and ``within_0.5``/``within_1``/
    ``within_2`` (fractions with ``|e| <= 0.5, 1, 2``).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,)
        Label and predicted subtypes.
    nan_policy : {"raise", "omit"}
        ``"omit"`` drops pairs where either value is NaN (counted in ``n_omitted``).

    Returns
    -------
    dict
        ``n`` (pairs used), ``n_omitted`` and the metrics above as Python floats.

    >>> regression_metrics([50, 52], [51, 52])["bias"]
    0.5
    """
    t, p, n_bad = _paired_floats(y_true, y_pred, nan_policy)
    out = _error_metrics(t, p)
    out["n_omitted"] = n_bad
    return out


def class_letters(subtypes) -> np.ndarray:
    """The spectral-class letter (``"OBAFGKMLT"``) of each subtype on the scale.

    ``floor(subtype / 10)`` indexes the letters: 53.4 → ``"K"``, 59.9 → ``"K"``,
    60 → ``"M"``. Values must lie in [0, 90) (O0 … T9.x); NaN is refused.

    >>> class_letters([3, 53.4, 60]).tolist()
    ['O', 'K', 'M']
    """
    s = _as_float_1d("subtypes", subtypes)
    bad = ~np.isfinite(s) | (s < 0) | (s >= 10 * len(CLASSES))
    if bad.any():
        raise ValueError(f"subtypes must be finite and in [0, {10 * len(CLASSES)}) (O0..T9). "
                         f"Received: subtypes={s[bad][:5].tolist()} ({int(bad.sum())} out of range)")
    return np.asarray(list(CLASSES))[(s // 10).astype(int)]


def per_class_regression(y_true, y_pred, nan_policy: str = "raise") -> dict:
    """:func:`regression_metrics` grouped by the spectral class of the **label**.

    Keys are the class letters present in ``y_true`` in scale order (O, B, A, F,
    G, K, M, L, T); each value holds the same metrics as
    :func:`regression_metrics` (without ``n_omitted``).

    >>> sorted(per_class_regression([53.4, 55, 41], [53, 56, 41]))
    ['G', 'K']
    """
    t, p, _ = _paired_floats(y_true, y_pred, nan_policy)
    letters = class_letters(t)
    return {c: _error_metrics(t[letters == c], p[letters == c]) for c in CLASSES if (letters == c).any()}


# ----------------------------------------------------------------------------- classification
def _class_names(classes) -> list:
    if classes is None or isinstance(classes, (str, bytes)):
        raise ValueError(f"classes must be a sequence of class names, e.g. ['K1', 'K3']. Received: classes={classes!r}")
    names = list(classes)
    if not names:
        raise ValueError("classes must not be empty. Received: classes=[]")
    keys = [str(c) for c in names]
    if len(set(keys)) != len(keys):
        raise ValueError(f"classes must be unique. Received: classes={names!r}")
    return names


def _lookup(table: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each value in ``table`` (vectorised); returns ``(index, found)``."""
    order = np.argsort(table, kind="stable")
    pos = np.clip(np.searchsorted(table[order], values), 0, table.size - 1)
    found = table[order][pos] == values
    return order[pos], found


def _is_missing_obj(arr: np.ndarray) -> np.ndarray:
    test = np.frompyfunc(lambda v: v is None or (isinstance(v, (float, np.floating)) and v != v), 1, 1)
    return test(arr).astype(bool)


def _label_indices(name: str, values, names: list) -> tuple[np.ndarray, np.ndarray]:
    """Class indices of ``values`` (names, indices or, for 2-D input, scores) and a missing mask."""
    n_cls = len(names)
    arr = np.asarray(values, dtype=object if isinstance(values, (list, tuple)) else None)
    if arr.ndim == 2 and arr.dtype.kind in "biufO":
        scores = arr.astype(np.float64)
        if scores.shape[1] != n_cls:
            raise ValueError(f"{name} scores must have one column per class. "
                             f"Received: {name}.shape={scores.shape}, len(classes)={n_cls}")
        missing = ~np.isfinite(scores).all(axis=1)
        return np.where(missing, 0, np.argmax(np.nan_to_num(scores, nan=-np.inf), axis=1)), missing
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (or 2-D class scores). Received: {name}.shape={arr.shape}")
    if arr.dtype.kind == "O":
        missing = _is_missing_obj(arr)
        is_text = np.frompyfunc(lambda v: isinstance(v, (str, bytes, np.str_)), 1, 1)(arr).astype(bool)
        try:
            num = None if is_text.any() else np.where(missing, np.nan, arr).astype(np.float64)
        except (TypeError, ValueError):
            num = None
    elif arr.dtype.kind in "biuf":
        num = arr.astype(np.float64)
        missing = np.isnan(num)
    else:
        num, missing = None, np.zeros(arr.shape, bool)
    good = ~missing
    # 1) match by value (as names)
    if num is not None and all(isinstance(c, (int, float, np.integer, np.floating)) for c in names):
        idx, found = _lookup(np.asarray(names, dtype=np.float64), num)
    else:
        text = np.where(missing, "", arr).astype(str)
        idx, found = _lookup(np.asarray([str(c) for c in names]), text)
    if found[good].all():
        return np.where(missing, 0, idx), missing
    # 2) integer indices into classes
    if num is not None:
        is_index = (num == np.round(num)) & (num >= 0) & (num < n_cls)
        if is_index[good].all():
            return np.where(missing, 0, num).astype(np.int64), missing
    unknown = np.unique(np.asarray(arr[good & ~found], dtype=str))[:5].tolist()
    raise ValueError(f"{name} holds labels that are neither class names nor indices into classes={names!r}. "
                     f"Received: {name} contains {unknown}")


def classification_metrics(y_true, y_pred, classes: Sequence, nan_policy: str = "raise") -> dict:
    """Liu & Wang (2022) classification metrics, computed with scikit-learn.

    Labels may be class names (``"K3"``) or integer indices into ``classes``:
    values are first matched to ``classes`` by name; if some are not names, all
    are read as indices. ``y_pred`` may also be 2-D scores/probabilities of shape
    (N, len(classes)), reduced by argmax. Missing predictions (None, NaN, a score
    row with NaN) raise unless ``nan_policy="omit"``, which drops those pairs.

    Per-class precision/recall/F1 use ``zero_division=0``; the macro means
    average over **all** ``classes`` (also ones absent from ``y_true``), the
    weighted means weight by support (scikit-learn's ``average="macro"`` and
    ``"weighted"`` with ``labels=range(len(classes))``).

    Returns
    -------
    dict
        ``n``, ``n_omitted``, ``classes`` (names as str), ``accuracy``,
        ``precision``/``recall``/``f1``/``support`` (dicts keyed by class name),
        ``macro_precision``, ``macro_recall``, ``macro_f1``,
        ``weighted_precision``, ``weighted_recall``, ``weighted_f1`` and
        ``confusion_matrix`` (list of lists of int; rows = true, columns = predicted).

    >>> m = classification_metrics(["K1", "K3", "K3"], ["K1", "K3", "K1"], classes=["K1", "K3"])
    >>> m["accuracy"], m["confusion_matrix"]
    (0.6666666666666666, [[1, 0], [1, 1]])
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    _check_nan_policy(nan_policy)
    names = _class_names(classes)
    t, t_missing = _label_indices("y_true", y_true, names)
    p, p_missing = _label_indices("y_pred", y_pred, names)
    _check_lengths(t.size, p.size)
    bad = t_missing | p_missing
    n_bad = int(bad.sum())
    if n_bad:
        if nan_policy == "raise":
            raise ValueError(f"y_true/y_pred contain missing labels (None/NaN; pass nan_policy='omit' to drop them). "
                             f"Received: {int(t_missing.sum())} in y_true, {int(p_missing.sum())} in y_pred of {t.size}")
        t, p = t[~bad], p[~bad]
        if t.size == 0:
            raise ValueError(f"no labelled pairs left after omitting missing ones. "
                             f"Received: len(y_true)={bad.size}, n_missing={n_bad}")
    labels = np.arange(len(names))
    keys = [str(c) for c in names]
    prec, rec, f1, sup = precision_recall_fscore_support(t, p, labels=labels, average=None, zero_division=0)
    out = {
        "n": int(t.size),
        "n_omitted": n_bad,
        "classes": keys,
        "accuracy": float(accuracy_score(t, p)),
        "precision": dict(zip(keys, map(float, prec))),
        "recall": dict(zip(keys, map(float, rec))),
        "f1": dict(zip(keys, map(float, f1))),
        "support": dict(zip(keys, map(int, sup))),
    }
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(t, p, labels=labels, average=avg, zero_division=0)
        out.update({f"{avg}_precision": float(ap), f"{avg}_recall": float(ar), f"{avg}_f1": float(af)})
    out["confusion_matrix"] = confusion_matrix(t, p, labels=labels).astype(int).tolist()
    return out


# ----------------------------------------------------------------------------- second-order fit
class PredictionBand(NamedTuple):
    """The quadratic fit and its prediction band evaluated on a grid ``x`` (subtypes)."""

    x: np.ndarray        #: grid of label subtypes, shape (M,)
    fit: np.ndarray      #: fitted predicted subtype at ``x``, shape (M,)
    lower: np.ndarray    #: lower edge of the prediction band, shape (M,)
    upper: np.ndarray    #: upper edge of the prediction band, shape (M,)
    level: float         #: coverage of the band (0.95 for 95 %)
    sigma: float         #: residual standard deviation of the fit (subtypes)


def second_order_fit(y_true, y_pred, x=None, level: float = 0.95, nan_policy: str = "raise",
                     n_grid: int = 200) -> tuple[np.ndarray, PredictionBand]:
    """Quadratic least-squares fit of predicted vs label subtype with its prediction band.

    As in Wang et al. (2021, Fig. 2): ``y_pred ≈ a·y_true² + b·y_true + c``. The
    ``level`` prediction band for a *new* spectrum at ``x0`` is
    ``fit(x0) ± t_{(1+level)/2, N-3} · s · sqrt(1 + h(x0))`` with ``s²`` the residual
    variance (N−3 degrees of freedom) and ``h(x0) = x0ᵀ (XᵀX)⁻¹ x0`` the leverage
    (computed on centred, scaled ``x`` for numerical stability).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,)
        Label and predicted subtypes; at least 4 pairs and 3 distinct labels.
    x : array-like, optional
        Grid (subtypes) on which to evaluate the band; default ``n_grid`` points
        spanning ``[min(y_true), max(y_true)]``.
    level : float
        Band coverage in (0, 1).

    Returns
    -------
    coeffs : ndarray, shape (3,)
        ``[a, b, c]``, highest power first (``np.polyval(coeffs, x)``).
    band : PredictionBand
        ``x``, ``fit``, ``lower``, ``upper`` arrays on the grid, ``level``, ``sigma``.

    >>> coeffs, band = second_order_fit([0, 10, 20, 30, 40], [1, 10, 21, 30, 41], x=[0, 40])
    >>> band.lower.shape, bool((band.lower < band.fit).all())
    ((2,), True)
    """
    from scipy import stats

    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be in (0, 1). Received: level={level!r}")
    t, p, _ = _paired_floats(y_true, y_pred, nan_policy)
    if t.size < 4 or np.unique(t).size < 3:
        raise ValueError(f"a second-order fit needs at least 4 pairs and 3 distinct labels. "
                         f"Received: n={t.size}, distinct labels={np.unique(t).size}")
    grid = np.linspace(t.min(), t.max(), n_grid) if x is None else _as_float_1d("x", x)
    centre, scale = t.mean(), t.std()
    u = (t - centre) / scale
    design = np.stack([u ** 2, u, np.ones_like(u)], axis=1)
    beta, *_ = np.linalg.lstsq(design, p, rcond=None)
    dof = t.size - 3
    resid = p - design @ beta
    sigma = float(np.sqrt(resid @ resid / dof)) if dof > 0 else 0.0
    _, r = np.linalg.qr(design)
    ug = (grid - centre) / scale
    grid_design = np.stack([ug ** 2, ug, np.ones_like(ug)], axis=1)
    leverage = np.sum(np.linalg.solve(r.T, grid_design.T) ** 2, axis=0)
    fit = grid_design @ beta
    half = stats.t.ppf(0.5 + level / 2, dof) * sigma * np.sqrt(1.0 + leverage)
    # back to powers of x: a u² + b u + c with u = (x - m)/s
    a, b, c = beta
    coeffs = np.array([a / scale ** 2,
                       b / scale - 2 * a * centre / scale ** 2,
                       a * centre ** 2 / scale ** 2 - b * centre / scale + c])
    return coeffs, PredictionBand(grid, fit, fit - half, fit + half, float(level), sigma)
