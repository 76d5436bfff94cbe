"""The default ResNet regressor against Wang et al. (2021): layer counts, cost, kernel sizes."""
import keras
import pytest

from specnet import models


@pytest.fixture(scope="module")
def default_resnet():
    return models.build("resnet_regressor")


def test_default_resnet_has_the_papers_layer_counts(default_resnet):
    layers = default_resnet.layers
    convs = [la for la in layers if isinstance(la, keras.layers.Conv1D)]
    main = [la for la in convs if not la.name.endswith("_shortcut")]
    shortcuts = [la for la in convs if la.name.endswith("_shortcut")]
    assert len(main) == 25                                      # stem + 12 blocks × 2
    assert all(la.kernel_size == (1,) for la in shortcuts) and len(shortcuts) == 3
    assert sum(isinstance(la, keras.layers.Add) for la in layers) == 12
    assert sum(isinstance(la, keras.layers.MaxPooling1D) for la in layers) == 1
    assert sum(isinstance(la, keras.layers.GlobalAveragePooling1D) for la in layers) == 1
    assert all(la.kernel_size == (5,) for la in main)
    assert default_resnet.input_shape == (None, 3909, 2) and default_resnet.output_shape == (None, 1)
    assert models.last_conv_layer_name(default_resnet) == "stage4_block3_conv2"


def test_default_resnet_costs_at_most_100_mflop_per_spectrum(default_resnet):
    flops = models.count_flops(default_resnet)
    assert 20e6 < flops <= 100e6
    assert models.count_params(default_resnet) == default_resnet.count_params()


@pytest.mark.parametrize("kernel_size", [3, 5, 7, 9])
def test_every_paper_kernel_size_builds(kernel_size):
    model = models.build("resnet_regressor", kernel_size=kernel_size)
    main = [la for la in model.layers if isinstance(la, keras.layers.Conv1D)
            and not la.name.endswith("_shortcut")]
    assert {la.kernel_size for la in main} == {(kernel_size,)}
    assert model.output_shape == (None, 1)
