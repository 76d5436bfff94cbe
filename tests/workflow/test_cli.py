"""The click commands: help with examples, zoo listing, reading files, the README demo."""
import pytest
from click.testing import CliRunner

from specnet.cli import main
from tests.conftest import FIXTURES

COMMANDS = [["demo"], ["fit"], ["predict"], ["explain"], ["zoo", "list"], ["zoo", "info"], ["simulate"],
            ["ingest"], ["read"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cmd):
    res = CliRunner().invoke(main, cmd + ["--help"])
    assert res.exit_code == 0, res.output
    assert "Example" in res.output or cmd == ["zoo", "list"] or cmd == ["zoo", "info"]


def test_zoo_list_shows_the_registered_entries():
    res = CliRunner().invoke(main, ["zoo", "list"])
    assert res.exit_code == 0, res.output
    for name in ("resnet-lamost", "bertcnn-sdss-k", "cnn-sdss-g"):
        assert name in res.output
    res = CliRunner().invoke(main, ["zoo", "list", "bertcnn-*"])
    assert "cnn-sdss-k" not in res.output.replace("bertcnn-sdss-k", "")


def test_zoo_info_unknown_name_suggests_close_matches():
    res = CliRunner().invoke(main, ["zoo", "info", "resnet-lamst"])
    assert res.exit_code != 0 and "resnet-lamost" in res.output


def test_read_reports_layout_and_a_clear_error(tmp_path):
    bad = tmp_path / "junk.fits"
    bad.write_bytes(b"not a fits file at all" * 10)
    res = CliRunner().invoke(main, ["read", str(FIXTURES / "lamost/dr10_table/3703110.fits"), str(bad)])
    assert "lamost-dr9" in res.output and "junk.fits" in res.output and res.exit_code == 1


def test_predict_cli_on_a_trained_model_dir(tiny_run, tmp_path):
    out = tmp_path / "p.csv"
    files = [str(FIXTURES / "lamost/dr10_table/3706009.fits"), str(tmp_path / "missing.fits")]
    res = CliRunner().invoke(main, ["predict", str(tiny_run.model_dir), *files, "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 written" in res.output and "1 rejected" in res.output


def test_readme_demo_runs_end_to_end_small(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--output", str(tmp_path / "d"), "--n", "120", "--epochs", "1"])
    assert res.exit_code == 0, res.output
    assert "MAE" in res.output and (tmp_path / "d" / "predictions.csv").exists()
    assert (tmp_path / "d" / "run" / "model" / "manifest.json").exists()


def test_explain_cli_writes_maps_pngs_and_rejects(tiny_run, tmp_path):
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  =                    T" + b" " * 100)
    files = [str(FIXTURES / "lamost/dr10_table/3706009.fits"), str(FIXTURES / "lamost/dr10_table/3709137.fits"),
             str(bad)]
    out = tmp_path / "cams"
    res = CliRunner().invoke(main, ["explain", str(tiny_run.model_dir), *files, "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert len(list(out.glob("*.png"))) >= 2 and (out / "maps.npz").exists() and (out / "maps.csv").exists()
    rejects = (out / "rejects.csv").read_text()
    assert "broken.fits" in rejects
