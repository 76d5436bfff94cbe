"""mock_survey / render_batch on the real template library, checked against the real fixtures."""
from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.table import Table
from scipy.stats import spearmanr

import specnet.simulate.mock as mock_module
from specnet.io import read_spectrum
from specnet.labels import parse_subtype
from specnet.preprocess import pseudo_continuum
from specnet.simulate import ALL_EFFECTS, SurveyProfile, get_profile, mock_survey, register_profile, render_batch
from specnet.simulate import effects as fx
from specnet.simulate.mock import batch_options
from tests.conftest import fixture_rows
from tests.simulate import matrix, real_library

C_KMS = 299792.458


def _band_snr(spec, band):
    sel = spec.good if band is None else spec.good & (spec.wave >= band[0]) & (spec.wave <= band[1])
    return float(np.median(spec.flux[sel] * np.sqrt(spec.ivar[sel])))


# ------------------------------------------------------------------ noise and S/N
@pytest.mark.parametrize("profile", ["lamost-lrs", "lamost-dr1", "sdss"])
def test_measured_snr_matches_the_request(profile):
    spectra, cat = mock_survey(real_library(), 40, profile=profile, snr=(4, 120), seed=3, n_jobs=1)
    band = get_profile(profile).snr_band
    ratio = np.array([_band_snr(s, band) for s in spectra]) / np.asarray(cat["snr_target"])
    assert np.all(np.abs(ratio - 1) < 0.15)
    assert abs(np.median(ratio) - 1) < 0.03
    np.testing.assert_allclose([s.meta["snr"] for s in spectra], cat["snr"])
    np.testing.assert_allclose(cat["snr"], [_band_snr(s, band) for s in spectra], rtol=1e-6)
    # a (lo, hi) range is drawn log-uniformly inside it
    assert 4 <= cat["snr_target"].min() and cat["snr_target"].max() <= 120


def test_ivar_is_consistent_with_the_noise_added():
    tm = matrix("lamost-dr1")
    quiet = ALL_EFFECTS - {"cosmics", "sky"}  # unflagged residuals are deliberately not in ivar
    out = render_batch(np.random.default_rng(7), tm, 40, batch_options(tm, 40, snr=(5, 100), effects=quiet))
    good = ~out["mask"]
    pull = ((out["flux"] - out["clean"]) * np.sqrt(out["ivar"]))[good]
    assert np.std(pull) == pytest.approx(1.0, abs=0.02)
    assert abs(np.mean(pull)) < 0.02
    np.testing.assert_allclose(out["ivar"][good], (1.0 / out["sigma"] ** 2)[good], rtol=1e-6)
    # with every effect on, the bulk of the pixels still follows ivar (robust scatter)
    out = render_batch(np.random.default_rng(8), tm, 40, batch_options(tm, 40, snr=(5, 100)))
    good = ~out["mask"]
    pull = ((out["flux"] - out["clean"]) * np.sqrt(out["ivar"]))[good]
    assert 1.4826 * np.median(np.abs(pull - np.median(pull))) == pytest.approx(1.0, abs=0.03)
    assert np.all(out["ivar"][out["mask"]] == 0)


def _ccf_velocity(flux, template, wave, log_step, max_lag=12):
    f = flux / pseudo_continuum(wave, flux) - 1.0
    t = template / pseudo_continuum(wave, template) - 1.0
    sel = slice(max_lag, wave.size - max_lag)
    lags = np.arange(-max_lag, max_lag + 1)
    ccf = np.array([np.dot(f[sel], t[sel.start - k:sel.stop - k]) for k in lags])
    i = int(np.argmax(ccf))
    a, b, c = ccf[i - 1], ccf[i], ccf[i + 1]
    lag = lags[i] + 0.5 * (a - c) / (a - 2 * b + c)
    return C_KMS * (10 ** (lag * log_step) - 1.0)


def test_radial_velocity_is_recovered_by_cross_correlation():
    tm = matrix("lamost-lrs")
    rvs = np.array([-310.0, -120.0, -35.0, 0.0, 48.0, 150.0, 275.0])
    n = rvs.size
    out = render_batch(np.random.default_rng(2), tm, n,
                       batch_options(tm, n, snr=200, rv=rvs, subtype_range=(42, 58), lum_classes="V",
                                     effects={"rv"}))
    np.testing.assert_allclose(out["rv"], rvs)
    wave = tm.profile.grid.wave
    w = out["weight_b"][:, None]
    rest = np.exp((1 - w) * tm.logflux[out["tpl_a"]][:, tm.base] + w * tm.logflux[out["tpl_b"]][:, tm.base])
    for i in range(n):
        v = _ccf_velocity(out["flux"][i].astype(float), rest[i], wave, tm.profile.grid.log_step)
        assert v == pytest.approx(rvs[i], abs=20.0)
    assert np.allclose(out["z"], np.sqrt((1 + rvs / C_KMS) / (1 - rvs / C_KMS)) - 1)


# ------------------------------------------------------------------ labels
def _band(flux, wave, lo, hi):
    return flux[:, (wave >= lo) & (wave <= hi)].mean(axis=1)


@pytest.mark.parametrize("index", ["hbeta", "tio"])
def test_temperature_index_tracks_the_drawn_subtype(index):
    # noiseless dwarfs from the real libraries built as spectral sequences (MILES' individual stars
    # scatter in metallicity and in the quality of their literature types, e.g. its M dwarfs)
    lib = real_library().filter(libraries=["Pickles1998", "Hammer", "SDSS-eigenstar", "Bochanski2007"])
    rng_sub = (20.0, 39.9) if index == "hbeta" else (60.0, 66.0)
    spectra, cat = mock_survey(lib, 120, profile="lamost-lrs", snr=1e5, subtype_range=rng_sub,
                               lum_classes="V", effects=set(), seed=4, n_jobs=1)
    wave = spectra[0].wave
    flux = np.array([s.flux for s in spectra])
    if index == "hbeta":  # H-beta (vacuum 4862.7 Å) weakens from A0 to F9; its equivalent width does
        # not depend on the templates' resolution (Pickles' R≈500 against SDSS's 2000)
        cont = 0.5 * (_band(flux, wave, 4800, 4830) + _band(flux, wave, 4895, 4925))
        sel = (wave >= 4835) & (wave <= 4890)
        ew = ((1 - flux[:, sel] / cont[:, None]) * np.gradient(wave)[sel]).sum(axis=1)
        rho = -spearmanr(cat["subtype"], ew)[0]
    else:  # the TiO band head at 7054 Å (air) deepens from M0 to M6
        depth = 1 - _band(flux, wave, 7060, 7090) / _band(flux, wave, 7025, 7045)
        rho = spearmanr(cat["subtype"], depth)[0]
    assert rho > 0.9


def test_labels_and_subtype_draws():
    lib = real_library()
    dist = np.array(["K3", "K5", "G2", "M1"])
    spectra, cat = mock_survey(lib, 30, profile="lamost-lrs", subtype_distribution=dist, lum_classes="III",
                               seed=9, n_jobs=1)
    assert set(np.round(cat["subtype"], 6)) <= {53.0, 55.0, 42.0, 61.0}
    assert set(cat["lum_class"]) == {"III"}
    for s, row in zip(spectra, cat):
        assert s.meta["subclass"] == row["label"] and row["label"].endswith("III")
        assert abs(parse_subtype(row["label"]) - row["subtype"]) <= 0.5
        a, b = lib[row["template_a"]], lib[row["template_b"]]
        assert a.lum_group == b.lum_group == "III" and a.library == b.library == row["library"]
        assert a.subtype <= row["subtype"] + 1e-9 and b.subtype >= row["subtype"] - 1e-9
        assert 0.0 <= row["weight_b"] <= 1.0
    _, cat = mock_survey(lib, 50, profile="sdss", subtype_range=(30, 50), seed=1, n_jobs=1)
    assert 30 <= cat["subtype"].min() and cat["subtype"].max() <= 50
    with pytest.raises(ValueError, match="Unknown luminosity class"):
        mock_survey(lib, 2, lum_classes="VII-not-a-class", n_jobs=1)
    with pytest.raises(ValueError, match="No template"):
        mock_survey(lib.filter(lum_classes="V"), 2, lum_classes="Ia", n_jobs=1)
    with pytest.raises(ValueError, match="snr"):
        mock_survey(lib, 3, snr=[1.0, 2.0, 3.0, 4.0], n_jobs=1)
    with pytest.raises(ValueError, match="Unknown survey profile"):
        mock_survey(lib, 3, profile="lamost-dr99", n_jobs=1)


def test_same_seed_same_arrays_whatever_n_jobs(monkeypatch):
    monkeypatch.setattr(mock_module, "CHUNK_SIZE", 16)  # 3 chunks, so that 2 workers share them
    lib = real_library()
    a, cat_a = mock_survey(lib, 40, profile="lamost-dr1", seed=11, n_jobs=1)
    b, cat_b = mock_survey(lib, 40, profile="lamost-dr1", seed=11, n_jobs=2)
    c, _ = mock_survey(lib, 40, profile="lamost-dr1", seed=12, n_jobs=1)
    assert len(a) == len(b) == 40
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.flux, y.flux)
        np.testing.assert_array_equal(x.ivar, y.ivar)
        np.testing.assert_array_equal(x.mask, y.mask)
    for col in ("subtype", "snr", "rv", "ebv", "template_a"):
        assert list(cat_a[col]) == list(cat_b[col])
    assert not np.array_equal(a[0].flux, c[0].flux)


# ------------------------------------------------------------------ files
@pytest.mark.parametrize("profile, layout", [("lamost-dr1", "lamost-dr2"), ("lamost-lrs", "lamost-dr9"),
                                             ("sdss", "sdss-spec")])
def test_catalogue_agrees_with_the_files(tmp_path, profile, layout):
    spectra, cat = mock_survey(real_library(), 6, profile=profile, layout=layout, out_dir=tmp_path, seed=5,
                               n_jobs=1)
    on_disk = Table.read(tmp_path / "catalogue.csv", format="ascii.csv")
    assert list(on_disk["label"]) == list(cat["label"]) and len(on_disk) == 6
    for row, spec in zip(on_disk, spectra):
        path = tmp_path / row["path"]
        assert path.is_file() and spec.meta["path"] == str(path)
        back = read_spectrum(path)
        assert back.meta["format"] == layout and back.meta["obj_class"] == "STAR"
        assert back.meta["subclass"] == row["label"]
        assert abs(parse_subtype(back.meta["subclass"]) - row["subtype"]) <= 0.5
        assert back.meta["snr"] == pytest.approx(row["snr"], rel=1e-3)
        assert back.meta["z"] == pytest.approx(row["z"], rel=1e-5, abs=1e-10)
        np.testing.assert_array_equal(back.flux, spec.flux)
        np.testing.assert_array_equal(back.ivar, spec.ivar)
        np.testing.assert_array_equal(back.mask, spec.mask)
        np.testing.assert_allclose(back.wave, spec.wave, rtol=1e-6)  # SDSS loglam is float32


# ------------------------------------------------------------------ realism vs real LAMOST
def _ratio_all(spec, snrg):
    g = spec.good
    return float(np.median(spec.flux[g] * np.sqrt(spec.ivar[g]))) / snrg


def test_lamost_snrg_definition_matches_the_real_fixtures():
    band = get_profile("lamost-lrs").snr_band
    rows = [r for r in fixture_rows() if r["survey"] == "LAMOST" and r["snr_g"]]
    assert len(rows) == 98
    ratio = np.array([_band_snr(read_spectrum(r["abspath"]), band) / float(r["snr_g"]) for r in rows])
    assert np.all(np.abs(ratio - 1) < 0.05) and abs(np.median(ratio) - 1) < 0.01


def _b_band_depth(spec):
    """1 - flux in the O2 B band / the continuum beside it (NaN where a window is masked)."""
    windows = [spec.good & (spec.wave > lo) & (spec.wave < hi) for lo, hi in ((6869, 6890), (6835, 6860),
                                                                               (6960, 6985))]
    if not all(w.any() for w in windows):
        return np.nan
    band, left, right = (np.median(spec.flux[w]) for w in windows)
    return 1 - band / (0.5 * (left + right))


def test_dr1_masks_and_noise_shape_match_the_real_dr1_fixtures():
    lib = real_library()
    rows = [r for r in fixture_rows() if r["layout"] == "dr1_image_nowave"]
    assert len(rows) == 86
    real, mock = [], []
    for k, r in enumerate(rows):
        spec = read_spectrum(r["abspath"])
        snrg, sub = float(r["snr_g"]), parse_subtype(r["subclass"])
        real.append((sub, _ratio_all(spec, snrg), 1 - spec.good_fraction, _b_band_depth(spec)))
        spectra, _ = mock_survey(lib, 2, profile="lamost-dr1", subtype_range=(sub, sub), snr=snrg,
                                 lum_classes="V", seed=k, n_jobs=1)
        for s in spectra:
            tell = (s.wave > 7590) & (s.wave < 7670)
            assert s.mask[tell].all()  # the O2 A band is masked in every DR1 file
            mock.append((sub, _ratio_all(s, snrg), 1 - s.good_fraction, _b_band_depth(s)))
    real, mock = np.array(real), np.array(mock)
    # telluric bands are corrected in real spectra: no O2 B band left, in real data or mocks
    assert abs(np.nanmedian(real[:, 3])) < 0.03 and abs(np.nanmedian(mock[:, 3])) < 0.03
    assert 0.05 <= mock[:, 2].mean() <= 0.15
    assert abs(np.median(mock[:, 2]) - np.median(real[:, 2])) < 0.03
    # real DR1 per-pixel noise in the red is far lower than the g-band SNRG says; the throughput
    # curve must reproduce median(flux*sqrt(ivar))/SNRG class by class within 20 %
    for lo, hi in ((20, 40), (40, 60), (60, 70)):
        r = np.median(real[(real[:, 0] >= lo) & (real[:, 0] < hi), 1])
        m = np.median(mock[(mock[:, 0] >= lo) & (mock[:, 0] < hi), 1])
        assert m / r == pytest.approx(1.0, abs=0.2), (lo, hi, m, r)


def test_lrs_profile_is_nearly_mask_free_like_dr10():
    _, cat = mock_survey(real_library(), 40, profile="lamost-lrs", snr=(10, 60), seed=2, n_jobs=1)
    assert cat["mask_fraction"].mean() < 0.02


def test_effects_are_visible_where_expected():
    import dataclasses

    tm = matrix("lamost-lrs")
    wave = tm.profile.grid.wave
    uncorrected = dataclasses.replace(tm.profile, name="test-uncorrected", telluric=1.0, telluric_residual=0.0)
    opts = batch_options(tm, 30, snr=1e4, subtype_range=(30, 45), lum_classes="V",
                         effects={"telluric", "extinction"}, ebv=(0.4, 0.4))
    base = batch_options(tm, 30, snr=1e4, subtype_range=(30, 45), lum_classes="V", effects=set())
    a = render_batch(np.random.default_rng(1), tm, 30, opts, profile=uncorrected)["clean"]
    b = render_batch(np.random.default_rng(1), tm, 30, base)["clean"]
    ratio = a / b
    ratio /= np.median(ratio[:, (wave > 5400) & (wave < 5600)], axis=1, keepdims=True)
    # telluric A band absorbs, extinction reddens (blue suppressed relative to red)
    assert np.all(_band(ratio, wave, 7600, 7630) < 0.85 * _band(ratio, wave, 7500, 7560))
    assert np.all(_band(ratio, wave, 4000, 4100) < 0.85 * _band(ratio, wave, 8000, 8100))
    # the DR1 blue pedestal fills in Ca II K (vacuum 3934.8 Å) as in real DR1 spectra
    tm1 = matrix("lamost-dr1")
    kw = dict(snr=1e4, subtype_range=(50, 55), lum_classes="V")
    with_ped = render_batch(np.random.default_rng(3), tm1, 20, batch_options(tm1, 20, effects={"pedestal"}, **kw))
    without = render_batch(np.random.default_rng(3), tm1, 20, batch_options(tm1, 20, effects=set(), **kw))
    def k_depth(f):
        return _band(f, wave, 3932, 3937) / _band(f, wave, 3990, 4020)
    assert np.all(k_depth(with_ped["clean"]) >= k_depth(without["clean"]))
    assert np.mean(k_depth(with_ped["clean"]) - k_depth(without["clean"])) > 0.02
    k = fx.extinction_curve(wave)
    from dust_extinction.parameter_averages import F99
    import astropy.units as u

    np.testing.assert_allclose(k[1000], 3.1 * F99(Rv=3.1)(wave[1000] * u.AA), rtol=1e-6)


def test_profile_validation_and_registry():
    import dataclasses

    p = get_profile("lamost-dr1")
    mine = register_profile(dataclasses.replace(p, name="test-dr1-quiet", calib_error=0.0, cosmic_rate=0.0))
    assert get_profile("test-dr1-quiet") is mine and get_profile(mine) is mine
    assert p.grid.npix == 3909 and p.grid.log_start == pytest.approx(3.5682)
    assert get_profile("sdss").snr_band is None and get_profile("sdss").R == 2000.0
    with pytest.raises(ValueError, match="R must be > 0"):
        SurveyProfile(name="bad", grid=p.grid, R=-1)
    with pytest.raises(ValueError, match="snr_band"):
        SurveyProfile(name="bad", grid=p.grid, R=1800, snr_band=(100.0, 200.0))
    with pytest.raises(ValueError, match="throughput"):
        SurveyProfile(name="bad", grid=p.grid, R=1800, throughput=((5000, 1.0),))
    thr = p.throughput_curve()
    band = p.snr_pixels()
    assert thr.shape == (3909,) and np.median(thr[band]) == pytest.approx(1.0, rel=0.1)
    assert thr[-200:].mean() > 2 * thr[band].mean()  # the red arm collects more counts per flux unit


def test_draw_helpers():
    rng = np.random.default_rng(0)
    s = fx.draw_snr(rng, 4000, (5, 500))
    assert 5 <= s.min() and s.max() <= 500
    assert abs(np.median(np.log(s)) - 0.5 * (math.log(5) + math.log(500))) < 0.1  # log-uniform
    assert np.all(fx.draw_snr(rng, 3, lambda r, n: np.full(n, 7.0)) == 7.0)
    with pytest.raises(ValueError):
        fx.draw_snr(rng, 3, -5.0)
    rv = fx.draw_rv(rng, 20000, get_profile("lamost-lrs"))
    assert np.abs(rv).max() <= 600 and 25 < np.percentile(np.abs(rv), 68) < 45
    cal = fx.calibration_error(rng, 500, fx.legendre_basis(3909, 3), 0.05)
    assert np.std(np.log(cal)) == pytest.approx(0.05, rel=0.2)
    edges = 10 ** (3.6 + 1e-4 * (np.arange(101) - 0.5))
    w = np.linspace(3900, 4100, 5000)
    f = 1 + 0.1 * np.sin(w / 3)
    out = fx.rebin(w, f, edges)
    exact = (np.interp(edges[1:], w, np.cumsum(np.r_[0, 0.5 * (f[1:] + f[:-1]) * np.diff(w)]))
             - np.interp(edges[:-1], w, np.cumsum(np.r_[0, 0.5 * (f[1:] + f[:-1]) * np.diff(w)]))) / np.diff(edges)
    np.testing.assert_allclose(out, exact, rtol=1e-4)
