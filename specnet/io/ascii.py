"""Reader ``ascii``: a plain two- or three-column text/CSV spectrum, the layout of last resort.

Columns are wavelength (Å), flux and optionally the flux error (``ivar =
1/error**2``; a pixel with error <= 0 is masked). Lines starting with ``#``,
``%`` or ``!`` are comments; one header line of column names may precede the
numbers, and then columns are found by name (``wave``/``wavelength``/
``lambda``/``lam``, ``flux``/``f_lambda``, ``err``/``error``/``sigma``/
``uncertainty``, or ``ivar``), otherwise by position. Separators may be spaces,
tabs, commas or semicolons. Rows in decreasing wavelength are reversed.

The medium is ``"vacuum"`` (the survey convention) unless a comment line says
``air`` (e.g. ``# wavelengths in air``). ``meta["id"]`` is the file stem;
labels are unknown (``obj_class``/``subclass`` ``None``).

Example
-------
>>> import io
>>> from specnet.io import read_spectrum
>>> s = read_spectrum(io.BytesIO(b"# air\\nwave,flux,err\\n4000,1.0,0.5\\n4001,1.1,0.5\\n"))
>>> s.meta["format"], s.medium, float(s.ivar[0])
('ascii', 'air', 4.0)
"""
from __future__ import annotations

import re

import numpy as np

from specnet.io import _util as u
from specnet.io.registry import register_format
from specnet.spectrum import Spectrum

_NAMES = {
    "wave": ("wave", "wavelength", "wavelengths", "lambda", "lam", "wl", "angstrom"),
    "flux": ("flux", "f_lambda", "flambda", "flux_density", "f"),
    "err": ("err", "error", "sigma", "uncertainty", "flux_err", "flux_error", "e_flux", "noise"),
    "ivar": ("ivar", "inverse_variance", "invvar"),
}
_AIR = re.compile(r"\bair\b(?!\s*-?mass)", re.IGNORECASE)


def _columns(parsed):
    """Column indices {"wave", "flux", "err"/"ivar"} from header names, else by position."""
    data, names, _ = parsed
    ncol = data.shape[1]
    if names and len(names) == ncol:
        lowered = [n.lower().split("[")[0].split("(")[0].strip() for n in names]
        found = {}
        for role, aliases in _NAMES.items():
            for i, name in enumerate(lowered):
                if name in aliases and i not in found.values():
                    found[role] = i
                    break
        if "wave" in found and "flux" in found:
            return found
    cols = {"wave": 0, "flux": 1}
    if ncol == 3:
        cols["err"] = 2
    return cols


def _table(text: str):
    parsed = u.parse_columns(text)
    if parsed is None:
        return None
    data = parsed[0]
    if data.shape[1] not in (2, 3) or data.shape[0] < 2:
        return None
    cols = _columns(parsed)
    wave = data[:, cols["wave"]]
    if not np.all(np.isfinite(wave)) or wave.min() <= 0:
        return None
    step = np.diff(wave)
    if not (np.all(step > 0) or np.all(step < 0)):
        return None
    return parsed, cols


def identify_ascii(text) -> bool:
    """2–3 numeric columns, the first (or the one named wave...) strictly monotonic and positive."""
    return _table(text) is not None


@register_format("ascii", identify_ascii, priority=-10, kind="text")
def read_ascii(text, path) -> list[Spectrum]:
    """Plain ASCII/CSV spectrum: wavelength (Å), flux[, error] with optional ``#`` comments/header."""
    fmt = "ascii"
    table = _table(text)
    if table is None:
        raise u.fail(path, fmt, "expected 2 or 3 numeric columns (wavelength Å, flux[, error]) with "
                                "strictly monotonic positive wavelengths")
    (data, _, comments), cols = table
    if data[-1, cols["wave"]] < data[0, cols["wave"]]:
        data = data[::-1]
    wave = data[:, cols["wave"]]
    flux = data[:, cols["flux"]]
    if "ivar" in cols:
        ivar = data[:, cols["ivar"]]
    elif "err" in cols:
        err = data[:, cols["err"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            ivar = np.where(err > 0, 1.0 / err**2, 0.0)
    else:
        ivar = None
    u.check_wave_range(wave, path, fmt, "the wavelength column")
    medium = "air" if any(_AIR.search(c) for c in comments) else "vacuum"
    meta = {"survey": None, "obj_class": None, "subclass": None, "z": None, "snr": None,
            "id": u.stem(path), "format": fmt, "path": path}
    return [Spectrum(wave, flux, ivar, None, meta, medium=medium)]
