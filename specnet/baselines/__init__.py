"""The papers' classical baselines as scikit-learn estimators (numpy / scipy / scikit-learn only).

They work on preprocessed spectra, the arrays :func:`specnet.preprocess.preprocess`
returns: ``X`` of shape ``(n, npix)`` or ``(n, npix, C)`` with channel 0 the
normalised flux and, when ``C == 2``, channel 1 the bad-pixel mask (1.0 = bad).
All use channel 0 as the feature vector; only :class:`TemplateChi2` can weight
pixels, so it is the one that honours the mask (weight 0). The others rely on the
preprocessing having filled masked pixels (:func:`specnet.preprocess.fill_masked`).

=================  ==============================================================  ======================
name               estimator                                                       task
=================  ==============================================================  ======================
``"kernel"``       :class:`KernelRegression` — Nadaraya–Watson, adaptive h         subtype regression
``"adaboost"``     :class:`AdaBoostCART` — AdaBoost.R2 over CART trees             subtype regression
``"kmeans"``       :class:`KMeansSubtype` — K-Means, cluster → median/majority     regression or classes
``"svm"``          :class:`SVMClassifier` — StandardScaler + SVC (Liu & Wang)      classification
``"chi2"``         :class:`TemplateChi2` — minimum χ² against labelled templates   template label
=================  ==============================================================  ======================

Every estimator is a :class:`sklearn.base.BaseEstimator` (``get_params``,
``set_params``, :func:`sklearn.base.clone`, usable in ``Pipeline``/``GridSearchCV``) with
seeds (``random_state=0``) wherever randomness enters.

>>> model = make_baseline("kernel", n_neighbors=10)
>>> model.get_params()["n_neighbors"]
10
"""
from __future__ import annotations

from sklearn.base import BaseEstimator

from specnet.baselines.adaboost import AdaBoostCART
from specnet.baselines.chi2 import TemplateChi2
from specnet.baselines.kernel import KernelRegression
from specnet.baselines.kmeans import KMeansSubtype
from specnet.baselines.svm import SVMClassifier, svm_grid_search

__all__ = [
    "BASELINES",
    "make_baseline",
    "KernelRegression",
    "AdaBoostCART",
    "KMeansSubtype",
    "SVMClassifier",
    "svm_grid_search",
    "TemplateChi2",
]

#: Baseline name → estimator class.
BASELINES: dict[str, type[BaseEstimator]] = {
    "kernel": KernelRegression,
    "adaboost": AdaBoostCART,
    "kmeans": KMeansSubtype,
    "svm": SVMClassifier,
    "chi2": TemplateChi2,
}


def make_baseline(name: str, **params) -> BaseEstimator:
    """A new, unfitted baseline by name, with ``params`` set (scikit-learn's ``set_params``).

    Raises ``ValueError`` for an unknown name or an unknown parameter.

    >>> make_baseline("svm", C=1.0)
    SVMClassifier(C=1.0)
    """
    if not isinstance(name, str) or name not in BASELINES:
        raise ValueError(f"Unknown baseline; choose one of {sorted(BASELINES)}. Received: name={name!r}")
    return BASELINES[name]().set_params(**params)
