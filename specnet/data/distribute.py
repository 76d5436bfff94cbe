"""Pick a ``tf.distribute`` strategy: one device, several GPUs, or several machines.

:func:`get_strategy` returns

* ``MultiWorkerMirroredStrategy`` when the ``TF_CONFIG`` environment variable
  describes a cluster of more than one task (chief + workers);
* ``MirroredStrategy`` when this machine has more than one GPU;
* the default strategy otherwise (one GPU or the CPU).

Build and compile the model inside ``strategy.scope()``; give ``fit`` the
dataset from :func:`specnet.data.make_dataset` (Keras distributes it).

Several GPUs on one machine
---------------------------
Nothing to configure::

    strategy = get_strategy()              # MirroredStrategy over all visible GPUs
    with strategy.scope():
        model = specnet.models.build("resnet_regressor")
        model.compile(optimizer="adam", loss="log_cosh")
    ds = make_dataset("shards/", batch_size=64 * strategy.num_replicas_in_sync)
    model.fit(ds, epochs=30)

``batch_size`` is the *global* batch: each replica gets ``batch_size / n``.
Restrict GPUs with ``CUDA_VISIBLE_DEVICES=0,1``. Combine with
:func:`specnet.data.set_precision` ("auto" → mixed_float16 on GPUs).

Several machines
----------------
Run the *same* script on every machine, each with its own ``TF_CONFIG``
naming the whole cluster and its own place in it, and call
:func:`get_strategy` *before* creating any other TensorFlow object::

    # machine A                                        # machine B
    export TF_CONFIG='{"cluster": {"worker":           export TF_CONFIG='{"cluster": {"worker":
      ["hostA:12345", "hostB:12345"]},                   ["hostA:12345", "hostB:12345"]},
      "task": {"type": "worker", "index": 0}}'           "task": {"type": "worker", "index": 1}}'
    python train.py                                    python train.py

Worker 0 is the chief (it should be the one that saves checkpoints and zoo
directories; others write to temporary folders). Every worker must reach the
others' ports; all of them need the shards (a shared file system, or a copy
per machine). Datasets from :func:`make_dataset` are split between workers by
file (``AutoShardPolicy.AUTO``), so give the shard set at least as many
shards as workers (``ingest(..., shard_size=...)``); ``steps_per_epoch`` and
``batch_size`` are global. Collective ops run over gRPC (``RING``) on CPUs and
NCCL on GPUs. On SLURM, ``tf.distribute.cluster_resolver.SlurmClusterResolver``
can build the cluster instead of ``TF_CONFIG``.

Keras 3 and ``MultiWorkerMirroredStrategy``
-------------------------------------------
Keras 3 (checked with 3.15 / TF 2.21) cannot ``fit`` under a multi-worker
strategy as it ships (keras-team/keras#20585): it reduces the whole
``(x, y)`` batch with one ``strategy.reduce`` call when it builds the model,
and reduces the scalar step logs along ``axis=0``; both raise. Call
:func:`prepare_model` on the compiled model (inside or after
``strategy.scope()``); it fixes both on that model instance only and does
nothing under any other strategy::

    strategy = get_strategy()
    with strategy.scope():
        model = ...; model.compile(...)
    prepare_model(model, strategy)
    model.fit(make_dataset("shards/", batch_size=64, repeat=True), steps_per_epoch=..., epochs=...)

Example
-------
>>> from specnet.data.distribute import get_strategy, cluster_size
>>> cluster_size({})  # no TF_CONFIG: one task
1
"""
from __future__ import annotations

import json
import os


def parse_tf_config(env: dict | None = None) -> dict:
    """The parsed ``TF_CONFIG`` (``{}`` if unset); ``ValueError`` if it is not valid JSON."""
    env = os.environ if env is None else env
    raw = env.get("TF_CONFIG", "")
    if not raw.strip():
        return {}
    try:
        cfg = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc}). Received: TF_CONFIG={raw!r}") from None
    if not isinstance(cfg, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object. Received: TF_CONFIG={raw!r}")
    return cfg


def cluster_size(env: dict | None = None) -> int:
    """Number of training tasks (chief + workers) that ``TF_CONFIG`` names (1 without one).

    >>> cluster_size({"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}'})
    2
    """
    cluster = parse_tf_config(env).get("cluster", {}) or {}
    return sum(len(cluster.get(role, []) or []) for role in ("chief", "worker")) or 1


def get_strategy():
    """The ``tf.distribute.Strategy`` for this process (see the module docstring).

    Returns
    -------
    tf.distribute.Strategy
        ``MultiWorkerMirroredStrategy`` (``TF_CONFIG`` with several tasks),
        ``MirroredStrategy`` (>1 GPU), or ``tf.distribute.get_strategy()``.

    Example
    -------
    >>> s = get_strategy()  # doctest: +SKIP
    >>> s.num_replicas_in_sync  # doctest: +SKIP
    1
    """
    import tensorflow as tf

    if cluster_size() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_multi_worker(strategy) -> bool:
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` spanning more than one worker."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    check = getattr(strategy.extended, "_in_multi_worker_mode", None)
    return bool(check()) if callable(check) else cluster_size() > 1


def prepare_model(model, strategy=None):
    """Let a compiled Keras 3 model ``fit``/``evaluate`` under a multi-worker strategy.

    Works around keras-team/keras#20585 on this model instance only (no global
    patching): the build step uses the first local replica's batch (only its
    shapes matter) instead of reducing the whole batch structure, and the step
    logs are returned with shape ``(1,)`` so that Keras' ``reduce(MEAN, axis=0)``
    over workers is defined. A no-op (returns the model unchanged) for any
    other strategy, so training code can call it unconditionally.

    Parameters
    ----------
    model : keras.Model
        Built and compiled inside ``strategy.scope()``.
    strategy : tf.distribute.Strategy, optional
        Defaults to the model's own strategy.

    Returns
    -------
    keras.Model : the same model object.

    Example
    -------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]); m.compile(loss="mse")
    >>> prepare_model(m) is m   # default strategy: nothing to do
    True
    """
    import tensorflow as tf

    strategy = strategy or model.distribute_strategy
    if not is_multi_worker(strategy) or getattr(model, "_specnet_multiworker", False):
        return model

    def first_replica(v):
        if isinstance(v, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(v)[0]
        return v

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tf.nest.map_structure(first_replica, next(it))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    def rank1(step):
        def wrapped(data):
            return tf.nest.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, step(data))
        return wrapped

    model._maybe_symbolic_build = maybe_symbolic_build
    model.train_step = rank1(model.train_step)
    model.test_step = rank1(model.test_step)
    model._specnet_multiworker = True
    return model
