"""The :class:`Spectrum` container every reader returns and every model consumes."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

#: Keys every reader fills in ``Spectrum.meta`` (``None`` where unknown).
META_KEYS = ("survey", "obj_class", "subclass", "z", "snr", "id", "format", "path")

MEDIA = ("vacuum", "air")


@dataclasses.dataclass
class Spectrum:
    """A 1-D spectrum on its own wavelength grid.

    Attributes
    ----------
    wave : ndarray, shape (npix,)
        Wavelength in Å, strictly increasing, in the medium named by ``medium``.
    flux : ndarray, shape (npix,)
        Flux density (any consistent unit; LAMOST/SDSS use 1e-17 erg/s/cm²/Å).
        Masked pixels hold finite values (0 where the file had NaN/inf).
    ivar : ndarray, shape (npix,)
        Inverse variance of ``flux``; 0 at masked pixels.
    mask : ndarray of bool, shape (npix,)
        ``True`` = bad pixel. NaN/inf flux, ivar <= 0 or NaN are always masked.
    meta : dict
        At least the keys of :data:`META_KEYS`: ``survey``, ``obj_class``
        (``STAR``, ``GALAXY``, ``QSO``, ...), ``subclass`` (e.g. ``"K3"``),
        ``z``, ``snr``, ``id``, ``format`` (the reader's name), ``path``.
    medium : {"vacuum", "air"}
        Whether ``wave`` is in vacuum (LAMOST, SDSS) or air (MILES, Pickles).

    Example
    -------
    >>> import numpy as np
    >>> s = Spectrum(np.linspace(4000, 5000, 5), np.array([1, np.nan, 1, 1, 1.]))
    >>> s.mask.tolist(), float(s.flux[1]), float(s.ivar[1])
    ([False, True, False, False, False], 0.0, 0.0)
    """

    wave: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray | None = None
    mask: np.ndarray | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    medium: str = "vacuum"

    def __post_init__(self) -> None:
        self.wave = np.asarray(self.wave, dtype=np.float64).ravel()
        self.flux = np.asarray(self.flux, dtype=np.float64).ravel()
        n = self.wave.size
        if self.flux.size != n:
            raise ValueError(
                f"Spectrum wave and flux must have the same length. "
                f"Received: wave.size={n}, flux.size={self.flux.size}"
            )
        ivar = np.ones(n) if self.ivar is None else np.asarray(self.ivar, dtype=np.float64).ravel()
        mask = np.zeros(n, bool) if self.mask is None else np.asarray(self.mask).astype(bool).ravel()
        if ivar.size != n or mask.size != n:
            raise ValueError(
                f"Spectrum ivar and mask must match wave. Received: wave.size={n}, "
                f"ivar.size={ivar.size}, mask.size={mask.size}"
            )
        if self.medium not in MEDIA:
            raise ValueError(f"medium must be one of {MEDIA}. Received: medium={self.medium!r}")
        bad = mask | ~np.isfinite(self.flux) | ~np.isfinite(ivar) | (ivar <= 0) | ~np.isfinite(self.wave)
        self.flux = np.where(np.isfinite(self.flux), self.flux, 0.0)
        self.ivar = np.where(bad, 0.0, ivar)
        self.mask = bad
        for key in META_KEYS:
            self.meta.setdefault(key, None)

    # ------------------------------------------------------------------ views
    @property
    def npix(self) -> int:
        """Number of pixels."""
        return int(self.wave.size)

    @property
    def good(self) -> np.ndarray:
        """Boolean array, ``True`` where the pixel is usable (``~mask``)."""
        return ~self.mask

    @property
    def good_fraction(self) -> float:
        """Fraction of unmasked pixels (0–1)."""
        return float(self.good.mean()) if self.npix else 0.0

    @property
    def is_star(self) -> bool | None:
        """``True``/``False`` from the survey class, ``None`` if the file gave none."""
        cls = self.meta.get("obj_class")
        if cls in (None, ""):
            return None
        return str(cls).strip().upper() == "STAR"

    def median_snr(self) -> float:
        """Median per-pixel S/N, ``flux*sqrt(ivar)`` over good pixels (0 if none)."""
        good = self.good
        if not good.any():
            return 0.0
        return float(np.median(self.flux[good] * np.sqrt(self.ivar[good])))

    # ----------------------------------------------------------- conversions
    def copy(self) -> "Spectrum":
        """A deep copy."""
        return Spectrum(self.wave.copy(), self.flux.copy(), self.ivar.copy(), self.mask.copy(),
                        dict(self.meta), self.medium)

    def to_vacuum(self) -> "Spectrum":
        """This spectrum with ``wave`` in vacuum (a copy; itself if already vacuum)."""
        if self.medium == "vacuum":
            return self
        out = self.copy()
        out.wave = air_to_vacuum(self.wave)
        out.medium = "vacuum"
        return out

    def to_air(self) -> "Spectrum":
        """This spectrum with ``wave`` in air (a copy; itself if already air)."""
        if self.medium == "air":
            return self
        out = self.copy()
        out.wave = vacuum_to_air(self.wave)
        out.medium = "air"
        return out

    def __repr__(self) -> str:
        m = self.meta
        rng = f"{self.wave[0]:.1f}-{self.wave[-1]:.1f} Å" if self.npix else "empty"
        return (f"Spectrum(id={m.get('id')!r}, class={m.get('obj_class')!r}, "
                f"subclass={m.get('subclass')!r}, {self.npix} px {rng} {self.medium}, "
                f"masked={1 - self.good_fraction:.1%}, format={m.get('format')!r})")


def _refractive_index(vac_wave: np.ndarray) -> np.ndarray:
    """Refractive index of standard air (Morton 2000 / IAU), vacuum wavelength in Å."""
    s2 = (1e4 / vac_wave) ** 2
    return 1 + 0.0000834254 + 0.02406147 / (130 - s2) + 0.00015998 / (38.9 - s2)


def vacuum_to_air(wave: np.ndarray) -> np.ndarray:
    """Vacuum → air wavelength in Å (Morton 2000), vectorised.

    >>> round(float(vacuum_to_air(np.array([6564.61]))[0]), 2)
    6562.8
    """
    wave = np.asarray(wave, dtype=np.float64)
    return wave / _refractive_index(wave)


def air_to_vacuum(wave: np.ndarray) -> np.ndarray:
    """Air → vacuum wavelength in Å (inverse of :func:`vacuum_to_air`, 3 fixed-point steps).

    >>> round(float(air_to_vacuum(np.array([6562.8]))[0]), 2)
    6564.61
    """
    air = np.asarray(wave, dtype=np.float64)
    vac = air.copy()
    for _ in range(3):
        vac = air * _refractive_index(vac)
    return vac
