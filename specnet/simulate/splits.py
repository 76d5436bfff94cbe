"""Reproducible train/validation/test splits and k-fold indices, stratified on subtype.

Both functions take the *labels* (numeric subtypes on the O0=0 … M9=69 scale,
or MK strings, which are parsed) and return integer index arrays into them.
Stratification uses subtype bins (one bin per spectral class by default, merged
with a neighbour when a bin is too small to be split), so that every split sees
the same mix of classes. scikit-learn does the shuffling.

>>> import numpy as np
>>> labels = np.repeat([25.0, 35.0, 45.0, 55.0, 65.0], 20)
>>> train, val, test = stratified_split(labels, seed=0)
>>> len(train), len(val), len(test)
(70, 10, 20)
>>> folds = list(kfold(labels, k=5))
>>> len(folds), len(folds[0][1])
(5, 20)
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

__all__ = ["stratified_split", "kfold", "subtype_bins"]


def _as_subtypes(labels) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D sequence. Received: shape={arr.shape}")
    if arr.dtype.kind in "fiu":
        out = arr.astype(np.float64)
    else:
        from specnet.labels import parse_subtypes

        out = parse_subtypes([str(x) for x in arr], errors="raise")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"labels must all be finite subtypes. Received: {int((~np.isfinite(out)).sum())} "
                         f"non-finite value(s)")
    return out


def subtype_bins(subtypes, bins=None, min_count: int = 2) -> np.ndarray:
    """Integer stratum per subtype: ``floor(subtype / 10)`` (the spectral class) by default.

    ``bins`` may be an int (that many equal-width bins over the range) or an array of
    bin edges. Strata with fewer than ``min_count`` members are merged into their
    nearest (by position) populated neighbour, so stratified splitting cannot fail on a
    lone rare class.

    >>> subtype_bins([1.0, 12.0, 25.0, 27.0, 31.0, 33.0]).tolist()
    [1, 1, 2, 2, 3, 3]
    """
    s = _as_subtypes(subtypes)
    if bins is None:
        strata = np.floor(s / 10.0).astype(int)
    elif np.isscalar(bins):
        if int(bins) < 1:
            raise ValueError(f"bins must be >= 1. Received: bins={bins!r}")
        edges = np.linspace(s.min(), s.max() + 1e-9, int(bins) + 1)
        strata = np.clip(np.digitize(s, edges) - 1, 0, int(bins) - 1)
    else:
        strata = np.digitize(s, np.asarray(bins, dtype=float))
    values, counts = np.unique(strata, return_counts=True)
    while len(values) > 1 and counts.min() < min_count:
        i = int(np.argmin(counts))
        j = i + 1 if i == 0 else (i - 1 if i == len(values) - 1 else
                                  (i - 1 if counts[i - 1] <= counts[i + 1] else i + 1))
        strata[strata == values[i]] = values[j]
        values, counts = np.unique(strata, return_counts=True)
    return strata


def stratified_split(labels, fractions: Sequence[float] = (0.7, 0.1, 0.2), seed: int = 0,
                     bins=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split indices into train/validation/test, stratified on (binned) subtype.

    Parameters
    ----------
    labels : array-like, shape (n,)
        Numeric subtypes (O0=0 … M9=69) or MK strings.
    fractions : 3 floats summing to 1
        Train, validation and test fractions (the papers' 7:1:2 by default). A zero
        validation fraction gives an empty validation array.
    seed : int
        Shuffling seed; the same seed gives the same split.
    bins : None, int or array of edges
        Strata; see :func:`subtype_bins`.

    Returns
    -------
    train_idx, val_idx, test_idx : ndarray of int
        Sorted, disjoint, covering ``range(n)``.

    Example
    -------
    >>> tr, va, te = stratified_split([30.0] * 10 + [50.0] * 10, fractions=(0.5, 0.0, 0.5))
    >>> len(tr), len(va), len(te)
    (10, 0, 10)
    """
    from sklearn.model_selection import train_test_split

    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or np.any(fr < 0) or not np.isclose(fr.sum(), 1.0) or fr[0] <= 0:
        raise ValueError(f"fractions must be 3 non-negative numbers summing to 1 with a positive train "
                         f"fraction. Received: fractions={tuple(fractions)!r}")
    strata = subtype_bins(labels, bins)
    n = strata.size
    idx = np.arange(n)
    n_val = int(round(fr[1] * n))
    n_test = int(round(fr[2] * n))
    n_rest = n_val + n_test
    if n_rest == 0:
        return idx, idx[:0], idx[:0]
    if n_rest >= n:
        raise ValueError(f"fractions leave no training sample for n={n}. Received: fractions={tuple(fractions)!r}")
    strat = strata if _can_stratify(strata, n_rest) else None
    train, rest = train_test_split(idx, test_size=n_rest, random_state=seed, stratify=strat)
    if n_val == 0:
        return np.sort(train), idx[:0], np.sort(rest)
    if n_test == 0:
        return np.sort(train), np.sort(rest), idx[:0]
    sub = strata[rest]
    strat = sub if _can_stratify(sub, n_test) else None
    val, test = train_test_split(rest, test_size=n_test, random_state=seed + 1, stratify=strat)
    return np.sort(train), np.sort(val), np.sort(test)


def _can_stratify(strata: np.ndarray, n_test: int) -> bool:
    """scikit-learn needs >= 2 members per stratum and at least one per stratum on each side."""
    _, counts = np.unique(strata, return_counts=True)
    return counts.min() >= 2 and len(counts) <= min(n_test, strata.size - n_test)


def kfold(labels, k: int = 10, seed: int = 0, stratified: bool = True,
          bins=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``k`` pairs ``(train_idx, test_idx)``; every index is tested exactly once.

    Stratified on (binned) subtype with scikit-learn's ``StratifiedKFold`` (strata with
    fewer than ``k`` members are merged into a neighbour), else plain ``KFold``;
    both shuffled with ``seed``.

    >>> folds = list(kfold([30.0] * 6 + [50.0] * 6, k=3))
    >>> sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(12))
    True
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(k, bool) or int(k) != k or k < 2:
        raise ValueError(f"k must be an int >= 2. Received: k={k!r}")
    k = int(k)
    s = _as_subtypes(labels)
    if s.size < k:
        raise ValueError(f"k-fold needs at least k samples. Received: k={k}, n={s.size}")
    idx = np.arange(s.size)
    if stratified:
        strata = subtype_bins(s, bins, min_count=k)
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        gen = splitter.split(idx, strata)
    else:
        gen = KFold(n_splits=k, shuffle=True, random_state=seed).split(idx)
    for train, test in gen:
        yield np.sort(train), np.sort(test)
