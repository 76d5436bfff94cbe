"""A shared model test (KerasHub ``run_model_test`` style) and tiny configs for every builder.

``run_model_test(arch, config, x, y)`` checks, for one builder and a small config:
flat functional model, config round trip, ``.keras`` round trip, prediction on a
``tf.data.Dataset``, float32 outputs under ``mixed_float16``, and that a few
training steps on a toy batch lower the loss.
"""
from __future__ import annotations

import numpy as np

#: Small configs (512-pixel input) for each registered architecture; the tests build,
#: save, reload and train these in seconds on a CPU.
TINY_INPUT = (512, 2)
TINY_CONFIGS = {
    "resnet_regressor": {"input_shape": TINY_INPUT, "stem_filters": 4, "widths": (4, 8, 8, 8),
                         "head_units": 8},
    "bert_cnn": {"input_shape": TINY_INPUT, "num_classes": 3, "patch_size": 16, "embed_dim": 16,
                 "num_heads": 2, "num_layers": 1, "ff_dim": 32, "cnn_filters": (8,),
                 "hidden_units": 16},
    "cnn": {"input_shape": TINY_INPUT, "num_classes": 3, "filters": (4, 8), "hidden_units": 16},
}


def toy_batch(task: str, n: int = 16, input_shape=TINY_INPUT, num_classes: int = 3, seed: int = 0):
    """A toy batch of spectrum-like inputs with targets that depend on the input.

    Flux: a continuum of 1 with one absorption line whose depth sets the label;
    channel 1 (if any) is a bad-pixel mask with a few bad pixels.
    Regression targets are subtypes in [20, 69]; classification targets are one-hot.
    """
    rng = np.random.default_rng(seed)
    npix, channels = input_shape
    pix = np.arange(npix)
    depth = rng.uniform(0, 0.8, n)
    line = np.exp(-0.5 * ((pix - npix / 3) / 4.0) ** 2)
    flux = 1 - depth[:, None] * line[None, :] + rng.normal(0, 0.02, (n, npix))
    x = np.zeros((n, npix, channels), np.float32)
    x[..., 0] = flux
    if channels > 1:
        x[..., 1] = rng.random((n, npix)) < 0.02
    if task == "regression":
        y = (20 + depth / 0.8 * 49).astype(np.float32)[:, None]
    else:
        cls = np.minimum((depth / 0.8 * num_classes).astype(int), num_classes - 1)
        y = np.eye(num_classes, dtype=np.float32)[cls]
    return x, y


def assert_flat(model):
    """No nested models: every layer is a plain layer (tf-keras-vis must see into it)."""
    import keras

    nested = [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
    assert not nested, f"nested sub-models: {nested}"
    assert type(model).__name__ == "Functional"


def run_model_test(arch: str, config: dict, x: np.ndarray, y: np.ndarray, tmp_path, seed: int = 0):
    """Build ``arch`` with ``config`` and check everything a zoo model must support."""
    import keras
    import tensorflow as tf

    from specnet import models

    keras.utils.set_random_seed(seed)
    model = models.build(arch, **config)
    assert_flat(model)
    assert model.input_shape == (None, *config["input_shape"])
    pred = model.predict(x, verbose=0)
    assert pred.dtype == np.float32 and np.isfinite(pred).all()
    assert pred.shape[0] == len(x)

    # config round trip: same structure, and same predictions once the weights are copied
    clone = model.__class__.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), pred, rtol=1e-5, atol=1e-5)

    # .keras round trip (custom layers are registered: no custom_objects needed)
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), pred, rtol=1e-5, atol=1e-5)

    # tf.data input
    ds = tf.data.Dataset.from_tensor_slices(x).batch(5)
    np.testing.assert_allclose(model.predict(ds, verbose=0), pred, rtol=1e-5, atol=1e-5)

    # mixed precision: outputs stay float32
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        mixed = models.build(arch, **config)
        assert mixed.layers[1].compute_dtype == "float16"
        assert all(t.dtype == "float32" for t in mixed.outputs)
        out = mixed.predict(x[:4], verbose=0)
        assert out.dtype == np.float32 and np.isfinite(out).all()
    finally:
        keras.mixed_precision.set_global_policy("float32")

    # a few full-batch training steps on the toy batch lower the loss. Eager: tracing the
    # training graph of the 25-convolution ResNet costs ~10-30 s of CPU, running it eagerly ~2 s
    # (the forward graph is already exercised by predict above).
    keras.utils.set_random_seed(seed)
    loss = models.default_loss(arch, uncertainty=bool(config.get("uncertainty")))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, run_eagerly=True)
    hist = model.fit(x, y, batch_size=len(x), epochs=3, shuffle=False, verbose=0)
    losses = hist.history["loss"]
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0], losses
    return model
