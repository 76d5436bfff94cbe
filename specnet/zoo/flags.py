"""Quality flags attached to every zoo prediction, and their thresholds (the one place they live).

A flag says "do not trust this row blindly"; predictions are still made.

=================  ==========================================================================
flag               raised when
=================  ==========================================================================
``low_snr``        S/N < ``low_snr`` (the file's own S/N in ``meta['snr']`` when given, else
                   the measured median per-pixel S/N; SDSS sky fibres have ≈0.6)
``poor_coverage``  fraction of good pixels on the model grid < ``poor_coverage``
``non_stellar``    the survey class (``meta['obj_class']``) is given and is not ``STAR``
``ood``            classification: max probability < ``ood_proba``; regression: prediction
                   outside the manifest's label range by more than ``ood_margin`` subtypes,
                   or predicted σ > ``ood_sigma`` subtypes
=================  ==========================================================================

A manifest may override any threshold in its optional ``thresholds`` object.

Example
-------
>>> thresholds_for({"thresholds": {"low_snr": 5.0}})["low_snr"], DEFAULT_THRESHOLDS["low_snr"]
(5.0, 3.0)
>>> flag_strings([{"low_snr", "ood"}, set()])
['low_snr,ood', '']
"""
from __future__ import annotations

import numpy as np

#: The order flags are written in.
FLAGS = ("low_snr", "poor_coverage", "non_stellar", "ood")

#: Default thresholds (S/N per pixel; coverage fraction 0–1; probability 0–1; subtypes).
DEFAULT_THRESHOLDS = {
    "low_snr": 3.0,
    "poor_coverage": 0.7,
    "ood_proba": 0.5,
    "ood_margin": 2.0,
    "ood_sigma": 5.0,
}


def thresholds_for(manifest: dict | None) -> dict:
    """The defaults updated with ``manifest['thresholds']`` (unknown keys raise ``ValueError``)."""
    out = dict(DEFAULT_THRESHOLDS)
    extra = (manifest or {}).get("thresholds") or {}
    unknown = set(extra) - set(out)
    if unknown:
        raise ValueError(f"unknown threshold names {sorted(unknown)}; known: {sorted(out)}. "
                         f"Received: thresholds={extra!r}")
    out.update({k: float(v) for k, v in extra.items()})
    return out


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def spectrum_snr(spectrum) -> float:
    """S/N used for the ``low_snr`` flag: ``meta['snr']`` if it is a finite number, else measured."""
    snr = _finite(spectrum.meta.get("snr"))
    return snr if snr is not None else float(spectrum.median_snr())


def is_non_stellar(spectrum) -> bool:
    """True when the file names a class and it is not ``STAR``."""
    return spectrum.is_star is False


def compute_flags(n: int, thresholds: dict, *, snr=None, coverage=None, non_stellar=None,
                  task: str = "regression", subtype=None, sigma=None, proba=None,
                  label_range=None) -> list[set]:
    """One set of flag names per row.

    Parameters
    ----------
    n : int
        Number of rows.
    thresholds : dict
        As returned by :func:`thresholds_for`.
    snr, coverage : array-like of shape (n,), optional
        S/N per pixel and good-pixel fraction; NaN or None = unknown (no flag).
    non_stellar : array-like of bool, optional
    task : {"regression", "classification"}
    subtype, sigma : array-like of shape (n,), optional
        Regression prediction and its σ (NaN when the model has no uncertainty head).
    proba : array-like of shape (n, K), optional
        Classification probabilities.
    label_range : (float, float), optional
        The manifest's ``labels`` min/max (regression).
    """
    flags = [set() for _ in range(n)]

    def mark(name, cond):
        for i in np.flatnonzero(np.asarray(cond, bool)):
            flags[i].add(name)

    with np.errstate(invalid="ignore"):
        if snr is not None:
            snr = np.asarray(snr, float)
            mark("low_snr", np.isfinite(snr) & (snr < thresholds["low_snr"]))
        if coverage is not None:
            cov = np.asarray(coverage, float)
            mark("poor_coverage", np.isfinite(cov) & (cov < thresholds["poor_coverage"]))
        if non_stellar is not None:
            mark("non_stellar", np.asarray(non_stellar, bool))
        if task == "classification" and proba is not None:
            mark("ood", np.asarray(proba, float).max(axis=1) < thresholds["ood_proba"])
        elif task == "regression" and subtype is not None:
            sub = np.asarray(subtype, float)
            bad = ~np.isfinite(sub)
            if label_range is not None:
                lo, hi = label_range
                margin = thresholds["ood_margin"]
                bad |= (sub < lo - margin) | (sub > hi + margin)
            if sigma is not None:
                sig = np.asarray(sigma, float)
                bad |= np.isfinite(sig) & (sig > thresholds["ood_sigma"])
            mark("ood", bad)
    return flags


def flag_strings(flags: list[set]) -> list[str]:
    """Comma-joined flag names in the order of :data:`FLAGS` (``""`` for none)."""
    return [",".join(f for f in FLAGS if f in row) for row in flags]
