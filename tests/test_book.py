"""The book's source: cited equation labels exist, notebooks are stripped and open in Colab."""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
CITE = re.compile(r"\{eq\}`([^`]+)`")
DEFINE = re.compile(r"\$\$\s*\(([A-Za-z0-9_:\-]+)\)|:label:\s*([A-Za-z0-9_:\-]+)|^\(([A-Za-z0-9_:\-]+)\)=", re.M)


def _book_text() -> str:
    parts = [p.read_text() for p in BOOK.glob("*.md")]
    for nb in NOTEBOOKS:
        parts += ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown"]
    return "\n".join(parts)


def defined_labels() -> set[str]:
    return {next(g for g in m.groups() if g) for m in DEFINE.finditer(_book_text())}


def test_every_label_cited_by_the_library_is_defined_in_the_book():
    defined = defined_labels()
    missing = {}
    for py in sorted((ROOT / "glo_teach").rglob("*.py")):
        for label in CITE.findall(py.read_text()):
            if label not in defined:
                missing.setdefault(label, []).append(py.relative_to(ROOT).as_posix())
    assert not missing, f"labels cited in docstrings but defined nowhere in book/: {missing}"


def test_label_checker_sees_definitions_and_citations():
    """Guard against a checker that finds nothing: the book defines labels and the book cites them."""
    assert "lvm-marginal" in defined_labels()
    assert "lvm-marginal" in CITE.findall(_book_text())


def test_notebooks_are_stripped_except_checked_cells():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "strip_outputs.py"), "--check", *map(str, NOTEBOOKS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_each_notebook_opens_in_colab_at_its_own_path():
    for nb_path in NOTEBOOKS:
        cells = json.loads(nb_path.read_text())["cells"]
        badge = f"https://colab.research.google.com/github/glo-teach/glo-teach/blob/main/book/{nb_path.name}"
        assert badge in "".join(cells[0]["source"]), f"{nb_path.name}: no Colab badge to itself in the first cell"
        install = cells[1]
        assert install["cell_type"] == "code" and "remove-cell" in install["metadata"].get("tags", []), nb_path.name
        assert '"google.colab" in sys.modules' in "".join(install["source"]), nb_path.name


def test_toc_lists_every_chapter_and_only_existing_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for f in files:
        assert any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), f"{f} listed in _toc.yml but missing"
    assert {f"book/{nb.stem}" for nb in NOTEBOOKS} <= set(files), "a notebook in book/ is not in _toc.yml"
