"""The shard format: GZIP-compressed TFRecord files of ``tf.train.Example`` + ``manifest.json``.

Why TFRecord and not ``.npz``
-----------------------------
A TFRecord shard is read by ``tf.data.TFRecordDataset`` in C++ threads:
decompression, parsing (``tf.io.parse_example`` on whole batches) and
interleaving of several shards all run outside the Python GIL, in parallel
with the training step, and stream record by record (a shard is never loaded
whole). ``.npz`` shards can only reach ``tf.data`` through
``Dataset.from_generator``/``py_function``, which holds the GIL, decompresses a
whole member array at once and cannot be parallelised by ``interleave``;
``benchmarks/bench_dataset.py --compare-npz`` measures the difference.

Record layout (one spectrum per ``tf.train.Example``)
-----------------------------------------------------
==========  ===========  ==========================================================
feature     type         content
==========  ===========  ==========================================================
``x``       bytes        flux channels, little-endian ``float16`` (default) or
                         ``float32``, C-order ``(npix, x_channels)``. The
                         bad-pixel mask channel is *not* stored here.
``mask``    bytes        the bad-pixel mask (True = bad), ``np.packbits`` big-bit-
                         order, ``ceil(npix / 8)`` bytes. When the preprocessing
                         config has ``mask_channel=True`` the reader appends it
                         as the last channel (1.0 = bad), so ``x`` comes back as
                         ``(npix, x_channels + 1)`` exactly as ``preprocess`` made it.
``label``   float/int64  subtype (regression) or class index (classification)
``id``      bytes        the spectrum id (obsid, plate-mjd-fiber, ...)
``path``    bytes        the source file
==========  ===========  ==========================================================

The Example protobuf is encoded here in pure Python (a few lines of varint
code), so ingest workers never import TensorFlow; only the writer in the main
process does (``tf.io.TFRecordWriter`` with GZIP, zlib level 1: see :class:`ShardWriter`).

``manifest.json`` (in the shard folder) names the shards and their counts and
holds everything a reader needs: ``npix``, ``x_channels``, ``mask_channel``,
``x_dtype``, ``task``, ``classes``, the preprocessing ``config`` dict, and the
grid step/fill/clip that augmentation uses.

Example
-------
>>> import numpy as np, tempfile
>>> from specnet.data.shards import arrays_to_shards, read_shard
>>> X = np.random.default_rng(0).normal(size=(10, 64, 1)).astype("float32")
>>> m = arrays_to_shards(tempfile.mkdtemp(), X, np.arange(10.0), shard_size=4)  # doctest: +SKIP
>>> [s["count"] for s in m["shards"]]  # doctest: +SKIP
[4, 4, 2]
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

FORMAT_NAME = "specnet-shards"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SHARD_SUFFIX = ".tfrecord.gz"
X_DTYPES = ("float16", "float32")
GZIP_LEVEL = 1


def shard_name(index: int, total: int) -> str:
    """File name of shard ``index`` of ``total``.

    >>> shard_name(3, 12)
    'shard-00003-of-00012.tfrecord.gz'
    """
    return f"shard-{index:05d}-of-{total:05d}{SHARD_SUFFIX}"


# --------------------------------------------------------------- protobuf
def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ld(tag: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2) with field number ``tag``."""
    return _varint((tag << 3) | 2) + _varint(len(payload)) + payload


def _bytes_feature(values: Sequence[bytes]) -> bytes:
    return _ld(1, b"".join(_ld(1, v) for v in values))                 # Feature.bytes_list


def _float_feature(values: Sequence[float]) -> bytes:
    packed = np.asarray(values, dtype="<f4").tobytes()
    return _ld(2, _ld(1, packed))                                        # Feature.float_list


def _int64_feature(values: Sequence[int]) -> bytes:
    packed = b"".join(_varint(int(v)) for v in values)
    return _ld(3, _ld(1, packed))                                        # Feature.int64_list


def encode_example(features: dict[str, bytes]) -> bytes:
    """Serialise ``{name: encoded Feature}`` as a ``tf.train.Example`` (sorted keys)."""
    entries = b"".join(_ld(1, _ld(1, k.encode()) + _ld(2, v)) for k, v in sorted(features.items()))
    return _ld(1, entries)                                               # Example.features


def pack_mask(mask: np.ndarray) -> np.ndarray:
    """Pack a bool mask ``(..., npix)`` into ``uint8 (..., ceil(npix/8))`` (big bit order).

    >>> pack_mask(np.array([True] + [False] * 8)).tolist()
    [128, 0]
    """
    return np.packbits(np.asarray(mask, dtype=bool), axis=-1, bitorder="big")


def unpack_mask(packed: np.ndarray, npix: int) -> np.ndarray:
    """Inverse of :func:`pack_mask`.

    >>> unpack_mask(np.array([128, 0], np.uint8), 9).tolist()
    [True, False, False, False, False, False, False, False, False]
    """
    return np.unpackbits(np.asarray(packed, np.uint8), axis=-1, count=npix, bitorder="big").astype(bool)


def encode_records(flux: np.ndarray, mask: np.ndarray, labels: Sequence, ids: Sequence, paths: Sequence,
                   task: str = "regression", x_dtype: str = "float16") -> list[bytes]:
    """Serialised examples for a batch.

    Parameters
    ----------
    flux : ndarray (N, npix, x_channels)
        Flux channels only (no mask channel).
    mask : ndarray of bool (N, npix)
    labels : (N,) floats (regression) or ints (classification)
    ids, paths : (N,) strings
    """
    if x_dtype not in X_DTYPES:
        raise ValueError(f"x_dtype must be one of {X_DTYPES}. Received: x_dtype={x_dtype!r}")
    flux = np.asarray(flux)
    if flux.ndim != 3:
        raise ValueError(f"flux must be (N, npix, channels). Received: flux.shape={flux.shape}")
    xs = np.ascontiguousarray(flux.astype("<f2" if x_dtype == "float16" else "<f4"))
    packed = pack_mask(mask)
    out = []
    for i in range(flux.shape[0]):
        lab = _int64_feature([int(labels[i])]) if task == "classification" else _float_feature([labels[i]])
        out.append(encode_example({
            "x": _bytes_feature([xs[i].tobytes()]),
            "mask": _bytes_feature([packed[i].tobytes()]),
            "label": lab,
            "id": _bytes_feature([str(ids[i] if ids[i] is not None else "").encode()]),
            "path": _bytes_feature([str(paths[i] if paths[i] is not None else "").encode()]),
        }))
    return out


# ----------------------------------------------------------------- writing
class ShardWriter:
    """Write serialised examples to ``path`` via a temporary name, renamed on :meth:`close`.

    A shard therefore either exists complete or not at all (resumable ingest).

    >>> with ShardWriter("/tmp/x.tfrecord.gz") as w:  # doctest: +SKIP
    ...     w.write(records)
    """

    def __init__(self, path: str | os.PathLike):
        import tensorflow as tf

        self.path = Path(path)
        self.tmp = self.path.with_name("." + self.path.name + ".tmp")
        self.count = 0
        # zlib level 1: noisy float16 flux barely compresses further at higher levels
        # (+1.4 % size) but level 1 writes ~3x faster (145 vs 460 us per LAMOST record),
        # which keeps the single writer ahead of many ingest workers.
        options = tf.io.TFRecordOptions(compression_type="GZIP", compression_level=GZIP_LEVEL)
        self._writer = tf.io.TFRecordWriter(str(self.tmp), options=options)

    def write(self, records: Sequence[bytes]) -> None:
        for rec in records:
            self._writer.write(rec)
        self.count += len(records)

    def close(self) -> None:
        self._writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self._writer.close()
        if self.tmp.exists():
            self.tmp.unlink()

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=1, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def versions() -> dict[str, str]:
    """Versions of the packages that shape the shard contents."""
    import platform

    import specnet

    out = {"specnet": specnet.__version__, "numpy": np.__version__, "python": platform.python_version()}
    for mod in ("astropy", "scipy", "tensorflow"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # pragma: no cover - optional
            pass
    return out


def layout_fields(npix: int, x_channels: int, mask_channel: bool, x_dtype: str, task: str,
                  classes: Sequence[str] | None, log_step: float | None, fill: Any,
                  clip: float | None) -> dict:
    """The manifest fields a reader needs to decode records and augment them."""
    return {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "npix": int(npix), "x_channels": int(x_channels), "mask_channel": bool(mask_channel),
        "x_dtype": x_dtype, "task": task, "classes": list(classes) if classes is not None else None,
        "label_dtype": "int64" if task == "classification" else "float32",
        "log_step": None if log_step is None else float(log_step), "fill": fill,
        "clip": None if clip is None else float(clip),
    }


def arrays_to_shards(out_dir: str | os.PathLike, X: np.ndarray, labels: Sequence, mask: np.ndarray | None = None,
                     config=None, task: str = "regression", classes: Sequence[str] | None = None,
                     shard_size: int = 4096, ids: Sequence | None = None, paths: Sequence | None = None,
                     x_dtype: str = "float16") -> dict:
    """Write in-memory arrays as shards + manifest (for arrays already on a grid).

    Parameters
    ----------
    X : ndarray (N, npix, C)
        As :func:`specnet.preprocess.preprocess` returns it. When
        ``config.mask_channel`` is true the last channel is the mask and is
        stored as packed bits; ``mask`` then defaults to it.
    labels : (N,) subtypes (regression) or class indices (classification)
    mask : bool ndarray (N, npix), optional
    config : PreprocessConfig, optional
        Recorded in the manifest; gives the grid step, fill and clip used by augmentation.

    Returns
    -------
    dict : the manifest written to ``out_dir/manifest.json``.
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3:
        raise ValueError(f"X must be (N, npix, C). Received: X.shape={X.shape}")
    n, npix, c = X.shape
    labels = np.asarray(labels)
    if labels.shape[0] != n:
        raise ValueError(f"labels must have one entry per spectrum. Received: len(labels)={labels.shape[0]}, N={n}")
    if not (isinstance(shard_size, (int, np.integer)) and shard_size >= 1):
        raise ValueError(f"shard_size must be a positive integer. Received: shard_size={shard_size!r}")
    mask_channel = bool(getattr(config, "mask_channel", False))
    flux = X[..., :-1] if mask_channel else X
    if mask is None:
        mask = X[..., -1] > 0.5 if mask_channel else np.zeros((n, npix), bool)
    mask = np.asarray(mask, bool)
    ids = [str(i) for i in range(n)] if ids is None else list(ids)
    paths = [""] * n if paths is None else list(paths)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    total = max(1, -(-n // shard_size))
    shards = []
    for k in range(total):
        sl = slice(k * shard_size, min(n, (k + 1) * shard_size))
        recs = encode_records(flux[sl], mask[sl], labels[sl], ids[sl], paths[sl], task, x_dtype)
        name = shard_name(k, total)
        with ShardWriter(out_dir / name) as w:
            w.write(recs)
        shards.append({"file": name, "count": len(recs), "files": len(recs)})
    grid = getattr(config, "grid", None)
    manifest = {
        **layout_fields(npix, flux.shape[-1], mask_channel, x_dtype, task, classes,
                        getattr(grid, "log_step", None), getattr(config, "fill", "interp"),
                        getattr(config, "clip", None)),
        "config": config.to_dict() if config is not None else None,
        "shards": shards, "n_examples": int(n), "n_rejects": 0, "source": "arrays",
        "versions": versions(),
    }
    write_json_atomic(out_dir / MANIFEST_NAME, manifest)
    return manifest


# ----------------------------------------------------------------- reading
def load_manifest(path: str | os.PathLike) -> dict:
    """Read ``manifest.json`` from a shard folder (or the file itself), with ``_dir`` added.

    Raises ``ValueError`` when there is none or it is not a specnet shard manifest.
    """
    path = Path(path)
    file = path / MANIFEST_NAME if path.is_dir() else path
    if not file.is_file():
        raise ValueError(f"no {MANIFEST_NAME} found for shards at {str(path)!r}: "
                         f"write shards with specnet.data.ingest or arrays_to_shards. Received: path={str(path)!r}")
    with open(file) as fh:
        manifest = json.load(fh)
    if manifest.get("format") != FORMAT_NAME:
        raise ValueError(f"{str(file)!r} is not a {FORMAT_NAME} manifest. Received: format={manifest.get('format')!r}")
    manifest["_dir"] = str(file.parent)
    return manifest


def shard_files(manifest: dict, include_empty: bool = False) -> list[str]:
    """Absolute paths of the manifest's shards (non-empty ones unless ``include_empty``)."""
    base = Path(manifest["_dir"])
    return [str(base / s["file"]) for s in manifest["shards"] if include_empty or s["count"] > 0]


def feature_spec(manifest: dict) -> dict:
    """The ``tf.io.parse_example`` feature spec of a shard set."""
    import tensorflow as tf

    label = tf.int64 if manifest["label_dtype"] == "int64" else tf.float32
    return {
        "x": tf.io.FixedLenFeature([], tf.string),
        "mask": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], label),
        "id": tf.io.FixedLenFeature([], tf.string, default_value=""),
        "path": tf.io.FixedLenFeature([], tf.string, default_value=""),
    }


def unpack_mask_tf(packed, npix: int):
    """TF version of :func:`unpack_mask` for a batch: ``uint8 (B, nbytes)`` → ``bool (B, npix)``."""
    import tensorflow as tf

    shifts = tf.constant([7, 6, 5, 4, 3, 2, 1, 0], tf.uint8)
    bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(packed[..., None], shifts), tf.constant(1, tf.uint8))
    bits = tf.reshape(bits, tf.concat([tf.shape(packed)[:-1], [-1]], 0))
    return tf.cast(bits[..., :npix], tf.bool)


def decode_batch(serialized, manifest: dict) -> dict:
    """Parse a batch of serialised examples (TF graph code).

    Returns a dict of tensors: ``flux`` float32 ``(B, npix, x_channels)``,
    ``mask`` bool ``(B, npix)``, ``label`` ``(B,)``, ``id``/``path`` strings ``(B,)``.
    """
    import tensorflow as tf

    npix, cx = manifest["npix"], manifest["x_channels"]
    ex = tf.io.parse_example(serialized, feature_spec(manifest))
    dtype = tf.float16 if manifest["x_dtype"] == "float16" else tf.float32
    flux = tf.io.decode_raw(ex["x"], dtype, little_endian=True)
    flux = tf.cast(tf.reshape(flux, [-1, npix, cx]), tf.float32)
    packed = tf.io.decode_raw(ex["mask"], tf.uint8)
    packed = tf.reshape(packed, [-1, (npix + 7) // 8])
    mask = unpack_mask_tf(packed, npix)
    batch = serialized.shape[0] if serialized.shape.rank else None  # static with drop_remainder
    flux.set_shape([batch, npix, cx])
    mask.set_shape([batch, npix])
    return {"flux": flux, "mask": mask, "label": ex["label"], "id": ex["id"], "path": ex["path"]}


def assemble_x(flux, mask, mask_channel: bool):
    """``x`` as the model sees it: flux channels, plus the mask as the last channel (1.0 = bad)."""
    import tensorflow as tf

    if not mask_channel:
        return flux
    return tf.concat([flux, tf.cast(mask, flux.dtype)[..., None]], axis=-1)


def read_shard(path: str | os.PathLike, manifest: dict | None = None) -> dict[str, np.ndarray]:
    """Read one whole shard into numpy (for inspection and tests, not for training).

    Returns ``x`` float32 ``(N, npix, C)`` (mask channel appended when the
    config has one), ``mask`` bool ``(N, npix)``, ``label``, ``id``, ``path``
    (str arrays), in the order they were written.
    """
    import tensorflow as tf

    path = Path(path)
    manifest = manifest or load_manifest(path.parent)
    ds = tf.data.TFRecordDataset(str(path), compression_type="GZIP").batch(1024)
    parts: dict[str, list] = {k: [] for k in ("x", "mask", "label", "id", "path")}
    for ser in ds:
        b = decode_batch(ser, manifest)
        parts["x"].append(assemble_x(b["flux"], b["mask"], manifest["mask_channel"]).numpy())
        parts["mask"].append(b["mask"].numpy())
        parts["label"].append(b["label"].numpy())
        parts["id"].append(b["id"].numpy().astype(str))
        parts["path"].append(b["path"].numpy().astype(str))
    c = manifest["x_channels"] + int(manifest["mask_channel"])
    empty = {"x": np.zeros((0, manifest["npix"], c), np.float32), "mask": np.zeros((0, manifest["npix"]), bool),
             "label": np.zeros(0, np.int64 if manifest["label_dtype"] == "int64" else np.float32),
             "id": np.zeros(0, str), "path": np.zeros(0, str)}
    return {k: (np.concatenate(v) if v else empty[k]) for k, v in parts.items()}

