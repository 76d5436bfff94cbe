"""Pseudo-continuum, flux normalisation and filling of masked pixels (pure numpy/scipy).

Every function takes one spectrum, shape ``(npix,)``, or a batch on a common grid, shape
``(N, npix)``, and returns the same shape; masks are ``True`` = bad.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import ndimage

__all__ = ["NORMALISATIONS", "pseudo_continuum", "normalise", "fill_masked"]

#: The normalisation methods :func:`normalise` knows.
NORMALISATIONS = ("continuum", "minmax", "median", "total", "none")


def _as_2d(flux, mask, name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    flux = np.asarray(flux, dtype=np.float64)
    one = flux.ndim == 1
    flux2 = np.atleast_2d(flux)
    if flux2.ndim != 2:
        raise ValueError(f"{name}: flux must have shape (npix,) or (N, npix). Received: flux.shape={flux.shape}")
    mask2 = np.zeros(flux2.shape, bool) if mask is None else np.atleast_2d(np.asarray(mask, dtype=bool))
    if mask2.shape != flux2.shape:
        raise ValueError(f"{name}: mask must match flux. Received: flux.shape={flux.shape}, "
                         f"mask.shape={np.shape(mask)}")
    mask2 = mask2 | ~np.isfinite(flux2)
    return flux2, mask2, one


def _fill_linear(y: np.ndarray, good: np.ndarray, x: np.ndarray | None = None, empty: float = 0.0) -> np.ndarray:
    """Rows of ``y`` (N, n) with bad entries replaced by linear interpolation (in ``x``) between
    the nearest good neighbours, the nearest good value held beyond the ends, ``empty`` where a
    row has no good entry. Vectorised (running max/min of good indices)."""
    n = y.shape[1]
    if good.all():
        return y
    x = np.arange(n, dtype=np.float64) if x is None else x
    idx = np.arange(n)
    prev = np.maximum.accumulate(np.where(good, idx, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(good, idx, n)[:, ::-1], axis=1)[:, ::-1]
    has_prev, has_next = prev >= 0, nxt < n
    p, q = np.clip(prev, 0, n - 1), np.clip(nxt, 0, n - 1)
    yp, yq = np.take_along_axis(y, p, 1), np.take_along_axis(y, q, 1)
    span = x[q] - x[p]
    t = np.where(span > 0, (x[None, :] - x[p]) / np.where(span > 0, span, 1.0), 0.0)
    inner = yp + (yq - yp) * t
    filled = np.where(has_prev & has_next, inner, np.where(has_prev, yp, np.where(has_next, yq, empty)))
    return np.where(good, y, filled)


def fill_masked(flux, mask, method: str | float = "interp") -> np.ndarray:
    """Replace masked pixels; returns float32 of the shape of ``flux``.

    ``method="interp"``: linear interpolation (in pixel index, i.e. in log λ on a
    :class:`~specnet.preprocess.Grid`) across interior gaps, the nearest good value held
    beyond the first/last good pixel, 0 where a spectrum has no good pixel at all. A number:
    that constant (e.g. 1.0 after continuum normalisation, 0.0 after ``minmax``).

    >>> fill_masked(np.array([9., 1., 9., 3., 9.]), np.array([1, 0, 1, 0, 1], bool)).tolist()
    [1.0, 1.0, 2.0, 3.0, 3.0]
    """
    f2, m2, one = _as_2d(flux, mask, "fill_masked")
    if isinstance(method, str):
        if method != "interp":
            raise ValueError(f"fill_masked method must be 'interp' or a number. Received: method={method!r}")
        out = _fill_linear(f2, ~m2)
    elif isinstance(method, (int, float, np.integer, np.floating)) and not isinstance(method, bool) \
            and math.isfinite(method):
        out = np.where(m2, float(method), f2)
    else:
        raise ValueError(f"fill_masked method must be 'interp' or a finite number. Received: method={method!r}")
    out = out.astype(np.float32)
    return out[0] if one else out


def pseudo_continuum(wave, flux, mask=None, window: float = 150.0, percentile: float = 90.0) -> np.ndarray:
    """A smooth upper envelope through the good pixels: the pseudo-continuum.

    Pixels are grouped in blocks of about ``window/4`` Å; each block with at least a
    quarter of its pixels good gives the ``percentile`` of its good fluxes (robust to cosmic
    rays, unlike a maximum); a running maximum over 3 blocks lifts the envelope out of broad
    lines; blocks without data (long masked runs, masked blue ends) are interpolated between
    their nearest valid neighbours, or hold the nearest one at the ends; the block values are
    interpolated linearly to every pixel and smoothed with a boxcar of ``window/2`` Å. The
    result is floored at 1e-3 of its maximum so that dividing by it is safe; a spectrum with
    no good pixel gets 1.

    Parameters
    ----------
    wave : array, shape (npix,)
        Wavelength in Å (any medium), increasing; a log-λ grid in practice.
    flux : array, shape (npix,) or (N, npix)
    mask : bool array like ``flux`` or None
        ``True`` = bad.
    window : float
        Envelope scale in Å (at the median wavelength); 100-200 Å suits R≈1800 spectra.
    percentile : float
        Percentile of each block's good fluxes (0-100).

    Returns
    -------
    float64 array of the shape of ``flux``, finite and > 0.

    Example
    -------
    >>> w = np.linspace(4000, 6000, 2000); f = 2 - np.exp(-0.5 * ((w - 5000) / 3) ** 2)
    >>> c = pseudo_continuum(w, f)
    >>> bool(np.allclose(c, 2, rtol=0.01)), round(float((f / c)[1000]), 1)
    (True, 0.5)
    """
    f2, m2, one = _as_2d(flux, mask, "pseudo_continuum")
    wave = np.asarray(wave, dtype=np.float64)
    if wave.shape != (f2.shape[1],):
        raise ValueError(f"pseudo_continuum: wave must have shape (npix,). Received: wave.shape={wave.shape}, "
                         f"flux.shape={np.shape(flux)}")
    if not (window > 0 and 0 <= percentile <= 100):
        raise ValueError(f"pseudo_continuum needs window > 0 and 0 <= percentile <= 100. "
                         f"Received: window={window!r}, percentile={percentile!r}")
    n_rows, n = f2.shape
    # pixels per window at the middle pixel (exact on a log-λ grid, close enough elsewhere)
    mid = n // 2
    dlnw = math.log(wave[-1] / wave[0]) / (n - 1) if n > 1 else 1.0
    px_window = window / (float(wave[mid]) * dlnw)
    b = int(min(max(4, round(px_window / 4)), n))
    nb = -(-n // b)
    vals = np.full((n_rows, nb * b), np.nan)
    vals[:, :n] = np.where(m2, np.nan, f2)
    blocks = np.sort(vals.reshape(n_rows, nb, b), axis=2)              # NaN sort last
    count = np.sum(np.isfinite(blocks), axis=2)
    k = np.floor(percentile / 100.0 * np.maximum(count - 1, 0)).astype(int)
    level = np.take_along_axis(blocks, k[..., None], 2)[..., 0]
    valid = count >= max(2, b // 4)
    level = ndimage.maximum_filter1d(np.where(valid, level, -np.inf), size=3, axis=1, mode="nearest")
    valid = np.isfinite(level)
    centres = np.minimum(np.arange(nb) * b + (b - 1) / 2.0, (n - 1 + np.arange(nb) * b) / 2.0)
    level = _fill_linear(np.where(valid, level, 0.0), valid, centres, empty=np.nan)
    if nb == 1:
        cont = np.repeat(level[:, :1], n, axis=1)
    else:
        x = np.arange(n, dtype=np.float64)
        j = np.clip(np.searchsorted(centres, x, side="right") - 1, 0, nb - 2)
        t = np.clip((x - centres[j]) / (centres[j + 1] - centres[j]), 0.0, 1.0)
        cont = level[:, j] * (1 - t) + level[:, j + 1] * t
    cont = ndimage.uniform_filter1d(cont, size=max(1, 2 * b), axis=1, mode="nearest")
    top = np.nanmax(np.abs(cont), axis=1, keepdims=True) if n_rows else np.ones((0, 1))
    no_data = ~np.isfinite(top) | (top <= 0)
    cont = np.where(no_data, 1.0, np.maximum(cont, 1e-3 * np.where(no_data, 1.0, top)))
    return cont[0] if one else cont


def normalise(flux, mask=None, method: str = "continuum", wave=None) -> np.ndarray:
    """Normalise flux, using good pixels only; returns float32 of the shape of ``flux``.

    * ``"continuum"``: divide by :func:`pseudo_continuum` (needs ``wave``); continuum ≈ 1.
    * ``"minmax"`` (Liu & Wang): ``(f - min) / (max - min)`` over good pixels; good pixels in [0, 1].
    * ``"median"``: divide by the median of good pixels (by the mean ``|f|`` if that is <= 0).
    * ``"total"`` (Wang et al.): divide by the mean ``|f|`` of good pixels, i.e. the total
      flux per pixel.
    * ``"none"``: unchanged.

    A spectrum whose scale is 0 or undefined (no good pixel, constant flux) is only shifted,
    never divided by 0. Masked pixels are transformed the same way (fill them afterwards).

    >>> normalise(np.array([1., 3., 2., 100.]), np.array([0, 0, 0, 1], bool), "minmax").tolist()[:3]
    [0.0, 1.0, 0.5]
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"normalise method must be one of {NORMALISATIONS}. Received: method={method!r}")
    f2, m2, one = _as_2d(flux, mask, "normalise")
    good = ~m2
    n_good = good.sum(axis=1, keepdims=True)
    masked = np.where(good, f2, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # all-masked rows: 'Mean of empty slice'
        if method == "none":
            out = f2
        elif method == "continuum":
            if wave is None:
                raise ValueError("normalise(method='continuum') needs wave. Received: wave=None")
            out = f2 / pseudo_continuum(wave, f2, m2)
        elif method == "minmax":
            lo = np.nanmin(masked, axis=1, keepdims=True)
            hi = np.nanmax(masked, axis=1, keepdims=True)
            lo = np.where(n_good > 0, lo, 0.0)
            span = np.where((n_good > 0) & (hi > lo), hi - lo, 1.0)
            out = (f2 - lo) / span
        else:
            mean_abs = np.nanmean(np.abs(masked), axis=1, keepdims=True)
            scale = np.nanmedian(masked, axis=1, keepdims=True) if method == "median" else mean_abs
            scale = np.where(np.isfinite(scale) & (scale > 0), scale, mean_abs)
            scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
            out = f2 / scale
    out = np.where(np.isfinite(out), out, 0.0).astype(np.float32)
    return out[0] if one else out
