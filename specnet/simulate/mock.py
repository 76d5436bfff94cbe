"""Mock surveys: labelled survey-like spectra drawn from a template library.

:func:`mock_survey` draws subtypes, picks the two neighbouring templates of one
luminosity group (and library) and interpolates between them in log flux, then
applies, vectorised over chunks of spectra (:func:`render_batch`): a Doppler
shift, interstellar extinction (``dust_extinction``), telluric bands, a smooth
flux-calibration error, the blue/red arm join, a blue scattered-light pedestal,
photon + background + sky-line noise at the requested S/N (with ``ivar`` equal
to the noise actually added), sky-subtraction residuals, cosmic rays and the
profile's masks. Templates are degraded to the profile's R **once** per
(library, profile) and kept as a log-flux matrix on a 2× oversampled log grid
(:func:`template_matrix`); a spectrum is then a few gathers from it.

Reproducibility: spectra are made in fixed chunks of :data:`CHUNK_SIZE`; chunk
``k`` uses ``np.random.SeedSequence(seed).spawn(...)[k]``, so the output depends
on ``seed`` and ``n`` only, not on ``n_jobs``.

>>> from specnet.simulate import TemplateLibrary, mock_survey
>>> lib = TemplateLibrary.from_path("../shared/data/templates")        # doctest: +SKIP
>>> spectra, cat = mock_survey(lib, 100, profile="lamost-dr1", snr=(10, 50), seed=1)  # doctest: +SKIP
>>> cat["label"][0], spectra[0].meta["subclass"]                       # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from specnet.simulate import effects as fx
from specnet.simulate.library import TemplateLibrary, lum_group
from specnet.simulate.masks import draw_masks
from specnet.simulate.matrix import TemplateMatrix, _draw_templates, template_matrix
from specnet.simulate.profiles import SurveyProfile, get_profile

__all__ = ["mock_survey", "template_matrix", "render_batch", "batch_options", "TemplateMatrix", "CHUNK_SIZE"]

#: Spectra per chunk (the unit of seeding and of parallel work).
CHUNK_SIZE = 250
_C_KMS = 299792.458
_LN10 = math.log(10.0)


@functools.lru_cache(maxsize=8)
def _profile_arrays(profile: SurveyProfile) -> dict:
    wave = profile.grid.wave
    return {"ext": fx.extinction_curve(wave, profile.extinction_law, profile.rv_dust),
            "basis": fx.legendre_basis(wave.size, int(profile.calib_order)),
            "tau": profile.telluric_tau(), "thru": profile.throughput_curve(),
            "sky": profile.sky_profile(), "snrpix": profile.snr_pixels()}


def render_batch(rng: np.random.Generator, tm: TemplateMatrix, n: int, opts: dict,
                 profile: "str | SurveyProfile | None" = None) -> dict:
    """Make ``n`` spectra as arrays; the vectorised core of :func:`mock_survey`.

    ``opts`` holds ``groups``, ``subtype_range``, ``subtype_distribution``, ``snr``,
    ``rv``, ``ebv`` and ``effects`` (a set of effect names to apply, see
    :data:`ALL_EFFECTS`). Returns a dict with ``flux``, ``ivar``, ``mask``, ``clean``
    (noiseless, after all multiplicative effects), ``sigma`` (shape ``(n, npix)``) and the
    per-spectrum draws (``subtype``, ``tpl_a``, ``tpl_b``, ``weight_b``, ``rv``, ``z``,
    ``ebv``, ``snr_target``, ``snr``, ``flux_scale``...). ``profile`` (default ``tm.profile``)
    may be any profile with the same grid, R and S/N band as ``tm``'s.
    """
    prof = tm.profile if profile is None else get_profile(profile)
    if (prof.grid, prof.R, prof.snr_band) != (tm.profile.grid, tm.profile.R, tm.profile.snr_band):
        raise ValueError(f"profile {prof.name!r} needs its own template_matrix (grid, R or S/N band differ from "
                         f"{tm.profile.name!r}). Received: profile={prof.name!r}")
    arr = _profile_arrays(prof)
    wave = prof.grid.wave
    on = opts.get("effects", ALL_EFFECTS)
    out = _draw_templates(rng, n, tm, opts)
    snr_t = fx.draw_snr(rng, n, opts["snr"])
    rv = fx.draw_rv(rng, n, prof, opts.get("rv")) if "rv" in on else np.zeros(n)
    ebv = fx.draw_ebv(rng, n, prof, opts.get("ebv")) if "extinction" in on else np.zeros(n)
    beta = rv / _C_KMS
    z = np.sqrt((1 + beta) / (1 - beta)) - 1.0
    shift = -np.log10(1.0 + z) / tm.fine_step
    la = fx.shift_gather(tm.logflux, out["tpl_a"], tm.base, shift)
    lb = fx.shift_gather(tm.logflux, out["tpl_b"], tm.base, shift)
    wb = out["weight_b"][:, None]
    logf = (1.0 - wb) * la + wb * lb
    logf -= 0.4 * _LN10 * ebv[:, None] * arr["ext"][None, :]
    if "telluric" in on and (prof.telluric > 0 or prof.telluric_residual > 0):
        strength = prof.telluric + rng.normal(0.0, prof.telluric_residual, size=n)
        logf -= strength[:, None] * arr["tau"][None, :]
    flux = np.exp(logf)
    if "calibration" in on:
        flux *= fx.calibration_error(rng, n, arr["basis"], prof.calib_error)
    if "arm_join" in on:
        factor, _ = fx.arm_join(rng, n, wave, prof.arm_join, prof.arm_step, prof.arm_tilt)
        flux *= factor
    ref = np.median(flux[:, arr["snrpix"]], axis=1)
    scale = np.exp(rng.uniform(math.log(30.0), math.log(3000.0), size=n))
    flux *= (scale / ref)[:, None]
    if "pedestal" in on:
        flux, ped = fx.blue_pedestal(rng, flux, wave, prof.blue_pedestal, prof.pedestal_scale, scale)
    else:
        ped = np.zeros(n)
    sky = None
    if "sky" in on and prof.sky_level > 0 and arr["sky"].any():
        sky = arr["sky"][None, :] * np.exp(rng.normal(0.0, prof.sky_scatter, size=n))[:, None]
    noisy, ivar, info = fx.add_noise(rng, flux, arr["thru"], snr_t, arr["snrpix"],
                                     background=prof.background, sky=sky, snr_scale=prof.snr_scale)
    if sky is not None and prof.sky_residual > 0:
        rho = rng.normal(0.0, prof.sky_residual, size=n)  # in units of the lines' photon noise
        noisy += rho[:, None] * np.sqrt(sky) / (info["counts_scale"][:, None] * arr["thru"][None, :])
    if "cosmics" in on:
        noisy, _ = fx.cosmic_rays(rng, noisy, info["sigma"], prof.cosmic_rate)
    if "masks" in on:
        mask = draw_masks(rng, prof.grid, flux, noisy, info["expected_snr"], z, prof.mask)
    else:
        mask = np.zeros(flux.shape, bool)
    ivar = np.where(mask, 0.0, ivar)
    flux32 = noisy.astype(np.float32)
    ivar32 = ivar.astype(np.float32)
    out.update({
        "flux": flux32, "ivar": ivar32, "mask": mask, "clean": flux, "sigma": info["sigma"],
        "rv": rv, "z": z, "ebv": ebv, "snr_target": snr_t, "flux_scale": scale, "pedestal": ped,
        "snr": fx.measure_snr(flux32, ivar32, arr["snrpix"], prof.snr_scale),
        "mask_fraction": mask.mean(axis=1),
    })
    return out


#: Effect names ``render_batch`` knows (all on by default).
ALL_EFFECTS = frozenset({"rv", "extinction", "telluric", "calibration", "arm_join", "pedestal", "sky",
                         "cosmics", "masks"})


# ------------------------------------------------------------------ workers
_WORKER: dict[str, Any] = {}


def _init_worker(tm: TemplateMatrix) -> None:
    _WORKER["tm"] = tm


def _run_chunk(task: tuple) -> dict:
    k, start, size, seed_seq, opts = task
    tm = _WORKER["tm"]
    rng = np.random.default_rng(seed_seq)
    res = render_batch(rng, tm, size, opts)
    res["index"] = np.arange(start, start + size)
    res["chunk"] = np.full(size, k)
    keep = {"flux", "ivar", "mask"} if opts["return_arrays"] else set()
    drop = {"clean", "sigma"} | ({"flux", "ivar", "mask"} - keep)
    if opts["out_dir"] is not None:
        res["path"] = _write_chunk(res, tm, opts)
    return {key: v for key, v in res.items() if key not in drop}


def _labels(subtype: np.ndarray, lum: np.ndarray) -> list[str]:
    from specnet.labels import format_subtype

    # L and T types are dwarfs by definition and are written without a class (SDSS "L5")
    return [format_subtype(s) + (g if g not in ("?", "") and s < 69.5 else "") for s, g in zip(subtype, lum)]


def _spectrum_meta(res: dict, i: int, tm: TemplateMatrix, label: str, layout: str | None) -> dict:
    prof = tm.profile
    idx = int(res["index"][i])
    return {
        "survey": prof.survey, "obj_class": "STAR", "subclass": label, "z": float(res["z"][i]),
        "snr": float(res["snr"][i]), "id": f"mock-{idx:07d}", "format": layout, "path": None,
        "subtype": float(res["subtype"][i]), "lum_class": str(res["lum_group"][i]).replace("?", ""),
        "library": str(res["library"][i]), "template_a": str(tm.names[res["tpl_a"][i]]),
        "template_b": str(tm.names[res["tpl_b"][i]]), "weight_b": float(res["weight_b"][i]),
        "rv": float(res["rv"][i]), "ebv": float(res["ebv"][i]), "snr_target": float(res["snr_target"][i]),
        "profile": prof.name, "data_release": prof.data_release, "mock": True, "index": idx,
        "R": prof.R,
    }


def _write_chunk(res: dict, tm: TemplateMatrix, opts: dict) -> list[str]:
    from specnet.simulate.write import write_spectrum
    from specnet.spectrum import Spectrum

    out_dir = Path(opts["out_dir"])
    layout = opts["layout"]
    labels = _labels(res["subtype"], res["lum_group"])
    paths = []
    wave = tm.profile.grid.wave
    for i in range(len(labels)):
        rel = f"spectra/mock-{int(res['index'][i]):07d}.fits"
        meta = _spectrum_meta(res, i, tm, labels[i], layout)
        spec = Spectrum(wave, res["flux"][i], res["ivar"][i], res["mask"][i], meta, "vacuum")
        write_spectrum(spec, out_dir / rel, layout, profile=tm.profile,
                       model=res["clean"][i] if layout == "sdss-spec" else None)
        paths.append(rel)
    return paths


def _pool_context():
    import multiprocessing as mp

    if sys.platform.startswith("linux") and "tensorflow" not in sys.modules:
        return mp.get_context("fork")
    return mp.get_context("spawn")


# --------------------------------------------------------------------- API
def batch_options(tm: TemplateMatrix, n: int, snr=(5, 100), subtype_range: tuple | None = None,
                  subtype_distribution="uniform", lum_classes=None, rv=None, ebv=None, effects=None,
                  stacklevel: int = 2) -> dict:
    """The validated ``opts`` dict :func:`render_batch` takes (arguments as in :func:`mock_survey`).

    >>> import numpy as np
    >>> from specnet.simulate.builtin import builtin_library                      # doctest: +SKIP
    >>> tm = template_matrix(builtin_library(), "lamost-lrs")                    # doctest: +SKIP
    >>> out = render_batch(np.random.default_rng(0), tm, 5, batch_options(tm, 5))  # doctest: +SKIP
    >>> out["flux"].shape                                                         # doctest: +SKIP
    (5, 3909)
    """
    effects = ALL_EFFECTS if effects is None else frozenset(effects)
    unknown = set(effects) - ALL_EFFECTS
    if unknown:
        raise ValueError(f"Unknown effects {sorted(unknown)}; known: {sorted(ALL_EFFECTS)}. Received: effects={effects!r}")
    allowed = None
    if lum_classes is not None:
        given = [lum_classes] if isinstance(lum_classes, str) else list(lum_classes)
        allowed = set()
        for c in given:
            g = lum_group(c)
            if g == "?" and str(c).strip() not in ("?", ""):
                raise ValueError(f"Unknown luminosity class {c!r} (use V, IV, III, II, I..., VI, or '?' for "
                                 f"templates without one). Received: lum_classes={lum_classes!r}")
            allowed.add(g)
    groups = tm.groups(allowed)
    if not groups:
        raise ValueError(f"No template in the library has a luminosity class in {sorted(allowed)}. "
                         f"Received: lum_classes={lum_classes!r}")
    gmin = min(g[1][0] for g in groups)
    gmax = max(g[1][-1] for g in groups)
    if isinstance(subtype_distribution, str):
        if subtype_distribution != "uniform":
            raise ValueError(f"subtype_distribution must be 'uniform' or an array of subtypes. "
                             f"Received: subtype_distribution={subtype_distribution!r}")
        dist = "uniform"
    else:
        arr = np.asarray(subtype_distribution)
        if arr.dtype.kind not in "fiu":
            from specnet.labels import parse_subtypes

            arr = parse_subtypes([str(x) for x in arr], errors="raise")
        dist = np.asarray(arr, dtype=float)
        if dist.ndim != 1 or dist.size == 0 or not np.all(np.isfinite(dist)):
            raise ValueError(f"subtype_distribution array must be 1-D, non-empty and finite. "
                             f"Received: shape={dist.shape}")
    rng_range = (gmin, gmax) if subtype_range is None else (float(subtype_range[0]), float(subtype_range[1]))
    if not rng_range[0] <= rng_range[1]:
        raise ValueError(f"subtype_range must be (lo, hi) with lo <= hi. Received: subtype_range={subtype_range!r}")
    if rng_range[0] < gmin - 1e-9 or rng_range[1] > gmax + 1e-9:
        warnings.warn(f"subtype_range {rng_range} extends beyond the templates ({gmin}-{gmax}); subtypes outside "
                      f"are clamped to the nearest template", UserWarning, stacklevel=stacklevel)
    return {"groups": groups, "subtype_range": rng_range, "subtype_distribution": dist,
            "snr": _canon(snr, n, "snr", log=True), "rv": _canon(rv, n, "rv", log=False),
            "ebv": _canon(ebv, n, "ebv", log=False), "effects": effects}


def mock_survey(library: TemplateLibrary, n: int, profile: "str | SurveyProfile" = "lamost-lrs",
                snr=(5, 100), seed: int = 0, out_dir=None, subtype_range: tuple | None = None,
                subtype_distribution="uniform", lum_classes=None, layout: str | None = None,
                n_jobs: int = -1, return_spectra: bool = True, rv=None, ebv=None,
                effects=None):
    """Simulate ``n`` labelled spectra of a survey from a template library.

    Parameters
    ----------
    library : TemplateLibrary
        Templates (e.g. ``TemplateLibrary.from_path("../shared/data/templates")`` or
        ``specnet.simulate.builtin_library()``).
    n : int
        Number of spectra.
    profile : str or SurveyProfile
        ``"lamost-lrs"``, ``"lamost-dr1"``, ``"sdss"`` or a registered/own profile.
    snr : (lo, hi), float, array of n, or callable(rng, n)
        Target S/N under the profile's definition (LAMOST SNRG, SDSS SN_MEDIAN_ALL);
        a range is drawn log-uniformly.
    seed : int
        Everything random derives from it; the result does not depend on ``n_jobs``.
    out_dir : path, optional
        Write one FITS file per spectrum under ``out_dir/spectra/`` in ``layout`` and
        ``out_dir/catalogue.csv``.
    subtype_range : (lo, hi), optional
        Uniform subtype range (O0=0 … M9=69); default the library's (allowed) range.
    subtype_distribution : "uniform" or array of subtypes
        ``"uniform"`` over ``subtype_range``, or resample these (numbers or MK strings),
        e.g. a real catalogue's subtypes.
    lum_classes : str or list of str, optional
        Restrict to luminosity groups (``"V"``, ``"IV"``, ``"III"``, ``"I"``, ``"VI"``; ``None`` = all,
        ``"?"`` = templates without a class).
    layout : str, optional
        ``"lamost-dr2"``, ``"lamost-dr9"`` or ``"sdss-spec"``; default ``profile.default_layout``.
    n_jobs : int
        Worker processes (-1 = all cores, 1 = in process).
    return_spectra : bool
        Return the :class:`~specnet.Spectrum` list (``[]`` if False, e.g. for large file runs).
    rv, ebv : optional
        Override the profile's radial-velocity (km/s) / E(B−V) distributions: a value,
        ``(lo, hi)`` uniform, an array of ``n`` or ``callable(rng, n)``.
    effects : set of str, optional
        Subset of :data:`ALL_EFFECTS` to apply (default all), e.g. ``set()`` for
        template + noise only.

    Returns
    -------
    spectra : list of Spectrum
        On the profile's grid (vacuum Å); ``meta`` holds ``subclass`` (the MK label),
        ``subtype``, ``snr`` (measured as the survey does), ``z``, ``rv``, ``ebv``,
        ``template_a``/``template_b``/``weight_b``...
    catalogue : astropy.table.Table
        One row per spectrum: ``index``, ``id``, ``path`` (relative to ``out_dir``, ``""`` if
        nothing written), ``label``, ``subtype``, ``lum_class``, ``library``, ``template_a``,
        ``template_b``, ``weight_b``, ``snr`` (measured), ``snr_target``, ``rv`` (km/s), ``z``,
        ``ebv``, ``mask_fraction``, ``flux_scale``, ``chunk``, ``seed``, ``profile``, ``layout``.
    """
    from astropy.table import Table

    from specnet.spectrum import Spectrum

    prof = get_profile(profile)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive int. Received: n={n!r}")
    n = int(n)
    if not isinstance(library, TemplateLibrary) or len(library) == 0:
        raise ValueError(f"library must be a non-empty TemplateLibrary. Received: library={library!r}")
    layout = layout or prof.default_layout
    from specnet.simulate.write import LAYOUTS

    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}. Received: layout={layout!r}")
    tm = template_matrix(library, prof)
    opts = batch_options(tm, n, snr=snr, subtype_range=subtype_range, subtype_distribution=subtype_distribution,
                         lum_classes=lum_classes, rv=rv, ebv=ebv, effects=effects, stacklevel=3)
    opts.update({"layout": layout, "out_dir": None if out_dir is None else str(out_dir),
                 "return_arrays": bool(return_spectra)})
    if out_dir is not None:
        (Path(out_dir) / "spectra").mkdir(parents=True, exist_ok=True)
    n_chunks = math.ceil(n / CHUNK_SIZE)
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    tasks = []
    for k in range(n_chunks):
        start, size = k * CHUNK_SIZE, min(CHUNK_SIZE, n - k * CHUNK_SIZE)
        chunk_opts = dict(opts)
        for key in ("snr", "rv", "ebv"):
            if isinstance(opts[key], np.ndarray):
                chunk_opts[key] = opts[key][start:start + size]
        tasks.append((k, start, size, seeds[k], chunk_opts))
    jobs = (os.cpu_count() or 1) if n_jobs in (-1, None) else int(n_jobs)
    if jobs < 1:
        raise ValueError(f"n_jobs must be -1 or >= 1. Received: n_jobs={n_jobs!r}")
    results = _run_all(tm, tasks, min(jobs, n_chunks))
    return _assemble(results, tm, opts, seed, return_spectra, Table, Spectrum)


@dataclasses.dataclass(frozen=True)
class Uniform:
    """Draw ``n`` values uniformly in ``[lo, hi]`` (picklable, for worker processes)."""

    lo: float
    hi: float
    log: bool = False

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.log:
            return np.exp(rng.uniform(math.log(self.lo), math.log(self.hi), size=n))
        return rng.uniform(self.lo, self.hi, size=n)


def _canon(spec, n: int, name: str, log: bool):
    """None, a callable, a float, a per-spectrum array of ``n``, or a (lo, hi) range → :class:`Uniform`."""
    if spec is None or callable(spec):
        return spec
    if np.isscalar(spec):
        v = float(spec)
        if not math.isfinite(v) or (log and v <= 0):
            raise ValueError(f"{name} must be finite{' and > 0' if log else ''}. Received: {name}={spec!r}")
        return v
    arr = np.asarray(spec, dtype=float)
    if arr.shape == (2,):  # a range (also when n == 2)
        lo, hi = float(arr[0]), float(arr[1])
        if not (np.isfinite(arr).all() and lo <= hi and (not log or lo > 0)):
            raise ValueError(f"{name} range must be finite with lo <= hi{' and lo > 0' if log else ''}. "
                             f"Received: {name}={spec!r}")
        return Uniform(lo, hi, log)
    if arr.shape == (n,) and np.isfinite(arr).all():
        return arr
    raise ValueError(f"{name} must be a value, a (lo, hi) range, an array of n={n} finite values or a "
                     f"callable(rng, n). Received: {name} with shape {arr.shape}")


def _run_all(tm, tasks, jobs) -> list[dict]:
    if jobs <= 1:
        _init_worker(tm)
        return [_run_chunk(t) for t in tasks]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=_pool_context(), initializer=_init_worker, initargs=(tm,)) as ex:
        return list(ex.map(_run_chunk, tasks))


def _assemble(results, tm, opts, seed, return_spectra, Table, Spectrum):
    cat = {key: np.concatenate([r[key] for r in results]) for key in
           ("index", "chunk", "subtype", "tpl_a", "tpl_b", "weight_b", "lum_group", "library", "rv", "z", "ebv",
            "snr_target", "snr", "flux_scale", "mask_fraction")}
    labels = _labels(cat["subtype"], cat["lum_group"])
    n = len(labels)
    paths = [p for r in results for p in r.get("path", [])] or [""] * n
    table = Table()
    table["index"] = cat["index"]
    table["id"] = [f"mock-{i:07d}" for i in cat["index"]]
    table["path"] = paths
    table["label"] = labels
    table["subtype"] = cat["subtype"]
    table["lum_class"] = [str(g).replace("?", "") for g in cat["lum_group"]]
    table["library"] = [str(x) for x in cat["library"]]
    table["template_a"] = tm.names[cat["tpl_a"]]
    table["template_b"] = tm.names[cat["tpl_b"]]
    table["weight_b"] = cat["weight_b"]
    table["snr"] = cat["snr"]
    table["snr_target"] = cat["snr_target"]
    table["rv"] = cat["rv"]
    table["z"] = cat["z"]
    table["ebv"] = cat["ebv"]
    table["mask_fraction"] = cat["mask_fraction"]
    table["flux_scale"] = cat["flux_scale"]
    table["chunk"] = cat["chunk"]
    table["seed"] = np.full(n, seed)
    table["profile"] = [tm.profile.name] * n
    table["layout"] = [opts["layout"] if opts["out_dir"] else ""] * n
    for col, unit in (("rv", "km/s"), ("ebv", "mag")):
        table[col].unit = unit
    table.meta.update({"profile": tm.profile.name, "seed": seed, "n": n, "chunk_size": CHUNK_SIZE})
    if opts["out_dir"] is not None:
        table.write(Path(opts["out_dir"]) / "catalogue.csv", format="ascii.csv", overwrite=True)
    spectra = []
    if return_spectra:
        wave = tm.profile.grid.wave
        res_i = 0
        for r in results:
            for i in range(r["flux"].shape[0]):
                meta = _spectrum_meta(r, i, tm, labels[res_i], None)
                if opts["out_dir"] is not None:
                    meta["path"] = str(Path(opts["out_dir"]) / r["path"][i])
                    meta["format"] = opts["layout"]
                spectra.append(Spectrum(wave, r["flux"][i], r["ivar"][i], r["mask"][i], meta, "vacuum"))
                res_i += 1
    return spectra, table
