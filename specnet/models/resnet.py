"""1-D ResNet subtype regressor after Wang et al. (2021).

Layout (default config, 3909-pixel LAMOST input with flux + mask channels)::

    stem_conv (k, stride 2) → stem_bn → stem_relu → stem_pool (the ONE MaxPooling1D, size 4)
    4 stages × 3 residual blocks (12 blocks, 24 convolutions; widths 16/32/64/96;
       stages 2–4 start with a strided convolution and a 1×1 ``*_shortcut`` projection)
    gap (GlobalAveragePooling1D) → head_dense (ReLU) → head_dropout
    subtype_z (Dense 1, float32, linear) → subtype (LabelScale: 40 + 15·z)

so 25 convolutions lie on the main path (stem + 24); projection shortcuts are
named ``stage{s}_block{b}_shortcut`` so they can be told apart. The output is
one number, the subtype on the O0=0 … M9=69 scale. The default costs ≈84 MFLOP
and has ≈0.43 M parameters per 3909-pixel spectrum (see :func:`specnet.models.count_flops`):
the stride-2 stem and the pool of 4 put stage 1 at 1/8 of the input resolution,
and the last stage is 96 (not 128) wide to stay under 100 MFLOP. With ``uncertainty=True``
the single output ``subtype_sigma`` has shape ``(batch, 2)``: the subtype and
its standard deviation (softplus, subtype units); train it with
:func:`specnet.models.gaussian_nll`.
"""
from __future__ import annotations

import keras

from specnet.models.layers import LabelScale
from specnet.models.registry import (check_input_shape, check_int, check_ints, check_number,
                                     check_rate, register_model)

KERNEL_SIZES = (3, 5, 7, 9)


def _residual_block(x, filters, kernel_size, strides, prefix, zero_init=True, momentum=0.9):
    """Two Conv1D+BN (ReLU between), identity or 1×1 projection shortcut, Add, ReLU."""
    in_channels = x.shape[-1]
    shortcut = x
    y = keras.layers.Conv1D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                            kernel_initializer="he_normal", name=f"{prefix}_conv1")(x)
    y = keras.layers.BatchNormalization(momentum=momentum, name=f"{prefix}_bn1")(y)
    y = keras.layers.Activation("relu", name=f"{prefix}_relu1")(y)
    y = keras.layers.Conv1D(filters, kernel_size, padding="same", use_bias=False,
                            kernel_initializer="he_normal", name=f"{prefix}_conv2")(y)
    # zero-initialised γ: every block starts as the identity (Goyal et al. 2017), so a fresh
    # 12-block network neither explodes nor needs warm-up
    y = keras.layers.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones",
                                        momentum=momentum, name=f"{prefix}_bn2")(y)
    if strides != 1 or in_channels != filters:
        shortcut = keras.layers.Conv1D(filters, 1, strides=strides, use_bias=False,
                                       kernel_initializer="he_normal", name=f"{prefix}_shortcut")(x)
        shortcut = keras.layers.BatchNormalization(momentum=momentum, name=f"{prefix}_shortcut_bn")(shortcut)
    y = keras.layers.Add(name=f"{prefix}_add")([y, shortcut])
    return keras.layers.Activation("relu", name=f"{prefix}_out")(y)


@register_model("resnet_regressor", task="regression", loss="log_cosh")
def resnet_regressor(input_shape=(3909, 2), kernel_size=5, stem_filters=16, stem_strides=2,
                     pool_size=4, widths=(16, 32, 64, 96), blocks_per_stage=3, head_units=64,
                     dropout=0.0, label_scale=(40.0, 15.0), uncertainty=False,
                     zero_init_residual=True, bn_momentum=0.9, name="resnet_regressor"):
    """1-D ResNet regressor of the MK subtype (Wang et al. 2021), a flat functional model.

    Parameters
    ----------
    input_shape : (int, int)
        ``(npix, channels)`` of the preprocessed spectrum (LAMOST grid: 3909 px,
        flux + bad-pixel-mask channels).
    kernel_size : {3, 5, 7, 9}
        Length of every main-path convolution kernel, in pixels.
    stem_filters, stem_strides : int
        Filters and stride of the stem convolution.
    pool_size : int
        Size and stride of the single MaxPooling1D after the stem.
    widths : sequence of int
        Filters per stage; stages after the first start with a stride-2 block.
    blocks_per_stage : int
        Residual blocks per stage (default 3 → 12 blocks for 4 stages).
    head_units : int
        Units of the ReLU Dense layer after global average pooling (0: none).
    dropout : float
        Dropout rate before the output layer.
    label_scale : (float, float)
        ``(offset, scale)``: the output is ``offset + scale * z`` where ``z`` is
        what the last Dense layer computes (normalised units).
    uncertainty : bool
        If True the output has shape ``(batch, 2)``: ``[subtype, sigma]``.
    zero_init_residual : bool
        Initialise the γ of each block's last BatchNormalization to 0, so every block
        starts as the identity (Goyal et al. 2017): training starts smoothly and an
        untrained model gives finite, mid-scale outputs. Consequence: in an
        *untrained* model the gradient at the last block convolution is exactly 0,
        so its Grad-CAM map is blank; it becomes informative after the first steps.
    bn_momentum : float
        Momentum of the BatchNormalization moving statistics. 0.9 (not Keras' 0.99)
        so that short runs (a demo, fine-tuning on ~100 spectra) end with moving
        statistics that match the trained weights; with 0.99 a few hundred steps
        left them near their initial values and inference-mode MAE 5-10x the
        training MAE.
    name : str
        Model name.

    Returns
    -------
    keras.Model
        Input ``(batch, npix, channels)``, output ``(batch, 1)`` (or ``(batch, 2)``),
        float32 under any dtype policy.

    Example
    -------
    >>> model = resnet_regressor(input_shape=(512, 2), widths=(4, 8, 8, 8))
    >>> model.output_shape, model.layers[-1].name
    ((None, 1), 'subtype')
    """
    kernel_size = check_int("kernel_size", kernel_size, choices=KERNEL_SIZES)
    stem_filters = check_int("stem_filters", stem_filters)
    stem_strides = check_int("stem_strides", stem_strides)
    pool_size = check_int("pool_size", pool_size)
    widths = check_ints("widths", widths)
    blocks_per_stage = check_int("blocks_per_stage", blocks_per_stage)
    head_units = check_int("head_units", head_units, minimum=0)
    dropout = check_rate("dropout", dropout)
    if (isinstance(label_scale, (str, bytes)) or not hasattr(label_scale, "__len__")
            or len(label_scale) != 2):
        raise ValueError(f"label_scale must be (offset, scale). Received: label_scale={label_scale!r}")
    offset = check_number("offset", label_scale[0])
    scale = check_number("scale", label_scale[1], positive=True)
    for flag, value in (("uncertainty", uncertainty), ("zero_init_residual", zero_init_residual)):
        if not isinstance(value, bool):
            raise ValueError(f"{flag} must be a bool. Received: {flag}={value!r}")
    momentum = check_rate("bn_momentum", bn_momentum)
    downsample = stem_strides * pool_size * 2 ** (len(widths) - 1)
    npix, channels = check_input_shape(input_shape, min_npix=downsample)

    inputs = keras.Input((npix, channels), name="spectrum")
    x = keras.layers.Conv1D(stem_filters, kernel_size, strides=stem_strides, padding="same",
                            use_bias=False, kernel_initializer="he_normal", name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(momentum=momentum, name="stem_bn")(x)
    x = keras.layers.Activation("relu", name="stem_relu")(x)
    x = keras.layers.MaxPooling1D(pool_size, padding="same", name="stem_pool")(x)
    for s, width in enumerate(widths, start=1):
        for b in range(1, blocks_per_stage + 1):
            strides = 2 if (s > 1 and b == 1) else 1
            x = _residual_block(x, width, kernel_size, strides, f"stage{s}_block{b}",
                                zero_init_residual, momentum)
    x = keras.layers.GlobalAveragePooling1D(name="gap")(x)
    if head_units:
        x = keras.layers.Dense(head_units, activation="relu", name="head_dense")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    z = keras.layers.Dense(1, dtype="float32", name="subtype_z")(x)
    subtype = LabelScale(offset=offset, scale=scale, dtype="float32", name="subtype")(z)
    if uncertainty:
        sigma_z = keras.layers.Dense(1, activation="softplus", dtype="float32", name="sigma_z")(x)
        sigma = LabelScale(offset=0.01, scale=scale, dtype="float32", name="sigma")(sigma_z)
        outputs = keras.layers.Concatenate(dtype="float32", name="subtype_sigma")([subtype, sigma])
    else:
        outputs = subtype
    return keras.Model(inputs, outputs, name=name)
