"""Vectorised degradations applied to a batch of spectra, shape ``(batch, npix)``.

Every function works on whole ``(batch, npix)`` arrays with numpy broadcasting
(loops run over a handful of lines or windows, never over pixels or spectra) and
takes an explicit :class:`numpy.random.Generator`, so a batch is reproducible from
its seed. Wavelengths are vacuum Å on a log-λ grid. The order
:func:`specnet.simulate.mock.render_batch` applies them in is: template
interpolation and Doppler shift (:func:`shift_gather`), extinction, telluric
absorption, flux-calibration error, arm join, flux scale, blue pedestal, noise
(:func:`add_noise`: photon + background + sky lines), sky residuals, cosmic rays,
and last the masks (:func:`specnet.simulate.masks.draw_masks`, re-exported here).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> wave = 10 ** (3.5682 + 1e-4 * np.arange(3909))
>>> k = extinction_curve(wave)
>>> round(float(k[0]), 2), round(float(k[-1]), 2)   # A(λ)/E(B-V), F99, Rv=3.1
(4.69, 1.38)
>>> flux = np.ones((2, wave.size))
>>> noisy, ivar, info = add_noise(rng, flux, np.ones(wave.size), np.array([10.0, 50.0]),
...                               np.ones(wave.size, bool), background=0.0)
>>> np.round(np.median(flux * np.sqrt(ivar), axis=1), 3).tolist()
[10.0, 50.0]
"""
from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np

__all__ = [
    "rebin", "gaussian_degrade", "shift_gather", "extinction_curve", "legendre_basis",
    "draw_snr", "draw_rv", "draw_ebv", "calibration_error", "arm_join", "blue_pedestal",
    "add_noise", "cosmic_rays", "measure_snr", "draw_masks",
]

C_KMS = 299792.458


# ------------------------------------------------------------------ resampling
def rebin(wave: np.ndarray, flux: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Flux-conserving rebinning of ``flux(wave)`` onto bins with ``edges`` (both Å).

    The input is treated as piecewise linear; the output is the mean of it over each
    bin (exact for any input sampling, finer or coarser). Bins outside ``wave`` are NaN.

    >>> w = np.linspace(4000, 5000, 1001); f = np.ones(1001)
    >>> rebin(w, f, np.array([3990., 4100, 4200, 4900, 5100])).round(3).tolist()
    [nan, 1.0, 1.0, nan]
    """
    wave = np.asarray(wave, float)
    flux = np.asarray(flux, float)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (flux[1:] + flux[:-1]) * np.diff(wave))])
    # integral at arbitrary x of the piecewise-linear flux
    x = np.clip(edges, wave[0], wave[-1])
    j = np.clip(np.searchsorted(wave, x) - 1, 0, wave.size - 2)
    t = x - wave[j]
    slope = (flux[j + 1] - flux[j]) / (wave[j + 1] - wave[j])
    integ = cum[j] + flux[j] * t + 0.5 * slope * t * t
    out = np.diff(integ) / np.diff(edges)
    out[(edges[:-1] < wave[0]) | (edges[1:] > wave[-1])] = np.nan
    return out


def gaussian_degrade(matrix: np.ndarray, sigma_pix: np.ndarray, levels: int = 8) -> np.ndarray:
    """Convolve every row of ``matrix`` with a Gaussian whose σ (pixels) varies along the row.

    ``sigma_pix`` has the shape of ``matrix`` (or broadcasts to it). The rows are
    convolved at ``levels`` fixed σ values spanning the range and each pixel is
    interpolated linearly between the two bracketing results (exact where σ is
    constant). σ ≤ 0.3 px means no convolution.

    >>> m = np.zeros((1, 101)); m[0, 50] = 1
    >>> out = gaussian_degrade(m, np.full((1, 101), 3.0))
    >>> round(float(out.sum()), 6), round(float(out[0, 50]), 4)
    (1.0, 0.133)
    """
    from scipy.ndimage import gaussian_filter1d

    matrix = np.asarray(matrix, float)
    sig = np.broadcast_to(np.asarray(sigma_pix, float), matrix.shape)
    smax = float(np.nanmax(sig)) if sig.size else 0.0
    if smax <= 0.3:
        return matrix.copy()
    smin = max(float(np.nanmin(sig)), 0.0)
    if smax - smin < 1e-3:
        return gaussian_filter1d(matrix, smax, axis=-1, mode="nearest")
    lv = np.linspace(smin, smax, levels)
    interval = np.clip(np.searchsorted(lv, sig, side="right") - 1, 0, levels - 2)
    t = np.clip((sig - lv[interval]) / (lv[interval + 1] - lv[interval]), 0.0, 1.0)
    out = np.empty_like(matrix)
    prev = matrix if lv[0] <= 0.3 else gaussian_filter1d(matrix, lv[0], axis=-1, mode="nearest")
    for i in range(levels - 1):
        sel = interval == i
        cur = gaussian_filter1d(matrix, lv[i + 1], axis=-1, mode="nearest") if lv[i + 1] > 0.3 else matrix
        if sel.any():
            ts = t[sel]
            out[sel] = (1.0 - ts) * prev[sel] + ts * cur[sel]
        prev = cur
    return out


def shift_gather(logflux: np.ndarray, rows: np.ndarray, base: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``logflux[rows]`` at columns ``base + shift`` (fractional).

    ``logflux`` is ``(ntemplates, nfine)``; ``rows`` and ``shift`` are ``(batch,)``
    (``shift`` in fine pixels, the same for every output pixel of a spectrum because
    a Doppler shift is a constant offset in log λ); ``base`` is ``(npix,)`` integer
    columns. Returns ``(batch, npix)``.

    >>> L = np.arange(20.0)[None, :]
    >>> shift_gather(L, np.array([0]), np.array([2, 4]), np.array([0.5])).tolist()
    [[2.5, 4.5]]
    """
    i0 = np.floor(shift).astype(np.int64)
    frac = (shift - i0)[:, None]
    cols = base[None, :] + i0[:, None]
    cols = np.clip(cols, 0, logflux.shape[1] - 2)
    r = rows[:, None]
    a = logflux[r, cols]
    b = logflux[r, cols + 1]
    return a + frac * (b - a)


# ---------------------------------------------------------------- smooth effects
def extinction_curve(wave: np.ndarray, law: str = "F99", rv: float = 3.1) -> np.ndarray:
    """A(λ)/E(B−V) on ``wave`` (Å) from the ``dust_extinction`` model ``law`` (F99, G23, CCM89...).

    Apply as ``flux * 10**(-0.4 * ebv * k)``. Wavelengths outside the model's range are
    clamped to its ends.

    >>> round(float(extinction_curve(np.array([5500.0]))[0]), 2)
    3.03
    """
    import astropy.units as u
    from dust_extinction import parameter_averages

    try:
        model_cls = getattr(parameter_averages, law)
    except AttributeError:
        raise ValueError(f"Unknown extinction law (a dust_extinction.parameter_averages model). "
                         f"Received: law={law!r}") from None
    model = model_cls(Rv=rv)
    lo, hi = model.x_range  # 1/µm
    inv_um = np.clip(1e4 / np.asarray(wave, float), lo * 1.0001, hi * 0.9999)
    return rv * np.asarray(model(inv_um / u.micron), dtype=float)


def legendre_basis(npix: int, order: int) -> np.ndarray:
    """Legendre polynomials P1..P_order on ``npix`` points in [-1, 1], each scaled to unit r.m.s.

    Shape ``(order, npix)``.

    >>> b = legendre_basis(3909, 3)
    >>> b.shape, np.sqrt((b ** 2).mean(axis=1)).round(3).tolist()
    ((3, 3909), [1.0, 1.0, 1.0])
    """
    x = np.linspace(-1.0, 1.0, npix)
    basis = np.array([np.polynomial.legendre.Legendre.basis(k)(x) for k in range(1, order + 1)]).reshape(order, npix)
    if order:
        basis /= np.sqrt((basis ** 2).mean(axis=1, keepdims=True))
    return basis


def calibration_error(rng: np.random.Generator, n: int, basis: np.ndarray, rms: float) -> np.ndarray:
    """Smooth multiplicative flux-calibration errors ``exp(Σ a_k P_k)``, shape ``(n, npix)``.

    With the unit-r.m.s. ``basis`` of :func:`legendre_basis` and coefficients normal with
    σ = ``rms / sqrt(order)``, the log-error has an expected r.m.s. of ``rms`` over the grid.
    """
    order = basis.shape[0]
    if order == 0 or rms == 0:
        return np.ones((n, basis.shape[1]))
    coef = rng.normal(0.0, rms / math.sqrt(order), size=(n, order))
    return np.exp(coef @ basis)


def arm_join(rng: np.random.Generator, n: int, wave: np.ndarray, join: tuple | None,
             step: float, tilt: float, width: float = 15.0) -> tuple[np.ndarray, np.ndarray]:
    """Blue/red arm join: the red side scaled by ``1 + δ + t·ramp`` past a join drawn in ``join``.

    δ ~ N(0, step), t ~ N(0, tilt) (the ramp goes 0→1 from the join to the red end),
    switched on by a logistic of ``width`` Å. Returns ``(factor (n, npix), join (n,))``.
    """
    if join is None or (step == 0 and tilt == 0):
        return np.ones((n, wave.size)), np.full(n, np.nan)
    lam_j = rng.uniform(join[0], join[1], size=n)
    delta = rng.normal(0.0, step, size=n)
    t = rng.normal(0.0, tilt, size=n)
    z = np.clip((wave[None, :] - lam_j[:, None]) / width, -50, 50)
    sig = 1.0 / (1.0 + np.exp(-z))
    ramp = np.clip((wave[None, :] - lam_j[:, None]) / (wave[-1] - lam_j[:, None]), 0.0, 1.0)
    return 1.0 + sig * (delta[:, None] + t[:, None] * ramp), lam_j


def blue_pedestal(rng: np.random.Generator, flux: np.ndarray, wave: np.ndarray, level_max: float,
                  scale: float, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add ``p · ref · exp(-(λ - λ0)/scale)`` with p ~ U(0, level_max); returns ``(flux, p)``.

    ``ref`` is a per-spectrum flux level ``(n,)`` (the S/N-band median). Models the
    scattered light/sky that fills Ca II H&K in real LAMOST DR1 spectra.
    """
    n = flux.shape[0]
    if level_max <= 0:
        return flux, np.zeros(n)
    p = rng.uniform(0.0, level_max, size=n)
    prof = np.exp(-(wave - wave[0]) / scale)
    return flux + (p * ref)[:, None] * prof[None, :], p


# ------------------------------------------------------------------ random draws
def draw_snr(rng: np.random.Generator, n: int, snr) -> np.ndarray:
    """Target S/N per spectrum: ``(lo, hi)`` log-uniform, a scalar, an array of ``n``, or ``f(rng, n)``.

    >>> draw_snr(np.random.default_rng(0), 3, 20.0).tolist()
    [20.0, 20.0, 20.0]
    """
    return _draw(rng, n, snr, None, "snr", lo=0.0, log=True)


def _draw(rng, n, spec, default: Callable[[], np.ndarray] | None, name: str, lo=-np.inf,
          log: bool = False) -> np.ndarray:
    """``n`` values from ``spec``: ``None`` (``default()``), a callable ``f(rng, n)``, a scalar,
    an array of ``n``, or a ``(lo, hi)`` range drawn uniformly (log-uniformly with ``log``,
    which also makes the bound ``lo`` strict). Every value must be finite and not below ``lo``."""
    if spec is None and default is not None:
        return default()
    if callable(spec):
        out = np.asarray(spec(rng, n), dtype=float)
    elif spec is None:
        out = np.full(0, np.nan)  # no default: rejected below
    elif np.isscalar(spec):
        out = np.full(n, float(spec))
    else:
        arr = np.asarray(spec, dtype=float)
        if arr.shape == (2,) and n != 2:
            if log:
                if not (0 < arr[0] <= arr[1]):
                    raise ValueError(f"{name} range must satisfy 0 < lo <= hi. Received: {name}={tuple(spec)!r}")
                out = np.exp(rng.uniform(math.log(arr[0]), math.log(arr[1]), size=n))
            else:
                out = rng.uniform(arr[0], arr[1], size=n)
        else:
            out = arr
    below = np.any(out <= lo) if log else np.any(out < lo)
    if out.shape != (n,) or not np.all(np.isfinite(out)) or below:
        kind = "positive " if log else ""
        draw = "log-uniform" if log else "uniform"
        raise ValueError(f"{name} must give {n} finite {kind}values (a (lo, hi) {draw} range, a scalar, an array "
                         f"of length n or a callable(rng, n)). Received: {name}={spec!r}")
    return out


def draw_rv(rng: np.random.Generator, n: int, profile, rv=None) -> np.ndarray:
    """Radial velocities (km/s): the profile's core+tail normal mixture unless ``rv`` is given."""
    def default():
        tail = rng.random(n) < profile.rv_tail_fraction
        v = np.where(tail, rng.normal(0, profile.rv_tail_sigma, n), rng.normal(0, profile.rv_sigma, n))
        return np.clip(v, -profile.rv_max, profile.rv_max)
    return _draw(rng, n, rv, default, "rv")


def draw_ebv(rng: np.random.Generator, n: int, profile, ebv=None) -> np.ndarray:
    """E(B−V) (mag): exponential(profile.ebv_scale) clipped to profile.ebv_max unless ``ebv`` is given."""
    def default():
        if profile.ebv_scale == 0:
            return np.zeros(n)
        return np.minimum(rng.exponential(profile.ebv_scale, n), profile.ebv_max)
    return _draw(rng, n, ebv, default, "ebv", lo=0.0)


# ------------------------------------------------------------------------ noise
def add_noise(rng: np.random.Generator, flux: np.ndarray, throughput: np.ndarray, snr: np.ndarray,
              snr_pixels: np.ndarray, background: float = 1.0, sky: np.ndarray | None = None,
              snr_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, dict]:
    """Gaussian noise giving S/N ``snr`` under the survey's definition; ``ivar`` matches it exactly.

    Noise model (units where a photon-limited pixel has S/N² = counts):
    ``counts = a·flux·throughput``, ``var = counts + background + sky``,
    ``σ_flux = sqrt(var) / (a·throughput)``. The per-spectrum scale ``a`` is solved in
    closed form so that the median over ``snr_pixels`` of the expected
    ``flux/σ_flux`` equals ``snr/snr_scale`` (the median commutes with the monotonic
    counts→S/N map; exact where ``sky`` is 0 on those pixels).

    Returns ``(noisy, ivar, info)`` with ``info`` holding ``sigma``, ``counts_scale`` (a),
    ``expected_snr`` (per pixel, noiseless) and ``sky_counts``.
    """
    n, npix = flux.shape
    c = np.asarray(throughput, float)[None, :]
    fc = np.clip(flux, 0.0, None) * c
    med = np.median(fc[:, snr_pixels], axis=1)
    med = np.where(med > 0, med, np.maximum(fc.mean(axis=1), 1e-30))
    s = np.asarray(snr, float) / snr_scale
    x_med = 0.5 * (s * s + s * np.sqrt(s * s + 4.0 * background))
    a = x_med / med
    counts = a[:, None] * fc
    sky_counts = np.zeros((1, npix)) if sky is None else np.asarray(sky, float).reshape(-1, npix)
    var = counts + background + sky_counts
    var = np.maximum(var, 1e-12)
    sigma = np.sqrt(var) / (a[:, None] * c)
    noisy = flux + sigma * rng.standard_normal((n, npix))
    ivar = 1.0 / (sigma * sigma)
    info = {"sigma": sigma, "counts_scale": a, "expected_snr": counts / np.sqrt(var),
            "sky_counts": np.broadcast_to(sky_counts, (n, npix))}
    return noisy, ivar, info


def cosmic_rays(rng: np.random.Generator, flux: np.ndarray, sigma: np.ndarray, rate: float,
                amplitude: tuple = (5.0, 40.0)) -> tuple[np.ndarray, np.ndarray]:
    """Add unflagged cosmic-ray residuals: Poisson(``rate``) hits per spectrum, 1–2 px each,
    of ``amplitude`` × the pixel's σ. Returns ``(flux, hits per spectrum)``."""
    n, npix = flux.shape
    counts = rng.poisson(rate, size=n) if rate > 0 else np.zeros(n, int)
    total = int(counts.sum())
    if total == 0:
        return flux, counts
    rows = np.repeat(np.arange(n), counts)
    cols = rng.integers(0, npix - 1, size=total)
    amp = rng.uniform(*amplitude, size=total)
    out = flux.copy()
    np.add.at(out, (rows, cols), amp * sigma[rows, cols])
    two = rng.random(total) < 0.4
    np.add.at(out, (rows[two], cols[two] + 1), 0.5 * amp[two] * sigma[rows[two], cols[two] + 1])
    return out, counts


def measure_snr(flux: np.ndarray, ivar: np.ndarray, pixels: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The survey S/N of each row: ``scale`` × median of ``flux*sqrt(ivar)`` over good ``pixels``.

    >>> measure_snr(np.full((1, 4), 2.0), np.array([[1.0, 1, 0, 1]]), np.ones(4, bool)).tolist()
    [2.0]
    """
    flux = np.atleast_2d(flux)
    ivar = np.atleast_2d(ivar)
    sub_f = flux[:, pixels]
    sub_i = ivar[:, pixels]
    sn = np.where(sub_i > 0, sub_f * np.sqrt(np.clip(sub_i, 0, None)), np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without a good pixel give NaN → 0
        out = np.nanmedian(sn, axis=1)
    return scale * np.nan_to_num(out, nan=0.0)


from specnet.simulate.masks import draw_masks  # noqa: E402  (re-exported)
