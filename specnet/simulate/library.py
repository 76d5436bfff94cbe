"""Labelled stellar template libraries: :class:`Template` and :class:`TemplateLibrary`.

``TemplateLibrary.from_path(folder)`` reads every template file below a folder
with :func:`specnet.io.read_spectra` (SDSS spEigenStar, Hammer, Pickles, MILES,
Bochanski/Schmidt M/L composites), parses each label with
:func:`specnet.labels.parse_mk`, converts air wavelengths to vacuum and keeps the
instrumental resolution (FWHM in Å) for degrading to a survey's R. Labels that
are not MK types (``WD``, ``Carbon``, MILES stars without a type) and bare class
letters without a subtype (``Ldwarf``, ``sd:F``, ``Am``: they would be read as the
class middle, e.g. L5, and wreck interpolation between neighbours) are skipped with
a warning; non-template files (csv, db, txt, readmes) are skipped silently. The
Bochanski and Schmidt composites and the Hammer templates (Covey et al. 2007, a
main-sequence sequence), whose labels carry no class, get luminosity class V.

Loading is cached: the parsed library is saved as an ``.npz`` under
``$SPECNET_HOME/cache`` (default ``~/.cache/specnet``), keyed by a hash of the file
paths, sizes and mtimes, so the 1256 usable real templates (of 1370 spectra in the
files) load in well under a second after the first time; the warnings are stored and
re-issued; only the 8 newest library caches (and 12 template matrices) are kept.
File reading and the cache live in :mod:`specnet.simulate.library_io`.

Coverage gaps (MILES stops at 7410 Å, Hammer B8–K5 at 7428 Å, the M/L composites
start at 3825/5350 Å, the old spEigenStar at 3784 Å) are closed by
:meth:`TemplateLibrary.extend`: the missing end is spliced from the template of
nearest subtype (same luminosity class preferred, SDSS-resolution libraries
preferred over Pickles' R≈500) that covers it, scaled to match over a 150 Å
overlap and blended linearly across it; ``Template.notes`` records the donor.

>>> from specnet.simulate.library import Template, TemplateLibrary
>>> import numpy as np
>>> w = np.linspace(3500, 9500, 601)
>>> lib = TemplateLibrary([Template("demo:K3V", 53.0, "V", None, "demo", w, np.ones(601), 2.5)])
>>> len(lib), lib.subtypes.tolist(), lib["demo:K3V"].label
(1, [53.0], '')
"""
from __future__ import annotations

import dataclasses
import hashlib
import warnings
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

__all__ = ["Template", "TemplateLibrary", "lum_group", "cache_dir", "prune_cache"]

#: Donor preference for splicing (lower is better): SDSS-resolution libraries first.
_DONOR_PENALTY = {"SDSS-eigenstar": 0.0, "Hammer": 0.2, "Bochanski2007": 0.2, "Schmidt": 0.5,
                  "MILES": 0.3, "Pickles1998": 1.5}


def cache_dir() -> Path:
    """``$SPECNET_HOME/cache`` (see :func:`specnet.paths.specnet_home`)."""
    from specnet.paths import specnet_home

    return specnet_home() / "cache"


def prune_cache(pattern: str, keep: int) -> None:
    """Delete all but the ``keep`` most recently written ``cache_dir()/pattern`` files (stale versions)."""
    try:
        files = sorted(cache_dir().glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink()
    except OSError:  # a concurrent process got there first, or a read-only cache
        pass


def lum_group(lum: str | None) -> str:
    """Coarse luminosity group: ``"V"`` (V, IV-V), ``"IV"``, ``"III"`` (II, III, III-IV), ``"I"``, ``"VI"`` or ``"?"``.

    A range goes to its first class, except ``IV-V`` (a dwarf).

    >>> [lum_group(x) for x in ("V", "IV-V", "IV", "III-IV", "II", "Iab", "VI", None)]
    ['V', 'V', 'IV', 'III', 'III', 'I', 'VI', '?']
    """
    if lum is None or str(lum).strip() == "":
        return "?"
    s = str(lum).strip()
    first = s.replace("/", "-").split("-")[0]
    last = s.replace("/", "-").split("-")[-1]
    roman = first.rstrip("abAB0")
    if roman == "VI":
        return "VI"
    if roman == "V" or (roman == "IV" and last.rstrip("abAB0") == "V"):
        return "V"
    if roman == "IV":
        return "IV"
    if roman in ("III", "II"):
        return "III"
    if roman == "I":
        return "I"
    return "?"


@dataclasses.dataclass
class Template:
    """One labelled template spectrum (rest frame, vacuum Å).

    Attributes
    ----------
    name : str
        Unique id, e.g. ``"pickles:k3v"``, ``"miles:m0001V"``, ``"builtin:K3V"``.
    subtype : float
        O0=0 … M9=69, L0=70 …
    lum_class : str or None
        ``"V"``, ``"III"``, ``"IV-V"``... as parsed.
    feh : float or None
        [Fe/H] where the library gives it.
    library : str
        ``"Pickles1998"``, ``"MILES"``, ``"Hammer"``, ``"SDSS-eigenstar"``, ``"Bochanski2007"``,
        ``"Schmidt"``, ``"builtin"``.
    wave : ndarray
        Wavelength in Å, **vacuum**, increasing.
    flux : ndarray
        F_λ, any scale.
    fwhm : float or ndarray
        Instrumental FWHM in Å (scalar, or per pixel like ``wave``).
    label : str
        The original label text.
    notes : str
        Provenance, e.g. ``"red end spliced from pickles:k2v beyond 7410 Å"``.
    """

    name: str
    subtype: float
    lum_class: str | None
    feh: float | None
    library: str
    wave: np.ndarray
    flux: np.ndarray
    fwhm: float | np.ndarray
    label: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        self.wave = np.asarray(self.wave, dtype=np.float64).ravel()
        self.flux = np.asarray(self.flux, dtype=np.float64).ravel()
        if self.wave.size != self.flux.size or self.wave.size < 2:
            raise ValueError(f"Template {self.name!r}: wave and flux must have the same length >= 2. "
                             f"Received: wave.size={self.wave.size}, flux.size={self.flux.size}")
        if not np.all(np.diff(self.wave) > 0):
            raise ValueError(f"Template {self.name!r}: wave must be strictly increasing. Received: wave={self.wave!r}")
        if not np.isfinite(self.subtype):
            raise ValueError(f"Template {self.name!r}: subtype must be finite. Received: subtype={self.subtype!r}")
        self.subtype = float(self.subtype)
        fw = np.asarray(self.fwhm, dtype=np.float64)
        if fw.ndim and fw.size != self.wave.size:
            raise ValueError(f"Template {self.name!r}: fwhm must be a scalar or one value per pixel. "
                             f"Received: fwhm.size={fw.size}, wave.size={self.wave.size}")
        if np.any(~np.isfinite(fw)) or np.any(fw < 0):
            raise ValueError(f"Template {self.name!r}: fwhm must be finite and >= 0 Å. Received: fwhm={self.fwhm!r}")
        self.fwhm = float(fw) if fw.ndim == 0 else fw

    @property
    def lum_group(self) -> str:
        """Coarse luminosity group (see :func:`lum_group`)."""
        return lum_group(self.lum_class)

    @property
    def wave_range(self) -> tuple[float, float]:
        """First and last wavelength (vacuum Å)."""
        return float(self.wave[0]), float(self.wave[-1])

    def fwhm_at(self, wave: np.ndarray) -> np.ndarray:
        """Instrumental FWHM (Å) at ``wave``, held constant beyond the ends."""
        if np.ndim(self.fwhm) == 0:
            return np.full(np.shape(wave), float(self.fwhm))
        return np.interp(wave, self.wave, self.fwhm)


class TemplateLibrary:
    """An ordered collection of :class:`Template` (names made unique).

    ``lib[i]`` / ``lib["pickles:k3v"]`` give a Template; ``lib[array_or_slice]`` a new
    library. :attr:`subtypes`, :attr:`lum_classes`, :attr:`libraries` are arrays over
    templates.

    Example
    -------
    >>> lib = TemplateLibrary.from_path("../shared/data/templates")   # doctest: +SKIP
    >>> lib.summary()                                                  # doctest: +SKIP
    """

    def __init__(self, templates: Iterable[Template]):
        self.templates: list[Template] = list(templates)
        seen: dict[str, int] = {}
        for i, t in enumerate(self.templates):
            if not isinstance(t, Template):
                raise ValueError(f"TemplateLibrary needs Template objects. Received: {type(t).__name__}")
            if t.name in seen:
                seen[t.name] += 1
                self.templates[i] = dataclasses.replace(t, name=f"{t.name}#{seen[t.name]}")
            else:
                seen[t.name] = 0
        self._index = {t.name: i for i, t in enumerate(self.templates)}
        self._extended: dict = {}
        self._fingerprint: str | None = None
        self.load_warnings: list[str] = []

    # ------------------------------------------------------------- container
    def __len__(self) -> int:
        return len(self.templates)

    def __iter__(self):
        return iter(self.templates)

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self.templates[self._index[key]]
            except KeyError:
                raise KeyError(f"No template named {key!r} in this library") from None
        if isinstance(key, (int, np.integer)):
            return self.templates[key]
        if isinstance(key, slice):
            return TemplateLibrary(self.templates[key])
        idx = np.asarray(key)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return TemplateLibrary([self.templates[int(i)] for i in idx])

    def __repr__(self) -> str:
        libs = ", ".join(f"{k}: {v}" for k, v in self.counts().items())
        return f"TemplateLibrary({len(self)} templates; {libs})"

    @property
    def names(self) -> list[str]:
        """Template names, in order."""
        return [t.name for t in self.templates]

    @property
    def subtypes(self) -> np.ndarray:
        """Subtypes (O0=0 … M9=69), float array ``(n,)``."""
        return np.array([t.subtype for t in self.templates], dtype=float)

    @property
    def lum_classes(self) -> np.ndarray:
        """Luminosity classes as parsed (``""`` where none), object array ``(n,)``."""
        return np.array([t.lum_class or "" for t in self.templates], dtype=object)

    @property
    def lum_groups(self) -> np.ndarray:
        """Coarse luminosity groups (see :func:`lum_group`), object array ``(n,)``."""
        return np.array([t.lum_group for t in self.templates], dtype=object)

    @property
    def libraries(self) -> np.ndarray:
        """Library name of each template, object array ``(n,)``."""
        return np.array([t.library for t in self.templates], dtype=object)

    def counts(self) -> dict[str, int]:
        """Number of templates per library."""
        out: dict[str, int] = {}
        for t in self.templates:
            out[t.library] = out.get(t.library, 0) + 1
        return out

    def filter(self, libraries: Sequence[str] | str | None = None, lum_classes: Sequence[str] | str | None = None,
               subtype_range: tuple[float, float] | None = None,
               predicate: Callable[[Template], bool] | None = None) -> "TemplateLibrary":
        """Templates matching every given criterion (luminosity classes compare by :func:`lum_group`).

        >>> import numpy as np
        >>> w = np.linspace(4000, 5000, 10)
        >>> lib = TemplateLibrary([Template("a", 53.0, "V", None, "x", w, np.ones(10), 2.0),
        ...                        Template("b", 53.0, "III", None, "y", w, np.ones(10), 2.0)])
        >>> lib.filter(lum_classes="IV-V").names, lib.filter(libraries="y").names
        (['a'], ['b'])
        """
        libs = {libraries} if isinstance(libraries, str) else (set(libraries) if libraries is not None else None)
        groups = None
        if lum_classes is not None:
            groups = {lum_group(lum_classes)} if isinstance(lum_classes, str) else {lum_group(c) for c in lum_classes}
        out = []
        for t in self.templates:
            if libs is not None and t.library not in libs:
                continue
            if groups is not None and t.lum_group not in groups:
                continue
            if subtype_range is not None and not (subtype_range[0] <= t.subtype <= subtype_range[1]):
                continue
            if predicate is not None and not predicate(t):
                continue
            out.append(t)
        return TemplateLibrary(out)

    def summary(self):
        """An astropy Table with one row per library: count, subtype range, classes, coverage, FWHM.

        Columns: ``library``, ``n``, ``subtype_min``, ``subtype_max``, ``lum_groups``,
        ``wave_min``, ``wave_max`` (median coverage, vacuum Å), ``fwhm_5500`` (median Å), ``spliced``.
        """
        from astropy.table import Table

        from specnet.labels import format_subtype

        rows = []
        for lib in sorted(self.counts()):
            ts = [t for t in self.templates if t.library == lib]
            st = np.array([t.subtype for t in ts])
            rows.append({
                "library": lib, "n": len(ts),
                "subtype_min": format_subtype(st.min()), "subtype_max": format_subtype(st.max()),
                "lum_groups": ",".join(sorted({t.lum_group for t in ts})),
                "wave_min": float(np.median([t.wave[0] for t in ts])),
                "wave_max": float(np.median([t.wave[-1] for t in ts])),
                "fwhm_5500": float(np.median([t.fwhm_at(np.array([5500.0]))[0] for t in ts])),
                "spliced": sum(bool(t.notes) for t in ts),
            })
        return Table(rows=rows, names=["library", "n", "subtype_min", "subtype_max", "lum_groups", "wave_min",
                                       "wave_max", "fwhm_5500", "spliced"])

    @property
    def fingerprint(self) -> str:
        """A short hash of names, subtypes and sampled flux (cache key for derived matrices)."""
        if self._fingerprint is None:
            h = hashlib.sha1()
            for t in self.templates:
                h.update(f"{t.name}|{t.subtype}|{t.lum_class}|{t.wave[0]:.3f}|{t.wave[-1]:.3f}|".encode())
                h.update(np.ascontiguousarray(t.flux[:: max(1, t.flux.size // 64)], dtype=np.float64).tobytes())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    # ----------------------------------------------------------------- loading
    @classmethod
    def from_path(cls, path, recursive: bool = True, cache: bool = True) -> "TemplateLibrary":
        """Every template in a file or folder (see the module docstring).

        Parameters
        ----------
        path : str or Path
            A template file, or a folder searched (recursively by default).
        recursive : bool
            Descend into sub-folders.
        cache : bool
            Use/write the ``.npz`` cache under ``$SPECNET_HOME/cache``.

        Warns
        -----
        UserWarning
            Once per template whose label is not an MK type (skipped), and per
            template-like file that cannot be read (skipped).
        """
        from specnet.simulate.library_io import _cache_key, _load_cache, _read_files, _save_cache, _skip_file

        root = Path(path)
        if not root.exists():
            raise ValueError(f"No such template file or folder. Received: path={str(path)!r}")
        files = [root] if root.is_file() else sorted(p for p in (root.rglob("*") if recursive else root.glob("*"))
                                                   if p.is_file())
        files = [p for p in files if not _skip_file(p)]
        key = _cache_key(files)
        cpath = cache_dir() / f"templates-{key}.npz"
        if cache and cpath.is_file():
            try:
                lib = _load_cache(cpath)
            except Exception:  # corrupt/old cache: rebuild
                lib = None
            if lib is not None:
                for msg in lib.load_warnings:
                    warnings.warn(msg, UserWarning, stacklevel=2)
                return lib
        templates, messages = _read_files(files)
        lib = cls(templates)
        lib.load_warnings = messages
        for msg in messages:
            warnings.warn(msg, UserWarning, stacklevel=2)
        if cache and templates:
            try:
                _save_cache(lib, cpath)
                prune_cache("templates-*.npz", keep=8)
            except OSError:
                pass
        return lib

    # --------------------------------------------------------------- coverage
    def extend(self, wmin: float, wmax: float, overlap: float = 150.0) -> "TemplateLibrary":
        """A library whose every template covers ``[wmin, wmax]`` (vacuum Å), by splicing.

        A template short of either end gets that end from the donor that covers the
        whole range with the nearest subtype (score = |Δsubtype| + 3 if the luminosity
        group differs (1–2 if one is unknown) + a library penalty preferring
        SDSS-resolution libraries over Pickles), scaled to the template's median flux over the last ``overlap`` Å it
        has and blended linearly across that window. ``notes`` records the donor.
        Templates that cannot be extended (no donor) are kept as they are. Cached per range.
        """
        key = (round(float(wmin), 1), round(float(wmax), 1), float(overlap))
        if key in self._extended:
            return self._extended[key]
        covers = np.array([t.wave[0] <= wmin and t.wave[-1] >= wmax for t in self.templates])
        donors = np.flatnonzero(covers)
        out = []
        sub = self.subtypes
        groups = self.lum_groups
        pen = np.array([_DONOR_PENALTY.get(t.library, 1.0) for t in self.templates])
        for i, t in enumerate(self.templates):
            if covers[i] or donors.size == 0:
                out.append(t)
                continue
            score = np.abs(sub[donors] - t.subtype) + _lum_penalty(groups[i], groups[donors]) + pen[donors]
            d = self.templates[int(donors[np.argmin(score)])]
            out.append(_splice(t, d, wmin, wmax, overlap))
        lib = TemplateLibrary(out)
        lib.load_warnings = list(self.load_warnings)
        self._extended[key] = lib
        return lib


def _lum_penalty(target: str, donors: np.ndarray) -> np.ndarray:
    """Donor score penalty for a luminosity-group mismatch: 0 same, 3 different, 1–2 if one is unknown
    (an unknown class most likely being a dwarf)."""
    donors = np.asarray(donors)
    if target == "?":
        return np.where(donors == "?", 0.0, np.where(donors == "V", 1.0, 2.0))
    return np.where(donors == target, 0.0, np.where(donors == "?", 1.0, 3.0))


def _splice(t: Template, d: Template, wmin: float, wmax: float, overlap: float) -> Template:
    """``t`` with its blue end below ``t.wave[0]`` and/or red end beyond ``t.wave[-1]`` taken from ``d``."""
    wave, flux = t.wave, t.flux
    fwhm = t.fwhm_at(wave)
    notes = []
    if t.wave[-1] < wmax:
        hi = wave[-1]
        win = wave >= hi - overlap
        dflux = np.interp(wave[win], d.wave, d.flux)
        scale = np.median(flux[win]) / max(np.median(dflux), 1e-300)
        alpha = (wave[win] - (hi - overlap)) / overlap
        flux = flux.copy()
        flux[win] = (1 - alpha) * flux[win] + alpha * scale * dflux
        ext = d.wave > hi
        wave = np.concatenate([wave, d.wave[ext]])
        flux = np.concatenate([flux, scale * d.flux[ext]])
        fwhm = np.concatenate([fwhm, d.fwhm_at(d.wave[ext])])
        notes.append(f"red end spliced from {d.name} beyond {hi:.0f} Å")
    if t.wave[0] > wmin:
        lo = wave[0]
        win = wave <= lo + overlap
        dflux = np.interp(wave[win], d.wave, d.flux)
        scale = np.median(flux[win]) / max(np.median(dflux), 1e-300)
        alpha = ((lo + overlap) - wave[win]) / overlap
        flux = flux.copy()
        flux[win] = (1 - alpha) * flux[win] + alpha * scale * dflux
        ext = d.wave < lo
        wave = np.concatenate([d.wave[ext], wave])
        flux = np.concatenate([scale * d.flux[ext], flux])
        fwhm = np.concatenate([d.fwhm_at(d.wave[ext]), fwhm])
        notes.append(f"blue end spliced from {d.name} below {lo:.0f} Å")
    note = "; ".join(([t.notes] if t.notes else []) + notes)
    return dataclasses.replace(t, wave=wave, flux=flux, fwhm=fwhm, notes=note)
