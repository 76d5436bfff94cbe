"""Log-λ model grids: :class:`Grid` and the surveys' grids (:data:`GRIDS`)."""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from specnet.spectrum import MEDIA

__all__ = ["Grid", "LAMOST_GRID", "SDSS_GRID", "GRIDS"]

# Keys Grid.to_dict writes for people to read; from_dict ignores them.
_INFO_KEYS = ("wave_min", "wave_max")


@functools.lru_cache(maxsize=32)
def _grid_arrays(log_start: float, log_step: float, npix: int) -> tuple[np.ndarray, np.ndarray]:
    """Read-only (centres, edges) in Å for a log-λ grid."""
    centres = 10.0 ** (log_start + log_step * np.arange(npix))
    edges = 10.0 ** (log_start + log_step * (np.arange(npix + 1) - 0.5))
    centres.setflags(write=False)
    edges.setflags(write=False)
    return centres, edges


@dataclasses.dataclass(frozen=True)
class Grid:
    """A log-λ wavelength grid: pixel ``i`` is centred on ``10**(log_start + i*log_step)`` Å.

    Attributes
    ----------
    log_start : float
        log10 of the first pixel centre wavelength in Å.
    log_step : float
        log10 step; 1e-4 is the LAMOST/SDSS pixel (69 km/s).
    npix : int
        Number of pixels.
    medium : {"vacuum", "air"}
        Medium of the grid wavelengths (LAMOST and SDSS are vacuum).

    Example
    -------
    >>> g = Grid.from_range(3700, 9100)
    >>> g.npix, round(float(g.wave[0]), 2), round(float(g.wave[-1]), 1)
    (3909, 3699.99, 9099.1)
    """

    log_start: float
    log_step: float
    npix: int
    medium: str = "vacuum"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.log_start) and 2.0 <= self.log_start <= 6.0):
            raise ValueError(f"Grid.log_start must be log10 of a wavelength in Å (2-6). "
                             f"Received: log_start={self.log_start!r}")
        if not (math.isfinite(self.log_step) and 0 < self.log_step < 0.1):
            raise ValueError(f"Grid.log_step must be in (0, 0.1). Received: log_step={self.log_step!r}")
        if isinstance(self.npix, bool) or int(self.npix) != self.npix or self.npix < 2:
            raise ValueError(f"Grid.npix must be an int >= 2. Received: npix={self.npix!r}")
        if self.medium not in MEDIA:
            raise ValueError(f"Grid.medium must be one of {MEDIA}. Received: medium={self.medium!r}")
        object.__setattr__(self, "log_start", float(self.log_start))
        object.__setattr__(self, "log_step", float(self.log_step))
        object.__setattr__(self, "npix", int(self.npix))

    @classmethod
    def from_range(cls, wmin: float, wmax: float, log_step: float = 1e-4, medium: str = "vacuum") -> "Grid":
        """The grid covering ``[wmin, wmax]`` Å.

        The first centre is ``log10(wmin)`` snapped to the nearest multiple of ``log_step``
        (so that LAMOST's ``COEFF0=3.5682`` and SDSS's ``loglam`` pixels fall exactly on
        the grid); the last centre is the last one ``<= wmax`` (to 1e-9 of a pixel).

        >>> Grid.from_range(3800, 9200).npix
        3840
        """
        if not (math.isfinite(wmin) and math.isfinite(wmax) and 0 < wmin < wmax):
            raise ValueError(f"Grid.from_range needs 0 < wmin < wmax. Received: wmin={wmin!r}, wmax={wmax!r}")
        if not (math.isfinite(log_step) and log_step > 0):
            raise ValueError(f"Grid.from_range needs log_step > 0. Received: log_step={log_step!r}")
        log_start = round(round(math.log10(wmin) / log_step) * log_step, 10)
        npix = int(math.floor((math.log10(wmax) - log_start) / log_step + 1e-9)) + 1
        return cls(log_start, log_step, npix, medium)

    @property
    def wave(self) -> np.ndarray:
        """Pixel-centre wavelengths in Å, float64, shape ``(npix,)`` (read-only)."""
        return _grid_arrays(self.log_start, self.log_step, self.npix)[0]

    @property
    def edges(self) -> np.ndarray:
        """Pixel-edge wavelengths in Å (half a step either side), shape ``(npix + 1,)`` (read-only)."""
        return _grid_arrays(self.log_start, self.log_step, self.npix)[1]

    @property
    def wave_range(self) -> tuple[float, float]:
        """First and last pixel centre in Å."""
        return float(self.wave[0]), float(self.wave[-1])

    def to_dict(self) -> dict:
        """A JSON-safe dict; ``wave_min``/``wave_max`` (Å) are for readers and ignored by :meth:`from_dict`.

        >>> Grid.from_dict(LAMOST_GRID.to_dict()) == LAMOST_GRID
        True
        """
        lo, hi = self.wave_range
        return {"log_start": self.log_start, "log_step": self.log_step, "npix": self.npix,
                "medium": self.medium, "wave_min": round(lo, 3), "wave_max": round(hi, 3)}

    @classmethod
    def from_dict(cls, d: dict) -> "Grid":
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on missing or unknown keys."""
        if not isinstance(d, dict):
            raise ValueError(f"Grid.from_dict needs a dict. Received: d={d!r}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields - set(_INFO_KEYS)
        missing = {"log_start", "log_step", "npix"} - set(d)
        if unknown or missing:
            raise ValueError(f"Grid.from_dict: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}. "
                             f"Received: d={d!r}")
        return cls(**{k: v for k, v in d.items() if k in fields})


#: The ``lamost-lrs`` model grid: LAMOST's own pixels, 3700-9100 Å vacuum, 3909 px.
LAMOST_GRID = Grid.from_range(3700, 9100)
#: The ``sdss`` model grid: SDSS's own pixels, 3800-9200 Å vacuum, 3840 px.
SDSS_GRID = Grid.from_range(3800, 9200)
#: Grids by name, as manifests refer to them.
GRIDS = {"lamost-lrs": LAMOST_GRID, "sdss": SDSS_GRID}
