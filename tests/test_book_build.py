"""The book build fails when a notebook raises (Jupyter Book 1.x only warns by default)."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def _mini_book(tmp_path: Path, code: str) -> Path:
    """A one-chapter book using the project's own _config.yml (execution settings included)."""
    book = tmp_path / "book"
    book.mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapter\n"
    )
    (book / "intro.md").write_text("# Mini book\n")
    (
        book / "_vendor"
    ).mkdir()  # html_static_path entry; the vendored files are not needed here
    shutil.copytree(
        ROOT / "book" / "_ext", book / "book" / "_ext"
    )  # the config's local extension
    shutil.copy(
        ROOT / "book" / "references.bib", book / "book" / "references.bib"
    )  # and its bibliography
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Chapter"),
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(nb, book / "chapter.ipynb")
    return book


def _build(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(book), "--keep-going"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_build_fails_when_a_notebook_raises(tmp_path):
    ok = _build(_mini_book(tmp_path / "ok", "print(1 + 1)"))
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    bad = _build(_mini_book(tmp_path / "bad", "raise RuntimeError('chapter failed')"))
    assert bad.returncode != 0
    assert "chapter failed" in bad.stdout + bad.stderr
