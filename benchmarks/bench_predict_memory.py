"""Peak memory of ``specnet-predict`` as the number of files grows (target: < 2 GB, flat in N).

    python benchmarks/bench_predict_memory.py --n 100000 [--model DIR_OR_NAME]

Writes N mock LAMOST FITS files once (built-in templates, ``--workdir``), then
runs ``specnet predict`` in a child process on the first N/10, N/3 and N of
them and prints each run's peak RSS (the child's ``ru_maxrss``) and rate. A
flat column means memory does not grow with N. Without ``--model`` a tiny
ResNet is trained on the demo set first (the model's accuracy is irrelevant).
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--model")
    ap.add_argument("--workdir", default="bench-predict-work")
    args = ap.parse_args(argv)
    # This process stays small and never imports TensorFlow: on Linux a child's peak RSS
    # (ru_maxrss) includes what its parent held when it forked, so the mock files and the
    # tiny model are made by child processes too.
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cli = [sys.executable, "-m", "specnet.cli"]
    cat = work / "mock" / "catalogue.csv"
    if not cat.exists() or sum(1 for _ in open(cat)) - 1 < args.n:
        t = time.perf_counter()
        subprocess.run(cli + ["simulate", "--n", str(args.n), "--seed", "5", "--output", str(work / "mock")],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        print(f"wrote {args.n} mock FITS files in {time.perf_counter() - t:.0f} s")
    model = args.model
    if model is None:
        model = str(work / "tiny" / "model")
        if not Path(model, "manifest.json").exists():
            subprocess.run(cli + ["fit", "resnet_regressor", "--demo", "--demo-size", "200", "--epochs", "1",
                                  "--overwrite", "--output", str(work / "tiny"), "--config",
                                  '{"stem_filters": 4, "widths": [4, 8, 8, 8], "head_units": 8}'],
                           check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(cat, newline="") as fh:
        paths = [str(work / "mock" / r["path"]) for r in csv.DictReader(fh)][: args.n]
    print(f"command: python benchmarks/bench_predict_memory.py --n {args.n}")
    print(f"{'files':>8}{'peak RSS (MB)':>15}{'spectra/s':>11}")
    for n in sorted({max(1, args.n // 10), max(1, args.n // 3), args.n}):
        sub = work / f"catalog-{n}.csv"
        with open(sub, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["path"])
            w.writerows([p] for p in paths[:n])
        out = work / f"pred-{n}.csv"
        for f in (out, work / f"pred-{n}.rejects.csv"):
            f.unlink(missing_ok=True)
        t = time.perf_counter()
        proc = subprocess.Popen(cli + ["predict", model, "--catalog", str(sub), "--output", str(out)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not the running max
        dt = time.perf_counter() - t
        if status != 0:
            raise SystemExit(f"specnet predict failed on {n} files (status {status})")
        with open(out) as fh:
            written = sum(1 for _ in fh) - 1
        if written != n:
            raise SystemExit(f"only {written} of {n} rows written: see {out.with_name(out.stem + '.rejects.csv')}")
        print(f"{n:>8}{usage.ru_maxrss / 1024:>15.0f}{n / dt:>11.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
