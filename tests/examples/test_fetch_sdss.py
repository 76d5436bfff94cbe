"""examples/sdss_kfg/fetch_sdss.py: SQL, selection and file handling, on the real SDSS fixtures (no network)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import FIXTURES, fixture_rows
from tests.examples import load_script

fetch = load_script("sdss_kfg/fetch_sdss.py", "specnet_examples_fetch_sdss")
common = load_script("common.py", "specnet_examples_common")

SDSS_DIR = FIXTURES / "sdss" / "spec_dr8plus"


def _fixture_specobjs() -> list[dict]:
    return [fetch.read_specobj(SDSS_DIR / p.name) for p in sorted(SDSS_DIR.glob("spec-*.fits"))]


def test_tasks_and_windows_cover_the_paper():
    assert fetch.PAPER_TASKS == {"K": ("K1", "K3", "K5", "K7"), "F": ("F2", "F5", "F9"), "G": ("G0", "G2", "G5")}
    assert set(fetch.SNR_WINDOWS) == {c for cs in fetch.PAPER_TASKS.values() for c in cs}
    assert fetch.SNR_WINDOWS["F9"] == (75.0, 80.0) and fetch.SNR_WINDOWS["G5"] == (40.0, 70.0)
    assert all(fetch.SNR_WINDOWS[c] == (60.0, 65.0) for c in fetch.PAPER_TASKS["K"])


@pytest.mark.parametrize("subclass", sorted(fetch.SNR_WINDOWS))
def test_build_sql_selects_one_subclass_in_its_window(subclass):
    lo, hi = fetch.SNR_WINDOWS[subclass]
    sql = fetch.build_sql(subclass, top=25)
    assert sql.startswith("SELECT TOP 25 s.specObjID, s.plate, s.mjd, s.fiberID")
    assert "FROM SpecObj AS s" in sql and "s.class = 'STAR'" in sql and "s.zWarning = 0" in sql
    assert f"s.subClass = '{subclass}'" in sql and f"s.snMedian BETWEEN {lo:g} AND {hi:g}" in sql
    assert sql.rstrip().endswith("ORDER BY s.specObjID")
    assert "TOP" not in fetch.build_sql(subclass)


def test_build_sql_refuses_bad_input():
    with pytest.raises(ValueError, match="plain subclass"):
        fetch.build_sql("K1'; DROP TABLE SpecObj --")
    with pytest.raises(ValueError, match="no S/N window"):
        fetch.build_sql("M2")
    with pytest.raises(ValueError, match="top"):
        fetch.build_sql("K1", top=0)
    with pytest.raises(ValueError, match="task"):
        fetch.task_queries("M")


def test_task_queries_one_per_subclass():
    queries = fetch.task_queries("K", top_per_class=10)
    assert list(queries) == ["K1", "K3", "K5", "K7"]
    assert all(f"'{c}'" in sql and "TOP 10" in sql for c, sql in queries.items())


def test_read_specobj_matches_the_fixture_index():
    index = {r["path"].split("/")[-1]: r for r in fixture_rows() if r["path"].startswith("sdss/spec_dr8plus/")}
    rows = _fixture_specobjs()
    assert len(rows) == len(index) == 13
    for row in rows:
        ref = index[row["path"].split("/")[-1]]
        assert row["class"] == ref["obj_class"] and row["subclass"] == ref["subclass"]
        assert row["snr"] == pytest.approx(float(ref["snr_g"]), rel=1e-5)
        assert fetch.spec_filename(row["plate"], row["mjd"], row["fiberid"]) == row["path"].split("/")[-1]


def test_read_specobj_refuses_a_dr7_file():
    dr7 = next((FIXTURES / "sdss" / "spSpec_dr7").glob("spSpec-*.fit"))
    with pytest.raises(ValueError, match="SPECOBJ"):
        fetch.read_specobj(dr7)


def test_select_rows_rejects_every_fixture_for_the_right_reason():
    rows = _fixture_specobjs()
    for task in fetch.PAPER_TASKS:
        selected, rejected = fetch.select_rows(rows, task)
        assert selected == [] and len(rejected) == len(rows)
    _, rejected = fetch.select_rows(rows, "F")
    reasons = {fetch.spec_filename(r["plate"], r["mjd"], r["fiberid"]): r["reason"] for r in rejected}
    assert reasons["spec-0548-51986-0020.fits"] == "class 'QSO' is not STAR"
    assert reasons["spec-3128-54776-0008.fits"] == "S/N 66.3 outside the F9 window 75-80"  # a real F9, too faint
    assert reasons["spec-2342-53742-0192.fits"] == "S/N 0.63 outside the F9 window 75-80"  # a sky fibre
    assert reasons["spec-4455-55539-0692.fits"].startswith("subclass 'WDhotter'")


def test_select_rows_keeps_the_f9_star_in_a_wider_window():
    windows = {**fetch.SNR_WINDOWS, "F9": (60.0, 70.0)}
    selected, _ = fetch.select_rows(_fixture_specobjs(), "F", windows=windows)
    assert [(r["plate"], r["mjd"], r["fiberid"], r["label"], r["task"]) for r in selected] == [(3128, 54776, 8, "F9", "F")]


def _query_like_rows(n_each: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for c in ("K1", "K3", "K5", "K7"):
        for i in range(n_each):
            rows.append({"plate": 1000 + i, "mjd": 55000, "fiberID": len(rows) + 1, "class": "STAR", "subClass": c,
                         "snMedian": float(rng.uniform(58, 67)), "zWarning": 0})
    return rows


def test_select_rows_quota_is_seeded_and_per_class():
    rows = _query_like_rows(20)
    in_window = [r for r in rows if 60 <= r["snMedian"] <= 65]
    a, rej_a = fetch.select_rows(rows, "K", n_per_class=3, seed=1)
    b, _ = fetch.select_rows(rows, "K", n_per_class=3, seed=1)
    c, _ = fetch.select_rows(rows, "K", n_per_class=3, seed=2)
    assert a == b and a != c
    assert sorted(r["label"] for r in a) == ["K1"] * 3 + ["K3"] * 3 + ["K5"] * 3 + ["K7"] * 3
    assert all(60 <= r["snr"] <= 65 for r in a)
    assert sum("quota" in r["reason"] for r in rej_a) == len(in_window) - 12
    assert sum("outside" in r["reason"] for r in rej_a) == len(rows) - len(in_window)


def test_download_from_a_local_mirror_verifies_each_file(tmp_path):
    from specnet.data.catalogue import read_catalogue
    from specnet.preprocess import SDSS_GRID, PreprocessConfig

    windows = {**fetch.SNR_WINDOWS, "F9": (60.0, 70.0), "K3": (0.5, 65.0)}
    rows = _fixture_specobjs()
    f_rows, _ = fetch.select_rows(rows, "F", windows=windows)
    sky = next(r for r in rows if (r["plate"], r["fiberid"]) == (2341, 365))  # a sky fibre labelled K3, zWarning 13
    wanted = f_rows + [{**sky, "zwarning": 0, "label": "K3", "task": "K"},  # as if the query had not flagged it
                       {"plate": 9999, "mjd": 55555, "fiberid": 1, "label": "K1", "task": "K"}]
    kept, failed = fetch.download(wanted, tmp_path, fetch.local_mirror(SDSS_DIR), windows=windows, log=lambda m: None)
    assert [r["path"] for r in kept] == ["spectra/spec-3128-54776-0008.fits"]
    assert (tmp_path / kept[0]["path"]).is_file() and kept[0]["snr"] == pytest.approx(66.32, abs=0.01)
    reasons = sorted(r["reason"] for r in failed)
    assert reasons == ["file header: zWarning 13 is set", "no spectrum returned"]
    # a second run reuses the file already there
    again, _ = fetch.download(f_rows, tmp_path, lambda **kw: pytest.fail("should not download"), windows=windows)
    assert again[0]["path"] == kept[0]["path"]

    cat_path = fetch.write_catalogue(kept, tmp_path)
    cat = read_catalogue(tmp_path)
    assert cat_path.name == "catalogue.csv" and cat.labels == ["F9"]
    assert cat.paths == [str(tmp_path / "spectra" / "spec-3128-54776-0008.fits")]
    got = common.read_labelled(tmp_path, PreprocessConfig(grid=SDSS_GRID, normalisation="minmax"))
    assert got["X"].shape == (1, SDSS_GRID.npix, 2) and got["labels"] == ["F9"] and not got["rejects"]


def test_local_mirror_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        fetch.local_mirror(tmp_path / "nope")


def test_main_dry_run_prints_every_query(capsys):
    assert fetch.main(["--dry-run", "--top-per-class", "5"]) == 0
    out = capsys.readouterr().out
    assert out.count("SELECT TOP 5") == 10
    for c in fetch.SNR_WINDOWS:
        assert f"s.subClass = '{c}'" in out
