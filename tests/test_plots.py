"""specnet.plots: each figure is a headless Figure that saves a non-blank PNG with the right annotations."""
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from specnet.labels import parse_subtypes
from specnet.plots import (
    mk_ticks,
    plot_confusion_matrix,
    plot_error_histogram,
    plot_learning_curves,
    plot_pred_vs_true,
    save_figure,
)
from tests.conftest import fixture_rows


def lamost_labels_and_predictions(seed=0):
    """Real LAMOST pipeline subtypes of the fixtures (A0..M2) and seeded noisy predictions of them."""
    rows = [r for r in fixture_rows() if r["survey"] == "LAMOST"]
    t = parse_subtypes([r["subclass"] for r in rows])
    rng = np.random.default_rng(seed)
    return t, t + rng.normal(0.2, 1.3, t.size)


def assert_png_not_blank(path, min_bytes=5000):
    assert path.is_file() and path.stat().st_size > min_bytes
    img = imread(path)[..., :3]
    assert img.var() > 0
    non_white = (img < 0.95).any(axis=-1).mean()
    assert non_white > 0.01, f"{path.name} is nearly blank ({non_white:.3%} non-white pixels)"


def test_learning_curves_pair_training_and_validation(tmp_path):
    history = {"loss": [2.0, 1.1, 0.7, 0.5], "val_loss": [2.1, 1.4, 1.0, 0.9],
               "mae": [3.0, 2.1, 1.6, 1.3], "val_mae": [3.1, 2.4, 2.0, 1.8]}
    fig = plot_learning_curves(history, title="tiny run")
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in visible] == ["loss", "mae"]
    assert visible[0].get_yscale() == "log" and visible[1].get_yscale() == "linear"
    for ax in visible:
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
        assert ax.lines[0].get_ydata().tolist() == history[ax.get_ylabel()]
    assert_png_not_blank(save_figure(fig, tmp_path / "lc.png"))
    with pytest.raises(ValueError, match="non-empty"):
        plot_learning_curves({})
    with pytest.raises(ValueError, match=r"len\(history\['loss'\]\)=0"):
        plot_learning_curves({"loss": []})


def test_pred_vs_true_has_fit_band_and_mk_ticks(tmp_path):
    t, p = lamost_labels_and_predictions()
    fig = plot_pred_vs_true(t, p, title="LAMOST DR1 labels")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    xt = [x.get_text() for x in ax.get_xticklabels()]
    yt = [x.get_text() for x in ax.get_yticklabels()]
    assert {"A0", "F0", "G0", "K0", "M0"} <= set(xt) and xt == yt
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert legend[1:] == ["1:1", "second-order fit", "95% prediction band"]
    assert legend[0] == f"spectra (N={t.size})"
    assert ax.get_xlim() == ax.get_ylim()
    assert any("MAE" in x.get_text() and "Std" in x.get_text() for x in ax.texts)
    assert_png_not_blank(save_figure(fig, tmp_path / "pvt.png"))


def test_mk_ticks_follow_the_subtype_scale():
    assert mk_ticks(0, 69) == ([0, 10, 20, 30, 40, 50, 60], ["O0", "B0", "A0", "F0", "G0", "K0", "M0"])
    assert mk_ticks(48, 61) == ([50, 55, 60], ["K0", "K5", "M0"])
    assert mk_ticks(51.5, 54.2) == ([52, 53, 54], ["K2", "K3", "K4"])
    assert mk_ticks(-3, 95)[1][-2:] == ["L0", "T0"]  # nothing beyond T9 or below O0
    fig = plot_pred_vs_true([51, 52, 53, 54, 55], [51.2, 52.1, 52.7, 54.4, 55.0])
    assert "K3" in [x.get_text() for x in fig.axes[0].get_xticklabels()]


def test_pred_vs_true_validates_like_the_metrics():
    with pytest.raises(ValueError, match=r"len\(y_true\)=3, len\(y_pred\)=2"):
        plot_pred_vs_true([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        plot_pred_vs_true([40, 50, 60, 65], [41, np.nan, 60, 64])
    fig = plot_pred_vs_true([40, 50, 60, 65], [41, np.nan, 60, 64], nan_policy="omit")
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "spectra (N=3)"


def test_error_histogram_overlays_methods_on_shared_bins(tmp_path):
    t, p = lamost_labels_and_predictions()
    rng = np.random.default_rng(5)
    errors = {"ResNet": p - t, "SVM": rng.normal(0, 3.0, 500), "AdaBoost": rng.normal(0.5, 2.0, 500)}
    fig = plot_error_histogram(errors, title="Fig. 3")
    ax = fig.axes[0]
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert [s.split()[0] for s in legend] == ["ResNet", "SVM", "AdaBoost"]
    assert f"N={t.size}" in legend[0]
    assert len(ax.patches) == 3
    # each histogram sums to 1 (fraction of that method's spectra, outliers in the end bins)
    for patch in ax.patches:
        xy = patch.get_xy()
        heights = xy[1:-1:2, 1]
        assert heights.sum() == pytest.approx(1.0)
    lo, hi = ax.get_xlim()
    assert lo == pytest.approx(-hi)   # bins symmetric about 0
    assert_png_not_blank(save_figure(fig, tmp_path / "hist.png"))
    with pytest.raises(ValueError, match="'bad' with 0 finite"):
        plot_error_histogram({"bad": [np.nan]})


def test_confusion_matrix_annotates_counts(tmp_path):
    cm = [[50, 3, 0, 1], [4, 40, 6, 0], [0, 5, 45, 2], [1, 0, 7, 30]]
    classes = ["K1", "K3", "K5", "K7"]
    fig = plot_confusion_matrix(cm, classes)
    ax = fig.axes[0]
    texts = [x.get_text() for x in ax.texts]
    assert len(texts) == 16 and texts[0] == "50\n93%" and texts[1] == "3\n6%"
    assert [x.get_text() for x in ax.get_xticklabels()] == classes
    assert ax.get_ylabel() == "true class" and ax.get_xlabel() == "predicted class"
    assert_png_not_blank(save_figure(fig, tmp_path / "cm.png"))
    raw = plot_confusion_matrix(cm, classes, normalise=False)
    assert [x.get_text() for x in raw.axes[0].texts][:2] == ["50", "3"]
    with pytest.raises(ValueError, match=r"cm.shape=\(2, 2\), len\(classes\)=3"):
        plot_confusion_matrix([[1, 0], [0, 1]], ["a", "b", "c"])


def test_save_figure_writes_png_and_creates_folders(tmp_path):
    fig = plot_confusion_matrix([[3, 1], [0, 4]], ["A", "B"])
    out = save_figure(fig, tmp_path / "deep" / "folder" / "cm")
    assert out == tmp_path / "deep" / "folder" / "cm.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="Received: fig=list"):
        save_figure([], tmp_path / "x.png")


def test_modules_stay_light_and_headless():
    code = ("import sys, specnet.metrics, specnet.plots, specnet.report; "
            "bad = [m for m in ('tensorflow', 'keras', 'matplotlib.pyplot') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
