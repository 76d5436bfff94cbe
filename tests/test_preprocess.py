"""Preprocessing on realistic synthetic spectra and real LAMOST fixtures."""
from __future__ import annotations

import json

import numpy as np
import pytest

from specnet.io import read_spectrum
from specnet.preprocess import (
    GRIDS,
    LAMOST_GRID,
    NORMALISATIONS,
    SDSS_GRID,
    Grid,
    PreprocessConfig,
    coverage,
    fill_masked,
    normalise,
    preprocess,
    pseudo_continuum,
    resample,
    to_rest_frame,
)
from specnet.spectrum import Spectrum, vacuum_to_air
from tests.conftest import FIXTURES

H_ALPHA_VAC = 6564.61
H_ALPHA_AIR = 6562.80
RNG_SEED = 20240611


def _lamost(layout: str) -> list:
    return sorted((FIXTURES / "lamost" / layout).glob("*.fits*"))


def _centroid(wave, flux, centre, half_width=15.0):
    """Depth-weighted centroid (Å) of an absorption line on a unit continuum."""
    sel = np.abs(wave - centre) < half_width
    depth = np.clip(1.0 - flux[sel], 0, None)
    return float(np.sum(wave[sel] * depth) / np.sum(depth))


def _line_spectrum(wave, centre, z=0.0, medium="vacuum", sigma=3.0, depth=0.6):
    flux = 1.0 - depth * np.exp(-0.5 * ((wave - centre * (1 + z)) / (sigma * (1 + z))) ** 2)
    return Spectrum(wave, flux, np.full(wave.size, 400.0), meta={"z": z}, medium=medium)


# ------------------------------------------------------------------ grids
def test_grids_match_survey_pixels():
    assert LAMOST_GRID.npix == 3909 and GRIDS["lamost-lrs"] is LAMOST_GRID and GRIDS["sdss"] is SDSS_GRID
    native = read_spectrum(FIXTURES / "lamost" / "dr10_table" / "3703110.fits")
    assert native.npix == 3909
    np.testing.assert_allclose(LAMOST_GRID.wave, native.wave, rtol=1e-6)   # float32 in the file; < 0.005 px
    assert LAMOST_GRID.edges.shape == (3910,)
    assert np.all(LAMOST_GRID.edges[:-1] < LAMOST_GRID.wave) and np.all(LAMOST_GRID.wave < LAMOST_GRID.edges[1:])
    lo, hi = SDSS_GRID.wave_range
    assert 3795 < lo < 3805 and 9190 < hi <= 9200
    np.testing.assert_allclose(np.diff(np.log10(SDSS_GRID.wave)), 1e-4, rtol=1e-6)


def test_grid_json_round_trip_and_validation():
    g = Grid.from_range(4000, 7000, log_step=2e-4, medium="air")
    assert Grid.from_dict(json.loads(json.dumps(g.to_dict()))) == g
    for bad in [dict(log_start=3.6, log_step=0, npix=10), dict(log_start=3.6, log_step=1e-4, npix=1),
                dict(log_start=3.6, log_step=1e-4, npix=10, medium="water"), dict(log_start=99, log_step=1e-4, npix=9)]:
        with pytest.raises(ValueError, match="Received"):
            Grid(**bad)
    with pytest.raises(ValueError, match="unknown keys"):
        Grid.from_dict({"log_start": 3.6, "log_step": 1e-4, "npix": 10, "colour": "red"})
    with pytest.raises(ValueError, match="Received"):
        Grid.from_range(7000, 4000)


# --------------------------------------------------------------- resample
def test_resample_conserves_flux_of_smooth_spectrum():
    wave = np.arange(3600.0, 9300.0, 0.7)                       # linear grid, 0.7 Å pixels
    flux = 1e3 * (wave / 5000.0) ** -2.5 * (1 + 0.3 * np.sin(wave / 300.0))
    spec = Spectrum(wave, flux, np.ones_like(wave))
    out, ivar, mask = resample(spec, LAMOST_GRID)
    assert out.dtype == np.float32 and ivar.dtype == np.float32 and mask.dtype == bool
    assert not mask.any()
    edges = LAMOST_GRID.edges
    fine = np.linspace(edges[0], edges[-1], 400_001)
    truth = np.trapezoid(np.interp(fine, wave, flux), fine)
    total = float(np.sum(out.astype(np.float64) * np.diff(edges)))
    assert abs(total / truth - 1) < 0.005
    # and pixel by pixel: the bin mean of a smooth function is close to its value
    np.testing.assert_allclose(out, np.interp(LAMOST_GRID.wave, wave, flux), rtol=2e-3)


def test_resample_real_spectrum_conserves_flux():
    spec = read_spectrum(FIXTURES / "lamost" / "dr10_table" / "3706009.fits")
    grid = Grid.from_range(4000, 8800, log_step=3e-4)            # 3x coarser than LAMOST
    out, _, mask = resample(spec, grid)
    assert coverage(mask) == 1.0
    e = grid.edges
    inside = (spec.wave > e[0]) & (spec.wave < e[-1])
    before = np.sum(spec.flux[inside] * np.gradient(spec.wave)[inside])
    after = np.sum(out * np.diff(e))
    assert abs(after / before - 1) < 0.005


def test_rest_frame_recovers_line_centre():
    z = 0.0021                                               # ~630 km/s
    wave = 10 ** (3.5682 + 1e-4 * np.arange(3909))
    spec = _line_spectrum(wave, H_ALPHA_VAC, z=z)
    assert abs(_centroid(spec.wave, spec.flux, H_ALPHA_VAC * (1 + z)) - H_ALPHA_VAC * (1 + z)) < 0.05
    rest = to_rest_frame(spec)
    assert rest.meta["z"] == 0.0 and rest.meta["z_obs"] == z and spec.meta["z"] == z
    flux, _, mask = resample(rest, LAMOST_GRID)
    assert abs(_centroid(LAMOST_GRID.wave, flux, H_ALPHA_VAC) - H_ALPHA_VAC) < 0.15   # < 0.1 pixel
    # through preprocess (continuum-normalised) as well
    X, _ = preprocess(spec, PreprocessConfig(normalisation="none"))
    assert abs(_centroid(LAMOST_GRID.wave, X[0, :, 0], H_ALPHA_VAC) - H_ALPHA_VAC) < 0.15


def test_rest_frame_rejects_missing_or_impossible_z():
    wave = LAMOST_GRID.wave
    with pytest.raises(ValueError, match="meta"):
        to_rest_frame(Spectrum(wave, np.ones_like(wave)))
    with pytest.raises(ValueError, match="-9999"):
        to_rest_frame(Spectrum(wave, np.ones_like(wave), meta={"z": -9999.0}))
    assert to_rest_frame(Spectrum(wave, np.ones_like(wave)), z=0.5).wave[0] == pytest.approx(wave[0] / 1.5)


def test_resample_air_to_vacuum():
    wave_air = np.arange(6400.0, 6700.0, 0.5)
    spec = _line_spectrum(wave_air, H_ALPHA_AIR, medium="air")
    grid = Grid.from_range(6450, 6650, log_step=2e-5)
    flux, _, _ = resample(spec, grid)
    assert abs(_centroid(grid.wave, flux, H_ALPHA_VAC) - H_ALPHA_VAC) < 0.02
    # and vacuum -> air
    air_grid = Grid.from_range(6450, 6650, log_step=2e-5, medium="air")
    vac = _line_spectrum(LAMOST_GRID.wave, H_ALPHA_VAC)
    flux, _, _ = resample(vac, air_grid)
    assert abs(_centroid(air_grid.wave, flux, H_ALPHA_AIR) - float(vacuum_to_air(np.array([H_ALPHA_VAC]))[0])) < 0.02


def test_resample_propagates_ivar_monte_carlo():
    grid = Grid(3.6, 1e-4, 300)
    # input: 2 pixels per grid pixel, aligned on the grid's log edges
    fine = 10 ** (3.6 + 5e-5 * (np.arange(2 * 300 + 40) - 20.5))
    sigma = 0.1
    rng = np.random.default_rng(RNG_SEED)
    draws = []
    for _ in range(600):
        spec = Spectrum(fine, 5.0 + sigma * rng.standard_normal(fine.size), np.full(fine.size, 1 / sigma ** 2))
        flux, ivar, mask = resample(spec, grid)
        draws.append(flux)
    draws = np.array(draws, dtype=np.float64)
    assert not mask.any()
    expected = 2 / sigma ** 2
    assert np.median(ivar) == pytest.approx(expected, rel=0.01)
    empirical_ivar = 1 / draws.var(axis=0, ddof=1)
    assert np.median(empirical_ivar) == pytest.approx(expected, rel=0.06)
    assert draws.mean() == pytest.approx(5.0, abs=1e-3)


def test_resample_masks_outside_coverage_and_bad_runs():
    wave = 10 ** (3.5682 + 1e-4 * np.arange(3909))
    sel = (wave > 4000) & (wave < 8000)
    flux = np.where(sel, 2.0, 0.0)
    bad = (wave > 5000) & (wave < 5100)
    spec = Spectrum(wave[sel], flux[sel], np.ones(sel.sum()), bad[sel])
    out, ivar, mask = resample(spec, LAMOST_GRID)
    g = LAMOST_GRID.wave
    outside = (g < 3999) | (g > 8001)
    assert mask[outside].all() and not mask[(g > 4010) & (g < 4990)].any()
    assert mask[(g > 5002) & (g < 5098)].all()
    assert np.all(out[mask] == 0) and np.all(ivar[mask] == 0) and np.all(ivar[~mask] > 0)
    np.testing.assert_allclose(out[~mask], 2.0, rtol=1e-6)
    assert coverage(mask) == pytest.approx(1 - mask.mean())


def test_resample_rejects_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        resample(Spectrum(np.array([5000.0, 4999.0, 5001.0]), np.ones(3)), LAMOST_GRID)


# ---------------------------------------------------------- normalisation
@pytest.fixture(scope="module")
def calibration_batch():
    """Real LAMOST DR1 spectra resampled onto the model grid: (flux, mask, subclasses)."""
    specs = [read_spectrum(p) for p in _lamost("dr1_calibration")]
    flux, mask = [], []
    for s in specs:
        f, _, m = resample(to_rest_frame(s), LAMOST_GRID)
        flux.append(f)
        mask.append(m)
    return np.array(flux), np.array(mask), [s.meta["subclass"] for s in specs]


def test_normalisation_defining_properties(calibration_batch):
    flux, mask, _ = calibration_batch
    flux, mask = flux[:12].copy(), mask[:12]
    flux[mask] = 1e6                                         # masked junk must not matter
    good = ~mask
    mm = normalise(flux, mask, "minmax")
    for row, g in zip(mm, good):
        assert row[g].min() == pytest.approx(0, abs=1e-6) and row[g].max() == pytest.approx(1, abs=1e-6)
    med = normalise(flux, mask, "median")
    assert all(np.median(r[g]) == pytest.approx(1, rel=1e-5) for r, g in zip(med, good))
    tot = normalise(flux, mask, "total")
    assert all(np.mean(np.abs(r[g])) == pytest.approx(1, rel=1e-5) for r, g in zip(tot, good))
    np.testing.assert_array_equal(normalise(flux, mask, "none"), flux.astype(np.float32))
    cont = normalise(flux, mask, "continuum", wave=LAMOST_GRID.wave)
    assert all(0.85 < np.median(r[g]) < 1.0 for r, g in zip(cont, good))
    for method in NORMALISATIONS:                            # a batch is its rows
        batch = normalise(flux, mask, method, wave=LAMOST_GRID.wave)
        assert batch.dtype == np.float32 and batch.shape == flux.shape
        np.testing.assert_allclose(batch[3], normalise(flux[3], mask[3], method, wave=LAMOST_GRID.wave), rtol=1e-6)
    with pytest.raises(ValueError, match="wave"):
        normalise(flux, mask, "continuum")
    with pytest.raises(ValueError, match="Received"):
        normalise(flux, mask, "zscore")


def test_normalise_degenerate_spectra_stay_finite():
    flat = np.full(50, 3.0)
    allbad = np.ones(50, bool)
    for method in ("minmax", "median", "total", "none"):
        assert np.all(np.isfinite(normalise(flat, None, method)))
        assert np.all(np.isfinite(normalise(flat, allbad, method)))
    assert np.all(np.isfinite(normalise(flat, allbad, "continuum", wave=np.linspace(4000, 5000, 50))))
    assert np.allclose(normalise(-flat, None, "median"), -1.0)    # negative median: divide by mean |f|


def test_pseudo_continuum_of_real_lamost_spectra(calibration_batch):
    flux, mask, subclasses = calibration_batch
    frac = mask.mean(axis=1)
    pick = np.where((frac > 0.05) & (frac < 0.15))[0]
    assert pick.size >= 20
    w = LAMOST_GRID.wave
    cont = pseudo_continuum(w, flux[pick], mask[pick])
    assert cont.shape == (pick.size, w.size) and np.all(np.isfinite(cont)) and np.all(cont > 0)
    ratio = flux[pick] / cont
    windows = [(5500, 5600), (6000, 6100), (7400, 7500)]     # nearly line-free for A-K stars
    for r, m, k in zip(ratio, mask[pick], pick):
        for lo, hi in windows:
            sel = (w > lo) & (w < hi) & ~m
            if sel.sum() > 50:
                assert 0.85 < np.median(r[sel]) < 1.02
        assert np.percentile(r[~m], 99) < 1.15                 # the envelope lies above the spectrum
        core = (np.abs(w - H_ALPHA_VAC) < 2) & ~m
        if core.any() and subclasses[k][0] in "AFG":          # and above the Hα core of A-G stars
            assert np.median(r[core]) < 0.9
    # Balmer lines of the A stars are deep relative to the continuum
    hbeta = [(i, (np.abs(w - 4862.7) < 2) & ~mask[k]) for i, k in enumerate(pick) if subclasses[k].startswith("A")]
    hbeta = [(i, core) for i, core in hbeta if core.any()]
    assert len(hbeta) >= 2
    for i, core in hbeta:
        assert np.median(ratio[i][core]) < 0.7


def test_pseudo_continuum_across_long_gaps_and_masked_blue_end(calibration_batch):
    flux, mask, _ = calibration_batch
    w = LAMOST_GRID.wave
    i = int(np.argmin(mask.mean(axis=1)))
    base = pseudo_continuum(w, flux[i], mask[i])
    gap = mask[i] | ((w > 5000) & (w < 6000))
    blue = mask[i] | (w < 4600)
    for m in (gap, blue):
        c = pseudo_continuum(w, flux[i], m)
        assert np.all(np.isfinite(c)) and np.all(c > 0)
        far = (w > 6600) & (w < 8800)
        np.testing.assert_allclose(c[far], base[far], rtol=1e-6)
    c = pseudo_continuum(w, flux[i], gap)
    inside = (w > 5100) & (w < 5900)
    lo, hi = c[(w > 4800) & (w < 5000)].min(), c[(w > 6000) & (w < 6200)].max()
    assert np.all((c[inside] >= min(lo, hi) * 0.95) & (c[inside] <= max(lo, hi) * 1.05))
    c = pseudo_continuum(w, flux[i], blue)
    first = c[w > 4700][0]
    assert np.allclose(c[w < 4500], c[w < 4500][0]) and 0.8 < c[w < 4500][0] / first < 1.25


# ------------------------------------------------------------------ fill
def test_fill_masked():
    f = np.array([[9, 1, 9, 9, 4, 9], [5, 5, 5, 5, 5, 5.0]])
    m = np.array([[1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1]], bool)
    np.testing.assert_allclose(fill_masked(f, m), [[1, 1, 2, 3, 4, 4], [0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(fill_masked(f, m, 1.0)[0], [1, 1, 1, 1, 4, 1])
    np.testing.assert_allclose(fill_masked(f[0], m[0]), fill_masked(f, m)[0])
    assert fill_masked(f, m).dtype == np.float32
    for bad in ("nearest", np.nan, True):
        with pytest.raises(ValueError, match="Received"):
            fill_masked(f, m, bad)


# ------------------------------------------------------------ preprocess
def test_preprocess_real_lamost_batch_of_mixed_layouts():
    paths = (_lamost("dr10_table")[:3] + _lamost("dr2_dr7_image") + _lamost("dr1_image_nowave")[:2]
             + _lamost("dr1_calibration")[:3])
    specs = [read_spectrum(p) for p in paths]
    assert len({s.meta["format"] for s in specs}) >= 3
    cfg = PreprocessConfig()
    X, mask = preprocess(specs, cfg)
    assert X.shape == (len(specs), 3909, 2) and X.dtype == np.float32 and mask.dtype == bool
    assert np.all(np.isfinite(X)) and np.abs(X).max() <= cfg.clip
    np.testing.assert_array_equal(X[..., 1], mask.astype(np.float32))
    cov = coverage(mask)
    assert cov.shape == (len(specs),) and np.all(cov > 0.5)
    # a spectrum alone gives its row of the batch
    X1, m1 = preprocess(specs[4], cfg)
    np.testing.assert_array_equal(X1[0], X[4])
    np.testing.assert_array_equal(m1[0], mask[4])
    # continuum-normalised flux sits around 1
    assert 0.8 < np.median(X[..., 0][~mask]) < 1.05
    # other configurations
    X2, m2 = preprocess(specs, PreprocessConfig(normalisation="minmax", mask_channel=False, fill=0.0, clip=None))
    assert X2.shape == (len(specs), 3909, 1)
    assert np.all(X2[..., 0][m2] == 0.0) and X2[..., 0][~m2].min() >= -1e-6 and X2[..., 0][~m2].max() <= 1 + 1e-6
    X3, _ = preprocess(specs[:2], PreprocessConfig(grid=SDSS_GRID))
    assert X3.shape == (2, SDSS_GRID.npix, 2)


def test_preprocess_clips_cosmic_rays_and_handles_missing_z():
    wave = LAMOST_GRID.wave
    flux = np.full(wave.size, 100.0)
    flux[2000] = 1e5                                          # cosmic ray
    spec = Spectrum(wave, flux, np.ones(wave.size))            # no z: left as it is
    X, mask = preprocess([spec], PreprocessConfig(clip=5.0))
    assert X[0, 2000, 0] == 5.0 and not mask.any()
    assert np.median(X[0, :, 0]) == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ValueError, match="-9999"):
        preprocess(Spectrum(wave, flux, meta={"z": -9999}), PreprocessConfig())


def test_preprocess_config_round_trip_and_validation():
    for cfg in (PreprocessConfig(), PreprocessConfig(grid=SDSS_GRID, normalisation="total", rest_frame=False,
                                                     mask_channel=False, fill=1.0, clip=None)):
        text = json.dumps(cfg.to_dict())
        assert PreprocessConfig.from_dict(json.loads(text)) == cfg
    assert PreprocessConfig().input_shape == (3909, 2) and PreprocessConfig(mask_channel=False).n_channels == 1
    assert PreprocessConfig.from_dict({"normalisation": "median"}).grid == LAMOST_GRID
    for bad in (dict(normalisation="zscore"), dict(fill="nearest"), dict(clip=-1.0), dict(grid="lamost"),
                dict(rest_frame="yes")):
        with pytest.raises(ValueError, match="Received"):
            PreprocessConfig(**bad)
    with pytest.raises(ValueError, match="unknown keys"):
        PreprocessConfig.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="PreprocessConfig"):
        preprocess([], "continuum")


def test_coverage():
    assert coverage(np.array([True, False, False, False])) == 0.75
    np.testing.assert_allclose(coverage(np.array([[True, True], [False, False]])), [0.0, 1.0])
    with pytest.raises(ValueError, match="Received"):
        coverage(np.zeros((3, 0), bool))
