"""Model builders (flat functional Keras models) and their registry.

>>> from specnet.models import build, list_models, last_conv_layer_name
>>> list_models()
['bert_cnn', 'cnn', 'resnet_regressor']
>>> model = build("cnn", input_shape=(256, 2), num_classes=3, filters=(4, 8))
>>> last_conv_layer_name(model)
'conv2'

Architectures:

``resnet_regressor``
    1-D ResNet after Wang et al. (2021): one number, the subtype (O0=0 … M9=69).
``bert_cnn``
    Transformer encoder + CNN after Liu & Wang (2022): softmax over subclasses.
``cnn``
    The papers' plain CNN baseline: softmax over subclasses.
"""
from __future__ import annotations

from specnet.models.registry import (build, default_loss, get_builder, list_models, register_model,
                                     task)
from specnet.models.layers import LabelScale, PositionEmbedding, gaussian_nll
from specnet.models.flops import count_flops, count_params

# Importing the builder modules registers them.
from specnet.models.resnet import resnet_regressor
from specnet.models.bert_cnn import bert_cnn
from specnet.models.cnn import cnn


def last_conv_layer_name(model) -> str:
    """Name of the last Conv1D layer on the main path of ``model`` (the Grad-CAM layer).

    1×1 projection shortcuts (``*_shortcut``) are skipped; for ``bert_cnn`` this
    is the last convolution over the token features.

    >>> last_conv_layer_name(build("resnet_regressor", input_shape=(128, 2), widths=(4, 4, 4, 4)))
    'stage4_block3_conv2'
    """
    import keras

    names = [layer.name for layer in model.layers
             if isinstance(layer, keras.layers.Conv1D) and not layer.name.endswith("_shortcut")]
    if not names:
        raise ValueError(f"model has no Conv1D layer. Received: model={model.name!r}")
    return names[-1]


__all__ = ["build", "list_models", "get_builder", "register_model", "task", "default_loss",
           "last_conv_layer_name", "count_flops", "count_params", "gaussian_nll", "LabelScale",
           "PositionEmbedding", "resnet_regressor", "bert_cnn", "cnn"]
