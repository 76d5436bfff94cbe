"""Figures of maps with line identifications, and ``explain_files`` on real LAMOST files."""
from __future__ import annotations

import csv
import os

import numpy as np
import pytest
from matplotlib.image import imread

from specnet.explain import explain_files, plot_class_means, plot_explanation, save_figure
from specnet.explain.plots import class_letters

WAVE = np.linspace(3700.0, 9100.0, 3000)


def _line(centre, depth, sigma=5.0):
    return depth * np.exp(-0.5 * ((WAVE - centre) / sigma) ** 2)


FLUX = 1.0 - _line(4862.69, 0.5) - _line(3934.78, 0.4) - _line(6564.61, 0.5)
CAM = np.exp(-0.5 * ((WAVE - 4862.69) / 40.0) ** 2)


def assert_png_has_content(path, min_bytes=10_000):
    """The file exists, is a PNG of some size, and the image is not one flat colour."""
    assert os.path.getsize(path) > min_bytes
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    img = imread(path)[..., :3]
    assert img.std() > 0.05
    colours = np.unique((img.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert len(colours) > 50  # the importance colour map shows many colours


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_plot_explanation_png_and_line_labels(tmp_path):
    fig = plot_explanation(WAVE, FLUX, CAM, title="mock A star")
    ax = fig.axes[0]
    labels = texts(ax)
    for expected in ("Hβ", "Hα", "Na D", "Mg b"):
        assert any(expected in t for t in labels), expected
    assert any("Ca K" in t for t in labels)  # merged with its close neighbours
    assert ax.get_title() == "mock A star"
    # the spectrum is a LineCollection coloured by the map: brightest at Hβ
    collection = [c for c in ax.collections if c.get_array() is not None][0]
    colours = np.asarray(collection.get_array())
    assert colours.size == WAVE.size - 1
    assert abs(WAVE[np.argmax(colours)] - 4862.69) < 5
    path = save_figure(fig, tmp_path / "sub" / "one.png")
    assert_png_has_content(path)


def test_plot_explanation_options_and_errors(tmp_path):
    import matplotlib.figure

    fig = matplotlib.figure.Figure()
    ax = fig.add_subplot()
    assert plot_explanation(WAVE, FLUX, CAM, lines=["Hbeta", 5000.0], ax=ax, show_map=False) is fig
    assert sorted(texts(ax)) == ["5000", "Hβ"]
    assert len(plot_explanation(WAVE, FLUX, CAM, lines=None).axes[0].texts) == 0
    flux = FLUX.copy()
    flux[100:200] = np.nan  # masked pixels are left out, not an error
    assert_png_has_content(save_figure(plot_explanation(WAVE, flux, CAM), tmp_path / "nan.png"))
    with pytest.raises(ValueError, match="cam must have shape"):
        plot_explanation(WAVE, FLUX, CAM[:-1])


def test_plot_class_means_panels(tmp_path):
    rng = np.random.default_rng(0)
    maps = np.clip(CAM[None, :] + 0.05 * rng.random((5, WAVE.size)), 0, 1)
    labels = ["A2V", 23.0, "F5", "K3III", "QSO"]
    fig = plot_class_means(WAVE, maps, labels, classes=("A", "F", "G", "K"))
    axes = [ax for ax in fig.axes if ax.get_title(loc="left")]
    titles = [ax.get_title(loc="left") for ax in axes]
    assert len(axes) == 4
    assert titles[0].startswith("A stars (n=2)") and "Hβ" in titles[0]
    assert titles[2].startswith("G stars (n=0)") and "3800–4400 Å" in titles[2]
    assert "Mg b" in titles[3] and "3699–4390 Å" in titles[3]
    assert any("no G spectra" in t for t in texts(axes[2]))
    assert any("Hγ" in t for t in texts(axes[0])) and any("Mg b" in t for t in texts(axes[3]))
    assert_png_has_content(save_figure(fig, tmp_path / "means.png"))
    with_flux = plot_class_means(WAVE, maps, labels, classes=("A",), fluxes=np.tile(FLUX, (5, 1)))
    assert_png_has_content(save_figure(with_flux, tmp_path / "means_flux.png"))
    with pytest.raises(ValueError, match="one label per map"):
        plot_class_means(WAVE, maps, labels[:2])
    with pytest.raises(ValueError, match="MK class letters"):
        plot_class_means(WAVE, maps, labels, classes=("X",))


def test_class_letters():
    assert class_letters([23.0, "K3V", "dM0", "G8.5", "QSO", float("nan")]).tolist() == \
        ["A", "K", "M", "G", "", ""]


# ------------------------------------------------------------- explain_files
@pytest.fixture(scope="module")
def tiny_zoo_model():
    """The resnet-lamost zoo entry with random weights (the pipeline, not the physics, is tested)."""
    import warnings

    import keras

    from specnet import zoo

    keras.utils.set_random_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "built with random, untrained weights"
        return zoo.load("resnet-lamost", weights=False)


def test_explain_files_on_real_lamost_files(tiny_zoo_model, tmp_path, fixtures_dir):
    paths = sorted(str(p) for p in (fixtures_dir / "lamost" / "dr10_table").glob("*.fits"))[:3]
    assert len(paths) == 3
    broken = tmp_path / "broken.fits"
    broken.write_bytes(open(paths[0], "rb").read()[:5000])  # truncated FITS
    out = tmp_path / "out"
    result = explain_files(tiny_zoo_model, paths + [str(broken)], out, method="gradcam")

    assert result["explained"] == 3 and result["rejected"] == 1
    with open(result["rejects_csv"], newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert len(rejects) == 1 and rejects[0]["path"] == str(broken)
    assert "broken.fits" in rejects[0]["reason"] and "truncated" in rejects[0]["reason"]

    assert [os.path.basename(p) for p in result["pngs"]] == [os.path.basename(p).replace(".fits", ".png")
                                                             for p in paths]
    for png in result["pngs"]:
        assert_png_has_content(png)

    npz = np.load(result["maps_npz"])
    npix = tiny_zoo_model.preprocess_config.grid.npix
    assert npz["maps"].shape == (3, npix) and npz["wave"].shape == (npix,)
    assert np.all(np.isfinite(npz["maps"])) and npz["maps"].min() >= 0 and npz["maps"].max() <= 1
    assert npz["paths"].tolist() == paths
    np.testing.assert_allclose(npz["wave"], tiny_zoo_model.preprocess_config.grid.wave)
    assert str(npz["method"]) == "gradcam" and str(npz["layer"]) == "stage4_block3_out"

    with open(result["maps_csv"], newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 4 and rows[0][:5] == ["path", "id", "predicted", "subtype", "explained"]
    assert len(rows[0]) == 5 + npix and [r[0] for r in rows[1:]] == paths
    np.testing.assert_allclose(np.array(rows[1][5:], float), npz["maps"][0], atol=1e-4)

    letters = class_letters(npz["subtype"]).tolist()
    assert set(result["class_means"]) == {c for c in letters if c in ("A", "F", "G", "K")}
    for png in result["class_means"].values():
        assert_png_has_content(png, min_bytes=5_000)
    assert os.path.exists(result["overview"])


def test_explain_files_argument_errors(tiny_zoo_model, tmp_path):
    with pytest.raises(ValueError, match="ZooModel"):
        explain_files(tiny_zoo_model.model, [], tmp_path)
    with pytest.raises(ValueError, match="method"):
        explain_files(tiny_zoo_model, [], tmp_path, method="occlusion")
    empty = explain_files(tiny_zoo_model, [str(tmp_path / "missing.fits")], tmp_path / "o")
    assert empty["explained"] == 0 and empty["rejected"] == 1 and empty["pngs"] == []
    assert np.load(empty["maps_npz"])["maps"].shape[0] == 0
