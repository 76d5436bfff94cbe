"""The registry with the real readers: every layout registered, one answer per source kind, forcing."""
import io

import numpy as np
import pytest
from astropy.io import fits

from specnet.errors import SpectrumFormatError
from specnet.io import formats, get_format, identify, read_spectra, read_spectrum
from tests.conftest import FIXTURES, TEMPLATES

LAYOUTS = ["lamost-dr9", "lamost-dr2", "lamost-dr1", "sdss-spec", "sdss-spspec", "sdss-eigenstar",
           "hammer", "pickles", "miles", "ml-dwarf", "ascii"]
ONE_PER_LAYOUT = {
    "lamost-dr9": FIXTURES / "lamost/dr10_table/3709137.fits",
    "lamost-dr2": FIXTURES / "lamost/dr2_dr7_image/spec-55939-GAC_061N46_V3_sp07-078.fits",
    "lamost-dr1": FIXTURES / "lamost/dr1_calibration/spec-55862-B6212_sp06-117.fits",
    "sdss-spec": FIXTURES / "sdss/spec_dr8plus/spec-3128-54776-0008.fits",
    "sdss-spspec": FIXTURES / "sdss/spSpec_dr7/spSpec-52885-1117-289.fit",
    "sdss-eigenstar": TEMPLATES / "sdss_eigenstar/spEigenStar-53724.fits",
    "hammer": TEMPLATES / "hammer/hammer_templates_converted.fits",
    "pickles": TEMPLATES / "pickles1998/k3iii.sed",
    "miles": TEMPLATES / "miles_v9.1/fits/MILES_res2.50_star_m0081V.fits",
    "ml-dwarf": TEMPLATES / "m_l_dwarfs/S14L/L4.fits",
}


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.wave, y.wave)
        np.testing.assert_array_equal(x.flux, y.flux)
        np.testing.assert_array_equal(x.ivar, y.ivar)
        np.testing.assert_array_equal(x.mask, y.mask)
        assert x.medium == y.medium
        assert {k: v for k, v in x.meta.items() if k not in ("path", "id")} == \
               {k: v for k, v in y.meta.items() if k not in ("path", "id")}


def test_every_layout_is_registered_with_a_description():
    assert sorted(formats()) == sorted(LAYOUTS)
    assert formats()[-1] == "ascii"  # lowest priority
    for name in LAYOUTS:
        assert get_format(name).description
    assert get_format("pickles").kind == get_format("ascii").kind == "text"


@pytest.mark.parametrize("layout", list(ONE_PER_LAYOUT))
def test_each_file_is_identified_as_exactly_its_layout(layout):
    hits = identify(ONE_PER_LAYOUT[layout])
    assert hits[0] == layout
    assert hits == ([layout, "ascii"] if layout == "pickles" else [layout])


@pytest.mark.parametrize("layout", list(ONE_PER_LAYOUT))
def test_path_file_object_and_hdulist_give_identical_spectra(layout):
    path = ONE_PER_LAYOUT[layout]
    by_path = read_spectra(path)
    by_str = read_spectra(str(path))
    with open(path, "rb") as fh:
        by_fileobj = read_spectra(fh)
    by_bytes = read_spectra(io.BytesIO(path.read_bytes()))
    _same(by_path, by_str)
    _same(by_path, by_fileobj)
    assert by_fileobj[0].meta["path"] == str(path)  # an open file keeps its name, so labels still resolve
    assert by_fileobj[0].meta["subclass"] == by_path[0].meta["subclass"]
    if layout != "pickles":
        with fits.open(path) as hdul:
            by_hdul = read_spectra(hdul)
        _same(by_path, by_hdul)
        assert by_hdul[0].meta["subclass"] == by_path[0].meta["subclass"]
        if layout not in ("miles", "ml-dwarf"):  # these take labels from the file name
            _same(by_path, by_bytes)


def test_forcing_the_right_format_equals_identification():
    for layout, path in ONE_PER_LAYOUT.items():
        _same(read_spectra(path), read_spectra(path, format=layout))


@pytest.mark.parametrize("layout", [n for n in LAYOUTS if n not in ("ascii", "pickles")])
def test_forcing_a_wrong_fits_format_is_a_format_error(layout):
    victim = ONE_PER_LAYOUT["sdss-spec"] if layout != "sdss-spec" else ONE_PER_LAYOUT["lamost-dr9"]
    with pytest.raises(SpectrumFormatError, match=rf"{victim.name}.*not a valid '{layout}' file"):
        read_spectra(victim, format=layout)


def test_forcing_text_format_on_fits_and_unknown_names():
    path = ONE_PER_LAYOUT["lamost-dr9"]
    with pytest.raises(SpectrumFormatError, match="reads text files, but this is a fits file"):
        read_spectrum(path, format="pickles")
    with pytest.raises(SpectrumFormatError, match="Unknown format 'lamost-dr99'"):
        read_spectrum(path, format="lamost-dr99")


def test_read_spectrum_refuses_multi_template_files_but_read_spectra_returns_all():
    path = ONE_PER_LAYOUT["sdss-eigenstar"]
    with pytest.raises(SpectrumFormatError, match="holds 40 spectra"):
        read_spectrum(path)
    assert len(read_spectra(path)) == 40


def test_identifiers_never_raise_on_odd_hdulists():
    odd = [
        fits.HDUList([fits.PrimaryHDU()]),
        fits.HDUList([fits.PrimaryHDU(np.zeros(5))]),
        fits.HDUList([fits.PrimaryHDU(np.zeros((2, 2, 2)))]),
        fits.HDUList([fits.PrimaryHDU(np.zeros((1, 5)))]),
        fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((5, 5)))]),
    ]
    for hdul in odd:
        for name in LAYOUTS:
            fmt = get_format(name)
            if fmt.kind == "fits":
                assert fmt.identify(hdul) is False
    for text in ("", "\n\n", "# only a comment", "a b\nc d", "1,2\n"):
        assert get_format("ascii").identify(text) is False
        assert get_format("pickles").identify(text) is False
