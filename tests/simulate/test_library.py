"""TemplateLibrary on the real template libraries of ``shared/data/templates``."""
from __future__ import annotations

import csv
import re
import warnings

import numpy as np
import pytest
from astropy.io import fits

from specnet.errors import LabelError
from specnet.labels import parse_mk
from specnet.simulate import Template, TemplateLibrary
from specnet.simulate.library import lum_group
from tests.simulate import TEMPLATES, real_library


def _has_subtype(label) -> bool:
    """What a usable template label is: an MK type with a numeric subtype."""
    if label is None or not re.search(r"\d", re.sub(r"\([^()]*\)", "", str(label))):
        return False
    try:
        parse_mk(label)
    except LabelError:
        return False
    return True


def _expected_counts() -> dict[str, int]:
    """Per-library template counts worked out from the files themselves."""
    eig = 0
    for path in sorted((TEMPLATES / "sdss_eigenstar").glob("spEigenStar-*.fits")):
        header = fits.getheader(path)
        nrows = fits.getdata(path).shape[0]
        eig += sum(_has_subtype(str(header[f"NAME{i}"]).strip()) for i in range(nrows))
    miles_dir = TEMPLATES / "miles_v9.1"
    with open(miles_dir / "miles_labels.csv", newline="") as fh:
        # a row whose file is "missing" may spell an unknown digit as "." (star 022. is m0221)
        miles = sum(_has_subtype(row["spt"] or None) for row in csv.DictReader(fh)
                    if row["exists"] == "True" or list(miles_dir.glob(row["file"].replace(".V.", "?V."))))
    hammer = fits.getdata(TEMPLATES / "hammer" / "hammer_templates_converted.fits", 1)
    return {
        "Pickles1998": len(list((TEMPLATES / "pickles1998").glob("*.sed"))),
        "MILES": miles,
        "Hammer": sum(_has_subtype(str(s).strip()) for s in hammer["SPT"]),
        "SDSS-eigenstar": eig,
        "Bochanski2007": len(list((TEMPLATES / "m_l_dwarfs" / "B07M").glob("*.fits"))),
        "Schmidt": len(list((TEMPLATES / "m_l_dwarfs" / "S18M").glob("*.fits")))
        + len(list((TEMPLATES / "m_l_dwarfs" / "S14L").glob("*.fits"))),
    }


def test_counts_per_library_match_the_files():
    lib = real_library()
    expected = _expected_counts()
    assert lib.counts() == expected
    assert len(lib) == sum(expected.values()) > 1200
    assert len(set(lib.names)) == len(lib)


def test_every_template_is_labelled_in_vacuum_and_finite():
    lib = real_library()
    assert np.all(np.isfinite(lib.subtypes)) and lib.subtypes.min() >= 0 and lib.subtypes.max() <= 89
    for t in lib:
        assert np.all(np.diff(t.wave) > 0) and np.all(np.isfinite(t.flux))
        assert np.all(t.fwhm_at(np.array([5000.0])) > 0)
    summary = lib.summary()
    assert sorted(summary["library"]) == sorted(lib.counts())
    assert int(summary["n"].sum()) == len(lib)


def _line_minimum(t: Template, centre: float, half: float = 6.0) -> float:
    sel = (t.wave > centre - half) & (t.wave < centre + half)
    w, f = t.wave[sel], t.flux[sel]
    i = int(np.argmin(f))
    a, b, c = f[i - 1], f[i], f[i + 1]
    return float(w[i] + 0.5 * (a - c) / (a - 2 * b + c) * (w[i + 1] - w[i]))


def test_air_libraries_are_converted_to_vacuum():
    lib = real_library()
    # MILES (air) A dwarfs: H-alpha must sit at its vacuum wavelength 6564.61 Å, not the air 6562.80 Å
    a_stars = [t for t in lib.filter(libraries="MILES", lum_classes="V", subtype_range=(20, 24))][:5]
    assert len(a_stars) >= 3
    for t in a_stars:
        assert _line_minimum(t, 6564.0) == pytest.approx(6564.61, abs=0.6)
    assert _line_minimum(lib["hammer:A0"], 6564.0) == pytest.approx(6564.61, abs=0.8)
    # Schmidt composites (air): K I 7698.96 Å (air) is 7701.08 Å in vacuum
    assert _line_minimum(lib["schmidt:M8"], 7700.0, 5.0) == pytest.approx(7701.08, abs=1.0)


def test_unparseable_labels_warn_and_are_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECNET_HOME", str(tmp_path))
    with pytest.warns(UserWarning, match=r"not an MK spectral type.*'WD'") as record:
        lib = TemplateLibrary.from_path(TEMPLATES / "sdss_eigenstar")
    assert not any("unreadable" in str(w.message) for w in record)  # the .par/.dat files are skipped silently
    assert not any(t.label.startswith(("WD", "Carbon")) for t in lib)
    assert list(tmp_path.glob("cache/templates-*.npz"))
    with pytest.warns(UserWarning, match="not an MK spectral type"):  # the cached load warns again
        again = TemplateLibrary.from_path(TEMPLATES / "sdss_eigenstar")
    assert again.names == lib.names and again.fingerprint == lib.fingerprint


def test_non_template_files_are_skipped_silently(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECNET_HOME", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lib = TemplateLibrary.from_path(TEMPLATES / "m_l_dwarfs")  # holds readme.md too
    assert lib.counts() == {"Bochanski2007": 10, "Schmidt": 12}
    assert set(lib.lum_groups) == {"V"}


def test_extend_splices_the_missing_red_end():
    lib = real_library().filter(libraries=["MILES", "Hammer", "SDSS-eigenstar", "Pickles1998"])
    ext = lib.extend(3650.0, 9250.0)
    assert len(ext) == len(lib)
    for t in ext:
        assert t.wave[0] <= 3650.0 and t.wave[-1] >= 9250.0
    spliced = [t for t in ext if t.library == "MILES"]
    assert all("red end spliced from" in t.notes for t in spliced)
    # the join is continuous: median flux just before and after the old red end agree
    ratios = []
    for t in spliced[::25]:
        before = np.median(t.flux[(t.wave > 7330) & (t.wave < 7400)])
        after = np.median(t.flux[(t.wave > 7430) & (t.wave < 7500)])
        ratios.append(after / before)
    assert np.all(np.abs(np.log(ratios)) < 0.2)
    assert ext is lib.extend(3650.0, 9250.0)  # cached


def test_container_api_and_validation():
    w = np.linspace(3500, 9500, 601)
    a = Template("x:K3V", 53.0, "V", -0.2, "x", w, np.ones(601), 2.5, label="K3V")
    b = Template("x:K3V", 55.0, "III", None, "y", w, np.ones(601), w / 2000)
    lib = TemplateLibrary([a, b])
    assert lib.names == ["x:K3V", "x:K3V#1"] and a.name == "x:K3V"  # made unique without mutating a
    assert lib["x:K3V#1"].subtype == 55.0 and lib[0] is a
    assert len(lib[[1]]) == 1 and lib.filter(lum_classes=["III"]).names == ["x:K3V#1"]
    assert lib.filter(subtype_range=(54, 56), libraries=["y"]).names == ["x:K3V#1"]
    assert [lum_group(x) for x in ("V", "IV-V", "IV", "III", "Ib", None)] == ["V", "V", "IV", "III", "I", "?"]
    with pytest.raises(ValueError, match="strictly increasing"):
        Template("bad", 50.0, None, None, "x", w[::-1], np.ones(601), 2.5)
    with pytest.raises(ValueError, match="subtype must be finite"):
        Template("bad", float("nan"), None, None, "x", w, np.ones(601), 2.5)
    with pytest.raises(ValueError, match="No such template"):
        TemplateLibrary.from_path(TEMPLATES / "no-such-folder")
