"""Grad-CAM maps: localisation on mock spectra, tf-keras-vis vs a GradientTape reference,
models reloaded from disk, mixed precision, and the MK line list.

The mock spectra (512 px, 4000–6000 Å log-λ grid, continuum ≈ 1 as after
specnet's continuum normalisation) differ by ONE known feature, an absorption
line at Hβ (4862.69 Å vacuum), among nuisance lines at random positions.
A tiny model of each architecture is trained on them for a few seconds; the map
of a spectrum that has the feature must put ≥ 3× the mass of chance inside
±30 Å of it.
"""
from __future__ import annotations

import math
import warnings

import keras
import numpy as np
import pytest

from specnet.explain import (LINES, METHODS, default_layer_name, gradcam, gradcam_reference,
                             get_lines, lines_in, split_at, upsample_map, window_mask)
from specnet.explain.gradcam import resolve_targets
from specnet.explain.graph import pixel_span
from specnet.models import build
from specnet.preprocess import Grid
from specnet.spectrum import Spectrum, air_to_vacuum

NPIX = 512
GRID = Grid(math.log10(4000.0), math.log10(6000.0 / 4000.0) / (NPIX - 1), NPIX)
WAVE = GRID.wave
FEATURE = LINES["Hbeta"].wave
WINDOW = window_mask(WAVE, [FEATURE], half_width=30)
CHANCE = WINDOW.mean()  # the window's share of the spectrum (≈ 3 %)

#: Tiny configs, one-channel 512-px input. Dropout off so a few epochs suffice.
CONFIGS = {
    "cnn": dict(num_classes=2, filters=(8, 16), kernel_size=7, pool_size=4, hidden_units=16, dropout=0.0),
    "bert_cnn": dict(num_classes=2, patch_size=8, embed_dim=16, num_heads=2, num_layers=1, ff_dim=32,
                     cnn_filters=(16,), hidden_units=16, dropout=0.0, attention_dropout=0.0),
    "resnet_regressor": dict(widths=(8, 8), blocks_per_stage=1, stem_filters=8, head_units=0,
                             label_scale=(0.3, 0.3)),
}
CLASSES = ["none", "line"]


def _gauss(centres, amps, sigma=5.0):
    return amps[:, None] * np.exp(-0.5 * ((WAVE[None, :] - centres[:, None]) / sigma) ** 2)


def mock_spectra(n: int, seed: int, regression: bool):
    """``(X (n, 512, 1) float32, y)``: y = class (0/1) or the feature's depth (0–0.6).

    Nuisance lines sit at random wavelengths ≥ 100 Å from the feature: emission
    lines for the regressor (a GAP model cannot tell *where* a line is, so the
    feature must be the only absorption), and absorption as well as emission
    lines for the classifiers (so they must learn *where* the feature is).
    """
    rng = np.random.default_rng(seed)
    X = 1.0 + 0.05 * rng.normal(size=(n, 1)) * (WAVE[None, :] - 5000.0) / 1000.0
    signs = (1, 1, 1, 1) if regression else (1, 1, -1, -1)
    for sign in signs:
        c = rng.uniform(4050, 5950, n)
        c = np.where(np.abs(c - FEATURE) < 100, c + 250 * np.sign(c - FEATURE + 1e-9), c)
        X = X + sign * _gauss(c, rng.uniform(0.2, 0.5, n))
    if regression:
        y = rng.uniform(0.0, 0.6, n)
        depth = y
    else:
        y = rng.integers(0, 2, n)
        depth = 0.4 * y
    X = X - _gauss(np.full(n, FEATURE), depth) + 0.02 * rng.normal(size=X.shape)
    return X[..., None].astype("float32"), y


def train(arch: str):
    regression = arch == "resnet_regressor"
    keras.utils.set_random_seed(0)
    Xtr, ytr = mock_spectra(400, seed=1, regression=regression)
    Xte, yte = mock_spectra(100, seed=2, regression=regression)
    model = build(arch, input_shape=(NPIX, 1), **CONFIGS[arch])
    if regression:
        model.compile(keras.optimizers.Adam(3e-3), "mse")
        # batch norm's moving statistics need a few hundred steps: small batches
        model.fit(Xtr, ytr, epochs=30, batch_size=16, verbose=0)
    else:
        model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
        model.fit(Xtr, ytr, epochs=10, batch_size=32, verbose=0)
    return model, Xte, yte


@pytest.fixture(scope="module")
def trained():
    """Each architecture trained once on the mock spectra: {arch: (model, X_test, y_test)}."""
    return {arch: train(arch) for arch in CONFIGS}


def feature_rows(arch, X, y):
    """Test spectra that carry the feature (class 1, or depth > 0.3)."""
    return X[y > 0.3] if arch == "resnet_regressor" else X[y == 1]


def window_ratio(maps: np.ndarray) -> float:
    """Mean fraction of map mass inside the ±30 Å window, in units of chance."""
    total = maps.sum(axis=1)
    assert np.all(total > 0), "some maps are all zero"
    return float((maps[:, WINDOW].sum(axis=1) / total).mean() / CHANCE)


# ------------------------------------------------------------------ training
def test_tiny_models_learn_the_feature(trained):
    for arch, (model, X, y) in trained.items():
        pred = model.predict(X, verbose=0)
        if arch == "resnet_regressor":
            # predicting the mean would give a mean absolute error of 0.15
            assert np.abs(pred[:, 0] - y).mean() < 0.07, arch
        else:
            assert (pred.argmax(axis=1) == y).mean() >= 0.95, arch


# -------------------------------------------------------------- localisation
@pytest.mark.parametrize("arch, method", [
    ("resnet_regressor", "gradcam"),
    ("resnet_regressor", "gradcam++"),
    ("bert_cnn", "gradcam"),
    ("bert_cnn", "hirescam"),
    ("cnn", "hirescam"),
    ("cnn", "layercam"),
])
def test_map_mass_concentrates_on_the_feature(trained, arch, method):
    model, X, y = trained[arch]
    rows = feature_rows(arch, X, y)
    target = None if arch == "resnet_regressor" else 1
    maps = gradcam(model, rows, target=target, method=method)
    assert maps.shape == (len(rows), NPIX) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and np.allclose(maps.max(axis=1), 1.0)
    assert window_ratio(maps) >= 3.0


def test_class_names_and_per_spectrum_targets(trained):
    model, X, y = trained["cnn"]
    rows = feature_rows("cnn", X, y)[:6]
    by_index = gradcam(model, rows, target=1, method="hirescam")
    by_name = gradcam(model, rows, target="line", classes=CLASSES, method="hirescam")
    per_row = gradcam(model, rows, target=[1] * len(rows), method="hirescam")
    default = gradcam(model, rows, method="hirescam")  # the predicted class, here "line"
    for other in (by_name, per_row, default):
        np.testing.assert_allclose(other, by_index, atol=1e-6)
    other_class = gradcam(model, rows, target=0, method="hirescam")
    assert not np.allclose(other_class, by_index)


def test_every_method_gives_normalised_maps(trained):
    for arch, (model, X, _) in trained.items():
        for method in METHODS:
            maps = gradcam(model, X[:3], method=method)
            assert maps.shape == (3, NPIX), (arch, method)
            assert np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1, (arch, method)


# ----------------------------------------------------------------- reference
@pytest.mark.parametrize("arch", ["cnn", "resnet_regressor", "bert_cnn"])
def test_tf_keras_vis_agrees_with_gradienttape_reference(trained, arch):
    model, X, y = trained[arch]
    ours = gradcam(model, X[:20], method="gradcam")
    ref = gradcam_reference(model, X[:20])
    assert ours.max() > 0
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    if arch == "cnn":  # also for an explicit, non-predicted class
        np.testing.assert_allclose(gradcam(model, X[:20], target=0), gradcam_reference(model, X[:20], target=0),
                                   atol=1e-5)


# ------------------------------------------------------------ models on disk
@pytest.mark.parametrize("arch", ["cnn", "resnet_regressor", "bert_cnn"])
def test_keras_file_round_trip(trained, tmp_path, arch):
    model, X, y = trained[arch]
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    rows = feature_rows(arch, X, y)
    method = "hirescam" if arch == "cnn" else "gradcam"
    target = None if arch == "resnet_regressor" else 1
    maps = gradcam(reloaded, rows, target=target, method=method)
    np.testing.assert_allclose(maps, gradcam(model, rows, target=target, method=method), atol=1e-5)
    assert window_ratio(maps) >= 3.0


def test_zoo_directory_round_trip_with_spectra(trained, tmp_path):
    from specnet import zoo
    from specnet.preprocess import PreprocessConfig

    model, X, y = trained["resnet_regressor"]
    config = PreprocessConfig(grid=GRID, normalisation="none", rest_frame=False, mask_channel=False,
                              clip=None)
    manifest = zoo.make_manifest("explain-test", "resnet_regressor", CONFIGS["resnet_regressor"], config,
                                 "mock", {"scale": "O0=0..M9=69", "min": 0.0, "max": 0.6})
    zoo.save(model, manifest, tmp_path / "model")
    zm = zoo.load(tmp_path / "model")
    rows = feature_rows("resnet_regressor", X, y)[:8]
    spectra = [Spectrum(WAVE, row[:, 0], meta={"id": str(i)}) for i, row in enumerate(rows)]
    from_spectra = gradcam(zm, spectra)
    np.testing.assert_allclose(from_spectra, gradcam(model, rows), atol=1e-4)
    assert window_ratio(from_spectra) >= 3.0
    # wave= resamples onto another grid (0 outside the model grid)
    other = np.linspace(3900.0, 6100.0, 300)
    on_other = gradcam(zm, spectra[:2], wave=other)
    assert on_other.shape == (2, 300) and np.all(on_other[:, other < WAVE[0]] == 0)


# ----------------------------------------------------------- mixed precision
@pytest.mark.parametrize("arch", list(CONFIGS))
def test_mixed_precision(arch):
    X, _ = mock_spectra(5, seed=3, regression=arch == "resnet_regressor")
    policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        model = build(arch, input_shape=(NPIX, 1), **CONFIGS[arch])
        assert model.get_layer(default_layer_name(model)).compute_dtype == "float16"
        for method in ("gradcam", "gradcam++", "hirescam", "scorecam"):
            maps = gradcam(model, X, method=method)
            assert maps.shape == (5, NPIX), method
            assert np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1, method
        ref = gradcam_reference(model, X)
        assert ref.shape == (5, NPIX) and np.all(np.isfinite(ref))
    finally:
        keras.mixed_precision.set_global_policy(policy)


# --------------------------------------------------------- layers and shapes
def test_default_layer_is_the_last_block_output():
    resnet = build("resnet_regressor", input_shape=(NPIX, 2), widths=(4, 4, 4, 4), stem_filters=4)
    assert default_layer_name(resnet) == "stage4_block3_out"
    cnn = build("cnn", input_shape=(NPIX, 2), filters=(4, 8), num_classes=3)
    assert default_layer_name(cnn) == "conv2"
    bert = build("bert_cnn", input_shape=(NPIX, 2), cnn_filters=(8, 8), embed_dim=8, num_heads=2)
    assert default_layer_name(bert) == "cnn2_conv"


def test_split_at_reproduces_the_model():
    keras.utils.set_random_seed(0)
    resnet = build("resnet_regressor", input_shape=(NPIX, 1), **CONFIGS["resnet_regressor"])
    X, _ = mock_spectra(4, seed=4, regression=True)
    upstream, head = split_at(resnet, "stage2_block1_conv2")
    with warnings.catch_warnings():  # keras: "The structure of `inputs` doesn't match"
        warnings.simplefilter("ignore", UserWarning)
        seeds = upstream(X)
    assert len(seeds) == 2  # the conv output and the projection shortcut
    np.testing.assert_allclose(head(seeds).numpy(), resnet(X).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="does not depend"):
        split_at(resnet, "stage2_block1_conv2", outputs=[resnet.get_layer("stem_conv").output])


def test_upsample_puts_positions_at_pixel_centres():
    cam = np.zeros((1, 16))
    cam[0, 5] = 1.0
    up = upsample_map(cam, 64)  # position j covers pixels 4j..4j+3, centre 4j+1.5
    assert up.shape == (1, 64)
    assert set(np.flatnonzero(up[0] == up[0].max())) == {21, 22}
    assert np.array_equal(upsample_map(cam, 16), cam)
    # BERT's patch embedding covers only npix // patch * patch pixels
    bert = build("bert_cnn", input_shape=(515, 1), patch_size=8, embed_dim=8, num_heads=2, num_layers=1,
                 ff_dim=8, cnn_filters=(4,), hidden_units=4)
    assert pixel_span(bert, 515) == 512
    assert pixel_span(build("cnn", input_shape=(515, 1), filters=(4,)), 515) == 515


def test_bert_maps_cover_npix_not_tokens():
    keras.utils.set_random_seed(0)
    bert = build("bert_cnn", input_shape=(NPIX, 1), **CONFIGS["bert_cnn"])
    X, _ = mock_spectra(2, seed=5, regression=False)
    assert bert.get_layer(default_layer_name(bert)).output.shape[1] == NPIX // 8
    assert gradcam(bert, X).shape == (2, NPIX)


def test_input_forms_and_argument_errors(trained):
    model, X, _ = trained["cnn"]
    one = gradcam(model, X[0], method="hirescam")              # (npix, C)
    flat = gradcam(model, X[:2, :, 0], method="hirescam")      # (N, npix) for a 1-channel model
    assert one.shape == (1, NPIX) and flat.shape == (2, NPIX)
    np.testing.assert_allclose(one[0], flat[0], atol=1e-6)
    with pytest.raises(ValueError, match="method"):
        gradcam(model, X[:2], method="saliency")
    with pytest.raises(ValueError, match="shape"):
        gradcam(model, np.zeros((2, 100, 1)))
    with pytest.raises(ValueError, match="class name"):
        gradcam(model, X[:2], target="nope", classes=CLASSES)
    with pytest.raises(ValueError, match="class index"):
        gradcam(model, X[:2], target=5)
    with pytest.raises(ValueError, match="No layer"):
        gradcam(model, X[:2], layer="no_such_layer")
    with pytest.raises(ValueError, match="ZooModel"):
        gradcam(model, [Spectrum(WAVE, X[0, :, 0])])
    regressor = trained["resnet_regressor"][0]
    with pytest.raises(ValueError, match="target must be None"):
        gradcam(regressor, X[:2], target=1)
    with pytest.raises(ValueError, match="one per spectrum"):
        resolve_targets([0, 1, 0], np.ones((2, 2)), None)


# ---------------------------------------------------------------- line list
def test_line_list_is_in_vacuum():
    air = {"Halpha": 6562.80, "Hbeta": 4861.33, "Ca II K": 3933.66, "Ca II H": 3968.47, "Na I D2": 5889.95,
           "Ca I 4227": 4226.73, "He I 4473": 4471.48, "He II 4687": 4685.70, "Ca II 8544": 8542.09}
    for name, w_air in air.items():
        assert abs(LINES[name].wave - float(air_to_vacuum(np.array([w_air]))[0])) < 0.05, name
    # band heads quoted in air (TiO 7054, CaH 6382, G band 4300) are stored in vacuum
    assert 7055.5 < LINES["TiO 7054"].wave < 7056.5 and 6383 < LINES["CaH 6382"].wave < 6384.5
    assert 4300.5 < LINES["G band"].wave < 4302
    assert {"A", "F"} <= set(LINES["Hbeta"].classes) and "M" in LINES["TiO 7054"].classes


def test_lines_in_and_window_mask():
    found = lines_in(3900, 4000)
    assert [line.name for line in found] == ["Ca II K", "Ca II H", "Hepsilon"]
    assert all(3700 <= line.wave <= 9100 for line in lines_in(3700, 9100))
    assert [line.name for line in lines_in(6000, 9000, classes=["M"])][:2] == ["TiO 6159", "CaH 6382"]
    wave = np.linspace(3700, 9100, 3909)
    chosen = get_lines(["Hbeta", "Mg b", 6000.0])
    brute = (np.abs(wave[:, None] - np.array([l.wave for l in chosen])[None, :]) <= 25).any(axis=1)
    np.testing.assert_array_equal(window_mask(wave, chosen, half_width=25), brute)
    assert not window_mask(wave, [], 30).any()
    with pytest.raises(ValueError, match="Unknown line"):
        get_lines(["Hzeta"])
    with pytest.raises(ValueError, match="half_width"):
        window_mask(wave, ["Hbeta"], half_width=-1)
    with pytest.raises(ValueError, match="wmin"):
        lines_in(5000, 4000)
