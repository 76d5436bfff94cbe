"""Reading template files into :class:`~specnet.simulate.library.Template` objects, and the
``.npz`` cache of a parsed library (used by :meth:`TemplateLibrary.from_path`).

The cache (``$SPECNET_HOME/cache/templates-<key>.npz``) is keyed by a hash of every file's
path, size and mtime (and :data:`_CACHE_VERSION`); it stores wavelengths (float64), fluxes
(float32, the precision templates are read at), resolutions (as a constant FWHM, a
constant R or an array) and the load warnings, which are re-issued on a cached load.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from specnet.simulate.library import Template, TemplateLibrary

#: File suffixes that are never templates (skipped silently by ``from_path``).
SKIP_SUFFIXES = {".csv", ".db", ".txt", ".md", ".list", ".par", ".dat", ".json", ".py", ".pdf",
                 ".png", ".html", ".rst", ".npz", ".log", ".ext"}
SKIP_NAMES = {"readme", "license", "licence", "changes", "index"}
_CACHE_VERSION = "4"
#: Luminosity class of libraries made of one class only, used when a label gives none.
_LIBRARY_LUM = {"Bochanski2007": "V", "Schmidt": "V", "Hammer": "V"}


def _short(library: str) -> str:
    return {"SDSS-eigenstar": "eigen", "Pickles1998": "pickles", "Bochanski2007": "b07"}.get(library, library.lower())


def _template_from_spectrum(spec) -> Template:
    """A Template from a template reader's Spectrum; raises LabelError for non-MK labels."""
    from specnet.errors import LabelError
    from specnet.labels import parse_mk

    meta = spec.meta
    label = meta.get("subclass")
    if meta.get("non_mk"):
        raise LabelError(f"{label!r} is not an MK type")
    mk = parse_mk(label)
    if not re.search(r"\d", re.sub(r"\([^()]*\)", "", str(label))):
        raise LabelError(f"{label!r} has no numeric subtype (a bare class letter)")
    spec = spec.to_vacuum()
    good = ~spec.mask & np.isfinite(spec.flux)
    if good.sum() < 10:
        raise ValueError("fewer than 10 usable pixels")
    i0, i1 = int(np.argmax(good)), int(good.size - np.argmax(good[::-1]))
    wave, flux, good = spec.wave[i0:i1], spec.flux[i0:i1], good[i0:i1]
    if not good.all():
        flux = np.interp(wave, wave[good], flux[good])
    library = meta.get("survey") or meta.get("format") or "unknown"
    if meta.get("resolution_fwhm"):
        fwhm = float(meta["resolution_fwhm"])
    else:
        fwhm = wave / float(meta.get("R") or 2000.0)
    ident = str(meta.get("template_name") or meta.get("id") or label)
    feh = meta.get("feh")
    feh = float(feh) if feh is not None and np.isfinite(feh) else None
    flux = np.asarray(flux, dtype=np.float32)  # float32 precision, as the cache stores it
    lum = mk.lum_class or _LIBRARY_LUM.get(library)
    return Template(name=f"{_short(library)}:{ident}", subtype=mk.subtype, lum_class=lum, feh=feh,
                    library=library, wave=wave, flux=flux, fwhm=fwhm, label=str(label))


def _skip_file(p: Path) -> bool:
    name = p.name.lower()
    suffix = p.suffix.lower()
    if name.startswith("."):
        return True
    if suffix in SKIP_SUFFIXES:
        return True
    return p.stem.lower() in SKIP_NAMES or name in SKIP_NAMES


def _cache_key(files: list[Path]) -> str:
    h = hashlib.sha1(f"v{_CACHE_VERSION}".encode())
    for p in files:
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def _read_files(files: list[Path]) -> tuple[list[Template], list[str]]:
    """Templates from ``files`` and the warning messages (one per unreadable file, one per
    library listing its templates with non-MK labels)."""
    from specnet.errors import LabelError, SpectrumFormatError
    from specnet.io import read_spectra

    templates, messages = [], []
    skipped: dict[str, list[str]] = {}
    for p in files:
        try:
            spectra = read_spectra(p)
        except SpectrumFormatError as exc:
            messages.append(f"skipped unreadable template file {p}: {exc}")
            continue
        for spec in spectra:
            try:
                templates.append(_template_from_spectrum(spec))
            except LabelError:
                lib = spec.meta.get("survey") or p.name
                skipped.setdefault(lib, []).append(f"{spec.meta.get('id')} {spec.meta.get('subclass')!r}")
            except ValueError as exc:
                messages.append(f"skipped template {spec.meta.get('id')!r} from {p.name}: {exc}")
    for lib, items in skipped.items():
        messages.append(f"{lib}: skipped {len(items)} template(s) whose label is not an MK spectral type "
                        f"(unparseable label): {', '.join(items)}")
    return templates, messages


def _fwhm_spec(t: Template):
    """A compact description of ``t.fwhm``: ``("A", value)``, ``("R", R)`` or ``("array", None)``."""
    if np.ndim(t.fwhm) == 0:
        return ["A", float(t.fwhm)]
    r = t.wave / t.fwhm
    if np.all(np.isfinite(r)) and np.ptp(r) <= 1e-6 * r[0]:
        return ["R", float(r[0])]
    return ["array", None]


def _save_cache(lib: TemplateLibrary, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ts = lib.templates
    sizes = np.array([t.wave.size for t in ts], dtype=np.int64)
    meta = [{"name": t.name, "subtype": t.subtype, "lum_class": t.lum_class, "feh": t.feh, "library": t.library,
             "label": t.label, "notes": t.notes, "fwhm": _fwhm_spec(t)} for t in ts]
    arrays = [t.fwhm for t, m in zip(ts, meta) if m["fwhm"][0] == "array"]
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, sizes=sizes, wave=np.concatenate([t.wave for t in ts]),
             flux=np.concatenate([t.flux for t in ts]).astype(np.float32),
             fwhm=np.concatenate(arrays).astype(np.float32) if arrays else np.zeros(0, np.float32),
             meta=np.array(json.dumps(meta)), warnings=np.array(json.dumps(lib.load_warnings)))
    os.replace(tmp, path)


def _load_cache(path: Path) -> TemplateLibrary:
    with np.load(path, allow_pickle=False) as z:
        sizes, wave, flux, fwhm = z["sizes"], z["wave"], z["flux"], z["fwhm"]
        meta = json.loads(str(z["meta"]))
        messages = json.loads(str(z["warnings"]))
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    ts = []
    pos = 0
    for m, a, b in zip(meta, bounds[:-1], bounds[1:]):
        kind, value = m["fwhm"]
        w = wave[a:b]
        if kind == "A":
            fw = value
        elif kind == "R":
            fw = w / value
        else:
            fw = fwhm[pos:pos + w.size]
            pos += w.size
        ts.append(Template(name=m["name"], subtype=m["subtype"], lum_class=m["lum_class"], feh=m["feh"],
                           library=m["library"], wave=w, flux=flux[a:b], fwhm=fw, label=m["label"],
                           notes=m["notes"]))
    lib = TemplateLibrary(ts)
    lib.load_warnings = messages
    return lib
