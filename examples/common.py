"""Wiring shared by the example scripts (``examples/*/run.py``): data sources, run records, Keras loops.

The science lives in the package (:mod:`specnet.simulate`, :mod:`specnet.preprocess`,
:mod:`specnet.models`, :mod:`specnet.baselines`, :mod:`specnet.metrics`,
:mod:`specnet.report`); this module only holds what every experiment script repeats:

* :func:`load_library` -- the template library behind the mock surveys:
  ``../shared/data/templates`` beside the repository when present, else
  :func:`specnet.simulate.builtin_library`;
* :func:`read_labelled` -- real spectra from a catalogue CSV (``path,label``) or a folder,
  read with :mod:`specnet.io` and preprocessed with the experiment's
  :class:`~specnet.preprocess.PreprocessConfig`, unreadable files kept as rejects;
* :func:`run_record` -- command, seeds, library versions and device of a run;
* :func:`fit_keras`, :func:`recalibrate_batchnorm`, :func:`keras_grid_search` -- compile/fit on
  in-memory arrays, and a k-fold grid search over training hyper-parameters;
* :func:`write_results` -- ``results.json`` (plain JSON, NaN → null) and ``tables.md``.

Scripts load it by file path (``importlib``), so no ``examples`` package is needed::

    >>> import importlib.util, pathlib                                       # doctest: +SKIP
    >>> spec = importlib.util.spec_from_file_location("specnet_examples_common", "examples/common.py")  # doctest: +SKIP

Example
-------
>>> lib, source = load_library()                                            # doctest: +SKIP
>>> source["kind"], source["n_templates"]                                  # doctest: +SKIP
('templates', 1256)
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import itertools
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

#: The repository root (``examples/`` lives directly below it).
REPO = Path(__file__).resolve().parents[1]


def default_templates() -> Path:
    """``../shared/data/templates`` beside the repository (``$SPECNET_SHARED_DATA/templates`` if set).

    >>> default_templates().name
    'templates'
    """
    shared = os.environ.get("SPECNET_SHARED_DATA")
    base = Path(shared) if shared else REPO.parent / "shared" / "data"
    return base / "templates"


# ----------------------------------------------------------------------------- progress
_T0 = time.perf_counter()


def progress(message: str) -> None:
    """Print ``[  12.3 s] message`` (seconds since the script started) and flush."""
    print(f"[{time.perf_counter() - _T0:7.1f} s] {message}", flush=True)


@contextlib.contextmanager
def stopwatch(store: dict, key: str):
    """Context manager adding the wall time of its block, in seconds, to ``store[key]``.

    >>> t = {}
    >>> with stopwatch(t, "fit"):
    ...     _ = sum(range(10))
    >>> t["fit"] >= 0
    True
    """
    start = time.perf_counter()
    try:
        yield
    finally:
        store[key] = store.get(key, 0.0) + time.perf_counter() - start


# ----------------------------------------------------------------------------- data
def load_library(path=None):
    """The template library of the mock surveys and a record of where it came from.

    Parameters
    ----------
    path : str or Path, optional
        A template folder or file. Default: :func:`default_templates` when it exists,
        else the package's embedded :func:`specnet.simulate.builtin_library`.

    Returns
    -------
    (TemplateLibrary, dict)
        The dict holds ``kind`` (``"templates"`` or ``"builtin"``), ``path``,
        ``n_templates``, ``libraries`` (templates per library), ``fingerprint`` and
        ``n_skipped`` (templates whose label is no MK type, skipped with a warning).
    """
    from specnet.simulate import TemplateLibrary, builtin_library

    chosen = Path(path) if path is not None else default_templates()
    if path is not None and not chosen.exists():
        raise ValueError(f"template path does not exist. Received: templates={str(path)!r}")
    if chosen.exists():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib = TemplateLibrary.from_path(chosen)
        kind, where, skipped = "templates", str(chosen), len(caught)
    else:
        lib, kind, where, skipped = builtin_library(), "builtin", "specnet.simulate.builtin_library()", 0
    return lib, {"kind": kind, "path": where, "n_templates": len(lib), "libraries": lib.counts(),
                 "fingerprint": lib.fingerprint, "n_skipped": skipped}


def read_labelled(data, config, label_column: str | None = None):
    """Read the spectra of a catalogue CSV (``path,label``) or a folder and preprocess them.

    Files are read with :func:`specnet.io.read_spectrum`; a row without a label takes the
    file header's ``meta["subclass"]``. Files that cannot be read become rejects, never
    an exception.

    Parameters
    ----------
    data : str or Path
        A CSV with a ``path`` column and a label column (``label``, ``subclass``, ...;
        relative paths are resolved against the CSV's folder), a folder holding
        ``catalogue.csv``, or a folder of FITS files (labels from the headers).
    config : specnet.preprocess.PreprocessConfig
        The experiment's preprocessing (grid in vacuum Å, normalisation, mask channel).
    label_column : str, optional
        Label column of the CSV (default: the first of ``label, subclass, ...``).

    Returns
    -------
    dict
        ``X`` float32 ``(N, npix, C)``, ``mask`` bool ``(N, npix)``, ``labels`` list of str
        ``(N,)``, ``paths`` list of str, ``snr`` float ``(N,)`` (header S/N, NaN if none),
        ``rejects`` list of ``{"path", "reason"}``, ``source`` (the catalogue or folder).
    """
    from specnet.data.catalogue import read_catalogue
    from specnet.io import read_spectrum
    from specnet.preprocess import preprocess

    cat = read_catalogue(data, label_column=label_column)
    spectra, labels, paths, snr, rejects = [], [], [], [], []
    for path, label in cat.rows():
        try:
            spec = read_spectrum(path)
        except (ValueError, OSError) as exc:  # SpectrumFormatError is a ValueError
            rejects.append({"path": path, "reason": f"{type(exc).__name__}: {exc}"})
            continue
        text = label if label not in (None, "") else spec.meta.get("subclass")
        if text in (None, ""):
            rejects.append({"path": path, "reason": "no label in the catalogue or the file header"})
            continue
        spectra.append(spec)
        labels.append(str(text).strip())
        paths.append(path)
        value = spec.meta.get("snr")
        snr.append(float(value) if isinstance(value, (int, float, np.number)) else np.nan)
    if spectra:
        X, mask = preprocess(spectra, config)
    else:
        X = np.zeros((0, *config.input_shape), np.float32)
        mask = np.zeros((0, config.grid.npix), bool)
    return {"X": X, "mask": mask, "labels": labels, "paths": paths, "snr": np.asarray(snr, float),
            "rejects": rejects, "source": cat.source}


# ----------------------------------------------------------------------------- run record
def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except Exception:  # noqa: BLE001 - an optional package may fail in many ways
        return None
    return str(getattr(mod, "__version__", "unknown"))


def versions() -> dict:
    """Python and the versions of the libraries an experiment's numbers depend on."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for module in ("specnet", "numpy", "scipy", "sklearn", "astropy", "tensorflow", "keras",
                   "tf_keras_vis", "matplotlib", "dust_extinction"):
        out[module] = _version(module)
    return out


def _git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def devices() -> list[str]:
    """TensorFlow's physical devices (``["CPU:0", "GPU:0", ...]``); imports TensorFlow."""
    import tensorflow as tf

    return [f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_physical_devices()]


def run_record(script: str, argv: Sequence[str], mode: str, seed: int) -> dict:
    """What a reader needs to repeat a run: command, mode, seed, versions, commit, start time."""
    return {
        "script": script,
        "command": " ".join(shlex.quote(a) for a in [sys.executable, script, *argv]),
        "argv": list(argv),
        "mode": mode,
        "seed": int(seed),
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "versions": versions(),
        "cpu_count": os.cpu_count(),
    }


# ----------------------------------------------------------------------------- keras
@contextlib.contextmanager
def precision(policy: str = "auto"):
    """Set Keras' dtype policy with :func:`specnet.data.set_precision` for a block, then restore it.

    Yields the policy name in force (``"auto"``: ``mixed_float16`` on a GPU, else ``float32``), so
    that ``main(argv)`` called in-process (tests, notebooks) leaves the global policy as it found it.
    """
    import keras

    from specnet.data import set_precision

    before = keras.mixed_precision.global_policy().name
    try:
        yield set_precision(policy)
    finally:
        keras.mixed_precision.set_global_policy(before)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``)."""
    import keras

    keras.utils.set_random_seed(int(seed))


def recalibrate_batchnorm(model, X, batch_size: int = 64) -> int:
    """Re-estimate every BatchNormalization layer's moving mean/variance on ``X`` ("precise BN").

    Keras keeps exponential moving averages (momentum 0.99 by default, 0.9 in the ResNet), which lag
    the data after the few hundred steps of a short run, so inference-mode predictions would
    be off. Here each layer's momentum is set per batch to ``i / (i + 1)``, so the moving
    statistics become the exact average of the batch statistics over ``X``; weights are
    untouched, and the momentum is restored afterwards (Wu & Johnson 2021, "Rethinking
    'Batch' in BatchNorm").

    Parameters
    ----------
    model : keras.Model
    X : array ``(N, npix, C)`` -- training inputs.
    batch_size : int

    Returns
    -------
    int : the number of BatchNormalization layers recalibrated (0: nothing done).
    """
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers or len(X) == 0:
        return 0
    saved = [layer.momentum for layer in layers]
    try:
        for i, start in enumerate(range(0, len(X), batch_size)):
            for layer in layers:
                layer.momentum = i / (i + 1.0)
            model(np.asarray(X[start:start + batch_size], np.float32), training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return len(layers)


def fit_keras(model, X, y, *, loss, epochs: int, batch_size: int, learning_rate: float, seed: int,
              X_val=None, y_val=None, metrics: Sequence[str] = (), verbose: int = 0,
              recalibrate_bn: bool = True, run_eagerly: bool = False) -> dict:
    """Compile ``model`` with Adam(``learning_rate``) and ``loss`` and fit it on arrays.

    Returns ``{"history": History.history, "fit_s": seconds, "epochs": epochs,
    "batch_size": ..., "learning_rate": ..., "bn_layers_recalibrated": n}``. After
    fitting, the BatchNormalization statistics are recalibrated on ``X``
    (:func:`recalibrate_batchnorm`) unless ``recalibrate_bn=False``. ``run_eagerly=True``
    skips tracing the training step into a graph (10-30 s per model on a loaded CPU),
    which is faster for the few steps of a smoke run.
    """
    import keras

    set_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=list(metrics),
                  run_eagerly=bool(run_eagerly))
    val = (X_val, y_val) if X_val is not None and len(X_val) else None
    start = time.perf_counter()
    hist = model.fit(X, y, epochs=int(epochs), batch_size=int(batch_size), validation_data=val,
                     shuffle=True, verbose=verbose)
    n_bn = recalibrate_batchnorm(model, X, batch_size=max(int(batch_size), 32)) if recalibrate_bn else 0
    return {"history": {k: [float(v) for v in vals] for k, vals in hist.history.items()},
            "fit_s": time.perf_counter() - start, "epochs": int(epochs), "batch_size": int(batch_size),
            "learning_rate": float(learning_rate), "bn_layers_recalibrated": n_bn, "run_eagerly": bool(run_eagerly)}


def predict_timed(model, X, batch_size: int = 256) -> tuple[np.ndarray, float]:
    """``(model.predict(X), seconds)``."""
    start = time.perf_counter()
    out = model.predict(X, batch_size=batch_size, verbose=0)
    return np.asarray(out), time.perf_counter() - start


def grid_combinations(grid: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of a parameter grid, in a fixed order (keys sorted).

    >>> grid_combinations({"lr": [1e-3, 1e-4], "batch_size": [32]})
    [{'batch_size': 32, 'lr': 0.001}, {'batch_size': 32, 'lr': 0.0001}]
    """
    if not isinstance(grid, Mapping) or not grid or any(len(v) == 0 for v in grid.values()):
        raise ValueError(f"grid must map each parameter to a non-empty list of values. Received: grid={grid!r}")
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def keras_grid_search(build: Callable[[dict], object], X, y, grid: Mapping[str, Sequence],
                      folds: Iterable[tuple[np.ndarray, np.ndarray]], *, epochs: int, seed: int,
                      run_eagerly: bool = False, on_step: Callable[[str], None] | None = None) -> dict:
    """k-fold cross-validated grid search of a Keras classifier's training hyper-parameters.

    For every combination of ``grid`` (:func:`grid_combinations`) and every fold
    ``(train_idx, test_idx)``, ``build(params)`` makes a fresh model (architecture keys of
    ``params``), which is trained with sparse categorical cross-entropy on the fold's
    training part (``batch_size``, ``learning_rate`` from ``params``) and scored by
    accuracy on its held-out part. The best combination has the highest mean accuracy
    (ties: the earlier combination).

    Parameters
    ----------
    build : callable(params) -> keras.Model (softmax output)
    X : array ``(N, npix, C)``; y : int array ``(N,)`` class indices.
    grid : dict name -> values; must include ``batch_size`` and ``learning_rate``.
    folds : iterable of ``(train_idx, test_idx)`` index arrays (e.g. :func:`specnet.simulate.kfold`).
    epochs, seed : int
    run_eagerly : bool -- passed to :func:`fit_keras`.
    on_step : callable(str), optional -- called with a progress line after each combination.

    Returns
    -------
    dict
        ``results``: one row per combination (the parameters, ``mean_accuracy``,
        ``std_accuracy``, ``fold_accuracies``, ``fit_s``), ``best_params``,
        ``best_accuracy``, ``n_folds``, ``n_fits``.
    """
    missing = {"batch_size", "learning_rate"} - set(grid)
    if missing:
        raise ValueError(f"grid must include batch_size and learning_rate. Received: grid keys={sorted(grid)}")
    folds = [(np.asarray(a), np.asarray(b)) for a, b in folds]
    if len(folds) < 2:
        raise ValueError(f"cross-validation needs at least 2 folds. Received: {len(folds)} fold(s)")
    y = np.asarray(y)
    rows = []
    for c, params in enumerate(grid_combinations(grid)):
        accs, fit_s = [], 0.0
        for f, (tr, te) in enumerate(folds):
            set_seed(seed + 1000 * c + f)
            model = build(params)
            out = fit_keras(model, X[tr], y[tr], loss="sparse_categorical_crossentropy", epochs=epochs,
                            batch_size=params["batch_size"], learning_rate=params["learning_rate"],
                            seed=seed + 1000 * c + f, run_eagerly=run_eagerly)
            pred = np.argmax(model.predict(X[te], batch_size=256, verbose=0), axis=1)
            accs.append(float(np.mean(pred == y[te])))
            fit_s += out["fit_s"]
        row = {**params, "mean_accuracy": float(np.mean(accs)), "std_accuracy": float(np.std(accs)),
               "fold_accuracies": accs, "fit_s": fit_s}
        rows.append(row)
        if on_step:
            on_step(f"{params} -> CV accuracy {row['mean_accuracy']:.3f} ± {row['std_accuracy']:.3f}")
    best = max(range(len(rows)), key=lambda i: (rows[i]["mean_accuracy"], -i))
    best_params = {k: rows[best][k] for k in sorted(grid)}
    return {"results": rows, "best_params": best_params, "best_accuracy": rows[best]["mean_accuracy"],
            "n_folds": len(folds), "n_fits": len(rows) * len(folds)}


# ----------------------------------------------------------------------------- output
def to_jsonable(obj):
    """A plain-JSON copy of ``obj``: numpy → Python, NaN/inf → ``None``, tuples → lists, Paths → str.

    >>> to_jsonable({"a": np.float32(0.5), "b": [np.nan, 2], "c": (1, 2)})
    {'a': 0.5, 'b': [None, 2], 'c': [1, 2]}
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def table_entry(title: str, columns: Mapping[str, str], rows: list[dict], note: str = "") -> dict:
    """A table as stored in ``results.json``: title, ``columns`` (key → header), rows, note."""
    return {"title": title, "columns": dict(columns), "rows": rows, "note": note}


def render_table(entry: Mapping, floatfmt: str = ".3f") -> str:
    """Markdown of a :func:`table_entry` (heading, table by :func:`specnet.report.markdown_table`, note)."""
    from specnet.report import markdown_table

    parts = [f"### {entry['title']}", "", markdown_table(entry["rows"], entry["columns"], floatfmt=floatfmt)]
    if entry.get("note"):
        parts += ["", entry["note"]]
    return "\n".join(parts) + "\n"


def write_results(out_dir, results: dict, markdown: str) -> tuple[Path, Path]:
    """Write ``results.json`` (plain JSON, no NaN) and ``tables.md`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "results.json", out / "tables.md"
    json_path.write_text(json.dumps(to_jsonable(results), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown, encoding="utf-8")
    return json_path, md_path
