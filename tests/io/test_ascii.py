"""The plain ASCII/CSV reader, on text written from a real LAMOST spectrum."""
import io

import numpy as np
import pytest

from specnet.errors import SpectrumFormatError
from specnet.io import identify, read_spectrum
from tests.conftest import FIXTURES

SOURCE = FIXTURES / "lamost/dr10_table/3706009.fits"


@pytest.fixture(scope="module")
def real():
    return read_spectrum(SOURCE)


def _write(path, text):
    path.write_text(text)
    return path


def test_two_columns_whitespace(tmp_path, real):
    body = "\n".join(f"{w:.4f} {f:.6g}" for w, f in zip(real.wave, real.flux))
    spec = read_spectrum(_write(tmp_path / "g0.txt", body))
    assert spec.meta["format"] == "ascii" and spec.meta["id"] == "g0"
    np.testing.assert_allclose(spec.wave, real.wave, atol=1e-4)
    np.testing.assert_allclose(spec.flux, real.flux, rtol=1e-5)
    assert (spec.ivar == 1).all() and spec.medium == "vacuum"
    assert spec.meta["obj_class"] is None and spec.meta["subclass"] is None


def test_three_column_csv_with_header_and_comments(tmp_path, real):
    err = np.where(real.ivar > 0, 1 / np.sqrt(np.where(real.ivar > 0, real.ivar, 1)), 0.0)
    lines = ["# LAMOST 3706009 exported", "# wavelengths in vacuum", "wavelength,flux,error"]
    lines += [f"{w:.4f},{f:.7g},{e:.7g}" for w, f, e in zip(real.wave, real.flux, err)]
    spec = read_spectrum(_write(tmp_path / "g0.csv", "\n".join(lines) + "\n"))
    np.testing.assert_allclose(spec.ivar[err > 0], real.ivar[err > 0], rtol=1e-5)
    np.testing.assert_array_equal(spec.mask, err <= 0)
    assert spec.medium == "vacuum"


def test_named_columns_in_any_order_and_ivar_column(tmp_path):
    wave = np.linspace(4000, 5000, 101)
    flux = 1 + 0.1 * np.sin(wave / 30)
    ivar = np.full(101, 4.0)
    ivar[7] = 0
    lines = ["flux;ivar;lambda"] + [f"{f};{i};{w}" for w, f, i in zip(wave, flux, ivar)]
    spec = read_spectrum(_write(tmp_path / "named.txt", "\n".join(lines)))
    np.testing.assert_allclose(spec.wave, wave)
    np.testing.assert_allclose(spec.flux, flux)
    assert spec.ivar[0] == 4.0 and spec.mask.tolist().count(True) == 1 and spec.mask[7]


def test_air_comment_descending_order_and_tabs(tmp_path):
    wave = np.linspace(6000, 6100, 51)
    flux = np.linspace(1, 2, 51)
    lines = ["# MILES-like star, wavelengths in AIR"] + [f"{w}\t{f}" for w, f in zip(wave[::-1], flux[::-1])]
    spec = read_spectrum(_write(tmp_path / "desc.dat", "\n".join(lines)))
    assert spec.medium == "air"
    np.testing.assert_allclose(spec.wave, wave)
    np.testing.assert_allclose(spec.flux, flux)


def test_file_object_gives_the_same_spectrum(tmp_path):
    text = "4000 1\n4001 2\n4002 3\n"
    from_path = read_spectrum(_write(tmp_path / "tiny.txt", text))
    from_bytes = read_spectrum(io.BytesIO(text.encode()))
    np.testing.assert_array_equal(from_path.flux, from_bytes.flux)
    assert from_bytes.meta["id"] is None and from_bytes.meta["format"] == "ascii"


def test_pickles_outranks_ascii_but_ascii_can_be_forced():
    path = FIXTURES.parent / "templates/pickles1998/g2v.sed"
    assert identify(path) == ["pickles", "ascii"]
    forced = read_spectrum(path, format="ascii")
    assert forced.meta["format"] == "ascii" and forced.meta["subclass"] is None
    assert forced.npix == read_spectrum(path).npix


@pytest.mark.parametrize("text, why", [
    ("4000 1 2 3\n4001 1 2 3\n", "four columns"),
    ("4001 1\n4000 2\n4002 3\n", "wavelengths not monotonic"),
    ("-1 1\n0 2\n", "non-positive wavelengths"),
    ("4000 1\n", "one row"),
])
def test_tables_that_are_not_spectra_are_rejected(tmp_path, text, why):
    path = _write(tmp_path / "bad.txt", text)
    with pytest.raises(SpectrumFormatError, match=r"bad\.txt.*unknown text layout; tried: ascii, pickles"):
        read_spectrum(path)
    with pytest.raises(SpectrumFormatError, match=r"bad\.txt.*not a valid 'ascii' file"):
        read_spectrum(path, format="ascii")
