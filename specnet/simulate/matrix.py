"""Templates degraded to a survey profile, tabulated for fast mock rendering.

:func:`template_matrix` extends every template of a library to the profile's range
(:meth:`~specnet.simulate.TemplateLibrary.extend`), rebins it (flux-conserving) onto a
log-λ grid 2× finer than the profile's, convolves it to the profile's R (Gaussian in
log λ, σ² = σ_R² − σ_template² per pixel) and stores ln F, normalised to median 1 in the
S/N band, as a ``(ntemplates, nfine)`` float32 matrix: a :class:`TemplateMatrix`. This is
done **once** per (library, profile) and cached in memory and on disk
(``$SPECNET_HOME/cache/matrix-*.npz``). A mock spectrum is then two gathers and a
weighted sum from it (:func:`specnet.simulate.effects.shift_gather`).

:func:`_draw_templates` draws subtypes and the pair of neighbouring templates (same
library and luminosity group) to interpolate between.

>>> from specnet.simulate.builtin import builtin_library
>>> tm = template_matrix(builtin_library(subtypes=[40, 50]), "lamost-lrs", cache=False)
>>> tm.logflux.shape[0], tm.base.shape
(2, (3909,))
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os

import numpy as np

from specnet.simulate import effects as fx
from specnet.simulate.library import TemplateLibrary, cache_dir, prune_cache
from specnet.simulate.profiles import SurveyProfile, get_profile

__all__ = ["TemplateMatrix", "template_matrix"]

_C_KMS = 299792.458
_LN10 = math.log(10.0)
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
_MATRIX_VERSION = "3"


@dataclasses.dataclass
class TemplateMatrix:
    """A library degraded to one profile's R on an oversampled log grid.

    Attributes
    ----------
    logflux : ndarray float32, shape (ntemplates, nfine)
        ln F_λ (rest frame, vacuum), each template normalised to median 1 in the S/N band.
    base : ndarray int, shape (npix,)
        Fine column of each output pixel at zero velocity.
    fine_step : float
        log10 step of the fine grid (``profile.grid.log_step / oversample``).
    names, libraries, lum_groups : ndarray of str, shape (ntemplates,)
    subtypes : ndarray float, shape (ntemplates,)
    profile : SurveyProfile
    """

    logflux: np.ndarray
    base: np.ndarray
    fine_step: float
    names: np.ndarray
    libraries: np.ndarray
    lum_groups: np.ndarray
    subtypes: np.ndarray
    profile: SurveyProfile

    def groups(self, allowed: set | None = None) -> list[tuple[tuple[str, str], np.ndarray, list[np.ndarray]]]:
        """``[(key=(library, lum_group), unique subtypes, [template indices per subtype])]``."""
        out = []
        keys = sorted({(lib, g) for lib, g in zip(self.libraries, self.lum_groups)})
        for key in keys:
            if allowed is not None and key[1] not in allowed:
                continue
            idx = np.flatnonzero((self.libraries == key[0]) & (self.lum_groups == key[1]))
            st = self.subtypes[idx]
            uniq = np.unique(st)
            out.append((key, uniq, [idx[st == u] for u in uniq]))
        return out


_MATRIX_CACHE: dict[tuple, TemplateMatrix] = {}


def template_matrix(library: TemplateLibrary, profile: "str | SurveyProfile", oversample: int = 2,
                    cache: bool = True) -> TemplateMatrix:
    """Degrade every template to ``profile.R`` once and tabulate ln F on a fine log grid (cached).

    Each template is extended to the needed range (:meth:`TemplateLibrary.extend`),
    rebinned (flux-conserving) onto a log grid ``oversample`` × finer than the
    profile's, convolved with a Gaussian of σ² = σ_R² − σ_template² (per pixel,
    from the template's FWHM in Å; templates already coarser than R, e.g. Pickles,
    are left as they are) and normalised to median 1 over the S/N band. Kept in memory and,
    with ``cache``, as an ``.npz`` under ``$SPECNET_HOME/cache`` keyed by the library's
    fingerprint and the profile's grid, R, S/N band and ``rv_max`` (the only fields it uses).
    """
    from scipy.ndimage import uniform_filter1d

    profile = get_profile(profile)
    # the matrix depends on the grid, R, S/N band and velocity range only: profiles that differ
    # in noise, masks or effects share it
    shape = (profile.grid, profile.R, profile.snr_band, profile.rv_max)
    key = (library.fingerprint, shape, int(oversample))
    if key in _MATRIX_CACHE:
        tm = _MATRIX_CACHE[key]
        return tm if tm.profile == profile else dataclasses.replace(tm, profile=profile)
    digest = hashlib.sha1(f"{_MATRIX_VERSION}|{key[0]}|{shape!r}|{key[2]}".encode()).hexdigest()[:20]
    cpath = cache_dir() / f"matrix-{digest}.npz"
    if cache and cpath.is_file():
        try:
            with np.load(cpath, allow_pickle=False) as z:
                tm = TemplateMatrix(logflux=z["logflux"], base=z["base"], fine_step=float(z["fine_step"]),
                                    names=z["names"], libraries=z["libraries"], lum_groups=z["lum_groups"],
                                    subtypes=z["subtypes"], profile=profile)
            _MATRIX_CACHE[key] = tm
            return tm
        except Exception:  # unreadable cache: rebuild it
            pass
    grid = profile.grid
    k = int(oversample)
    margin = int(math.ceil(math.log10(1 + (profile.rv_max + 100.0) / _C_KMS) / grid.log_step)) + 2
    pad = 40  # fine pixels of convolution padding, cut afterwards
    fine_step = grid.log_step / k
    nfine = (grid.npix + 2 * margin) * k
    log0 = grid.log_start - margin * grid.log_step
    logc = log0 + fine_step * np.arange(-pad, nfine + pad)
    centres = 10.0 ** logc
    edges = 10.0 ** np.concatenate([logc - 0.5 * fine_step, [logc[-1] + 0.5 * fine_step]])
    lib = library.extend(float(edges[0]) - 5.0, float(edges[-1]) + 5.0)
    sig_R = 1.0 / profile.R * _FWHM_TO_SIGMA / _LN10 / fine_step
    band = profile.snr_band or grid.wave_range
    in_band = (centres >= band[0]) & (centres <= band[1])
    in_band[:pad] = in_band[-pad:] = False
    out = np.empty((len(lib), nfine), np.float32)
    for start in range(0, len(lib), 128):
        ts = lib.templates[start:start + 128]
        flux = np.empty((len(ts), centres.size))
        sig = np.empty_like(flux)
        for j, t in enumerate(ts):
            f = fx.rebin(t.wave, t.flux, edges)
            ok = np.isfinite(f)
            if not ok.any():
                raise ValueError(f"template {t.name!r} does not overlap the profile grid "
                                 f"{grid.wave_range[0]:.0f}-{grid.wave_range[1]:.0f} Å")
            if not ok.all():  # hold the edge values where no donor could extend it
                f = np.interp(np.arange(f.size), np.flatnonzero(ok), f[ok])
            flux[j] = f
            sig_t = t.fwhm_at(centres) / centres * _FWHM_TO_SIGMA / _LN10 / fine_step
            sig[j] = np.sqrt(np.clip(sig_R ** 2 - sig_t ** 2, 0.0, None))
        flux = fx.gaussian_degrade(flux, sig)
        norm = np.median(flux[:, in_band], axis=1)
        norm = np.where(norm > 0, norm, np.maximum(np.abs(flux).max(axis=1), 1e-300))
        flux = flux / norm[:, None]
        # noise holes (non-positive pixels of noisy templates) would become deep spikes in log
        # flux: floor at 2 % of the local mean level, and 1e-5 of the band level overall.
        local = uniform_filter1d(np.clip(flux, 0.0, None), 51, axis=1, mode="nearest")
        flux = np.maximum(flux, np.maximum(0.02 * local, 1e-5))
        out[start:start + len(ts)] = np.log(flux[:, pad:-pad])
    base = margin * k + k * np.arange(grid.npix)
    tm = TemplateMatrix(logflux=out, base=base, fine_step=fine_step,
                        names=np.array(lib.names), libraries=np.array([str(x) for x in lib.libraries]),
                        lum_groups=np.array([str(x) for x in lib.lum_groups]), subtypes=lib.subtypes,
                        profile=profile)
    _MATRIX_CACHE[key] = tm
    if cache:
        try:
            cpath.parent.mkdir(parents=True, exist_ok=True)
            tmp = cpath.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, logflux=tm.logflux, base=tm.base, fine_step=tm.fine_step, names=tm.names,
                     libraries=tm.libraries, lum_groups=tm.lum_groups, subtypes=tm.subtypes)
            os.replace(tmp, cpath)
            prune_cache("matrix-*.npz", keep=12)
        except OSError:
            pass
    return tm


# ---------------------------------------------------------------- parameters
def _draw_templates(rng: np.random.Generator, n: int, tm: TemplateMatrix, opts: dict) -> dict:
    """Subtypes and the (a, b, weight) template pairs for ``n`` spectra."""
    groups = opts["groups"]
    lo, hi = opts["subtype_range"]
    dist = opts["subtype_distribution"]
    if isinstance(dist, str):
        s = rng.uniform(lo, hi, size=n)
    else:
        s = rng.choice(dist, size=n, replace=True)
    gmin = np.array([g[1][0] for g in groups])
    gmax = np.array([g[1][-1] for g in groups])
    elig = (s[:, None] >= gmin[None, :]) & (s[:, None] <= gmax[None, :])
    keys = rng.random((n, len(groups)))
    none = ~elig.any(axis=1)
    if none.any():  # outside every group: use the group nearest in subtype, clamp the label
        dist_g = np.maximum(gmin[None, :] - s[none, None], s[none, None] - gmax[None, :])
        elig[none] = dist_g <= dist_g.min(axis=1, keepdims=True) + 1e-9
    keys[~elig] = -1.0
    gi = keys.argmax(axis=1)
    a = np.empty(n, np.int64)
    b = np.empty(n, np.int64)
    w = np.zeros(n)
    pick = rng.random((n, 2))
    for g, (key, uniq, members) in enumerate(groups):
        sel = np.flatnonzero(gi == g)
        if sel.size == 0:
            continue
        sg = np.clip(s[sel], uniq[0], uniq[-1])
        s[sel] = sg
        ka = np.clip(np.searchsorted(uniq, sg, side="right") - 1, 0, uniq.size - 1)
        kb = np.minimum(ka + 1, uniq.size - 1)
        exact = uniq[ka] == sg
        kb = np.where(exact, ka, kb)
        span = uniq[kb] - uniq[ka]
        w[sel] = np.where(span > 0, (sg - uniq[ka]) / np.where(span > 0, span, 1.0), 0.0)
        sizes = np.array([m.size for m in members])
        offs = np.concatenate([[0], np.cumsum(sizes)])
        flat = np.concatenate(members)
        a[sel] = flat[offs[ka] + (pick[sel, 0] * sizes[ka]).astype(np.int64)]
        b[sel] = flat[offs[kb] + (pick[sel, 1] * sizes[kb]).astype(np.int64)]
    return {"subtype": s, "tpl_a": a, "tpl_b": b, "weight_b": w,
            "lum_group": np.array([groups[g][0][1] for g in gi], dtype=object),
            "library": np.array([groups[g][0][0] for g in gi], dtype=object)}
