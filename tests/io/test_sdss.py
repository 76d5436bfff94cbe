"""SDSS readers on the real fixtures: DR8+ spec-*.fits (lite/full) and DR7 spSpec-*.fit."""
import csv
import functools

import numpy as np
import pytest
from astropy.io import fits

from specnet.errors import SpectrumFormatError
from specnet.io import read_spectrum
from specnet.io.sdss import SDSS_BAD_BITS, SDSS_BAD_MASK
from tests.conftest import FIXTURES, fixture_rows

LAYOUT = {"spec_dr8plus_lite": "sdss-spec", "spec_dr8plus_full": "sdss-spec", "spSpec_dr7": "sdss-spspec"}
SDSS_ROWS = [r for r in fixture_rows() if r["survey"] == "SDSS"]
SKY_ROWS = [r for r in SDSS_ROWS if "SKY FIBRE" in r["label_source"]]
DR7 = FIXTURES / "sdss" / "spSpec_dr7"


@functools.lru_cache(maxsize=None)
def _read(path):
    """Each fixture is read once per session (the tests only look at the result)."""
    return read_spectrum(path)


def _ids(rows):
    return [r["path"].split("/")[-1] for r in rows]


def test_fixture_index_lists_all_sdss_files():
    on_disk = {p.name for p in (FIXTURES / "sdss").glob("*/*.fit*")}
    assert {r["path"].split("/")[-1] for r in SDSS_ROWS} == on_disk
    assert len(SDSS_ROWS) == 23 and len(SKY_ROWS) == 5


@pytest.mark.parametrize("row", SDSS_ROWS, ids=_ids(SDSS_ROWS))
def test_every_sdss_fixture_reads_with_index_labels(row):
    spec = _read(row["abspath"])
    meta = spec.meta
    assert meta["format"] == LAYOUT[row["layout"]]
    assert meta["survey"] == "SDSS"
    assert meta["obj_class"] == row["obj_class"]
    if row["layout"] == "spSpec_dr7":
        assert meta["subclass"] is None  # DR7 headers have no subclass; the index's comes from Hammer
    else:
        assert (meta["subclass"] or "") == row["subclass"]
    assert meta["snr"] == pytest.approx(float(row["snr_g"]), rel=1e-5)
    assert meta["z"] == pytest.approx(float(row["z"]), rel=1e-5, abs=1e-9)
    assert spec.medium == "vacuum" and meta["R"] == 2000
    assert np.isfinite(spec.flux).all() and np.isfinite(spec.ivar).all()
    assert 3550 < spec.wave[0] < 3850 and 9000 < spec.wave[-1] < 10500
    np.testing.assert_allclose(np.diff(np.log10(spec.wave)), 1e-4, rtol=1e-2)
    assert spec.good_fraction > 0.8


@pytest.mark.parametrize("row", [r for r in SDSS_ROWS if r["layout"] != "spSpec_dr7"],
                         ids=_ids([r for r in SDSS_ROWS if r["layout"] != "spSpec_dr7"]))
def test_dr8_ids_and_lite_full(row):
    spec = _read(row["abspath"])
    name = row["path"].split("/")[-1]
    assert "spec-" + spec.meta["id"] + ".fits" == name
    assert spec.meta["sdss_file"] == row["layout"].rsplit("_", 1)[1]


@pytest.mark.parametrize("row", SKY_ROWS, ids=_ids(SKY_ROWS))
def test_sky_fibres_read_as_low_snr_stars_with_zwarning(row):
    spec = _read(row["abspath"])
    assert spec.meta["obj_class"] == "STAR"
    assert spec.meta["snr"] < 1
    assert spec.meta["zwarning"] != 0


def test_galaxies_and_qso_keep_their_class():
    classes = {r["path"].split("/")[-1]: _read(r["abspath"]).meta["obj_class"] for r in SDSS_ROWS}
    assert classes["spec-0548-51986-0020.fits"] == "QSO"
    assert sum(c == "GALAXY" for c in classes.values()) == 5
    assert read_spectrum(FIXTURES / "sdss/spec_dr8plus/spec-0548-51986-0001.fits").meta["subclass"] is None


def test_white_dwarf_subclass_is_kept_verbatim():
    spec = read_spectrum(FIXTURES / "sdss/spec_dr8plus/spec-4455-55539-0692.fits")
    assert spec.meta["subclass"] == "WDhotter" and spec.meta["sdss_file"] == "full"
    assert spec.meta["run2d"] == "v5_7_0"


@pytest.mark.parametrize("name", ["spec-3128-54776-0008.fits", "spec-1942-53415-0073.fits",
                                  "spec-1678-53433-0001.fits"])
def test_dr8_mask_uses_the_bad_and_mask_bits_only(name):
    path = FIXTURES / "sdss/spec_dr8plus" / name
    with fits.open(path) as hdul:
        coadd = hdul[1].data
        and_mask, ivar = coadd["and_mask"].astype(np.int64), coadd["ivar"]
    spec = read_spectrum(path)
    expected = (ivar <= 0) | ((and_mask & SDSS_BAD_MASK) != 0)
    np.testing.assert_array_equal(spec.mask, expected)
    brightsky = (and_mask >> SDSS_BAD_BITS["BRIGHTSKY"]) & 1 == 1
    nearbad = ((and_mask >> 16) & 1 == 1) & ~expected
    assert spec.mask[brightsky].all()
    assert not spec.mask[nearbad].any()  # NEARBADPIXEL alone is informational
    assert spec.mask.sum() <= (and_mask != 0).sum()


def test_dr7_labels_catalogue_matches_the_fixtures():
    with open(DR7 / "labels_hammer_autoSpT.csv", newline="") as fh:
        labels = {r["file"]: r["hammer_spectype"] for r in csv.DictReader(fh)}
    assert set(labels) == {p.name for p in DR7.glob("*.fit")}
    for name in labels:
        spec = read_spectrum(DR7 / name)
        assert spec.meta["subclass"] is None and spec.meta["obj_class"] == "STAR"
        assert spec.meta["target_type"] == "QSO"  # OBJTYPE is the target type, not the class


def test_dr7_ivar_is_inverse_error_squared_and_grid_from_coeff():
    path = DR7 / "spSpec-52885-1117-250.fit"
    with fits.open(path) as hdul:
        data, header = hdul[0].data.astype(float), hdul[0].header
    spec = read_spectrum(path)
    err = data[2]
    good = (err > 0) & ~spec.mask
    np.testing.assert_allclose(spec.ivar[good], 1 / err[good] ** 2, rtol=1e-6)
    assert (spec.ivar[err <= 0] == 0).all() and spec.mask[err <= 0].all()
    np.testing.assert_allclose(spec.wave, 10 ** (header["COEFF0"] + header["COEFF1"] * np.arange(data.shape[1])))
    np.testing.assert_array_equal(spec.flux, data[0])
    assert spec.meta["id"] == "1117-52885-0250"
    assert spec.meta["spec_cln"] == "STAR" and spec.meta["data_release"] == "SDSS DR7"
    # MANYBADCOLUMNS (bit 4) covers ~45% of this star but is informational
    assert (((data[3].astype(np.int64) >> 4) & 1) == 1).mean() > 0.4 and spec.good_fraction > 0.9


def test_dr7_star_late_code_maps_to_star():
    spec = read_spectrum(DR7 / "spSpec-52885-1117-246.fit")
    assert fits.getheader(DR7 / "spSpec-52885-1117-246.fit")["SPEC_CLN"] == 6
    assert spec.meta["obj_class"] == "STAR" and spec.meta["spec_cln"] == "STAR_LATE"


def test_forcing_sdss_layouts_on_wrong_files():
    with pytest.raises(SpectrumFormatError, match=r"3703110\.fits.*'sdss-spec'.*loglam"):
        read_spectrum(FIXTURES / "lamost/dr10_table/3703110.fits", format="sdss-spec")
    with pytest.raises(SpectrumFormatError, match=r"spec-3128-54776-0008\.fits.*'sdss-spspec'"):
        read_spectrum(FIXTURES / "sdss/spec_dr8plus/spec-3128-54776-0008.fits", format="sdss-spspec")
