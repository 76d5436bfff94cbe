"""The data config that travels in every manifest (:class:`PreprocessConfig`) and :func:`preprocess`."""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from specnet.preprocess.grid import LAMOST_GRID, Grid
from specnet.preprocess.normalise import NORMALISATIONS, fill_masked, normalise
from specnet.preprocess.resample import _meta_z, resample, to_rest_frame
from specnet.spectrum import Spectrum

__all__ = ["PreprocessConfig", "preprocess", "coverage"]


@dataclasses.dataclass(frozen=True)
class PreprocessConfig:
    """How spectra become model inputs; stored in every zoo manifest, so that prediction
    derives its preprocessing from the model instead of the caller re-typing it.

    Attributes
    ----------
    grid : Grid
        The model's wavelength grid (default :data:`~specnet.preprocess.LAMOST_GRID`).
    normalisation : str
        One of :data:`~specnet.preprocess.NORMALISATIONS` (see :func:`~specnet.preprocess.normalise`).
    rest_frame : bool
        Shift by ``meta['z']`` before resampling (spectra without a redshift are left as they are).
    mask_channel : bool
        Append the bad-pixel mask (1.0 = bad) as a second input channel.
    fill : "interp" or float
        How masked pixels are filled after normalisation (:func:`~specnet.preprocess.fill_masked`).
    clip : float or None
        Clip normalised flux to ``[-clip, clip]`` so cosmic rays cannot explode activations.

    Example
    -------
    >>> cfg = PreprocessConfig()
    >>> cfg.input_shape, PreprocessConfig.from_dict(cfg.to_dict()) == cfg
    ((3909, 2), True)
    """

    grid: Grid = LAMOST_GRID
    normalisation: str = "continuum"
    rest_frame: bool = True
    mask_channel: bool = True
    fill: str | float = "interp"
    clip: float | None = 5.0

    def __post_init__(self) -> None:
        if not isinstance(self.grid, Grid):
            raise ValueError(f"PreprocessConfig.grid must be a Grid. Received: grid={self.grid!r}")
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"PreprocessConfig.normalisation must be one of {NORMALISATIONS}. "
                             f"Received: normalisation={self.normalisation!r}")
        if self.fill != "interp":
            if isinstance(self.fill, bool) or not isinstance(self.fill, (int, float)) or not math.isfinite(self.fill):
                raise ValueError(f"PreprocessConfig.fill must be 'interp' or a finite number. Received: fill={self.fill!r}")
            object.__setattr__(self, "fill", float(self.fill))
        if self.clip is not None:
            if isinstance(self.clip, bool) or not isinstance(self.clip, (int, float)) or not self.clip > 0:
                raise ValueError(f"PreprocessConfig.clip must be None or > 0. Received: clip={self.clip!r}")
            object.__setattr__(self, "clip", float(self.clip))
        for name in ("rest_frame", "mask_channel"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"PreprocessConfig.{name} must be a bool. Received: {name}={getattr(self, name)!r}")

    @property
    def n_channels(self) -> int:
        """1 (flux) or 2 (flux, mask)."""
        return 2 if self.mask_channel else 1

    @property
    def input_shape(self) -> tuple[int, int]:
        """The model input shape ``(npix, n_channels)``."""
        return (self.grid.npix, self.n_channels)

    def to_dict(self) -> dict:
        """A JSON-safe dict (the grid nested as :meth:`Grid.to_dict`)."""
        d = dataclasses.asdict(self)
        d["grid"] = self.grid.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "PreprocessConfig":
        """Inverse of :meth:`to_dict`; missing keys take their defaults, unknown keys raise ``ValueError``."""
        if not isinstance(d, dict):
            raise ValueError(f"PreprocessConfig.from_dict needs a dict. Received: d={d!r}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"PreprocessConfig.from_dict: unknown keys {sorted(unknown)}. Received: d={d!r}")
        kwargs = dict(d)
        if "grid" in kwargs and not isinstance(kwargs["grid"], Grid):
            kwargs["grid"] = Grid.from_dict(kwargs["grid"])
        return cls(**kwargs)


def preprocess(spectra: Spectrum | Sequence[Spectrum], config: PreprocessConfig) -> tuple[np.ndarray, np.ndarray]:
    """Spectra → model inputs, identically for training-set building and prediction.

    Per spectrum: rest frame (when ``config.rest_frame`` and ``meta['z']`` is a number),
    :func:`resample` onto ``config.grid`` (air→vacuum as needed); then for the batch:
    :func:`normalise`, :func:`fill_masked`, clip, and the mask channel.

    Returns ``X`` float32 of shape ``(N, npix, n_channels)`` (channel 0 the normalised flux,
    channel 1 the mask as 1.0 = bad when ``mask_channel``) and ``mask`` bool ``(N, npix)``.
    Raises ``ValueError`` for an impossible redshift (``z <= -1``).

    >>> w = LAMOST_GRID.wave; s = Spectrum(w, 1 + 0 * w, meta={"z": 0.0})
    >>> X, m = preprocess(s, PreprocessConfig())
    >>> X.shape, X.dtype.name, bool(np.allclose(X[0, :, 0], 1, atol=1e-3)), int(m.sum())
    ((1, 3909, 2), 'float32', True, 0)
    """
    if not isinstance(config, PreprocessConfig):
        raise ValueError(f"preprocess needs a PreprocessConfig. Received: config={config!r}")
    if isinstance(spectra, Spectrum):
        spectra = [spectra]
    grid = config.grid
    n = len(spectra)
    flux = np.zeros((n, grid.npix), np.float32)
    mask = np.ones((n, grid.npix), bool)
    for i, spec in enumerate(spectra):
        if not isinstance(spec, Spectrum):
            raise ValueError(f"preprocess needs Spectrum objects. Received: spectra[{i}]={spec!r}")
        if config.rest_frame and _meta_z(spec) is not None:
            spec = to_rest_frame(spec)
        flux[i], _, mask[i] = resample(spec, grid)
    x = normalise(flux, mask, config.normalisation, wave=grid.wave)
    x = fill_masked(x, mask, config.fill)
    if config.clip is not None:
        np.clip(x, -config.clip, config.clip, out=x)
    if config.mask_channel:
        X = np.stack([x, mask.astype(np.float32)], axis=-1)
    else:
        X = x[..., None]
    return X, mask


def coverage(mask) -> float | np.ndarray:
    """Fraction of good (unmasked) grid pixels: a float for ``(npix,)``, an array ``(N,)`` for ``(N, npix)``.

    >>> coverage(np.array([True, False, False, False]))
    0.75
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 0 or mask.shape[-1] == 0:
        raise ValueError(f"coverage needs a mask of shape (npix,) or (N, npix). Received: mask.shape={mask.shape}")
    good = 1.0 - mask.mean(axis=-1)
    return float(good) if mask.ndim == 1 else good
