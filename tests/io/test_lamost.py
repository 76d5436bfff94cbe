"""LAMOST readers on the real fixture files: DR10 table, DR2–DR7 image and DR1 image layouts."""
import numpy as np
import pytest
from astropy.io import fits

from specnet.errors import SpectrumFormatError
from specnet.io import identify, read_spectrum
from tests.conftest import FIXTURES, fixture_rows

LAYOUT = {"dr10_table": "lamost-dr9", "dr2_dr7_image": "lamost-dr2", "dr1_image_nowave": "lamost-dr1"}
LAMOST_ROWS = [r for r in fixture_rows() if r["survey"] == "LAMOST"]
DR1_ROWS = [r for r in LAMOST_ROWS if r["layout"] == "dr1_image_nowave"]
#: Vacuum wavelengths (Å) of Hα and Hβ.
H_ALPHA, H_BETA = 6564.61, 4862.68


def test_fixture_index_lists_all_lamost_files():
    assert len(LAMOST_ROWS) == 8 + 4 + 86
    assert len(DR1_ROWS) == 86
    on_disk = {p.name for p in (FIXTURES / "lamost").glob("*/*.fits*")}
    assert {r["path"].split("/")[-1] for r in LAMOST_ROWS} == on_disk


@pytest.mark.parametrize("row", LAMOST_ROWS, ids=[r["path"].split("/")[-1] for r in LAMOST_ROWS])
def test_every_lamost_fixture_reads_with_index_labels(row):
    spec = read_spectrum(row["abspath"])
    meta = spec.meta
    assert meta["format"] == LAYOUT[row["layout"]]
    assert meta["survey"] == "LAMOST"
    assert meta["obj_class"] == row["obj_class"]
    assert meta["subclass"] == row["subclass"]
    assert meta["snr"] == pytest.approx(float(row["snr_g"]), rel=1e-6)
    assert meta["z"] == pytest.approx(float(row["z"]), rel=1e-4, abs=1e-9)
    assert meta["path"] == row["abspath"] and meta["id"]
    assert spec.medium == "vacuum"
    assert np.isfinite(spec.flux).all() and np.isfinite(spec.ivar).all()
    assert 3690 < spec.wave[0] < 3710 and 9000 < spec.wave[-1] < 9110
    assert np.all(np.diff(spec.wave) > 0)
    # constant log-λ step of 1e-4 dex, as the headers say
    np.testing.assert_allclose(np.diff(np.log10(spec.wave)), 1e-4, rtol=2e-3)
    assert spec.good_fraction > 0.4


@pytest.mark.parametrize("row", LAMOST_ROWS[:12:3], ids=lambda r: r["path"].split("/")[-1])
def test_mask_is_ivar_zero_or_andmask(row):
    with fits.open(row["abspath"]) as hdul:
        if hdul[0].data is None:
            tab = hdul["COADD"].data
            ivar, andmask = tab["IVAR"][0], tab["ANDMASK"][0]
        else:
            ivar, andmask = hdul[0].data[1], hdul[0].data[3]
    spec = read_spectrum(row["abspath"])
    np.testing.assert_array_equal(spec.mask, (ivar <= 0) | (andmask != 0))
    assert (spec.ivar[spec.mask] == 0).all()


def test_dr10_ids_are_obsids_and_release_recorded():
    spec = read_spectrum(FIXTURES / "lamost/dr10_table/3703110.fits")
    assert spec.meta["id"] == "3703110"
    assert spec.meta["data_release"] == "LAMOST DR10"
    assert spec.meta["R"] == 1800
    assert spec.npix == 3909


def test_dr2_gzipped_file_reads_like_any_other():
    path = FIXTURES / "lamost/dr2_dr7_image/spec-57287-KP193637N444141V03_sp10-161.fits.gz"
    spec = read_spectrum(path)
    assert spec.meta["format"] == "lamost-dr2" and spec.meta["data_release"] == "LAMOST DR6"
    assert spec.meta["id"] == "359910161"


@pytest.mark.parametrize("row", DR1_ROWS, ids=[r["path"].split("/")[-1] for r in DR1_ROWS])
def test_every_dr1_file_has_wavelengths_inside_lamost_range(row):
    assert identify(row["abspath"]) == ["lamost-dr1"]
    spec = read_spectrum(row["abspath"])
    assert spec.wave.min() >= 3690 and spec.wave.max() <= 9100
    header = fits.getheader(row["abspath"])
    np.testing.assert_allclose(spec.wave, 10 ** (header["COEFF0"] + header["COEFF1"] * np.arange(spec.npix)))


def test_dr1_row3_is_a_subcontinuum_not_wavelength():
    """Trusting row 3 of a DR1 file as λ gives values ≈1 (continuum-normalised flux), not Å."""
    for row in DR1_ROWS[:10]:
        with fits.open(row["abspath"]) as hdul:
            row3 = hdul[0].data[2].astype(float)
        assert np.nanmedian(row3) < 5 and np.nanmax(row3) < 1000  # nowhere near 3700–9100 Å
        assert not np.all(np.diff(row3) > 0)
        with pytest.raises(SpectrumFormatError, match="lamost-dr1"):
            read_spectrum(row["abspath"], format="lamost-dr2")


def _line_centroid(rest, flux, good, line):
    """Depth-weighted centroid (Å) of an absorption line within ±15 Å, continuum from ±25–45 Å."""
    def side(lo, hi):
        sel = (rest > line + lo) & (rest < line + hi) & good
        return np.median(rest[sel]), np.median(flux[sel])

    (x1, y1), (x2, y2) = side(-45, -25), side(25, 45)
    core = (rest > line - 15) & (rest < line + 15) & good
    depth = np.clip(y1 + (y2 - y1) * (rest[core] - x1) / (x2 - x1) - flux[core], 0, None)
    return float((rest[core] * depth).sum() / depth.sum())


def test_dr1_wavelengths_put_balmer_lines_at_their_vacuum_positions():
    """On the COEFF grid, A stars' Hα/Hβ centroids sit on the vacuum lines (air would be 1.4–1.8 Å off)."""
    a_stars = [r for r in DR1_ROWS if r["subclass"].startswith("A")]
    assert len(a_stars) >= 10
    for line in (H_ALPHA, H_BETA):
        offsets = []
        for row in a_stars:
            spec = read_spectrum(row["abspath"])
            rest = spec.wave / (1 + spec.meta["z"])
            offsets.append(_line_centroid(rest, spec.flux, spec.good, line) - line)
        offsets = np.array(offsets)
        assert np.all(np.abs(offsets) < 2.0), (line, offsets)
        assert abs(np.median(offsets)) < 0.5, (line, offsets)


def test_dr2_wavelength_row_matches_its_own_log_linear_header():
    for row in [r for r in LAMOST_ROWS if r["layout"] == "dr2_dr7_image"]:
        spec = read_spectrum(row["abspath"])
        header = fits.getheader(row["abspath"])
        grid = 10 ** (header["COEFF0"] + header["COEFF1"] * np.arange(spec.npix))
        np.testing.assert_allclose(spec.wave, grid, atol=0.01)


def test_vacuum_false_header_gives_air(tmp_path):
    src = FIXTURES / "lamost/dr2_dr7_image/spec-58397-EG014118N254444M01_sp03-031.fits"
    with fits.open(src) as hdul:
        hdul[0].header["VACUUM"] = False
        hdul.writeto(tmp_path / "air.fits")
    assert read_spectrum(tmp_path / "air.fits").medium == "air"
    assert read_spectrum(src).medium == "vacuum"


def test_forcing_a_lamost_layout_on_the_wrong_file_names_file_and_reason():
    dr10 = FIXTURES / "lamost/dr10_table/3703110.fits"
    with pytest.raises(SpectrumFormatError, match=r"3703110\.fits.*not a valid 'lamost-dr2'.*2-D image"):
        read_spectrum(dr10, format="lamost-dr2")
    dr2 = FIXTURES / "lamost/dr2_dr7_image/spec-58397-EG014118N254444M01_sp03-031.fits"
    with pytest.raises(SpectrumFormatError, match=r"sp03-031\.fits.*'lamost-dr9'.*COADD"):
        read_spectrum(dr2, format="lamost-dr9")
