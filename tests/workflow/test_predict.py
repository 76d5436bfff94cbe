"""specnet-predict: streams files, keeps every row across a resume, rejects bad files with the reason."""
import csv

import numpy as np
import pytest

from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def mock_files(tmp_path_factory):
    from specnet.demo import demo_spectra

    out = tmp_path_factory.mktemp("mock")
    _, cat = demo_spectra(24, seed=7, out_dir=out)
    paths = [str(out / p) if not str(p).startswith("/") else str(p) for p in cat["path"]]
    broken = out / "broken.fits"
    broken.write_bytes(open(paths[0], "rb").read()[:5000])  # a truncated FITS file
    empty = out / "empty.fits"
    empty.write_bytes(b"")
    return paths, [str(broken), str(empty)]


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_predict_resumes_and_keeps_every_row(tiny_run, mock_files, tmp_path):
    from specnet.predict import predict_files

    good, bad = mock_files
    files = good[:12] + bad + good[12:]
    out = tmp_path / "pred.csv"
    stats = predict_files(tiny_run.model_dir, files, out, batch_size=5, progress=False)
    assert stats["written"] == len(good) and stats["rejected"] == 2
    first = _rows(out)
    # simulate a run killed part-way: keep the header and 7 rows, then rerun
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:8]))
    stats2 = predict_files(tiny_run.model_dir, files, out, batch_size=5, progress=False)
    assert stats2["skipped"] == 7 + 2 and stats2["written"] == len(good) - 7
    rows = _rows(out)
    assert sorted(r["path"] for r in rows) == sorted(good)  # every file once, none lost, none twice
    by_path = {r["path"]: r for r in first}
    for r in rows:  # the resumed rows equal the uninterrupted ones
        assert float(r["subtype"]) == pytest.approx(float(by_path[r["path"]]["subtype"]), abs=1e-4)
    rejects = _rows(tmp_path / "pred.rejects.csv")
    assert sorted(r["path"] for r in rejects) == sorted(bad)
    assert all(r["reason"] and r["path"].split("/")[-1] in r["reason"] for r in rejects)


def test_predict_writes_fits_and_flags_non_stellar_inputs(tiny_run, tmp_path):
    from astropy.table import Table

    from specnet.predict import predict_files

    files = [str(FIXTURES / "lamost/dr10_table/3703110.fits"),
             str(FIXTURES / "sdss/spec_dr8plus/spec-0548-51986-0020.fits"),   # a QSO
             str(FIXTURES / "sdss/spec_dr8plus/spec-1942-53415-0073.fits")]   # a sky fibre
    out = tmp_path / "pred.fits"
    predict_files(tiny_run.model_dir, files, out, progress=False)
    t = Table.read(out)
    assert len(t) == 3 and not (tmp_path / "pred.fits.partial.csv").exists()
    flags = {str(p).split("/")[-1]: str(f) for p, f in zip(t["path"], t["flags"])}
    assert "non_stellar" in flags["spec-0548-51986-0020.fits"]
    assert "low_snr" in flags["spec-1942-53415-0073.fits"]
    assert np.isfinite(np.asarray(t["subtype"], float)).all()


def test_predict_rejects_an_unknown_output_suffix(tiny_run, tmp_path):
    from specnet.predict import predict_files

    with pytest.raises(ValueError, match="Received: output="):
        predict_files(tiny_run.model_dir, [], tmp_path / "x.txt")
