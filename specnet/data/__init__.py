"""Training data at survey scale: ingest to shards, ``tf.data`` pipelines, precision, distribution.

* :func:`ingest` -- catalogue/folder of FITS files → preprocessed GZIP TFRecord
  shards + ``manifest.json`` + ``rejects.csv`` (parallel, resumable, memory-flat).
* :func:`make_dataset` -- stream shards as batched ``(x, y)`` for ``model.fit``;
  :func:`dataset_from_arrays`, :func:`dataset_from_spectra` for small in-memory sets.
* :class:`AugmentConfig` -- noise, RV shifts, calibration tilts, masked runs as TF ops.
* :func:`set_precision`, :func:`get_strategy`, :func:`prepare_model` -- mixed precision and
  multi-GPU/multi-worker training.

Importing :mod:`specnet.data` is light: TensorFlow is imported only when a name
that needs it is first used (ingest worker processes never import it).

Example
-------
>>> from specnet.preprocess import PreprocessConfig
>>> from specnet.data import ingest, make_dataset, AugmentConfig   # doctest: +SKIP
>>> ingest("mock/catalogue.csv", PreprocessConfig(), "shards/")    # doctest: +SKIP
>>> ds = make_dataset("shards/", batch_size=64, augment=AugmentConfig())  # doctest: +SKIP
"""
from __future__ import annotations

import importlib

_LAZY = {
    "Catalogue": "specnet.data.catalogue",
    "read_catalogue": "specnet.data.catalogue",
    "label_to_target": "specnet.data.catalogue",
    "infer_classes": "specnet.data.catalogue",
    "ingest": "specnet.data.ingest",
    "IngestResult": "specnet.data.ingest",
    "arrays_to_shards": "specnet.data.shards",
    "read_shard": "specnet.data.shards",
    "load_manifest": "specnet.data.shards",
    "make_dataset": "specnet.data.dataset",
    "dataset_from_arrays": "specnet.data.dataset",
    "dataset_from_spectra": "specnet.data.dataset",
    "AugmentConfig": "specnet.data.augment",
    "augment_batch": "specnet.data.augment",
    "set_precision": "specnet.data.precision",
    "get_strategy": "specnet.data.distribute",
    "prepare_model": "specnet.data.distribute",
}

__all__ = sorted(_LAZY)

# ``ingest`` is both a submodule and its main function: import the (TensorFlow-free)
# module now and bind the function, so ``specnet.data.ingest`` is always the function,
# whatever was imported first. The module stays reachable as ``sys.modules["specnet.data.ingest"]``.
from specnet.data.ingest import IngestResult, ingest  # noqa: E402,F401


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'specnet.data' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
