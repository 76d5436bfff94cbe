"""The MK classification lines and bands, in VACUUM Å, and which classes they type.

Atomic lines carry their vacuum wavelengths (NIST/SDSS line lists). Molecular
band heads and blends (G band, Mg b, TiO, CaH) are quoted in the literature in
air as round numbers; they are stored here converted to vacuum with
:func:`specnet.spectrum.air_to_vacuum` (a 1–2 Å shift, far below the bands'
widths), so that every wavelength in this module is in vacuum like LAMOST and
SDSS spectra.

>>> from specnet.explain.lines import LINES, lines_in
>>> LINES["Hbeta"].wave
4862.69
>>> [line.name for line in lines_in(3900, 4000)]
['Ca II K', 'Ca II H', 'Hepsilon']
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

import numpy as np

from specnet.spectrum import air_to_vacuum

#: MK class letters in temperature order.
MK_CLASSES = ("O", "B", "A", "F", "G", "K", "M", "L", "T")


@dataclasses.dataclass(frozen=True)
class Line:
    """One classification feature.

    Attributes
    ----------
    name : str
        Unique key, ASCII (``"Hbeta"``, ``"Ca II K"``, ``"TiO 7054"``).
    wave : float
        Vacuum wavelength in Å (line centre, or band head for molecular bands).
    label : str
        Short label for plots (``"Hβ"``, ``"K"``, ``"TiO"``).
    kind : {"line", "band"}
        An atomic line, or a molecular band head / blend.
    classes : tuple of str
        MK classes whose typing leans on this feature (e.g. ``("A", "F")``).
    """

    name: str
    wave: float
    label: str
    kind: str
    classes: tuple


def _band(name: str, air: float, label: str, classes: tuple) -> Line:
    return Line(name, round(float(air_to_vacuum(np.array([air]))[0]), 2), label, "band", classes)


_LINES = (
    # Balmer series (vacuum)
    Line("Halpha", 6564.61, "Hα", "line", ("B", "A", "F", "G")),
    Line("Hbeta", 4862.69, "Hβ", "line", ("B", "A", "F")),
    Line("Hgamma", 4341.69, "Hγ", "line", ("B", "A", "F")),
    Line("Hdelta", 4102.90, "Hδ", "line", ("B", "A", "F")),
    Line("Hepsilon", 3971.20, "Hε", "line", ("A", "F")),
    Line("H8", 3890.16, "H8", "line", ("A", "F")),
    # Calcium
    Line("Ca II K", 3934.78, "Ca K", "line", ("A", "F", "G", "K")),
    Line("Ca II H", 3969.59, "Ca H", "line", ("A", "F", "G", "K")),
    Line("Ca I 4227", 4227.92, "Ca I", "line", ("G", "K", "M")),
    Line("Ca II 8500", 8500.35, "CaT", "line", ("G", "K", "M")),
    Line("Ca II 8544", 8544.44, "CaT", "line", ("G", "K", "M")),
    Line("Ca II 8664", 8664.52, "CaT", "line", ("G", "K", "M")),
    # Helium (hot stars)
    Line("He I 4473", 4472.73, "He I", "line", ("O", "B")),
    Line("He II 4687", 4687.02, "He II", "line", ("O",)),
    # Sodium
    Line("Na I D2", 5891.58, "Na D", "line", ("K", "M")),
    Line("Na I D1", 5897.56, "Na D", "line", ("K", "M")),
    # Molecular bands and blends (quoted in air, stored in vacuum)
    _band("G band", 4300.0, "G", ("F", "G", "K")),
    _band("Mg b", 5175.0, "Mg b", ("G", "K", "M")),
    _band("TiO 4955", 4955.0, "TiO", ("K", "M")),
    _band("TiO 5167", 5167.0, "TiO", ("K", "M")),
    _band("TiO 5448", 5448.0, "TiO", ("K", "M")),
    _band("TiO 6159", 6159.0, "TiO", ("K", "M")),
    _band("TiO 7054", 7054.0, "TiO", ("M",)),
    _band("TiO 7589", 7589.0, "TiO", ("M",)),
    _band("TiO 8432", 8432.0, "TiO", ("M",)),
    _band("CaH 6382", 6382.0, "CaH", ("M",)),
    _band("CaH 6750", 6750.0, "CaH", ("M",)),
)

#: Every line by name, in the order above.
LINES: dict[str, Line] = {line.name: line for line in _LINES}

#: The features Wang et al. (2021, Fig. 4) found Grad-CAM highlighting per class:
#: ``class -> (line names, ((wmin, wmax), ...) regions in vacuum Å)``.
CLASS_FEATURES: dict[str, tuple[tuple[str, ...], tuple[tuple[float, float], ...]]] = {
    "A": (("Hbeta", "Hgamma", "Hdelta"), ()),
    "F": (("Ca II K", "Ca II H", "Hbeta", "Hgamma", "Hdelta", "Hepsilon"), ()),
    "G": (("Ca II K", "Ca II H", "G band", "Ca I 4227"), ((3800.0, 4400.0),)),
    "K": (("Mg b", "Ca II K", "Ca II H"), ((3699.0, 4390.0),)),
}


def get_lines(lines: str | Iterable | None = "all") -> list[Line]:
    """Resolve a line selection to a list of :class:`Line`.

    ``lines`` may be ``"all"``/``None`` (every line), one name, or an iterable of
    names, :class:`Line` objects or bare vacuum wavelengths (floats, Å; these get
    their wavelength as label).

    >>> [l.wave for l in get_lines(["Hbeta", 5000.0])]
    [4862.69, 5000.0]
    """
    if lines is None or (isinstance(lines, str) and lines == "all"):
        return list(_LINES)
    if isinstance(lines, (str, Line)) or np.isscalar(lines):
        lines = [lines]
    out = []
    for item in lines:
        if isinstance(item, Line):
            out.append(item)
        elif isinstance(item, str):
            if item not in LINES:
                raise ValueError(f"Unknown line name {item!r}; known: {', '.join(LINES)}. "
                                 f"Received: lines={item!r}")
            out.append(LINES[item])
        else:
            try:
                w = float(item)
            except (TypeError, ValueError):
                raise ValueError(f"A line must be a name, a Line or a wavelength in Å. "
                                 f"Received: lines item={item!r}") from None
            if not np.isfinite(w) or w <= 0:
                raise ValueError(f"A line wavelength must be finite and > 0 Å. Received: {item!r}")
            out.append(Line(f"{w:.1f}", w, f"{w:.0f}", "line", ()))
    return out


def lines_in(wmin: float, wmax: float, classes: Sequence[str] | None = None) -> list[Line]:
    """The lines with ``wmin <= wave <= wmax`` (vacuum Å), sorted by wavelength.

    ``classes`` keeps only lines that matter for at least one of those MK classes.

    >>> [l.name for l in lines_in(4000, 4500, classes=["A"])]
    ['Hdelta', 'Hgamma']
    """
    if not (np.isfinite(wmin) and np.isfinite(wmax)) or wmax < wmin:
        raise ValueError(f"lines_in needs finite wmin <= wmax (Å). Received: wmin={wmin}, wmax={wmax}")
    keep = [line for line in _LINES if wmin <= line.wave <= wmax
            and (classes is None or set(line.classes) & set(classes))]
    return sorted(keep, key=lambda line: line.wave)


def window_mask(wave: np.ndarray, lines: str | Iterable | None = "all",
                half_width: float = 30.0) -> np.ndarray:
    """Boolean mask (same shape as ``wave``), True within ``±half_width`` Å of any line.

    ``wave`` and the lines must be in the same medium (vacuum for LAMOST/SDSS).

    >>> import numpy as np
    >>> wave = np.arange(4800.0, 4930.0, 10.0)
    >>> wave[window_mask(wave, ["Hbeta"], half_width=30)].tolist()
    [4840.0, 4850.0, 4860.0, 4870.0, 4880.0, 4890.0]
    """
    if not np.isfinite(half_width) or half_width < 0:
        raise ValueError(f"half_width must be a finite number of Å >= 0. Received: half_width={half_width}")
    wave = np.asarray(wave, dtype=np.float64)
    centres = np.array([line.wave for line in get_lines(lines)], dtype=np.float64)
    if centres.size == 0:
        return np.zeros(wave.shape, bool)
    # distance to the nearest centre via a sorted search: O(npix log nlines), no (npix, nlines) array
    centres.sort()
    flat = wave.ravel()
    idx = np.clip(np.searchsorted(centres, flat), 1, max(centres.size - 1, 1))
    lo = centres[np.maximum(idx - 1, 0)]
    hi = centres[np.minimum(idx, centres.size - 1)]
    dist = np.minimum(np.abs(flat - lo), np.abs(flat - hi))
    return (dist <= half_width).reshape(wave.shape)
