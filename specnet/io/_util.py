"""Small helpers shared by the layout readers of :mod:`specnet.io`.

Nothing here knows a particular survey: header look-ups that never raise,
wavelength grids from FITS keywords (log-linear ``COEFF0/COEFF1`` or the
``CRVAL1/CDELT1`` WCS), the air/vacuum flag, and the one way a reader reports a
file of the wrong structure (:func:`fail`).
"""
from __future__ import annotations

import functools
import io
import os
import re

import numpy as np

from specnet.errors import SpectrumFormatError

#: Wavelengths (Å) any optical spectrum of this project must lie in.
WAVE_MIN, WAVE_MAX = 900.0, 30000.0


def fail(path, fmt: str, reason: str) -> SpectrumFormatError:
    """The error a reader raises for a file that is not a valid ``fmt`` file.

    >>> str(fail("a.fits", "lamost-dr9", "no COADD table"))
    "a.fits: not a valid 'lamost-dr9' file: no COADD table"
    """
    return SpectrumFormatError(f"{path or '<unnamed input>'}: not a valid {fmt!r} file: {reason}")


def stem(path) -> str | None:
    """File name without folder and without ``.fits``/``.fit``/``.gz``/``.sed``... suffixes.

    >>> stem("/x/spec-1-2.fits.gz"), stem(None)
    ('spec-1-2', None)
    """
    if not path:
        return None
    name = os.path.basename(os.fspath(path))
    for suffix in (".gz", ".fits", ".fit", ".fts", ".sed", ".txt", ".csv", ".dat", ".ascii"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def clean_str(value) -> str | None:
    """A header/table string stripped of padding; ``None`` for empty or missing.

    >>> clean_str(b"STAR    "), clean_str("  "), clean_str(None)
    ('STAR', None, None)
    """
    if value is None:
        return None
    if isinstance(value, (bytes, np.bytes_)):
        value = value.decode("ascii", "replace")
    text = str(value).strip()
    return text or None


def as_float(value, sentinels=(-9999.0, -999.0, 99999.0)) -> float | None:
    """``float(value)``, or ``None`` for missing, non-numeric, NaN or a sentinel value.

    >>> as_float("3.5"), as_float(-9999), as_float("--"), as_float(None)
    (3.5, None, None, None)
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(out) or out in sentinels:
        return None
    return out


def header_float(header, *keys) -> float | None:
    """The first of ``keys`` present in ``header`` as a float (``None`` if none is)."""
    for key in keys:
        value = as_float(header.get(key))  # one lookup: a missing card gives None
        if value is not None:
            return value
    return None


def header_medium(header, default: str = "vacuum") -> str:
    """``"vacuum"`` or ``"air"`` from ``VACUUM`` (T/F) or ``AIRORVAC`` keywords, else ``default``.

    >>> from astropy.io import fits
    >>> header_medium(fits.Header({"VACUUM": False})), header_medium(fits.Header({"AIRORVAC": "vac"}))
    ('air', 'vacuum')
    """
    if "VACUUM" in header:
        value = header["VACUUM"]
        if isinstance(value, str):
            value = value.strip().upper() in ("T", "TRUE", "Y", "YES", "1")
        return "vacuum" if bool(value) else "air"
    if "AIRORVAC" in header:
        return "air" if str(header["AIRORVAC"]).strip().lower().startswith("air") else "vacuum"
    return default


def loglinear_wave(header, npix: int, path, fmt: str, c0: str = "COEFF0", c1: str = "COEFF1") -> np.ndarray:
    """Wavelengths (Å) ``10**(C0 + C1*i)``, i = 0..npix-1, from log-linear header keywords.

    Raises the reader's ``SpectrumFormatError`` if the keywords are missing or
    give wavelengths outside 900–30000 Å.
    """
    k0, k1 = header_float(header, c0), header_float(header, c1)
    if k0 is None or k1 is None or k1 <= 0:
        raise fail(path, fmt, f"header keywords {c0}/{c1} (log10 wavelength grid) missing or invalid "
                              f"({c0}={header.get(c0)!r}, {c1}={header.get(c1)!r})")
    wave = 10.0 ** (k0 + k1 * np.arange(npix, dtype=np.float64))
    check_wave_range(wave, path, fmt, f"{c0}/{c1}")
    return wave


def wcs_wave(header, npix: int, path, fmt: str) -> np.ndarray:
    """Wavelengths (Å) from ``CRVAL1``, ``CDELT1`` or ``CD1_1``, ``CRPIX1`` (1-indexed).

    Log-λ grids (``DC-FLAG = 1`` or ``CTYPE1`` starting with ``LOG``) give
    ``10**(CRVAL1 + CDELT1*(i+1-CRPIX1))``; otherwise the grid is linear in Å.
    """
    crval = header_float(header, "CRVAL1")
    cdelt = header_float(header, "CDELT1", "CD1_1")
    crpix = header_float(header, "CRPIX1")
    crpix = 1.0 if crpix is None else crpix
    if crval is None or cdelt is None or cdelt <= 0:
        raise fail(path, fmt, f"header keywords CRVAL1/CDELT1 missing or invalid "
                              f"(CRVAL1={header.get('CRVAL1')!r}, CDELT1={header.get('CDELT1', header.get('CD1_1'))!r})")
    pix = np.arange(npix, dtype=np.float64) + 1.0 - crpix
    grid = crval + cdelt * pix
    wave = 10.0 ** grid if is_log_wcs(header) else grid
    check_wave_range(wave, path, fmt, "CRVAL1/CDELT1")
    return wave


def is_log_wcs(header) -> bool:
    """``True`` if the 1-D WCS of ``header`` is in log10(λ) (``DC-FLAG = 1`` or ``CTYPE1 = LOG...``)."""
    ctype = str(header.get("CTYPE1", "")).strip().upper()
    try:
        dcflag = int(header.get("DC-FLAG", 0))
    except (TypeError, ValueError):
        dcflag = 0
    return dcflag == 1 or ctype.startswith("LOG")


def check_wave_range(wave: np.ndarray, path, fmt: str, what: str) -> None:
    """Raise the reader's error unless ``wave`` is finite, increasing and inside 900–30000 Å."""
    if wave.size == 0:
        raise fail(path, fmt, "no pixels")
    if not np.all(np.isfinite(wave)) or wave[0] < WAVE_MIN or wave[-1] > WAVE_MAX:
        raise fail(path, fmt, f"{what} give wavelengths {np.nanmin(wave):.4g}–{np.nanmax(wave):.4g}, "
                              f"outside {WAVE_MIN:.0f}–{WAVE_MAX:.0f} Å")
    if wave.size > 1 and not np.all(np.diff(wave) > 0):
        raise fail(path, fmt, f"{what} give wavelengths that are not strictly increasing")


def looks_like_wavelengths(row) -> bool:
    """``True`` if ``row`` is finite, strictly increasing and inside 2500–12000 Å (an optical λ array).

    >>> looks_like_wavelengths(np.linspace(3700, 9100, 50)), looks_like_wavelengths(np.ones(50))
    (True, False)
    """
    row = np.asarray(row, dtype=np.float64)
    return bool(row.size > 1 and np.all(np.isfinite(row)) and row[0] >= 2500.0 and row[-1] <= 12000.0
                and np.all(np.diff(row) > 0))


def primary_image(hdul, ndim: int | None = None):
    """The primary HDU's data as an array if it is an image (of ``ndim`` dims), else ``None``."""
    try:
        data = hdul[0].data
    except Exception:
        return None
    if data is None or not isinstance(data, np.ndarray) or data.dtype.names is not None:
        return None
    if ndim is not None and data.ndim != ndim:
        return None
    return data


def table_hdu(hdul, required: set[str], names: tuple[str, ...] = (), start: int = 1):
    """The first binary-table HDU (from ``start``) having every column in ``required``.

    Column names compare case-insensitively. HDUs whose ``EXTNAME`` is in
    ``names`` are tried first. Returns ``(hdu, {lower name: real name})`` or
    ``(None, {})``; never raises.
    """
    required = {c.lower() for c in required}
    try:
        hdus = list(hdul)[start:]
    except Exception:
        return None, {}
    wanted = [h for h in hdus if str(getattr(h, "name", "")).upper() in names]
    for hdu in wanted + [h for h in hdus if h not in wanted]:
        # Column names from the TTYPEn cards: building astropy Column objects for an
        # SDSS SPECOBJ table (hundreds of columns) costs ~30 ms per HDU.
        header = getattr(hdu, "header", None)
        if header is None or str(header.get("XTENSION", "")).strip() not in ("BINTABLE", "TABLE"):
            continue
        nfields = int(header.get("TFIELDS", 0) or 0)
        names = [str(header.get(f"TTYPE{i}", "")).strip() for i in range(1, nfields + 1)]
        lookup = {name.lower(): name for name in names}
        if required <= set(lookup):
            return hdu, lookup
    return None, {}


def table_vector(hdu, lookup: dict, column: str, path, fmt: str, row: int = 0) -> np.ndarray:
    """Row ``row`` of vector column ``column`` (case-insensitive) as a 1-D float64 array."""
    data = hdu.data
    if data is None or len(data) <= row:
        raise fail(path, fmt, f"table {hdu.name!r} has no row {row + 1}")
    return np.asarray(data[lookup[column.lower()]][row], dtype=np.float64).ravel()


def table_scalar(hdu, lookup: dict, column: str, row: int = 0):
    """A scalar cell (``None`` if the column or row is missing); strings are stripped."""
    try:
        value = hdu.data[lookup[column.lower()]][row]
    except Exception:
        return None
    if isinstance(value, (str, bytes, np.bytes_, np.str_)):
        return clean_str(value)
    if isinstance(value, np.ndarray):
        return value
    return value.item() if hasattr(value, "item") else value


# ---------------------------------------------------------------- text tables
_SPLIT = re.compile(r"[,;\t ]+")


@functools.lru_cache(maxsize=8)
def parse_columns(text: str):
    """Parse a numeric ASCII/CSV table; cached so identify and read parse once.

    Lines starting with ``#`` (or ``%``, ``!``) are comments; one non-numeric
    header line before the data is allowed. Separators are whitespace, commas
    or semicolons. Returns ``(data, header_names, comments)`` with ``data`` of
    shape (nrows, ncols), or ``None`` if the text is not such a table.

    >>> data, names, _ = parse_columns("# x\\nwave,flux\\n4000,1\\n4001,2\\n")
    >>> data.shape, names
    ((2, 2), ['wave', 'flux'])
    """
    comments: list[str] = []
    body: list[str] = []
    header_names: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line[0] in "#%!":
            comments.append(line[1:].strip())
            continue
        if header_names is None and not body and not _is_numeric_line(line):
            header_names = [t.strip("\"'") for t in _SPLIT.split(line) if t]
            continue
        body.append(line)
    if not body:
        return None
    joined = _SPLIT.sub(" ", "\n".join(body))
    try:
        data = np.loadtxt(io.StringIO(joined), ndmin=2, dtype=np.float64)
    except ValueError:
        return None
    if data.shape[0] != len(body):
        return None
    return data, header_names, tuple(comments)


def _is_numeric_line(line: str) -> bool:
    first = _SPLIT.split(line.strip())[0]
    try:
        float(first)
    except ValueError:
        return False
    return True
