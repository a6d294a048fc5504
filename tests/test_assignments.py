"""glo_teach.assignments: student notebooks hold no solution, hidden test or output; the grader gives
full marks to the instructor version and nothing for a stubbed question."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from glo_teach.assignments import (
    COLAB_ALT,
    COLAB_SVG,
    DEFAULT_BOOK,
    SYLLABUS,
    build_assignments,
    grade_notebook,
    question_table,
    student_version,
    syllabus_markdown,
    update_instructors_page,
)
from glo_teach.cli import main

COLAB_BASE = "https://colab.research.google.com/github/me/course/blob/main/student"
BADGE = (
    "[![Open this chapter in Google Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/glo-teach/glo-teach/blob/main/book/00_tiny.ipynb)"
)


def tiny_notebook():
    """Two questions: one test cell with nbgrader metadata and visible + hidden tests, one with hidden tests only."""
    q1_tests = new_code_cell(
        "# Tests for Question 1\nassert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-2) == 4\n"
        "### END HIDDEN TESTS",
        metadata={
            "nbgrader": {
                "grade": True,
                "grade_id": "q1-tests",
                "points": 2,
                "solution": False,
            }
        },
    )
    return new_notebook(
        cells=[
            new_markdown_cell(f"# Tiny\n\n{BADGE}\n\nLearning goals"),
            new_code_cell(
                "import os\nBUDGET = os.environ.get('GLO_TEACH_BUDGET')",
                outputs=[new_output("stream", text="x\n")],
                execution_count=1,
            ),
            new_markdown_cell("### Question 1 (2 points): a square"),
            new_code_cell(
                "def square(x):\n    ### BEGIN SOLUTION\n    y = x * x\n    return y\n    ### END SOLUTION"
            ),
            q1_tests,
            new_markdown_cell("## Question 2 (3 points)"),
            new_code_cell(
                "def cube(x):\n    ### BEGIN SOLUTION\n    return x ** 3\n    ### END SOLUTION\n\n\nprint(cube(2))"
            ),
            new_code_cell(
                "# Tests for Question 2\n### BEGIN HIDDEN TESTS\nassert cube(-2) == -8\nassert BUDGET == 'smoke'\n"
                "### END HIDDEN TESTS"
            ),
        ],
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
        },
    )


@pytest.fixture
def built(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(tiny_notebook(), book / "00_tiny.ipynb")
    nbformat.write(
        new_notebook(cells=[new_markdown_cell("# No questions")]),
        book / "01_plain.ipynb",
    )
    paths = build_assignments(book, tmp_path / "out")
    return tmp_path, paths


def test_student_version_stubs_solutions_with_their_indentation_and_drops_hidden_tests():
    student, spec = student_version(tiny_notebook(), "00_tiny")
    sources = [c.source for c in student.cells]
    assert sources[3] == (
        "def square(x):\n    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Question 1: replace this line with your code")'
    )
    assert "x ** 3" not in sources[6] and sources[6].endswith("print(cube(2))")
    assert sources[4] == "# Tests for Question 1\nassert square(3) == 9"
    assert sources[7] == "# Tests for Question 2"
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert (
        "colab.research.google.com/github" not in sources[0]
    )  # no link to the instructor's copy
    assert student.metadata["glo_teach"] == {"assignment": "00_tiny"}
    assert [
        (q["number"], q["title"], q["points"], len(q["tests"]))
        for q in spec["questions"]
    ] == [("1", "a square", 2.0, 1), ("2", "", 3.0, 1)]
    assert "square(-2) == 4" in spec["questions"][0]["tests"][0]["source"]
    assert (
        "BEGIN SOLUTION" in tiny_notebook().cells[3].source
    )  # the instructor notebook is not modified


def test_colab_badge_points_to_the_published_student_copy():
    student, _ = student_version(
        tiny_notebook(),
        "00_tiny",
        colab_base="https://colab.research.google.com/github/me/course/blob/main/hw/",
    )
    assert (
        "(https://colab.research.google.com/github/me/course/blob/main/hw/00_tiny.ipynb)"
        in student.cells[0].source
    )


def test_colab_badges_have_alt_text_that_says_what_the_link_does():
    """Where the badge image cannot load, or a screen reader reads it, its alt text is all the reader gets: a
    phrase saying what the link does, the same in every chapter and in the student copies."""
    from markdown_it import MarkdownIt

    assert re.fullmatch(r"Open this chapter in Google Colab", COLAB_ALT)
    badge = re.compile(
        r'<a href="([^"]+)"><img src="https://colab\.research\.google\.com/assets/colab-badge\.svg" '
        r'alt="([^"]*)" /></a>'
    )
    for path in sorted(DEFAULT_BOOK.glob("[0-9][0-9]_*.ipynb")):
        html = MarkdownIt("commonmark").render(
            nbformat.read(path, as_version=4).cells[0].source
        )
        assert [alt for _, alt in badge.findall(html)] == [COLAB_ALT], (path.name, html)
    student, _ = student_version(tiny_notebook(), "00_tiny", colab_base=COLAB_BASE)
    html = MarkdownIt("commonmark").render(student.cells[0].source)
    assert badge.findall(html) == [(f"{COLAB_BASE}/00_tiny.ipynb", COLAB_ALT)], html


def test_unbalanced_markers_and_missing_questions_are_errors(tmp_path):
    nb = tiny_notebook()
    nb.cells[3].source = nb.cells[3].source.replace("    ### END SOLUTION", "")
    with pytest.raises(ValueError, match="without '### END SOLUTION'"):
        student_version(nb, "00_tiny")
    nbformat.write(
        new_notebook(cells=[new_markdown_cell("# No questions")]),
        tmp_path / "01_plain.ipynb",
    )
    with pytest.raises(ValueError, match="no assignment question"):
        build_assignments(tmp_path, tmp_path / "out", chapters=["01"])


def test_build_writes_student_notebooks_zip_grader_and_hidden_tests(built):
    tmp_path, paths = built
    out = tmp_path / "out"
    assert paths == [
        out / "student" / "00_tiny.ipynb"
    ]  # the notebook without questions is not an assignment
    assert zipfile.ZipFile(out / "student.zip").namelist() == ["student/00_tiny.ipynb"]
    hidden = json.loads((out / ".hidden_tests.json").read_text())
    assert set(hidden) == {"00_tiny"}
    student = nbformat.read(paths[0], as_version=4)
    for cell in student.cells:
        if cell.cell_type == "code":
            compile(cell.source, "cell", "exec")  # the stubs are valid Python


def test_grader_full_marks_for_instructor_zero_for_student_partial_for_partial(built):
    tmp_path, paths = built
    hidden = tmp_path / "out" / ".hidden_tests.json"
    instructor = tmp_path / "book" / "00_tiny.ipynb"
    report = grade_notebook(instructor, hidden, timeout=60)
    assert (report.total, report.max_total) == (5, 5), str(report)

    report = grade_notebook(paths[0], hidden, timeout=60)
    assert [q.points for q in report.questions] == [0, 0] and report.max_total == 5
    assert all("NotImplementedError" in q.errors[0] for q in report.questions), str(
        report
    )

    # Question 1 solved; Question 2's test cell emptied by the student: the grader puts it back
    partial = nbformat.read(paths[0], as_version=4)
    partial.cells[3].source = "def square(x):\n    return x ** 2"
    partial.cells[7].source = "# Tests for Question 2\npass"
    partial.cells[
        4
    ].metadata = {}  # e.g. an editor that drops metadata: found by its first line
    nbformat.write(partial, tmp_path / "renamed (1).ipynb")
    report = grade_notebook(tmp_path / "renamed (1).ipynb", hidden, timeout=60)
    assert [q.points for q in report.questions] == [2, 0], str(report)
    assert "Question 1 a square: 2 / 2" in str(report) and "Total: 2 / 5" in str(report)


def test_grade_script_runs_standalone(built):
    tmp_path, _ = built
    result = subprocess.run(
        [
            sys.executable,
            str(tmp_path / "out" / "grade.py"),
            str(tmp_path / "book" / "00_tiny.ipynb"),
            "--timeout",
            "60",
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Total: 5 / 5" in result.stdout
    assert json.loads((tmp_path / "r.json").read_text())[0]["total"] == 5


def _solution_lines(nb) -> set[str]:
    """Lines inside solution or hidden-test regions that occur nowhere else in the instructor notebook."""
    secret, public, inside = set(), set(), False
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            s = line.strip()
            if s in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                inside = True
            elif s in ("### END SOLUTION", "### END HIDDEN TESTS"):
                inside = False
            else:
                (secret if inside else public).add(s)
    return secret - public - {""}


def test_building_the_real_book_leaves_no_solution_hidden_test_or_output(tmp_path):
    paths = build_assignments(DEFAULT_BOOK, tmp_path, colab_base=COLAB_BASE)
    assert (
        {p.stem for p in paths}
        == {r["chapter"] for r in question_table()}
        >= {"02_gan_game", "04_better_gans", "06_vae"}
    )
    solutions = (tmp_path / "solutions.md").read_text(encoding="utf-8")
    for path in paths:
        secret = _solution_lines(nbformat.read(DEFAULT_BOOK / path.name, as_version=4))
        assert secret, path.name
        student = nbformat.read(path, as_version=4)
        for cell in student.cells:
            assert "### BEGIN" not in cell.source and "### END" not in cell.source
            assert not secret & {line.strip() for line in cell.source.split("\n")}, (
                path.name,
                cell.source,
            )
            assert "/blob/main/book/" not in cell.source, (
                path.name,
                cell.source,
            )  # no link to the instructor's copy
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        # the badge opens the student's own copy
        assert f"{COLAB_SVG}({COLAB_BASE}/{path.name})" in student.cells[0].source, (
            path.name
        )
        # the instructor's export has every solution line, hidden test and rubric of the chapter
        assert f"## {path.stem}" in solutions
        missing = {line for line in secret if line not in solutions}
        assert not missing, (path.name, sorted(missing)[:5])


@pytest.mark.slow
def test_cli_build_then_grade_py_full_marks_zero_and_partial_on_a_real_chapter(
    tmp_path,
):
    """`glo-teach assignments build` and the OUT/grade.py it writes, both as subprocesses, on the chapter with
    the shortest smoke run: the instructor's notebook earns every autograded point (the written answers wait for
    the instructor), the untouched student copy 0, the student copy with Question 1 answered exactly Question 1's."""
    chapter, out, subs = (
        "03_why_gans_are_hard",
        tmp_path / "hw",
        tmp_path / "submissions",
    )
    cli = [
        str(Path(sys.executable).parent / "glo-teach"),
        "assignments",
        "build",
        "--out",
        str(out),
        "--chapters",
        "03",
        "--colab-base",
        COLAB_BASE,
    ]
    result = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(out / "student" / f"{chapter}.ipynb")]
    source = nbformat.read(DEFAULT_BOOK / f"{chapter}.ipynb", as_version=4)
    student = nbformat.read(out / "student" / f"{chapter}.ipynb", as_version=4)
    _, spec = student_version(source, chapter)
    rows = [r for r in question_table() if r["chapter"] == chapter]
    q1 = spec["questions"][0]

    one = nbformat.from_dict(
        student
    )  # Question 1 answered: its solution cells as the instructor wrote them
    solved = {s["source"] for s in spec["solutions"] if s["question"] == q1["number"]}
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.source in solved
    }
    for cell in one.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in answers:
            cell.source = answers.pop(cell.metadata["nbgrader"]["grade_id"])
    assert not answers, answers
    subs.mkdir()
    nbformat.write(source, subs / f"{chapter}.ipynb")
    nbformat.write(student, subs / "untouched.ipynb")
    nbformat.write(
        one, subs / "question 1 (answered).ipynb"
    )  # renamed by the student: found by its metadata
    t0 = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            str(out / "grade.py"),
            *(
                str(subs / n)
                for n in (
                    f"{chapter}.ipynb",
                    "untouched.ipynb",
                    "question 1 (answered).ipynb",
                )
            ),
            "--timeout",
            "300",
            "--json",
            str(tmp_path / "scores.json"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    print(f"grade.py: 3 submissions of {chapter} in {time.perf_counter() - t0:.1f} s")
    assert result.returncode == 0, result.stderr[-3000:]
    full, zero, partial = json.loads((tmp_path / "scores.json").read_text())

    manual = sum(r["manual_points"] for r in rows)
    assert (
        full["total"]
        == full["auto_max_total"]
        == sum(r["auto_points"] for r in rows)
        > 0
    ), result.stdout
    assert full["manual_pending"] == manual > 0 and full["max_total"] == sum(
        r["points"] for r in rows
    ), result.stdout
    assert any(
        a.strip() for q in full["questions"] for a in q["answers"]
    )  # the model answer, for the instructor
    assert zero["total"] == 0 and zero["max_total"] == full["max_total"], result.stdout
    assert all(
        q["errors"] for q in zero["questions"] if q["max_points"] > q["manual_points"]
    ), result.stdout
    assert [q["points"] for q in partial["questions"]] == [q1["points"]] + [0] * (
        len(rows) - 1
    ), result.stdout
    assert (
        partial["assignment"] == chapter
        and f"Total: {q1['points']:g} / {full['max_total']:g}" in result.stdout
    )


def test_instructors_page_is_generated_from_the_notebooks(tmp_path):
    """book/instructors.md holds the block the notebooks give; a changed question makes it disagree."""
    assert update_instructors_page(write=False), (
        "book/instructors.md is out of date: run `glo-teach assignments table --write`"
    )
    page = (DEFAULT_BOOK / "instructors.md").read_text(encoding="utf-8")
    rows = question_table()
    for r in rows:  # every question, with its points and kind
        assert (
            f"| {r['number']}. {r['question']} | {r['kind']} | {r['points']:g} |"
            in page
        ), r
    assert (
        f"{len(rows)} questions in {len({r['chapter'] for r in rows})} chapters" in page
    )

    book = tmp_path / "book"
    book.mkdir()
    for path in DEFAULT_BOOK.glob("*.ipynb"):
        shutil.copy(path, book)
    shutil.copy(DEFAULT_BOOK / "instructors.md", book)
    assert update_instructors_page(book / "instructors.md", write=False)
    nb = nbformat.read(book / f"{rows[0]['chapter']}.ipynb", as_version=4)
    heading = next(
        c
        for c in nb.cells
        if c.cell_type == "markdown"
        and c.source.lstrip("# ").startswith("Question 1 (")
    )
    heading.source = heading.source.replace(
        f"({rows[0]['points']:g} points)", "(7 points)", 1
    )
    nbformat.write(nb, book / f"{rows[0]['chapter']}.ipynb")
    assert (
        main(["assignments", "table", "--check", "--book", str(book)]) == 1
    )  # what CI or an editor would run
    assert main(["assignments", "table", "--write", "--book", str(book)]) == 0
    assert (
        "| 1. " + rows[0]["question"] + f" | {rows[0]['kind']} | 7 |"
        in (book / "instructors.md").read_text()
    )
    assert update_instructors_page(book / "instructors.md", write=False)


def test_the_syllabus_schedules_every_chapter_once(tmp_path):
    chapters = sorted(int(p.stem[:2]) for p in DEFAULT_BOOK.glob("[0-9][0-9]_*.ipynb"))
    scheduled = [c for _, cs, _ in SYLLABUS for c in cs]
    assert sorted(scheduled) == chapters and scheduled == sorted(scheduled)
    assert 10 <= len(SYLLABUS) <= 12 and [w for w, _, _ in SYLLABUS] == list(
        range(1, len(SYLLABUS) + 1)
    )
    syllabus = syllabus_markdown()
    for path in DEFAULT_BOOK.glob("[0-9][0-9]_*.ipynb"):
        title = next(
            line[2:]
            for line in nbformat.read(path, as_version=4).cells[0].source.split("\n")
            if line.startswith("# ")
        )
        assert f"| {int(path.stem[:2])}. {title}" in syllabus, (
            title
        )  # numbered from the file name, as the book is
    nbformat.write(
        new_notebook(cells=[new_markdown_cell("# 12. A new chapter")]),
        tmp_path / "12_new.ipynb",
    )
    for path in DEFAULT_BOOK.glob("*.ipynb"):
        shutil.copy(path, tmp_path)
    with pytest.raises(
        ValueError, match="the book has"
    ):  # a chapter the syllabus forgot
        syllabus_markdown(tmp_path)
