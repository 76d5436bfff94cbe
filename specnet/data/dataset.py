"""``tf.data`` input pipelines: from shards on disk, from arrays, from spectra.

:func:`make_dataset` streams the GZIP TFRecord shards written by
:func:`specnet.data.ingest` (or :func:`specnet.data.shards.arrays_to_shards`):

``list_files`` (shuffled, seeded) → ``interleave(TFRecordDataset, AUTOTUNE)``
→ [``cache``] → ``shuffle(buffer, seed)`` → [``repeat``] → ``batch`` →
``parse_example`` + decode (vectorised, per batch) → [augment] → ``prefetch``
[→ ``prefetch_to_device`` on a single GPU].

Nothing is loaded whole: records stream from compressed shards, decoding runs
in TF's C++ threads in parallel with the training step, so the accelerator
never waits for FITS parsing (that happened once, at ingest). Each element is
``(x float32 (B, npix, C), y)`` with ``y`` float32 subtypes (regression) or
int64 class indices (classification); ``x`` has the mask channel appended when
the preprocessing config asked for it.

Example
-------
>>> from specnet.data import make_dataset  # doctest: +SKIP
>>> ds = make_dataset("shards/", batch_size=64, augment=AugmentConfig())  # doctest: +SKIP
>>> model.fit(ds, epochs=10)  # doctest: +SKIP
"""
from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import tensorflow as tf

from specnet.data.augment import AugmentConfig, augment_batch
from specnet.data.shards import assemble_x, decode_batch, load_manifest, shard_files

AUTOTUNE = tf.data.AUTOTUNE


def _check_common(batch_size, shuffle_buffer, augment, seed) -> None:
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    if not (isinstance(shuffle_buffer, (int, np.integer)) and shuffle_buffer >= 1):
        raise ValueError(f"shuffle_buffer must be a positive integer. Received: shuffle_buffer={shuffle_buffer!r}")
    if augment is not None and not isinstance(augment, AugmentConfig):
        raise ValueError(f"augment must be None or an AugmentConfig. Received: augment={augment!r}")
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int. Received: seed={seed!r}")


def _resolve(shards_dir_or_files) -> tuple[dict, list[str]]:
    """Manifest and shard file list from a folder, a manifest path, a glob, or a list of files."""
    if isinstance(shards_dir_or_files, (str, os.PathLike)):
        p = Path(shards_dir_or_files)
        if p.is_dir() or p.name == "manifest.json":
            manifest = load_manifest(p)
            return manifest, shard_files(manifest)
        files = sorted(glob.glob(str(p))) if not p.is_file() else [str(p)]
    else:
        files = [os.fspath(f) for f in shards_dir_or_files]
    if not files:
        raise ValueError(f"no shard files found. Received: shards_dir_or_files={shards_dir_or_files!r}")
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise ValueError(f"shard files do not exist. Received: missing={missing[:3]}")
    manifest = load_manifest(Path(files[0]).parent)
    return manifest, [os.path.abspath(f) for f in files]


def gpu_present() -> bool:
    """Whether TensorFlow sees at least one GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def _finish(ds: tf.data.Dataset, prefetch_to_device, deterministic: bool) -> tf.data.Dataset:
    options = tf.data.Options()
    options.deterministic = bool(deterministic)
    ds = ds.with_options(options)
    ds = ds.prefetch(AUTOTUNE)
    device = prefetch_to_device
    if device is None:  # auto: only on a single GPU, single worker, no distribution strategy in scope
        from specnet.data.distribute import cluster_size

        gpus = tf.config.list_physical_devices("GPU")
        single = len(gpus) == 1 and not tf.distribute.has_strategy() and cluster_size() == 1
        device = "/gpu:0" if single else False
    if device:
        if not gpu_present():
            raise ValueError(f"prefetch_to_device needs a GPU; none is visible. "
                             f"Received: prefetch_to_device={prefetch_to_device!r}")
        ds = ds.apply(tf.data.experimental.prefetch_to_device(str(device)))
    return ds


def _augment_map(ds: tf.data.Dataset, augment: AugmentConfig | None, seed: int, log_step, fill, clip,
                 mask_channel: bool, deterministic: bool) -> tf.data.Dataset:
    """Map (flux, mask, y) batches to (x, y), augmenting with per-batch stateless seeds."""
    if augment is None or augment.is_identity:
        return ds.map(lambda f, m, y: (assemble_x(f, m, mask_channel), y),
                      num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    if log_step is None:
        raise ValueError("augmentation needs the grid step (log_step): give a PreprocessConfig. "
                         "Received: log_step=None")
    base = tf.constant([augment.seed, seed], tf.int64)

    def fn(i, batch):
        f, m, y = batch
        s = tf.random.experimental.stateless_fold_in(base, i)
        f, m = augment_batch(f, m, augment, s, log_step=log_step, fill=fill, clip=clip)
        return assemble_x(f, m, mask_channel), y

    return ds.enumerate().map(fn, num_parallel_calls=AUTOTUNE, deterministic=deterministic)


def make_dataset(shards_dir_or_files, batch_size: int = 32, shuffle: bool = True, shuffle_buffer: int = 10000,
                 augment: AugmentConfig | None = None, deterministic: bool = False, seed: int = 0,
                 repeat: bool = False, prefetch_to_device: str | bool | None = None,
                 cache: bool | str = False, drop_remainder: bool = False) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` of ``(x, y)`` streamed from shards.

    Parameters
    ----------
    shards_dir_or_files : str, PathLike or list of paths
        The ingest output folder (or its ``manifest.json``), a glob of shard
        files, or a list of shard files (their folder must hold the manifest).
    batch_size : int
    shuffle : bool
        Shuffle the shard order (seeded, reshuffled each epoch) and the
        records (a ``shuffle_buffer``-element buffer). ``shuffle=False``
        keeps the stored order (implies ``deterministic=True``).
    shuffle_buffer : int
        Records held for shuffling (memory ≈ buffer × record size; a float16
        LAMOST record is ~8 kB, so 10,000 ≈ 80 MB).
    augment : AugmentConfig, optional
        Training-time augmentation (:mod:`specnet.data.augment`).
    deterministic : bool
        Fixed element order (interleave/map in order); with a fixed ``seed``
        the same batches come out every time the dataset is built. ``False``
        lets parallel stages hand over whatever is ready first (faster).
    seed : int
        Seed of file and record shuffling and of augmentation.
    repeat : bool
        Repeat forever (then give ``steps_per_epoch`` to ``fit``).
    prefetch_to_device : str, bool or None
        ``None`` (auto): prefetch to ``/gpu:0`` when exactly one GPU is visible,
        no distribution strategy is in scope and ``TF_CONFIG`` names no cluster
        (a strategy distributes the dataset itself); ``False``: never; a device string: that device.
    cache : bool or str
        Cache the (compressed-on-disk, decoded-to-bytes) records after the first
        epoch: ``True`` in memory, a path for a cache file.
    drop_remainder : bool
        Drop a last short batch (static batch shape).

    Returns
    -------
    tf.data.Dataset of ``(x float32 (B, npix, C), y (B,))``

    Example
    -------
    >>> ds = make_dataset("shards/", batch_size=4, shuffle=False)  # doctest: +SKIP
    >>> x, y = next(iter(ds)); x.shape  # doctest: +SKIP
    TensorShape([4, 3909, 2])
    """
    _check_common(batch_size, shuffle_buffer, augment, seed)
    deterministic = bool(deterministic or not shuffle)  # unshuffled data keeps its order
    manifest, files = _resolve(shards_dir_or_files)
    if not files:
        raise ValueError(f"the shard set holds no examples. Received: shards_dir_or_files={shards_dir_or_files!r}")
    ds = tf.data.Dataset.list_files(files, shuffle=bool(shuffle), seed=int(seed) if shuffle else None)
    ds = ds.interleave(lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP"),
                       cycle_length=min(len(files), max(2, os.cpu_count() or 2)), block_length=1,
                       num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=int(seed), reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=AUTOTUNE,
                  deterministic=deterministic)

    def decode(ser):
        b = decode_batch(ser, manifest)
        return b["flux"], b["mask"], b["label"]

    ds = ds.map(decode, num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    ds = _augment_map(ds, augment, int(seed), manifest.get("log_step"), manifest.get("fill", "interp"),
                      manifest.get("clip"), manifest["mask_channel"], deterministic)
    return _finish(ds, prefetch_to_device, deterministic)


def dataset_from_arrays(X: np.ndarray, y: np.ndarray, batch_size: int = 32, shuffle: bool = True,
                        shuffle_buffer: int = 10000, augment: AugmentConfig | None = None,
                        deterministic: bool = False, seed: int = 0, repeat: bool = False,
                        prefetch_to_device: str | bool | None = None, config=None,
                        drop_remainder: bool = False) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of ``(x, y)`` batches from in-memory arrays (small sets).

    Parameters
    ----------
    X : float32 (N, npix, C)
        Preprocessed spectra; when ``config.mask_channel`` the last channel is
        the mask (1.0 = bad), which augmentation updates consistently.
    y : (N,) labels
    config : PreprocessConfig, optional
        Tells whether ``X`` has a mask channel and gives the grid step, fill and
        clip used by augmentation (without it: no mask channel, step 1e-4, "interp", no clip).
    batch_size, shuffle, shuffle_buffer, augment, deterministic, seed, repeat, prefetch_to_device, drop_remainder
        As in :func:`make_dataset`.

    Example
    -------
    >>> import numpy as np
    >>> ds = dataset_from_arrays(np.zeros((5, 16, 1), np.float32), np.arange(5.0), batch_size=2, shuffle=False)
    >>> [int(x.shape[0]) for x, _ in ds]
    [2, 2, 1]
    """
    _check_common(batch_size, shuffle_buffer, augment, seed)
    deterministic = bool(deterministic or not shuffle)  # unshuffled data keeps its order
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 3 or y.ndim < 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X must be (N, npix, C) and y (N, ...). Received: X.shape={X.shape}, y.shape={y.shape}")
    mask_channel = bool(getattr(config, "mask_channel", False))
    grid = getattr(config, "grid", None)
    log_step = getattr(grid, "log_step", 1e-4)
    fill = getattr(config, "fill", "interp")
    clip = getattr(config, "clip", None)
    flux = X[..., :-1] if mask_channel else X
    mask = X[..., -1] > 0.5 if mask_channel else np.zeros(X.shape[:2], bool)
    ds = tf.data.Dataset.from_tensor_slices((flux, mask, y))
    if shuffle:
        ds = ds.shuffle(min(shuffle_buffer, len(X)), seed=int(seed), reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = _augment_map(ds, augment, int(seed), log_step, fill, clip, mask_channel, deterministic)
    return _finish(ds, prefetch_to_device, deterministic)


def dataset_from_spectra(spectra: Sequence, labels: Sequence, config, task: str = "regression",
                         classes: Sequence[str] | None = None, **kwargs: Any) -> tf.data.Dataset:
    """Preprocess ``spectra`` with ``config`` and make a dataset (small, in-memory sets).

    Parameters
    ----------
    spectra : sequence of Spectrum
    labels : sequence of str or numbers
        MK types or subtypes (regression) or class names (classification),
        turned into targets by :func:`specnet.data.catalogue.label_to_target`.
    config : PreprocessConfig
    task, classes : as in :func:`specnet.data.ingest`
    **kwargs : passed to :func:`dataset_from_arrays`

    Raises
    ------
    LabelError
        For a label that is not a usable type (filter first, or ingest to
        shards, which turns them into rejects).
    """
    from specnet.data.catalogue import label_to_target
    from specnet.preprocess import preprocess

    if len(spectra) != len(labels):
        raise ValueError(f"one label per spectrum. Received: len(spectra)={len(spectra)}, len(labels)={len(labels)}")
    y = np.array([label_to_target(t, task, classes) for t in labels],
                 dtype=np.int64 if task == "classification" else np.float32)
    X, _ = preprocess(list(spectra), config)
    return dataset_from_arrays(X, y, config=config, **kwargs)
