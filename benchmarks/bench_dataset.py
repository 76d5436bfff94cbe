"""tf.data throughput from ingested shards (spectra/s, batches/s), on mock LAMOST spectra.

1. ``mock_survey`` writes ``--n`` mock LAMOST FITS files + ``catalogue.csv`` (builtin templates);
2. ``specnet.data.ingest`` turns them into GZIP TFRecord shards (timed: ingest spectra/s);
3. ``make_dataset`` streams the shards for ``--epochs`` epochs in several configurations
   (shuffled, deterministic, with augmentation), timing each epoch;
4. with ``--compare-npz``, the same records are also written as compressed ``.npz`` shards and
   streamed through ``Dataset.from_generator`` + ``interleave``: the alternative the shard
   format was chosen against.

Only the input pipeline is timed (no model): this is the ceiling on how fast training can be
fed. Prints a table and the command line.

Run: ``python benchmarks/bench_dataset.py [--n 20000] [--batch-size 64] [--epochs 2] [--compare-npz]``
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _time_epochs(ds, epochs: int) -> list[tuple[float, int, int]]:
    out = []
    for _ in range(epochs):
        n = b = 0
        t0 = time.perf_counter()
        for x, _ in ds:
            n += int(x.shape[0])
            b += 1
        out.append((time.perf_counter() - t0, n, b))
    return out


def _npz_dataset(npz_files, manifest, batch_size, shuffle_buffer, seed):
    import numpy as np
    import tensorflow as tf

    from specnet.data.shards import assemble_x, unpack_mask_tf

    npix, cx = manifest["npix"], manifest["x_channels"]
    nbytes = (npix + 7) // 8

    def gen(path):
        with np.load(path.decode()) as z:
            x, m, y = z["x"], z["mask"], z["label"]
        for i in range(len(y)):
            yield x[i], m[i], y[i]

    sig = (tf.TensorSpec((npix, cx), tf.float16), tf.TensorSpec((nbytes,), tf.uint8), tf.TensorSpec((), tf.float32))
    ds = tf.data.Dataset.from_tensor_slices([str(f) for f in npz_files]).shuffle(len(npz_files), seed=seed)
    ds = ds.interleave(lambda f: tf.data.Dataset.from_generator(gen, args=(f,), output_signature=sig),
                       cycle_length=min(len(npz_files), 4), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.shuffle(shuffle_buffer, seed=seed).batch(batch_size)

    def decode(x, m, y):
        mask = unpack_mask_tf(m, npix)
        return assemble_x(tf.cast(x, tf.float32), mask, manifest["mask_channel"]), y

    return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="mock spectra to simulate and ingest")
    ap.add_argument("--shard-size", type=int, default=4096)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--n-jobs", type=int, default=-1, help="processes for simulation and ingest")
    ap.add_argument("--compare-npz", action="store_true", help="also stream the same data from .npz shards")
    ap.add_argument("--keep", default=None, help="work in this folder and keep it (default: a temp folder)")
    args = ap.parse_args(argv)

    import numpy as np

    from specnet.data import AugmentConfig, ingest, load_manifest, make_dataset, read_shard
    from specnet.preprocess import PreprocessConfig
    from specnet.simulate import builtin_library, mock_survey

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_dataset_"))
    work.mkdir(parents=True, exist_ok=True)
    lines = []
    try:
        mock = work / "mock"
        if not (mock / "catalogue.csv").is_file():
            t0 = time.perf_counter()
            mock_survey(builtin_library(), args.n, out_dir=mock, seed=0, n_jobs=args.n_jobs, return_spectra=False)
            dt = time.perf_counter() - t0
            lines.append(f"{'mock_survey to FITS':34s} {args.n:8d} {args.n / dt:10.0f} {'':>10s} {dt:8.1f}")
        t0 = time.perf_counter()
        res = ingest(mock, PreprocessConfig(), work / "shards", shard_size=args.shard_size, n_jobs=args.n_jobs,
                     progress=False)
        dt = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in res.shards) / 1e6
        lines.append(f"{'ingest FITS -> shards':34s} {res.n_examples:8d} {res.n_examples / dt:10.0f} {'':>10s} "
                     f"{dt:8.1f}   ({len(res.shards)} shards, {size:.0f} MB, "
                     f"{size * 1e3 / max(res.n_examples, 1):.1f} kB/spectrum, {res.n_rejected} rejects)")
        configs = {
            "make_dataset shuffle": dict(shuffle=True),
            "make_dataset deterministic": dict(shuffle=True, deterministic=True),
            "make_dataset + AugmentConfig()": dict(shuffle=True, augment=AugmentConfig()),
        }
        for name, kw in configs.items():
            ds = make_dataset(work / "shards", batch_size=args.batch_size, **kw)
            for e, (dt, n, b) in enumerate(_time_epochs(ds, args.epochs)):
                lines.append(f"{name + f' (epoch {e + 1})':34s} {n:8d} {n / dt:10.0f} {b / dt:10.1f} {dt:8.1f}")
        if args.compare_npz:
            man = load_manifest(work / "shards")
            npz_dir = work / "npz"
            npz_dir.mkdir(exist_ok=True)
            npz_files = []
            for s in man["shards"]:
                rec = read_shard(work / "shards" / s["file"], man)
                f = npz_dir / (s["file"].split(".")[0] + ".npz")
                np.savez_compressed(f, x=rec["x"][..., :man["x_channels"]].astype(np.float16),
                                    mask=np.packbits(rec["mask"], axis=-1), label=rec["label"].astype(np.float32))
                npz_files.append(f)
            size = sum(f.stat().st_size for f in npz_files) / 1e6
            ds = _npz_dataset(npz_files, man, args.batch_size, 10000, 0)
            for e, (dt, n, b) in enumerate(_time_epochs(ds, args.epochs)):
                lines.append(f"{f'npz from_generator (epoch {e + 1})':34s} {n:8d} {n / dt:10.0f} {b / dt:10.1f} "
                             f"{dt:8.1f}   ({size:.0f} MB)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    head = f"{'stage':34s} {'spectra':>8s} {'spectra/s':>10s} {'batches/s':>10s} {'seconds':>8s}"
    print(f"batch size {args.batch_size}, LAMOST grid (3909 px, flux + mask channel), float16 records")
    print(head)
    print("-" * len(head))
    print("\n".join(lines))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores: {os.cpu_count()}, load average at end: {load:.2f}")
    print("command: " + " ".join([os.path.basename(sys.executable)] + sys.argv))


if __name__ == "__main__":
    main()
