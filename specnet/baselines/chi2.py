"""Minimum-χ² matching of spectra to labelled templates, with an analytic free scale."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from specnet.baselines._common import check_positive, split_channels

__all__ = ["TemplateChi2"]


class TemplateChi2(BaseEstimator):
    """Minimum-χ² template matching: each spectrum gets the label of its best-fitting template.

    Template fitting is how survey pipelines type spectra (the LAMOST 1-D pipeline
    and the SDSS spectro pipeline both match observed spectra against labelled star
    templates) and the classical reference the networks are compared with. ``fit``
    just stores the templates (on the same grid as the spectra) and their labels;
    ``predict`` finds, for every spectrum ``x`` and template ``t``, the best free scale
    and its χ²::

        a* = Σ w x t / Σ w t²          χ² = Σ w x² − a* Σ w x t

    with weights ``w = ivar`` (or 1) set to 0 on masked or non-finite pixels of either
    (sums over the pixels both share). Templates are ranked by the reduced χ²/ν
    (ν = shared pixels − 1), which equals ranking by χ² when all cover the same pixels.
    All spectra against all templates is four matrix products (``(N, npix) @ (npix, T)``),
    done in batches of ``batch_size`` spectra. With ``positive_scale`` a negative best
    scale is replaced by 0 (a star is never a negative multiple of a template).

    With ``interpolate=True`` (numeric labels, e.g. subtypes O0=0 … M9=69) the answer
    is interpolated between the two best neighbouring subtypes: with ``l_j`` the best
    label and ``l_k`` the better (lower χ²) of its two neighbouring labels, the spectrum
    is fitted as ``α t_j + β t_k`` (their best templates, weighted least squares) and
    the label is ``l_j + f (l_k − l_j)`` with ``f = β / (α + β)`` clipped to [0, 1]. An
    exact template gives its own label; a spectrum midway between two templates gives
    about the mid label; outside the label range the end label is returned.

    Inputs: templates and spectra ``(n, npix)`` or ``(n, npix, C)`` — channel 0 flux,
    channel 1 (optional) the mask (1.0 = bad, weight 0); NaN flux is treated as masked.
    ``ivar`` ``(N, npix)`` or ``(npix,)``. ``predict`` → ``(N,)`` labels (the labels'
    type, or float when interpolating).

    Parameters
    ----------
    interpolate : bool, default False
    positive_scale : bool, default True
    batch_size : int, default 4096
        Spectra per batch in :meth:`predict` (memory ~ ``batch_size × n_templates`` floats).

    Attributes
    ----------
    templates_ : ndarray ``(T, npix)`` — flux, 0 where masked.
    template_weight_ : ndarray ``(T, npix)`` — 1 for usable template pixels, else 0.
    labels_ : ndarray ``(T,)``;  classes_ : ndarray — the sorted distinct labels.

    Example
    -------
    >>> wave = np.linspace(4000, 7000, 100)
    >>> subtypes = np.arange(20.0, 60.0, 2.0)
    >>> T = 1 - np.exp(-0.5 * ((wave[None] - 4000 - 60 * subtypes[:, None]) / 50) ** 2)
    >>> model = TemplateChi2().fit(T, subtypes)
    >>> model.predict(3.0 * T[[4, 11]]).tolist()
    [28.0, 42.0]
    """

    def __init__(self, interpolate=False, positive_scale=True, batch_size=4096):
        self.interpolate = interpolate
        self.positive_scale = positive_scale
        self.batch_size = batch_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.required = True
        return tags

    def _flux_and_weight(self, X, fit: bool = False, y=None):
        """Validated flux (0 where unusable) and 0/1 usable-pixel weights, both ``(n, npix)``."""
        flux, mask = split_channels(X)
        if fit:
            flux, y = validate_data(self, flux, y, dtype=np.float64, ensure_all_finite="allow-nan")
        else:
            flux = validate_data(self, flux, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        good = np.isfinite(flux)
        if mask is not None:
            good &= ~mask
        return np.where(good, flux, 0.0), good.astype(np.float64), y

    def fit(self, X, y):
        """Store templates ``X`` ``(T, npix[, C])`` and their labels ``y`` ``(T,)``."""
        check_positive("batch_size", self.batch_size, integer=True)
        templates, weight, y = self._flux_and_weight(X, fit=True, y=y)
        y = np.asarray(y)
        if self.interpolate:
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError("Unknown label type: interpolate=True needs numeric labels (subtypes on the "
                                 f"O0=0 … M9=69 scale). Received: labels={y[:5].tolist()!r}…") from exc
            if not np.all(np.isfinite(y)):
                raise ValueError(f"interpolate=True needs finite labels. Received: labels={y[:5].tolist()!r}…")
        self.templates_, self.template_weight_, self.labels_ = templates, weight, y
        self.classes_, index = np.unique(y, return_inverse=True)
        self._label_index = index
        order = np.argsort(index, kind="stable")
        self._class_order = order
        self._class_starts = np.searchsorted(index[order], np.arange(len(self.classes_)))
        return self

    def _weights(self, flux, good, ivar):
        if ivar is None:
            return good
        ivar = check_array(ivar, ensure_2d=False, dtype=np.float64, input_name="ivar")
        if ivar.ndim == 1 and ivar.shape[0] == flux.shape[1]:
            ivar = np.broadcast_to(ivar, flux.shape)
        if ivar.shape != flux.shape or np.any(ivar < 0):
            raise ValueError("ivar must be non-negative with the spectra's shape (N, npix) or (npix,). "
                             f"Received: ivar.shape={ivar.shape}, spectra shape={flux.shape}, min={ivar.min():.3g}")
        return good * ivar

    def _terms(self, X, ivar):
        """Flux and weights ``(N, npix)``; χ², best scale and degrees of freedom ``(N, T)``."""
        check_is_fitted(self, "templates_")
        flux, good, _ = self._flux_and_weight(X)
        w = self._weights(flux, good, ivar)
        wx = w * flux
        tw = self.template_weight_
        a_num = wx @ self.templates_.T                     # Σ w x t      (N, T)
        b = w @ (self.templates_ ** 2).T                   # Σ w t²       (N, T)
        c = (wx * flux) @ tw.T                             # Σ w x²       (N, T), shared pixels only
        dof = (w > 0).astype(np.float64) @ tw.T - 1.0      # shared usable pixels − 1 (the scale)
        usable = b > 0
        usable_scale = usable & (a_num > 0) if self.positive_scale else usable
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(usable_scale, a_num / np.where(usable, b, 1.0), 0.0)
        chi2 = np.where(usable, np.maximum(c - scale * a_num, 0.0), np.inf)
        return flux, w, chi2, scale, dof

    def chi2(self, X, ivar=None, reduced: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """χ² (or χ²/ν when ``reduced``) and best scale of every spectrum against every template, ``(N, T)``.

        Sums run over the pixels usable in both spectrum and template; ν is their number
        minus one. χ² is ``inf`` where a spectrum and a template share no usable pixel.
        """
        _, _, chi2, scale, dof = self._terms(X, ivar)
        return (chi2 / np.maximum(dof, 1.0) if reduced else chi2), scale

    def class_chi2(self, chi2: np.ndarray) -> np.ndarray:
        """Lowest χ² per distinct label: ``(N, T)`` → ``(N, len(classes_))``."""
        check_is_fitted(self, "templates_")
        return np.minimum.reduceat(chi2[:, self._class_order], self._class_starts, axis=1)

    def _interpolate(self, flux, w, chi2):
        """Labels interpolated between the best label and its better neighbour, ``(N,)``."""
        labels = self.classes_.astype(np.float64)
        n_labels = len(labels)
        best_t = np.argmin(chi2, axis=1)
        j = self._label_index[best_t]
        if n_labels < 2:
            return labels[j]
        per_class = self.class_chi2(chi2)
        rows = np.arange(len(j))
        below, above = np.maximum(j - 1, 0), np.minimum(j + 1, n_labels - 1)
        k = np.where(per_class[rows, below] <= per_class[rows, above], below, above)
        k = np.where(j == 0, 1, np.where(j == n_labels - 1, n_labels - 2, k))
        k_t = np.argmin(np.where(self._label_index[None, :] == k[:, None], chi2, np.inf), axis=1)
        tj, tk = self.templates_[best_t], self.templates_[k_t]
        w2 = w * self.template_weight_[best_t] * self.template_weight_[k_t]
        g11, g12, g22 = (np.sum(w2 * a * b, axis=1) for a, b in ((tj, tj), (tj, tk), (tk, tk)))
        r1, r2 = np.sum(w2 * tj * flux, axis=1), np.sum(w2 * tk * flux, axis=1)
        det = g11 * g22 - g12 ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = (g22 * r1 - g12 * r2) / det
            beta = (g11 * r2 - g12 * r1) / det
            f = np.where(beta <= 0, 0.0, np.where(alpha <= 0, 1.0, beta / (alpha + beta)))
        f = np.where((det > 0) & np.isfinite(f), np.clip(f, 0.0, 1.0), 0.0)
        return labels[j] + f * (labels[k] - labels[j])

    def _predict_batch(self, X, ivar):
        flux, w, chi2, _, dof = self._terms(X, ivar)
        chi2 = chi2 / np.maximum(dof, 1.0)  # rank by χ²/ν: templates may cover different pixels
        bad = ~np.isfinite(chi2).any(axis=1)
        if bad.any():
            raise ValueError("TemplateChi2 cannot fit spectra with no usable pixel in common with any template. "
                             f"Received: rows {np.flatnonzero(bad)[:10].tolist()} of the batch")
        if self.interpolate:
            return self._interpolate(flux, w, chi2)
        return self.labels_[np.argmin(chi2, axis=1)]

    def predict(self, X, ivar=None) -> np.ndarray:
        """Label of the best-fitting template for each spectrum (interpolated if asked), ``(N,)``."""
        check_is_fitted(self, "templates_")
        check_positive("batch_size", self.batch_size, integer=True)
        step = int(self.batch_size)
        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        if getattr(X, "ndim", 0) < 2 or X.shape[0] <= step:
            return self._predict_batch(X, ivar)
        if ivar is not None:
            ivar = np.asarray(ivar)
        parts = [self._predict_batch(X[i:i + step],
                                     None if ivar is None else (ivar if ivar.ndim == 1 else ivar[i:i + step]))
                 for i in range(0, X.shape[0], step)]
        return np.concatenate(parts)
