"""make_dataset / dataset_from_arrays / dataset_from_spectra on shards of real LAMOST spectra."""
from __future__ import annotations

import collections
import hashlib

import numpy as np
import pytest
import tensorflow as tf

from specnet.data import (AugmentConfig, dataset_from_arrays, dataset_from_spectra, ingest, load_manifest,
                          make_dataset, read_shard)
from specnet.io import read_spectrum
from specnet.preprocess import PreprocessConfig, preprocess
from tests.conftest import fixture_rows

CONFIG = PreprocessConfig()
ROWS = [r for r in fixture_rows() if r["survey"] == "LAMOST"]  # 98 real files, DR1 to DR10 layouts


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "shards"
    cat = out.parent / "cat.csv"
    cat.write_text("path,label\n" + "".join(f"{r['abspath']},{r['subclass']}\n" for r in ROWS))
    res = ingest(cat, CONFIG, out, shard_size=16, n_jobs=2, progress=False)
    assert res.n_examples >= 90 and len(res.shards) == 7
    return out


@pytest.fixture(scope="module")
def truth(shards):
    m = load_manifest(shards)
    parts = [read_shard(shards / s["file"], m) for s in m["shards"]]
    return {k: np.concatenate([p[k] for p in parts]) for k in ("x", "label", "mask")}


def _key(x: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()


def _epoch(ds):
    xs, ys = [], []
    for x, y in ds:
        xs.append(x.numpy())
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def test_shapes_and_dtypes(shards, truth):
    ds = make_dataset(shards, batch_size=32, shuffle=False)
    batches = list(ds)
    n = len(truth["label"])
    sizes = sorted((int(x.shape[0]) for x, _ in batches), reverse=True)  # order free unless deterministic
    assert sizes == [32] * (n // 32) + ([n % 32] if n % 32 else [])
    x, y = batches[0]
    assert x.dtype == tf.float32 and x.shape[1:] == (3909, 2)
    assert y.dtype == tf.float32 and y.shape == (32,)
    assert ds.element_spec[0].shape.as_list() == [None, 3909, 2]
    fixed = make_dataset(shards, batch_size=32, drop_remainder=True)
    assert fixed.element_spec[0].shape.as_list() == [32, 3909, 2]
    assert sum(1 for _ in fixed) == n // 32
    fixed_aug = make_dataset(shards, batch_size=32, drop_remainder=True, augment=AugmentConfig())
    assert fixed_aug.element_spec[0].shape.as_list() == [32, 3909, 2]


def test_every_example_once_per_epoch(shards, truth):
    X, y = _epoch(make_dataset(shards, batch_size=10, shuffle=True, shuffle_buffer=50, seed=3))
    assert collections.Counter(map(_key, X)) == collections.Counter(map(_key, truth["x"]))
    assert sorted(y.tolist()) == sorted(truth["label"].tolist())
    # the mask channel is the stored mask
    by_key = {_key(x): m for x, m in zip(truth["x"], truth["mask"])}
    for x in X[:20]:
        np.testing.assert_array_equal(x[:, 1] > 0.5, by_key[_key(x)])
    # shuffling really reorders
    X0, _ = _epoch(make_dataset(shards, batch_size=10, shuffle=False))
    assert [_key(a) for a in X0] != [_key(a) for a in X]
    # repeat: two epochs, each example twice
    n = len(truth["label"])
    Xr, _ = _epoch(make_dataset(shards, batch_size=n, repeat=True, seed=1).take(2))
    assert collections.Counter(map(_key, Xr)) == collections.Counter({k: 2 for k in map(_key, truth["x"])})


def test_deterministic_mode_gives_identical_batches(shards):
    aug = AugmentConfig(seed=5)
    runs = [list(make_dataset(shards, batch_size=16, deterministic=True, seed=11, augment=aug)) for _ in range(2)]
    assert len(runs[0]) == len(runs[1]) > 3
    for (x1, y1), (x2, y2) in zip(*runs):
        np.testing.assert_array_equal(x1.numpy(), x2.numpy())
        np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    other = list(make_dataset(shards, batch_size=16, deterministic=True, seed=12, augment=aug))
    assert not np.array_equal(other[0][0].numpy(), runs[0][0][0].numpy())


def test_augmentation_changes_x_but_keeps_shapes(shards):
    plain = list(make_dataset(shards, batch_size=16, shuffle=False, deterministic=True))
    aug = list(make_dataset(shards, batch_size=16, shuffle=False, deterministic=True, augment=AugmentConfig()))
    assert len(plain) == len(aug)
    for (xp, yp), (xa, ya) in zip(plain, aug):
        assert xa.shape == xp.shape and xa.dtype == tf.float32
        np.testing.assert_array_equal(ya.numpy(), yp.numpy())
        xa = xa.numpy()
        assert np.isfinite(xa).all() and np.abs(xa[..., 0]).max() <= CONFIG.clip
        assert set(np.unique(xa[..., 1])) <= {0.0, 1.0}
    diff = np.mean([np.abs(a[0].numpy() - p[0].numpy())[..., 0].mean() for a, p in zip(aug, plain)])
    assert diff > 1e-3


def test_masked_runs_update_the_mask_channel(shards):
    cfg = AugmentConfig(noise_snr=(30, 30), rv_shift_kms=0, tilt=0, mask_runs=1.0, mask_run_max=0.15, seed=2)
    plain = list(make_dataset(shards, batch_size=16, shuffle=False, deterministic=True))
    aug = list(make_dataset(shards, batch_size=16, shuffle=False, deterministic=True, augment=cfg))
    for (xp, _), (xa, _) in zip(plain, aug):
        xp, xa = xp.numpy(), xa.numpy()
        old, new = xp[..., 1] > 0.5, xa[..., 1] > 0.5
        assert np.all(new >= old)                              # nothing unmasked
        assert new[:, 0].all()                                 # every spectrum got a blue-end run
        added = new & ~old
        for i in range(len(xa)):
            idx = np.flatnonzero(added[i])
            if idx.size == 0:                                  # the run fell on already-masked pixels
                continue
            end = idx[-1] + 1
            assert end <= int(0.15 * 3909) and new[i, :end].all()   # one blue-end run, not longer than allowed
            # inside the run the flux is the held edge value ("interp" fill), as preprocessing fills
            np.testing.assert_array_equal(xa[i, :end, 0], np.full(end, xa[i, end, 0]))
        # noise only on good pixels: masked pixels beyond any possible run keep their flux
        keep = old & (np.arange(3909) > 0.15 * 3909)[None, :]
        assert keep.any()
        np.testing.assert_array_equal(xa[..., 0][keep], xp[..., 0][keep])
        assert not np.array_equal(xa[..., 0][~new], xp[..., 0][~new])


def test_classification_shards_give_int_labels(tmp_path):
    rows = [r for r in ROWS if r["path"].startswith("lamost/dr10_table/")]
    cat = tmp_path / "cat.csv"
    cat.write_text("path,label\n" + "".join(f"{r['abspath']},{r['subclass']}\n" for r in rows))
    ingest(cat, CONFIG, tmp_path / "out", task="classification", n_jobs=1, progress=False)
    x, y = next(iter(make_dataset(tmp_path / "out", batch_size=8, shuffle=False)))
    assert y.dtype == tf.int64 and sorted(y.numpy().tolist()) == list(range(8))


def test_inputs_as_file_list_glob_and_cache(shards, truth):
    files = sorted(str(p) for p in shards.glob("shard-*.tfrecord.gz"))
    for src in (files, str(shards / "shard-*.tfrecord.gz"), shards / "manifest.json"):
        X, _ = _epoch(make_dataset(src, batch_size=64, shuffle=False))
        assert collections.Counter(map(_key, X)) == collections.Counter(map(_key, truth["x"]))
    X1, _ = _epoch(make_dataset(files[:2], batch_size=64, shuffle=False))
    assert len(X1) == 32
    ds = make_dataset(shards, batch_size=64, shuffle=False, cache=True, repeat=True)
    Xc, _ = _epoch(ds.take(4))
    assert len(Xc) >= 2 * len(truth["x"]) - 64


def test_invalid_arguments(shards, tmp_path):
    with pytest.raises(ValueError, match="batch_size=0"):
        make_dataset(shards, batch_size=0)
    with pytest.raises(ValueError, match="augment="):
        make_dataset(shards, augment={"noise_snr": (1, 2)})
    with pytest.raises(ValueError, match="manifest.json"):
        make_dataset(tmp_path)
    with pytest.raises(ValueError, match="no shard files"):
        make_dataset(str(tmp_path / "nothing-*.tfrecord.gz"))
    with pytest.raises(ValueError, match="needs a GPU"):
        make_dataset(shards, prefetch_to_device="/gpu:0")


def test_dataset_from_arrays(truth):
    X, y = truth["x"][:20], truth["label"][:20]
    ds = dataset_from_arrays(X, y, batch_size=8, shuffle=False, config=CONFIG)
    got, gy = _epoch(ds)
    np.testing.assert_array_equal(got, X)
    np.testing.assert_array_equal(gy, y)
    a1 = _epoch(dataset_from_arrays(X, y, batch_size=8, config=CONFIG, augment=AugmentConfig(), deterministic=True))
    a2 = _epoch(dataset_from_arrays(X, y, batch_size=8, config=CONFIG, augment=AugmentConfig(), deterministic=True))
    np.testing.assert_array_equal(a1[0], a2[0])
    assert a1[0].shape == X.shape and set(np.unique(a1[0][..., 1])) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="X.shape"):
        dataset_from_arrays(X[0], y)


def test_dataset_from_spectra_equals_preprocess():
    rows = [r for r in ROWS if r["path"].startswith("lamost/dr2_dr7_image/")]
    spectra = [read_spectrum(r["abspath"]) for r in rows]
    labels = [r["subclass"] for r in rows]
    X, y = _epoch(dataset_from_spectra(spectra, labels, CONFIG, batch_size=3, shuffle=False))
    np.testing.assert_array_equal(X, preprocess(spectra, CONFIG)[0])
    assert y.tolist() == [20.0, 53.0, 35.0, 43.0]  # A0, K3, F5, G3 on the O0=0 scale
    _, yc = _epoch(dataset_from_spectra(spectra, labels, CONFIG, task="classification",
                                        classes=["A0", "F5", "G3", "K3"], shuffle=False))
    assert yc.tolist() == [0, 3, 1, 2]
