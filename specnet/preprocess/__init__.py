"""Preprocessing: spectra → float32 model inputs on a log-λ :class:`Grid` (numpy/scipy only).

The pieces, in the order :func:`preprocess` applies them:

* :func:`to_rest_frame` -- ``wave / (1 + z)``;
* :func:`resample` -- flux-conserving rebinning onto a :class:`Grid` (air↔vacuum converted,
  ivar propagated, pixels outside coverage or mostly bad masked);
* :func:`normalise` -- ``"continuum"`` (:func:`pseudo_continuum`), ``"minmax"``, ``"median"``,
  ``"total"``, ``"none"``;
* :func:`fill_masked` -- interpolate or a constant; then clipping and the mask channel.

:class:`PreprocessConfig` is the data config stored in every zoo manifest; :func:`coverage`
is the good-pixel fraction the zoo uses to flag poor coverage.

>>> from specnet.preprocess import GRIDS, PreprocessConfig
>>> PreprocessConfig(grid=GRIDS["sdss"]).input_shape
(3840, 2)
"""
from specnet.preprocess.grid import GRIDS, LAMOST_GRID, SDSS_GRID, Grid
from specnet.preprocess.normalise import NORMALISATIONS, fill_masked, normalise, pseudo_continuum
from specnet.preprocess.pipeline import PreprocessConfig, coverage, preprocess
from specnet.preprocess.resample import MIN_GOOD_FRACTION, pixel_edges, resample, to_rest_frame

__all__ = [
    "Grid", "LAMOST_GRID", "SDSS_GRID", "GRIDS",
    "to_rest_frame", "resample", "pixel_edges", "MIN_GOOD_FRACTION",
    "pseudo_continuum", "normalise", "fill_masked", "NORMALISATIONS",
    "PreprocessConfig", "preprocess", "coverage",
]
