"""Fetch the real SDSS DR10 K, F and G stars of Liu & Wang (2022) with astroquery (needs the network).

Liu & Wang (2022) classify SDSS DR10 stellar spectra into the subclasses of the SDSS
pipeline (``SpecObj.subClass``, the spEigenStar-53724 template names) in three sets, each
drawn from an S/N window (``snMedian``, the median S/N over all good pixels, stored as
``SN_MEDIAN_ALL`` in the spectrum files):

=====  ==========  ===========================================
set    subclass    S/N window (snMedian)
=====  ==========  ===========================================
K      K1, K3,     60–65 (all four)
       K5, K7
F      F2          50–65
       F5          65–70
       F9          75–80
G      G0          55–65
       G2          60–65
       G5          40–70
=====  ==========  ===========================================

The windows are read per subclass, in the order the brief lists them; edit
:data:`SNR_WINDOWS` if your reading of the paper differs.

Steps, each a function so that only the first needs the network:

1. :func:`build_sql` -- one CasJobs/SkyServer SQL query per subclass (``class = 'STAR'``,
   ``zWarning = 0``, the subclass, its S/N window), run with ``astroquery.sdss.SDSS.query_sql``
   (:func:`query_candidates`);
2. :func:`select_rows` -- checks class, subclass and S/N again on the returned rows and draws
   ``n_per_class`` per subclass with a seed;
3. :func:`download` -- ``SDSS.get_spectra(plate=, mjd=, fiberID=)`` per star, writes
   ``spectra/spec-PLATE-MJD-FIBER.fits`` (files already there are kept: re-running resumes),
   then re-reads each file's ``SPECOBJ`` HDU (:func:`read_specobj`) and keeps it only if it
   still passes :func:`select_rows`;
4. :func:`write_catalogue` -- ``catalogue.csv`` (``path,label,task,snr,plate,mjd,fiberid``),
   which ``python examples/sdss_kfg/run.py --data OUT`` reads.

``astroquery`` is an optional extra (``pip install specnet-stars[examples]``). Example::

    python examples/sdss_kfg/fetch_sdss.py --dry-run                  # print the SQL, no network
    python examples/sdss_kfg/fetch_sdss.py --out data/sdss_kfg --n-per-class 500
    python examples/sdss_kfg/run.py --data data/sdss_kfg

A local copy of the SAS spectra (``--mirror DIR``, files named ``spec-PLATE-MJD-FIBER.fits``
anywhere below ``DIR``) replaces the download step.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

#: Liu & Wang (2022): the three classification sets and their SDSS subclasses.
PAPER_TASKS: dict[str, tuple[str, ...]] = {
    "K": ("K1", "K3", "K5", "K7"),
    "F": ("F2", "F5", "F9"),
    "G": ("G0", "G2", "G5"),
}

#: S/N window (snMedian = SN_MEDIAN_ALL, inclusive) of each subclass.
SNR_WINDOWS: dict[str, tuple[float, float]] = {
    "K1": (60.0, 65.0), "K3": (60.0, 65.0), "K5": (60.0, 65.0), "K7": (60.0, 65.0),
    "F2": (50.0, 65.0), "F5": (65.0, 70.0), "F9": (75.0, 80.0),
    "G0": (55.0, 65.0), "G2": (60.0, 65.0), "G5": (40.0, 70.0),
}

#: The SDSS data release of the paper.
DATA_RELEASE = 10

#: SpecObj columns the queries return.
SQL_COLUMNS = ("specObjID", "plate", "mjd", "fiberID", "run2d", "class", "subClass", "snMedian", "zWarning")

CATALOGUE_COLUMNS = ("path", "label", "task", "snr", "plate", "mjd", "fiberid")


def _task_classes(task: str) -> tuple[str, ...]:
    key = str(task).upper()
    if key not in PAPER_TASKS:
        raise ValueError(f"task must be one of {sorted(PAPER_TASKS)}. Received: task={task!r}")
    return PAPER_TASKS[key]


def _window(subclass: str, windows: Mapping[str, Sequence[float]]) -> tuple[float, float]:
    if subclass not in windows:
        raise ValueError(f"no S/N window for subclass {subclass!r}. Received: windows for {sorted(windows)}")
    lo, hi = (float(v) for v in windows[subclass])
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo <= hi):
        raise ValueError(f"S/N window must be 0 <= lo <= hi. Received: {subclass}={windows[subclass]!r}")
    return lo, hi


# ----------------------------------------------------------------------------- 1. SQL
def build_sql(subclass: str, top: int | None = None, windows: Mapping[str, Sequence[float]] = SNR_WINDOWS) -> str:
    """SkyServer SQL selecting the science-primary STAR spectra of one subclass in its S/N window.

    ``SpecObj`` is the view of ``SpecObjAll`` restricted to science-primary spectra;
    ``zWarning = 0`` drops fits the pipeline flagged (sky fibres, bad spectra). Rows are
    ordered by ``specObjID`` so ``TOP`` is reproducible.

    Parameters
    ----------
    subclass : str
        One of the paper's subclasses (``"K1"``, ``"F5"``, ...; keys of :data:`SNR_WINDOWS`).
    top : int, optional
        Return at most this many rows (``SELECT TOP n``).
    windows : dict subclass -> (lo, hi)
        The S/N windows (inclusive).

    Example
    -------
    >>> print(build_sql("K1", top=10).splitlines()[0])
    SELECT TOP 10 s.specObjID, s.plate, s.mjd, s.fiberID, s.run2d, s.class, s.subClass, s.snMedian, s.zWarning
    >>> "s.snMedian BETWEEN 60 AND 65" in build_sql("K1")
    True
    """
    if not isinstance(subclass, str) or not subclass.isalnum():
        raise ValueError(f"subclass must be a plain subclass name such as 'K1'. Received: subclass={subclass!r}")
    lo, hi = _window(subclass, windows)
    if top is not None and (isinstance(top, bool) or int(top) != top or top < 1):
        raise ValueError(f"top must be a positive int or None. Received: top={top!r}")
    head = "SELECT " + (f"TOP {int(top)} " if top else "") + ", ".join(f"s.{c}" for c in SQL_COLUMNS)
    return "\n".join([
        head,
        "FROM SpecObj AS s",
        "WHERE s.class = 'STAR' AND s.zWarning = 0",
        f"  AND s.subClass = '{subclass}'",
        f"  AND s.snMedian BETWEEN {lo:g} AND {hi:g}",
        "ORDER BY s.specObjID",
    ])


def task_queries(task: str, top_per_class: int | None = None,
                 windows: Mapping[str, Sequence[float]] = SNR_WINDOWS) -> dict[str, str]:
    """``{subclass: SQL}`` for every subclass of a set (``"K"``, ``"F"`` or ``"G"``).

    >>> sorted(task_queries("F"))
    ['F2', 'F5', 'F9']
    """
    return {c: build_sql(c, top_per_class, windows) for c in _task_classes(task)}


def query_candidates(task: str, top_per_class: int | None = None, data_release: int = DATA_RELEASE,
                     client=None, windows: Mapping[str, Sequence[float]] = SNR_WINDOWS) -> list[dict]:
    """Run :func:`task_queries` with ``client.query_sql`` (default ``astroquery.sdss.SDSS``): network.

    Returns the rows as dicts normalised by :func:`normalise_row`.
    """
    if client is None:
        client = _astroquery_sdss()
    rows: list[dict] = []
    for subclass, sql in task_queries(task, top_per_class, windows).items():
        table = client.query_sql(sql, data_release=data_release)
        if table is None:  # astroquery returns None for an empty result
            continue
        rows += [normalise_row(r) for r in table]
    return rows


def _astroquery_sdss():
    try:
        from astroquery.sdss import SDSS
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise SystemExit("fetch_sdss needs astroquery: pip install 'specnet-stars[examples]' "
                         "(or pip install astroquery)") from exc
    return SDSS


# ----------------------------------------------------------------------------- 2. selection
_ALIASES = {
    "plate": ("plate", "PLATE"),
    "mjd": ("mjd", "MJD"),
    "fiberid": ("fiberID", "fiberid", "FIBERID"),
    "class": ("class", "CLASS"),
    "subclass": ("subClass", "subclass", "SUBCLASS"),
    "snr": ("snMedian", "snmedian", "SN_MEDIAN_ALL"),
    "zwarning": ("zWarning", "zwarning", "ZWARNING"),
    "run2d": ("run2d", "RUN2D"),
}


def _get(row, names):
    keys = row.colnames if hasattr(row, "colnames") else list(row.keys())
    for name in names:
        if name in keys:
            return row[name]
    return None


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return "" if value is None else str(value).strip()


def normalise_row(row) -> dict:
    """One query row or SPECOBJ row (astropy ``Row`` or dict) → ``{plate, mjd, fiberid, class,
    subclass, snr, zwarning, run2d}`` with plain Python types (missing values → None).

    Accepts the SkyServer names (``fiberID``, ``subClass``, ``snMedian``) and the spectrum
    file's SPECOBJ names (``FIBERID``, ``SUBCLASS``, ``SN_MEDIAN_ALL``).

    >>> normalise_row({"plate": 3128, "mjd": 54776, "fiberID": 8, "class": "STAR", "subClass": "F9 ",
    ...                "snMedian": 66.3})["subclass"]
    'F9'
    """
    out = {}
    for key, names in _ALIASES.items():
        value = _get(row, names)
        if key in ("plate", "mjd", "fiberid", "zwarning"):
            out[key] = None if value is None else int(value)
        elif key == "snr":
            out[key] = None if value is None else float(value)
        else:
            out[key] = None if value is None else _text(value)
    return out


def check_row(row: Mapping, task: str, windows: Mapping[str, Sequence[float]] = SNR_WINDOWS) -> str | None:
    """Why a normalised row does not belong to ``task`` (``None`` when it does).

    >>> check_row({"class": "STAR", "subclass": "K3", "snr": 62.0, "zwarning": 0}, "K") is None
    True
    >>> check_row({"class": "STAR", "subclass": "K3", "snr": 0.58, "zwarning": 0}, "K")
    'S/N 0.58 outside the K3 window 60-65'
    """
    classes = _task_classes(task)
    if (row.get("class") or "").upper() != "STAR":
        return f"class {row.get('class')!r} is not STAR"
    sub = row.get("subclass") or ""
    if sub not in classes:
        return f"subclass {sub!r} is not one of {list(classes)}"
    snr = row.get("snr")
    lo, hi = _window(sub, windows)
    if snr is None or not np.isfinite(snr) or not lo <= snr <= hi:
        return f"S/N {snr:.3g} outside the {sub} window {lo:g}-{hi:g}" if snr is not None else "no S/N"
    if row.get("zwarning") not in (None, 0):
        return f"zWarning {row['zwarning']} is set"
    return None


def select_rows(rows: Iterable, task: str, n_per_class: int | None = None, seed: int = 0,
                windows: Mapping[str, Sequence[float]] = SNR_WINDOWS) -> tuple[list[dict], list[dict]]:
    """Keep the rows of a set's subclasses in their S/N windows; draw ``n_per_class`` per subclass.

    Parameters
    ----------
    rows : iterable of query/SPECOBJ rows (normalised with :func:`normalise_row`)
    task : ``"K"``, ``"F"`` or ``"G"``
    n_per_class : int, optional
        Keep at most this many per subclass, drawn without replacement with ``seed`` (the
        kept rows stay in their input order).
    windows : dict subclass -> (lo, hi)

    Returns
    -------
    (selected, rejected)
        ``selected``: normalised rows with ``label`` (the subclass) and ``task`` added;
        ``rejected``: normalised rows with ``reason`` (including "over the quota").
    """
    if n_per_class is not None and (isinstance(n_per_class, bool) or int(n_per_class) != n_per_class
                                    or n_per_class < 1):
        raise ValueError(f"n_per_class must be a positive int or None. Received: n_per_class={n_per_class!r}")
    task = str(task).upper()
    good, rejected = [], []
    for raw in rows:
        row = normalise_row(raw) if not (isinstance(raw, dict) and "subclass" in raw) else dict(raw)
        reason = check_row(row, task, windows)
        if reason is None:
            good.append({**row, "label": row["subclass"], "task": task})
        else:
            rejected.append({**row, "reason": reason})
    if n_per_class is None:
        return good, rejected
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(good), bool)
    labels = np.array([r["label"] for r in good], dtype=object)
    for cls in _task_classes(task):
        idx = np.flatnonzero(labels == cls)
        if idx.size > n_per_class:
            idx = np.sort(rng.choice(idx, size=int(n_per_class), replace=False))
        keep[idx] = True
    selected = [r for r, k in zip(good, keep) if k]
    rejected += [{**r, "reason": f"over the quota of {n_per_class} per subclass"} for r, k in zip(good, keep) if not k]
    return selected, rejected


def read_specobj(path) -> dict:
    """The ``SPECOBJ`` HDU (``SPALL`` in BOSS "full" files) of an SDSS ``spec-PLATE-MJD-FIBER.fits``
    file, normalised by :func:`normalise_row`, plus ``path``.

    Raises ``ValueError`` when the file has neither table (e.g. a DR7 ``spSpec`` file).
    """
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        name = next((n for n in ("SPECOBJ", "SPALL") if n in hdul), None)
        if name is None:
            raise ValueError(f"{path}: no SPECOBJ/SPALL HDU (not an SDSS DR8+ spec file). "
                             f"Received: HDUs {[h.name for h in hdul]}")
        table = hdul[name].data
        row = {name: table[name][0] for name in table.columns.names}
    out = normalise_row(row)
    out["path"] = str(path)
    return out


# ----------------------------------------------------------------------------- 3. download
def spec_filename(plate: int, mjd: int, fiberid: int) -> str:
    """SDSS's file name of one spectrum.

    >>> spec_filename(3128, 54776, 8)
    'spec-3128-54776-0008.fits'
    """
    return f"spec-{int(plate):04d}-{int(mjd):05d}-{int(fiberid):04d}.fits"


def local_mirror(folder) -> Callable:
    """A ``get_spectra(plate=, mjd=, fiberID=, data_release=)`` serving files from a local folder.

    For a local copy of the SAS (or any folder of ``spec-PLATE-MJD-FIBER.fits`` files,
    searched recursively); returns ``[HDUList]`` like astroquery, ``None`` if absent.
    """
    from astropy.io import fits

    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"mirror must be a folder. Received: mirror={str(folder)!r}")
    index = {p.name: p for p in root.rglob("spec-*.fits")}

    def get_spectra(plate, mjd, fiberID, data_release=DATA_RELEASE, **_):
        path = index.get(spec_filename(plate, mjd, fiberID))
        return None if path is None else [fits.open(path, memmap=False)]

    return get_spectra


def download(rows: Sequence[Mapping], out_dir, get_spectra: Callable | None = None,
             data_release: int = DATA_RELEASE, windows: Mapping[str, Sequence[float]] = SNR_WINDOWS,
             overwrite: bool = False, log: Callable[[str], None] = print) -> tuple[list[dict], list[dict]]:
    """Write each selected star to ``out_dir/spectra/`` and verify it from its own header.

    ``get_spectra`` defaults to ``astroquery.sdss.SDSS.get_spectra`` (network). Existing
    files are reused unless ``overwrite``. Each file's SPECOBJ row must match the queried
    plate/MJD/fibre and still pass :func:`check_row` for its set.

    Returns ``(kept, failed)``: kept rows carry ``path`` (relative to ``out_dir``) and the
    file's own ``snr``; failed rows carry ``reason``.
    """
    if get_spectra is None:
        get_spectra = _astroquery_sdss().get_spectra
    folder = Path(out_dir) / "spectra"
    folder.mkdir(parents=True, exist_ok=True)
    kept, failed = [], []
    for i, row in enumerate(rows):
        name = spec_filename(row["plate"], row["mjd"], row["fiberid"])
        path = folder / name
        if overwrite or not path.is_file():
            try:
                got = get_spectra(plate=row["plate"], mjd=row["mjd"], fiberID=row["fiberid"], data_release=data_release)
            except Exception as exc:  # noqa: BLE001 - network errors come in many types
                failed.append({**row, "reason": f"download failed: {type(exc).__name__}: {exc}"})
                continue
            if not got:
                failed.append({**row, "reason": "no spectrum returned"})
                continue
            with got[0] as hdul:
                hdul.writeto(path, overwrite=True)
        try:
            own = read_specobj(path)
        except (OSError, ValueError) as exc:
            failed.append({**row, "reason": f"unreadable file: {exc}"})
            continue
        if (own["plate"], own["mjd"], own["fiberid"]) != (row["plate"], row["mjd"], row["fiberid"]):
            failed.append({**row, "reason": f"file is {own['plate']}-{own['mjd']}-{own['fiberid']}"})
            continue
        reason = check_row(own, row["task"], windows)
        if reason is not None:
            failed.append({**row, "reason": f"file header: {reason}"})
            continue
        kept.append({**row, "path": f"spectra/{name}", "snr": own["snr"]})
        if (i + 1) % 100 == 0:
            log(f"  {i + 1}/{len(rows)} spectra")
    return kept, failed


# ----------------------------------------------------------------------------- 4. catalogue
def write_catalogue(rows: Sequence[Mapping], out_dir) -> Path:
    """``out_dir/catalogue.csv`` with columns :data:`CATALOGUE_COLUMNS` (paths relative to ``out_dir``)."""
    path = Path(out_dir) / "catalogue.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CATALOGUE_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k) for k in CATALOGUE_COLUMNS})
    return path


def fetch(tasks: Sequence[str], out_dir, n_per_class: int | None = 500, seed: int = 0,
          data_release: int = DATA_RELEASE, top_per_class: int | None = None, client=None,
          get_spectra: Callable | None = None, log: Callable[[str], None] = print) -> dict:
    """Query, select, download and catalogue the stars of ``tasks``; returns a summary dict."""
    all_kept, summary = [], {"tasks": {}, "data_release": data_release, "seed": seed}
    for task in tasks:
        task = str(task).upper()
        log(f"{task}: querying SDSS DR{data_release} ({', '.join(PAPER_TASKS[task])})")
        rows = query_candidates(task, top_per_class, data_release, client)
        selected, rejected = select_rows(rows, task, n_per_class, seed)
        log(f"{task}: {len(rows)} candidates, {len(selected)} selected; downloading")
        kept, failed = download(selected, out_dir, get_spectra, data_release, log=log)
        counts = {c: sum(r["label"] == c for r in kept) for c in PAPER_TASKS[task]}
        summary["tasks"][task] = {"candidates": len(rows), "selected": len(selected), "kept": len(kept),
                                  "failed": len(failed), "per_class": counts}
        all_kept += kept
    summary["catalogue"] = str(write_catalogue(all_kept, out_dir))
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="examples/sdss_kfg/fetch_sdss.py", description=__doc__.split("\n")[0])
    p.add_argument("--task", nargs="+", default=list(PAPER_TASKS), choices=list(PAPER_TASKS),
                   help="sets to fetch (default K F G)")
    p.add_argument("--out", type=Path, default=Path("data/sdss_kfg"), help="output folder")
    p.add_argument("--n-per-class", type=int, default=500, help="stars per subclass (drawn with --seed)")
    p.add_argument("--top-per-class", type=int, help="cap on the rows each query returns")
    p.add_argument("--data-release", type=int, default=DATA_RELEASE)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mirror", type=Path, help="serve spectra from a local folder instead of downloading")
    p.add_argument("--dry-run", action="store_true", help="print the SQL queries and exit (no network)")
    args = p.parse_args(argv)
    if args.dry_run:
        for task in args.task:
            for subclass, sql in task_queries(task, args.top_per_class).items():
                print(f"-- {task} set, {subclass}\n{sql};\n")
        return 0
    get_spectra = local_mirror(args.mirror) if args.mirror else None
    summary = fetch(args.task, args.out, args.n_per_class, args.seed, args.data_release, args.top_per_class,
                    get_spectra=get_spectra)
    for task, info in summary["tasks"].items():
        print(f"{task}: kept {info['kept']} of {info['selected']} selected ({info['per_class']})")
    print(f"catalogue: {summary['catalogue']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
