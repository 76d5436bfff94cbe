"""The Spectrum container: masking rules and air/vacuum conversion."""
import numpy as np
import pytest

from specnet.spectrum import Spectrum, air_to_vacuum, vacuum_to_air


def test_nan_inf_and_bad_ivar_become_masked_pixels():
    wave = np.linspace(4000, 5000, 6)
    flux = np.array([1.0, np.nan, np.inf, 2.0, 3.0, 4.0])
    ivar = np.array([1.0, 1.0, 1.0, 0.0, -1.0, np.nan])
    s = Spectrum(wave, flux, ivar)
    assert s.mask.tolist() == [False, True, True, True, True, True]
    assert np.isfinite(s.flux).all() and np.isfinite(s.ivar).all()
    assert (s.ivar[s.mask] == 0).all()
    assert s.good_fraction == pytest.approx(1 / 6)


def test_meta_keys_always_present():
    s = Spectrum(np.arange(3.0) + 4000, np.ones(3), meta={"id": "x"})
    for key in ("survey", "obj_class", "subclass", "z", "snr", "id", "format", "path"):
        assert key in s.meta
    assert s.meta["id"] == "x" and s.is_star is None


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="Received: wave.size=3, flux.size=2"):
        Spectrum(np.arange(3.0), np.ones(2))
    with pytest.raises(ValueError, match="medium"):
        Spectrum(np.arange(3.0), np.ones(3), medium="glass")


def test_air_vacuum_round_trip_and_known_line():
    vac = np.linspace(3600, 10000, 500)
    np.testing.assert_allclose(air_to_vacuum(vacuum_to_air(vac)), vac, atol=1e-6)
    # H-alpha: 6562.80 Å in air is 6564.61 Å in vacuum
    assert air_to_vacuum(np.array([6562.80]))[0] == pytest.approx(6564.61, abs=0.01)
    s = Spectrum(vac, np.ones_like(vac), medium="vacuum")
    a = s.to_air()
    assert a.medium == "air" and a.wave[0] < vac[0]
    assert a.to_vacuum().wave == pytest.approx(vac)
    assert s.to_vacuum() is s


def test_median_snr():
    rng = np.random.default_rng(0)
    flux = 10 + rng.normal(0, 1, 1000)
    s = Spectrum(np.linspace(4000, 8000, 1000), flux, np.full(1000, 1.0))
    assert s.median_snr() == pytest.approx(10, rel=0.05)
