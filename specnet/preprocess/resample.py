"""Rest-frame shift and flux-conserving resampling of a :class:`~specnet.spectrum.Spectrum` onto a :class:`Grid`."""
from __future__ import annotations

import math

import numpy as np

from specnet.preprocess.grid import Grid
from specnet.spectrum import Spectrum, air_to_vacuum, vacuum_to_air

__all__ = ["to_rest_frame", "resample", "pixel_edges", "MIN_GOOD_FRACTION"]

#: A grid pixel is masked unless at least this fraction of it is covered by good input pixels.
MIN_GOOD_FRACTION = 0.5


def _meta_z(spec: Spectrum) -> float | None:
    """The finite redshift in ``spec.meta['z']``, or ``None`` where there is none."""
    z = spec.meta.get("z")
    try:
        z = float(z)
    except (TypeError, ValueError):
        return None
    return z if math.isfinite(z) else None


def to_rest_frame(spec: Spectrum, z: float | None = None) -> Spectrum:
    """A copy of ``spec`` with ``wave / (1 + z)`` (Å, same medium) and ``meta['z'] = 0``.

    ``z`` defaults to ``spec.meta['z']``. Flux is not rescaled (normalisation follows).
    Raises ``ValueError`` when there is no finite ``z`` or ``z <= -1`` (e.g. LAMOST's -9999).

    >>> s = Spectrum(np.array([6564.61 * 1.01]), np.ones(1), meta={"z": 0.01})
    >>> round(float(to_rest_frame(s).wave[0]), 2)
    6564.61
    """
    if z is None:
        z = _meta_z(spec)
        if z is None:
            raise ValueError(f"to_rest_frame: no redshift given and meta['z'] is not a number. "
                             f"Received: z=None, meta['z']={spec.meta.get('z')!r}")
    z = float(z)
    if not math.isfinite(z) or z <= -1:
        raise ValueError(f"to_rest_frame needs a finite z > -1. Received: z={z!r}")
    out = spec.copy()
    out.wave = spec.wave / (1.0 + z)
    out.meta["z_obs"] = z
    out.meta["z"] = 0.0
    return out


def pixel_edges(wave: np.ndarray) -> np.ndarray:
    """Pixel edges (Å) halfway between centres, extrapolated by half a pixel at both ends.

    >>> pixel_edges(np.array([1.0, 2.0, 4.0])).tolist()
    [0.5, 1.5, 3.0, 5.0]
    """
    wave = np.asarray(wave, dtype=np.float64)
    edges = np.empty(wave.size + 1)
    edges[1:-1] = 0.5 * (wave[1:] + wave[:-1])
    edges[0] = wave[0] - 0.5 * (wave[1] - wave[0])
    edges[-1] = wave[-1] + 0.5 * (wave[-1] - wave[-2])
    return edges


def _bin_sums(e_in: np.ndarray, e_out: np.ndarray, quantities: list[np.ndarray], power: list[int]) -> list[np.ndarray]:
    """Exact overlap sums ``S_j = Σ_i w_ij**p q_i`` for each output bin ``j``.

    ``w_ij`` is the overlap (Å) of input pixel ``i`` (edges ``e_in``) with output bin ``j``
    (edges ``e_out``, clipped to the input coverage). Vectorised: the fully covered input
    pixels of a bin come from a cumulative sum, the two partial ones are added explicitly.
    """
    n_in = e_in.size - 1
    e_out = np.clip(e_out, e_in[0], e_in[-1])
    k = np.clip(np.searchsorted(e_in, e_out, side="right") - 1, 0, n_in - 1)
    a, b = k[:-1], k[1:]                          # input pixel holding each bin's left / right edge
    lo, hi = e_out[:-1], e_out[1:]
    width_in = np.diff(e_in)
    same = a == b
    w_left = np.where(same, hi - lo, e_in[a + 1] - lo)
    w_right = np.where(same, 0.0, hi - e_in[b])
    inner_b = np.maximum(b, a + 1)               # full pixels are a+1 .. b-1
    out = []
    for q, p in zip(quantities, power):
        cum = np.concatenate(([0.0], np.cumsum(width_in ** p * q)))
        full = np.where(same, 0.0, cum[inner_b] - cum[a + 1])
        out.append(w_left ** p * q[a] + w_right ** p * q[b] + full)
    return out


def resample(spec: Spectrum, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rebin ``spec`` onto ``grid``, conserving flux, returning ``(flux, ivar, mask)``.

    Each grid pixel gets the mean flux density of the good input pixels it overlaps,
    weighted by overlap in Å (exact for piecewise-constant input pixels, whose edges lie
    halfway between centres). The wavelengths are first converted air↔vacuum to
    ``grid.medium``. Variances propagate exactly: ``var_j = Σ w_ij² σ_i² / (Σ w_ij)²``, so a
    pixel twice as wide as white-noise input pixels has twice their ivar. A grid pixel is
    masked (``True``) when less than :data:`MIN_GOOD_FRACTION` of it is covered by good input
    pixels (outside the input coverage, or mostly bad pixels); masked pixels have flux 0 and
    ivar 0.

    Returns float32 ``flux`` and ``ivar`` and bool ``mask``, each of shape ``(grid.npix,)``.

    >>> from specnet.preprocess.grid import Grid
    >>> g = Grid.from_range(4000, 4100)
    >>> s = Spectrum(np.linspace(3950, 4150, 400), np.full(400, 2.0))
    >>> f, iv, m = resample(s, g)
    >>> bool(np.allclose(f, 2.0)), bool(m.any())
    (True, False)
    """
    if spec.npix < 2:
        raise ValueError(f"resample needs at least 2 input pixels. Received: spec.npix={spec.npix}")
    wave = spec.wave
    if spec.medium != grid.medium:
        wave = air_to_vacuum(wave) if grid.medium == "vacuum" else vacuum_to_air(wave)
    if np.any(np.diff(wave) <= 0):
        raise ValueError(f"resample needs strictly increasing wavelengths. Received: spec={spec!r}")
    e_in = pixel_edges(wave)
    e_out = np.asarray(grid.edges)
    good = (~spec.mask).astype(np.float64)
    flux = np.where(spec.mask, 0.0, spec.flux)
    var = np.where(spec.mask, 0.0, 1.0 / np.where(spec.mask, 1.0, spec.ivar))
    wsum, fsum, vsum = _bin_sums(e_in, e_out, [good, good * flux, var], [1, 1, 2])
    width = np.diff(e_out)
    out_mask = wsum < MIN_GOOD_FRACTION * width
    safe = np.where(out_mask, 1.0, wsum)
    out_flux = np.where(out_mask, 0.0, fsum / safe)
    out_var = vsum / safe ** 2
    with np.errstate(divide="ignore"):
        out_ivar = np.where(out_mask | (out_var <= 0), 0.0, 1.0 / out_var)
    out_mask |= out_ivar <= 0
    out_flux = np.where(out_mask, 0.0, out_flux)
    return out_flux.astype(np.float32), out_ivar.astype(np.float32), out_mask
