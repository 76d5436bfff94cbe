"""Spectra/s of raw astropy FITS reading vs specnet's read_spectrum + preprocess, per core.

Measures, in this one process (= one core), on the same files:

* ``raw``         -- ``astropy.io.fits.open(path)`` + reading every HDU's data (the floor);
* ``read``        -- ``specnet.io.read_spectrum(path)`` (identify + read + checks);
* ``read+prep``   -- ``read_spectrum`` then ``preprocess([spec], PreprocessConfig())``, one by one;
* ``read+prep32`` -- the same, preprocessing chunks of 32 spectra as ingest workers do.

File sets: the real LAMOST and SDSS fixtures (``../shared/data/fixtures``), each
repeated ``--repeat`` times, and, when ``specnet.simulate`` is importable, ``--mock``
mock LAMOST files written by ``mock_survey`` (DR2-8 image and DR9 table layouts).
Target: ``read+prep`` ≥ half the ``raw`` rate. Prints a table and the command line.

Run: ``python benchmarks/bench_io.py [--repeat 3] [--mock 200]``
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPECNET_SHARED_DATA", REPO.parent / "shared" / "data"))


def _raw(files):
    from astropy.io import fits

    for f in files:
        with fits.open(f, memmap=False) as hdul:
            for hdu in hdul:
                _ = hdu.data


def _read(files):
    from specnet.io import read_spectrum

    for f in files:
        read_spectrum(f)


def _read_prep(files, config):
    from specnet.io import read_spectrum
    from specnet.preprocess import preprocess

    for f in files:
        preprocess([read_spectrum(f)], config)


def _read_prep_chunked(files, config, chunk=32):
    from specnet.io import read_spectrum
    from specnet.preprocess import preprocess

    for i in range(0, len(files), chunk):
        preprocess([read_spectrum(f) for f in files[i:i + chunk]], config)


def _rate(fn, files, *args) -> float:
    fn(files[:3], *args)  # warm caches/imports
    t0 = time.perf_counter()
    fn(files, *args)
    return len(files) / (time.perf_counter() - t0)


def _mock_sets(n: int, tmp: Path) -> dict[str, list[str]]:
    try:
        from specnet.simulate import builtin_library, mock_survey
    except Exception as exc:  # pragma: no cover - simulate missing
        print(f"(mock files skipped: specnet.simulate unavailable: {exc})")
        return {}
    lib = builtin_library()
    out = {}
    for layout in ("lamost-dr2", "lamost-dr9"):
        d = tmp / layout
        _, cat = mock_survey(lib, n, out_dir=d, layout=layout, seed=1, n_jobs=1, return_spectra=False)
        out[f"mock {layout}"] = [str(d / p) for p in cat["path"]]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="repeat each real fixture set this many times")
    ap.add_argument("--mock", type=int, default=200, help="mock files per layout (0 = none)")
    args = ap.parse_args(argv)

    import csv

    from specnet.preprocess import PreprocessConfig

    config = PreprocessConfig()
    with open(SHARED / "fixtures" / "index.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    sets = {
        "real LAMOST (DR1-DR10)": [str(SHARED / "fixtures" / r["path"]) for r in rows if r["survey"] == "LAMOST"],
        "real SDSS spec DR8+": [str(SHARED / "fixtures" / r["path"]) for r in rows
                                if r["path"].startswith("sdss/spec_dr8plus/")],
    }
    sets = {k: v * args.repeat for k, v in sets.items()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.mock > 0:
            sets.update(_mock_sets(args.mock, Path(tmp)))
        head = f"{'file set':26s} {'files':>6s} {'raw':>8s} {'read':>8s} {'read+prep':>10s} {'read+prep32':>12s} " \
               f"{'ratio':>6s}  target"
        lines = [head, "-" * len(head)]
        for name, files in sets.items():
            raw = _rate(_raw, files)
            rd = _rate(_read, files)
            rp = _rate(_read_prep, files, config)
            rc = _rate(_read_prep_chunked, files, config)
            ratio = max(rp, rc) / raw
            lines.append(f"{name:26s} {len(files):6d} {raw:8.0f} {rd:8.0f} {rp:10.0f} {rc:12.0f} {ratio:6.2f}  "
                         f"{'ok' if ratio >= 0.5 else 'BELOW 0.5'}")
    print("spectra per second on ONE core (this process); ratio = best specnet read+prep / raw")
    print("\n".join(lines))
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"cores: {os.cpu_count()}, load average at end: {load[0]:.2f}" if load[0] != "?" else "")
    print("command: " + " ".join([os.path.basename(sys.executable)] + sys.argv))


if __name__ == "__main__":
    main()
