"""Survey profiles: what a mock spectrum of a given survey and data release looks like.

A :class:`SurveyProfile` is a small frozen dataclass holding everything
:func:`specnet.simulate.mock_survey` needs to turn a template into a survey
spectrum: the output :class:`~specnet.preprocess.Grid`, resolving power, the S/N
definition, the noise model (an instrument throughput curve and a background), the
LAMOST blue/red arm join, sky lines, telluric bands, flux-calibration error, a
blue scattered-light pedestal, radial-velocity and extinction distributions and a
:class:`MaskModel` of bad-pixel patterns. Users may build their own and
:func:`register_profile` it.

Built-in profiles (:func:`get_profile`):

``lamost-lrs``
    LAMOST LRS as in DR9+ (R≈1800, 3700–9100 Å, the real 3909-px log grid,
    ``COEFF0=3.5682``, ``COEFF1=1e-4``): nearly mask-free, like the 8 DR10 fixtures.
``lamost-dr1``
    The same instrument with DR1 (pipeline v2.6.4) conventions: ≈9 % of pixels
    masked in long runs (O2 A band always, the blue end, the dichroic overlap in
    ~10 % of files, the red end, sky lines, the cores of Ca II H&K), a stronger
    blue pedestal and a worse flux calibration.
``sdss``
    SDSS/BOSS (R≈2000, 3800–9200 Å, the SDSS log grid), S/N = ``SN_MEDIAN_ALL``.

The measured numbers and how they were measured are in :mod:`specnet.simulate.calibration`.

Example
-------
>>> p = get_profile("lamost-lrs")
>>> p.grid.npix, p.R, p.snr_band
(3909, 1800.0, (4100.0, 5300.0))
>>> import dataclasses
>>> quiet = dataclasses.replace(p, name="lamost-quiet", calib_error=0.0)
>>> register_profile(quiet) is quiet
True
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numpy as np

from specnet.preprocess.grid import LAMOST_GRID, SDSS_GRID, Grid
from specnet.simulate.calibration import (_H2O_BANDS, _LAMOST_DR1_THROUGHPUT, _LAMOST_LRS_THROUGHPUT,
                                          _O2_BANDS, _SDSS_THROUGHPUT, LINE_CORES, SKY_LAMOST_DR1,
                                          SKY_LAMOST_LRS, SKY_LINES, SKY_SDSS)

__all__ = ["SurveyProfile", "MaskModel", "get_profile", "register_profile", "profile_names",
           "SKY_LINES", "LINE_CORES", "LAMOST_DR1_MASK"]


@dataclasses.dataclass(frozen=True)
class MaskModel:
    """Bad-pixel patterns drawn per spectrum (wavelengths in vacuum Å; probabilities 0–1).

    Attributes
    ----------
    always : tuple of (lo, hi)
        Windows masked in every spectrum (DR1: the O2 A band 7581–7679 Å).
    nonpositive : bool
        Mask pixels whose *noisy* flux is ≤ 0 (no good DR1 pixel has flux ≤ 0).
    blue_snr : (lo, hi) or None
        Blue-end cut: pixels bluer than where the expected per-pixel S/N (smoothed)
        first reaches a threshold drawn uniformly in ``blue_snr`` are masked, up to
        ``blue_max``. DR1: expected S/N at the real cut edges is 1–3.
    blue_prob : float
        Probability that a spectrum gets a blue-end cut at all.
    line_cores : tuple of (centre, probability)
        Deep-line cores masked (±2–5 px) with that probability when the noiseless
        spectrum's residual intensity there is below ``core_depth``.
    windows : tuple of (lo, hi, probability)
        Windows masked at random (DR1: [O I] 5577 in 50 % of files, 6300 in 14 %).
    dichroic_prob, dichroic_start, dichroic_end : float, (lo, hi), (lo, hi)
        A long run over the blue/red arm overlap (DR1: 10 % of files, starting
        5490–5700 Å and ending 5860–6160 Å); ``dichroic_long_prob`` of those run on to
        ``dichroic_long_end`` (two DR1 files lose 5600–7500 Å).
    red_start_quantiles : tuple of float or None
        Quantiles (0, 0.1, 0.25, 0.5, 0.75, 0.9, 1) of the start of the red-end run;
        a value beyond the grid means no red cut.
    oh_prob, oh_mean, oh_colour_ref : float
        OH lines redward of 8700 Å are masked (``oh_mean`` of them on average) with probability
        ``min(1, oh_prob * (oh_colour_ref / r)**2)``, r = the noiseless flux ratio
        8500–9000 Å / S/N band: in DR1 it is the blue (A/F) stars that lose OH lines (26 of 43
        A/F files, 6 of 43 G/K/M).
    isolated_rate : float
        Mean number of isolated 1–2 px bad pixels per spectrum (Poisson).

    Example
    -------
    >>> MaskModel().always
    ()
    """

    always: tuple = ()
    nonpositive: bool = False
    blue_snr: tuple | None = None
    blue_prob: float = 1.0
    blue_max: float = 4500.0
    line_cores: tuple = ()
    core_depth: float = 0.5
    windows: tuple = ()
    dichroic_prob: float = 0.0
    dichroic_start: tuple = (5490.0, 5700.0)
    dichroic_end: tuple = (5860.0, 6160.0)
    dichroic_long_prob: float = 0.0
    dichroic_long_end: tuple = (7390.0, 7540.0)
    red_start_quantiles: tuple | None = None
    oh_prob: float = 0.0
    oh_mean: float = 0.0
    oh_colour_ref: float = 0.5
    isolated_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("blue_prob", "dichroic_prob", "dichroic_long_prob", "oh_prob"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"MaskModel.{name} must be a probability in [0, 1]. Received: {name}={v!r}")
        for name in ("oh_mean", "isolated_rate"):
            if getattr(self, name) < 0:
                raise ValueError(f"MaskModel.{name} must be >= 0. Received: {name}={getattr(self, name)!r}")
        if self.red_start_quantiles is not None and len(self.red_start_quantiles) != 7:
            raise ValueError("MaskModel.red_start_quantiles must hold 7 quantiles (0, .1, .25, .5, .75, .9, 1). "
                             f"Received: red_start_quantiles={self.red_start_quantiles!r}")


#: DR1 mask patterns, measured on the 86 LAMOST DR1 fixtures (mask fraction median 6.6 %,
#: mean 8.9 %; A band masked in 86/86; dichroic run in 9/86; red-end run start quantiles).
LAMOST_DR1_MASK = MaskModel(
    always=((7581.0, 7679.0),),
    nonpositive=True,
    blue_snr=(1.2, 3.0),
    blue_prob=1.0,
    blue_max=4500.0,
    line_cores=LINE_CORES,
    core_depth=0.5,
    windows=((5574.0, 5585.0, 0.5), (6296.0, 6309.0, 0.14), (5888.0, 5896.0, 0.03)),
    dichroic_prob=0.10,
    dichroic_long_prob=0.2,
    red_start_quantiles=(8970.0, 8991.0, 9020.0, 9034.0, 9071.0, 9081.0, 9100.0),
    oh_prob=0.5,
    oh_mean=3.5,
    oh_colour_ref=0.5,
    isolated_rate=0.9,
)

#: DR9+ (and DR2–DR8) LAMOST files are nearly mask-free: the 8 DR10 fixtures have no bad pixel,
#: the DR2–7 ones lose a few % at the ends.
LAMOST_LRS_MASK = MaskModel(blue_snr=(0.3, 1.0), blue_prob=0.3, isolated_rate=0.2,
                            red_start_quantiles=(8900.0, 8950.0, 9000.0, 9070.0, 9100.0, 9200.0, 9200.0))

SDSS_MASK = MaskModel(windows=((5576.0, 5582.0, 0.1),), isolated_rate=0.3)


@dataclasses.dataclass(frozen=True)
class SurveyProfile:
    """How one survey/data release observes a star (all wavelengths vacuum Å).

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"lamost-lrs"``.
    grid : Grid
        Output log-λ grid (vacuum).
    R : float
        Resolving power λ/FWHM the templates are degraded to.
    survey : str
        ``meta["survey"]`` of the mocks (``"LAMOST"``, ``"SDSS"``).
    data_release : str
        Written as ``DATA_V``/``RUN2D``.
    default_layout : str
        Writer layout used when none is given (``"lamost-dr9"``, ``"lamost-dr2"``, ``"sdss-spec"``).
    snr_band : (lo, hi) or None
        S/N = ``snr_scale`` × median of ``flux*sqrt(ivar)`` over good pixels in this band
        (LAMOST SNRG: 4100–5300 Å); ``None`` = over all good pixels (SDSS ``SN_MEDIAN_ALL``).
    snr_scale : float
        See ``snr_band`` (1.0 for the built-ins).
    throughput : tuple of (Å, value)
        Relative counts per flux unit; noise variance ∝ (counts + background) / throughput².
    background : float
        Background variance in the counts unit where a photon-limited pixel has
        ``S/N² = counts``; sets where the noise stops being photon-limited.
    sky_lines : tuple of (Å, counts)
        Sky emission lines (vacuum) and their peak counts per pixel at resolution ``R``; they
        add variance (in ``ivar``), and drive masks/residuals. Measured per release.
    sky_level : float
        Multiplier of ``sky_lines`` (1 = as measured).
    sky_scatter : float
        ln-normal σ of the per-spectrum sky brightness (moon, field, airmass).
    sky_residual : float
        r.m.s. sky-subtraction residual at the lines in units of the line's photon noise, one
        coherent factor per spectrum (not in ``ivar``).
    arm_join : (lo, hi) or None
        Range where the blue/red arm join is drawn (LAMOST 5700–5900 Å).
    arm_step, arm_tilt : float
        r.m.s. fractional flux step and red-arm tilt at the join.
    calib_error, calib_order : float, int
        r.m.s. of a smooth multiplicative flux-calibration error (Legendre polynomial in λ).
    telluric, telluric_residual : float
        Telluric bands (O2 A, B, γ; H2O) at strength ``telluric + N(0, telluric_residual)`` per
        spectrum, 1 being uncorrected absorption at airmass ~1.2. LAMOST and SDSS correct
        them: the real fixtures show residual depths of only ±0.03 in the A and B bands,
        hence mean 0 and an r.m.s. residual of 0.04 (negative = over-corrected).
    blue_pedestal : float
        Max additive blue pedestal as a fraction of the S/N-band median flux (scattered light,
        which makes Ca II H&K shallower than in templates); drawn uniformly in [0, value].
    pedestal_scale : float
        e-folding length (Å) of the pedestal redward of the grid start.
    cosmic_rate : float
        Mean number of unflagged cosmic-ray residuals per spectrum.
    rv_sigma, rv_tail_fraction, rv_tail_sigma, rv_max : float
        Radial velocity (km/s): normal(0, rv_sigma) with a ``rv_tail_fraction`` of
        normal(0, rv_tail_sigma), clipped to ±rv_max.
    ebv_scale, ebv_max : float
        E(B−V) ~ exponential(ebv_scale) clipped to ebv_max (mag), applied with the
        ``extinction_law`` (a ``dust_extinction`` model name) at ``rv_dust``.
    mask : MaskModel
        Bad-pixel patterns.
    """

    name: str
    grid: Grid
    R: float
    survey: str = "LAMOST"
    data_release: str = "LAMOST DR9"
    default_layout: str = "lamost-dr9"
    snr_band: tuple | None = (4100.0, 5300.0)
    snr_scale: float = 1.0
    throughput: tuple = _LAMOST_LRS_THROUGHPUT
    background: float = 15.0
    sky_lines: tuple = SKY_LAMOST_LRS
    sky_level: float = 1.0
    sky_scatter: float = 0.6
    sky_residual: float = 1.0
    arm_join: tuple | None = (5700.0, 5900.0)
    arm_step: float = 0.02
    arm_tilt: float = 0.02
    calib_error: float = 0.05
    calib_order: int = 3
    telluric: float = 0.0
    telluric_residual: float = 0.04
    blue_pedestal: float = 0.02
    pedestal_scale: float = 400.0
    cosmic_rate: float = 0.3
    rv_sigma: float = 30.0
    rv_tail_fraction: float = 0.1
    rv_tail_sigma: float = 150.0
    rv_max: float = 600.0
    ebv_scale: float = 0.04
    ebv_max: float = 1.0
    extinction_law: str = "F99"
    rv_dust: float = 3.1
    mask: MaskModel = MaskModel()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"SurveyProfile.name must be a non-empty string. Received: name={self.name!r}")
        if not isinstance(self.grid, Grid):
            raise ValueError(f"SurveyProfile.grid must be a specnet.preprocess.Grid. Received: grid={self.grid!r}")
        if not (math.isfinite(self.R) and self.R > 0):
            raise ValueError(f"SurveyProfile.R must be > 0. Received: R={self.R!r}")
        object.__setattr__(self, "R", float(self.R))
        if self.snr_band is not None:
            lo, hi = (float(v) for v in self.snr_band)
            w0, w1 = self.grid.wave_range
            if not (lo < hi and hi > w0 and lo < w1):
                raise ValueError(f"SurveyProfile.snr_band must be (lo, hi) overlapping the grid "
                                 f"{w0:.0f}-{w1:.0f} Å. Received: snr_band={self.snr_band!r}")
            object.__setattr__(self, "snr_band", (lo, hi))
        if self.arm_join is not None:
            object.__setattr__(self, "arm_join", tuple(float(v) for v in self.arm_join))
        knots = np.asarray(self.throughput, dtype=float)
        if knots.ndim != 2 or knots.shape[1] != 2 or knots.shape[0] < 2 or np.any(knots[:, 1] <= 0) \
                or np.any(np.diff(knots[:, 0]) <= 0):
            raise ValueError("SurveyProfile.throughput must be >= 2 (wavelength, value > 0) pairs with increasing "
                             f"wavelength. Received: throughput={self.throughput!r}")
        for name in ("background", "sky_level", "sky_scatter", "sky_residual", "arm_step", "arm_tilt", "calib_error",
                     "telluric", "telluric_residual", "blue_pedestal", "cosmic_rate", "rv_sigma", "rv_tail_sigma", "ebv_scale",
                     "ebv_max", "snr_scale", "pedestal_scale", "rv_max"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"SurveyProfile.{name} must be finite and >= 0. Received: {name}={v!r}")
        if not 0 <= self.rv_tail_fraction <= 1:
            raise ValueError(f"SurveyProfile.rv_tail_fraction must be in [0, 1]. "
                             f"Received: rv_tail_fraction={self.rv_tail_fraction!r}")
        if int(self.calib_order) != self.calib_order or self.calib_order < 0:
            raise ValueError(f"SurveyProfile.calib_order must be an int >= 0. Received: calib_order={self.calib_order!r}")

    # ------------------------------------------------------------- derived arrays
    @property
    def wave(self) -> np.ndarray:
        """Output pixel centres (vacuum Å), shape ``(grid.npix,)``."""
        return self.grid.wave

    @property
    def wave_range(self) -> tuple[float, float]:
        """First and last output pixel centre (vacuum Å), e.g. 3700–9100 Å for LAMOST."""
        return self.grid.wave_range

    def snr_pixels(self) -> np.ndarray:
        """Boolean mask of the pixels the S/N definition uses, shape ``(grid.npix,)``."""
        return _snr_pixels(self.grid, self.snr_band)

    def throughput_curve(self) -> np.ndarray:
        """Throughput on the grid (log-interpolated knots, 1 ≈ S/N band), shape ``(grid.npix,)``."""
        return _throughput(self.grid, self.throughput)

    def sky_profile(self) -> np.ndarray:
        """Sky-line counts per pixel × ``sky_level`` (Gaussians at resolution ``R``), shape ``(npix,)``."""
        return _sky_profile(self.grid, self.R, self.sky_lines) * self.sky_level

    def telluric_tau(self) -> np.ndarray:
        """Telluric optical depth at strength 1 on the grid, convolved to ``R``, shape ``(npix,)``."""
        return _telluric_tau(self.grid, self.R)

    @property
    def sigma_pixels(self) -> float:
        """Gaussian σ of the line-spread function in grid pixels."""
        return 1.0 / self.R / (2.0 * math.sqrt(2.0 * math.log(2.0))) / math.log(10.0) / self.grid.log_step


@functools.lru_cache(maxsize=16)
def _snr_pixels(grid: Grid, band) -> np.ndarray:
    w = grid.wave
    sel = np.ones(w.size, bool) if band is None else (w >= band[0]) & (w <= band[1])
    sel.setflags(write=False)
    return sel


@functools.lru_cache(maxsize=16)
def _throughput(grid: Grid, knots) -> np.ndarray:
    k = np.asarray(knots, dtype=float)
    out = np.exp(np.interp(np.log(grid.wave), np.log(k[:, 0]), np.log(k[:, 1])))
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=16)
def _sky_profile(grid: Grid, R: float, sky_lines) -> np.ndarray:
    w = grid.wave
    if not sky_lines:
        return np.zeros(w.size)
    lines = np.asarray(sky_lines, dtype=float)
    sig = lines[:, 0] / R / 2.3548
    near = np.abs(w[None, :] - lines[:, :1]) < 6 * sig[:, None]
    prof = np.where(near, lines[:, 1:2] * np.exp(-0.5 * ((w[None, :] - lines[:, :1]) / sig[:, None]) ** 2), 0.0)
    out = prof.sum(axis=0)
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=16)
def _telluric_tau(grid: Grid, R: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    w = grid.wave
    tau = np.zeros(w.size)
    for edge, cut, depth, scale in _O2_BANDS:
        sel = (w >= edge) & (w <= cut)
        tau[sel] += depth * np.exp(-(w[sel] - edge) / scale)
    for centre, sigma, depth in _H2O_BANDS:
        tau += depth * np.exp(-0.5 * ((w - centre) / sigma) ** 2)
    sig_pix = 1.0 / R / 2.3548 / math.log(10.0) / grid.log_step
    out = gaussian_filter1d(tau, sig_pix, mode="nearest")
    out.setflags(write=False)
    return out


# ------------------------------------------------------------------ registry
_PROFILES: dict[str, SurveyProfile] = {}


def register_profile(profile: SurveyProfile, overwrite: bool = True) -> SurveyProfile:
    """Add ``profile`` to the registry under ``profile.name`` and return it.

    >>> import dataclasses
    >>> p = register_profile(dataclasses.replace(get_profile("sdss"), name="sdss-test"))
    >>> get_profile("sdss-test").R
    2000.0
    """
    if not isinstance(profile, SurveyProfile):
        raise ValueError(f"register_profile needs a SurveyProfile. Received: profile={profile!r}")
    if not overwrite and profile.name in _PROFILES:
        raise ValueError(f"A profile named {profile.name!r} is already registered. Received: overwrite=False")
    _PROFILES[profile.name] = profile
    return profile


def get_profile(name: "str | SurveyProfile") -> SurveyProfile:
    """The registered profile called ``name`` (a :class:`SurveyProfile` is returned as is).

    >>> get_profile("lamost-dr1").mask.always
    ((7581.0, 7679.0),)
    """
    if isinstance(name, SurveyProfile):
        return name
    try:
        return _PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown survey profile. Known: {', '.join(profile_names())}. Received: profile={name!r}") from None


def profile_names() -> list[str]:
    """Names of the registered profiles, sorted."""
    return sorted(_PROFILES)


register_profile(SurveyProfile(name="lamost-lrs", grid=LAMOST_GRID, R=1800.0, survey="LAMOST",
                               data_release="LAMOST DR9", default_layout="lamost-dr9",
                               throughput=_LAMOST_LRS_THROUGHPUT, mask=LAMOST_LRS_MASK))
register_profile(SurveyProfile(name="lamost-dr1", grid=LAMOST_GRID, R=1800.0, survey="LAMOST",
                               data_release="LAMOST DR1", default_layout="lamost-dr2",
                               throughput=_LAMOST_DR1_THROUGHPUT, sky_lines=SKY_LAMOST_DR1,
                               background=30.0, calib_error=0.08, ebv_scale=0.05,
                               arm_step=0.03, blue_pedestal=0.06, cosmic_rate=0.5, mask=LAMOST_DR1_MASK))
register_profile(SurveyProfile(name="sdss", grid=SDSS_GRID, R=2000.0, survey="SDSS", data_release="26",
                               default_layout="sdss-spec", snr_band=None, throughput=_SDSS_THROUGHPUT,
                               background=4.0, sky_lines=SKY_SDSS, arm_join=(5900.0, 6100.0), arm_step=0.01,
                               arm_tilt=0.01, calib_error=0.04, blue_pedestal=0.0,
                               cosmic_rate=0.2, ebv_scale=0.03, mask=SDSS_MASK))
