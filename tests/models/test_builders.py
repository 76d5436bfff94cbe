"""Every registered architecture, at a tiny config: build, round trips, tf.data, mixed precision, fit."""
import numpy as np
import pytest

from specnet import models
from tests.models.helpers import TINY_CONFIGS, run_model_test, toy_batch

#: Invalid arguments for each builder and the text the ValueError must quote.
INVALID = {
    "resnet_regressor": [({"kernel_size": 4}, "kernel_size=4"),
                         ({"widths": ()}, "widths=()"),
                         ({"blocks_per_stage": 0}, "blocks_per_stage=0"),
                         ({"input_shape": (16, 2)}, "input_shape=(16, 2)"),
                         ({"label_scale": (40.0, -1.0)}, "scale=-1.0"),
                         ({"dropout": 1.5}, "dropout=1.5"),
                         ({"zero_init_residual": "yes"}, "zero_init_residual='yes'")],
    "bert_cnn": [({"embed_dim": 30, "num_heads": 4}, "embed_dim=30, num_heads=4"),
                 ({"patch_size": 0}, "patch_size=0"),
                 ({"num_classes": 1}, "num_classes=1"),
                 ({"input_shape": (3909,)}, "input_shape=(3909,)"),
                 ({"cnn_filters": "32"}, "cnn_filters='32'")],
    "cnn": [({"kernel_size": 2.5}, "kernel_size=2.5"),
            ({"filters": (8, -1)}, "filters=(8, -1)"),
            ({"pool_size": True}, "pool_size=True"),
            ({"input_shape": (8, 2)}, "input_shape=(8, 2)")],
}


def test_every_registered_architecture_has_a_tiny_config_and_invalid_cases():
    assert models.list_models() == sorted(TINY_CONFIGS) == sorted(INVALID)
    assert set(models.list_models()) >= {"resnet_regressor", "bert_cnn", "cnn"}


@pytest.mark.parametrize("arch", models.list_models())
def test_builder_contract(arch, tmp_path):
    task = models.task(arch)
    config = TINY_CONFIGS[arch]
    x, y = toy_batch(task, input_shape=config["input_shape"], num_classes=config.get("num_classes", 3))
    model = run_model_test(arch, config, x, y, tmp_path)
    if task == "classification":
        proba = model.predict(x, verbose=0)
        assert proba.shape == (len(x), config["num_classes"])
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    else:
        assert model.output_shape == (None, 1)
    # Grad-CAM's layer: the last main-path convolution, which exists and has a length axis
    layer = model.get_layer(models.last_conv_layer_name(model))
    assert len(layer.output.shape) == 3 and not layer.name.endswith("_shortcut")


@pytest.mark.parametrize("arch,kwargs,quoted",
                         [(a, kw, q) for a, cases in INVALID.items() for kw, q in cases])
def test_invalid_arguments_raise_value_error_quoting_the_value(arch, kwargs, quoted):
    config = dict(TINY_CONFIGS[arch], **kwargs)
    with pytest.raises(ValueError, match="Received: ") as info:
        models.build(arch, **config)
    assert quoted in str(info.value)


def test_regressor_uncertainty_head_trains_with_gaussian_nll(tmp_path):
    config = dict(TINY_CONFIGS["resnet_regressor"], uncertainty=True)
    x, y = toy_batch("regression")
    model = run_model_test("resnet_regressor", config, x, y, tmp_path)
    assert model.output_shape == (None, 2) and model.layers[-1].name == "subtype_sigma"
    out = model.predict(x, verbose=0)
    assert (out[:, 1] > 0).all()          # sigma is positive (softplus)
    assert models.default_loss("resnet_regressor", uncertainty=True) is models.gaussian_nll


def test_gaussian_nll_matches_its_formula():
    rng = np.random.default_rng(1)
    y = rng.uniform(20, 69, 32)
    mu, sigma = y + rng.normal(0, 2, 32), rng.uniform(0.5, 4, 32)
    got = np.asarray(models.gaussian_nll(y[:, None], np.stack([mu, sigma], 1)))
    np.testing.assert_allclose(got, 0.5 * ((y - mu) / sigma) ** 2 + np.log(sigma), rtol=1e-6)


def test_label_scale_maps_normalised_units_to_subtypes():
    import keras

    config = dict(TINY_CONFIGS["resnet_regressor"], label_scale=(45.0, 2.0))
    model = models.build("resnet_regressor", **config)
    x, _ = toy_batch("regression", n=4)
    z = keras.Model(model.inputs, model.get_layer("subtype_z").output).predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), 45.0 + 2.0 * z, rtol=1e-6)


def test_zero_init_residual_makes_every_block_start_as_the_identity():
    import keras

    x, _ = toy_batch("regression", n=2)
    model = models.build("resnet_regressor", **TINY_CONFIGS["resnet_regressor"])
    before = keras.Model(model.inputs, model.get_layer("stage1_block1_add").input[1]).predict(x, verbose=0)
    after = keras.Model(model.inputs, model.get_layer("stage1_block1_out").output).predict(x, verbose=0)
    np.testing.assert_allclose(after, np.maximum(before, 0), atol=1e-6)   # relu(0 + shortcut)
    plain = models.build("resnet_regressor", **TINY_CONFIGS["resnet_regressor"], zero_init_residual=False)
    assert float(np.asarray(plain.get_layer("stage1_block1_bn2").gamma).min()) == 1.0


def test_registry_lookup_errors_name_close_matches():
    with pytest.raises(ValueError, match="resnet_regressor") as info:
        models.build("resnet_regresor")
    assert "Received: arch='resnet_regresor'" in str(info.value)
    assert models.task("resnet_regressor") == "regression"
    assert models.task("cnn") == models.task("bert_cnn") == "classification"
    assert models.get_builder("cnn") is models.cnn
    assert models.default_loss("resnet_regressor") == "log_cosh"
