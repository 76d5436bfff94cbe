"""Stratified 7:1:2 splits and k-fold indices."""
from __future__ import annotations

import numpy as np
import pytest

from specnet.labels import parse_subtype
from specnet.simulate import kfold, stratified_split
from specnet.simulate.splits import subtype_bins
from tests.conftest import fixture_rows


def _classes(subtypes, idx):
    return np.bincount(np.floor(np.asarray(subtypes)[idx] / 10).astype(int), minlength=9)


def test_stratified_split_is_a_partition_with_class_proportions():
    rng = np.random.default_rng(0)
    subtypes = np.concatenate([rng.uniform(20, 30, 300), rng.uniform(40, 50, 500), rng.uniform(60, 70, 200)])
    tr, va, te = stratified_split(subtypes, seed=1)
    assert (len(tr), len(va), len(te)) == (700, 100, 200)
    allidx = np.concatenate([tr, va, te])
    assert np.array_equal(np.sort(allidx), np.arange(1000))
    for part, frac in ((tr, 0.7), (va, 0.1), (te, 0.2)):
        np.testing.assert_allclose(_classes(subtypes, part)[[2, 4, 6]], frac * np.array([300, 500, 200]), atol=1)
    again = stratified_split(subtypes, seed=1)
    other = stratified_split(subtypes, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again))
    assert not np.array_equal(te, other[2])


def test_split_of_real_labels_and_edge_cases():
    labels = [r["subclass"] for r in fixture_rows() if r["layout"] == "dr1_image_nowave"]
    tr, va, te = stratified_split(labels, seed=0)  # MK strings are parsed
    assert len(tr) + len(va) + len(te) == len(labels) == 86
    test_classes = {np.floor(parse_subtype(labels[i]) / 10) for i in te}
    assert {2.0, 3.0, 4.0, 5.0} <= test_classes
    tr, va, te = stratified_split(np.repeat([30.0, 50.0], 5), fractions=(0.5, 0.0, 0.5))
    assert len(va) == 0 and len(tr) == len(te) == 5
    with pytest.raises(ValueError, match="fractions"):
        stratified_split([30.0] * 10, fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="labels"):
        stratified_split([])
    assert subtype_bins([1.0, 12.0, 25.0, 27.0, 31.0, 33.0]).tolist() == [1, 1, 2, 2, 3, 3]


def test_kfold_tests_every_index_once_and_stratifies():
    subtypes = np.repeat([25.0, 45.0, 55.0, 65.0], [40, 30, 20, 10])
    folds = list(kfold(subtypes, k=10, seed=3))
    assert len(folds) == 10
    tested = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(tested), np.arange(100))
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == 100
        np.testing.assert_array_equal(_classes(subtypes, test)[[2, 4, 5, 6]], [4, 3, 2, 1])
    plain = list(kfold(subtypes, k=4, stratified=False, seed=0))
    assert sorted(np.concatenate([te for _, te in plain]).tolist()) == list(range(100))
    with pytest.raises(ValueError, match="k must be"):
        list(kfold(subtypes, k=1))
    with pytest.raises(ValueError, match="at least k"):
        list(kfold(subtypes[:3], k=5))
