"""Packaging: environment.yml agrees with pyproject.toml; the README's commands; the public API."""

import re
import tomllib
from pathlib import Path

import yaml

import glo_teach

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda name


def _split(req: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_reqs = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    expected = {CONDA_NAMES.get(n, n): s for n, s in map(_split, pip_reqs)}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(
        _split(d)
        for d in env["dependencies"]
        if isinstance(d, str) and not d.startswith(("python", "pip"))
    )
    assert conda == expected
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-e ."]


def test_requirements_are_lower_bounded_never_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + [
        r for e in project["optional-dependencies"].values() for r in e
    ]:
        assert "==" not in req and ">=" in req, f"{req}: lower bounds only"


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Set up.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [
        line.split("#")[0].strip()
        for line in block.splitlines()
        if line.split("#")[0].strip()
    ]
    assert commands == ["bash scripts/build-book.sh", "bash scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    assert 'jupyter-book" build' in (ROOT / "scripts" / "build-book.sh").read_text()


def test_public_api_is_listed_and_importable():
    for name in glo_teach.__all__:
        assert hasattr(glo_teach, name), name
