"""Code style of the chapters and the library: nothing is clipped in the rendered page.

The book's code blocks show about 88 characters before they scroll, so every code cell
of every chapter keeps its lines to 88 characters (pyproject.toml's ``[tool.ruff]
line-length``), and the formatter (ruff format, at that length) leaves each cell and
each library file unchanged: a diff that reformats forgot to run ``ruff format``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
LINE_LENGTH = 88
# the library's Python files that ruff format must leave unchanged
FORMATTED_DIRS = ["glo_teach", "tests", "bench", "scripts"]


def _ruff() -> str:
    """The binary of the installed ``ruff`` package; skip when it is not installed."""
    ruff = pytest.importorskip(
        "ruff", reason="ruff is not installed: pip install -e '.[dev]'"
    )
    from ruff.__main__ import find_ruff_bin

    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        pytest.skip(f"the ruff package ({ruff.__file__}) has no ruff binary")


def _code_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def test_pyproject_sets_the_line_length():
    text = (ROOT / "pyproject.toml").read_text()
    assert f"line-length = {LINE_LENGTH}" in text, (
        "pyproject.toml: [tool.ruff] line-length"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_code_line_longer_than_the_page(path):
    long = [
        f"{path.name} cell {i} line {j + 1}: {len(line)} characters: {line[:60]}..."
        for i, source in _code_cells(path)
        for j, line in enumerate(source.splitlines())
        if len(line) > LINE_LENGTH
    ]
    assert not long, f"code lines over {LINE_LENGTH} characters:\n" + "\n".join(long)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_cells_are_ruff_formatted(path, tmp_path):
    """Each code cell, in a scratch notebook, comes back from ``ruff format`` unchanged.

    Notebook mode (not a .py file) because it keeps a cell's trailing ``;``, which hides
    the value of the cell's last expression in Jupyter, and leaves IPython magics alone.
    """
    ruff = _ruff()
    cells = _code_cells(path)
    scratch = tmp_path / "cells.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for _, source in cells]
    scratch.write_text(json.dumps(nb))
    run = subprocess.run(
        [ruff, "format", "--no-cache", f"--line-length={LINE_LENGTH}", str(scratch)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    formatted = nbformat.read(scratch, as_version=4).cells
    changed = [
        f"cell {i}"
        for (i, source), cell in zip(cells, formatted)
        if cell.source != source
    ]
    assert not changed, (
        f"{path.name}: ruff format --line-length {LINE_LENGTH} changes "
        + ", ".join(changed)
        + f" (run `ruff format book/{path.name}`, then scripts/strip_outputs.py)"
    )


def test_library_is_ruff_formatted():
    ruff = _ruff()
    run = subprocess.run(
        [
            ruff,
            "format",
            "--check",
            "--no-cache",
            "--output-format=concise",
            *FORMATTED_DIRS,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, (
        f"ruff format --check {' '.join(FORMATTED_DIRS)} (run `ruff format` on them):\n"
        + run.stdout
        + run.stderr
    )
