"""The shard format: hand-encoded tf.train.Example, packed masks, arrays_to_shards/read_shard."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from specnet.data.shards import (arrays_to_shards, decode_batch, encode_records, layout_fields, load_manifest,
                                 pack_mask, read_shard, shard_name, unpack_mask, unpack_mask_tf)
from specnet.io import read_spectrum
from specnet.preprocess import Grid, PreprocessConfig, preprocess
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def real():
    files = sorted((FIXTURES / "lamost" / "dr10_table").glob("*.fits"))
    cfg = PreprocessConfig()
    X, mask = preprocess([read_spectrum(f) for f in files], cfg)
    return X, mask, cfg, [f.stem for f in files], [str(f) for f in files]


def test_encoded_examples_parse_with_tensorflow(real):
    X, mask, _, ids, paths = real
    recs = encode_records(X[..., :1], mask, [53.0, -1.5, 0.0, 69.0, 1e-3, 40.0, 35.0, 51.0], ids, paths,
                          "regression", "float32")
    for i, rec in enumerate(recs):
        ex = tf.train.Example.FromString(rec)              # TensorFlow's own protobuf parser
        f = ex.features.feature
        np.testing.assert_array_equal(np.frombuffer(f["x"].bytes_list.value[0], "<f4"), X[i, :, 0])
        assert f["id"].bytes_list.value[0].decode() == ids[i]
        assert f["path"].bytes_list.value[0].decode() == paths[i]
        np.testing.assert_array_equal(unpack_mask(np.frombuffer(f["mask"].bytes_list.value[0], np.uint8), 3909),
                                      mask[i])
    assert tf.train.Example.FromString(recs[1]).features.feature["label"].float_list.value[0] == -1.5
    # classification labels are int64, negative values included (10-byte varints)
    rec = encode_records(X[:2, :, :1], mask[:2], [3, -7], ["a", None], ["", None], "classification")
    assert [tf.train.Example.FromString(r).features.feature["label"].int64_list.value[0] for r in rec] == [3, -7]
    assert tf.train.Example.FromString(rec[1]).features.feature["id"].bytes_list.value[0] == b""


@pytest.mark.parametrize("npix", [1, 7, 8, 9, 3909])
def test_mask_packing_round_trips(npix):
    mask = np.random.default_rng(npix).random((5, npix)) < 0.3
    packed = pack_mask(mask)
    assert packed.shape == (5, -(-npix // 8)) and packed.dtype == np.uint8
    np.testing.assert_array_equal(unpack_mask(packed, npix), mask)
    np.testing.assert_array_equal(unpack_mask_tf(tf.constant(packed), npix).numpy(), mask)


def test_decode_batch_restores_flux_mask_and_labels(real):
    X, mask, cfg, ids, paths = real
    recs = encode_records(X[..., :1], mask, np.arange(8) * 5.0, ids, paths, "regression", "float16")
    man = layout_fields(3909, 1, True, "float16", "regression", None, 1e-4, "interp", 5.0)
    out = decode_batch(tf.constant(recs), man)
    np.testing.assert_array_equal(out["flux"].numpy(), X[..., :1].astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(out["mask"].numpy(), mask)
    np.testing.assert_array_equal(out["label"].numpy(), np.arange(8) * 5.0)
    assert out["id"].numpy().astype(str).tolist() == ids


def test_arrays_to_shards_round_trip(real, tmp_path):
    X, mask, cfg, ids, paths = real
    m = arrays_to_shards(tmp_path, X, np.arange(8.0), config=cfg, shard_size=3, ids=ids, paths=paths,
                         x_dtype="float32")
    assert [s["count"] for s in m["shards"]] == [3, 3, 2]
    assert [s["file"] for s in m["shards"]] == [shard_name(k, 3) for k in range(3)]
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk["config"] == cfg.to_dict() and on_disk["n_examples"] == 8
    parts = [read_shard(tmp_path / s["file"]) for s in m["shards"]]
    np.testing.assert_array_equal(np.concatenate([p["x"] for p in parts]), X)   # mask channel rebuilt from bits
    np.testing.assert_array_equal(np.concatenate([p["mask"] for p in parts]), mask)
    assert np.concatenate([p["id"] for p in parts]).tolist() == ids
    assert np.concatenate([p["path"] for p in parts]).tolist() == paths
    # shards are GZIP-compressed TFRecords: the float16 default is about half the float32 size
    m16 = arrays_to_shards(tmp_path / "f16", X, np.arange(8.0), config=cfg, shard_size=8)
    size32 = sum((tmp_path / s["file"]).stat().st_size for s in m["shards"])
    size16 = (tmp_path / "f16" / m16["shards"][0]["file"]).stat().st_size
    assert size16 < 0.7 * size32
    assert (tmp_path / "f16" / m16["shards"][0]["file"]).read_bytes()[:2] == b"\x1f\x8b"


def test_arrays_without_mask_channel(tmp_path):
    cfg = PreprocessConfig(grid=Grid(3.6, 1e-4, 50), mask_channel=False)
    X = np.random.default_rng(0).normal(size=(4, 50, 1)).astype(np.float32)
    m = arrays_to_shards(tmp_path, X, [0, 1, 1, 0], config=cfg, task="classification", classes=["a", "b"])
    rec = read_shard(tmp_path / m["shards"][0]["file"])
    assert rec["x"].shape == (4, 50, 1) and rec["label"].tolist() == [0, 1, 1, 0]
    np.testing.assert_allclose(rec["x"], X, atol=1e-3)
    assert not rec["mask"].any()


def test_manifest_errors(tmp_path):
    with pytest.raises(ValueError, match="no manifest.json"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a specnet-shards manifest"):
        load_manifest(tmp_path)
    with pytest.raises(ValueError, match="X.shape"):
        arrays_to_shards(tmp_path, np.zeros((3, 4)), [1, 2, 3])
    with pytest.raises(ValueError, match="shard_size=0"):
        arrays_to_shards(tmp_path, np.zeros((3, 4, 1)), [1, 2, 3], shard_size=0)
    with pytest.raises(ValueError, match="x_dtype='float64'"):
        encode_records(np.zeros((1, 4, 1)), np.zeros((1, 4), bool), [1.0], ["a"], ["b"], x_dtype="float64")
