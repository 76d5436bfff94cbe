"""The model surgery behind the maps: which layer to explain, cutting the model there,
making a softmax output linear, and where the layer's positions sit on the pixel grid.

All functions take flat functional Keras models (every specnet architecture).

>>> from specnet.models import build
>>> from specnet.explain.graph import default_layer_name
>>> default_layer_name(build("resnet_regressor", input_shape=(128, 2), widths=(4, 4, 4, 4)))
'stage4_block3_out'
"""
from __future__ import annotations

import numpy as np

__all__ = ["conv_layer_name", "default_layer_name", "split_at", "linear_model", "pixel_span",
           "softmax_output_layer"]


def softmax_output_layer(model):
    """The layer producing the (single) output if it applies a softmax, else None."""
    import keras

    layer = model.get_layer(model.output_names[0]) if hasattr(model, "output_names") else model.layers[-1]
    if isinstance(layer, keras.layers.Softmax):
        return layer
    act = getattr(layer, "activation", None)
    if act is not None and getattr(act, "__name__", "") == "softmax":
        return layer
    return None


def conv_layer_name(model, layer: str | int | None = None) -> str:
    """Name of the layer to explain (``model``: keras Model or ZooModel): ``layer`` itself (name, index
    or Layer), or :func:`default_layer_name`."""
    import keras

    keras_model = getattr(model, "model", model) if not _is_keras(model) else model
    if layer is not None:
        if isinstance(layer, int):
            try:
                return keras_model.layers[layer].name
            except IndexError:
                raise ValueError(f"layer index out of range for a model of {len(keras_model.layers)} "
                                 f"layers. Received: layer={layer}") from None
        if isinstance(layer, keras.layers.Layer):
            layer = layer.name
        names = [lyr.name for lyr in keras_model.layers]
        if layer not in names:
            raise ValueError(f"No layer named {layer!r} in model {keras_model.name!r}. Received: layer={layer!r}")
        return layer
    return default_layer_name(keras_model)


#: Layers that keep the (N, L, C) positions of their input: a Grad-CAM layer may be moved past them.
_POINTWISE = ("BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Add",
              "Dropout", "SpatialDropout1D", "LayerNormalization", "GaussianNoise")


def default_layer_name(keras_model) -> str:
    """The layer Grad-CAM explains by default: the last convolution, *after* its block.

    Start at :func:`specnet.models.last_conv_layer_name` and follow its single
    consumer through position-preserving layers (batch norm, activation,
    residual ``Add``, dropout); stop before pooling / flatten. For the ResNet this
    is the last residual block's output (``stage4_block3_out``) — the
    convolution alone (``*_conv2``) misses what the shortcut carries, and on
    trained models its maps do not localise; for ``cnn`` and ``bert_cnn`` it is
    the last convolution itself (its ReLU is built in).
    """
    from specnet.models import last_conv_layer_name

    layer = keras_model.get_layer(last_conv_layer_name(keras_model))
    members = {id(lyr) for lyr in keras_model.layers}
    while True:
        consumers = [node.operation for node in getattr(layer, "_outbound_nodes", [])
                     if id(node.operation) in members]
        if len(consumers) != 1 or type(consumers[0]).__name__ not in _POINTWISE:
            return layer.name
        layer = consumers[0]


def pixel_span(keras_model, npix: int) -> int:
    """Leading pixels the model's feature positions cover (``npix`` unless patch-embedded).

    A first layer that is a strided ``"valid"`` Conv1D (BERT-CNN's
    ``patch_embed``, kernel = stride = patch size) only sees
    ``((npix − k) // s)·s + k`` pixels; everything else covers ``npix``.
    """
    import keras

    for layer in keras_model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if (isinstance(layer, keras.layers.Conv1D) and layer.padding == "valid"
                and layer.strides[0] > 1 and npix >= layer.kernel_size[0]):
            k, s = layer.kernel_size[0], layer.strides[0]
            return ((npix - k) // s) * s + k
        break
    return npix


def linear_model(keras_model):
    """The model with its output softmax made linear (logits out); the model itself if it has none.

    Softmax in the output layer's ``activation``: a clone (same weights) with
    tf-keras-vis ``ReplaceToLinear`` applied, so the given model is never
    modified. A separate ``Softmax`` output layer: a model ending at its input.
    """
    import keras
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear

    layer = softmax_output_layer(keras_model)
    if layer is None:
        return keras_model
    if isinstance(layer, keras.layers.Softmax):
        return keras.Model(keras_model.inputs, layer.input)
    clone = keras.models.clone_model(keras_model)
    clone.set_weights(keras_model.get_weights())
    ReplaceToLinear()(clone)
    return clone


def _as_list(outputs) -> list[np.ndarray]:
    """A model's output(s) as a list of numpy arrays."""
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(t) for t in outputs]
    return [np.asarray(outputs)]


def _parents(tensor) -> list:
    history = tensor._keras_history
    return list(history.operation._inbound_nodes[history.node_index].input_tensors)


def split_at(keras_model, layer_name: str, outputs=None):
    """Cut a functional model at a layer: ``upstream(x) -> [A, *skips]``, ``head([A, *skips]) -> outputs``.

    ``A`` is the layer's output; ``skips`` are the other tensors the rest of the
    graph reads that do not depend on ``A`` (e.g. a ResNet's projection
    shortcut). ``head(upstream(x))`` equals ``model(x)``.

    Why: TensorFlow's eager tape back-propagates through every recorded op, so a
    gradient with respect to ``A`` taken on the whole model (as tf-keras-vis
    does, watching the input) also runs the backward kernels of everything
    before ``A`` — among them the 1×1 strided shortcut convolution, whose oneDNN
    backward kernel corrupts the heap for some batch/length combinations in
    TensorFlow 2.21 on CPU (process abort). Handing tf-keras-vis the head only
    keeps the gradient where Grad-CAM needs it, and is cheaper.
    """
    import keras

    A = keras_model.get_layer(layer_name).output
    outputs = list(keras_model.outputs) if outputs is None else list(outputs)
    memo: dict[int, bool] = {}

    def depends(t) -> bool:
        key = id(t)
        if key not in memo:
            memo[key] = t is A or any(depends(u) for u in _parents(t))
        return memo[key]

    for out in outputs:
        if not depends(out):
            raise ValueError(f"The model output does not depend on layer {layer_name!r}. "
                             f"Received: layer={layer_name!r}")
    frontier, seen, stack = [], set(), list(outputs)
    while stack:
        t = stack.pop()
        if t is A or id(t) in seen:
            continue
        seen.add(id(t))
        for u in _parents(t):
            if depends(u):
                stack.append(u)
            elif all(u is not f for f in frontier):
                frontier.append(u)
    upstream = keras.Model(keras_model.inputs, [A] + frontier)
    head = keras.Model([A] + frontier, outputs)
    return upstream, head


def _is_keras(obj) -> bool:
    import keras

    return isinstance(obj, keras.Model)
