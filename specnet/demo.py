"""The embedded demo data set: mock LAMOST-like spectra from the built-in templates.

Needs no external file, so the README's main job, ``specnet-fit --demo`` and the
tests run on a fresh machine. It is a demo, not a training set for science: the
built-in templates are a parametric family (see :mod:`specnet.simulate.builtin`).

>>> from specnet.demo import demo_spectra
>>> spectra, cat = demo_spectra(8, seed=1)          # doctest: +SKIP
>>> len(spectra), "subtype" in cat.colnames        # doctest: +SKIP
(8, True)
"""
from __future__ import annotations

import numpy as np

#: Liu & Wang (2022) subtype tasks, used when a classifier is trained with ``--demo``.
PAPER_TASKS = {
    "k": ["K1", "K3", "K5", "K7"],
    "f": ["F2", "F5", "F9"],
    "g": ["G0", "G2", "G5"],
}


def demo_spectra(n: int, *, classes: list[str] | None = None, profile: str = "lamost-lrs",
                 snr=(10, 100), seed: int = 0, out_dir=None, layout: str = "lamost-dr2"):
    """Draw ``n`` mock spectra from :func:`specnet.simulate.builtin_library`.

    Parameters
    ----------
    n : int
        Number of spectra.
    classes : list of str, optional
        MK subtypes to draw from (e.g. ``["K1", "K3", "K5", "K7"]``) for a
        classification task; by default subtypes are uniform over B0–M6 (10–66).
    profile : str
        Survey profile of :mod:`specnet.simulate` (``"lamost-lrs"`` or ``"sdss"``).
    snr : tuple
        S/N range drawn log-uniformly.
    seed : int
        Random seed; the same seed gives the same spectra.
    out_dir : path, optional
        If given, also write the spectra as real-format FITS files and a
        ``catalogue.csv`` there.

    Returns
    -------
    (list of Spectrum, astropy.table.Table)
    """
    from specnet.labels import parse_subtype
    from specnet.simulate import mock_survey
    from specnet.simulate.builtin import builtin_library

    if n < 1:
        raise ValueError(f"demo_spectra needs n >= 1. Received: n={n}")
    kwargs = {}
    if classes:
        kwargs["subtype_distribution"] = np.array([parse_subtype(c) for c in classes], float)
    else:
        kwargs["subtype_range"] = (10.0, 66.0)
    lib = builtin_library()
    return mock_survey(lib, n, profile=profile, snr=snr, seed=seed, out_dir=out_dir,
                       layout=layout, **kwargs)
