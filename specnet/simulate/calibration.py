"""Numbers measured on the real survey fixtures (``shared/data/fixtures``) that the built-in
:mod:`~specnet.simulate.profiles` use, and how they were measured.

* **S/N.** LAMOST's ``SNRG`` equals the median of ``flux*sqrt(ivar)`` over the good
  pixels in 4100–5300 Å (vacuum) to 0.3 % (median ratio 1.003, scatter 0.9 %,
  all 86 DR1 + 8 DR10 + 4 DR2–7 stars), so ``snr_band=(4100, 5300)``. SDSS's
  ``SN_MEDIAN_ALL`` is the median over all good pixels (``snr_band=None``).
* **Noise shape.** In real spectra ``ivar*flux`` follows one smooth curve of
  wavelength whatever the star (photon noise: variance ∝ flux / throughput). The
  ``throughput`` knots below are that curve, normalised to 1 in the S/N band,
  measured as the median of ``ivar*smooth(flux)`` over the DR1 fixtures with
  SNRG > 20 (``lamost-dr1``), the DR10 + DR2–7 fixtures (``lamost-lrs``) and the
  SDSS F9 star and white dwarf (``sdss``). It is what makes the per-pixel noise
  of a red star at a given SNRG 2–3× lower in the red than in the g band, as in
  the real M-star fixtures (median(flux·sqrt(ivar)) / SNRG ≈ 2–3.7).
* **Masks.** The :data:`specnet.simulate.profiles.LAMOST_DR1_MASK` parameters are the frequencies measured
  on the 86 DR1 fixtures (see :class:`MaskModel`).
* **Sky lines.** The variance a sky line adds, in the noise model's counts unit (where a
  photon-limited pixel has S/N² = counts), is ``(var_line / var_continuum − 1) · S_cont²``
  at the line pixel; :data:`SKY_LAMOST_DR1` / :data:`SKY_LAMOST_LRS` hold the medians over
  the DR1 and DR10 fixtures (DR1's [O I] 5577 is 100× DR10's).
* **Background.** A variance floor of ``background = 30`` counts (``lamost-dr1``) reproduces
  how the ratio median(flux·sqrt(ivar)) / SNRG grows at low S/N in the DR1 K/M stars
  (real: 2.24 below SNRG 10, 1.49 at 10–30, 1.44 above 30; mocks: 2.28, 1.51, 1.38) and the
  DR1 mask fraction (real median 6.6 %, mean 8.9 %; mocks 7.4 %, 9.1 %).
* **Extinction.** Continuum colours log(F8250/F4750) of the real fixtures are only 0.01–0.08
  dex redder than the templates of the same type, so E(B−V) is drawn small
  (exponential, mean 0.05 mag for DR1, 0.04 for DR9+, 0.03 for SDSS).

* **Telluric bands.** The real LAMOST DR10/DR2–7 and SDSS stars are telluric-corrected:
  residual depths at the O2 A core, the B band and H2O 8200 Å are within ±0.03–0.07
  (DR1 masks the A band instead); the profiles use a residual strength N(0, 0.04).

All wavelengths are vacuum Å.
"""
from __future__ import annotations

import numpy as np

from specnet.spectrum import air_to_vacuum

def _vac(pairs):
    """(air Å, strength) pairs → (vacuum Å, strength) tuples."""
    air = np.array([p[0] for p in pairs], dtype=float)
    vac = air_to_vacuum(air)
    return tuple((round(float(v), 2), float(p[1])) for v, p in zip(vac, pairs))


#: Bright night-sky emission lines, (vacuum Å, strength relative to [O I] 5577):
#: [O I] 5577/6300/6364, Na D, and the brightest OH Meinel lines (Osterbrock et al. 1996).
SKY_LINES: tuple[tuple[float, float], ...] = _vac([
    (5577.34, 1.0), (5889.95, 0.25), (5895.92, 0.25), (6300.30, 0.45), (6363.78, 0.15),
    (6498.73, 0.08), (6553.61, 0.1), (6577.28, 0.12), (6604.28, 0.1), (6863.96, 0.15),
    (6923.22, 0.15), (7276.41, 0.15), (7316.28, 0.3), (7340.89, 0.3), (7369.25, 0.2),
    (7401.69, 0.2), (7750.64, 0.3), (7794.11, 0.3), (7821.50, 0.3), (7853.23, 0.2),
    (7913.71, 0.4), (7964.65, 0.4), (7993.33, 0.4), (8344.60, 0.6), (8399.17, 0.6),
    (8430.17, 0.5), (8465.36, 0.5), (8493.39, 0.5), (8761.31, 0.6), (8767.92, 0.8),
    (8778.33, 0.7), (8791.19, 0.7), (8827.10, 1.0), (8885.85, 1.0), (8919.63, 0.8),
    (8943.40, 0.9), (8958.10, 0.8), (8988.38, 0.9), (9001.37, 0.7), (9037.90, 0.5),
    (9049.20, 0.4),
])



def _sky_table(measured: dict, scale: float) -> tuple[tuple[float, float], ...]:
    """(vacuum Å, peak counts) for every line of :data:`SKY_LINES`: ``measured`` (keyed by the
    rounded air wavelength) where known, else relative strength × ``scale``."""
    air = [5577, 5890, 5896, 6300, 6364, 6499, 6554, 6577, 6604, 6864, 6923, 7276, 7316, 7341, 7369, 7402,
           7751, 7794, 7822, 7853, 7914, 7965, 7993, 8345, 8399, 8430, 8465, 8493, 8761, 8768, 8778, 8791,
           8827, 8886, 8920, 8943, 8958, 8988, 9001, 9038, 9049]
    return tuple((w, float(measured.get(a, strength * scale))) for a, (w, strength) in zip(air, SKY_LINES))


#: Sky-line peak counts (the S/N² unit of the noise model), medians measured on the real
#: fixtures as ``(var_line / var_continuum - 1) * S_continuum**2`` at the line pixel.
#: DR1 (86 files): [O I] 5577 is enormous (8e4; the line pixel is masked in half the files).
SKY_LAMOST_DR1 = _sky_table({5577: 81000, 6300: 5600, 6364: 900, 7316: 1100, 7914: 4800, 8345: 15400,
                             8399: 5300, 8827: 33000, 8886: 7600, 5890: 3000, 5896: 3000}, 15000.0)
#: DR10 (8 files).
SKY_LAMOST_LRS = _sky_table({5577: 610, 6300: 1675, 6364: 494, 7316: 590, 7914: 2150, 8345: 3960,
                             8399: 2210, 8827: 1770, 8886: 1940}, 3000.0)
#: SDSS: not measured (1 usable star); a generic bright sky.
SKY_SDSS = _sky_table({5577: 5000, 6300: 1500}, 2000.0)

#: Absorption-line cores that LAMOST DR1 masks (vacuum Å, probability per spectrum when the
#: line is deep enough): Ca II K, H; H8–H12; Hδ, Hγ, Hβ, Hα. Measured on the 86 DR1 fixtures
#: (Ca II H&K masked in 77–80 % of all files, ~all F–K; Hδ 22 %, Hγ 14 %, Hβ 10 %, Hα 5 %).
LINE_CORES: tuple[tuple[float, float], ...] = (
    (3934.78, 0.9), (3969.59, 0.9), (3890.17, 0.3), (3836.47, 0.3), (3798.98, 0.3),
    (3771.70, 0.3), (3751.22, 0.3), (4102.89, 0.15), (4341.69, 0.12), (4862.68, 0.1),
    (6564.61, 0.05),
)

#: Telluric absorption bands, (vacuum blue edge Å, red cutoff Å, optical depth at the
#: edge, e-folding length Å) for the O2 A, B, γ bands, and (centre, σ, depth) Gaussians
#: for H2O; ``exp(-strength * tau)`` at airmass ~1.2, before convolution to R.
_O2_BANDS = ((7596.0, 7700.0, 1.3, 45.0), (6869.0, 6960.0, 0.55, 28.0), (6279.5, 6330.0, 0.12, 25.0))
_H2O_BANDS = ((7250.0, 70.0, 0.07), (8230.0, 90.0, 0.12), (9350.0, 160.0, 0.45), (6530.0, 25.0, 0.015))



# Throughput knots (vacuum Å, relative counts per flux unit, 1 in the S/N band); see module docs.
_LAMOST_DR1_THROUGHPUT = (
    (3700, 0.01314), (3751, 0.02369), (3804, 0.04005), (3857, 0.07081), (3910, 0.09428), (3965, 0.1403),
    (4020, 0.1925), (4076, 0.2172), (4132, 0.2827), (4190, 0.3433), (4248, 0.425), (4307, 0.47),
    (4367, 0.5347), (4428, 0.6588), (4490, 0.7782), (4552, 0.8478), (4615, 0.9491), (4680, 1.018),
    (4745, 1.117), (4811, 1.197), (4878, 1.213), (4945, 1.315), (5014, 1.352), (5084, 1.399),
    (5155, 1.411), (5226, 1.5), (5299, 1.539), (5373, 1.551), (5448, 1.523), (5523, 1.5),
    (5600, 1.309), (5678, 0.8035), (5757, 0.8867), (5837, 1.475), (5918, 1.766), (6001, 2.195),
    (6084, 2.517), (6169, 2.856), (6255, 2.959), (6342, 3.142), (6430, 3.813), (6519, 4.193),
    (6610, 4.549), (6702, 5.034), (6795, 5.453), (6890, 5.539), (6986, 5.729), (7083, 6.14),
    (7181, 6.32), (7281, 5.519), (7382, 6.233), (7485, 7.039), (7589, 7.405), (7695, 6.591),
    (7802, 6.422), (7910, 5.978), (8020, 6.321), (8132, 6.818), (8245, 6.521), (8360, 5.825),
    (8476, 5.591), (8594, 6.193), (8714, 5.838), (8835, 4.489), (8958, 3.632), (9082, 2.51),
    (9099, 2.251),
)
_LAMOST_LRS_THROUGHPUT = (
    (3700, 0.02734), (3751, 0.04996), (3804, 0.07181), (3857, 0.1012), (3910, 0.1321), (3965, 0.1737),
    (4020, 0.2322), (4076, 0.2775), (4132, 0.3352), (4190, 0.4014), (4248, 0.45), (4307, 0.5116),
    (4367, 0.5688), (4428, 0.6647), (4490, 0.7761), (4552, 0.8383), (4615, 0.9442), (4680, 1.026),
    (4745, 1.104), (4811, 1.203), (4878, 1.233), (4945, 1.358), (5014, 1.433), (5084, 1.488),
    (5155, 1.566), (5226, 1.656), (5299, 1.739), (5373, 1.781), (5448, 1.817), (5523, 1.836),
    (5600, 1.809), (5678, 1.632), (5757, 1.44), (5837, 1.938), (5918, 2.338), (6001, 3.021),
    (6084, 3.859), (6169, 4.497), (6255, 4.754), (6342, 5.316), (6430, 6.043), (6519, 6.356),
    (6610, 6.984), (6702, 7.632), (6795, 8.085), (6890, 8.158), (6986, 8.595), (7083, 9.105),
    (7181, 9.197), (7281, 8.814), (7382, 9.46), (7485, 9.715), (7589, 9.075), (7695, 9.333),
    (7802, 8.759), (7910, 8.377), (8020, 8.849), (8132, 9.288), (8245, 8.873), (8360, 8.05),
    (8476, 7.513), (8594, 7.863), (8714, 7.332), (8835, 5.769), (8958, 3.888), (9082, 2.829),
    (9099, 2.61),
)
_SDSS_THROUGHPUT = (
    (3799, 0.2146), (3870, 0.2726), (3942, 0.3322), (4015, 0.4127), (4090, 0.4729), (4166, 0.5232),
    (4243, 0.5688), (4322, 0.6431), (4403, 0.6583), (4484, 0.6936), (4568, 0.7354), (4653, 0.7748),
    (4739, 0.8063), (4827, 0.8781), (4917, 0.9108), (5008, 0.921), (5102, 0.9505), (5196, 0.9689),
    (5293, 0.983), (5391, 1.005), (5492, 1.002), (5594, 0.9982), (5698, 0.9624), (5804, 0.9088),
    (5912, 0.9597), (6021, 1.237), (6133, 1.302), (6247, 1.289), (6364, 1.416), (6482, 1.54),
    (6602, 1.57), (6725, 1.73), (6850, 1.629), (6978, 1.721), (7107, 1.772), (7239, 1.702),
    (7374, 1.597), (7511, 1.732), (7651, 1.302), (7793, 1.458), (7938, 1.339), (8085, 1.523),
    (8236, 1.459), (8389, 1.195), (8545, 1.349), (8704, 1.069), (8865, 0.8876), (9030, 1.015),
    (9196, 1.054),
)
