"""specnet.report: report.json equals what write_report returns; report.md and the PNGs are written."""
import json
import re

import numpy as np
import pytest

from specnet.metrics import classification_metrics, per_class_regression, regression_metrics
from specnet.report import markdown_table, write_report
from tests.test_plots import assert_png_not_blank, lamost_labels_and_predictions

HISTORY = {"loss": [1.9, 1.0, 0.6], "val_loss": [2.0, 1.2, 0.9], "mae": [2.5, 1.6, 1.2], "val_mae": [2.6, 1.9, 1.5]}


def test_regression_report_writes_json_markdown_and_figures(tmp_path):
    t, p = lamost_labels_and_predictions(seed=1)
    extra = {"model": "resnet-lamost", "epochs": np.int64(3), "val_mae": np.float32(1.5), "bad": float("nan"),
             "grid": {"npix": 3909, "log_step": 1e-4}}
    out = tmp_path / "eval"
    m = write_report(out, "regression", t, p, history=HISTORY, extra=extra, title="LAMOST DR1 check")
    assert json.loads((out / "report.json").read_text()) == m
    assert m["overall"] == regression_metrics(t, p)
    assert m["per_class"] == per_class_regression(t, p)
    assert list(m["per_class"]) == ["A", "F", "G", "K", "M"]
    assert len(m["second_order_fit"]["coeffs"]) == 3
    assert m["extra"] == {"model": "resnet-lamost", "epochs": 3, "val_mae": 1.5, "bad": None,
                          "grid": {"npix": 3909, "log_step": 1e-4}}
    assert m["figures"] == ["pred_vs_true.png", "error_hist.png", "learning_curves.png"]
    for name in m["figures"]:
        assert_png_not_blank(out / name)
    md = (out / "report.md").read_text()
    assert md.startswith("# LAMOST DR1 check")
    assert "| metric           | value |" in md
    assert re.search(r"^\| class \|\s+n \|\s+mae \|\s+std \|\s+bias \|", md, flags=re.M)
    assert re.search(r"^\| K\s+\|\s+\d+ \|", md, flags=re.M)
    assert f"|{m['overall']['mae']:.3f}|" in md.replace(" ", "")
    for name in m["figures"]:
        assert f"]({name})" in md


def test_classification_report_writes_confusion_matrix(tmp_path):
    classes = ["K1", "K3", "K5", "K7"]
    rng = np.random.default_rng(11)
    t = rng.integers(0, 4, 200)
    p = np.where(rng.random(200) < 0.75, t, rng.integers(0, 4, 200))
    m = write_report(tmp_path, "classification", t, p, classes=classes)
    assert json.loads((tmp_path / "report.json").read_text()) == m
    assert m["overall"] == classification_metrics(t, p, classes)
    assert m["figures"] == ["confusion_matrix.png"] and "per_class" not in m
    assert_png_not_blank(tmp_path / "confusion_matrix.png")
    md = (tmp_path / "report.md").read_text()
    assert "| class | precision | recall |    f1 | support |" in md
    assert "| true \\ predicted |" in md
    cm_row = "| K1 | " + " | ".join(str(v) for v in m["overall"]["confusion_matrix"][0]) + " |"
    assert cm_row.replace(" ", "") in md.replace(" ", "")
    assert not (tmp_path / "pred_vs_true.png").exists()


def test_report_validation(tmp_path):
    with pytest.raises(ValueError, match="task='ranking'"):
        write_report(tmp_path, "ranking", [1], [1])
    with pytest.raises(ValueError, match="classes=None"):
        write_report(tmp_path, "classification", [0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"len\(y_true\)=2, len\(y_pred\)=3"):
        write_report(tmp_path, "regression", [40, 50], [40, 50, 60])
    with pytest.raises(ValueError, match="JSON-serialisable"):
        write_report(tmp_path, "regression", [40, 45, 50, 55], [40, 45, 50, 55], extra={"f": object()})
    assert not list(tmp_path.iterdir())  # nothing written when the inputs are refused


def test_markdown_table_layout():
    rows = [{"method": "ResNet", "mae": 1.0234, "n": 1200},
            {"method": "SVM | RBF", "mae": 2.5, "n": 1200},
            {"method": "K-Means", "n": 900}]
    text = markdown_table(rows, [("method", "Method"), ("mae", "MAE"), ("n", "N")])
    lines = text.splitlines()
    assert lines[0] == "| Method     |   MAE |    N |"
    assert lines[1] == "|:-----------|------:|-----:|"
    assert lines[2] == "| ResNet     | 1.023 | 1200 |"
    assert lines[3] == "| SVM \\| RBF | 2.500 | 1200 |"   # pipes escaped
    assert lines[4] == "| K-Means    |       |  900 |"   # missing key -> empty cell
    assert len({len(line) for line in lines}) == 1
    assert markdown_table(rows[:1], ["method", "mae"], floatfmt=".1f").splitlines()[2] == "| ResNet | 1.0 |"
    assert markdown_table(rows[:1], {"n": "count"}).splitlines()[0] == "| count |"
    with pytest.raises(ValueError, match="columns"):
        markdown_table(rows, [])
    with pytest.raises(ValueError, match="rows"):
        markdown_table({"a": 1}, ["a"])
