"""The MK spectral-type scale: strings at the edges, one float everywhere else.

Scale (monotonic, 10 steps per class)::

    O0=0  B0=10  A0=20  F0=30  G0=40  K0=50  M0=60 (M9=69)  L0=70..L9=79  T0=80..T9=89

so ``K3`` is 53.0, ``B9.5`` is 19.5 and ``L5.5`` is 75.5.

Parsing rules (:func:`parse_mk`), chosen to read what real catalogues and
template libraries contain:

* **Catalogue strings** (SDSS, LAMOST, MILES, Hammer): ``[prefix][class][subtype][range][:][lum][peculiarities]``,
  e.g. ``K3V``, ``B9.5V``, ``A1IV``, ``G8.5``, ``dM0``, ``sdM1``, ``gK2``, ``K0III-IV``,
  ``A2Iae``, ``M3III:``. Parenthesised groups (``K3V (32147)``, ``A0 V (HB)``,
  ``A4p(EuCrSr)``) go to :attr:`MKType.peculiarities`; a spaced companion
  (``G6 IV + M6 V``) is dropped and kept there too; the primary is parsed.
* **Prefixes**: ``d`` (dwarf → lum ``V``), ``g`` (giant → ``III``), ``sd``/``esd``/``usd``
  (subdwarf → ``VI``). An explicit luminosity class wins over the prefix's.
* **Ranges** (``F5-6V``, ``A5/A6V``, ``G8/K0III``, Pickles ``b57v``, ``k34ii``) map to the
  midpoint (``F5-6`` → 35.5, ``B5-7`` → 16.0, ``G8/K0`` → 49.0); :attr:`MKType.subtype_range`
  keeps both ends. Luminosity ranges are written with ``-`` (``III/IV`` → ``III-IV``).
* **A bare class letter** (``sd:F``, ``Am``, ``O``, ``M...``) maps to the class's middle,
  subtype 5 (``F`` → F5 = 35.0), with ``uncertain=True``. ``OB`` maps to 10.0 (the O/B
  boundary), also uncertain. A ``:`` or ``?`` anywhere also sets ``uncertain=True``.
* **MILES's typo ``07Ia``** (zero for the letter O) reads as ``O7Ia``.
* **Pickles (1998) file stems**, all lower case: optional metallicity tag ``r``/``w``
  (metal-rich/-weak, :attr:`MKType.metallicity`), class, one digit, then either ``p5``
  (``m2p5v`` = M2.5 V), a second digit giving a range (``b57v`` = B5-7 V, ``k01ii`` =
  K0-1 II), and the luminosity class in lower case (``i`` → ``I``). ``m10iii`` (Pickles'
  M10 III, cooler than M9 III) is **clipped to M9 = 69.0** and flagged ``uncertain``: the
  scale has no room between M9 and L0, and L0 is a dwarf type. Any subtype >= 10 inside a
  class is clipped the same way. Lower-case stems without a luminosity class (the M-dwarf
  composites' ``m3``) also parse.
* A trailing ``w``/``vw`` peculiarity (MILES ``F2Vw``: weak-lined) sets ``metallicity="w"``.
  ``m`` (``Am``, ``F7Vm``) means *metallic-line*, not metal-rich, and stays a peculiarity.

Anything else -- white dwarfs (``WD``, ``DA``, ``WDhotter``), ``Carbon``, ``CV``, S/R/N/C
stars, evolutionary stages (``HB``, ``AGB``), galaxy/QSO classes, a luminosity class alone
(``III``), ``""``, ``None``, NaN -- raises :class:`~specnet.errors.LabelError` quoting the text.

>>> parse_subtype("K3V (32147)"), parse_subtype("m2p5v"), parse_subtype("b57v")
(53.0, 62.5, 16.0)
>>> format_subtype(53.4), format_subtype(53.5, decimals=1)
('K3', 'K3.5')
>>> luminosity_class("sdM1"), luminosity_class("A1IV"), luminosity_class("G8.5")
('VI', 'IV', None)
"""
from __future__ import annotations

import dataclasses
import functools
import math
import re
from typing import Iterable

import numpy as np

from specnet.errors import LabelError

__all__ = [
    "CLASSES",
    "SUBTYPE_MIN",
    "SUBTYPE_MAX",
    "LabelError",
    "MKType",
    "parse_mk",
    "parse_subtype",
    "parse_subtypes",
    "format_subtype",
    "format_subtypes",
    "luminosity_class",
]

#: The spectral classes in scale order; class ``CLASSES[i]`` starts at ``10*i``.
CLASSES = "OBAFGKMLT"
#: Lowest value on the scale (O0).
SUBTYPE_MIN = 0.0
#: Highest value on the scale (T9). Formatting clips to ``[SUBTYPE_MIN, SUBTYPE_MAX]``.
SUBTYPE_MAX = 89.0

_PREFIX_LUM = {"d": "V", "g": "III", "sd": "VI", "esd": "VI", "usd": "VI"}

_NUM = r"\d+(?:\.\d+)?"
_LUM1 = r"(?:VI|IV|V|III|II|I)(?:ab|a0|a|b|0)?"
_LUM = rf"{_LUM1}(?:\s*[-/]\s*(?:{_LUM1}|ab|a|b))?"
_CATALOGUE_RE = re.compile(
    rf"""^(?P<prefix>esd|usd|sd|d|g)?(?P<c0>:)?\s*
    (?P<cls>[OBAFGKMLT])
    (?P<num>{_NUM})?
    (?:\s*[-/]\s*(?P<cls2>[OBAFGKMLT])?(?P<num2>{_NUM}))?
    (?P<c1>:)?\s*
    (?P<lum>{_LUM})?
    (?P<rest>.*)$""",
    re.VERBOSE,
)
# Pickles (1998) stems (lower case): [r|w] class d [p5 | d] [lum]
_PICKLES_RE = re.compile(
    r"^(?P<met>[rw])?(?P<cls>[obafgkmlt])(?P<d1>\d)(?:(?P<p5>p5)|(?P<d2>\d))?(?P<lum>iii|ii|iv|vi|v|i)?$"
)
# What may follow the luminosity class: MK peculiarity codes and punctuation only,
# so that "GB", "AGB", "BROADLINE", "Galaxy" are not read as bare classes.
_PEC_RE = re.compile(
    r"^(?:var|pec|comp|CN|Ba|Eu|Cr|Sr|Si|Hg|Mn|He|Fe|S|sb|nn|[abefhkmnpqsvw]|[\s.:?+!*/-])*$"
)
_PAREN_RE = re.compile(r"\([^()]*\)")
_COMPANION_RE = re.compile(r"\s\+\s")


@dataclasses.dataclass(frozen=True)
class MKType:
    """One parsed MK spectral type.

    Attributes
    ----------
    subtype : float
        Position on the scale (O0=0 ... M9=69, L0=70 ... T9=89).
    lum_class : str or None
        ``"V"``, ``"IV"``, ``"III"``, ``"II"``, ``"Ib"``, ``"Iab"``, ``"Ia"``, ``"Ia0"``,
        ``"VI"`` (subdwarf), ranges such as ``"IV-V"``; ``None`` when the text gives none.
    prefix : str or None
        ``"d"``, ``"g"``, ``"sd"``, ``"esd"``, ``"usd"`` as written.
    metallicity : str or None
        ``"r"`` (Pickles metal-rich), ``"w"`` (Pickles metal-weak, or a weak-lined ``w``).
    peculiarities : str
        Everything after the luminosity class, parenthesised notes and companions (``""``).
    uncertain : bool
        ``True`` for ``:``/``?``, bare class letters and clipped subtypes.
    subtype_range : tuple of float or None
        ``(lo, hi)`` for ranges like ``F5-6`` (``subtype`` is the midpoint).
    text : str
        The original text.

    Example
    -------
    >>> parse_mk("rk1iii")
    MKType(subtype=51.0, lum_class='III', prefix=None, metallicity='r', peculiarities='', uncertain=False, subtype_range=None, text='rk1iii')
    """

    subtype: float
    lum_class: str | None = None
    prefix: str | None = None
    metallicity: str | None = None
    peculiarities: str = ""
    uncertain: bool = False
    subtype_range: tuple[float, float] | None = None
    text: str = ""

    @property
    def spectral_class(self) -> str:
        """The class letter, e.g. ``"K"`` for 53.0."""
        return CLASSES[min(int(self.subtype // 10), len(CLASSES) - 1)]

    @property
    def canonical(self) -> str:
        """A clean string: prefix-free type plus luminosity class, e.g. ``"M2.5V"``.

        >>> parse_mk("sdM1").canonical, parse_mk("B9.5V").canonical
        ('M1VI', 'B9.5V')
        """
        decimals = 0 if float(self.subtype).is_integer() else 1
        return format_subtype(self.subtype, decimals) + (self.lum_class or "")


def _to_text(text) -> str:
    """Validate and decode the input; raise LabelError for non-strings, NaN and blanks."""
    if isinstance(text, (bytes, np.bytes_)):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        raise LabelError(f"not an MK spectral type: {text!r} (expected a string)")
    stripped = text.strip()
    if not stripped or stripped.lower() in ("nan", "none", "null", "--"):
        raise LabelError(f"not an MK spectral type: {text!r}")
    return stripped


def _lum_normalise(lum: str | None) -> str | None:
    if not lum:
        return None
    return re.sub(r"\s*[-/]\s*", "-", lum.strip())


def _clip_in_class(base: float, num: float) -> tuple[float, bool]:
    """Subtypes >= 10 inside a class (Pickles' M10) clip to the class's 9."""
    if num >= 10:
        return base + 9.0, True
    return base + num, False


def _parse_pickles(text: str) -> MKType | None:
    m = _PICKLES_RE.match(text)
    if m is None:
        return None
    base = 10.0 * CLASSES.index(m["cls"].upper())
    d1 = int(m["d1"])
    rng = None
    uncertain = False
    if m["p5"]:
        sub = base + d1 + 0.5
    elif m["d2"] is not None:
        d2 = int(m["d2"])
        if d2 > d1:                                   # b57v: B5-7
            rng = (base + d1, base + d2)
            sub = (rng[0] + rng[1]) / 2
        else:                                         # m10iii: M10, clipped to M9
            sub, uncertain = _clip_in_class(base, 10 * d1 + d2)
    else:
        sub = base + d1
    lum = m["lum"].upper() if m["lum"] else None
    return MKType(float(sub), lum, None, m["met"], "", uncertain, rng, text)


@functools.lru_cache(maxsize=4096)
def _parse_str(text: str) -> MKType:
    original = text
    pickles = _parse_pickles(text)
    if pickles is not None:
        return pickles
    notes = []
    # companion "G6 IV + M6 V": parse the primary
    parts = _COMPANION_RE.split(text, maxsplit=1)
    if len(parts) == 2:
        text, companion = parts[0].strip(), parts[1].strip()
        notes.append("+ " + companion)
    # parenthesised notes: "(32147)", "(HB)", "(EuCrSr)"
    notes = _PAREN_RE.findall(text) + notes
    text = _PAREN_RE.sub(" ", text).strip()
    # MILES "07Ia" = O7Ia
    text = re.sub(r"^0(?=\d)", "O", text)
    # "Ldwarf"
    dwarf = re.search(r"dwarf$", text)
    if dwarf:
        text = text[: dwarf.start()]
    if text == "OB":
        return MKType(10.0, "V" if dwarf else None, None, None, " ".join(notes), True, (5.0, 15.0), original)
    m = _CATALOGUE_RE.match(text)
    if m is None or not _PEC_RE.match(m["rest"]):
        raise LabelError(f"not an MK spectral type: {original!r}")
    base = 10.0 * CLASSES.index(m["cls"])
    uncertain = bool(m["c0"] or m["c1"]) or ":" in m["rest"] or "?" in m["rest"]
    rng = None
    if m["num"] is None:
        if m["num2"] is not None:
            raise LabelError(f"not an MK spectral type: {original!r}")
        sub, uncertain = base + 5.0, True
    else:
        sub, clipped = _clip_in_class(base, float(m["num"]))
        uncertain |= clipped
        if m["num2"] is not None:
            base2 = 10.0 * CLASSES.index(m["cls2"]) if m["cls2"] else base
            hi, clipped2 = _clip_in_class(base2, float(m["num2"]))
            uncertain |= clipped2
            if hi < sub:
                raise LabelError(f"not an MK spectral type (descending range): {original!r}")
            rng = (sub, hi)
            sub = (sub + hi) / 2
    prefix = m["prefix"]
    lum = _lum_normalise(m["lum"]) or _PREFIX_LUM.get(prefix) or ("V" if dwarf else None)
    rest = m["rest"].strip()
    pec_codes = re.sub(r"[\s.:?+!*/-]", "", rest)
    metallicity = "w" if re.match(r"^v?w", pec_codes) else None
    peculiarities = " ".join([rest] + notes if rest else notes).strip()
    return MKType(float(sub), lum, prefix, metallicity, peculiarities, bool(uncertain), rng, original)


def parse_mk(text) -> MKType:
    """Parse an MK spectral-type string into an :class:`MKType` (rules in the module doc).

    Raises :class:`~specnet.errors.LabelError` (quoting ``text``) for anything that is not
    an MK type: ``"WDhotter"``, ``"QSO"``, ``"Carbon"``, ``""``, ``None``, NaN.

    >>> t = parse_mk("K0/K1III/IV")
    >>> t.subtype, t.lum_class, t.subtype_range
    (50.5, 'III-IV', (50.0, 51.0))
    """
    return _parse_str(_to_text(text))


def parse_subtype(text) -> float:
    """The scale value of an MK string: ``parse_mk(text).subtype``.

    >>> parse_subtype("K3"), parse_subtype("07Ia"), parse_subtype("sd:F"), parse_subtype("L5.5")
    (53.0, 7.0, 35.0, 75.5)
    """
    return parse_mk(text).subtype


def luminosity_class(text) -> str | None:
    """The luminosity class of an MK string (``None`` when it has none).

    Prefixes imply a class: ``d`` → ``"V"``, ``g`` → ``"III"``, ``sd`` → ``"VI"``. A luminosity
    class written alone (``"III"``, ``"IV-V"``) is returned as is.

    >>> luminosity_class("K3V"), luminosity_class("gK2"), luminosity_class("A2Iae"), luminosity_class("III")
    ('V', 'III', 'Ia', 'III')
    """
    try:
        return parse_mk(text).lum_class
    except LabelError:
        stripped = _to_text(text)
        if re.fullmatch(_LUM, stripped):
            return _lum_normalise(stripped)
        raise


def parse_subtypes(texts: Iterable, errors: str = "raise") -> np.ndarray:
    """Vectorised :func:`parse_subtype`: float64 array of shape ``(len(texts),)``.

    ``errors="raise"`` re-raises the first :class:`LabelError`; ``errors="nan"`` puts NaN
    where the text is not an MK type.

    >>> parse_subtypes(["K3", "QSO", "m2p5v"], errors="nan").tolist()
    [53.0, nan, 62.5]
    """
    if errors not in ("raise", "nan"):
        raise ValueError(f"errors must be 'raise' or 'nan'. Received: errors={errors!r}")
    out = []
    for text in texts:
        try:
            out.append(parse_subtype(text))
        except LabelError:
            if errors == "raise":
                raise
            out.append(math.nan)
    return np.asarray(out, dtype=np.float64)


def _round_half_up(value: float, decimals: int) -> float:
    scale = 10.0 ** decimals
    return math.floor(value * scale + 0.5) / scale


def format_subtype(value: float, decimals: int = 0) -> str:
    """The MK string of a scale value, clipped to ``[SUBTYPE_MIN, SUBTYPE_MAX]``.

    Rounds half up to ``decimals`` places (fixed decimals: ``K3.0`` with ``decimals=1``).
    Raises ``ValueError`` for NaN/inf.

    >>> format_subtype(53.4), format_subtype(53.5, decimals=1), format_subtype(-3), format_subtype(95)
    ('K3', 'K3.5', 'O0', 'T9')
    """
    if not isinstance(decimals, (int, np.integer)) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative int. Received: decimals={decimals!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot format a non-finite subtype. Received: value={value!r}")
    value = min(max(value, SUBTYPE_MIN), SUBTYPE_MAX)
    value = min(_round_half_up(value, decimals), SUBTYPE_MAX)
    cls = int(value // 10)
    sub = value - 10 * cls
    return f"{CLASSES[cls]}{sub:.{decimals}f}"


def format_subtypes(values, decimals: int = 0, nan: str | None = None) -> list[str]:
    """Vectorised :func:`format_subtype` over an array-like of shape ``(N,)``.

    NaN raises ``ValueError`` unless ``nan`` gives the string to put there.

    >>> format_subtypes([53.0, 62.5, float("nan")], decimals=1, nan="")
    ['K3.0', 'M2.5', '']
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    return [nan if (nan is not None and not math.isfinite(v)) else format_subtype(v, decimals)
            for v in arr.tolist()]
