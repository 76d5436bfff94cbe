"""Nadaraya–Watson kernel regression with a per-query adaptive bandwidth."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted, validate_data

from specnet.baselines._common import check_positive, make_pca, split_channels

__all__ = ["KernelRegression"]


class KernelRegression(RegressorMixin, BaseEstimator):
    """Nonparametric (Nadaraya–Watson) kernel regression with an adaptive bandwidth.

    One of the classical baselines Wang et al. (2021) compare their LAMOST ResNet
    subtype regressor with: the subtype of a spectrum is the kernel-weighted mean of
    the training subtypes, with a Gaussian kernel whose bandwidth adapts to each query,
    ``h = bandwidth_factor × d_min``, where ``d_min`` is the query's distance to its
    nearest training spectrum. Dense regions of the training set thus get a narrow
    kernel and sparse regions a wide one; a query identical to a training spectrum
    (``d_min = 0``) gets that spectrum's label (the ``h → 0`` limit).

    For speed only the ``n_neighbors`` nearest training spectra enter the sum (found
    with :class:`sklearn.neighbors.NearestNeighbors`); with ``h = f·d_min`` the weight of
    the k-th neighbour is ``exp(-(d_k² - d_min²) / (2h²))``, so far neighbours contribute
    nothing anyway. Optionally distances are measured after a PCA (``n_components``).

    Inputs: ``X`` ``(n, npix)`` or ``(n, npix, C)`` preprocessed spectra; only channel 0
    (flux) is used — masked pixels are expected to be filled by preprocessing
    (:func:`specnet.preprocess.fill_masked`), the mask channel is ignored. ``y``
    ``(n,)`` subtypes on the O0=0 … M9=69 scale. ``predict`` returns ``(n,)`` floats.

    Parameters
    ----------
    n_neighbors : int, default 50
        Neighbours entering each weighted mean (capped at the training-set size).
    bandwidth_factor : float, default 1.0
        ``h = bandwidth_factor × d_min`` (same distance units as the spectra).
    n_components : int, float or None, default None
        PCA before distances (int: components; float in (0, 1): variance kept).
    metric : str, default "euclidean"
        Distance, as :class:`~sklearn.neighbors.NearestNeighbors` understands it.
    random_state : int or None, default 0
        Seed of the PCA's randomised solver.
    n_jobs : int or None
        Passed to :class:`~sklearn.neighbors.NearestNeighbors`.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.uniform(20, 60, 200); X = np.sin(np.outer(y, np.linspace(0, 0.2, 30)))
    >>> model = KernelRegression(n_neighbors=20).fit(X, y)
    >>> bool(abs(model.predict(X[:1])[0] - y[0]) < 1e-6)
    True
    """

    def __init__(self, n_neighbors=50, bandwidth_factor=1.0, n_components=None, metric="euclidean",
                 random_state=0, n_jobs=None):
        self.n_neighbors = n_neighbors
        self.bandwidth_factor = bandwidth_factor
        self.n_components = n_components
        self.metric = metric
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _features(self, X, reset: bool):
        flux, _ = split_channels(X)
        flux = validate_data(self, flux, reset=reset, dtype=np.float64)
        return flux if self.pca_ is None else self.pca_.transform(flux)

    def fit(self, X, y):
        """Store the (PCA-projected) training spectra ``X`` and their subtypes ``y`` ``(n,)``."""
        check_positive("n_neighbors", self.n_neighbors, integer=True)
        check_positive("bandwidth_factor", self.bandwidth_factor)
        flux, _ = split_channels(X)
        flux, y = validate_data(self, flux, y, dtype=np.float64, y_numeric=True)
        self.pca_ = make_pca(self.n_components, self.random_state)
        feats = flux if self.pca_ is None else self.pca_.fit_transform(flux)
        self.y_ = np.asarray(y, dtype=np.float64)
        self.nn_ = NearestNeighbors(n_neighbors=min(int(self.n_neighbors), len(self.y_)), metric=self.metric,
                                    n_jobs=self.n_jobs).fit(feats)
        return self

    def _neighbours(self, X):
        check_is_fitted(self, "nn_")
        return self.nn_.kneighbors(self._features(X, reset=False))

    def bandwidth(self, X) -> np.ndarray:
        """Adaptive bandwidth ``h = bandwidth_factor × d_min`` of each query, shape ``(n,)``."""
        dist, _ = self._neighbours(X)
        return self.bandwidth_factor * dist[:, 0]

    def predict(self, X) -> np.ndarray:
        """Kernel-weighted mean subtype of each spectrum in ``X``, shape ``(n,)``."""
        dist, idx = self._neighbours(X)
        d_min = dist[:, :1]
        h = self.bandwidth_factor * d_min
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = (dist ** 2 - d_min ** 2) / (2.0 * h ** 2)
            w = np.where(h > 0, np.exp(-z), (dist <= d_min).astype(np.float64))
        return np.sum(w * self.y_[idx], axis=1) / np.sum(w, axis=1)
