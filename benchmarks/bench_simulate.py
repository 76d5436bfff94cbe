"""Throughput of ``specnet.simulate.mock_survey``: spectra per second (and per minute).

Run from the repository root::

    python benchmarks/bench_simulate.py [--n 5000] [--n-files 1000] [--profile lamost-dr1]

Prints the time to load the real template library (cold and from its cache), to degrade
it to the profile (cold and cached), and spectra/s in memory and written as FITS files,
with ``n_jobs`` 1 and 2. The real library is read from ``../shared/data/templates``
(``SPECNET_SHARED_DATA`` overrides); ``--builtin`` uses the embedded demo library instead.
The brief's target is >= 10,000 LAMOST-like spectra per minute in memory on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path


def _library(builtin: bool, cold: bool):
    from specnet.simulate import TemplateLibrary

    if builtin:
        from specnet.simulate import builtin_library

        return builtin_library(), 0.0
    root = Path(os.environ.get("SPECNET_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lib = TemplateLibrary.from_path(root / "templates", cache=not cold)
    return lib, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000, help="spectra per in-memory run")
    ap.add_argument("--n-files", type=int, default=1000, help="spectra per file-writing run")
    ap.add_argument("--profile", default="lamost-dr1")
    ap.add_argument("--builtin", action="store_true", help="use the embedded demo library")
    args = ap.parse_args(argv)

    import specnet.simulate.matrix as matrix
    from specnet.simulate import get_profile, mock_survey, template_matrix

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), profile {args.profile}")
    lib, t_cold = _library(args.builtin, cold=True)
    _, t_warm = _library(args.builtin, cold=False)
    _, t_cached = _library(args.builtin, cold=False)
    print(f"template library: {len(lib)} templates; load {t_cold:.2f} s uncached, {t_cached:.2f} s from cache")
    t0 = time.perf_counter()
    template_matrix(lib, args.profile, cache=False)
    t_build = time.perf_counter() - t0
    matrix._MATRIX_CACHE.clear()
    template_matrix(lib, args.profile)  # write the disk cache
    matrix._MATRIX_CACHE.clear()
    t0 = time.perf_counter()
    template_matrix(lib, args.profile)
    t_load = time.perf_counter() - t0
    print(f"degrade to {args.profile}: {t_build:.2f} s (once per library and profile), {t_load:.3f} s from cache")

    rows = []
    for n_jobs in (1, 2):
        t0 = time.perf_counter()
        spectra, _ = mock_survey(lib, args.n, profile=args.profile, seed=0, n_jobs=n_jobs)
        dt = time.perf_counter() - t0
        assert len(spectra) == args.n
        del spectra
        rows.append(("in memory (Spectrum list)", n_jobs, args.n, dt))
    for n_jobs in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            mock_survey(lib, args.n_files, profile=args.profile, seed=0, n_jobs=n_jobs, out_dir=tmp,
                        return_spectra=False)
            dt = time.perf_counter() - t0
        rows.append((f"written files ({get_profile(args.profile).default_layout})", n_jobs, args.n_files, dt))
    print(f"{'mode':34s} {'n_jobs':>6s} {'n':>6s} {'seconds':>8s} {'spectra/s':>10s} {'spectra/min':>12s}")
    for mode, n_jobs, n, dt in rows:
        print(f"{mode:34s} {n_jobs:6d} {n:6d} {dt:8.2f} {n / dt:10.0f} {60 * n / dt:12.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
