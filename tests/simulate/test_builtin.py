"""The embedded parametric template family: structure, determinism, literature trends, reality.

Trends are measured on the spectra with Lick-style indices (band mean against a pseudo-
continuum interpolated between two side bands), never read from the module's tables; the
reality check compares with the real Pickles (1998) library in ``../shared``.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d, percentile_filter, uniform_filter1d
from scipy.stats import spearmanr

from specnet.simulate import builtin
from specnet.simulate.builtin import builtin_library, builtin_template, teff_for_subtype
from specnet.simulate.library import Template, TemplateLibrary
from specnet.spectrum import air_to_vacuum


@pytest.fixture(scope="module")
def lib() -> TemplateLibrary:
    return builtin_library()


@pytest.fixture(scope="module")
def table(lib):
    """(subtypes, wave, flux matrix) of the default library."""
    ts = lib.templates
    return np.array([t.subtype for t in ts]), ts[0].wave, np.stack([t.flux for t in ts])


def _band(wave, flux, lo, hi):
    m = (wave >= lo) & (wave <= hi)
    return flux[..., m].mean(-1)


def _index(wave, flux, line, blue, red, air=True):
    """Fractional depth ``1 - <F>_line / continuum`` (continuum: line between side bands)."""
    conv = (lambda b: tuple(air_to_vacuum(np.array(b, float)))) if air else tuple
    line, blue, red = conv(line), conv(blue), conv(red)
    fb, fr, fl = (_band(wave, flux, *b) for b in (blue, red, line))
    cb, cr, cl = (0.5 * (b[0] + b[1]) for b in (blue, red, line))
    return 1 - fl / (fb + (fr - fb) * (cl - cb) / (cr - cb))


def _rho(st, values, lo, hi):
    m = (st >= lo) & (st <= hi)
    assert m.sum() >= 10
    return spearmanr(st[m], values[m])[0]


# --------------------------------------------------------------------- structure
def test_default_library_shape_names_grid(lib):
    ts = lib.templates
    assert all(isinstance(t, Template) for t in ts)
    st = np.array([t.subtype for t in ts])
    np.testing.assert_array_equal(st, np.arange(5, 70))  # O5 … M9, monotonic
    names = [t.name for t in ts]
    assert len(set(names)) == len(names) == 65
    assert names[0] == "builtin:O5V" and names[-1] == "builtin:M9V" and "builtin:K3V" in names
    assert {t.library for t in ts} == {"builtin"} and {t.lum_class for t in ts} == {"V"}
    wave = ts[0].wave
    for t in ts:
        np.testing.assert_array_equal(t.wave, wave)
        assert t.flux.shape == wave.shape and np.all(np.isfinite(t.flux)) and np.all(t.flux > 0)
        assert t.fwhm == 1.0 and t.feh == 0.0 and t.name == f"builtin:{t.label}"
    step = np.diff(np.log10(wave))
    assert np.ptp(step) < 1e-9 and step[0] <= 5e-5  # log-λ grid, 1e-4/2 or finer
    assert wave[0] == pytest.approx(3500) and wave[-1] <= 9600 and wave[-1] > 9599
    # at least 2.5 pixels per FWHM at the red end
    assert 1.0 / (wave[-1] - wave[-2]) >= 2.5


def test_grid_is_vacuum(lib):
    """Line minima sit at vacuum wavelengths (Hα 6564.6, Ca II K 3934.8), not air (6562.8, 3933.7)."""
    by = {t.label: t for t in lib.templates}
    for label, vac, air in (("A0V", 6564.61, 6562.80), ("K0V", 3934.78, 3933.66),
                            ("G2V", 5891.58, 5889.95)):
        t = by[label]
        m = (t.wave > vac - 6) & (t.wave < vac + 6)
        at = t.wave[m][np.argmin(t.flux[m])]
        assert abs(at - vac) < 0.3 < abs(at - air)


def test_builds_without_any_external_file(tmp_path):
    """Building the library opens no file at all (audit hook in a fresh interpreter)."""
    code = textwrap.dedent("""
        import sys
        from specnet.simulate.builtin import builtin_library
        opened = []
        sys.addaudithook(lambda ev, args: opened.append(str(args[0]))
                         if ev == "open" and not str(args[0]).endswith((".py", ".pyc", ".so"))
                         else None)
        lib = builtin_library(subtypes=[10, 42, 65], lum_classes=("V", "III"))
        assert len(lib.templates) == 6
        print(repr([p for p in opened if not p.isdigit()]))
    """)
    env = {"SPECNET_SHARED_DATA": str(tmp_path / "nowhere"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_deterministic_and_fast():
    builtin._components.cache_clear()
    first = builtin_library()
    cpu = []
    for _ in range(3):
        builtin._components.cache_clear()
        t0 = time.process_time()
        again = builtin_library()
        cpu.append(time.process_time() - t0)
    for a, b in zip(first.templates, again.templates):
        np.testing.assert_array_equal(a.flux, b.flux)
    assert min(cpu) < 1.0, cpu


# ------------------------------------------------------------ literature trends
def test_balmer_strength_peaks_at_early_a(table):
    st, wave, flux = table
    hb = _index(wave, flux, (4847.875, 4876.625), (4827.875, 4847.875), (4876.625, 4891.625))
    assert _rho(st, hb, 10, 21) > 0.9      # rising B0 → A1
    assert _rho(st, hb, 22, 45) < -0.9     # falling A2 → G5
    assert 18 <= st[np.argmax(hb)] <= 23   # maximum within B8–A3


def test_calcium_k_strengthens_a0_to_k0(table):
    st, wave, flux = table
    cak = _index(wave, flux, (3927, 3943), (3900, 3915), (3990, 4010))
    assert _rho(st, cak, 20, 50) > 0.9
    assert cak[st == 50][0] > 0.5 > 0.1 > cak[st == 20][0]


def test_tio_band_deepens_k5_to_m9(table):
    st, wave, flux = table
    # TiO5 of Reid, Hawley & Gizis (1995): F(7126-7135) / F(7042-7046), air
    tio5 = _band(wave, flux, *air_to_vacuum(np.array([7126., 7135.]))) / \
        _band(wave, flux, *air_to_vacuum(np.array([7042., 7046.])))
    assert _rho(st, 1 - tio5, 55, 69) > 0.9
    m0, m3 = tio5[st == 60][0], tio5[st == 63][0]
    assert 0.75 < m0 < 0.95 and 0.35 < m3 < 0.7   # observed M0V ≈ 0.85, M3V ≈ 0.5
    assert np.all(tio5[(st >= 40) & (st <= 50)] > 0.97)   # no TiO in G0–K0 stars


def test_helium_lines_belong_to_hot_stars(table):
    st, wave, flux = table
    he2 = _index(wave, flux, (4682., 4690.), (4660., 4670.), (4700., 4710.))     # He II 4686
    he1 = _index(wave, flux, (4467., 4476.), (4450., 4460.), (4490., 4500.))     # He I 4471
    assert he2[st <= 8].min() > 0.05 > he2[(st >= 12) & (st <= 30)].max()
    assert 10 <= st[np.argmax(he1)] <= 14   # He I strongest near B2
    assert he1[st == 12][0] > 3 * abs(he1[st == 25][0])


def test_continuum_colour_reddens_o_to_m(table):
    st, wave, flux = table
    colour = _band(wave, flux, 4480, 4520) / _band(wave, flux, 6980, 7020)
    assert _rho(st, colour, 5, 69) < -0.9
    assert colour[0] > 3 and colour[-1] < 0.3


def test_balmer_jump_maximal_near_a0(table):
    """Balmer discontinuity D = log10(extrapolated / observed flux at 3530 Å): ~0.5 dex at A0."""
    st, wave, flux = table
    f4020, f4520, f3530 = (_band(wave, flux, lo, lo + 40) for lo in (4000, 4500, 3510))
    extrapolated = f4020 * (f4020 / f4520) ** (np.log(3530 / 4020) / np.log(4020 / 4520))
    jump = np.log10(extrapolated / f3530)
    assert 18 <= st[np.argmax(jump)] <= 22
    assert 0.35 < jump.max() < 0.65
    assert jump[st == 20][0] > 3 * jump[st == 5][0] and jump[st == 20][0] > 2 * jump[st == 42][0]


def test_hbeta_equivalent_width_is_literature_like():
    """Hβ EW of an A1V star is ~13–17 Å (Jaschek & Jaschek 1987); conserved under the LSF."""
    ews = []
    for fwhm in (1.0, 5.0):
        t = builtin_template(21, wave_range=(4600, 5100), fwhm=fwhm)
        side = ((t.wave > 4690) & (t.wave < 4720)) | ((t.wave > 5010) & (t.wave < 5040))
        cont = np.polyval(np.polyfit(t.wave[side], t.flux[side], 1), t.wave)
        m = (t.wave > 4712) & (t.wave < 5013)
        ews.append(np.trapezoid(1 - t.flux[m] / cont[m], t.wave[m]))
    assert 12 < ews[0] < 19
    assert ews[1] == pytest.approx(ews[0], rel=0.03)


# ------------------------------------------------------------------- vs reality
def _pickles(templates_dir, stem, grid):
    data = np.loadtxt(templates_dir / "pickles1998" / f"{stem}.sed")
    return np.interp(grid, air_to_vacuum(data[:, 0]), data[:, 1])


def _continuum_normalised(flux):
    """Divide by a smooth upper envelope (90th percentile over 300 Å, then 300 Å boxcar)."""
    env = uniform_filter1d(percentile_filter(flux, 90, size=61, mode="nearest"), 61, mode="nearest")
    return flux / env


def _degrade(t, grid, resolution=2000.0):
    """Gaussian LSF to R≈2000, then mean in the 5 Å bins of the common grid."""
    dln = np.log(t.wave[1] / t.wave[0])
    f = gaussian_filter1d(t.flux, 1.0 / resolution / (2 * np.sqrt(2 * np.log(2))) / dln)
    idx = np.searchsorted(np.r_[grid - 2.5, grid[-1] + 2.5], t.wave) - 1
    ok = (idx >= 0) & (idx < grid.size)
    return np.bincount(idx[ok], f[ok], grid.size) / np.bincount(idx[ok], None, grid.size)


@pytest.mark.parametrize("label, same, away", [
    ("A0V", "a0v", ("o5v", "g0v")),
    ("G2V", "g2v", ("a2v", "m2v")),
    ("K5V", "k5v", ("f5v",)),
    ("M3V", "m3v", ("g2v",)),
])
def test_resembles_real_pickles_template_of_same_type(lib, templates_dir, label, same, away):
    grid = np.arange(3800.0, 9000.0, 5.0)  # vacuum Å, Pickles' 5 Å step
    t = next(t for t in lib.templates if t.label == label)
    mine = _continuum_normalised(_degrade(t, grid))
    corr = {stem: np.corrcoef(mine, _continuum_normalised(_pickles(templates_dir, stem, grid)))[0, 1]
            for stem in (same,) + away}
    assert corr[same] > 0.5, corr
    for stem in away:
        assert corr[same] > corr[stem] + 0.05, corr


# ------------------------------------------------------- options and validation
def test_half_types_giants_and_options():
    lib = builtin_library(subtypes=[20, 53.5, 60], lum_classes=("V", "III"), fwhm=3.0,
                          wave_range=(4000, 8800))
    names = [t.name for t in lib.templates]
    assert names == ["builtin:A0V", "builtin:K3.5V", "builtin:M0V",
                     "builtin:A0III", "builtin:K3.5III", "builtin:M0III"]
    by = {t.label: t for t in lib.templates}
    w = by["A0V"].wave
    assert w[0] == pytest.approx(4000) and w[-1] <= 8800
    assert np.diff(np.log10(w))[0] == pytest.approx(5e-5)  # wide LSF: the 1e-4/2 cap
    assert all(t.fwhm == 3.0 for t in lib.templates)
    # normalised to mean 1 over 5530-5580 Å
    for t in lib.templates:
        assert _band(t.wave, t.flux, 5530, 5580) == pytest.approx(1.0, rel=1e-6)
    hb = (lambda t: _index(t.wave, t.flux, (4847.875, 4876.625), (4827.875, 4847.875),
                           (4876.625, 4891.625)))
    assert hb(by["A0III"]) < 0.85 * hb(by["A0V"])                # narrower Balmer lines
    na = (lambda t: _index(t.wave, t.flux, (8179., 8200.), (8150., 8170.), (8210., 8230.)))
    assert na(by["M0III"]) < 0.6 * na(by["M0V"])                 # Na I 8190: gravity-sensitive
    cat = (lambda t: _index(t.wave, t.flux, (8532., 8552.), (8510., 8525.), (8565., 8580.)))
    assert cat(by["K3.5III"]) > cat(by["K3.5V"])                 # Ca II triplet: stronger in giants
    assert teff_for_subtype(53.5, "III") < teff_for_subtype(53.5, "V")


def test_wider_lsf_makes_shallower_cores():
    sharp, blunt = (builtin_template(42, wave_range=(5800, 6000), fwhm=f) for f in (0.5, 4.0))
    depth = [1 - t.flux[np.argmin(np.abs(t.wave - 5891.58))] / _band(t.wave, t.flux, 5920, 5960)
             for t in (sharp, blunt)]
    assert depth[0] > depth[1] + 0.1


def test_teff_scale():
    assert float(teff_for_subtype(42)) == 5770      # G2V, Pecaut & Mamajek (2013)
    assert float(teff_for_subtype(60)) == 3850      # M0V
    t = teff_for_subtype(np.arange(3, 69.5, 0.5))
    assert np.all(np.diff(t) < 0)


@pytest.mark.parametrize("kwargs", [
    {"subtypes": [2.0]}, {"subtypes": [70.0]}, {"subtypes": [20, 20]}, {"subtypes": []},
    {"subtypes": [float("nan")]}, {"lum_classes": ("VI",)}, {"lum_classes": "V"},
    {"lum_classes": ()}, {"wave_range": (9600, 3500)}, {"wave_range": (3500,)},
    {"fwhm": 0.0}, {"fwhm": -1.0}, {"fwhm": "1"}, {"fwhm": True}, {"fwhm": float("nan")},
])
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError, match="Received:"):
        builtin_library(**kwargs)
