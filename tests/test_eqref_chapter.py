"""book/_ext/eqref_chapter.py, the Sphinx extension the book loads, built by Sphinx itself on a small project.

With numbered chapters (the book's _toc.yml) an equation is numbered per chapter, "(7.2)", and a reference from
another chapter keeps that number, which names its chapter. Without chapter numbers, or into an unnumbered page,
a reference from another document names that document: "(chapter 7, eq. 2)". Within a document it stays "(n)"."""

import re
import sys
from pathlib import Path

from sphinx.cmd.build import build_main

EXT = Path(__file__).resolve().parents[1] / "book" / "_ext"


def _build(tmp_path, numbered: bool, conf: str = "") -> dict[str, str]:
    src, out = tmp_path / "src", tmp_path / "html"
    (src / "book").mkdir(parents=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\nextensions = ['eqref_chapter']\n"
        "numfig = True\nmath_numfig = True\n" + conf
    )
    (src / "index.rst").write_text(
        "Book\n====\n\n.. toctree::\n"
        + ("   :numbered: 2\n" if numbered else "")
        + "\n   book/07_glo\n   book/08_table1\n\n.. toctree::\n\n   book/notation\n"
    )
    (src / "book" / "07_glo.rst").write_text(
        "GLO\n===\n\n.. math:: a = b\n   :label: glo-one\n\n.. math:: c = d\n   :label: glo-two\n\n"
        "Within the chapter: :eq:`glo-two`.\n"
    )
    (src / "book" / "08_table1.rst").write_text(
        "Table 1\n=======\n\nFrom chapter 8: :eq:`glo-two`. Into the notation page: :eq:`notation-one`.\n"
    )
    (src / "book" / "notation.rst").write_text(
        "Notation\n========\n\n.. math:: e = f\n   :label: notation-one\n"
    )
    try:
        assert build_main(["-q", "-b", "html", str(src), str(out)]) == 0
    finally:
        sys.modules.pop("eqref_chapter", None)
    return {
        name: re.sub(r"<[^>]+>", "", (out / "book" / f"{name}.html").read_text())
        for name in ("07_glo", "08_table1")
    }


def test_per_chapter_equation_numbers_are_left_as_they_are(tmp_path):
    text = _build(tmp_path, numbered=True)
    assert "From chapter 8: (1.2)." in text["08_table1"], text[
        "08_table1"
    ]  # chapter 7 is the book's first here
    assert "Within the chapter: (1.2)." in text["07_glo"]
    assert (
        "Into the notation page: (Notation, eq. 1)." in text["08_table1"]
    )  # an unnumbered page is named


def test_without_chapter_numbers_a_cross_chapter_reference_names_the_chapter(tmp_path):
    text = _build(tmp_path, numbered=False)
    assert "From chapter 8: (chapter 7, eq. 2)." in text["08_table1"], text["08_table1"]
    assert "Within the chapter: (2)." in text["07_glo"]
    assert (
        "Into the notation page: (Notation, eq. 3)." in text["08_table1"]
    )  # numbered through the whole book


def test_numbered_chapters_with_equations_numbered_through_the_book_name_the_chapter(
    tmp_path,
):
    text = _build(
        tmp_path, numbered=True, conf="numfig_secnum_depth = 0\n"
    )  # chapter numbers, not in "(2)"
    assert "From chapter 8: (chapter 7, eq. 2)." in text["08_table1"], text["08_table1"]
