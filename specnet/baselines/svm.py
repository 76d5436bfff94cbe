"""Support-vector classifier of Liu & Wang (2022) and its grid search over C."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from specnet.baselines._common import check_positive, split_channels

__all__ = ["SVMClassifier", "svm_grid_search"]


class SVMClassifier(ClassifierMixin, BaseEstimator):
    """Standardised pixels → support-vector classifier (the SVM baseline of Liu & Wang 2022).

    Liu & Wang (2022) compare their BERT-CNN on SDSS DR10 K/F/G subclasses
    (min-max normalised spectra) with an SVM whose parameters they choose by grid
    search with 10-fold cross-validation; :func:`svm_grid_search` does that. This is a
    :class:`~sklearn.pipeline.Pipeline` of :class:`~sklearn.preprocessing.StandardScaler`
    (per pixel) and :class:`~sklearn.svm.SVC` (one-vs-one multi-class).

    Defaults — our choice, to be checked against the paper: ``C=0.1`` (the value the
    grid search is reported to pick) and a **linear** kernel, the usual choice when
    there are many more pixels than spectra; ``kernel="rbf"`` (with ``gamma``) is
    available.

    Inputs: ``X`` ``(n, npix)`` or ``(n, npix, C)`` preprocessed spectra; only channel 0
    (flux) is used, the mask channel is ignored (masked pixels are expected to be
    filled by preprocessing). ``y`` ``(n,)`` class labels (e.g. ``"K1"``, ``"K3"`` or
    indices). ``predict`` → ``(n,)`` labels; ``decision_function`` as :class:`~sklearn.svm.SVC`.

    Parameters
    ----------
    C : float, default 0.1
    kernel : str, default "linear"
    gamma : "scale", "auto" or float, default "scale"  (rbf/poly/sigmoid only)
    class_weight : dict, "balanced" or None
    random_state : int or None, default 0

    Notes
    -----
    For class probabilities wrap the model in
    ``sklearn.calibration.CalibratedClassifierCV(SVMClassifier(), ensemble=False)``
    (``SVC(probability=True)`` is deprecated since scikit-learn 1.9).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["K1", "K5"], 30); X = rng.normal(size=(60, 20)); X[y == "K5", :5] += 2
    >>> SVMClassifier().fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(self, C=0.1, kernel="linear", gamma="scale", class_weight=None, random_state=0):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.class_weight = class_weight
        self.random_state = random_state

    def _flux(self, X):
        check_is_fitted(self, "pipeline_")
        flux, _ = split_channels(X)
        return validate_data(self, flux, reset=False, dtype=np.float64)

    def fit(self, X, y):
        """Fit scaler + SVC on spectra ``X`` and labels ``y`` ``(n,)``."""
        check_positive("C", self.C)
        flux, _ = split_channels(X)
        flux, y = validate_data(self, flux, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        svc = SVC(C=self.C, kernel=self.kernel, gamma=self.gamma, class_weight=self.class_weight,
                  random_state=self.random_state)
        self.pipeline_ = Pipeline([("scale", StandardScaler()), ("svc", svc)]).fit(flux, y)
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted class of each spectrum in ``X``, shape ``(n,)``."""
        flux = self._flux(X)
        return self.pipeline_.predict(flux)

    def decision_function(self, X) -> np.ndarray:
        """SVC decision values, ``(n,)`` for two classes, ``(n, n_classes)`` otherwise."""
        flux = self._flux(X)
        return self.pipeline_.decision_function(flux)


def svm_grid_search(X, y, Cs=(0.01, 0.1, 1, 10), cv=10, seed=0, n_jobs=None, **svm_params) -> GridSearchCV:
    """Choose the SVM's ``C`` by stratified k-fold cross-validated accuracy (Liu & Wang 2022).

    Parameters
    ----------
    X : array ``(n, npix)`` or ``(n, npix, C)``; y : array ``(n,)`` class labels.
    Cs : sequence of positive floats — the grid of ``C``.
    cv : int ≥ 2 — folds of :class:`~sklearn.model_selection.StratifiedKFold` (shuffled with ``seed``).
    seed : int — seed of the fold shuffling (and of the SVM's ``random_state``).
    n_jobs : int or None — parallel fits, as in :class:`~sklearn.model_selection.GridSearchCV`.
    **svm_params : other :class:`SVMClassifier` parameters (``kernel``, ``gamma``, ...).

    Returns
    -------
    GridSearchCV
        Fitted and refitted on all of ``X``: ``best_params_["C"]``, ``best_estimator_``,
        ``cv_results_``; it predicts like the best :class:`SVMClassifier`.

    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30); X = rng.normal(size=(60, 10)); X[y == 1, :3] += 2
    >>> svm_grid_search(X, y, cv=3).best_params_["C"] in (0.01, 0.1, 1, 10)
    True
    """
    Cs = list(Cs) if isinstance(Cs, (list, tuple, np.ndarray)) else [Cs]
    if not Cs:
        raise ValueError(f"Cs must hold at least one C. Received: Cs={Cs!r}")
    for c in Cs:
        check_positive("C", c)
    check_positive("cv", cv, integer=True)
    if int(cv) < 2:
        raise ValueError(f"cv must be at least 2 folds. Received: cv={cv!r}")
    svm_params.setdefault("random_state", seed)
    folds = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=seed)
    search = GridSearchCV(SVMClassifier(**svm_params), {"C": [float(c) for c in Cs]}, cv=folds,
                          scoring="accuracy", n_jobs=n_jobs, refit=True)
    return search.fit(X, y)
