"""specnet.data.augment: each augmentation's defining property, on a real LAMOST spectrum."""
from __future__ import annotations

import math

import numpy as np
import pytest

from specnet.data.augment import C_KMS, AugmentConfig, augment_batch, rv_shift
from specnet.io import read_spectrum
from specnet.preprocess import LAMOST_GRID, PreprocessConfig, preprocess
from tests.conftest import FIXTURES

LOG_STEP = LAMOST_GRID.log_step
OFF = dict(noise_snr=None, rv_shift_kms=0.0, tilt=0.0, mask_runs=0.0)


@pytest.fixture(scope="module")
def real():
    """Four real LAMOST spectra (DR10, DR2-7, DR1 layouts) preprocessed onto the LAMOST grid."""
    files = [FIXTURES / "lamost" / "dr10_table" / "3706009.fits",
             FIXTURES / "lamost" / "dr2_dr7_image" / "spec-56309-GAC088N20V1_sp08-126.fits",
             FIXTURES / "lamost" / "dr1_image_nowave" / "spec-55862-B6212_sp06-003.fits",
             FIXTURES / "lamost" / "dr10_table" / "3709176.fits"]
    X, mask = preprocess([read_spectrum(f) for f in files], PreprocessConfig())
    return X[..., :1], mask


def _velocity_for_pixels(px: float) -> float:
    return (10 ** (px * LOG_STEP) - 1) * C_KMS


def test_identity_config_returns_the_input(real):
    flux, mask = real
    f, m = augment_batch(flux, mask, AugmentConfig(**OFF), seed=[0, 1], log_step=LOG_STEP)
    np.testing.assert_array_equal(f.numpy(), flux)
    np.testing.assert_array_equal(m.numpy(), mask)


@pytest.mark.parametrize("px", [0.3, -0.45, 2.25])
def test_rv_shift_moves_a_line_by_the_right_subpixel_amount(px):
    x = np.arange(200, dtype=np.float64)
    line = 1 - 0.6 * np.exp(-0.5 * ((x - 100) / 3.0) ** 2)
    f, m = rv_shift(line[None, :, None].astype(np.float32), np.zeros((1, 200), bool),
                    [_velocity_for_pixels(px)], LOG_STEP)
    depth = 1 - f.numpy()[0, :, 0]
    centre = (depth * x).sum() / depth.sum()
    assert centre == pytest.approx(100 + px, abs=0.02)  # positive v = redshift = larger index
    # pixels drawing on nothing (off the grid edge) are masked, nothing else
    n_edge = math.ceil(abs(px)) if px else 0
    edge = m.numpy()[0, :n_edge] if px > 0 else m.numpy()[0, 200 - n_edge:]
    assert edge.all() and m.numpy().sum() == n_edge


def test_rv_shift_propagates_bad_pixels():
    mask = np.zeros((1, 50), bool)
    mask[0, 20] = True
    _, m = rv_shift(np.ones((1, 50, 1), np.float32), mask, [_velocity_for_pixels(0.5)], LOG_STEP)
    assert np.flatnonzero(m.numpy()[0]).tolist() == [0, 20, 21]
    _, m = rv_shift(np.ones((1, 50, 1), np.float32), mask, [0.0], LOG_STEP)
    assert np.flatnonzero(m.numpy()[0]).tolist() == [20]


def test_rv_shift_on_real_spectra_is_recovered_within_the_velocity_range(real):
    flux, mask = real
    cfg = AugmentConfig(**{**OFF, "rv_shift_kms": 50.0})
    f, _ = augment_batch(flux, mask, cfg, seed=[3, 4], log_step=LOG_STEP)
    f = f.numpy()
    max_px = math.log10(1 + 50 / C_KMS) / LOG_STEP               # 0.72 px at 50 km/s
    trials = np.arange(-2.0, 2.0001, 0.02)
    sl = slice(600, 3300)
    found = []
    for i in range(len(f)):                                      # least squares over trial shifts
        shifted = rv_shift(np.repeat(flux[i:i + 1], len(trials), 0), np.repeat(mask[i:i + 1], len(trials), 0),
                           [_velocity_for_pixels(t) for t in trials], LOG_STEP)[0].numpy()
        found.append(trials[np.argmin(((shifted[:, sl, 0] - f[i, sl, 0]) ** 2).sum(axis=1))])
    assert np.all(np.abs(found) <= max_px + 0.02)
    assert np.abs(found).max() > 0.05


def test_tilt_is_smooth_and_bounded(real):
    flux, mask = real
    cfg = AugmentConfig(**{**OFF, "tilt": 0.05})
    f, m = augment_batch(flux, mask, cfg, seed=[1, 2], log_step=LOG_STEP)
    ok = np.abs(flux[..., 0]) > 0.2
    ratio = np.divide(f.numpy()[..., 0], flux[..., 0], out=np.ones_like(flux[..., 0]), where=ok)
    assert np.all(np.abs(ratio[ok] - 1) <= 0.1 + 1e-5)       # |a t| + |b P2(t)| <= 2 * tilt
    assert np.abs(ratio[ok] - 1).max() > 1e-3
    # smooth: the ratio is a quadratic in pixel index (check on one spectrum)
    t = np.linspace(-1, 1, ratio.shape[1])
    coef = np.polyfit(t[ok[0]], ratio[0][ok[0]], 2)
    assert np.allclose(np.polyval(coef, t[ok[0]]), ratio[0][ok[0]], atol=1e-4)
    np.testing.assert_array_equal(m.numpy(), mask)


def test_noise_has_the_drawn_snr(real):
    flux, mask = real
    cfg = AugmentConfig(**{**OFF, "noise_snr": (20.0, 20.0)})
    big = np.repeat(flux, 8, axis=0)
    bigm = np.repeat(mask, 8, axis=0)
    f, m = augment_batch(big, bigm, cfg, seed=[5, 6], log_step=LOG_STEP)
    noise = f.numpy()[..., 0] - big[..., 0]
    good = ~bigm
    for i in range(len(big)):
        level = np.abs(big[i, good[i], 0]).mean()
        assert noise[i, good[i]].std() == pytest.approx(level / 20.0, rel=0.05)
        assert np.all(noise[i, ~good[i]] == 0)              # masked pixels keep their fill values
    np.testing.assert_array_equal(m.numpy(), bigm)


def test_masked_runs_with_constant_fill():
    flux = np.linspace(0.5, 1.5, 1000, dtype=np.float32)[None, :, None].repeat(64, axis=0)
    cfg = AugmentConfig(**{**OFF, "mask_runs": 0.5, "mask_run_max": 0.2})
    f, m = augment_batch(flux, np.zeros((64, 1000), bool), cfg, seed=[7, 8], fill=0.0)
    f, m = f.numpy()[..., 0], m.numpy()
    lengths = m.sum(axis=1)
    hit = lengths > 0
    assert 16 <= hit.sum() <= 48                              # about half of 64
    assert lengths.max() <= 200
    for i in np.flatnonzero(hit):
        assert m[i, :lengths[i]].all() and not m[i, lengths[i]:].any()   # a blue-end run
        assert np.all(f[i, :lengths[i]] == 0.0)               # filled with the constant
        np.testing.assert_array_equal(f[i, lengths[i]:], flux[i, lengths[i]:, 0])


def test_constant_fill_survives_tilt_and_noise():
    flux = np.ones((4, 300, 1), np.float32)
    mask = np.zeros((4, 300), bool)
    mask[:, 100:120] = True
    flux[mask] = 0.0
    cfg = AugmentConfig(noise_snr=(10, 10), rv_shift_kms=30, tilt=0.05, mask_runs=0.0)
    f, m = augment_batch(flux, mask, cfg, seed=[1, 1], fill=0.0, clip=5.0)
    f, m = f.numpy()[..., 0], m.numpy()
    assert np.all(f[m] == 0.0) and np.all(m[:, 101:119])      # bad pixels hold the fill value
    assert np.all(f[~m] != 0.0)


def test_seeds_make_it_reproducible(real):
    flux, mask = real
    cfg = AugmentConfig()
    a = augment_batch(flux, mask, cfg, seed=[1, 2], log_step=LOG_STEP)[0].numpy()
    b = augment_batch(flux, mask, cfg, seed=[1, 2], log_step=LOG_STEP)[0].numpy()
    c = augment_batch(flux, mask, cfg, seed=[1, 3], log_step=LOG_STEP)[0].numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs, text", [
    ({"noise_snr": (0, 10)}, "noise_snr"),
    ({"noise_snr": (50, 10)}, "noise_snr"),
    ({"noise_snr": "high"}, "noise_snr"),
    ({"rv_shift_kms": -1}, "rv_shift_kms=-1"),
    ({"tilt": float("nan")}, "tilt=nan"),
    ({"mask_runs": 1.5}, "mask_runs=1.5"),
    ({"mask_run_max": 0}, "mask_run_max=0"),
    ({"seed": 1.5}, "seed=1.5"),
])
def test_config_validation(kwargs, text):
    with pytest.raises(ValueError, match="Received") as info:
        AugmentConfig(**kwargs)
    assert text in str(info.value)


def test_config_round_trip():
    cfg = AugmentConfig(noise_snr=(5, 50), rv_shift_kms=10, tilt=0.02, mask_runs=0.1, seed=3)
    assert AugmentConfig.from_dict(cfg.to_dict()) == cfg
    assert AugmentConfig(**OFF).is_identity and not cfg.is_identity
