"""AdaBoost over CART regression trees (scikit-learn's AdaBoost.R2)."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import AdaBoostRegressor
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted, validate_data

from specnet.baselines._common import check_positive, make_pca, split_channels

__all__ = ["AdaBoostCART"]


class AdaBoostCART(RegressorMixin, BaseEstimator):
    """AdaBoost (AdaBoost.R2, Drucker 1997) of CART regression trees, optional PCA front.

    The ensemble baseline for subtype regression, next to :class:`KernelRegression`, in
    the comparisons with the LAMOST ResNet of Wang et al. (2021):
    :class:`sklearn.ensemble.AdaBoostRegressor` boosting
    :class:`sklearn.tree.DecisionTreeRegressor` (CART) trees on the spectra's pixels
    (or on their first ``n_components`` principal components).

    Inputs: ``X`` ``(n, npix)`` or ``(n, npix, C)`` preprocessed spectra; only channel 0
    (flux) is used — masked pixels are expected to be filled by preprocessing, the mask
    channel is ignored. ``y`` ``(n,)`` subtypes (O0=0 … M9=69). ``predict`` → ``(n,)``.

    Parameters
    ----------
    n_estimators : int, default 50
        Boosting rounds (scikit-learn's default).
    max_depth : int or None, default 3
        Depth of each CART tree (None: grown until pure); 3 is scikit-learn's default base tree.
    learning_rate : float, default 1.0
        Shrinkage of each tree's weight.
    loss : {"linear", "square", "exponential"}, default "linear"
        AdaBoost.R2 loss.
    n_components : int, float or None, default None
        PCA before boosting (int: components; float in (0, 1): variance kept).
    random_state : int or None, default 0
        Seed of the boosting resampling and of the PCA.

    Attributes
    ----------
    model_ : sklearn.pipeline.Pipeline
        An optional ``("pca", PCA)`` step, then ``("adaboost", AdaBoostRegressor)``; fitted.
    feature_importances_ : ndarray ``(npix,)`` or ``(n_components,)``
        Impurity-based importances of the boosted trees (per pixel without PCA).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.uniform(20, 60, 200); X = np.sin(np.outer(y, np.linspace(0, 0.2, 30)))
    >>> model = AdaBoostCART(n_estimators=20).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, n_estimators=50, max_depth=3, learning_rate=1.0, loss="linear", n_components=None,
                 random_state=0):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.loss = loss
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y):
        """Fit the (PCA +) boosted trees on spectra ``X`` and subtypes ``y`` ``(n,)``."""
        check_positive("n_estimators", self.n_estimators, integer=True)
        check_positive("max_depth", self.max_depth, integer=True, allow_none=True)
        check_positive("learning_rate", self.learning_rate)
        flux, _ = split_channels(X)
        flux, y = validate_data(self, flux, y, dtype=np.float64, y_numeric=True)
        steps = []
        pca = make_pca(self.n_components, self.random_state)
        if pca is not None:
            steps.append(("pca", pca))
        tree = DecisionTreeRegressor(max_depth=None if self.max_depth is None else int(self.max_depth),
                                     random_state=self.random_state)
        steps.append(("adaboost", AdaBoostRegressor(estimator=tree, n_estimators=int(self.n_estimators),
                                                    learning_rate=self.learning_rate, loss=self.loss,
                                                    random_state=self.random_state)))
        self.model_ = Pipeline(steps).fit(flux, y)
        return self

    @property
    def feature_importances_(self) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_[-1].feature_importances_

    def predict(self, X) -> np.ndarray:
        """Predicted subtype of each spectrum in ``X``, shape ``(n,)``."""
        check_is_fitted(self, "model_")
        flux, _ = split_channels(X)
        flux = validate_data(self, flux, reset=False, dtype=np.float64)
        return self.model_.predict(flux)
