"""Readers for LAMOST low-resolution (LRS, R≈1800) spectra: ``lamost-dr9``, ``lamost-dr2``, ``lamost-dr1``.

Three layouts exist in the public releases:

``lamost-dr9`` (DR9 and later)
    HDU0 header only (``CLASS``, ``SUBCLASS``, ``Z``, ``SNRG``, ``OBSID``...);
    HDU1 ``COADD``, a one-row binary table with vector columns ``FLUX``,
    ``IVAR``, ``WAVELENGTH``, ``ANDMASK``, ``ORMASK`` (and ``NORMALIZATION``).
``lamost-dr2`` (DR2–DR8)
    HDU0 a 5×N image whose rows are flux, ivar, wavelength, andmask, ormask.
``lamost-dr1`` (DR1, pipeline v2.6.x)
    HDU0 a 5×N image too, but row 3 (index 2) is a *sub-continuum* (the flux
    divided by a continuum, values ≈ 0–2), **not** a wavelength, and
    ``EXTEN0 = 'Flux Inverse Subcontinuum Andmask Ormask'``. The wavelength is
    ``10**(COEFF0 + COEFF1*i)``. The identifier tells DR1 from DR2 by the
    ``EXTEN0`` description and, failing that, by the row itself: a DR2 row 3 is
    strictly increasing inside 2500–12000 Å, a DR1 row 3 never is. The DR1
    headers also name the g-band S/N ``SN_G`` instead of ``SNRG``.

All LAMOST wavelengths are in **vacuum** (every file says ``VACUUM = T``; the
reader honours ``VACUUM = F`` should it ever appear). Wavelengths are
heliocentric; ``Z`` is the pipeline's redshift.

Masking: a pixel is bad where ``ivar <= 0`` or ``andmask != 0`` (the flag is set
in every exposure: BADCCD, NOSKY, NODATA...). ``ormask`` (set in at least one
exposure) is *not* used: in the real fixtures every and-/or-masked pixel already
has ``ivar = 0``, and or-mask bits alone would throw away usable pixels.

``Spectrum.meta`` gets ``survey="LAMOST"``, ``obj_class``/``subclass`` from
``CLASS``/``SUBCLASS``, ``z`` from ``Z``, ``snr`` from ``SNRG`` (DR2+) or ``SN_G``
(DR1, some DR2), ``id`` (``OBSID`` if present, else the file name stem), and
``data_release`` (``DATA_V``), ``pipeline`` (``VERSPIPE``), ``R`` = 1800.

Example
-------
>>> from specnet.io import read_spectrum
>>> s = read_spectrum("../shared/data/fixtures/lamost/dr10_table/3703110.fits")  # doctest: +SKIP
>>> s.meta["format"], s.meta["subclass"], s.medium                              # doctest: +SKIP
('lamost-dr9', 'K7', 'vacuum')
"""
from __future__ import annotations

import numpy as np

from specnet.io import _util as u
from specnet.io.registry import register_format
from specnet.spectrum import Spectrum

#: Resolving power of the LAMOST low-resolution spectrographs.
LAMOST_R = 1800

_TABLE_COLUMNS = {"flux", "ivar", "wavelength"}


def _is_lamost_header(header) -> bool:
    telescope = str(header.get("TELESCOP", "")).upper()
    return ("LAMOST" in telescope or "LAMOST" in str(header.get("AUTHOR", "")).upper()
            or "LAMOST" in str(header.get("ORIGIN", "")).upper())


def _exten0(header) -> str:
    return str(header.get("EXTEN0", "")).lower()


def _image_rows(hdul):
    data = u.primary_image(hdul, ndim=2)
    if data is None or data.shape[0] < 3 or data.shape[1] < 2:
        return None
    return data


# ------------------------------------------------------------------ identify
def identify_dr9(hdul) -> bool:
    """A table HDU (``COADD`` preferred) with FLUX, IVAR and WAVELENGTH vector columns."""
    hdu, _ = u.table_hdu(hdul, _TABLE_COLUMNS, names=("COADD",))
    return hdu is not None


def identify_dr2(hdul) -> bool:
    """A ≥3×N primary image whose row 3 is an increasing optical wavelength array."""
    data = _image_rows(hdul)
    if data is None:
        return False
    header = hdul[0].header
    if "subcontinuum" in _exten0(header):
        return False
    return u.looks_like_wavelengths(data[2])


def identify_dr1(hdul) -> bool:
    """A LAMOST ≥3×N image with COEFF0/COEFF1 whose row 3 is a sub-continuum, not wavelengths."""
    data = _image_rows(hdul)
    if data is None:
        return False
    header = hdul[0].header
    if not _is_lamost_header(header) or "COEFF0" not in header or "COEFF1" not in header:
        return False
    return "subcontinuum" in _exten0(header) or not u.looks_like_wavelengths(data[2])


# -------------------------------------------------------------------- meta
def _meta(header, path, fmt: str) -> dict:
    obsid = header.get("OBSID")
    ident = str(obsid) if obsid not in (None, "") else (u.stem(u.clean_str(header.get("FILENAME")))
                                                         or u.stem(path))
    return {
        "survey": "LAMOST",
        "obj_class": u.clean_str(header.get("CLASS")),
        "subclass": u.clean_str(header.get("SUBCLASS")),
        "z": u.header_float(header, "Z"),
        "snr": u.header_float(header, "SNRG", "SN_G"),
        "id": ident,
        "format": fmt,
        "path": path,
        "data_release": u.clean_str(header.get("DATA_V")),
        "pipeline": u.clean_str(header.get("VERSPIPE")),
        "z_err": u.header_float(header, "Z_ERR"),
        "ra": u.header_float(header, "RA"),
        "dec": u.header_float(header, "DEC"),
        "R": LAMOST_R,
    }


def _bad(ivar: np.ndarray, andmask: np.ndarray | None) -> np.ndarray:
    bad = ~(ivar > 0)
    if andmask is not None:
        bad |= np.nan_to_num(andmask, nan=1.0) != 0
    return bad


# -------------------------------------------------------------------- read
@register_format("lamost-dr9", identify_dr9, priority=20)
def read_dr9(hdul, path) -> list[Spectrum]:
    """LAMOST LRS DR9+: one-row ``COADD`` table (FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK)."""
    fmt = "lamost-dr9"
    hdu, lookup = u.table_hdu(hdul, _TABLE_COLUMNS, names=("COADD",))
    if hdu is None:
        raise u.fail(path, fmt, "no binary table with FLUX, IVAR and WAVELENGTH columns (expected HDU1 'COADD')")
    wave = u.table_vector(hdu, lookup, "wavelength", path, fmt)
    flux = u.table_vector(hdu, lookup, "flux", path, fmt)
    ivar = u.table_vector(hdu, lookup, "ivar", path, fmt)
    andmask = u.table_vector(hdu, lookup, "andmask", path, fmt) if "andmask" in lookup else None
    if not (wave.size == flux.size == ivar.size) or (andmask is not None and andmask.size != wave.size):
        raise u.fail(path, fmt, f"columns differ in length (WAVELENGTH {wave.size}, FLUX {flux.size}, "
                                f"IVAR {ivar.size})")
    u.check_wave_range(wave, path, fmt, "the WAVELENGTH column")
    header = hdul[0].header
    return [Spectrum(wave, flux, ivar, _bad(ivar, andmask), _meta(header, path, fmt),
                     medium=u.header_medium(header, "vacuum"))]


@register_format("lamost-dr2", identify_dr2, priority=20)
def read_dr2(hdul, path) -> list[Spectrum]:
    """LAMOST LRS DR2–DR8: 5×N primary image (flux, ivar, wavelength, andmask, ormask)."""
    fmt = "lamost-dr2"
    data = _image_rows(hdul)
    if data is None:
        raise u.fail(path, fmt, "primary HDU is not a 2-D image with at least 3 rows "
                                "(flux, ivar, wavelength, andmask, ormask)")
    header = hdul[0].header
    wave = np.asarray(data[2], dtype=np.float64)
    if not u.looks_like_wavelengths(wave):
        hint = (" (EXTEN0 says row 3 is a sub-continuum: this is a DR1 file, read it as 'lamost-dr1')"
                if "subcontinuum" in _exten0(header) else "")
        raise u.fail(path, fmt, f"row 3 is not a wavelength array (values {np.nanmin(wave):.4g}–"
                                f"{np.nanmax(wave):.4g}, not increasing inside 2500–12000 Å){hint}")
    andmask = data[3] if data.shape[0] > 3 else None
    ivar = np.asarray(data[1], dtype=np.float64)
    return [Spectrum(wave, data[0], ivar, _bad(ivar, andmask), _meta(header, path, fmt),
                     medium=u.header_medium(header, "vacuum"))]


@register_format("lamost-dr1", identify_dr1, priority=21)
def read_dr1(hdul, path) -> list[Spectrum]:
    """LAMOST DR1 (pipeline v2.6.x): 5×N image, row 3 a sub-continuum; λ = 10**(COEFF0 + COEFF1·i)."""
    fmt = "lamost-dr1"
    data = _image_rows(hdul)
    if data is None:
        raise u.fail(path, fmt, "primary HDU is not a 2-D image with at least 3 rows "
                                "(flux, ivar, sub-continuum, andmask, ormask)")
    header = hdul[0].header
    wave = u.loglinear_wave(header, data.shape[1], path, fmt)
    andmask = data[3] if data.shape[0] > 3 else None
    ivar = np.asarray(data[1], dtype=np.float64)
    meta = _meta(header, path, fmt)
    meta["data_release"] = meta["data_release"] or "LAMOST DR1"
    return [Spectrum(wave, data[0], ivar, _bad(ivar, andmask), meta,
                     medium=u.header_medium(header, "vacuum"))]
