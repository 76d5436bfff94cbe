"""Train-step and predict speed of every zoo architecture, next to a tf.matmul reference.

    python benchmarks/bench_models.py [--batch 64] [--steps 10]

Prints, per zoo entry at its real input size: spectra/s for a training step and
for prediction, the achieved GFLOP/s (FLOPs from ``specnet.models.flops``;
a training step counted as 3x the forward pass) and, measured in the same run,
the GFLOP/s of a float32 ``tf.matmul`` (2048x2048) on the same device, so
ratios stay meaningful on a shared, noisy machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def matmul_gflops(n: int = 2048, reps: int = 10) -> float:
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda: tf.matmul(a, b))
    f().numpy()
    t = time.perf_counter()
    for _ in range(reps):
        f().numpy()
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


def bench_entry(name: str, batch: int, steps: int) -> dict:
    import keras

    from specnet import models, zoo

    zm = zoo.load(name, weights=bool(zoo.info(name).get("weights")))
    m = zm.manifest
    model = models.build(m["architecture"], **m["config"])
    shape = tuple(m["config"]["input_shape"])
    x = np.random.default_rng(0).normal(1, 0.1, (batch, *shape)).astype("float32")
    if m["task"] == "regression":
        y = np.full((batch,), 45.0, "float32")
        loss = "log_cosh"
    else:
        y = np.zeros((batch,), "int64")
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=loss)
    model.train_on_batch(x, y)  # trace
    t = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    train_rate = batch * steps / (time.perf_counter() - t)
    model.predict_on_batch(x)  # trace
    t = time.perf_counter()
    for _ in range(steps):
        model.predict_on_batch(x)
    pred_rate = batch * steps / (time.perf_counter() - t)
    flops = m.get("flops") or models.flops.count_flops(model)
    return {"name": name, "arch": m["architecture"], "mflop": flops / 1e6, "train_per_s": train_rate,
            "train_gflops": 3 * flops * train_rate / 1e9, "predict_per_s": pred_rate,
            "predict_gflops": flops * pred_rate / 1e9}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--entries", default="resnet-lamost,bertcnn-sdss-k,cnn-sdss-k")
    args = ap.parse_args(argv)
    import warnings

    warnings.simplefilter("ignore")
    ref = matmul_gflops()
    print(f"command: python benchmarks/bench_models.py --batch {args.batch} --steps {args.steps}")
    print(f"tf.matmul 2048x2048 float32: {ref:.1f} GFLOP/s")
    print(f"{'entry':<16}{'MFLOP':>8}{'train/s':>10}{'GFLOP/s':>9}{'%mm':>6}{'predict/s':>11}{'GFLOP/s':>9}{'%mm':>6}")
    for name in args.entries.split(","):
        r = bench_entry(name, args.batch, args.steps)
        print(f"{name:<16}{r['mflop']:>8.1f}{r['train_per_s']:>10.0f}{r['train_gflops']:>9.1f}"
              f"{100 * r['train_gflops'] / ref:>6.0f}{r['predict_per_s']:>11.0f}{r['predict_gflops']:>9.1f}"
              f"{100 * r['predict_gflops'] / ref:>6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
