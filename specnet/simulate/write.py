"""Write spectra as real survey FITS files (the layouts :mod:`specnet.io` reads).

:func:`write_spectrum` copies the structure of the real fixture files:

``lamost-dr2`` (LAMOST DR2–DR8)
    HDU0 a float32 5×N image (flux, ivar, wavelength, andmask, ormask) with the
    LAMOST header keywords (``OBSID``, ``DATA_V``, ``EXTEN0``, ``TELESCOP``,
    ``VACUUM``, ``COEFF0``/``COEFF1``, ``CLASS``, ``SUBCLASS``, ``Z``, ``Z_ERR``,
    ``SNRU``…``SNRZ``...).
``lamost-dr9`` (LAMOST DR9+)
    HDU0 header only (same keywords, ``N_EXTEN = 2``, ``NORM = 1``); HDU1 ``COADD``, a
    one-row table of ``N``-element float32 vectors FLUX, IVAR, WAVELENGTH, ANDMASK,
    ORMASK, NORMALIZATION (flux / pseudo-continuum).
``sdss-spec`` (SDSS DR8+ "lite")
    HDU0 header (``TELESCOP``, ``PLATEID``, ``MJD``, ``FIBERID``, ``VACUUM``, ``COEFF0``...);
    HDU1 ``COADD`` table (flux, loglam, ivar, and_mask, or_mask, wdisp, sky, model; E/J
    columns as SDSS writes them); HDU2 ``SPECOBJ`` with the SDSS columns a reader uses
    (PLATE, MJD, FIBERID, CLASS, SUBCLASS, Z, Z_ERR, ZWARNING, SN_MEDIAN_ALL,
    SN_MEDIAN, RUN2D, SPECOBJID, ELODIE_SPTYPE...).

Masked pixels are written with ``ivar = 0`` (as LAMOST DR1 does; and-masks stay 0),
so a file read back through :func:`specnet.io.read_spectrum` gives the same flux,
ivar and mask (float32 precision) and the same class, subclass, z and S/N. Mock
provenance (template names, weight, subtype, RV, E(B−V), target S/N, profile) goes
into ``MOCK*`` header keywords.

>>> import numpy as np, tempfile, os
>>> from specnet import Spectrum
>>> from specnet.io import read_spectrum
>>> w = 10 ** (3.5682 + 1e-4 * np.arange(3909))
>>> s = Spectrum(w, np.full(3909, 100.0), np.full(3909, 0.04), meta={"subclass": "K3", "z": 1e-4, "snr": 20.0})
>>> path = os.path.join(tempfile.mkdtemp(), "x.fits")
>>> _ = write_spectrum(s, path, "lamost-dr9")
>>> r = read_spectrum(path); r.meta["subclass"], r.meta["snr"], r.meta["format"]
('K3', 20.0, 'lamost-dr9')
"""
from __future__ import annotations

import functools
import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["write_spectrum", "LAYOUTS", "BANDS"]

#: Output layouts.
LAYOUTS = ("lamost-dr2", "lamost-dr9", "sdss-spec")
#: Wavelength ranges (vacuum Å) of the per-band S/N values written (SNRU…SNRZ, SN_MEDIAN).
BANDS = {"u": (3700.0, 4000.0), "g": (4100.0, 5300.0), "r": (5600.0, 6800.0), "i": (6900.0, 8100.0),
         "z": (8200.0, 9100.0)}


def _band_snr(spec) -> dict[str, float]:
    sn = np.where(spec.good, spec.flux * np.sqrt(spec.ivar), np.nan)
    out = {}
    for band, (lo, hi) in BANDS.items():
        sel = (spec.wave >= lo) & (spec.wave <= hi) & np.isfinite(sn)
        out[band] = round(float(np.median(sn[sel])), 2) if sel.any() else 0.0
    return out


def _loglinear(wave: np.ndarray) -> tuple[float, float] | None:
    lw = np.log10(wave)
    step = (lw[-1] - lw[0]) / (lw.size - 1)
    if np.max(np.abs(lw - (lw[0] + step * np.arange(lw.size)))) > 0.05 * step:  # float32 loglam jitters
        return None
    return round(float(lw[0]), 7), round(float(step), 10)


def _num(v, default=0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return f if math.isfinite(f) else default


def _obsid(meta: dict) -> int:
    if meta.get("index") is not None:
        return 900000000 + int(meta["index"])
    return 900000000 + zlib.crc32(str(meta.get("id")).encode()) % 99999999


def _mock_cards(meta: dict) -> list[tuple]:
    if not meta.get("mock"):
        return []
    cards = [("MOCK", True, "Simulated by specnet.simulate (not observed)"),
             ("MOCKPROF", str(meta.get("profile", "")), "specnet survey profile"),
             ("MOCKSUBT", _num(meta.get("subtype")), "True subtype, O0=0 ... M9=69"),
             ("MOCKLUM", str(meta.get("lum_class") or ""), "Luminosity group of the templates"),
             ("MOCKLIB", str(meta.get("library", "")), "Template library"),
             ("MOCKTPLA", str(meta.get("template_a", ""))[:68], "Template a"),
             ("MOCKTPLB", str(meta.get("template_b", ""))[:68], "Template b"),
             ("MOCKWB", _num(meta.get("weight_b")), "Weight of template b (log-flux interpolation)"),
             ("MOCKRV", _num(meta.get("rv")), "[km/s] Applied radial velocity"),
             ("MOCKEBV", _num(meta.get("ebv")), "[mag] Applied E(B-V)"),
             ("MOCKSNRT", _num(meta.get("snr_target")), "Requested S/N"),
             ("MOCKIDX", int(meta.get("index") or 0), "Index in the mock catalogue")]
    return cards


def _lamost_header(spec, layout: str, profile) -> "fits.Header":
    from astropy.io import fits

    meta = spec.meta
    ll = _loglinear(spec.wave)
    snr = _band_snr(spec)
    if meta.get("snr") is not None:
        snr["g"] = round(_num(meta["snr"]), 2)
    release = meta.get("data_release") or (profile.data_release if profile is not None else "LAMOST DR9")
    h = fits.Header()
    h.append(("FILENAME", os.path.basename(str(meta.get("path") or "")) or "mock.fits", ""))
    h.append(("OBSID", _obsid(meta), "Unique number ID of this spectrum"))
    h.append(("AUTHOR", "LAMOST Pipeline", "Who compiled the information"))
    h.append(("DATA_V", str(release), "Data release version"))
    if layout == "lamost-dr2":
        h.append(("EXTEN0", "Flux, Inverse, Wavelength, Andmask, Ormask", ""))
        h.append(("N_EXTEN", 1, "The extension number"))
        h.append(("EXTNAME", "Flux", "The extension name"))
    else:
        h.append(("N_EXTEN", 2, "The amount of extension"))
        h.append(("NORM", 1, "1 if there exists a normalizated spectrum"))
    h.append(("ORIGIN", "NAOC-LAMOST", "Organization responsible for creating this file"))
    h.append(("TELESCOP", "LAMOST", "GuoShouJing Telescope"))
    h.append(("LONGITUD", 117.58, "[deg] Longitude of site"))
    h.append(("LATITUDE", 40.39, "[deg] Latitude of site"))
    h.append(("DESIG", f"LAMOST MOCK {meta.get('id')}"[:68], "Designation of LAMOST target"))
    h.append(("OBJNAME", str(meta.get("id")), "Name of object"))
    h.append(("OBJTYPE", "Star", "Object type from input catalog"))
    h.append(("OBS_TYPE", "OBJ", "The type of target (OBJ, FLAT, ARC or BIAS)"))
    h.append(("HELIO", True, "Heliocentric correction"))
    h.append(("VACUUM", spec.medium == "vacuum", "Wavelengths are in vacuum"))
    if ll is not None:
        h.append(("NWORDER", 2, "Number of linear-log10 coefficients"))
        h.append(("WFITTYPE", "LOG-LINEAR", "Linear-log10 dispersion"))
        h.append(("COEFF0", ll[0], "Central wavelength (log10) of first pixel"))
        h.append(("COEFF1", ll[1], "Log10 dispersion per pixel"))
        h.append(("CRVAL1", ll[0], "Central wavelength (log10) of first pixel"))
        h.append(("CD1_1", ll[1], "Log10 dispersion per pixel"))
        h.append(("CRPIX1", 1, "Starting pixel (1-indexed)"))
        h.append(("CTYPE1", "LINEAR", ""))
        h.append(("DC-FLAG", 1, "Log-linear flag"))
    h.append(("VERSPIPE", "specnet-mock", "Version of Pipeline"))
    h.append(("CLASS", str(meta.get("obj_class") or "STAR"), "Class of object"))
    h.append(("SUBCLASS", str(meta.get("subclass") or ""), "Subclass of object"))
    h.append(("Z", _num(meta.get("z")), "Redshift of object"))
    h.append(("Z_ERR", _num(meta.get("z_err"), 1e-5), "Redshift error of object"))
    h.append(("ZFLAG", "MOCK", "Which method computes the redshift"))
    for band in "ugriz":
        h.append((f"SNR{band.upper()}", snr[band], f"SNR of {band} filter"))
    for card in _mock_cards(meta):
        h.append(card)
    return h


def _normalization(spec) -> np.ndarray:
    from specnet.preprocess import pseudo_continuum

    cont = pseudo_continuum(spec.wave, spec.flux, spec.mask)
    return (spec.flux / cont).astype(np.float32)


def _write_lamost(spec, path: Path, layout: str, profile) -> None:
    from astropy.io import fits

    header = _lamost_header(spec, layout, profile)
    flux = spec.flux.astype(np.float32)
    ivar = np.where(spec.mask, 0.0, spec.ivar).astype(np.float32)
    wave = spec.wave.astype(np.float32)
    zeros = np.zeros_like(flux)
    if layout == "lamost-dr2":
        hdu = fits.PrimaryHDU(np.stack([flux, ivar, wave, zeros, zeros]), header=header)
        hdul = fits.HDUList([hdu])
    else:
        n = flux.size
        names = ("FLUX", "IVAR", "WAVELENGTH", "ANDMASK", "ORMASK", "NORMALIZATION")
        rec = np.zeros(1, dtype=[(name, ">f4", (n,)) for name in names])  # big-endian: no byte swapping
        for name, arr in zip(names, (flux, ivar, wave, zeros, zeros, _normalization(spec))):
            rec[name][0] = arr
        # astropy byte-swaps wide vector columns element by element (~10 ms a file); the record
        # array is already big-endian, so write the FITS blocks directly
        _write_blocks(path, [fits.PrimaryHDU(header=header).header, _table_header(rec.dtype, "COADD", 1)],
                      [b"", rec.tobytes()])
        return
    hdul.writeto(path, overwrite=True, output_verify="ignore")  # headers are built valid


def _write_blocks(path: Path, headers, data: list[bytes]) -> None:
    """Write HDUs as FITS 2880-byte blocks: each header, then its (big-endian) data, zero-padded."""
    with open(path, "wb") as fh:
        for header, payload in zip(headers, data):
            fh.write(header.tostring().encode("ascii"))
            if payload:
                fh.write(payload)
                fh.write(b"\0" * (-len(payload) % 2880))


def _write_sdss(spec, path: Path, profile, model: np.ndarray | None, sky: np.ndarray | None) -> None:
    from astropy.io import fits

    meta = spec.meta
    idx = int(meta["index"]) if meta.get("index") is not None else zlib.crc32(str(meta.get("id")).encode()) % 1_000_000
    plate, mjd, fiber = 10000 + idx // 1000, 60000, idx % 1000 + 1
    ll = _loglinear(spec.wave)
    R = _num(meta.get("R"), 2000.0) or 2000.0
    snr = _band_snr(spec)
    sn_all = _num(meta.get("snr")) if meta.get("snr") is not None else \
        float(np.median((spec.flux * np.sqrt(spec.ivar))[spec.good])) if spec.good.any() else 0.0
    h = fits.Header()
    h.append(("TELESCOP", "SDSS 2.5-M", "Sloan Digital Sky Survey"))
    h.append(("FLAVOR", "science", ""))
    h.append(("PLATEID", plate, "Plate Id"))
    h.append(("MJD", mjd, "MJD of observation"))
    h.append(("FIBERID", fiber, "Fiber number"))
    h.append(("VACUUM", spec.medium == "vacuum", "Wavelengths are in vacuum"))
    if ll is not None:
        h.append(("NWORDER", 2, "Linear-log10 coefficients"))
        h.append(("WFITTYPE", "LOG-LINEAR", "Linear-log10 dispersion"))
        h.append(("COEFF0", ll[0], "Central wavelength (log10) of first pixel"))
        h.append(("COEFF1", ll[1], "Log10 dispersion per pixel"))
    h.append(("BUNIT", "1E-17 erg/cm^2/s/Ang", ""))
    for card in _mock_cards(meta):
        h.append(card)
    n = spec.npix
    loglam = np.log10(spec.wave)
    step = ll[1] if ll is not None else float(np.median(np.diff(loglam)))
    wdisp = np.full(n, 1.0 / R / (2 * math.sqrt(2 * math.log(2))) / math.log(10) / step, np.float32)
    coadd = np.zeros(n, dtype=_SDSS_COADD)
    coadd["flux"] = spec.flux
    coadd["loglam"] = loglam
    coadd["ivar"] = np.where(spec.mask, 0.0, spec.ivar)
    coadd["wdisp"] = wdisp
    if sky is not None:
        coadd["sky"] = sky
    if model is not None:
        coadd["model"] = model
    sub = str(meta.get("subclass") or "")
    so = np.zeros(1, dtype=_SDSS_SPECOBJ)
    values = {"SURVEY": "mock", "INSTRUMENT": "SDSS", "SPECOBJID": f"{plate:05d}{mjd}{fiber:04d}",
              "RUN2D": str(profile.data_release if profile else "26")[:3], "PLATE": plate, "MJD": mjd,
              "FIBERID": fiber, "CLASS": str(meta.get("obj_class") or "STAR"), "SUBCLASS": sub,
              "Z": _num(meta.get("z")), "Z_ERR": _num(meta.get("z_err"), 1e-5), "WAVEMIN": spec.wave[0],
              "WAVEMAX": spec.wave[-1], "SN_MEDIAN_ALL": sn_all, "SN_MEDIAN": [snr[b] for b in "ugriz"],
              "ELODIE_SPTYPE": sub[:10]}
    for key, value in values.items():
        so[key][0] = value.encode("ascii", "replace") if isinstance(value, str) else value
    _write_blocks(path, [fits.PrimaryHDU(header=h).header, _table_header(coadd.dtype, "COADD", n),
                         _table_header(so.dtype, "SPECOBJ", 1)], [b"", coadd.tobytes(), so.tobytes()])


#: SDSS spec-lite column layouts (names and FITS types as in the real files), big-endian.
_SDSS_COADD = np.dtype([("flux", ">f4"), ("loglam", ">f4"), ("ivar", ">f4"), ("and_mask", ">i4"),
                        ("or_mask", ">i4"), ("wdisp", ">f4"), ("sky", ">f4"), ("model", ">f4")])
_SDSS_SPECOBJ = np.dtype([("SURVEY", "S6"), ("INSTRUMENT", "S4"), ("SPECOBJID", "S22"), ("RUN2D", "S3"),
                          ("PLATE", ">i4"), ("MJD", ">i4"), ("FIBERID", ">i4"), ("PLUG_RA", ">f8"),
                          ("PLUG_DEC", ">f8"), ("CLASS", "S6"), ("SUBCLASS", "S21"), ("Z", ">f4"),
                          ("Z_ERR", ">f4"), ("ZWARNING", ">i4"), ("WAVEMIN", ">f4"), ("WAVEMAX", ">f4"),
                          ("SN_MEDIAN_ALL", ">f4"), ("SN_MEDIAN", ">f4", (5,)), ("ELODIE_SPTYPE", "S10")])


@functools.lru_cache(maxsize=32)
def _table_header_template(descr: tuple, extname: str):
    from astropy.io import fits

    return fits.BinTableHDU(np.zeros(1, dtype=np.dtype(list(descr))), name=extname).header


def _table_header(dtype: np.dtype, extname: str, nrows: int):
    """The binary-table header astropy writes for a record array of ``dtype`` (built once, cached)."""
    header = _table_header_template(tuple(dtype.descr), extname).copy()
    header["NAXIS2"] = nrows
    return header


def write_spectrum(spec, path, layout: str = "lamost-dr9", profile=None, model: np.ndarray | None = None,
                   sky: np.ndarray | None = None) -> Path:
    """Write ``spec`` to ``path`` as a ``layout`` FITS file (see the module docstring); returns the path.

    Parameters
    ----------
    spec : Spectrum
        Wavelengths in vacuum Å (air spectra are converted); ``meta`` supplies
        ``obj_class``, ``subclass``, ``z``, ``snr`` (written as SNRG / SN_MEDIAN_ALL), ``id``
        and, for mocks, the ``MOCK*`` provenance.
    path : str or Path
        Output file (parent folders are created; an existing file is replaced).
    layout : {"lamost-dr2", "lamost-dr9", "sdss-spec"}
    profile : SurveyProfile, optional
        Supplies the data release when ``meta`` has none.
    model, sky : ndarray, optional
        The SDSS ``model`` and ``sky`` columns (noiseless flux, sky flux); zeros if not given.
    """
    from specnet.spectrum import Spectrum

    if not isinstance(spec, Spectrum):
        raise ValueError(f"write_spectrum needs a specnet.Spectrum. Received: {type(spec).__name__}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}. Received: layout={layout!r}")
    spec = spec.to_vacuum()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout == "sdss-spec":
        _write_sdss(spec, path, profile, model, sky)
    else:
        _write_lamost(spec, path, layout, profile)
    return path
