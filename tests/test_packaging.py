"""Packaging: the README's commands, CI's command and what a wheel installs."""
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (REPO / "README.md").read_text()
    return re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S)


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    blocks = [b.strip() for b in _readme_commands()[:2]]
    assert len(blocks) == 2, "README must open with two set-up commands (main job, tests)"
    main_job, tests = blocks
    assert "pip install" in main_job and "specnet" in main_job and "[test]" not in main_job
    assert "pytest" in tests and "[test]" in tests
    ci = (REPO / ".ci" / "run").read_text()
    assert tests in ci, "'.ci/run' must run exactly the README's test command"


def test_metadata_names_the_distribution_specnet_stars():
    cfg = (REPO / "setup.cfg").read_text()
    assert re.search(r"^name = specnet-stars$", cfg, flags=re.M)
    assert "python_requires = >=3.10" in cfg
    toml = (REPO / "pyproject.toml").read_text()
    assert "[build-system]" in toml and "[project]" not in toml


@pytest.mark.timeout(300) if hasattr(pytest.mark, "timeout") else (lambda f: f)
def test_wheel_ships_the_zoo_manifests_but_no_shared_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(REPO)], check=True)
    (wheel,) = tmp_path.glob("specnet_stars-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    manifests = sorted(n for n in names if n.startswith("specnet/_zoo/") and n.endswith(".json"))
    repo_manifests = sorted(p.name for p in (REPO / "zoo").glob("*.json"))
    assert [Path(n).name for n in manifests] == repo_manifests
    assert "specnet/cli.py" in names and "specnet/io/registry.py" in names
    forbidden = re.compile(r"(spEigenStar|MILES_res|hammer_templates|spSpec-|\.sed$|fixtures/)")
    assert not [n for n in names if forbidden.search(n)]
