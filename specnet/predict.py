"""Survey-scale batch prediction: the logic behind ``specnet-predict`` (no click here).

:func:`predict_files` streams FITS files through a zoo model: worker processes
read and parse files in chunks while the model classifies the previous chunk,
rows are appended to the output as they come, memory stays flat whatever the
number of files, a rerun skips the files already written (resume), and files
that cannot be read go to a rejects CSV with the reason.

Example
-------
>>> from specnet.predict import predict_files
>>> predict_files("resnet-lamost", ["a.fits", "b.fits"], "out.csv")  # doctest: +SKIP
{'written': 2, 'skipped': 0, 'rejected': 0, ...}
"""
from __future__ import annotations

import csv
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

from specnet.errors import SpectrumFormatError

OUTPUT_SUFFIXES = (".csv", ".fits", ".parquet")


def read_paths(catalog: str | os.PathLike) -> list[str]:
    """The ``path`` column of a catalogue CSV, made absolute relative to the CSV's folder."""
    catalog = Path(catalog)
    with open(catalog, newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise ValueError(f"{catalog}: a catalogue needs a 'path' column. Received columns: {reader.fieldnames}")
        return [str((catalog.parent / row["path"]).resolve()) if not os.path.isabs(row["path"]) else row["path"]
                for row in reader]


def _read_chunk(paths: list[str]):
    """Worker: read every path; return (spectra, rejects). Never raises for a bad file."""
    from specnet.io import read_spectrum

    good, bad = [], []
    for p in paths:
        try:
            good.append(read_spectrum(p))
        except (SpectrumFormatError, OSError) as exc:
            bad.append((p, str(exc)))
    return good, bad


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _bounded_map(pool, chunks, in_flight: int):
    """``pool.map(_read_chunk, chunks)`` in order, with at most ``in_flight`` chunks read ahead.

    ``Executor.map`` submits every chunk at once, so parsed spectra would pile up
    whenever the model is slower than the readers; this keeps memory flat.
    """
    from collections import deque

    pending = deque()
    for chunk in chunks:
        pending.append(pool.submit(_read_chunk, chunk))
        if len(pending) >= in_flight:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _done_paths(partial: Path, rejects: Path) -> set[str]:
    done = set()
    for f in (partial, rejects):
        if f.exists():
            with open(f, newline="") as fh:
                done.update(row["path"] for row in csv.DictReader(fh) if row.get("path"))
    return done


def _rows(table, classes) -> list[dict]:
    rows = []
    for i in range(len(table)):
        row = {k: table[k][i] for k in table.colnames if k != "proba"}
        if "proba" in table.colnames and classes:
            row.update({f"proba_{c}": float(p) for c, p in zip(classes, table["proba"][i])})
        rows.append({k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return rows


def predict_files(model, files: Iterable[str] | str | os.PathLike, output: str | os.PathLike, *,
                  batch_size: int = 256, n_jobs: int = 1, rejects: str | os.PathLike | None = None,
                  progress: bool = True) -> dict:
    """Classify ``files`` with ``model`` and write one row per readable file to ``output``.

    Parameters
    ----------
    model : str, path or ZooModel
        Zoo name, model directory, or a loaded :class:`specnet.zoo.ZooModel`.
    files : iterable of paths, or a catalogue CSV path (column ``path``)
    output : path
        ``.csv`` (written as it goes), ``.fits`` or ``.parquet`` (streamed to
        ``OUTPUT.partial.csv`` and converted at the end).
    batch_size : int
        Files per chunk (read by a worker, classified in one batch).
    n_jobs : int
        Reader processes (``-1`` = all cores); 1 reads in this process.
    rejects : path, optional
        Rejects CSV (``path,reason``); default ``OUTPUT`` with ``.rejects.csv``.

    Returns
    -------
    dict with ``written``, ``skipped`` (already in the output: resume), ``rejected``, ``output``, ``rejects``.
    """
    from specnet import zoo

    output = Path(output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"output must end in one of {OUTPUT_SUFFIXES}. Received: output={str(output)!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    zm = zoo.load(model) if isinstance(model, (str, os.PathLike)) else model
    if isinstance(files, (str, os.PathLike)) and str(files).lower().endswith(".csv"):
        paths = read_paths(files)
    else:
        paths = [str(p) for p in files]
    partial = output if output.suffix.lower() == ".csv" else output.with_name(output.name + ".partial.csv")
    rejects = Path(rejects) if rejects else output.with_name(output.stem + ".rejects.csv")
    output.parent.mkdir(parents=True, exist_ok=True)
    if partial != output and output.exists() and not partial.exists():
        _table_read(output).write(partial, format="ascii.csv")  # resume a finished .fits/.parquet run
    done = _done_paths(partial, rejects)
    todo = [p for p in paths if p not in done]
    classes = zm.classes if zm.task == "classification" else None
    stats = {"written": 0, "skipped": len(paths) - len(todo), "rejected": 0,
             "output": str(output), "rejects": str(rejects)}

    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), unit="spec", disable=not progress, desc="specnet-predict")
    n_jobs = os.cpu_count() if n_jobs == -1 else max(1, n_jobs)
    chunks = _chunks(todo, batch_size)
    pool = ProcessPoolExecutor(n_jobs) if n_jobs > 1 else None
    try:
        results = _bounded_map(pool, chunks, 2 * n_jobs) if pool else map(_read_chunk, chunks)
        writer = fh = None
        rej_new = not rejects.exists()
        with open(rejects, "a", newline="") as rfh:
            rw = csv.writer(rfh)
            if rej_new:
                rw.writerow(["path", "reason"])
            for spectra, bad in results:
                for p, why in bad:
                    rw.writerow([p, why])
                rfh.flush()
                stats["rejected"] += len(bad)
                if spectra:
                    rows = _rows(zm.classify(spectra), classes)
                    if writer is None:
                        new = not partial.exists() or partial.stat().st_size == 0
                        fh = open(partial, "a", newline="")
                        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                        if new:
                            writer.writeheader()
                    writer.writerows(rows)
                    fh.flush()
                    stats["written"] += len(rows)
                bar.update(len(spectra) + len(bad))
        if fh is not None:
            fh.close()
    finally:
        bar.close()
        if pool:
            pool.shutdown()
    if partial != output and partial.exists():
        _convert(partial, output)
    return stats


def _table_read(path: Path):
    from astropy.table import Table

    return Table.read(path, format="parquet" if path.suffix.lower() == ".parquet" else None)


def _convert(partial: Path, output: Path) -> None:
    from astropy.table import Table

    table = Table.read(partial, format="ascii.csv")
    if output.suffix.lower() == ".fits":
        table.write(output, overwrite=True)
    else:
        try:
            table.write(output, format="parquet", overwrite=True)
        except ImportError as exc:
            raise ImportError(f"writing {output} needs pyarrow (pip install pyarrow); the rows are safe in "
                              f"{partial}") from exc
    partial.unlink()

