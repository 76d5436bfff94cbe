"""Survey-scale ingest: FITS files → preprocessed, sharded, compressed training data.

:func:`ingest` reads every file of a catalogue (or folder) in parallel worker
processes, preprocesses it onto the model's grid with a
:class:`~specnet.preprocess.PreprocessConfig`, and writes GZIP TFRecord shards
(:mod:`specnet.data.shards`) plus ``manifest.json`` and ``rejects.csv`` into
``out_dir``. FITS parsing happens once, here; training then streams the shards
(:func:`specnet.data.make_dataset`) and never waits for it.

How it scales
-------------
* Files are sorted by path and cut into shards of ``shard_size`` files
  (shard *k* = files ``k·shard_size … (k+1)·shard_size − 1``), so the
  assignment is deterministic and a rerun finds the same shards.
* Each shard is cut into chunks of ``chunk_size`` files; a chunk is one task
  for a ``concurrent.futures.ProcessPoolExecutor`` worker, which reads,
  checks and preprocesses its files and returns the *serialised* records
  (workers never import TensorFlow). At most ``2·n_jobs`` chunks are in
  flight and results are written in order, so memory stays flat whatever the
  catalogue size (a few MB per chunk).
* Resumable: a shard is written under a temporary name and atomically renamed
  when complete, after its sidecar ``.ingest/<shard>.json`` (count, rejects,
  and a key hashing the config and the shard's file list). A rerun skips
  every shard whose file and matching sidecar exist; a killed job therefore
  redoes at most the shards that were in progress.
* Never stops for one bad file: unreadable files (``SpectrumFormatError``),
  unusable labels (``LabelError``, or not in ``classes``), spectra with no
  usable pixel (NaN-only flux), grid coverage below ``min_coverage``, and any
  other per-file exception become rows of ``rejects.csv`` (path, reason).

Example
-------
>>> from specnet.preprocess import PreprocessConfig
>>> from specnet.data import ingest, make_dataset
>>> res = ingest("mock/catalogue.csv", PreprocessConfig(), "shards/")  # doctest: +SKIP
>>> res.n_examples, res.n_rejected  # doctest: +SKIP
(19987, 13)
>>> ds = make_dataset("shards/", batch_size=64)  # doctest: +SKIP
"""
from __future__ import annotations

import collections
import csv
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from specnet.data.catalogue import TASKS, Catalogue, infer_classes, label_to_target, read_catalogue
from specnet.data.shards import (FORMAT_VERSION, MANIFEST_NAME, SHARD_SUFFIX, X_DTYPES, encode_records,
                                 layout_fields, shard_name, versions, write_json_atomic)
from specnet.errors import LabelError, SpectrumFormatError

REJECTS_NAME = "rejects.csv"
STATE_DIR = ".ingest"


@dataclasses.dataclass
class IngestResult:
    """What :func:`ingest` did.

    Attributes
    ----------
    out_dir : Path
    manifest : dict
        The contents of ``out_dir/manifest.json``.
    n_examples, n_rejected : int
        Spectra written to shards / rows in ``rejects.csv``.
    shards : list of Path
        Every shard file (in order, including empty ones).
    rejects_path : Path
    n_shards_written, n_shards_skipped : int
        Shards (re)written in this run / found complete and skipped (resume).
    elapsed_s : float
    """

    out_dir: Path
    manifest: dict
    n_examples: int
    n_rejected: int
    shards: list[Path]
    rejects_path: Path
    n_shards_written: int
    n_shards_skipped: int
    elapsed_s: float

    def rejects(self) -> list[dict]:
        """Rows of ``rejects.csv`` as dicts (path, reason)."""
        with open(self.rejects_path, newline="") as fh:
            return list(csv.DictReader(fh))


# ------------------------------------------------------------------ worker side
_W: dict[str, Any] = {}


def _init_worker(config, task: str, classes, min_coverage: float, x_dtype: str) -> None:
    """Per-process state (set once per worker, not pickled per task)."""
    import specnet.io  # noqa: F401  (registers the readers)

    _W.update(config=config, task=task, classes=classes, min_coverage=min_coverage, x_dtype=x_dtype)


def _process_chunk(rows: Sequence[tuple[str, str | None]]) -> tuple[list[bytes], list[tuple[str, str]]]:
    """Read, check and preprocess one chunk of ``(path, label)`` rows in a worker.

    Returns the serialised records of the good spectra (in row order) and the
    ``(path, reason)`` rejects.
    """
    from specnet.io import read_spectrum
    from specnet.preprocess import coverage, preprocess

    config, task, classes = _W["config"], _W["task"], _W["classes"]
    rejects: list[tuple[str, str]] = []
    kept: list[tuple[str, Any, Any]] = []  # (path, spectrum, target)
    for path, label in rows:
        target = None
        if label is not None:  # catalogue label: check before paying for the read
            try:
                target = label_to_target(label, task, classes)
            except LabelError as exc:
                rejects.append((path, f"label: {exc}"))
                continue
        try:
            spec = read_spectrum(path)
        except SpectrumFormatError as exc:
            rejects.append((path, f"read: {exc}"))
            continue
        except Exception as exc:  # never stop the job for one file
            rejects.append((path, f"read: {type(exc).__name__}: {exc}"))
            continue
        if label is None:
            header_label = spec.meta.get("subclass")
            try:
                target = label_to_target(header_label, task, classes)
            except LabelError as exc:
                rejects.append((path, f"label (file header): {exc}"))
                continue
        if not spec.good.any():
            rejects.append((path, "flux: no usable pixel (all NaN/inf or ivar <= 0)"))
            continue
        kept.append((path, spec, target))

    results: list[tuple[str, np.ndarray, np.ndarray, Any, Any]] = []
    if kept:
        try:
            X, M = preprocess([k[1] for k in kept], config)
            per = [(X[i], M[i]) for i in range(len(kept))]
        except Exception:  # one bad spectrum spoils the batch: redo one by one
            per = []
            for path, spec, _ in kept:
                try:
                    x, m = preprocess([spec], config)
                    per.append((x[0], m[0]))
                except Exception as exc:
                    per.append((f"preprocess: {type(exc).__name__}: {exc}", None))
        for (path, spec, target), (x, m) in zip(kept, per):
            if m is None:
                rejects.append((path, x))
                continue
            if not np.all(np.isfinite(x)):
                rejects.append((path, "preprocess: non-finite values in the output"))
                continue
            cov = coverage(m)
            if cov < _W["min_coverage"]:
                rejects.append((path, f"coverage: {cov:.3f} of the grid is usable (< min_coverage "
                                      f"{_W['min_coverage']:.3f})"))
                continue
            results.append((path, x, m, target, spec.meta.get("id")))
    if not results:
        return [], rejects
    mask_channel = config.mask_channel
    flux = np.stack([r[1][..., :-1] if mask_channel else r[1] for r in results])
    mask = np.stack([r[2] for r in results])
    labels = [r[3] for r in results]
    ids = [r[4] if r[4] is not None else Path(r[0]).name for r in results]
    records = encode_records(flux, mask, labels, ids, [r[0] for r in results], task, _W["x_dtype"])
    return records, rejects


# ------------------------------------------------------------------- main side
def _shard_key(config_dict: dict, task: str, classes, min_coverage: float, x_dtype: str,
               rows: Sequence[tuple[str, str | None]]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"v": FORMAT_VERSION, "config": config_dict, "task": task, "classes": classes,
                         "min_coverage": min_coverage, "x_dtype": x_dtype}, sort_keys=True).encode())
    for path, label in rows:
        h.update(f"{path}\x00{label}\x01".encode())
    return h.hexdigest()


def _mp_context(name: str | None):
    if name is not None:
        return multiprocessing.get_context(name)
    # fork is fastest, but unsafe once TensorFlow's threads exist in this process
    if sys.platform.startswith("linux") and "tensorflow" not in sys.modules:
        return multiprocessing.get_context("fork")
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # the fork server imports the readers once; every worker forks from it ready to go
    ctx.set_forkserver_preload(["specnet.data.ingest", "specnet.io", "specnet.preprocess"])
    return ctx


def _validate(config, task, classes, shard_size, n_jobs, min_coverage, x_dtype, chunk_size) -> None:
    from specnet.preprocess import PreprocessConfig

    if not isinstance(config, PreprocessConfig):
        raise ValueError(f"ingest needs a PreprocessConfig. Received: config={config!r}")
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}. Received: task={task!r}")
    if classes is not None and (isinstance(classes, str) or not all(isinstance(c, str) for c in classes)
                                or len(set(classes)) != len(classes) or not classes):
        raise ValueError(f"classes must be a list of distinct class names. Received: classes={classes!r}")
    for name, v in (("shard_size", shard_size), ("chunk_size", chunk_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be -1 (all cores) or a positive integer. Received: n_jobs={n_jobs!r}")
    if not (isinstance(min_coverage, (int, float)) and 0 <= min_coverage <= 1):
        raise ValueError(f"min_coverage must be in [0, 1]. Received: min_coverage={min_coverage!r}")
    if x_dtype not in X_DTYPES:
        raise ValueError(f"x_dtype must be one of {X_DTYPES}. Received: x_dtype={x_dtype!r}")


def _clean_stale(out_dir: Path, state_dir: Path, keep: set[str]) -> None:
    for p in out_dir.glob(f"shard-*-of-*{SHARD_SUFFIX}"):
        if p.name not in keep:
            p.unlink()
    for p in list(out_dir.glob(f".shard-*{SHARD_SUFFIX}.tmp")) + list(state_dir.glob(".*.tmp")):
        p.unlink()
    for p in state_dir.glob("shard-*.json"):
        if p.name[: -len(".json")] + SHARD_SUFFIX not in keep:
            p.unlink()


def ingest(catalogue_or_folder, config, out_dir, task: str = "regression", classes: Sequence[str] | None = None,
           shard_size: int = 4096, n_jobs: int = -1, progress: bool = True, *, min_coverage: float = 0.5,
           x_dtype: str = "float16", chunk_size: int = 32, label_column: str | None = None,
           path_column: str = "path", mp_context: str | None = None) -> IngestResult:
    """Read, preprocess and shard a catalogue of spectra (parallel, resumable; see the module docstring).

    Parameters
    ----------
    catalogue_or_folder : str, PathLike or Catalogue
        A CSV with ``path`` and a label column, a folder holding ``catalogue.csv``,
        or a folder of FITS files (labels from their headers); see
        :func:`specnet.data.catalogue.read_catalogue`.
    config : PreprocessConfig
        The model's data config (grid, normalisation, mask channel...).
    out_dir : str or PathLike
        Where shards, ``manifest.json`` and ``rejects.csv`` go (created). Give each
        shard set its own folder: shards left there by an earlier run with another
        shard count are deleted.
    task : {"regression", "classification"}
        Regression labels are subtypes (O0=0 … M9=69); classification labels class indices.
    classes : list of str, optional
        Class names (classification). By default the sorted distinct types of
        the catalogue's labels (needs labels in the catalogue).
    shard_size : int
        Files per shard (4096 ≈ 30 MB of float16 LAMOST records).
    n_jobs : int
        Worker processes; -1 = all cores; 1 = in this process.
    progress : bool
        Show a tqdm bar (rate and ETA).
    min_coverage : float
        Reject spectra with a smaller usable fraction of the grid.
    x_dtype : {"float16", "float32"}
        Storage precision of the flux (float16 halves the size; normalised flux
        is clipped to ±clip, where float16 keeps ~3 significant digits).
    chunk_size : int
        Files per worker task.
    label_column, path_column : str
        Catalogue columns (see :func:`~specnet.data.catalogue.read_catalogue`).
    mp_context : str, optional
        ``"fork"``, ``"forkserver"`` or ``"spawn"``; by default fork unless
        TensorFlow is already imported in this process (then forkserver).

    Returns
    -------
    IngestResult
    """
    t0 = time.perf_counter()
    _validate(config, task, classes, shard_size, n_jobs, min_coverage, x_dtype, chunk_size)
    cat: Catalogue = read_catalogue(catalogue_or_folder, label_column=label_column, path_column=path_column)
    if task == "classification" and classes is None:
        if any(lab is None for lab in cat.labels):
            raise ValueError("classification from file-header labels needs explicit classes. Received: classes=None")
        classes = infer_classes(cat.labels)
        if not classes:
            raise ValueError(f"no MK-type labels in the catalogue to infer classes from. "
                             f"Received: catalogue_or_folder={str(catalogue_or_folder)!r}")
    classes = list(classes) if classes is not None else None
    out_dir = Path(out_dir)
    state_dir = out_dir / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)

    rows = cat.rows()
    n_files = len(rows)
    total = max(1, math.ceil(n_files / shard_size))
    names = [shard_name(k, total) for k in range(total)]
    _clean_stale(out_dir, state_dir, set(names))
    config_dict = config.to_dict()
    shard_rows = [rows[k * shard_size:(k + 1) * shard_size] for k in range(total)]
    keys = [_shard_key(config_dict, task, classes, min_coverage, x_dtype, r) for r in shard_rows]

    def sidecar(k: int) -> Path:
        return state_dir / (names[k][: -len(SHARD_SUFFIX)] + ".json")

    done: dict[int, dict] = {}
    for k in range(total):
        if (out_dir / names[k]).is_file() and sidecar(k).is_file():
            try:
                info = json.loads(sidecar(k).read_text())
            except (OSError, ValueError):
                continue
            if info.get("key") == keys[k]:
                done[k] = info
    todo = [k for k in range(total) if k not in done]

    from tqdm.auto import tqdm

    bar = tqdm(total=n_files, initial=sum(len(shard_rows[k]) for k in done), unit="spec", desc="ingest",
               disable=not progress, smoothing=0.1, dynamic_ncols=True)
    n_rej = sum(len(done[k]["rejects"]) for k in done)
    written = 0
    init_args = (config, task, classes, float(min_coverage), x_dtype)
    n_chunks = [max(1, math.ceil(len(r) / chunk_size)) for r in shard_rows]
    n_tasks = sum(n_chunks[k] for k in todo)
    tasks = ((k, c, n_chunks[k], shard_rows[k][c * chunk_size:(c + 1) * chunk_size])
             for k in todo for c in range(n_chunks[k]))
    workers = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
    workers = max(1, min(workers, n_tasks))
    pool = None
    writer = None
    try:
        if n_tasks and workers > 1:
            pool = ProcessPoolExecutor(workers, mp_context=_mp_context(mp_context),
                                       initializer=_init_worker, initargs=init_args)
        else:
            _init_worker(*init_args)
        window: collections.deque = collections.deque()

        def submit_next() -> bool:
            try:
                k, c, nc, chunk = next(tasks)
            except StopIteration:
                return False
            fut = pool.submit(_process_chunk, chunk) if pool is not None else None
            window.append((k, c, nc, chunk, fut))
            return True

        for _ in range(2 * workers):
            if not submit_next():
                break
        from specnet.data.shards import ShardWriter  # imports TensorFlow, after workers have forked

        shard_rejects: list[tuple[str, str]] = []
        while window:
            k, c, nc, chunk, fut = window.popleft()
            records, rejects = fut.result() if fut is not None else _process_chunk(chunk)
            submit_next()
            if c == 0:
                writer = ShardWriter(out_dir / names[k])
                shard_rejects = []
            writer.write(records)
            shard_rejects.extend(rejects)
            n_rej += len(rejects)
            bar.update(len(chunk))
            bar.set_postfix(rejects=n_rej, refresh=False)
            if c == nc - 1:
                info = {"shard": names[k], "count": writer.count, "files": len(shard_rows[k]),
                        "rejects": shard_rejects, "key": keys[k]}
                write_json_atomic(sidecar(k), info)  # sidecar first: a shard file never lacks one
                writer.close()
                writer = None
                done[k] = info
                written += 1
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        if writer is not None:
            writer.abort()
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        bar.close()

    shards_info = [{"file": names[k], "count": done[k]["count"], "files": done[k]["files"]} for k in range(total)]
    rejects_path = out_dir / REJECTS_NAME
    tmp = rejects_path.with_name("." + REJECTS_NAME + ".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "reason"])
        for k in range(total):
            w.writerows(done[k]["rejects"])
    os.replace(tmp, rejects_path)
    n_examples = sum(s["count"] for s in shards_info)
    n_rejected = sum(len(done[k]["rejects"]) for k in range(total))
    grid = config.grid
    manifest = {
        **layout_fields(grid.npix, config.n_channels - int(config.mask_channel), config.mask_channel, x_dtype,
                        task, classes, grid.log_step, config.fill, config.clip),
        "config": config_dict,
        "shards": shards_info,
        "n_examples": n_examples,
        "n_rejects": n_rejected,
        "n_files": n_files,
        "rejects_file": REJECTS_NAME,
        "min_coverage": float(min_coverage),
        "shard_size": int(shard_size),
        "source": str(cat.source),
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json_atomic(out_dir / MANIFEST_NAME, manifest)
    manifest["_dir"] = str(out_dir)
    return IngestResult(out_dir, manifest, n_examples, n_rejected, [out_dir / n for n in names], rejects_path,
                        written, total - written, time.perf_counter() - t0)
