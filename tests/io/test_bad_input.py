"""Broken or foreign input: every failure is a SpectrumFormatError naming the file and the reason."""
import gzip

import numpy as np
import pytest
from astropy.io import fits

from specnet.errors import SpectrumFormatError
from specnet.io import formats, read_spectrum
from tests.conftest import FIXTURES

DR2 = FIXTURES / "lamost/dr2_dr7_image/spec-58397-EG014118N254444M01_sp03-031.fits"
DR10 = FIXTURES / "lamost/dr10_table/3703110.fits"
FITS_LAYOUTS = [n for n in formats() if n not in ("ascii", "pickles")]


def _raises(path, *patterns):
    with pytest.raises(SpectrumFormatError) as info:
        read_spectrum(path)
    message = str(info.value)
    assert path.name in message
    for pattern in patterns:
        assert pattern in message, message
    return message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.fits"
    path.write_bytes(b"")
    _raises(path, "empty")


@pytest.mark.filterwarnings("ignore:File may have been truncated")
def test_truncated_fits(tmp_path):
    data = DR2.read_bytes()
    path = tmp_path / "cut.fits"
    path.write_bytes(data[: len(data) // 2])
    _raises(path, "truncated")


@pytest.mark.filterwarnings("ignore:File may have been truncated")
def test_truncated_on_a_block_boundary(tmp_path):
    data = DR10.read_bytes()
    path = tmp_path / "cut_block.fits"
    path.write_bytes(data[: 2880 * 3])  # headers intact, table data missing
    _raises(path, "truncated")


def test_truncated_gzip(tmp_path):
    data = gzip.compress(DR2.read_bytes())
    path = tmp_path / "cut.fits.gz"
    path.write_bytes(data[: len(data) // 3])
    _raises(path, "gzip")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.fits"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    _raises(path, "not a FITS file")


def test_tiny_image_is_an_unknown_layout_listing_what_was_tried(tmp_path):
    path = tmp_path / "tiny.fits"
    fits.PrimaryHDU(np.arange(12.0).reshape(3, 4)).writeto(path)
    message = _raises(path, "unknown FITS layout", "tried:")
    for name in FITS_LAYOUTS:
        assert name in message


def test_table_without_spectrum_columns(tmp_path):
    path = tmp_path / "catalogue.fits"
    table = fits.BinTableHDU.from_columns([fits.Column("RA", "E", array=np.ones(3)),
                                           fits.Column("DEC", "E", array=np.zeros(3))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    _raises(path, "unknown FITS layout", "lamost-dr9", "sdss-spec", "hammer")


def test_a_directory(tmp_path):
    _raises(tmp_path, "directory")


def test_a_missing_path(tmp_path):
    _raises(tmp_path / "nowhere.fits", "no such file")


def test_text_that_is_not_numbers(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("This is a shopping list\neggs, milk\nflour\n")
    _raises(path, "unknown text layout", "ascii", "pickles")


def test_nan_laden_lamost_flux_becomes_masked_pixels(tmp_path):
    path = tmp_path / "nan.fits"
    with fits.open(DR2) as hdul:
        data = hdul[0].data.copy()
        data[0, 100:150] = np.nan
        data[0, 2000] = np.inf
        data[1, 300:310] = np.nan
        hdul[0].data = data
        hdul.writeto(path)
    spec = read_spectrum(path)
    assert spec.meta["format"] == "lamost-dr2"
    assert np.isfinite(spec.flux).all() and np.isfinite(spec.ivar).all()
    assert spec.mask[100:150].all() and spec.mask[2000] and spec.mask[300:310].all()
    assert (spec.ivar[spec.mask] == 0).all()
    clean = read_spectrum(DR2)
    injected = np.zeros(clean.npix, bool)
    injected[100:150] = injected[2000] = injected[300:310] = True
    np.testing.assert_array_equal(spec.mask, clean.mask | injected)
    np.testing.assert_array_equal(spec.flux[~spec.mask], clean.flux[~spec.mask])


def test_nan_laden_dr10_table(tmp_path):
    path = tmp_path / "nan_table.fits"
    with fits.open(DR10) as hdul:
        hdul[1].data["FLUX"][0][10:20] = np.nan
        hdul.writeto(path, output_verify="ignore")  # keep the survey's own (non-standard) primary header
    spec = read_spectrum(path)
    assert spec.mask[10:20].all() and np.isfinite(spec.flux).all()


def test_wrong_structure_under_a_right_looking_table_is_not_an_index_error(tmp_path):
    """A COADD table with the right columns but no rows: a clear error, not IndexError."""
    path = tmp_path / "norows.fits"
    cols = [fits.Column(n, "10E", array=np.zeros((0, 10))) for n in ("FLUX", "IVAR", "WAVELENGTH")]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="COADD")]).writeto(path)
    _raises(path, "lamost-dr9", "no row")


def test_lamost_image_with_nonsense_wavelength_keywords(tmp_path):
    """A DR1-like file whose COEFF0 points outside the optical gives a reason, not garbage."""
    path = tmp_path / "badcoeff.fits"
    src = FIXTURES / "lamost/dr1_image_nowave/spec-55862-B6212_sp06-003.fits"
    with fits.open(src) as hdul:
        hdul[0].header["COEFF0"] = 6.0
        hdul.writeto(path)
    _raises(path, "lamost-dr1", "COEFF0/COEFF1", "outside")


def test_sky_galaxy_and_qso_fixtures_read_and_report_their_class():
    sdss = FIXTURES / "sdss/spec_dr8plus"
    sky = read_spectrum(sdss / "spec-1947-53431-0546.fits")
    assert sky.meta["obj_class"] == "STAR" and sky.meta["snr"] < 1 and sky.meta["subclass"] == "M2V"
    assert read_spectrum(sdss / "spec-0548-51986-0020.fits").meta["obj_class"] == "QSO"
    assert read_spectrum(sdss / "spec-1230-52672-0233.fits").meta["obj_class"] == "GALAXY"
