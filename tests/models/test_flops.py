"""count_flops: hand-derived counts on small models, and agreement with TensorFlow's profiler."""
import keras
import numpy as np
import pytest

from specnet import models
from tests.models.helpers import TINY_CONFIGS


def test_conv_bn_pool_dense_counts_by_hand():
    x = keras.Input((100, 3))
    h = keras.layers.Conv1D(8, 5, strides=2, padding="same", activation="relu")(x)   # 50 × 8
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.MaxPooling1D(2)(h)                                               # 25 × 8
    h = keras.layers.Flatten()(h)
    y = keras.layers.Dense(4, activation="softmax")(h)
    model = keras.Model(x, y)
    conv = 2 * 50 * 8 * 5 * 3 + 50 * 8 + 50 * 8        # MACs, bias, ReLU
    bn = 2 * 50 * 8
    pool = 1 * 25 * 8
    dense = 2 * 200 * 4 + 4 + 3 * 4
    assert models.count_flops(model) == conv + bn + pool + dense
    assert models.count_params(model) == model.count_params()
    assert models.count_params(model, trainable_only=True) == model.count_params() - 16  # BN moving stats


def test_attention_counts_by_hand():
    t, e, h = 10, 8, 2
    d = e // h
    x = keras.Input((t, e))
    model = keras.Model(x, keras.layers.MultiHeadAttention(h, d)(x, x))
    proj = 4 * (2 * t * e * h * d) + 3 * t * h * d + t * e
    attention = h * t * d + 2 * h * t * t * d + 3 * h * t * t + 2 * h * t * t * d
    assert models.count_flops(model) == proj + attention


def test_unknown_layer_with_weights_is_refused():
    x = keras.Input((16, 2))
    model = keras.Model(x, keras.layers.Conv2D(2, 1)(keras.layers.Reshape((4, 4, 2))(x)))
    with pytest.raises(ValueError, match="Conv2D"):
        models.count_flops(model)


def _tf_profiler_flops(model) -> int:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    graph = convert_variables_to_constants_v2(fn).graph
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=graph, options=opts).total_float_ops


@pytest.mark.parametrize("arch", ["resnet_regressor", "cnn"])
def test_agrees_with_tensorflow_profiler_on_convolutional_models(arch):
    # The profiler counts Conv/MatMul as 2 FLOPs per multiply-add, like us; it skips a
    # few element-wise ops, so agreement is within a few per cent, not exact.
    model = models.build(arch, **TINY_CONFIGS[arch])
    ours, theirs = models.count_flops(model), _tf_profiler_flops(model)
    assert theirs > 0 and abs(ours - theirs) / theirs < 0.05, (ours, theirs)


def test_flops_scale_with_input_length():
    small = models.count_flops(models.build("cnn", **dict(TINY_CONFIGS["cnn"], input_shape=(512, 2))))
    big = models.count_flops(models.build("cnn", **dict(TINY_CONFIGS["cnn"], input_shape=(1024, 2))))
    assert np.isclose(big / small, 2.0, rtol=0.05)
