"""Training-time augmentation of preprocessed spectra, as pure TensorFlow ops.

Everything works on whole batches inside the ``tf.data`` pipeline (no Python
per spectrum, no ``py_function``), with stateless random ops seeded from
``(AugmentConfig.seed, dataset seed, batch index)``, so a deterministic
pipeline gives the same augmented batches every time it is built.

The inputs are the preprocessed flux channels ``flux`` float32 ``(B, npix, C)``
on a log-λ grid (step ``log_step`` in log10 Å) and the bad-pixel mask ``mask``
bool ``(B, npix)`` (True = bad). Steps, in order:

1. **RV shift** (``rv_shift_kms``): v ~ U(−rv, rv) km/s; the spectrum moves by
   ``log10(1 + v/c) / log_step`` pixels (sub-pixel, by linear interpolation).
   A shifted pixel is bad if either input pixel it draws from was bad, or if it
   draws from outside the grid.
2. **Flux-calibration tilt** (``tilt``): multiply by ``1 + a·t + b·P2(t)``,
   ``t`` ∈ [−1, 1] across the grid, ``a, b`` ~ U(−tilt, tilt).
3. **Extra noise** (``noise_snr=(lo, hi)``): S/N drawn log-uniform in
   [lo, hi]; Gaussian noise of σ = mean(|flux| over good pixels) / S/N on good pixels.
4. **Masked blue-end run** (``mask_runs`` = probability): the first
   ``L ~ U{1 … mask_run_max·npix}`` pixels become bad and their flux is set the
   way preprocessing fills bad pixels (``fill`` a number → that number;
   ``"interp"`` → the edge value held, i.e. the flux of pixel ``L``).

Masked pixels keep their fill values through steps 2–3 when ``fill`` is a
constant, so "bad pixel" always means "fill value" in the output; then the
flux is clipped to ``[-clip, clip]`` if the preprocessing clipped. The model's
mask channel is built *after* augmentation from the updated mask (see
:func:`specnet.data.shards.assemble_x`), so it always agrees with the flux.

Example
-------
>>> import numpy as np
>>> from specnet.data.augment import AugmentConfig, augment_batch
>>> flux = np.ones((2, 100, 1), np.float32); mask = np.zeros((2, 100), bool)
>>> f, m = augment_batch(flux, mask, AugmentConfig(mask_runs=1.0), seed=[0, 0])
>>> f.shape, m.shape, bool(m.numpy()[:, 0].all())
(TensorShape([2, 100, 1]), TensorShape([2, 100]), True)
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import tensorflow as tf

C_KMS = 299792.458


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations to apply and how strongly (see the module docstring).

    Attributes
    ----------
    noise_snr : (float, float) or None
        S/N range of the extra noise (log-uniform), or None for no extra noise.
    rv_shift_kms : float
        Maximum |v| of the random RV shift in km/s (0 = off).
    tilt : float
        Maximum linear/quadratic flux-calibration tilt amplitude (0 = off).
    mask_runs : float
        Probability of masking a random blue-end run (0 = off).
    mask_run_max : float
        Longest blue-end run as a fraction of the grid (0.15 ≈ 3700–4300 Å on LAMOST's grid).
    seed : int
        Base seed; combined with the dataset seed and batch index.

    >>> AugmentConfig(noise_snr=None, rv_shift_kms=0, tilt=0, mask_runs=0).is_identity
    True
    """

    noise_snr: tuple[float, float] | None = (10.0, 100.0)
    rv_shift_kms: float = 20.0
    tilt: float = 0.05
    mask_runs: float = 0.3
    mask_run_max: float = 0.15
    seed: int = 0

    def __post_init__(self) -> None:
        if self.noise_snr is not None:
            try:
                lo, hi = (float(v) for v in self.noise_snr)
            except (TypeError, ValueError):
                raise ValueError(f"noise_snr must be (lo, hi) or None. Received: noise_snr={self.noise_snr!r}") from None
            if not (0 < lo <= hi and math.isfinite(hi)):
                raise ValueError(f"noise_snr must satisfy 0 < lo <= hi. Received: noise_snr={self.noise_snr!r}")
            object.__setattr__(self, "noise_snr", (lo, hi))
        for name in ("rv_shift_kms", "tilt"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0. Received: {name}={v!r}")
        if not (isinstance(self.mask_runs, (int, float)) and 0 <= self.mask_runs <= 1):
            raise ValueError(f"mask_runs is a probability in [0, 1]. Received: mask_runs={self.mask_runs!r}")
        if not (isinstance(self.mask_run_max, (int, float)) and 0 < self.mask_run_max <= 1):
            raise ValueError(f"mask_run_max must be in (0, 1]. Received: mask_run_max={self.mask_run_max!r}")
        if not isinstance(self.seed, int):
            raise ValueError(f"seed must be an int. Received: seed={self.seed!r}")

    @property
    def is_identity(self) -> bool:
        """True when no augmentation is switched on."""
        return self.noise_snr is None and self.rv_shift_kms == 0 and self.tilt == 0 and self.mask_runs == 0

    def to_dict(self) -> dict:
        """JSON-safe dict (``from_dict`` inverts it)."""
        d = dataclasses.asdict(self)
        d["noise_snr"] = list(self.noise_snr) if self.noise_snr is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AugmentConfig":
        d = dict(d)
        if d.get("noise_snr") is not None:
            d["noise_snr"] = tuple(d["noise_snr"])
        return cls(**d)


def rv_shift(flux, mask, v_kms, log_step: float):
    """Shift spectra on a log-λ grid by velocities ``v_kms`` (B,) (linear interpolation).

    A positive velocity moves features to longer wavelength (higher pixel index).
    Output pixels that draw on a bad input pixel, or on no input pixel (off the
    grid edge, where the edge value is held), are bad.

    Parameters
    ----------
    flux : float32 (B, npix, C); mask : bool (B, npix); v_kms : float (B,); log_step : float (log10 Å)

    >>> import numpy as np
    >>> f = np.zeros((1, 9, 1), np.float32); f[0, 4] = 1
    >>> s, m = rv_shift(f, np.zeros((1, 9), bool), [0.5 * 1e-4 * np.log(10) * C_KMS], 1e-4)
    >>> np.round(s.numpy()[0, 3:7, 0], 2).tolist(), bool(m.numpy()[0, 0])
    ([0.0, 0.5, 0.5, 0.0], True)
    """
    flux = tf.convert_to_tensor(flux, tf.float32)
    mask = tf.convert_to_tensor(mask, tf.bool)
    v = tf.cast(tf.convert_to_tensor(v_kms), tf.float32)
    npix = tf.shape(flux)[1]
    shift = tf.math.log(1.0 + v / C_KMS) / (math.log(10.0) * log_step)          # (B,) pixels
    # source positions of output pixels 0..npix: one extra, so that the right-hand
    # neighbours are the same gather shifted by one pixel (one gather per tensor)
    pos = tf.cast(tf.range(npix + 1), tf.float32)[None, :] - shift[:, None]    # (B, npix+1)
    i0 = tf.floor(pos)
    last = tf.cast(npix - 1, tf.float32)
    idx = tf.cast(tf.clip_by_value(i0, 0.0, last), tf.int32)
    gf = tf.gather(flux, idx, axis=1, batch_dims=1)                            # (B, npix+1, C)
    gm = tf.gather(mask, idx, axis=1, batch_dims=1)                            # (B, npix+1)
    pos, i0 = pos[:, :-1], i0[:, :-1]
    w = pos - i0
    outside = (pos < 0.0) | (pos > last)
    out = gf[:, :-1] * (1.0 - w)[..., None] + gf[:, 1:] * w[..., None]
    new_mask = outside | gm[:, :-1] | (gm[:, 1:] & (w > 0.0))
    return out, new_mask


def _seeds(seed, n: int):
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    return tf.random.experimental.stateless_split(seed, num=n)


def augment_batch(flux, mask, config: AugmentConfig, seed, log_step: float = 1e-4,
                  fill: Any = "interp", clip: float | None = None):
    """Apply ``config`` to a batch; returns ``(flux float32 (B, npix, C), mask bool (B, npix))``.

    Parameters
    ----------
    flux : float32 (B, npix, C)
        Preprocessed flux channels (no mask channel).
    mask : bool (B, npix)
    config : AugmentConfig
    seed : int tensor of shape (2,)
        Stateless seed for this batch.
    log_step : float
        Grid step in log10 Å (from the manifest / ``PreprocessConfig.grid``).
    fill : "interp" or float
        How preprocessing filled bad pixels (masked runs are filled the same way).
    clip : float or None
        Clip the result to ``[-clip, clip]``.
    """
    flux = tf.convert_to_tensor(flux, tf.float32)
    mask = tf.convert_to_tensor(mask, tf.bool)
    if config.is_identity:
        return flux, mask
    b = tf.shape(flux)[0]
    npix = tf.shape(flux)[1]
    s_rv, s_tilt, s_noise, s_snr, s_run, s_len = tf.unstack(_seeds(seed, 6))
    const_fill = not isinstance(fill, str)

    if config.rv_shift_kms > 0:
        v = tf.random.stateless_uniform([b], s_rv, -config.rv_shift_kms, config.rv_shift_kms)
        flux, mask = rv_shift(flux, mask, v, log_step)
        if const_fill:
            flux = tf.where(mask[..., None], tf.cast(fill, tf.float32), flux)

    good = tf.logical_not(mask)[..., None]
    if config.tilt > 0:
        ab = tf.random.stateless_uniform([b, 2], s_tilt, -config.tilt, config.tilt)
        t = tf.linspace(-1.0, 1.0, npix)[None, :]
        factor = 1.0 + ab[:, :1] * t + ab[:, 1:] * (1.5 * t * t - 0.5)
        scaled = flux * factor[..., None]
        flux = tf.where(good, scaled, flux) if const_fill else scaled

    if config.noise_snr is not None:
        lo, hi = config.noise_snr
        snr = tf.exp(tf.random.stateless_uniform([b], s_snr, math.log(lo), math.log(hi)))
        goodf = tf.cast(good, tf.float32)
        n_good = tf.reduce_sum(goodf, axis=[1, 2]) * tf.cast(tf.shape(flux)[2], tf.float32)
        level = tf.reduce_sum(tf.abs(flux) * goodf, axis=[1, 2]) / tf.maximum(n_good, 1.0)
        sigma = level / snr
        noise = tf.random.stateless_normal(tf.shape(flux), s_noise) * sigma[:, None, None]
        flux = tf.where(good, flux + noise, flux)

    if config.mask_runs > 0:
        hit = tf.random.stateless_uniform([b], s_run) < config.mask_runs
        max_len = tf.maximum(1, tf.cast(tf.cast(npix, tf.float32) * config.mask_run_max, tf.int32))
        length = tf.random.stateless_uniform([b], s_len, 1, max_len + 1, dtype=tf.int32)
        length = tf.where(hit, length, 0)
        run = tf.range(npix)[None, :] < length[:, None]                         # (B, npix)
        if const_fill:
            value = tf.fill(tf.shape(flux), tf.cast(fill, tf.float32))
        else:
            edge = tf.gather(flux, tf.minimum(length, npix - 1), axis=1, batch_dims=1)  # (B, C)
            value = tf.broadcast_to(edge[:, None, :], tf.shape(flux))
        flux = tf.where(run[..., None], value, flux)
        mask = mask | run

    if clip is not None:
        flux = tf.clip_by_value(flux, -float(clip), float(clip))
    return flux, mask
