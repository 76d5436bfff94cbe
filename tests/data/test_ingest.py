"""specnet.data.ingest on real LAMOST fixtures plus deliberately broken files."""
from __future__ import annotations

import csv
import importlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from specnet.data import ingest, load_manifest, read_shard
from specnet.io import read_spectrum
from specnet.labels import parse_subtype
from specnet.preprocess import PreprocessConfig, preprocess
from tests.conftest import FIXTURES, fixture_rows

CONFIG = PreprocessConfig()
#: The 16 real LAMOST fixtures of the three survey layouts (DR10 table, DR2-7 image, DR1 no-wave image).
GOOD_ROWS = [r for r in fixture_rows() if r["survey"] == "LAMOST" and not r["path"].startswith("lamost/dr1_calibration")]
DR10 = FIXTURES / "lamost" / "dr10_table" / "3703110.fits"


def _dr10_copy(dst: Path, flux=None, ivar=None) -> Path:
    """A real DR10 file with its FLUX/IVAR vectors rewritten by the given functions."""
    with fits.open(DR10) as hdul:
        data = hdul[1].data
        if flux is not None:
            data["FLUX"][0] = flux(np.array(data["FLUX"][0]))
        if ivar is not None:
            data["IVAR"][0] = ivar(np.array(data["IVAR"][0]))
        hdul.writeto(dst, output_verify="silentfix")
    return dst


def _make_broken(tmp: Path) -> dict[str, tuple[str, str]]:
    """Broken inputs: name -> (path, label)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "empty.fits").write_bytes(b"")
    (tmp / "truncated.fits").write_bytes(DR10.read_bytes()[:5000])
    (tmp / "random.fits").write_bytes(np.random.default_rng(7).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    shutil.copy(DR10, tmp / "qso.fits")
    _dr10_copy(tmp / "nan_flux.fits", flux=lambda f: np.full_like(f, np.nan))
    npix = 3909
    _dr10_copy(tmp / "low_coverage.fits", ivar=lambda v: np.where(np.arange(npix) < 0.7 * npix, 0.0, v))
    return {
        "empty": (str(tmp / "empty.fits"), "K3"),
        "truncated": (str(tmp / "truncated.fits"), "K3"),
        "random": (str(tmp / "random.fits"), "K3"),
        "qso": (str(tmp / "qso.fits"), "QSO"),
        "missing": (str(tmp / "no_such_dir" / "missing.fits"), "G2"),
        "nan_flux": (str(tmp / "nan_flux.fits"), "K7"),
        "low_coverage": (str(tmp / "low_coverage.fits"), "K7"),
    }


def _write_catalogue(path: Path, rows) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "note"])
        for p, lab in rows:
            w.writerow([p, lab, "x"])
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One ingest (float32 storage, 2 worker processes, 4 shards) over good + broken files."""
    tmp = tmp_path_factory.mktemp("ingest")
    broken = _make_broken(tmp / "broken")
    good = [(r["abspath"], r["subclass"]) for r in GOOD_ROWS]
    cat = _write_catalogue(tmp / "catalogue.csv", good + list(broken.values()))
    out = tmp / "shards"
    res = ingest(cat, CONFIG, out, shard_size=6, n_jobs=2, progress=False, x_dtype="float32", chunk_size=4)
    return {"res": res, "out": out, "good": good, "broken": broken, "cat": cat, "tmp": tmp}


def _all_records(out: Path) -> dict[str, np.ndarray]:
    m = load_manifest(out)
    parts = [read_shard(out / s["file"], m) for s in m["shards"]]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def test_good_files_in_shards_and_broken_in_rejects(run):
    res, good, broken = run["res"], run["good"], run["broken"]
    assert len(good) == 16
    assert res.n_examples == len(good)
    assert res.n_rejected == len(broken)
    rejects = {r["path"]: r["reason"] for r in res.rejects()}
    assert set(rejects) == {p for p, _ in broken.values()}
    reason = {name: rejects[p] for name, (p, _) in broken.items()}
    assert reason["empty"].startswith("read:") and "empty" in reason["empty"]
    assert reason["truncated"].startswith("read:") and "truncated" in reason["truncated"]
    assert reason["random"].startswith("read:")
    assert reason["missing"].startswith("read:") and "no such file" in reason["missing"]
    assert reason["qso"].startswith("label:") and "QSO" in reason["qso"]
    assert "no usable pixel" in reason["nan_flux"] or reason["nan_flux"].startswith("read:")
    assert reason["low_coverage"].startswith("coverage:")
    for text in rejects.values():  # every message names the file or the label
        assert len(text) > 10
    recs = _all_records(run["out"])
    assert sorted(recs["path"].tolist()) == sorted(p for p, _ in good)


def test_shard_contents_equal_preprocess(run):
    recs = _all_records(run["out"])
    order = np.argsort(recs["path"])
    paths = recs["path"][order]
    X, mask = preprocess([read_spectrum(p) for p in paths], CONFIG)
    np.testing.assert_array_equal(recs["x"][order], X)
    np.testing.assert_array_equal(recs["mask"][order], mask)
    labels = dict(run["good"])
    np.testing.assert_allclose(recs["label"][order], [parse_subtype(labels[p]) for p in paths])
    assert recs["x"].dtype == np.float32 and recs["x"].shape[1:] == CONFIG.input_shape


def test_manifest_describes_the_shards(run):
    res, out = run["res"], run["out"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["format"] == "specnet-shards" and m["task"] == "regression" and m["classes"] is None
    assert m["config"] == CONFIG.to_dict()
    assert m["npix"] == 3909 and m["x_channels"] == 1 and m["mask_channel"] is True
    assert m["n_examples"] == res.n_examples and m["n_rejects"] == res.n_rejected
    assert m["n_files"] == len(run["good"]) + len(run["broken"])
    assert len(m["shards"]) == -(-m["n_files"] // 6)
    assert sum(s["count"] for s in m["shards"]) == res.n_examples
    assert sum(s["files"] for s in m["shards"]) == m["n_files"]
    for s in m["shards"]:
        assert (out / s["file"]).is_file()
        assert s["count"] == len(read_shard(out / s["file"])["label"])
    assert {"specnet", "numpy", "tensorflow", "astropy"} <= set(m["versions"])


def test_rerun_resumes_only_the_missing_shard(run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(run["out"], out)
    shards = sorted(out.glob("shard-*.tfrecord.gz"))
    before = {p.name: p.stat().st_mtime_ns for p in shards}
    # a complete rerun rewrites nothing
    again = ingest(run["cat"], CONFIG, out, shard_size=6, n_jobs=1, progress=False, x_dtype="float32", chunk_size=4)
    assert again.n_shards_written == 0 and again.n_shards_skipped == len(shards)
    assert {p.name: p.stat().st_mtime_ns for p in shards} == before
    # simulate a kill: one shard is gone and a half-written temporary is left over
    victim = shards[2]
    victim.unlink()
    (out / ("." + victim.name + ".tmp")).write_bytes(b"partial")
    res = ingest(run["cat"], CONFIG, out, shard_size=6, n_jobs=1, progress=False, x_dtype="float32", chunk_size=4)
    assert res.n_shards_written == 1 and res.n_shards_skipped == len(shards) - 1
    after = {p.name: p.stat().st_mtime_ns for p in sorted(out.glob("shard-*.tfrecord.gz"))}
    assert set(after) == set(before)
    changed = [name for name in after if after[name] != before[name]]
    assert changed == [victim.name]
    assert not list(out.glob(".*.tmp"))
    assert res.n_examples == run["res"].n_examples and res.n_rejected == run["res"].n_rejected
    np.testing.assert_array_equal(read_shard(victim)["x"], read_shard(run["out"] / victim.name)["x"])
    assert sorted(map(str, res.rejects())) == sorted(map(str, run["res"].rejects()))


def test_interrupted_run_keeps_only_complete_shards(run, tmp_path, monkeypatch):
    mod = importlib.import_module("specnet.data.ingest")  # the module (specnet.data.ingest is the function)
    real, calls = mod._process_chunk, {"n": 0}

    def killed_on_fourth_chunk(rows):
        calls["n"] += 1
        if calls["n"] == 4:  # shard 0 is chunks 1-2, shard 1 dies in its second chunk
            raise KeyboardInterrupt
        return real(rows)

    monkeypatch.setattr(mod, "_process_chunk", killed_on_fourth_chunk)
    out = tmp_path / "out"
    kw = dict(shard_size=6, n_jobs=1, progress=False, x_dtype="float32", chunk_size=4)
    with pytest.raises(KeyboardInterrupt):
        ingest(run["cat"], CONFIG, out, **kw)
    assert [p.name for p in out.glob("shard-*")] == ["shard-00000-of-00004.tfrecord.gz"]
    assert not list(out.glob(".*.tmp")) and not (out / "manifest.json").exists()
    monkeypatch.setattr(mod, "_process_chunk", real)
    res = ingest(run["cat"], CONFIG, out, **kw)
    assert res.n_shards_skipped == 1 and res.n_shards_written == 3
    for s in res.shards:
        np.testing.assert_array_equal(read_shard(s)["x"], read_shard(run["out"] / s.name)["x"])


def test_changed_config_rewrites_shards(run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(run["out"], out)
    res = ingest(run["cat"], PreprocessConfig(normalisation="median"), out, shard_size=6, n_jobs=1,
                 progress=False, x_dtype="float32", chunk_size=4)
    assert res.n_shards_skipped == 0
    assert load_manifest(out)["config"]["normalisation"] == "median"


def test_folder_input_takes_labels_from_headers(tmp_path):
    folder = FIXTURES / "lamost" / "dr10_table"
    res = ingest(folder, CONFIG, tmp_path / "out", shard_size=4096, n_jobs=1, progress=False)
    rows = {r["abspath"]: r["subclass"] for r in fixture_rows() if r["path"].startswith("lamost/dr10_table/")}
    assert res.n_examples == len(rows) == 8 and res.n_rejected == 0
    recs = read_shard(res.shards[0])
    got = dict(zip(recs["path"], recs["label"]))
    assert set(got) == set(rows)
    for p, label in got.items():
        assert label == pytest.approx(parse_subtype(rows[p]))
    # float16 storage (the default) stays within float16 rounding of preprocess
    X, _ = preprocess([read_spectrum(p) for p in recs["path"]], CONFIG)
    np.testing.assert_allclose(recs["x"], X, rtol=1e-3, atol=2e-3)
    assert recs["id"].tolist() == [str(read_spectrum(p).meta["id"]) for p in recs["path"]]


def test_folder_with_catalogue_csv_and_relative_paths(tmp_path):
    data = tmp_path / "mock"
    (data / "spec").mkdir(parents=True)
    rows = GOOD_ROWS[:3]
    for r in rows:
        shutil.copy(r["abspath"], data / "spec" / Path(r["path"]).name)
    _write_catalogue(data / "catalogue.csv", [(f"spec/{Path(r['path']).name}", r["subclass"]) for r in rows])
    res = ingest(data, CONFIG, tmp_path / "out", n_jobs=1, progress=False)
    assert res.n_examples == 3 and res.n_rejected == 0
    assert all(p.startswith(str(data / "spec")) for p in read_shard(res.shards[0])["path"])


def test_classification_labels_and_classes(tmp_path):
    rows = [(r["abspath"], r["subclass"]) for r in GOOD_ROWS[:8]]  # the DR10 files: K7 G0 F5 K3 G3 F2 F9 K1
    cat = _write_catalogue(tmp_path / "cat.csv", rows)
    classes = ["F2", "F5", "G0", "K3"]
    res = ingest(cat, CONFIG, tmp_path / "out", task="classification", classes=classes, n_jobs=1, progress=False)
    recs = read_shard(res.shards[0])
    assert recs["label"].dtype == np.int64
    labels = dict(rows)
    assert {p: classes[i] for p, i in zip(recs["path"], recs["label"])} == {
        p: lab for p, lab in labels.items() if lab in classes}
    rej = res.rejects()
    assert len(rej) == 4 and all("is not one of the classes" in r["reason"] for r in rej)
    assert res.manifest["classes"] == classes and res.manifest["label_dtype"] == "int64"
    # classes inferred from the catalogue when not given, sorted along the subtype scale
    res2 = ingest(cat, CONFIG, tmp_path / "out2", task="classification", n_jobs=1, progress=False)
    assert res2.manifest["classes"] == ["F2", "F5", "F9", "G0", "G3", "K1", "K3", "K7"]
    assert res2.n_rejected == 0


def test_progress_bar_shows_rate(tmp_path, capsys):
    cat = _write_catalogue(tmp_path / "cat.csv", [(r["abspath"], r["subclass"]) for r in GOOD_ROWS[:2]])
    ingest(cat, CONFIG, tmp_path / "out", n_jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "ingest" in err and "spec/s" in err and "2/2" in err


@pytest.mark.parametrize("kwargs, text", [
    ({"task": "ranking"}, "task="),
    ({"shard_size": 0}, "shard_size=0"),
    ({"n_jobs": 0}, "n_jobs=0"),
    ({"x_dtype": "int8"}, "x_dtype='int8'"),
    ({"min_coverage": 2.0}, "min_coverage=2.0"),
    ({"classes": ["K1", "K1"], "task": "classification"}, "classes="),
])
def test_invalid_arguments(tmp_path, kwargs, text):
    cat = _write_catalogue(tmp_path / "cat.csv", [(GOOD_ROWS[0]["abspath"], "K7")])
    with pytest.raises(ValueError, match="Received") as info:
        ingest(cat, CONFIG, tmp_path / "out", progress=False, **kwargs)
    assert text in str(info.value)


def test_invalid_config_and_catalogue(tmp_path):
    with pytest.raises(ValueError, match="PreprocessConfig"):
        ingest(tmp_path, {"grid": None}, tmp_path / "out", progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        ingest(tmp_path / "nothing.csv", CONFIG, tmp_path / "out", progress=False)
    assert not os.path.exists(tmp_path / "out" / "manifest.json")


def test_mock_survey_folder_with_numeric_subtype_labels(tmp_path):
    from astropy.table import Table

    from specnet.simulate import builtin_library, mock_survey

    mock_survey(builtin_library(), 24, out_dir=tmp_path / "mock", seed=3, n_jobs=1, return_spectra=False)
    cat = Table.read(tmp_path / "mock" / "catalogue.csv", format="ascii.csv")
    res = ingest(tmp_path / "mock", CONFIG, tmp_path / "out", label_column="subtype", n_jobs=1, progress=False)
    assert res.n_examples == 24 and res.n_rejected == 0
    recs = read_shard(res.shards[0])
    truth = {str(tmp_path / "mock" / p): s for p, s in zip(cat["path"], cat["subtype"])}
    assert set(recs["path"]) == set(truth)
    np.testing.assert_allclose(recs["label"], [truth[p] for p in recs["path"]], rtol=1e-6)  # fractional subtypes
    # the default label column is the MK string ("K3V"), parsed to its (rounded) subtype
    res2 = ingest(tmp_path / "mock", CONFIG, tmp_path / "out2", n_jobs=1, progress=False)
    lab = dict(zip(cat["path"], cat["label"]))
    recs2 = read_shard(res2.shards[0])
    np.testing.assert_allclose(recs2["label"], [parse_subtype(lab[os.path.relpath(p, tmp_path / "mock")])
                                                for p in recs2["path"]])
