"""Format registry: identify a file's layout, then read it with that layout's reader.

Each layout module registers a reader with :func:`register_format`, giving an
*identifier* function (cheap, never raises, looks only at headers/structure)
apart from the *loader*, and a priority (higher is tried first), as in
specutils. :func:`read_spectra` opens the source once, asks every identifier
in priority order, and hands the opened file to the first match.

Sources may be a path (``.fits``, ``.fit``, ``.fits.gz``, ``.sed``, ``.txt``,
``.csv``, ...), a binary file object, or an :class:`astropy.io.fits.HDUList`.
"""
from __future__ import annotations

import dataclasses
import io
import os
from typing import Any, Callable

import numpy as np
from astropy.io import fits

from specnet.errors import SpectrumFormatError
from specnet.spectrum import Spectrum


@dataclasses.dataclass(frozen=True)
class Format:
    """One registered layout.

    ``kind`` is ``"fits"`` (identify/read take an ``HDUList``) or ``"text"``
    (identify/read take the decoded text of the file).
    """

    name: str
    identify: Callable[..., bool]
    read: Callable[..., list[Spectrum]]
    priority: int = 0
    kind: str = "fits"
    description: str = ""


_FORMATS: dict[str, Format] = {}


def register_format(name: str, identify: Callable[..., bool], priority: int = 0,
                    kind: str = "fits", description: str = ""):
    """Decorator registering ``read(obj, path) -> list[Spectrum]`` as layout ``name``.

    ``identify(obj)`` gets the same object (``HDUList`` or text) and returns a bool.

    Example
    -------
    >>> from specnet.io.registry import register_format
    >>> def is_mine(hdul): return hdul[0].header.get("TELESCOP") == "MINE"
    >>> @register_format("my-layout", is_mine, priority=5)
    ... def read_mine(hdul, path):
    ...     ...
    """
    if kind not in ("fits", "text"):
        raise ValueError(f"kind must be 'fits' or 'text'. Received: kind={kind!r}")

    def decorator(read):
        _FORMATS[name] = Format(name, identify, read, priority, kind,
                                description or (read.__doc__ or "").strip().split("\n")[0])
        return read

    return decorator


def formats() -> list[str]:
    """Names of the registered layouts, highest priority first.

    >>> "lamost-dr9" in formats() and "sdss-spec" in formats()
    True
    """
    return [f.name for f in sorted(_FORMATS.values(), key=lambda f: (-f.priority, f.name))]


def get_format(name: str) -> Format:
    """The :class:`Format` registered as ``name`` (``SpectrumFormatError`` if none)."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise SpectrumFormatError(
            f"Unknown format {name!r}. Known formats: {', '.join(formats())}") from None


def _label(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, fits.HDUList):
        return getattr(source, "filename", lambda: None)() or "<HDUList>"
    return getattr(source, "name", None) or f"<{type(source).__name__}>"


_FITS_MAGIC = b"SIMPLE  ="
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(source: Any, label: str) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.isdir(path):
            raise SpectrumFormatError(f"{label}: is a directory, not a spectrum file")
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            raise SpectrumFormatError(f"{label}: no such file") from None
        except OSError as exc:
            raise SpectrumFormatError(f"{label}: cannot be opened ({exc})") from None
    data = source.read()
    if isinstance(data, str):
        data = data.encode()
    return data


def _open(source: Any, label: str) -> tuple[str, Any]:
    """Return ``("fits", HDUList)`` or ``("text", str)`` for a source."""
    if isinstance(source, fits.HDUList):
        return "fits", source
    data = _read_bytes(source, label)
    if len(data) == 0:
        raise SpectrumFormatError(f"{label}: file is empty (0 bytes)")
    if data[:2] == _GZIP_MAGIC:
        import gzip

        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise SpectrumFormatError(f"{label}: gzip stream is truncated or corrupt ({exc})") from None
    if data[: len(_FITS_MAGIC)] == _FITS_MAGIC:
        if len(data) % 2880:
            raise SpectrumFormatError(
                f"{label}: FITS file is truncated ({len(data)} bytes, not a multiple of 2880)")
        try:
            hdul = fits.open(io.BytesIO(data), memmap=False, lazy_load_hdus=False)
            # HDU data stays lazy (SDSS "full" files carry one table per exposure that no
            # reader needs); a reader that touches a truncated HDU fails inside read_spectra,
            # which names the file too.
        except Exception as exc:  # astropy raises many kinds here
            raise SpectrumFormatError(f"{label}: FITS file is truncated or corrupt ({exc})") from None
        return "fits", hdul
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
            text = None
    if text is None or "\x00" in text[:4096]:
        raise SpectrumFormatError(f"{label}: not a FITS file and not text (binary data of unknown kind)")
    return "text", text


def identify(source: Any) -> list[str]:
    """Names of every layout whose identifier accepts ``source``, best first.

    >>> identify("no/such/file.fits")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    SpectrumFormatError: no/such/file.fits: no such file
    """
    label = _label(source)
    kind, obj = _open(source, label)
    return _identify_opened(kind, obj)


def _identify_opened(kind: str, obj: Any) -> list[str]:
    hits = []
    for name in formats():
        fmt = _FORMATS[name]
        if fmt.kind != kind:
            continue
        try:
            ok = fmt.identify(obj)
        except Exception:
            ok = False
        if ok:
            hits.append(name)
    return hits


def read_spectra(source: Any, format: str | None = None) -> list[Spectrum]:
    """Read every spectrum in ``source`` (a path, binary file object or ``HDUList``).

    Parameters
    ----------
    source : str, os.PathLike, file object or astropy.io.fits.HDUList
    format : str, optional
        Force a layout (one of :func:`formats`); by default it is identified.

    Returns
    -------
    list of Spectrum
        One per spectrum in the file (template libraries hold many).

    Raises
    ------
    SpectrumFormatError
        Empty, truncated, non-FITS/non-text or unknown-layout input; the message
        names the file and, for an unknown layout, the layouts tried.
    """
    label = _label(source)
    kind, obj = _open(source, label)
    path = label if isinstance(source, (str, os.PathLike)) else (label if not label.startswith("<") else None)
    if format is not None:
        fmt = get_format(format)
        if fmt.kind != kind:
            raise SpectrumFormatError(
                f"{label}: format {format!r} reads {fmt.kind} files, but this is a {kind} file")
        names = [format]
    else:
        names = _identify_opened(kind, obj)
        if not names:
            tried = [f.name for f in _FORMATS.values() if f.kind == kind]
            raise SpectrumFormatError(
                f"{label}: unknown {'FITS' if kind == 'fits' else 'text'} layout; "
                f"tried: {', '.join(sorted(tried))}")
    fmt = _FORMATS[names[0]]
    try:
        spectra = fmt.read(obj, path)
    except SpectrumFormatError:
        raise
    except Exception as exc:
        raise SpectrumFormatError(
            f"{label}: read as {fmt.name!r} failed: {type(exc).__name__}: {exc}") from None
    if not spectra:
        raise SpectrumFormatError(f"{label}: no spectrum found (format {fmt.name!r})")
    for spec in spectra:
        spec.meta.setdefault("format", fmt.name)
        if spec.meta.get("format") is None:
            spec.meta["format"] = fmt.name
        if spec.meta.get("path") is None:
            spec.meta["path"] = path
        if not np.all(np.diff(spec.wave) > 0):
            raise SpectrumFormatError(f"{label}: wavelengths are not strictly increasing (format {fmt.name!r})")
    return spectra


def read_spectrum(source: Any, format: str | None = None) -> Spectrum:
    """Read the one spectrum in ``source``; see :func:`read_spectra`.

    Raises ``SpectrumFormatError`` if the file holds several spectra (use
    :func:`read_spectra` for template libraries).
    """
    spectra = read_spectra(source, format=format)
    if len(spectra) != 1:
        raise SpectrumFormatError(
            f"{_label(source)}: holds {len(spectra)} spectra; use specnet.io.read_spectra()")
    return spectra[0]
