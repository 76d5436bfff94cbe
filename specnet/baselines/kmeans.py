"""K-Means clusters of spectra, each cluster labelled from its training members."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from specnet.baselines._common import check_positive, make_pca, split_channels

__all__ = ["KMeansSubtype"]

_TASKS = ("regression", "classification")


def _cluster_medians(cluster: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``y`` per cluster (vectorised via one lexsort); NaN for empty clusters."""
    order = np.lexsort((y, cluster))
    ys = y[order]
    counts = np.bincount(cluster, minlength=k)
    starts = np.cumsum(counts) - counts
    filled = counts > 0
    lo = np.where(filled, starts + (counts - 1) // 2, 0)
    hi = np.where(filled, starts + counts // 2, 0)
    med = np.where(filled, 0.5 * (ys[lo] + ys[hi]), np.nan)
    return med, counts


def _cluster_majority(cluster: np.ndarray, y_index: np.ndarray, k: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Most frequent class index per cluster (ties → lowest index); -1 for empty clusters."""
    votes = np.bincount(cluster * n_classes + y_index, minlength=k * n_classes).reshape(k, n_classes)
    counts = votes.sum(axis=1)
    return np.where(counts > 0, votes.argmax(axis=1), -1), counts


class KMeansSubtype(BaseEstimator):
    """K-Means clustering turned into a subtype predictor.

    The unsupervised baseline of the comparisons with the networks (Wang et al. 2021's
    ResNet, Liu & Wang 2022's BERT-CNN): :class:`sklearn.cluster.KMeans`
    groups the training spectra (optionally after a PCA) into ``n_clusters``
    clusters; each cluster is labelled with the **median** training subtype of its
    members (``task="regression"``) or their **majority** class
    (``task="classification"``); a new spectrum gets the label of its nearest cluster
    centre. An empty cluster (possible only with unusual data) gets the label of the
    whole training set (median / majority). The labels ``y`` are used only after
    clustering, never to form clusters.

    Inputs: ``X`` ``(n, npix)`` or ``(n, npix, C)`` preprocessed spectra; only channel 0
    (flux) is used, the mask channel is ignored (masked pixels are expected to be
    filled by preprocessing). ``y`` ``(n,)`` subtypes (regression) or class labels of
    any type (classification). ``predict`` → ``(n,)``.

    Parameters
    ----------
    n_clusters : int, default 8
    task : {"regression", "classification"}, default "regression"
    n_components : int, float or None, default None
        PCA before clustering (int: components; float in (0, 1): variance kept).
    n_init : int, default 10
        K-Means restarts (best inertia kept).
    max_iter : int, default 300
    random_state : int or None, default 0
        Seed of the K-Means initialisation and of the PCA.

    Attributes
    ----------
    kmeans_ : sklearn.cluster.KMeans;  n_iter_ : int — its iterations.
    cluster_labels_ : ndarray ``(n_clusters,)`` — the label of each cluster.
    cluster_sizes_ : ndarray ``(n_clusters,)`` — training members per cluster.
    classes_ : ndarray — the training classes (classification only).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([25.0, 45.0, 65.0], 20)
    >>> X = np.sin(np.outer(y, np.linspace(0, 0.1, 40))) + 0.01 * rng.normal(size=(60, 40))
    >>> model = KMeansSubtype(n_clusters=3).fit(X, y)
    >>> sorted(model.cluster_labels_.tolist())
    [25.0, 45.0, 65.0]
    """

    def __init__(self, n_clusters=8, task="regression", n_components=None, n_init=10, max_iter=300, random_state=0):
        self.n_clusters = n_clusters
        self.task = task
        self.n_components = n_components
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(poor_score=True)
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags(poor_score=True)
        tags.target_tags.required = True
        return tags

    def _features(self, X):
        flux, _ = split_channels(X)
        flux = validate_data(self, flux, reset=False, dtype=np.float64)
        return flux if self.pca_ is None else self.pca_.transform(flux)

    def fit(self, X, y):
        """Cluster the spectra ``X`` and label each cluster from ``y`` ``(n,)``."""
        if self.task not in _TASKS:
            raise ValueError(f"task must be one of {_TASKS}. Received: task={self.task!r}")
        for name in ("n_clusters", "n_init", "max_iter"):
            check_positive(name, getattr(self, name), integer=True)
        flux, _ = split_channels(X)
        flux, y = validate_data(self, flux, y, dtype=np.float64, y_numeric=self.task == "regression")
        self.pca_ = make_pca(self.n_components, self.random_state)
        feats = flux if self.pca_ is None else self.pca_.fit_transform(flux)
        k = int(self.n_clusters)
        self.kmeans_ = KMeans(n_clusters=k, n_init=int(self.n_init), max_iter=int(self.max_iter),
                              random_state=self.random_state).fit(feats)
        self.n_iter_ = self.kmeans_.n_iter_
        cluster = self.kmeans_.labels_
        if self.task == "regression":
            y = np.asarray(y, dtype=np.float64)
            labels, counts = _cluster_medians(cluster, y, k)
            self.cluster_labels_ = np.where(counts > 0, labels, np.median(y))
        else:
            check_classification_targets(y)
            self.classes_, y_index = np.unique(y, return_inverse=True)
            index, counts = _cluster_majority(cluster, y_index, k, len(self.classes_))
            fallback = np.bincount(y_index).argmax()
            self.cluster_labels_ = self.classes_[np.where(counts > 0, index, fallback)]
        self.cluster_sizes_ = counts
        return self

    def predict(self, X) -> np.ndarray:
        """Label of the nearest cluster centre for each spectrum in ``X``, shape ``(n,)``."""
        check_is_fitted(self, "kmeans_")
        return self.cluster_labels_[self.kmeans_.predict(self._features(X))]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy (classification) or R² (regression) on ``(X, y)``."""
        score = accuracy_score if self.task == "classification" else r2_score
        return float(score(y, self.predict(X), sample_weight=sample_weight))
