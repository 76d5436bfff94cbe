"""Analytic FLOP and parameter counts of a Keras model, per sample (batch size 1).

Convention: a multiply-add is 2 FLOPs. Inference graph: BatchNormalization is a
folded scale + shift (2 FLOPs per element) and Dropout costs nothing.

=========================  =========================================================
layer                      FLOPs per sample
=========================  =========================================================
Conv1D                     2·L_out·C_out·k·C_in/groups (+ L_out·C_out bias) (+ act.)
Dense                      2·n·in·units (+ n·units bias) (+ activation), n = leading dims
MultiHeadAttention         Q, K, V and output projections as Dense, plus
                           2·H·Tq·Tv·D (scores) + 3·H·Tq·Tv (softmax) + 2·H·Tq·Tv·Dv
BatchNormalization         2 per element
LayerNormalization         7 per element (mean, centre, square, variance, scale, affine)
Activation / ReLU          1 per element (softmax 3 per element)
Add, Subtract, Multiply    (inputs − 1) per element
MaxPooling1D / AvgPool1D   (pool − 1) / pool per output element
Global{Average,Max}Pool    1 per input element
LabelScale                 2 per element; PositionEmbedding 1 per element
Flatten, Reshape, Dropout  0 (also Concatenate, InputLayer)
=========================  =========================================================

Layers of other types with no weights count 0 (a ``UserWarning`` names them);
other types with weights raise ``ValueError``.

Example
-------
>>> import keras
>>> x = keras.Input((100, 2))
>>> m = keras.Model(x, keras.layers.Conv1D(4, 3, padding="same", use_bias=False)(x))
>>> count_flops(m)  # 2 * 100 * 4 * 3 * 2
4800
"""
from __future__ import annotations

import math
import warnings

import keras

_ZERO = ("InputLayer", "Flatten", "Reshape", "Dropout", "SpatialDropout1D", "GaussianNoise",
         "GaussianDropout", "AlphaDropout", "Concatenate", "Permute", "Identity", "Cropping1D",
         "ZeroPadding1D", "RepeatVector", "ActivityRegularization")


def _numel(shape) -> int:
    """Elements per sample of a (batch, ...) shape."""
    dims = [d for d in shape[1:]]
    if any(d is None for d in dims):
        raise ValueError(f"count_flops needs fully defined shapes. Received: shape={tuple(shape)!r}")
    return int(math.prod(dims))


def _act_flops(activation, n: int) -> int:
    name = getattr(activation, "__name__", str(activation))
    if name in ("linear", "None"):
        return 0
    if name == "softmax":
        return 3 * n
    return n


def _layer_flops(layer, in_shapes, out_shapes) -> int:
    kind = type(layer).__name__
    out = out_shapes[0]
    n_out = _numel(out)
    if kind in _ZERO:
        return 0
    if kind == "Conv1D":
        k = layer.kernel_size[0]
        c_in = in_shapes[0][-1]
        flops = 2 * n_out * k * c_in // layer.groups
        if layer.use_bias:
            flops += n_out
        return flops + _act_flops(layer.activation, n_out)
    if kind == "Dense":
        n_in = in_shapes[0][-1]
        vectors = n_out // out[-1]
        flops = 2 * vectors * n_in * out[-1]
        if layer.use_bias:
            flops += n_out
        return flops + _act_flops(layer.activation, n_out)
    if kind == "MultiHeadAttention":
        q, v = in_shapes[0], in_shapes[1] if len(in_shapes) > 1 else in_shapes[0]
        k_shape = in_shapes[2] if len(in_shapes) > 2 else v
        tq, eq = _numel(q) // q[-1], q[-1]
        tv, ev, ek = _numel(v) // v[-1], v[-1], k_shape[-1]
        h, d = layer.num_heads, layer.key_dim
        dv = layer.value_dim or d
        eo = out[-1]
        bias = 1 if layer.use_bias else 0
        proj = (2 * tq * eq * h * d + 2 * tv * ek * h * d + 2 * tv * ev * h * dv + 2 * tq * h * dv * eo
                + bias * (tq * h * d + tv * h * d + tv * h * dv + tq * eo))
        attention = h * tq * d + 2 * h * tq * tv * d + 3 * h * tq * tv + 2 * h * tq * tv * dv
        return proj + attention
    if kind == "BatchNormalization":
        return 2 * n_out
    if kind == "LayerNormalization":
        return 7 * n_out
    if kind in ("Activation",):
        return _act_flops(layer.activation, n_out)
    if kind in ("ReLU", "LeakyReLU", "PReLU", "ELU"):
        return n_out
    if kind == "Softmax":
        return 3 * n_out
    if kind in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        return (len(in_shapes) - 1) * n_out
    if kind in ("MaxPooling1D", "AveragePooling1D"):
        pool = layer.pool_size[0]
        return (pool - 1 if kind == "MaxPooling1D" else pool) * n_out
    if kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        return _numel(in_shapes[0])
    if kind == "LabelScale":
        return 2 * n_out
    if kind == "PositionEmbedding":
        return n_out
    if layer.weights:
        raise ValueError(f"count_flops does not know layer type {kind} (layer {layer.name!r}). "
                         f"Received: layer={layer.name!r}")
    warnings.warn(f"count_flops: layer {layer.name!r} of type {kind} counted as 0 FLOPs",
                  UserWarning, stacklevel=3)
    return 0


def _nodes(model):
    by_depth = getattr(model, "_nodes_by_depth", None)
    if by_depth is None:
        raise ValueError(f"count_flops needs a functional or Sequential model. "
                         f"Received: model={type(model).__name__}")
    for depth in sorted(by_depth, reverse=True):
        yield from by_depth[depth]


def count_flops(model) -> int:
    """FLOPs of one forward pass of one sample through ``model`` (multiply-add = 2).

    Parameters
    ----------
    model : keras.Model
        A functional (or Sequential) model with fully defined input shapes;
        nested models are counted through.

    Returns
    -------
    int

    Example
    -------
    >>> from specnet.models import build
    >>> count_flops(build("resnet_regressor")) < 100e6   # default ResNet, 3909-px spectrum
    True
    """
    if isinstance(model, keras.Sequential):
        model = getattr(model, "_functional", None) or model
    total = 0
    for node in _nodes(model):
        layer = node.operation
        if node.is_input:
            continue
        if isinstance(layer, keras.Model):
            total += count_flops(layer)
            continue
        in_shapes = [tuple(t.shape) for t in node.input_tensors]
        out_shapes = [tuple(t.shape) for t in node.output_tensors]
        total += _layer_flops(layer, in_shapes, out_shapes)
    return int(total)


def count_params(model, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (all, or only trainable ones).

    >>> import keras
    >>> x = keras.Input((10,))
    >>> count_params(keras.Model(x, keras.layers.Dense(3)(x)))
    33
    """
    weights = model.trainable_weights if trainable_only else model.weights
    return int(sum(math.prod(w.shape) for w in weights))
