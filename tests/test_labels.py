"""The MK label scale: parsing real catalogue/library strings, formatting, round trips."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import specnet
from specnet.errors import LabelError
from specnet.labels import (
    CLASSES,
    SUBTYPE_MAX,
    SUBTYPE_MIN,
    MKType,
    format_subtype,
    format_subtypes,
    luminosity_class,
    parse_mk,
    parse_subtype,
    parse_subtypes,
)
from tests.conftest import FIXTURES, TEMPLATES

# (text, subtype, lum_class)
TABLE = [
    ("K3", 53.0, None),
    ("K3V", 53.0, "V"),
    ("A1IV", 21.0, "IV"),
    ("G8.5", 48.5, None),
    ("B9.5V", 19.5, "V"),
    ("M2.5V", 62.5, "V"),
    ("dM0", 60.0, "V"),
    ("sdM1", 61.0, "VI"),
    ("gK2", 52.0, "III"),
    ("K3V (32147)", 53.0, "V"),
    ("A0 (19510)", 20.0, None),
    ("O5", 5.0, None),
    ("L0", 70.0, None),
    ("L5.5", 75.5, None),
    ("T2", 82.0, None),
    # Pickles stems
    ("m2p5v", 62.5, "V"),
    ("b57v", 16.0, "V"),
    ("rk1iii", 51.0, "III"),
    ("wg5v", 45.0, "V"),
    ("k34ii", 53.5, "II"),
    ("a47iv", 25.5, "IV"),
    ("b12iii", 11.5, "III"),
    ("f02iv", 31.0, "IV"),
    ("m10iii", 69.0, "III"),
    ("o5v", 5.0, "V"),
    ("a0i", 20.0, "I"),
    ("m3", 63.0, None),
    # MILES free-form
    ("07Ia", 7.0, "Ia"),
    ("08 Ib", 8.0, "Ib"),
    ("G1V", 41.0, "V"),
    ("sd:F", 35.0, "VI"),
    ("F5-6V", 35.5, "V"),
    ("K0III-IV", 50.0, "III-IV"),
    ("A2Iae", 22.0, "Ia"),
    ("B9p", 19.0, None),
    ("M3III:", 63.0, "III"),
    ("G5IV+...", 45.0, "IV"),
    ("G8/K0III", 49.0, "III"),
    ("K0/K1III/IV", 50.5, "III-IV"),
    ("A5/A6V", 25.5, "V"),
    ("G6 IV + M6 V", 46.0, "IV"),
    ("A0 V (HB)", 20.0, "V"),
    ("M1Ia-ab", 61.0, "Ia-ab"),
    ("K4-5 III-II", 54.5, "III-II"),
    ("M4.5:III", 64.5, "III"),
    ("F2Vw", 32.0, "V"),
    ("GII:wp...", 45.0, "II"),
    # SDSS eigenstar / LAMOST
    ("O8/O9 (167771)", 8.5, None),
    ("B0.5Ibe... (187459)", 10.5, "Ib"),
    ("OB", 10.0, None),
    ("O", 5.0, None),
    ("Ldwarf", 75.0, "V"),
    (b"K5", 55.0, None),
]

NOT_MK = ["WDhotter", "WD", "WDcooler", "CalciumWD", "Carbon", "Carbon_lines", "CarbonWD", "CV",
          "QSO", "GALAXY", "STARFORMING", "STARBURST", "BROADLINE", "AGN", "DA", "DB", "DoubleStar",
          "Galaxy", "AGB", "HB", "GB", "III", "R...", "S?", "", "   ", "nan", None, float("nan"), 53.0]

# The MILES spectral-type strings that are not MK types (evolutionary stages, carbon/S stars,
# a luminosity class alone, blank). Every other MILES label must parse.
MILES_NOT_MK = {"", "AGB", "GB", "HB", "III", "R...", "S?"}


@pytest.mark.parametrize("text,subtype,lum", TABLE)
def test_parse_table(text, subtype, lum):
    mk = parse_mk(text)
    assert isinstance(mk, MKType)
    assert mk.subtype == pytest.approx(subtype)
    assert mk.lum_class == lum
    assert parse_subtype(text) == mk.subtype
    assert luminosity_class(text) == lum


def test_parse_details():
    assert parse_mk("rk1iii").metallicity == "r"
    assert parse_mk("wg5v").metallicity == "w"
    assert parse_mk("F2Vw").metallicity == "w"
    assert parse_mk("Am").metallicity is None and "m" in parse_mk("Am").peculiarities
    assert parse_mk("sdM1").prefix == "sd" and parse_mk("dM0").prefix == "d"
    assert parse_mk("b57v").subtype_range == (15.0, 17.0)
    assert parse_mk("m10iii").uncertain  # clipped to M9
    assert parse_mk("sd:F").uncertain and parse_mk("M3III:").uncertain and parse_mk("M?").uncertain
    assert not parse_mk("K3V").uncertain
    assert "(32147)" in parse_mk("K3V (32147)").peculiarities
    assert "M6 V" in parse_mk("G6 IV + M6 V").peculiarities
    assert parse_mk("K3V").text == "K3V"
    assert parse_mk("m2p5v").canonical == "M2.5V"
    assert parse_mk("K3V").spectral_class == "K"
    assert luminosity_class("IV-V") == "IV-V"


def test_scale_is_monotonic():
    values = [parse_subtype(f"{c}{d}") for c in CLASSES for d in range(10)]
    assert values == sorted(values) and values[0] == SUBTYPE_MIN and values[-1] == SUBTYPE_MAX
    assert np.all(np.diff(values) == 1.0)
    assert specnet.parse_subtype("K3V") == 53.0


@pytest.mark.parametrize("text", NOT_MK, ids=repr)
def test_not_mk_raises_label_error_quoting_text(text):
    with pytest.raises(LabelError) as info:
        parse_subtype(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_descending_range_is_rejected():
    with pytest.raises(LabelError, match="K5-3"):
        parse_subtype("K5-3")


def _miles_labels() -> list[str]:
    with open(TEMPLATES / "miles_v9.1" / "miles_labels.csv", newline="") as fh:
        return [row["spt"] for row in csv.DictReader(fh)]


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:          # "--" or blank
        return math.nan


def test_every_miles_label():
    labels = _miles_labels()
    assert len(labels) > 950
    values = parse_subtypes(labels, errors="nan")
    failed = {t for t, v in zip(labels, values) if np.isnan(v)}
    assert failed == MILES_NOT_MK
    ok = ~np.isnan(values)
    assert ok.sum() >= 900          # 909 of 985 (76 = 29 blank + 47 GB/HB/AGB/S/R/III)
    assert np.all((values[ok] >= SUBTYPE_MIN) & (values[ok] < 70))   # MILES has no L/T dwarfs
    # cross-check the scale against MILES's own Teff: hotter stars have earlier types
    with open(TEMPLATES / "miles_v9.1" / "miles_labels.csv", newline="") as fh:
        teff = np.array([_float(r["teff"]) for r in csv.DictReader(fh)])
    good = ok & np.isfinite(teff)
    rho = np.corrcoef(np.argsort(np.argsort(values[good])), np.argsort(np.argsort(-teff[good])))[0, 1]
    assert rho > 0.9


def test_hammer_eigenstar_pickles_dwarfs_index():
    from astropy.io import fits

    spt = [s.strip() for s in fits.getdata(TEMPLATES / "hammer" / "hammer_templates_converted.fits", 1)["SPT"]]
    assert parse_subtypes(spt).tolist() == sorted(parse_subtypes(spt).tolist())  # O5..L8 in order
    assert parse_subtypes(spt)[[0, -1]].tolist() == [5.0, 78.0]

    non_mk = {"Carbon", "Carbon_lines", "CarbonWD", "CalciumWD", "WD", "WDcooler", "WDhotter", "WDmagnetic"}
    for path in sorted((TEMPLATES / "sdss_eigenstar").glob("spEigenStar-*.fits")):
        header = fits.getheader(path)
        names = [str(header[k]) for k in header if k.startswith("NAME")]
        values = parse_subtypes(names, errors="nan")
        assert {n for n, v in zip(names, values) if np.isnan(v)} <= non_mk, path.name
        assert np.isfinite(values).sum() >= 35

    stems = [p.stem for p in (TEMPLATES / "pickles1998").glob("*.sed")]
    assert len(stems) == 131
    values = parse_subtypes(stems)
    assert np.all(np.isfinite(values))
    lums = {luminosity_class(s) for s in stems}
    assert lums == {"I", "II", "III", "IV", "V"}

    dwarfs = [p.name.split(".")[0] for p in (TEMPLATES / "m_l_dwarfs").glob("*/*.fits")]
    values = parse_subtypes(dwarfs)
    assert set(values.tolist()) == set(np.arange(60.0, 70.0)) | set(np.arange(70.0, 79.0))

    with open(FIXTURES / "index.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["obj_class"] == "STAR" and row["subclass"] not in ("", "WDhotter"):
            assert math.isfinite(parse_subtype(row["subclass"])), row
        elif row["obj_class"] != "STAR":
            with pytest.raises(LabelError):
                parse_subtype(row["subclass"])


def test_format_subtype_examples():
    assert format_subtype(53.4) == "K3"
    assert format_subtype(53.5, decimals=1) == "K3.5"
    assert format_subtype(53.5) == "K4"           # half up
    assert format_subtype(59.96, decimals=1) == "M0.0"
    assert format_subtype(-5) == "O0"
    assert format_subtype(120) == "T9"
    assert format_subtype(89.7, decimals=1) == "T9.0"
    assert format_subtype(np.float32(62.5), decimals=1) == "M2.5"
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="Received"):
            format_subtype(bad)
    with pytest.raises(ValueError, match="decimals"):
        format_subtype(50, decimals=-1)


def test_vectorised_helpers():
    texts = ["K3", "QSO", "m2p5v", None]
    out = parse_subtypes(texts, errors="nan")
    assert out.dtype == np.float64 and out.shape == (4,)
    assert out[0] == 53.0 and out[2] == 62.5 and np.isnan(out[1]) and np.isnan(out[3])
    with pytest.raises(LabelError, match="QSO"):
        parse_subtypes(texts)
    with pytest.raises(ValueError, match="errors"):
        parse_subtypes(texts, errors="ignore")
    assert format_subtypes(np.array([53.0, 62.5, 75.0])) == ["K3", "M3", "L5"]
    assert format_subtypes([53.0, np.nan], decimals=1, nan="") == ["K3.0", ""]
    with pytest.raises(ValueError):
        format_subtypes([np.nan])


scale = st.floats(min_value=SUBTYPE_MIN, max_value=SUBTYPE_MAX, allow_nan=False)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(scale)
def test_round_trip_one_decimal(x):
    expected = math.floor(x * 10 + 0.5) / 10
    assert parse_subtype(format_subtype(x, decimals=1)) == pytest.approx(min(expected, SUBTYPE_MAX), abs=1e-9)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(scale, st.integers(0, 2))
def test_format_parse_idempotent(x, decimals):
    text = format_subtype(x, decimals)
    assert format_subtype(parse_subtype(text), decimals) == text
    assert abs(parse_subtype(text) - x) <= 0.5 * 10.0 ** -decimals + 1e-9


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(list(CLASSES)), st.integers(0, 9), st.sampled_from(["", ".5"]),
       st.sampled_from(["", "V", "IV", "III", "II", "Ib", "Iab", "Ia", "IV-V", "III/IV"]),
       st.sampled_from(["", " ", ":"]), st.sampled_from(["", "e", "p", "var", "n", "..."]))
def test_generated_mk_strings(cls, digit, half, lum, sep, pec):
    text = f"{cls}{digit}{half}{sep}{lum}{pec}"
    mk = parse_mk(text)
    assert mk.subtype == 10 * CLASSES.index(cls) + digit + (0.5 if half else 0)
    assert mk.lum_class == (lum.replace("/", "-") or None)
