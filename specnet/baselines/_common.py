"""Input handling shared by the baselines: preprocessed spectra → a 2-D flux matrix (+ mask).

The baselines take the arrays :func:`specnet.preprocess.preprocess` makes:

* ``X`` of shape ``(n_samples, npix)`` — normalised flux, or
* ``X`` of shape ``(n_samples, npix, 1)`` — the same with one channel, or
* ``X`` of shape ``(n_samples, npix, 2)`` — channel 0 the flux, channel 1 the bad-pixel
  mask (1.0 = bad), as with ``PreprocessConfig(mask_channel=True)``.

Only channel 0 is used as the feature vector; the mask (channel 1) is returned
separately for the methods that can weight pixels (:class:`TemplateChi2`).
"""
from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

__all__ = ["split_channels", "check_positive", "make_pca"]


def split_channels(X):
    """Split preprocessed spectra into ``(flux, mask)``.

    Parameters
    ----------
    X : array-like, shape ``(n, npix)``, ``(n, npix, 1)`` or ``(n, npix, 2)``
        Channel 0 = flux, channel 1 (optional) = mask, 1.0 = bad pixel.

    Returns
    -------
    flux : array-like ``(n, npix)`` (``X`` itself when it is 2-D, so that scikit-learn's
        own validation sees the caller's object), and ``mask`` bool ``(n, npix)`` or ``None``.

    >>> X = np.zeros((3, 5, 2)); X[0, 1, 1] = 1
    >>> f, m = split_channels(X)
    >>> f.shape, int(m.sum())
    ((3, 5), 1)
    """
    ndim = getattr(X, "ndim", None)
    if ndim is None and isinstance(X, (list, tuple)):
        try:
            arr = np.asarray(X)
        except ValueError:  # ragged: let scikit-learn's validation complain
            return X, None
        if arr.ndim == 3:
            X, ndim = arr, 3
    if ndim != 3:
        return X, None
    if X.shape[-1] not in (1, 2):
        raise ValueError("Baselines expect spectra of shape (n, npix), (n, npix, 1) or (n, npix, 2) "
                         f"(channel 0 = flux, channel 1 = mask). Received: X.shape={X.shape}")
    flux = X[..., 0]
    mask = None
    if X.shape[-1] == 2:
        mask = np.asarray(X[..., 1]) > 0.5
    return flux, mask


def check_positive(name: str, value, integer: bool = False, allow_none: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a positive (integer) number."""
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value) == int(value)
    if not ok or not np.isfinite(value) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {kind}. Received: {name}={value!r}")


def make_pca(n_components, random_state):
    """A :class:`~sklearn.decomposition.PCA` front, or ``None`` when ``n_components is None``.

    ``n_components`` is an int (number of components) or a float in (0, 1) (fraction of
    variance kept), as in scikit-learn.
    """
    if n_components is None:
        return None
    if isinstance(n_components, bool) or not isinstance(n_components, (int, float, np.integer, np.floating)) \
            or n_components <= 0 or (not float(n_components).is_integer() and n_components >= 1):
        raise ValueError("n_components must be None, a positive int or a float in (0, 1). "
                         f"Received: n_components={n_components!r}")
    if float(n_components).is_integer():
        n_components = int(n_components)
    return PCA(n_components=n_components, random_state=random_state)
