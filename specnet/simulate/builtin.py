"""An embedded, parametric O5–M9 template sequence: plausible stellar spectra with no data file.

**This is a demo family, not a substitute for real templates.** It exists so that the
README demo, ``specnet-fit --demo`` and the tests of the simulator run on a fresh machine
without ``../shared`` data. Every number below is a rounded literature trend turned into
a smooth function of subtype; nothing was fitted to a star. Train and validate real
models on the empirical libraries (Pickles 1998, MILES, Hammer, SDSS) instead.

How a spectrum is made (all wavelengths in Å, **vacuum**):

* continuum: Planck ``F_λ`` at the dwarf effective temperature of the subtype, from the
  table of Pecaut & Mamajek (2013, ApJS 208, 9; online table ``EEM_dwarf_UBVIJHK_colors_Teff``,
  2022 version), linearly interpolated; giants use Teff from Alonso et al. (1999, A&AS 140,
  261) and van Belle et al. (1999, AJ 117, 521) rounded (Cox 2000, *Allen's AQ*, Table 15.7);
* a Balmer jump: an opacity step at the Balmer limit 3647 Å (``F × 10^(-D)`` blueward,
  smoothed over 20 Å), ``D`` peaking at 0.5 dex near A0 (Gray & Corbally 2009, *Stellar
  Spectral Classification*, ch. 5);
* absorption lines as pseudo-Voigt profiles in optical depth, ``F = C·exp(-τ)``; each
  strong line gets an equivalent width (EW) and a central depth that vary with subtype
  as in Jaschek & Jaschek (1987, *The Classification of Stars*) and Gray & Corbally (2009):
  Balmer H3…H24 and Paschen P9…P20 (maximal at A0–A2), He II 4686/4542/5412 (O), He I
  4471/4026/… (max B2), Si III 4553 (B0–B2), Mg II 4481 (late B–A), Ca II H&K (from F on,
  max in G–K), Ca I 4227, the CH G band 4300, Fe I blends, Mg b, Na D, Na I 8183/8195,
  K I 7665/7699 and the Ca II triplet; the EW is turned into a profile width through the
  exact curve of growth of the profile, so EWs are honoured at any line strength;
* molecular bands for K–M stars as sawtooth optical depths (steep head, exponential decay
  away from it): TiO heads 4584…8859 Å (Kirkpatrick, Henry & McCarthy 1991, ApJS 77, 417;
  depth rising steeply K5→M6, cf. the TiO5 index of Reid, Hawley & Gizis 1995, AJ 110,
  1838), CaH 6382/6750, MgH 5211 (dwarfs only) and VO 7334/7851 (≥ M6);
* a gentle forest of 4000 weak Gaussian metal lines at random positions drawn with a
  FIXED seed (so the library is deterministic), density ∝ λ⁻⁴ and EW ∝ λ⁻¹·⁵ (line
  blanketing grows to the blue, cf. Pickles 1998 G–K spectra), in three families
  (neutral metals growing to cool types, ionised metals peaking at F, hot-star ions),
  so a classifier cannot key on one line alone;
* finally a Gaussian line-spread function of FWHM ``fwhm`` Å (computed on a linear grid of
  step ``fwhm/5``), resampled onto a vacuum log10-λ grid of step ``min(5e-5, fwhm/(2.5 λmax ln10))``
  (at least 2.5 pixels per FWHM everywhere), normalised to mean 1 over 5530–5580 Å.

Luminosity classes other than V are cruder still: cooler Teff for G–M giants, narrower
Balmer lines for B–F giants/supergiants, weaker gravity-sensitive features (Na I 8190,
CaH, MgH, Ca I 4227, Na D) and stronger Ca II triplet / Sr II 4077 in giants.

Example
-------
>>> from specnet.simulate.builtin import builtin_library
>>> lib = builtin_library(subtypes=[20, 42, 63])
>>> [t.name for t in lib.templates]
['builtin:A0V', 'builtin:G2V', 'builtin:M3V']
"""
from __future__ import annotations

import functools
import math
import numbers

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.special import erf, erfc

from specnet.simulate.library import Template, TemplateLibrary
from specnet.spectrum import air_to_vacuum

__all__ = ["builtin_library", "builtin_template", "teff_for_subtype", "LIBRARY_NAME",
           "DEFAULT_SUBTYPES", "SUBTYPE_RANGE", "LUM_CLASSES"]

LIBRARY_NAME = "builtin"
#: Default subtypes: every integer type O5 (5) … M9 (69).
DEFAULT_SUBTYPES = tuple(float(s) for s in range(5, 70))
#: Subtypes the tables cover (O3 … M9.5).
SUBTYPE_RANGE = (3.0, 69.5)
#: Supported luminosity classes and their "luminosity parameter" (0 dwarf … 1 supergiant).
LUM_CLASSES = {"V": 0.0, "IV": 0.25, "III": 0.5, "II": 0.75, "I": 1.0}
#: Seed of the weak-line forest (fixed: the library is the same on every machine).
FOREST_SEED = 1998
_RYDBERG_H = 109677.583  # cm^-1, hydrogen (vacuum wavenumbers)
_C2 = 1.438776877e8  # h c / k in Å K


def _k(*pairs: float) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(subtype, value, subtype, value, ...)`` → two arrays for ``np.interp``."""
    a = np.asarray(pairs, float).reshape(-1, 2)
    return a[:, 0], a[:, 1]


# ----------------------------------------------------------------- temperature scales
_TEFF_V = _k(3, 44900, 4, 42900, 5, 41400, 6, 39500, 7, 37100, 8, 35100, 9, 33300, 9.5, 31900,
             10, 31400, 10.5, 29000, 11, 26000, 11.5, 24500, 12, 20600, 12.5, 18500, 13, 17000,
             14, 16400, 15, 15700, 16, 14500, 17, 14000, 18, 12500, 19, 10700, 19.5, 10400,
             20, 9700, 21, 9300, 22, 8800, 23, 8600, 24, 8250, 25, 8100, 26, 7910, 27, 7760,
             28, 7590, 29, 7400, 30, 7220, 31, 7020, 32, 6820, 33, 6750, 34, 6670, 35, 6550,
             36, 6350, 37, 6280, 38, 6180, 39, 6050, 40, 5930, 41, 5860, 42, 5770, 43, 5720,
             44, 5680, 45, 5660, 46, 5600, 47, 5550, 48, 5480, 49, 5380, 50, 5270, 51, 5170,
             52, 5100, 53, 4830, 54, 4600, 55, 4440, 56, 4300, 57, 4100, 58, 3990, 59, 3930,
             60, 3850, 60.5, 3770, 61, 3660, 61.5, 3620, 62, 3560, 62.5, 3470, 63, 3430,
             63.5, 3270, 64, 3210, 64.5, 3110, 65, 3060, 65.5, 2930, 66, 2810, 66.5, 2740,
             67, 2680, 67.5, 2630, 68, 2570, 68.5, 2420, 69, 2380, 69.5, 2350)
_TEFF_III = _k(3, 42000, 5, 39000, 10, 29000, 15, 15000, 20, 10000, 25, 8100, 30, 7150,
               35, 6400, 40, 5850, 45, 5150, 48, 4950, 50, 4750, 52, 4450, 55, 3950, 60, 3850,
               62, 3650, 63, 3550, 65, 3350, 67, 3150, 69.5, 2850)


def teff_for_subtype(subtype, lum_class: str = "V") -> np.ndarray:
    """Effective temperature in K used for ``subtype`` (O0=0 … M9=69) and a luminosity class.

    Dwarfs: Pecaut & Mamajek (2013) table, linearly interpolated. Classes III, II and I use
    the giant scale; IV is half-way.

    >>> round(float(teff_for_subtype(42)))
    5770
    """
    return _teff(np.asarray(subtype, float), _lum_param(lum_class))


def _teff(st, lp):
    """Teff (K) for subtypes ``st`` and luminosity parameters ``lp`` (arrays broadcast)."""
    tv, tg = np.interp(st, *_TEFF_V), np.interp(st, *_TEFF_III)
    return tv + np.minimum(np.asarray(lp) / 0.5, 1.0) * (tg - tv)


def _lum_param(lum_class) -> float:
    if lum_class not in LUM_CLASSES:
        raise ValueError(f"lum_class must be one of {tuple(LUM_CLASSES)}. "
                         f"Received: lum_class={lum_class!r}")
    return LUM_CLASSES[lum_class]


# -------------------------------------------------------------- line strength curves
# Equivalent widths (Å) of the reference line of each family vs subtype, dwarfs.
_EW = {
    "H": _k(3, 1.8, 5, 2.0, 9, 2.8, 10, 3.5, 12, 5.0, 15, 7.5, 18, 11.0, 20, 14.0, 21, 15.0,
            22, 15.0, 23, 14.4, 25, 13.0, 27, 11.0, 30, 9.0, 32, 7.5, 35, 5.5, 38, 4.3,
            40, 3.7, 42, 3.3, 45, 2.8, 48, 2.4, 50, 2.1, 53, 1.6, 55, 1.3, 60, 0.9, 65, 0.6,
            69.5, 0.4),
    "Pa": _k(3, 0.3, 10, 0.6, 15, 1.5, 20, 3.0, 23, 3.0, 27, 2.0, 30, 1.2, 35, 0.4, 40, 0.0),
    "HeII": _k(3, 1.0, 5, 0.9, 7, 0.7, 8, 0.55, 9, 0.4, 9.5, 0.25, 10, 0.1, 10.5, 0.0),
    "HeI": _k(3, 0.15, 5, 0.2, 7, 0.5, 9, 0.8, 10, 1.0, 11, 1.3, 12, 1.5, 13, 1.3, 15, 0.9,
              17, 0.5, 18, 0.3, 19, 0.15, 20, 0.0),
    "SiIII": _k(8, 0.0, 9.5, 0.25, 10.5, 0.4, 12, 0.3, 13, 0.1, 14, 0.0),
    "MgII": _k(10, 0.1, 15, 0.3, 20, 0.5, 22, 0.5, 30, 0.4, 40, 0.25, 50, 0.15, 60, 0.1),
    "CaK": _k(14, 0.0, 16, 0.05, 20, 0.3, 22, 0.8, 25, 2.5, 27, 4.0, 30, 5.5, 32, 7.0,
              35, 8.5, 38, 10.0, 40, 11.0, 42, 13.0, 45, 15.5, 48, 18.0, 50, 20.0, 53, 23.0,
              55, 24.0, 60, 21.0, 63, 16.0, 66, 11.0, 69.5, 8.0),
    "CaI": _k(18, 0.0, 20, 0.02, 25, 0.1, 30, 0.3, 35, 0.6, 40, 1.0, 45, 1.4, 50, 2.0,
              53, 3.0, 55, 4.5, 57, 6.0, 60, 7.0, 63, 8.0, 65, 8.0, 69.5, 6.0),
    "Gband": _k(25, 0.0, 30, 1.0, 35, 3.0, 40, 5.5, 45, 6.5, 50, 7.0, 53, 6.5, 55, 5.5,
                60, 3.5, 65, 2.5, 69.5, 2.0),
    "Mgb": _k(15, 0.0, 20, 0.1, 25, 0.2, 30, 0.4, 35, 0.8, 40, 1.2, 42, 1.5, 45, 1.7, 50, 2.2,
              53, 3.0, 55, 3.5, 60, 4.0, 63, 4.5, 65, 4.5, 69.5, 3.5),
    "NaD": _k(15, 0.0, 20, 0.05, 30, 0.25, 35, 0.4, 40, 0.6, 42, 0.75, 45, 0.85, 50, 1.2,
              53, 1.8, 55, 2.5, 57, 3.5, 60, 4.0, 63, 5.0, 65, 6.0, 69.5, 7.0),
    "NaI": _k(40, 0.0, 45, 0.15, 50, 0.25, 55, 0.5, 60, 1.0, 63, 1.8, 65, 2.5, 67, 3.5, 69.5, 4.0),
    "KI": _k(50, 0.0, 55, 0.3, 60, 0.6, 63, 1.0, 65, 1.5, 67, 3.0, 69.5, 5.0),
    "CaT": _k(15, 0.3, 20, 0.6, 25, 1.5, 30, 2.5, 35, 3.2, 40, 3.6, 45, 3.8, 50, 4.0, 55, 3.5,
              60, 3.0, 65, 2.0, 69.5, 1.5),
    "Fe": _k(15, 0.0, 20, 0.05, 25, 0.15, 30, 0.3, 35, 0.5, 40, 0.8, 42, 1.0, 45, 1.1,
             50, 1.35, 55, 1.7, 60, 1.8, 65, 1.8, 69.5, 1.6),
    "SrII": _k(25, 0.0, 30, 0.15, 40, 0.25, 50, 0.3, 60, 0.2, 69.5, 0.1),
}
# Intrinsic central depths (before the line-spread function).
_DEPTH = {
    "H": _k(3, 0.30, 10, 0.40, 15, 0.55, 20, 0.65, 30, 0.70, 40, 0.75, 50, 0.70, 60, 0.60,
            69.5, 0.50),
    "hot": _k(0, 0.20, 70, 0.20),
    "CaK": _k(15, 0.20, 20, 0.35, 25, 0.60, 30, 0.75, 40, 0.90, 50, 0.92, 69.5, 0.90),
    "metal": _k(15, 0.10, 20, 0.20, 30, 0.50, 40, 0.75, 50, 0.85, 69.5, 0.90),
}
# Hydrogen: Hγ is the reference; relative EWs of H3 (Hα) … H24, P9 … P20.
_H_REL = {3: 1.0, 4: 1.05, 5: 1.0, 6: 0.95, 7: 0.85, 8: 0.8, 9: 0.7, 10: 0.6, 11: 0.5}


def _hydrogen(lower: int, upper: int) -> float:
    """Vacuum wavelength (Å) of the hydrogen transition ``upper → lower`` (Rydberg formula)."""
    return 1e8 / (_RYDBERG_H * (1.0 / lower**2 - 1.0 / upper**2))


@functools.lru_cache(maxsize=1)
def _strong_lines() -> list[tuple[float, str, float, float, str, float]]:
    """``(vacuum λ, EW family, relative EW, Lorentz fraction η, depth family, lum coefficient)``."""
    lines = []
    for n in range(3, 25):  # Balmer series; 'lum' < 0: narrower in hot giants
        lines.append((_hydrogen(2, n), "H", _H_REL.get(n, 0.5 * 0.82 ** (n - 11)), 0.9, "H", -0.8))
    for n in range(9, 21):
        lines.append((_hydrogen(3, n), "Pa", 0.9 ** (n - 9), 0.8, "H", -0.8))
    air = [  # air λ, family, rel, η, depth family, lum coefficient
        (4685.71, "HeII", 1.0, 0.5, "hot", 0.0), (4541.59, "HeII", 0.8, 0.5, "hot", 0.0),
        (5411.52, "HeII", 1.0, 0.5, "hot", 0.0), (4199.83, "HeII", 0.6, 0.5, "hot", 0.0),
        (4471.48, "HeI", 1.0, 0.5, "hot", 0.0), (4026.19, "HeI", 0.9, 0.5, "hot", 0.0),
        (4921.93, "HeI", 0.6, 0.5, "hot", 0.0), (4387.93, "HeI", 0.6, 0.5, "hot", 0.0),
        (5875.62, "HeI", 0.9, 0.5, "hot", 0.0), (6678.15, "HeI", 0.6, 0.5, "hot", 0.0),
        (4143.76, "HeI", 0.45, 0.5, "hot", 0.0), (4713.15, "HeI", 0.35, 0.5, "hot", 0.0),
        (5015.68, "HeI", 0.35, 0.5, "hot", 0.0), (7065.19, "HeI", 0.35, 0.5, "hot", 0.0),
        (4552.62, "SiIII", 1.0, 0.3, "hot", 0.0), (4567.84, "SiIII", 0.8, 0.3, "hot", 0.0),
        (4574.76, "SiIII", 0.5, 0.3, "hot", 0.0), (4481.23, "MgII", 1.0, 0.3, "metal", 0.0),
        (3933.66, "CaK", 1.0, 0.9, "CaK", 0.0), (3968.47, "CaK", 0.8, 0.9, "CaK", 0.0),
        (4226.73, "CaI", 1.0, 0.7, "metal", -1.0), (4305.0, "Gband", 1.0, 0.0, "w10", 0.3),
        (5183.60, "Mgb", 1.0, 0.8, "metal", -0.4), (5172.68, "Mgb", 0.8, 0.8, "metal", -0.4),
        (5167.32, "Mgb", 0.6, 0.8, "metal", -0.4), (5889.95, "NaD", 1.0, 0.9, "metal", -0.8),
        (5895.92, "NaD", 0.8, 0.9, "metal", -0.8), (8183.26, "NaI", 0.9, 0.9, "metal", -1.6),
        (8194.82, "NaI", 1.1, 0.9, "metal", -1.6), (7664.90, "KI", 1.0, 0.9, "metal", -1.4),
        (7698.96, "KI", 0.8, 0.9, "metal", -1.4), (8542.09, "CaT", 1.0, 0.85, "metal", 0.8),
        (8662.14, "CaT", 0.75, 0.85, "metal", 0.8), (8498.02, "CaT", 0.4, 0.85, "metal", 0.8),
        (4077.71, "SrII", 1.0, 0.5, "metal", 2.0), (4045.81, "Fe", 0.85, 0.6, "metal", 0.0),
        (4063.59, "Fe", 0.55, 0.6, "metal", 0.0), (4071.74, "Fe", 0.5, 0.6, "metal", 0.0),
        (4383.55, "Fe", 1.0, 0.6, "metal", 0.0), (4404.75, "Fe", 0.75, 0.6, "metal", 0.0),
        (4957.60, "Fe", 0.6, 0.6, "metal", 0.0), (5269.54, "Fe", 0.5, 0.6, "metal", 0.0),
        (5328.04, "Fe", 0.4, 0.6, "metal", 0.0), (5371.49, "Fe", 0.3, 0.6, "metal", 0.0),
        (5397.13, "Fe", 0.25, 0.6, "metal", 0.0), (5405.77, "Fe", 0.25, 0.6, "metal", 0.0),
        (5429.70, "Fe", 0.25, 0.6, "metal", 0.0), (5446.92, "Fe", 0.25, 0.6, "metal", 0.0),
    ]
    vac = air_to_vacuum(np.array([a[0] for a in air]))
    return lines + [(float(v),) + a[1:] for v, a in zip(vac, air)]


# ----------------------------------------------------------------- molecular bands
# Strength (optical depth at the head of a band with relative strength 1) vs subtype.
_MOL = {
    "TiO": _k(53, 0.0, 55, 0.02, 57, 0.07, 60, 0.14, 61, 0.22, 62, 0.33, 63, 0.48, 64, 0.68,
              65, 0.92, 66, 1.2, 67, 1.4, 68, 1.55, 69.5, 1.65),
    "CaH": _k(55, 0.0, 57, 0.08, 60, 0.2, 62, 0.35, 63, 0.45, 65, 0.65, 67, 0.85, 69.5, 1.0),
    "VO": _k(65, 0.0, 66, 0.1, 67, 0.25, 68, 0.45, 69.5, 0.7),
    "MgH": _k(48, 0.0, 50, 0.05, 53, 0.15, 55, 0.3, 57, 0.4, 60, 0.5, 63, 0.6, 69.5, 0.6),
    "CN": _k(35, 0.0, 40, 0.2, 45, 0.35, 50, 0.5, 55, 0.55, 60, 0.35, 65, 0.15, 69.5, 0.05),
}
_MOL_LUM = {"TiO": 0.0, "CaH": -1.6, "VO": 0.0, "MgH": -1.6, "CN": 1.5}
# air head (Å), e-folding length (Å; > 0 degrades to the red, < 0 to the blue), rel, system
_BANDS_AIR = [
    (4584, 40, 0.25, "TiO"), (4626, 40, 0.3, "TiO"), (4761, 60, 0.45, "TiO"),
    (4955, 80, 0.6, "TiO"), (5167, 80, 0.65, "TiO"), (5448, 80, 0.6, "TiO"),
    (5597, 60, 0.35, "TiO"), (5847, 80, 0.55, "TiO"), (6159, 130, 1.0, "TiO"),
    (6651, 120, 0.8, "TiO"), (7054, 250, 1.0, "TiO"), (7088, 100, 0.5, "TiO"),
    (7126, 100, 0.5, "TiO"), (7589, 200, 0.85, "TiO"), (7666, 150, 0.4, "TiO"),
    (8432, 120, 0.7, "TiO"), (8859, 150, 0.6, "TiO"), (6382, 30, 0.6, "CaH"),
    (6750, 180, 1.0, "CaH"), (6830, 80, 0.5, "CaH"), (7334, 120, 1.0, "VO"),
    (7851, 100, 0.8, "VO"), (5211, -80, 1.0, "MgH"), (4780, -60, 0.6, "MgH"),
    (3883, -80, 1.0, "CN"), (4216, -50, 0.6, "CN"),
]
# Weak-line forest families: amplitude vs subtype (neutral metals, ionised metals, hot ions).
_FOREST = {
    "neutral": _k(15, 0.0, 20, 0.05, 25, 0.15, 30, 0.3, 35, 0.5, 40, 0.8, 42, 1.0, 45, 1.1,
                  50, 1.35, 55, 1.7, 60, 1.8, 65, 1.8, 69.5, 1.6),
    "ionised": _k(12, 0.0, 15, 0.05, 20, 0.3, 25, 0.5, 30, 0.6, 35, 0.6, 40, 0.5, 45, 0.4,
                  50, 0.3, 55, 0.2, 60, 0.1, 69.5, 0.05),
    "hot": _k(3, 0.3, 10, 0.4, 15, 0.2, 20, 0.0),
}
# Balmer jump in dex vs subtype (dwarfs).
_BALMER_JUMP = _k(3, 0.05, 10, 0.12, 15, 0.30, 18, 0.42, 20, 0.50, 22, 0.48, 25, 0.42,
                  30, 0.30, 35, 0.20, 40, 0.12, 45, 0.08, 50, 0.05, 60, 0.03, 69.5, 0.02)
_BALMER_LIMIT = _hydrogen(2, 10**6)


# ------------------------------------------------------------------- line profiles
def _pv(u: np.ndarray, eta) -> np.ndarray:
    """Peak-normalised pseudo-Voigt of unit HWHM: ``(1-η)·exp(-ln2 u²) + η/(1+u²)``."""
    return (1 - eta) * np.exp(-math.log(2) * u * u) + eta / (1 + u * u)


@functools.lru_cache(maxsize=None)
def _curve_of_growth(eta: float) -> tuple[np.ndarray, np.ndarray]:
    """``(τ0, G)`` with ``EW = HWHM · G(τ0)`` for ``τ = τ0·pv(Δλ/HWHM, η)`` (exact integral)."""
    tau0 = np.logspace(-6, 3, 361)
    u = np.concatenate([np.linspace(0, 10, 1001)[:-1], np.geomspace(10, 1e4, 1500)])
    lost = -np.expm1(-tau0[:, None] * _pv(u, eta)[None, :])
    g = 2 * np.trapezoid(lost, u, axis=1) + 2 * tau0 * eta / u[-1]  # + weak Lorentz tail
    return tau0, g


def _tau0_width(ew, depth, eta, width, wmin):
    """Central optical depth and HWHM (Å) of a line with equivalent width ``ew`` (Å).

    The HWHM follows from the central ``depth`` (``τ0 = -ln(1-depth)``) through the curve of
    growth; where a fixed ``width`` is given, or the HWHM would fall below ``wmin`` (the
    grid step), the width is fixed and ``τ0`` solved from the curve of growth instead.
    """
    tau_t, g_t = _curve_of_growth(float(eta))
    lt, lg = np.log(tau_t), np.log(g_t)
    if width is None:
        tau0 = -np.log1p(-np.clip(depth, 1e-6, 0.999))
        w = ew / np.exp(np.interp(np.log(tau0), lt, lg))
    else:
        w = np.full_like(ew, width)
    w = np.maximum(w, wmin)
    tau0 = np.exp(np.interp(np.log(np.maximum(ew, 1e-12) / w), lg, lt))
    return np.where(ew > 0, tau0, 0.0), w


# ----------------------------------------------------------------------- the grids
@functools.lru_cache(maxsize=8)
def _components(lo: float, hi: float, fwhm: float):
    """Fine linear grid and the type-independent optical-depth shapes on it (cached)."""
    h = fwhm / 5.0
    pad = 10 * fwhm + 20.0
    lin = np.arange(lo - pad, hi + pad + h, h)
    # weak-line forest: FIXED seed, density ∝ λ^-4 over 3300–9900 Å whatever the range
    rng = np.random.default_rng(FOREST_SEED)
    n, a, b = 4000, 3300.0**-3, 9900.0**-3
    lam = (a - rng.random(n) * (a - b)) ** (-1 / 3)  # inverse CDF of λ^-4
    fam = rng.choice(3, size=n, p=[0.65, 0.25, 0.10])
    ew = 0.07 * np.exp(1.0 * rng.standard_normal(n)) * (4500 / lam) ** 1.5
    w = np.maximum(lam * 4.0 / 299792.458, h)  # HWHM: 4 km/s, at least one grid step
    m = np.arange(-int(np.ceil(5 * w.max() / h)), int(np.ceil(5 * w.max() / h)) + 1)
    idx = np.rint((lam - lin[0]) / h).astype(int)[:, None] + m[None, :]
    ok = (idx >= 0) & (idx < lin.size)
    prof = _pv((lin[np.clip(idx, 0, lin.size - 1)] - lam[:, None]) / w[:, None], 0.0)
    prof *= (ew / (w * math.sqrt(math.pi / math.log(2))))[:, None]  # ∫τ dλ = EW (weak limit)
    forest = np.stack([np.bincount(idx[ok & (fam == k)[:, None]],
                                   prof[ok & (fam == k)[:, None]], lin.size) for k in range(3)])
    # molecular bands: sawtooth optical depth, head smoothed over 1 Å
    heads = air_to_vacuum(np.array([bd[0] for bd in _BANDS_AIR], float))
    length = np.array([bd[1] for bd in _BANDS_AIR], float)[:, None]
    x = (lin[None, :] - heads[:, None]) * np.sign(length)
    band = 0.5 * (1 + erf(x)) * np.exp(-np.clip(x, 0, None) / np.abs(length))
    band *= np.array([bd[2] for bd in _BANDS_AIR])[:, None]
    mol = np.stack([band[[bd[3] == s for bd in _BANDS_AIR]].sum(0) for s in _MOL])
    step = min(5e-5, fwhm / (2.5 * math.log(10) * hi))
    out = 10 ** (math.log10(lo) + step * np.arange(int(math.log10(hi / lo) / step) + 1))
    return lin, np.concatenate([forest, mol]), out


def _synthesise(st: np.ndarray, lp: np.ndarray, lo: float, hi: float, fwhm: float):
    """Fluxes, shape (len(st), npix), on the output vacuum log-λ grid, and that grid."""
    lin, comps, out = _components(lo, hi, fwhm)
    h = lin[1] - lin[0]
    teff = _teff(st, lp)
    amp = [np.interp(st, *_FOREST[f]) for f in _FOREST]
    amp += [np.interp(st, *_MOL[s]) * np.clip(1 + _MOL_LUM[s] * lp, 0, None) for s in _MOL]
    tau = np.stack(amp, 1) @ comps
    hot = np.interp(st, [0, 35, 45], [1.0, 1.0, 0.0])  # where Balmer widths feel gravity
    for lam0, fam, rel, eta, dfam, lum in _strong_lines():
        grav = hot if fam in ("H", "Pa") else 1.0
        ew = rel * np.interp(st, *_EW[fam]) * np.clip(1 + lum * lp * grav, 0.05, None)
        width = float(dfam[1:]) if dfam[0] == "w" else None
        depth = None if width else np.interp(st, *_DEPTH[dfam])
        tau0, w = _tau0_width(ew, depth, eta, width, h)
        if not np.any(tau0 > 0):
            continue
        half = float(np.max(w * (5 + np.sqrt(np.maximum(tau0 * eta, 0) / 1e-3))))
        i0 = max(int((lam0 - min(half, 600.0) - lin[0]) / h), 0)
        i1 = min(int((lam0 + min(half, 600.0) - lin[0]) / h) + 1, lin.size)
        if i1 <= i0:
            continue
        u = (lin[None, i0:i1] - lam0) / w[:, None]
        tau[:, i0:i1] += tau0[:, None] * _pv(u, eta)
    with np.errstate(over="ignore"):
        planck = lin[None, :] ** -5 / np.expm1(_C2 / (lin[None, :] * teff[:, None]))
    jump = np.interp(st, *_BALMER_JUMP)[:, None] * 0.5 * erfc((lin - _BALMER_LIMIT) / 20.0)
    flux = planck * 10 ** (-jump) * np.exp(-tau)
    flux = gaussian_filter1d(flux, fwhm / (2 * math.sqrt(2 * math.log(2))) / h, axis=1,
                             mode="nearest", truncate=5.0)
    pos = (out - lin[0]) / h
    i = np.clip(pos.astype(int), 0, lin.size - 2)
    t = pos - i
    flux = flux[:, i] * (1 - t) + flux[:, i + 1] * t
    norm_band = (out >= 5530) & (out <= 5580)
    norm = flux[:, norm_band].mean(1) if norm_band.any() else np.median(flux, 1)
    return flux / norm[:, None], out, teff


# ------------------------------------------------------------------------- public
def _label(subtype: float, lum_class: str) -> str:
    k = int(subtype // 10)
    return f"{'OBAFGKM'[k]}{subtype - 10 * k:g}{lum_class}"


def _check(subtypes, lum_classes, wave_range, fwhm):
    st = np.atleast_1d(np.asarray(DEFAULT_SUBTYPES if subtypes is None else subtypes, float))
    if st.ndim != 1 or st.size == 0 or not np.all(np.isfinite(st)) \
            or st.min() < SUBTYPE_RANGE[0] or st.max() > SUBTYPE_RANGE[1]:
        raise ValueError(f"subtypes must be numbers in {SUBTYPE_RANGE} (O3…M9.5 on the O0=0 "
                         f"scale). Received: subtypes={subtypes!r}")
    if np.unique(st).size != st.size:
        raise ValueError(f"subtypes must not repeat. Received: subtypes={subtypes!r}")
    if isinstance(lum_classes, str) or len(lum_classes) == 0 \
            or len(set(lum_classes)) != len(lum_classes):
        raise ValueError(f"lum_classes must be a non-empty sequence of distinct classes from "
                         f"{tuple(LUM_CLASSES)}. Received: lum_classes={lum_classes!r}")
    for c in lum_classes:
        _lum_param(c)
    try:
        lo, hi = (float(v) for v in wave_range)
    except (TypeError, ValueError):
        raise ValueError(f"wave_range must be two numbers (Å). "
                         f"Received: wave_range={wave_range!r}") from None
    if not (1000 <= lo < hi <= 30000):
        raise ValueError(f"wave_range must satisfy 1000 <= lo < hi <= 30000 Å. "
                         f"Received: wave_range={wave_range!r}")
    if isinstance(fwhm, bool) or not isinstance(fwhm, numbers.Real) or not 0.05 <= fwhm <= 50:
        raise ValueError(f"fwhm must be a number in [0.05, 50] Å. Received: fwhm={fwhm!r}")
    return st, list(lum_classes), lo, hi, float(fwhm)


def builtin_library(subtypes=None, lum_classes=("V",), wave_range=(3500, 9600),
                    fwhm: float = 1.0) -> TemplateLibrary:
    """The embedded parametric template family (library ``"builtin"``), no file needed.

    Parameters
    ----------
    subtypes : sequence of float, optional
        Subtypes on the O0=0 … M9=69 scale, within 3–69.5 (O3–M9.5), no repeats; half
        types allowed. Default: every integer O5 (5) … M9 (69), 65 templates.
    lum_classes : sequence of str
        Luminosity classes among ``V, IV, III, II, I``; one template per class and subtype,
        ordered by class then subtype. Only ``V`` follows the literature closely.
    wave_range : (float, float)
        Vacuum wavelength range in Å (lines and bands exist only within ~3500–9900 Å).
    fwhm : float
        Gaussian instrumental FWHM in Å (0.05–50) applied to every template.

    Returns
    -------
    TemplateLibrary
        Templates named ``"builtin:K3V"`` (label ``"K3V"``), ``library="builtin"``,
        ``feh=0.0``, ``wave`` a vacuum log10-λ grid (step ≤ 5e-5 dex, ≥ 2.5 px per FWHM),
        ``flux`` F_λ normalised to mean 1 over 5530–5580 Å, ``fwhm`` the given FWHM.

    Example
    -------
    >>> lib = builtin_library(subtypes=[20, 42.5], lum_classes=("V", "III"), fwhm=3.0)
    >>> [t.name for t in lib.templates]
    ['builtin:A0V', 'builtin:G2.5V', 'builtin:A0III', 'builtin:G2.5III']
    """
    st, classes, lo, hi, fwhm = _check(subtypes, lum_classes, wave_range, fwhm)
    all_st = np.tile(st, len(classes))
    all_lp = np.repeat([LUM_CLASSES[c] for c in classes], st.size)
    # chunks of templates keep the (templates × fine pixels) work arrays to ~4e6 floats
    npix = int((hi - lo + 20 * fwhm + 40) / (fwhm / 5)) + 1
    size = max(1, int(4e6 // npix))
    parts = [_synthesise(all_st[i:i + size], all_lp[i:i + size], lo, hi, fwhm)
             for i in range(0, all_st.size, size)]
    flux, wave = np.concatenate([p[0] for p in parts]), parts[0][1]
    teff = np.concatenate([p[2] for p in parts])
    templates = []
    for j, (s, c) in enumerate(zip(all_st, np.repeat(classes, st.size))):
        label = _label(float(s), str(c))
        templates.append(Template(
            name=f"{LIBRARY_NAME}:{label}", subtype=float(s), lum_class=str(c), feh=0.0,
            library=LIBRARY_NAME, wave=wave.copy(), flux=flux[j], fwhm=fwhm, label=label,
            notes=f"parametric demo spectrum (specnet.simulate.builtin), Teff={teff[j]:.0f} K; "
                  f"not a real star"))
    return TemplateLibrary(templates)


def builtin_template(subtype: float, lum_class: str = "V", wave_range=(3500, 9600),
                     fwhm: float = 1.0) -> Template:
    """One builtin template (see :func:`builtin_library`).

    >>> t = builtin_template(53)
    >>> t.name, t.library, round(float(t.wave[0]))
    ('builtin:K3V', 'builtin', 3500)
    """
    return builtin_library([subtype], (lum_class,), wave_range, fwhm).templates[0]
