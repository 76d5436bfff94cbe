"""FITS writers: same structure as the real fixture files, and lossless round trips through specnet.io."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from specnet import Spectrum
from specnet.io import identify, read_spectrum
from specnet.simulate import LAYOUTS, get_profile, write_spectrum
from specnet.spectrum import air_to_vacuum
from tests.simulate import FIXTURES

REAL_DR10 = FIXTURES / "lamost" / "dr10_table" / "3703110.fits"
REAL_DR2 = FIXTURES / "lamost" / "dr2_dr7_image" / "spec-55939-GAC_061N46_V3_sp07-078.fits"
REAL_SDSS = FIXTURES / "sdss" / "spec_dr8plus" / "spec-3128-54776-0008.fits"
REAL_DR1 = FIXTURES / "lamost" / "dr1_calibration" / "spec-55862-B6212_sp06-005.fits"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("source", [REAL_DR10, REAL_DR1, REAL_SDSS])
def test_real_spectra_round_trip_in_every_layout(tmp_path, source, layout):
    spec = read_spectrum(source)
    path = write_spectrum(spec, tmp_path / "out.fits", layout)
    assert identify(path)[0] == layout
    back = read_spectrum(path)
    assert back.meta["format"] == layout and back.medium == "vacuum"
    for key in ("obj_class", "subclass"):
        assert back.meta[key] == spec.meta[key]
    assert back.meta["z"] == pytest.approx(spec.meta["z"], rel=1e-6)
    assert back.meta["snr"] == pytest.approx(spec.meta["snr"], rel=1e-3, abs=0.006)
    np.testing.assert_array_equal(back.flux, spec.flux.astype(np.float32))
    np.testing.assert_array_equal(back.mask, spec.mask)
    np.testing.assert_array_equal(back.ivar, np.where(spec.mask, 0, spec.ivar).astype(np.float32))
    np.testing.assert_allclose(back.wave, spec.wave, rtol=1e-6)


def _formats(hdu) -> dict[str, str]:
    return {c.name.upper(): str(c.format) for c in hdu.columns}


def test_structure_copies_the_real_files(tmp_path):
    spec = read_spectrum(REAL_DR10)
    # LAMOST DR9+: header-only HDU0 + one-row COADD table with the real column names and formats
    write_spectrum(spec, tmp_path / "dr9.fits", "lamost-dr9")
    with fits.open(tmp_path / "dr9.fits") as mine, fits.open(REAL_DR10) as real:
        assert [h.name for h in mine] == [h.name for h in real] == ["PRIMARY", "COADD"]
        assert _formats(mine[1]) == _formats(real[1]) and len(mine[1].data) == 1
        for key in ("OBSID", "DATA_V", "CLASS", "SUBCLASS", "Z", "Z_ERR", "SNRG", "SNRR", "COEFF0", "COEFF1",
                    "VACUUM", "TELESCOP"):
            assert key in mine[0].header and key in real[0].header
        assert mine[0].header["COEFF0"] == pytest.approx(real[0].header["COEFF0"])
        norm = mine[1].data["NORMALIZATION"][0]
        assert 0.8 < np.median(norm) < 1.1  # flux / pseudo-continuum, as in the real files
    # LAMOST DR2-DR8: 5 x N float32 primary image
    write_spectrum(read_spectrum(REAL_DR2), tmp_path / "dr2.fits", "lamost-dr2")
    with fits.open(tmp_path / "dr2.fits") as mine, fits.open(REAL_DR2) as real:
        assert len(mine) == 1 and mine[0].data.shape == real[0].data.shape
        assert mine[0].data.dtype == real[0].data.dtype
        np.testing.assert_allclose(mine[0].data[2], real[0].data[2], rtol=1e-6)
        for key in ("OBSID", "EXTEN0", "CLASS", "SUBCLASS", "Z", "SNRG"):
            assert key in mine[0].header and key in real[0].header
    # SDSS lite: COADD with SDSS's columns/types, SPECOBJ with the ones readers use, typed as SDSS does
    write_spectrum(read_spectrum(REAL_SDSS), tmp_path / "sdss.fits", "sdss-spec")
    with fits.open(tmp_path / "sdss.fits") as mine, fits.open(REAL_SDSS) as real:
        assert [h.name for h in mine] == ["PRIMARY", "COADD", "SPECOBJ"]
        assert _formats(mine[1]) == _formats(real[1])
        real_so = _formats(real[2])
        for name, form in _formats(mine[2]).items():
            assert real_so[name] == form, name
        for key in ("PLATEID", "MJD", "FIBERID", "VACUUM", "COEFF0", "COEFF1"):
            assert key in mine[0].header and key in real[0].header


def test_air_spectra_are_written_in_vacuum_and_masks_as_zero_ivar(tmp_path):
    w_air = np.linspace(4000.0, 7000.0, 3001)
    flux = 1.0 + 0.1 * np.sin(w_air / 7.0)
    mask = np.zeros(w_air.size, bool)
    mask[100:120] = True
    spec = Spectrum(w_air, flux, np.full(w_air.size, 4.0), mask,
                    {"obj_class": "STAR", "subclass": "G2V", "z": 0.0, "snr": 30.0, "id": "x"}, medium="air")
    for layout in LAYOUTS:
        back = read_spectrum(write_spectrum(spec, tmp_path / f"{layout}.fits", layout))
        np.testing.assert_allclose(back.wave, air_to_vacuum(w_air), rtol=1e-6)
        assert back.mask[100:120].all() and not back.mask[:100].any() and np.all(back.ivar[100:120] == 0)


def test_mock_provenance_and_argument_checks(tmp_path):
    w = get_profile("lamost-lrs").grid.wave
    meta = {"obj_class": "STAR", "subclass": "K3V", "z": 1e-4, "snr": 20.0, "id": "mock-0000007", "mock": True,
            "index": 7, "subtype": 53.2, "template_a": "pickles:k3v", "template_b": "pickles:k4v",
            "weight_b": 0.2, "rv": 30.0, "ebv": 0.1, "snr_target": 20.3, "profile": "lamost-lrs"}
    spec = Spectrum(w, np.full(w.size, 100.0), np.full(w.size, 0.04), meta=meta)
    path = write_spectrum(spec, tmp_path / "sub" / "m.fits", "lamost-dr9")  # parent created
    header = fits.getheader(path)
    assert header["MOCK"] is True and header["MOCKTPLA"] == "pickles:k3v" and header["MOCKSUBT"] == 53.2
    assert header["OBSID"] == 900000007
    with pytest.raises(ValueError, match="layout must be one of"):
        write_spectrum(spec, tmp_path / "x.fits", "lamost-dr1")
    with pytest.raises(ValueError, match="needs a specnet.Spectrum"):
        write_spectrum(np.zeros(3), tmp_path / "x.fits", "lamost-dr9")
