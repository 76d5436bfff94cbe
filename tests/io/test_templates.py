"""Template-library readers on every file under shared/data/templates."""
import csv
import io

import numpy as np
import pytest
from astropy.io import fits

from specnet.io import identify, read_spectra, read_spectrum
from specnet.io.templates import PICKLES_STEM
from tests.conftest import TEMPLATES

EXPECTED = {  # folder → (layout, survey, medium)
    "sdss_eigenstar": ("sdss-eigenstar", "SDSS-eigenstar", "vacuum"),
    "hammer": ("hammer", "Hammer", "air"),
    "pickles1998": ("pickles", "Pickles1998", "air"),
    "B07M": ("ml-dwarf", "Bochanski2007", "vacuum"),
    "S18M": ("ml-dwarf", "Schmidt", "air"),
    "S14L": ("ml-dwarf", "Schmidt", "air"),
}
TEMPLATE_FILES = sorted(
    [p for p in TEMPLATES.glob("*/*.fits")] + [p for p in TEMPLATES.glob("m_l_dwarfs/*/*.fits")]
    + [p for p in TEMPLATES.glob("pickles1998/*.sed")])
MILES_FILES = sorted((TEMPLATES / "miles_v9.1" / "fits").glob("*.fits"))


def test_template_folders_hold_the_documented_counts():
    counts = {key: sum(p.parent.name == key for p in TEMPLATE_FILES) for key in EXPECTED}
    assert counts == {"sdss_eigenstar": 2, "hammer": 1, "pickles1998": 131, "B07M": 10, "S18M": 3, "S14L": 9}
    assert len(MILES_FILES) == 985


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=[f"{p.parent.name}/{p.name}" for p in TEMPLATE_FILES])
def test_every_template_file_reads_with_label_and_medium(path):
    layout, survey, medium = EXPECTED[path.parent.name]
    spectra = read_spectra(path)
    assert spectra
    for spec in spectra:
        meta = spec.meta
        assert meta["format"] == layout and meta["survey"] == survey
        assert spec.medium == medium
        assert meta["obj_class"] == "STAR" and meta["z"] == 0.0 and meta["snr"] is None
        assert isinstance(meta["subclass"], str) and meta["subclass"].strip()
        assert meta["id"] and meta["path"] == str(path)
        assert meta.get("R") or meta.get("resolution_fwhm")
        assert np.all(np.diff(spec.wave) > 0) and 1000 <= spec.wave[0] and spec.wave[-1] <= 26000
        assert np.isfinite(spec.flux).all() and spec.good_fraction > 0.7  # Hammer O7: zero tail masked
        assert np.nanmedian(spec.flux[spec.good]) > 0


def test_eigenstar_rows_names_and_non_mk_rows():
    found = {}
    for path in sorted((TEMPLATES / "sdss_eigenstar").glob("*.fits")):
        header = fits.getheader(path)
        spectra = read_spectra(path)
        assert [s.meta["subclass"] for s in spectra] == [header[f"NAME{i}"] for i in range(len(spectra))]
        found[path.name] = (len(spectra), sorted(s.meta["subclass"] for s in spectra if s.meta["non_mk"]))
        np.testing.assert_allclose(
            spectra[0].wave, 10 ** (header["COEFF0"] + header["COEFF1"] * np.arange(spectra[0].npix)))
    assert found == {
        "spEigenStar-53724.fits": (40, ["Carbon", "CarbonWD", "Carbon_lines", "WD", "WDmagnetic"]),
        "spEigenStar-55734.fits": (123, ["CalciumWD", "Carbon", "WDcooler", "WDhotter", "WDmagnetic"]),
    }
    k3v = [s for s in read_spectra(TEMPLATES / "sdss_eigenstar/spEigenStar-55734.fits")
           if s.meta["subclass"] == "K3V (32147)"]
    assert len(k3v) == 1 and k3v[0].wave[0] == pytest.approx(3049.3, abs=0.1)


def test_eigenstar_zero_padding_is_masked():
    spectra = read_spectra(TEMPLATES / "sdss_eigenstar/spEigenStar-53724.fits")
    data = fits.getdata(TEMPLATES / "sdss_eigenstar/spEigenStar-53724.fits")
    for spec, row in zip(spectra, data):
        np.testing.assert_array_equal(spec.mask, row == 0)


def test_hammer_drops_pads_and_keeps_spt():
    path = TEMPLATES / "hammer/hammer_templates_converted.fits"
    spectra = read_spectra(path)
    table = fits.getdata(path, 1)
    assert len(spectra) == 67
    assert [s.meta["subclass"] for s in spectra] == [t.strip() for t in table["SPT"]]
    for spec, wave in zip(spectra, table["WAVE"]):
        assert spec.npix == int((wave != 99999).sum()) and spec.wave.max() < 99999
    assert spectra[-1].meta["subclass"] == "L8" and spectra[-1].npix == 2000


def _absorption_centre(spec, lo, hi):
    sel = (spec.wave > lo) & (spec.wave < hi)
    return spec.wave[sel][np.argmin(spec.flux[sel])]


def test_hammer_is_air_and_eigenstar_is_vacuum_by_their_lines():
    """Hα/Hβ of the A0 templates: air 6562.80/4861.33 Å, vacuum 6564.61/4862.68 Å."""
    hammer = {s.meta["subclass"]: s for s in read_spectra(TEMPLATES / "hammer/hammer_templates_converted.fits")}
    eigen = {s.meta["subclass"]: s for s in read_spectra(TEMPLATES / "sdss_eigenstar/spEigenStar-53724.fits")}
    for (air, vac) in ((6562.80, 6564.61), (4861.33, 4862.68)):
        assert abs(_absorption_centre(hammer["A0"], air - 8, air + 8) - air) < 0.6
        assert abs(_absorption_centre(eigen["A0"], vac - 8, vac + 8) - vac) < 0.6
    assert abs(_absorption_centre(hammer["K3"], 5880, 5895) - 5889.95) < 0.6  # Na D2 in air


def test_ml_dwarf_media_by_their_potassium_line():
    """K I 7699 Å: Bochanski composites sit at vacuum 7701.1, Schmidt composites at air 7699.0."""
    b07 = read_spectrum(TEMPLATES / "m_l_dwarfs/B07M/m5.all.na.k.fits")
    s18 = read_spectrum(TEMPLATES / "m_l_dwarfs/S18M/M8.fits")
    assert abs(_absorption_centre(b07, 7690, 7710) - 7701.08) < 0.5
    assert abs(_absorption_centre(s18, 7690, 7710) - 7698.96) < 0.7
    assert b07.wave[0] == 3825.0 and b07.wave[1] - b07.wave[0] == pytest.approx(0.1)
    assert b07.npix == 53750 and s18.wave[0] == pytest.approx(5350.0, abs=0.1)


def test_ml_dwarf_labels_from_file_names():
    labels = {p.name: read_spectrum(p).meta["subclass"] for p in TEMPLATES.glob("m_l_dwarfs/*/*.fits")}
    assert labels["m3.all.na.k.fits"] == "M3" and labels["L4.fits"] == "L4" and labels["M9.fits"] == "M9"
    assert sorted(set(labels.values())) == sorted({f"M{i}" for i in range(10)} | {f"L{i}" for i in range(9)})


def test_pickles_labels_are_file_stems_and_need_a_path():
    path = TEMPLATES / "pickles1998/m2p5v.sed"
    spec = read_spectrum(path)
    assert spec.meta["subclass"] == "m2p5v" and spec.meta["R"] == 500
    assert read_spectrum(TEMPLATES / "pickles1998/rk1iii.sed").meta["metallicity"] == "rich"
    assert read_spectrum(TEMPLATES / "pickles1998/wg5v.sed").meta["metallicity"] == "weak"
    stems = [p.stem for p in TEMPLATES.glob("pickles1998/*.sed")]
    assert all(PICKLES_STEM.match(s) for s in stems)
    anonymous = read_spectrum(io.BytesIO(path.read_bytes()))
    assert anonymous.meta["format"] == "pickles" and anonymous.meta["subclass"] is None
    np.testing.assert_array_equal(anonymous.flux, spec.flux)
    data = np.loadtxt(path)
    np.testing.assert_array_equal(spec.wave, data[:, 0])
    np.testing.assert_array_equal(spec.mask, data[:, 1] == 0)
    assert abs(spec.flux[np.argmin(abs(spec.wave - 5555))] - 1) < 0.1  # normalised at 5556 Å


def test_all_miles_files_read_with_catalogue_labels():
    with open(TEMPLATES / "miles_v9.1/miles_labels.csv", newline="") as fh:
        catalogue = list(csv.DictReader(fh))
    no_type = no_teff = 0
    ids = set()
    for path in MILES_FILES:
        spec = read_spectrum(path)
        meta = spec.meta
        assert meta["format"] == "miles" and meta["survey"] == "MILES" and spec.medium == "air"
        assert spec.npix == 4300 and spec.wave[0] == 3540.5
        assert spec.wave[1] - spec.wave[0] == pytest.approx(0.9)
        assert meta["resolution_fwhm"] == 2.5
        if meta["teff"] is None:
            no_teff += 1
        else:
            assert 2500 < meta["teff"] < 50000
        assert np.isfinite(spec.flux).all()
        if meta["subclass"] is None:
            no_type += 1
        else:
            assert meta["subclass"].strip() == meta["subclass"] != ""
        ids.add(meta["id"])
    assert len(ids) == 985
    assert no_teff == sum(r["teff"] == "--" for r in catalogue) == 3
    assert no_type == sum(not r["spt"].strip() for r in catalogue) == 29
    # file m0221V is catalogued as "022." upstream; the reader matches it by id, '.' a missing digit
    m0221 = read_spectrum(TEMPLATES / "miles_v9.1/fits/MILES_res2.50_star_m0221V.fits").meta
    assert (m0221["subclass"], m0221["star_name"], m0221["teff"]) == ("A3m", "HD044691A", 7950.0)
    m0001 = read_spectrum(MILES_FILES[0]).meta
    row = next(r for r in catalogue if r["file"].endswith("m0001V.fits"))
    assert (m0001["subclass"], m0001["logg"], m0001["feh"]) == (row["spt"], float(row["logg"]), float(row["feh"]))


def test_miles_without_its_catalogue_has_no_label(tmp_path):
    target = tmp_path / "MILES_res2.50_star_m0001V.fits"
    target.write_bytes(MILES_FILES[0].read_bytes())
    spec = read_spectrum(target)
    assert spec.meta["format"] == "miles" and spec.meta["subclass"] is None and spec.meta["teff"] is None
    assert identify(target) == ["miles"]
