"""Bad-pixel masks drawn like a survey's, vectorised over a batch ``(batch, npix)``.

:func:`draw_masks` turns a :class:`~specnet.simulate.profiles.MaskModel` into a
boolean mask (``True`` = bad) per spectrum. The patterns are the ones measured on
the real LAMOST DR1 fixtures: fixed windows (the O2 A band), a blue-end run that
stops where the expected per-pixel S/N reaches 1–3, pixels whose noisy flux is
≤ 0, the cores of deep lines (Ca II H&K...), random sky-line windows, a long run
over the dichroic overlap, a red-end run, OH lines in the far red and isolated
bad pixels. Loops run over lines and windows only.

>>> import numpy as np
>>> from specnet.simulate.profiles import get_profile
>>> p = get_profile("lamost-dr1")
>>> wave = p.grid.wave
>>> clean = np.ones((3, wave.size)); snr = np.full((3, wave.size), 20.0)
>>> m = draw_masks(np.random.default_rng(1), p.grid, clean, clean, snr, np.zeros(3), p.mask)
>>> bool(m[:, (wave > 7600) & (wave < 7660)].all())
True
"""
from __future__ import annotations

import numpy as np

__all__ = ["draw_masks"]


def _cols(grid, lam: np.ndarray) -> np.ndarray:
    return np.rint((np.log10(lam) - grid.log_start) / grid.log_step).astype(np.int64)


def _runs_mask(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray, on: np.ndarray) -> None:
    """Set ``mask[i, lo[i]:hi[i]+1] = True`` where ``on[i]`` (in place, vectorised)."""
    cols = np.arange(mask.shape[1])[None, :]
    mask |= on[:, None] & (cols >= lo[:, None]) & (cols <= hi[:, None])


def _window_mask(mask: np.ndarray, centre: np.ndarray, halfwidth: np.ndarray, on: np.ndarray) -> None:
    """Mask ``centre ± halfwidth`` columns for spectra with ``on`` (only touches a slice)."""
    if not on.any():
        return
    npix = mask.shape[1]
    lo = int(max(0, (centre - halfwidth)[on].min()))
    hi = int(min(npix, (centre + halfwidth)[on].max() + 1))
    if hi <= lo:
        return
    cols = np.arange(lo, hi)[None, :]
    mask[:, lo:hi] |= on[:, None] & (np.abs(cols - centre[:, None]) <= halfwidth[:, None])


def draw_masks(rng: np.random.Generator, grid, clean: np.ndarray, noisy: np.ndarray,
               expected_snr: np.ndarray, z: np.ndarray, model) -> np.ndarray:
    """A ``(batch, npix)`` boolean mask (``True`` = bad) drawn from ``model``.

    Parameters
    ----------
    rng : numpy.random.Generator
    grid : specnet.preprocess.Grid
        The output log-λ grid (vacuum Å).
    clean, noisy : ndarray, shape (batch, npix)
        Noiseless and noisy flux (line-core depths use ``clean``; ``nonpositive`` uses ``noisy``).
    expected_snr : ndarray, shape (batch, npix)
        Noiseless per-pixel S/N (drives the blue-end cut).
    z : ndarray, shape (batch,)
        Redshift of each spectrum (line cores move with it).
    model : MaskModel
    """
    from scipy.ndimage import uniform_filter1d

    n, npix = clean.shape
    wave = grid.wave
    mask = np.zeros((n, npix), bool)
    for lo, hi in model.always:
        mask[:, (wave >= lo) & (wave <= hi)] = True
    if model.nonpositive:
        mask |= noisy <= 0
    # blue-end run where the smoothed expected S/N is below a per-spectrum threshold
    if model.blue_snr is not None:
        jb = int(np.searchsorted(wave, model.blue_max))
        if jb > 1:
            smooth = uniform_filter1d(expected_snr[:, :jb], 25, axis=1, mode="nearest")
            thr = rng.uniform(model.blue_snr[0], model.blue_snr[1], size=n)
            ok = smooth >= thr[:, None]
            first = np.where(ok.any(axis=1), ok.argmax(axis=1), jb)
            on = rng.random(n) < model.blue_prob
            _runs_mask(mask, np.zeros(n, np.int64), first - 1, on & (first > 0))
    # deep line cores
    if model.line_cores:
        for centre, prob in model.line_cores:
            lam = centre * (1.0 + z)
            jc = _cols(grid, lam)
            inside = (jc > 60) & (jc < npix - 61)
            on = inside & (rng.random(n) < prob)
            if not on.any():
                continue
            jcc = np.where(inside, jc, 61)
            rows = np.arange(n)[:, None]
            core = clean[rows, jcc[:, None] + np.arange(-2, 3)[None, :]].min(axis=1)
            cont = np.percentile(clean[rows, jcc[:, None] + np.arange(-60, 61, 3)[None, :]], 90, axis=1)
            deep = core < model.core_depth * np.where(cont > 0, cont, np.inf)
            hw = rng.integers(2, 6, size=n)
            _window_mask(mask, jcc, hw, on & deep)
    # random fixed windows (sky lines)
    for lo, hi, prob in model.windows:
        sel = (wave >= lo) & (wave <= hi)
        on = rng.random(n) < prob
        mask[np.ix_(on, sel)] = True
    # dichroic overlap run
    if model.dichroic_prob > 0:
        on = rng.random(n) < model.dichroic_prob
        start = rng.uniform(*model.dichroic_start, size=n)
        end = rng.uniform(*model.dichroic_end, size=n)
        long = rng.random(n) < model.dichroic_long_prob
        end = np.where(long, rng.uniform(*model.dichroic_long_end, size=n), end)
        _runs_mask(mask, _cols(grid, start), _cols(grid, end), on)
    # red-end run from a start drawn by inverse CDF of the measured quantiles
    if model.red_start_quantiles is not None:
        q = np.array([0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
        start = np.interp(rng.random(n), q, np.asarray(model.red_start_quantiles, float))
        on = start < wave[-1]
        _runs_mask(mask, _cols(grid, np.minimum(start, wave[-1])), np.full(n, npix - 1), on)
    # OH lines in the far red, more often in blue stars (faint red continuum)
    if model.oh_prob > 0 and model.oh_mean > 0:
        from specnet.simulate.calibration import SKY_LINES

        lines = np.array([w for w, _ in SKY_LINES if 8700 < w < wave[-1]])
        red = (wave > 8500) & (wave < 9000)
        if lines.size and red.any():
            band = (wave > 4100) & (wave < 5300)
            ratio = np.median(clean[:, red], axis=1) / np.maximum(np.median(clean[:, band], axis=1), 1e-30)
            p_spec = np.minimum(1.0, model.oh_prob * (model.oh_colour_ref / np.maximum(ratio, 1e-3)) ** 2)
            on_spec = rng.random(n) < p_spec
            p_line = min(1.0, model.oh_mean / lines.size)
            for lam in lines:
                on = on_spec & (rng.random(n) < p_line)
                jc = np.full(n, _cols(grid, np.array([lam]))[0])
                _window_mask(mask, jc, rng.integers(3, 7, size=n), on)
    # isolated bad pixels
    if model.isolated_rate > 0:
        counts = rng.poisson(model.isolated_rate, size=n)
        total = int(counts.sum())
        if total:
            rows = np.repeat(np.arange(n), counts)
            cols = rng.integers(0, npix - 1, size=total)
            mask[rows, cols] = True
            two = rng.random(total) < 0.3
            mask[rows[two], cols[two] + 1] = True
    return mask
