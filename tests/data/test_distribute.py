"""Precision policy and distribution strategies, including two real CPU workers on localhost."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from specnet.data import get_strategy, prepare_model, set_precision
from specnet.data.distribute import cluster_size, is_multi_worker, parse_tf_config
from specnet.data.shards import arrays_to_shards
from specnet.preprocess import Grid, PreprocessConfig
from tests.conftest import REPO


@pytest.fixture
def restore_policy():
    before = keras.mixed_precision.global_policy().name
    yield
    keras.mixed_precision.set_global_policy(before)


def test_auto_precision_on_this_cpu_machine_is_float32(restore_policy):
    assert not tf.config.list_physical_devices("GPU")
    assert set_precision("auto") == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_explicit_precision_policies(restore_policy):
    assert set_precision("mixed_float16") == "mixed_float16"
    layer = keras.layers.Dense(2)
    assert layer.compute_dtype == "float16" and layer.variable_dtype == "float32"
    assert set_precision("mixed_bfloat16") == "mixed_bfloat16"
    assert set_precision("float32") == "float32"
    with pytest.raises(ValueError, match="policy='float64'"):
        set_precision("float64")


def test_default_strategy_without_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    s = get_strategy()
    assert s is tf.distribute.get_strategy() and s.num_replicas_in_sync == 1
    assert not is_multi_worker(s)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(loss="mse")
    assert prepare_model(model) is model and not getattr(model, "_specnet_multiworker", False)


def test_tf_config_parsing():
    two = {"TF_CONFIG": json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"], "ps": ["d:4"]},
                                    "task": {"type": "worker", "index": 0}})}
    assert cluster_size(two) == 3 and cluster_size({}) == 1 and cluster_size({"TF_CONFIG": " "}) == 1
    assert parse_tf_config(two)["task"]["index"] == 0
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        parse_tf_config({"TF_CONFIG": "{cluster"})
    with pytest.raises(ValueError, match="JSON object"):
        parse_tf_config({"TF_CONFIG": "[1, 2]"})


WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    from specnet.data import get_strategy, make_dataset, prepare_model
    strategy = get_strategy()                  # first: before any other TensorFlow object
    import keras
    keras.utils.set_random_seed(0)
    ds = make_dataset(sys.argv[1], batch_size=8, shuffle=False, deterministic=True, repeat=True)
    with strategy.scope():
        model = keras.Sequential([keras.Input((64, 2)), keras.layers.Conv1D(4, 5, activation="relu"),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    prepare_model(model, strategy)
    w0 = np.concatenate([v.numpy().ravel() for v in model.weights])
    hist = model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)
    w = np.concatenate([v.numpy().ravel() for v in model.weights])
    print("RESULT " + json.dumps({"strategy": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync,
                                  "w0": w0.tolist(), "w": w.tolist(), "loss": hist.history["loss"]}), flush=True)
""")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_cpu_workers_on_localhost_train_to_the_same_weights(tmp_path):
    cfg = PreprocessConfig(grid=Grid(3.6, 1e-4, 64))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 64, 2)).astype(np.float32)
    X[..., 1] = rng.random((48, 64)) < 0.1
    arrays_to_shards(tmp_path / "shards", X, rng.uniform(0, 69, 48), config=cfg, shard_size=12)  # 4 shards
    cluster = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="",
                   TF_CONFIG=json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path / "shards")], cwd=REPO, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    results = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=150)
            assert p.returncode == 0, out[-3000:]
            line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
            assert line, out[-3000:]
            results.append(json.loads(line[-1][len("RESULT "):]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    a, b = results
    assert a["strategy"] == b["strategy"] == "CollectiveAllReduceStrategy"   # MultiWorkerMirroredStrategy
    assert a["replicas"] == b["replicas"] == 2
    np.testing.assert_array_equal(a["w"], b["w"])                            # all-reduced updates agree
    assert not np.allclose(a["w"], a["w0"])                                  # and training moved them
    assert np.isfinite(a["loss"]).all() and a["loss"] == b["loss"]
