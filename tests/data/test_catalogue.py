"""specnet.data.catalogue: catalogue CSVs, folders, and label → target."""
from __future__ import annotations

import os

import pytest

from specnet.data.catalogue import Catalogue, infer_classes, label_to_target, read_catalogue, scan_folder
from specnet.errors import LabelError
from tests.conftest import FIXTURES, fixture_rows


def test_csv_paths_resolved_and_sorted(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "cat.csv").write_text(
        "id,path,label,snr\n1,b.fits,K3,10\n2,/abs/a.fits,G2V,5\n3,,M1,3\n4,c/d.fits,,7\n")
    cat = read_catalogue(tmp_path / "sub" / "cat.csv")
    assert cat.paths == sorted(cat.paths)
    assert cat.paths == ["/abs/a.fits", str(tmp_path / "sub" / "b.fits"), str(tmp_path / "sub" / "c" / "d.fits")]
    assert cat.labels == ["G2V", "K3", ""]                    # the row without a path is dropped
    # a chosen label column; the order of rows never matters
    (tmp_path / "x.csv").write_text("file,subtype,spt\nz.fits,53.0,K3\na.fits,20.0,A0\n")
    cat = read_catalogue(tmp_path / "x.csv", label_column="subtype", path_column="file")
    assert [os.path.basename(p) for p in cat.paths] == ["a.fits", "z.fits"] and cat.labels == ["20.0", "53.0"]
    assert read_catalogue(tmp_path / "x.csv", path_column="file").labels == ["A0", "K3"]  # 'spt' found


def test_csv_errors(tmp_path):
    (tmp_path / "c.csv").write_text("file,label\na.fits,K3\n")
    with pytest.raises(ValueError, match="no 'path' column"):
        read_catalogue(tmp_path / "c.csv")
    with pytest.raises(ValueError, match="label_column='spt'"):
        read_catalogue(tmp_path / "c.csv", label_column="spt", path_column="file")
    with pytest.raises(ValueError, match="does not exist"):
        read_catalogue(tmp_path / "none.csv")


def test_folder_scan_of_real_fixtures():
    files = scan_folder(FIXTURES / "lamost")
    expected = sorted(r["abspath"] for r in fixture_rows() if r["survey"] == "LAMOST")
    assert files == expected and len(files) == 98              # .fits and .fits.gz, recursive
    cat = read_catalogue(FIXTURES / "lamost" / "dr2_dr7_image")
    assert len(cat) == 4 and cat.labels == [None] * 4           # labels will come from the headers


def test_folder_with_catalogue_csv(tmp_path):
    (tmp_path / "x.fits").write_bytes(b"")
    (tmp_path / "catalogue.csv").write_text("path,label\nx.fits,F5\n")
    cat = read_catalogue(tmp_path)
    assert cat.paths == [str(tmp_path / "x.fits")] and cat.labels == ["F5"]
    assert read_catalogue(cat) == cat.sorted()


def test_catalogue_validation():
    with pytest.raises(ValueError, match="len\\(labels\\)=1"):
        Catalogue(["a", "b"], ["K3"])


@pytest.mark.parametrize("text, value", [("K3V", 53.0), ("G8.5", 48.5), ("dM0", 60.0), ("53.5", 53.5), (12, 12.0),
                                         ("m2p5v", 62.5)])
def test_regression_targets(text, value):
    assert label_to_target(text) == value


@pytest.mark.parametrize("text", ["QSO", "", None, float("nan"), "STARFORMING", "WDhotter", "123", "-1"])
def test_unusable_labels_raise_label_error(text):
    with pytest.raises(LabelError):
        label_to_target(text)


def test_classification_targets():
    classes = ["K1", "K3", "K5", "K7"]
    assert [label_to_target(t, "classification", classes) for t in ("K1", "K3V", "K5III", "k7")] == [0, 1, 2, 3]
    with pytest.raises(LabelError, match="not one of the classes"):
        label_to_target("K4", "classification", classes)
    with pytest.raises(LabelError):
        label_to_target("GALAXY", "classification", classes)
    with pytest.raises(ValueError, match="classes=None"):
        label_to_target("K1", "classification")
    with pytest.raises(ValueError, match="task='ranking'"):
        label_to_target("K1", "ranking")


def test_infer_classes_sorted_along_the_scale():
    subclasses = [r["subclass"] for r in fixture_rows() if r["path"].startswith("lamost/dr10_table/")]
    assert infer_classes(subclasses) == ["F2", "F5", "F9", "G0", "G3", "K1", "K3", "K7"]
    assert infer_classes(["M0", "A1V", "QSO", None, "", "A1"]) == ["A1", "M0"]
