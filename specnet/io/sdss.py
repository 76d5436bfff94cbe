"""Readers for SDSS/BOSS optical spectra (R≈2000): ``sdss-spec`` (DR8+) and ``sdss-spspec`` (DR7).

``sdss-spec``
    ``spec-PLATE-MJD-FIBER.fits``, "lite" and "full": HDU1 ``COADD`` table
    (``flux``, ``loglam``, ``ivar``, ``and_mask``, ``or_mask``, ``wdisp``, ``sky``,
    ``model``), HDU2 ``SPECOBJ`` (BOSS "full" files call it ``SPALL``) with
    ``CLASS``, ``SUBCLASS``, ``Z``, ``SN_MEDIAN_ALL``, ``ZWARNING``... "Full"
    files add one HDU per exposure, which are ignored.
``sdss-spspec``
    DR7 ``spSpec-MJD-PLATE-FIBER.fit``: a 4×N primary image (flux,
    continuum-subtracted flux, error, mask) on the log-λ grid
    ``10**(COEFF0 + COEFF1*i)``. DR7 headers carry **no subclass**:
    ``meta["subclass"]`` is ``None`` (labels for these files come from a
    catalogue, e.g. ``labels_hammer_autoSpT.csv``). ``obj_class`` comes from the
    integer ``SPEC_CLN`` keyword (:data:`SPEC_CLN`); ``OBJTYPE`` is the *target*
    type, not the classification, and is kept only as ``meta["target_type"]``.
    ``ivar = 1/error**2`` where ``error > 0``, else 0.

SDSS wavelengths are in **vacuum** (both layouts carry ``VACUUM = T``; the
reader honours ``VACUUM = F`` should it appear) and heliocentric.

Masking: a pixel is bad where ``ivar <= 0`` or the **and-mask** (set in every
exposure; for DR7 the image's mask row) has one of :data:`SDSS_BAD_BITS`:
the bits that mean "no usable flux" (NOPLUG, BADTRACE, BADFLAT, BADARC,
FULLREJECT, NOSKY, NODATA, COMBINEREJ, BADFLUXFACTOR) and those that mean
"the flux is sky-dominated" (BRIGHTSKY, BADSKYCHI, REDMONSTER), which fool a
spectral-type model the way sky lines do. Informational bits (NEARBADPIXEL,
LOWFLAT, PARTIALREJECT, SCATTEREDLIGHT, CROSSTALK, MANYBADCOLUMNS, DR7's
spectro-1D bits 29–31...) do not mask: on the fixtures ``and_mask != 0``
would drop up to 46 % of a DR7 star (MANYBADCOLUMNS on a whole camera), the
chosen bits drop 2–12 %. ``or_mask`` (any exposure) is never used.

``Spectrum.meta``: ``survey="SDSS"``, ``obj_class``, ``subclass``, ``z``,
``snr`` (``SN_MEDIAN_ALL`` for DR8+, the g-band ``SN_G`` for DR7), ``id`` =
``"PLATE-MJD-FIBER"`` (e.g. ``"3128-54776-0008"``), plus ``zwarning``,
``plate``, ``mjd``, ``fiber``, ``R`` = 2000, ``run2d`` (DR8+ pipeline version) or
``data_release`` (DR7) where known.

Example
-------
>>> from specnet.io import read_spectrum
>>> s = read_spectrum("../shared/data/fixtures/sdss/spec_dr8plus/spec-3128-54776-0008.fits")  # doctest: +SKIP
>>> s.meta["id"], s.meta["subclass"], s.medium                                                # doctest: +SKIP
('3128-54776-0008', 'F9', 'vacuum')
"""
from __future__ import annotations

import numpy as np

from specnet.io import _util as u
from specnet.io.registry import register_format
from specnet.spectrum import Spectrum

#: Resolving power of the SDSS/BOSS spectrographs.
SDSS_R = 2000

#: SPPIXMASK bits (name → bit) that make a pixel bad; see the module docstring.
SDSS_BAD_BITS = {
    "NOPLUG": 0, "BADTRACE": 1, "BADFLAT": 2, "BADARC": 3,
    "FULLREJECT": 18, "NOSKY": 22, "BRIGHTSKY": 23, "NODATA": 24, "COMBINEREJ": 25,
    "BADFLUXFACTOR": 26, "BADSKYCHI": 27, "REDMONSTER": 28,
}
#: The same bits as one integer mask.
SDSS_BAD_MASK = int(sum(1 << bit for bit in SDSS_BAD_BITS.values()))

#: DR7 ``SPEC_CLN`` codes → (class used in ``obj_class``, DR7 name).
SPEC_CLN = {
    0: ("UNKNOWN", "UNKNOWN"), 1: ("STAR", "STAR"), 2: ("GALAXY", "GALAXY"), 3: ("QSO", "QSO"),
    4: ("QSO", "HIZ_QSO"), 5: ("SKY", "SKY"), 6: ("STAR", "STAR_LATE"), 7: ("GALAXY", "GAL_EM"),
}

_COADD_COLUMNS = {"flux", "loglam", "ivar"}


def _bad(ivar: np.ndarray, and_mask: np.ndarray | None) -> np.ndarray:
    bad = ~(ivar > 0)
    if and_mask is not None:
        bits = np.nan_to_num(np.asarray(and_mask, dtype=np.float64), nan=0.0).astype(np.int64)
        bad |= (bits & SDSS_BAD_MASK) != 0
    return bad


def _sdss_id(plate, mjd, fiber, fiber_digits: int = 4) -> str | None:
    try:
        return f"{int(plate):04d}-{int(mjd):05d}-{int(fiber):0{fiber_digits}d}"
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ sdss-spec
def identify_spec(hdul) -> bool:
    """A table HDU (``COADD`` preferred) with flux, loglam and ivar columns."""
    hdu, _ = u.table_hdu(hdul, _COADD_COLUMNS, names=("COADD",))
    return hdu is not None


@register_format("sdss-spec", identify_spec, priority=20)
def read_spec(hdul, path) -> list[Spectrum]:
    """SDSS/BOSS DR8+ ``spec-PLATE-MJD-FIBER.fits``: HDU1 COADD table, HDU2 SPECOBJ/SPALL."""
    fmt = "sdss-spec"
    coadd, lookup = u.table_hdu(hdul, _COADD_COLUMNS, names=("COADD",))
    if coadd is None:
        raise u.fail(path, fmt, "no binary table with flux, loglam and ivar columns (expected HDU1 'COADD')")
    n = len(coadd.data) if coadd.data is not None else 0
    if n == 0:
        raise u.fail(path, fmt, "the COADD table has no rows")

    def column(name):
        return np.asarray(coadd.data[lookup[name]], dtype=np.float64).ravel()

    loglam, flux, ivar = column("loglam"), column("flux"), column("ivar")
    and_mask = column("and_mask") if "and_mask" in lookup else None
    wave = 10.0 ** loglam
    u.check_wave_range(wave, path, fmt, "the loglam column")

    header = hdul[0].header
    specobj, slook = u.table_hdu(hdul, {"class", "z"}, names=("SPECOBJ", "SPALL"), start=2)
    if specobj is not None:
        def cell(name):
            return u.table_scalar(specobj, slook, name) if name in slook else None
    else:
        def cell(name):
            return None
    plate = cell("plate") or header.get("PLATEID")
    mjd = cell("mjd") or header.get("MJD")
    fiber = cell("fiberid") or header.get("FIBERID")
    zwarning = cell("zwarning")
    meta = {
        "survey": "SDSS",
        "obj_class": u.clean_str(cell("class")),
        "subclass": u.clean_str(cell("subclass")),
        "z": u.as_float(cell("z")),
        "snr": u.as_float(cell("sn_median_all")),
        "id": _sdss_id(plate, mjd, fiber) or u.stem(path),
        "format": fmt,
        "path": path,
        "z_err": u.as_float(cell("z_err")),
        "zwarning": int(zwarning) if zwarning is not None else None,
        "plate": int(plate) if plate is not None else None,
        "mjd": int(mjd) if mjd is not None else None,
        "fiber": int(fiber) if fiber is not None else None,
        "run2d": u.clean_str(cell("run2d")) or u.clean_str(header.get("RUN2D")),
        "sdss_file": "full" if len(hdul) > 4 else "lite",
        "R": SDSS_R,
    }
    return [Spectrum(wave, flux, ivar, _bad(ivar, and_mask), meta, medium=u.header_medium(header, "vacuum"))]


# --------------------------------------------------------------- sdss-spspec
def identify_spspec(hdul) -> bool:
    """A DR7 spSpec: ≥3×N primary image, COEFF0/COEFF1, and ``SPEC_CLN`` or ``ARRAY3 = 'ERROR'``."""
    data = u.primary_image(hdul, ndim=2)
    if data is None or data.shape[0] < 3:
        return False
    header = hdul[0].header
    if "COEFF0" not in header or "COEFF1" not in header or "NAME0" in header:
        return False
    return "SPEC_CLN" in header or str(header.get("ARRAY3", "")).strip().upper() == "ERROR"


@register_format("sdss-spspec", identify_spspec, priority=20)
def read_spspec(hdul, path) -> list[Spectrum]:
    """SDSS DR7 ``spSpec-*.fit``: 4×N image (flux, continuum-subtracted, error, mask), log-λ grid."""
    fmt = "sdss-spspec"
    data = u.primary_image(hdul, ndim=2)
    if data is None or data.shape[0] < 3:
        raise u.fail(path, fmt, "primary HDU is not a 2-D image with rows flux, "
                                "continuum-subtracted flux, error[, mask]")
    header = hdul[0].header
    wave = u.loglinear_wave(header, data.shape[1], path, fmt)
    flux = np.asarray(data[0], dtype=np.float64)
    err = np.asarray(data[2], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ivar = np.where(err > 0, 1.0 / err**2, 0.0)
    mask_row = data[3] if data.shape[0] > 3 else None
    code = header.get("SPEC_CLN")
    try:
        obj_class, dr7_name = SPEC_CLN[int(code)]
    except (TypeError, ValueError, KeyError):
        obj_class, dr7_name = None, None
    plate, mjd, fiber = header.get("PLATEID"), header.get("MJD"), header.get("FIBERID")
    meta = {
        "survey": "SDSS",
        "obj_class": obj_class,
        "subclass": None,  # DR7 headers carry no subclass; labels come from a catalogue
        "z": u.header_float(header, "Z"),
        "snr": u.header_float(header, "SN_G"),
        "id": _sdss_id(plate, mjd, fiber) or u.stem(path),
        "format": fmt,
        "path": path,
        "z_err": u.header_float(header, "Z_ERR"),
        "zwarning": header.get("Z_WARNIN"),
        "spec_cln": dr7_name,
        "target_type": u.clean_str(header.get("OBJTYPE")),
        "plate": int(plate) if plate is not None else None,
        "mjd": int(mjd) if mjd is not None else None,
        "fiber": int(fiber) if fiber is not None else None,
        "data_release": "SDSS DR7",
        "R": SDSS_R,
    }
    return [Spectrum(wave, flux, ivar, _bad(ivar, mask_row), meta, medium=u.header_medium(header, "vacuum"))]
