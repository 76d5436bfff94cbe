"""Readers for the labelled stellar template libraries of ``shared/data/templates``.

- ``sdss-eigenstar``: SDSS spEigenStar, survey ``"SDSS-eigenstar"``, vacuum, ``R`` = 2000.
- ``hammer``: Hammer (Covey+2007), survey ``"Hammer"``, **air**, ``R`` = 2000 (assumed: the
  file does not state it).
- ``pickles``: Pickles 1998, survey ``"Pickles1998"``, air, ``R`` = 500.
- ``miles``: MILES v9.1, survey ``"MILES"``, air, ``resolution_fwhm`` = 2.5 Å (header ``FWHM``);
  ``teff``, ``logg``, ``feh`` from the catalogue.
- ``ml-dwarf``: Bochanski+2007 M0–M9 (``B07M/``), survey ``"Bochanski2007"``, **vacuum**;
  Schmidt M7–M9 and L0–L8 (``S18M/``, ``S14L/``), survey ``"Schmidt"``, **air**; ``R`` = 2000
  (SDSS spectra). Which of the two is told by the header grid (linear 0.1 Å from 3825 Å
  vs log-λ), not by the folder name.

How the media were established (line centres measured on the files, parabolic
minimum of the absorption line): the SDSS eigenstar A0 rows have Hα/Hβ at
6565.1/4862.9 Å (53724) and 6564.3/4862.7 Å (55734), the vacuum positions
6564.61/4862.68 Å, as the SDSS pipeline works in vacuum. The **Hammer** templates, although built from SDSS-like spectra, are in
**air**: the A0 template has Hα 6562.79, Hβ 4861.34, Hγ 4340.43, Hδ 4101.74 Å
(air values 6562.80, 4861.33, 4340.47, 4101.74; vacuum would be 1.2–1.8 Å
redder) and K3 has Na D2 at 5889.95 Å (air). The Bochanski+2007 composites
(``B07M/``, linear 0.1 Å grid) are in **vacuum** (K I 7700.9–7701.1 Å, Na I
8185.5/8197.0 Å; vacuum 7701.08, 8185.51/8197.08), while the Schmidt
composites (``S18M/``, ``S14L/``, log-λ grid) are in **air** (K I 7698.9, Na I
8183.2/8194.8 Å; air 7698.96, 8183.26/8194.82). MILES and Pickles are air, as
their papers state.

Labels (``meta["subclass"]``) are kept as the library writes them, for
:func:`specnet.labels.parse_mk` to interpret: spEigenStar ``NAMEi`` keywords
(``"K3V (32147)"``, also non-MK rows ``WD``, ``WDhotter``, ``Carbon``,
``CalciumWD``..., flagged ``meta["non_mk"] = True``), the Hammer ``SPT`` column
(``"K3"``), the Pickles file stem (``"m2p5v"``, ``"rk1iii"``; ``None`` when the
reader has no file name), the MILES catalogue type from ``miles_labels.csv``
(``"G1V"``, ``"sd:F"``; ``None`` for the 29 stars without one) and the M/L file
name (``m3.all.na.k`` → ``"M3"``, ``L4`` → ``"L4"``). Every template has
``obj_class = "STAR"``, ``z = 0`` (rest frame), ``snr = None``.

Masking: template pixels whose flux is exactly 0 are padding or "no data"
(the spEigenStar ends, the Pickles far-UV, MILES' m0970 red end) and are
masked; the Hammer ``99999`` pads are dropped.

Example
-------
>>> from specnet.io import read_spectra
>>> stars = read_spectra("../shared/data/templates/sdss_eigenstar/spEigenStar-55734.fits")  # doctest: +SKIP
>>> len(stars), stars[91].meta["subclass"], stars[91].medium                               # doctest: +SKIP
(123, 'K3V (32147)', 'vacuum')
"""
from __future__ import annotations

import csv
import functools
import os
import re

import numpy as np

from specnet.io import _util as u
from specnet.io.registry import register_format
from specnet.spectrum import Spectrum

#: spEigenStar rows whose name is no MK type (white dwarfs, carbon stars).
NON_MK_PREFIXES = ("WD", "Carbon", "CalciumWD")

_STAR = {"obj_class": "STAR", "z": 0.0, "snr": None}


def _zero_mask(flux: np.ndarray) -> np.ndarray:
    return np.asarray(flux) == 0


# ------------------------------------------------------------- sdss-eigenstar
def _eigen_names(header, nrows: int) -> list[str] | None:
    names = []
    for i in range(nrows):  # stop at the first missing card: identify runs this on every 2-D image
        name = header.get(f"NAME{i}")
        if name is None:
            return None
        names.append(str(name).strip())
    return names


def identify_eigenstar(hdul) -> bool:
    """A 2-D primary image with COEFF0/COEFF1 and one ``NAMEi`` keyword per row."""
    data = u.primary_image(hdul, ndim=2)
    if data is None:
        return False
    header = hdul[0].header
    return "COEFF0" in header and "COEFF1" in header and _eigen_names(header, data.shape[0]) is not None


@register_format("sdss-eigenstar", identify_eigenstar, priority=30)
def read_eigenstar(hdul, path) -> list[Spectrum]:
    """SDSS ``spEigenStar-*.fits``: one star template per image row, names in NAME0…NAMEn."""
    fmt = "sdss-eigenstar"
    data = u.primary_image(hdul, ndim=2)
    if data is None:
        raise u.fail(path, fmt, "primary HDU is not a 2-D image (one template per row)")
    header = hdul[0].header
    names = _eigen_names(header, data.shape[0])
    if names is None:
        raise u.fail(path, fmt, f"header lacks a NAMEi keyword for each of the {data.shape[0]} rows")
    wave = u.loglinear_wave(header, data.shape[1], path, fmt)
    medium = u.header_medium(header, "vacuum")
    base = u.stem(path) or "spEigenStar"
    out = []
    for i, (name, flux) in enumerate(zip(names, np.asarray(data, dtype=np.float64))):
        meta = dict(_STAR, survey="SDSS-eigenstar", subclass=name or None, id=f"{base}#{i}: {name}",
                    format=fmt, path=path, template_name=name, row=i, R=2000,
                    non_mk=name.startswith(NON_MK_PREFIXES), library="SDSS spEigenStar")
        out.append(Spectrum(wave, flux, None, _zero_mask(flux), meta, medium=medium))
    return out


# --------------------------------------------------------------------- hammer
def identify_hammer(hdul) -> bool:
    """A binary table with SPT, WAVE and FLUX columns."""
    hdu, _ = u.table_hdu(hdul, {"spt", "wave", "flux"})
    return hdu is not None


@register_format("hammer", identify_hammer, priority=30)
def read_hammer(hdul, path) -> list[Spectrum]:
    """Hammer templates (Covey+2007) as a table SPT, WAVE, FLUX; 99999 pads are dropped."""
    fmt = "hammer"
    hdu, lookup = u.table_hdu(hdul, {"spt", "wave", "flux"})
    if hdu is None or hdu.data is None or len(hdu.data) == 0:
        raise u.fail(path, fmt, "no binary table with rows and SPT, WAVE, FLUX columns")
    spt = [u.clean_str(s) for s in hdu.data[lookup["spt"]]]
    waves = np.asarray(hdu.data[lookup["wave"]], dtype=np.float64).reshape(len(spt), -1)
    fluxes = np.asarray(hdu.data[lookup["flux"]], dtype=np.float64).reshape(len(spt), -1)
    keep_all = (waves != 99999.0) & (fluxes != 99999.0) & np.isfinite(waves)
    out = []
    for i, label in enumerate(spt):
        keep = keep_all[i]
        wave, flux = waves[i, keep], fluxes[i, keep]
        u.check_wave_range(wave, path, fmt, f"row {i + 1} (SPT={label!r}) WAVE")
        meta = dict(_STAR, survey="Hammer", subclass=label, id=f"Hammer {label}", format=fmt, path=path,
                    template_name=label, row=i, R=2000, library="Hammer (Covey et al. 2007)",
                    resolution_note="R assumed (SDSS-like templates); the file does not state it")
        out.append(Spectrum(wave, flux, None, _zero_mask(flux), meta, medium="air"))
    return out


# -------------------------------------------------------------------- pickles
#: Pickles (1998) file stems: [r|w] class subtype(s) [p5] luminosity class.
PICKLES_STEM = re.compile(r"^[rw]?[obafgkm]\d{1,2}(p\d)?(i{1,3}|iv|v)$")


def _pickles_table(text: str):
    parsed = u.parse_columns(text)
    if parsed is None:
        return None
    data = parsed[0]
    if data.shape[1] != 2 or data.shape[0] < 1000:
        return None
    wave = data[:, 0]
    step = np.diff(wave)
    if not (np.allclose(step, 5.0, atol=1e-6) and wave[0] <= 1200.0 and wave[-1] >= 24000.0):
        return None
    return data


def identify_pickles(text) -> bool:
    """Two numeric columns on a 5 Å grid from ≤1200 to ≥24000 Å (the Pickles 1998 layout)."""
    return _pickles_table(text) is not None


@register_format("pickles", identify_pickles, priority=10, kind="text")
def read_pickles(text, path) -> list[Spectrum]:
    """Pickles (1998) ``.sed`` ASCII (Å in air, F_λ normalised at 5556 Å); label = file stem."""
    fmt = "pickles"
    data = _pickles_table(text)
    if data is None:
        raise u.fail(path, fmt, "not two numeric columns (Å, F_λ) on a 5 Å grid spanning 1150–25000 Å")
    name = u.stem(path)
    label = name.lower() if name and PICKLES_STEM.match(name.lower()) else None
    metallicity = {"r": "rich", "w": "weak"}.get(label[0]) if label else None
    meta = dict(_STAR, survey="Pickles1998", subclass=label, id=name, format=fmt, path=path,
                template_name=name, R=500, metallicity=metallicity, library="Pickles (1998)")
    flux = data[:, 1]
    return [Spectrum(data[:, 0], flux, None, _zero_mask(flux), meta, medium="air")]


# ---------------------------------------------------------------------- miles
_MILES_ID = re.compile(r"m(\d{4})V", re.IGNORECASE)


def identify_miles(hdul) -> bool:
    """A 1-D primary image with ``TPLLIB = 'MILES'`` or the MILES grid (CRVAL1 3540.5, CDELT1 0.9 Å)."""
    data = u.primary_image(hdul, ndim=1)
    if data is None:
        return False
    header = hdul[0].header
    if str(header.get("TPLLIB", "")).strip().upper() == "MILES":
        return True
    crval, cdelt = u.header_float(header, "CRVAL1"), u.header_float(header, "CDELT1", "CD1_1")
    return crval is not None and cdelt is not None and abs(crval - 3540.5) < 0.01 and abs(cdelt - 0.9) < 1e-6


@functools.lru_cache(maxsize=4)
def _miles_catalogue(csv_path: str, mtime: float) -> tuple[dict, list]:
    """``miles_labels.csv`` as ({file name: row}, [(id pattern, row), ...])."""
    by_name, by_id = {}, []
    with open(csv_path, newline="") as fh:
        for row in csv.DictReader(fh):
            by_name[os.path.basename(row.get("file", ""))] = row
            ident = (row.get("miles_id") or "").strip()
            if ident:
                # The upstream catalogue spells star 0221 as "022.": a '.' is an unknown digit.
                by_id.append((re.compile("^" + ident.replace(".", r"\d") + "$"), row))
    return by_name, by_id


def _miles_label(path) -> dict | None:
    """The ``miles_labels.csv`` row for a MILES file (CSV in the parent of ``fits/``), or ``None``."""
    if not path:
        return None
    folder = os.path.dirname(os.path.dirname(os.path.abspath(os.fspath(path))))
    csv_path = os.path.join(folder, "miles_labels.csv")
    if not os.path.isfile(csv_path):
        return None
    by_name, by_id = _miles_catalogue(csv_path, os.path.getmtime(csv_path))
    name = os.path.basename(os.fspath(path))
    if name in by_name and str(by_name[name].get("exists", "True")).strip() != "False":
        return by_name[name]
    match = _MILES_ID.search(name)
    if not match:
        return None
    hits = [row for pattern, row in by_id if pattern.match(match.group(1))]
    return hits[0] if len(hits) == 1 else None


@register_format("miles", identify_miles, priority=30)
def read_miles(hdul, path) -> list[Spectrum]:
    """MILES v9.1 1-D FITS (CRVAL1 = 3540.5, CDELT1 = 0.9 Å, air); labels from ``miles_labels.csv``."""
    fmt = "miles"
    data = u.primary_image(hdul, ndim=1)
    if data is None:
        raise u.fail(path, fmt, "primary HDU is not a 1-D image")
    header = hdul[0].header
    wave = u.wcs_wave(header, data.shape[0], path, fmt)
    row = _miles_label(path) or {}
    name = u.stem(path)
    match = _MILES_ID.search(name or "")
    meta = dict(_STAR, survey="MILES", subclass=u.clean_str(row.get("spt")),
                id=f"MILES m{match.group(1)}V" if match else name, format=fmt, path=path,
                template_name=name, star_name=u.clean_str(row.get("name")),
                teff=u.as_float(row.get("teff")), logg=u.as_float(row.get("logg")),
                feh=u.as_float(row.get("feh")),
                resolution_fwhm=u.header_float(header, "FWHM") or 2.5, library="MILES v9.1")
    flux = np.asarray(data, dtype=np.float64)
    return [Spectrum(wave, flux, None, _zero_mask(flux), meta, medium=u.header_medium(header, "air"))]


# ------------------------------------------------------------------- ml-dwarf
def _ml_kind(header) -> str | None:
    """``"B07M"`` (linear 0.1 Å grid from 3825 Å) or ``"Schmidt"`` (log-λ), from the header alone."""
    if u.is_log_wcs(header):
        return "Schmidt"
    cdelt = u.header_float(header, "CDELT1", "CD1_1")
    crval = u.header_float(header, "CRVAL1")
    if cdelt is not None and crval is not None and abs(cdelt - 0.1) < 1e-9 and abs(crval - 3825.0) < 1e-6:
        return "B07M"
    return None


def identify_ml_dwarf(hdul) -> bool:
    """A 4×N IRAF-style image (CRVAL1/CDELT1 WCS, no COEFF0, no TELESCOP) of a B07M/Schmidt composite."""
    data = u.primary_image(hdul, ndim=2)
    if data is None or data.shape[0] != 4:
        return False
    header = hdul[0].header
    if "COEFF0" in header or "TELESCOP" in header or "CRVAL1" not in header:
        return False
    return _ml_kind(header) is not None


_ML_LABEL = re.compile(r"^([mlMLtT])(\d(?:\.\d)?)")


@register_format("ml-dwarf", identify_ml_dwarf, priority=30)
def read_ml_dwarf(hdul, path) -> list[Spectrum]:
    """M/L dwarf composites (Bochanski+2007 ``B07M/``, Schmidt ``S18M/``, ``S14L/``); row 0 = mean flux."""
    fmt = "ml-dwarf"
    data = u.primary_image(hdul, ndim=2)
    if data is None or data.shape[0] < 1:
        raise u.fail(path, fmt, "primary HDU is not a 2-D image (row 0 = mean flux)")
    header = hdul[0].header
    kind = _ml_kind(header)
    if kind is None:
        raise u.fail(path, fmt, "grid is neither the Bochanski linear 0.1 Å grid nor a log-λ Schmidt grid")
    wave = u.wcs_wave(header, data.shape[1], path, fmt)
    name = u.stem(path)
    match = _ML_LABEL.match(name or "")
    label = (match.group(1).upper() + match.group(2)) if match else None
    if kind == "B07M":
        survey, library, medium = "Bochanski2007", "Bochanski et al. 2007 (B07M)", "vacuum"
    else:
        survey, medium = "Schmidt", "air"
        library = "Schmidt et al. 2014 (S14L)" if label and label.startswith("L") else "Schmidt et al. 2018 (S18M)"
    meta = dict(_STAR, survey=survey, subclass=label, id=f"{survey} {name}" if name else None,
                format=fmt, path=path, template_name=name, R=2000, library=library)
    flux = np.asarray(data[0], dtype=np.float64)
    return [Spectrum(wave, flux, None, _zero_mask(flux), meta, medium=medium)]
