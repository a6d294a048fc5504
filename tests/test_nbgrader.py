"""The chapters on real nbgrader, through its own command line, in a throwaway course directory.

``nbgrader generate_assignment`` runs on every chapter with a question: the release (student)
notebooks hold no solution and no hidden test, and their nbgrader points agree with
``question_table``. ``nbgrader autograde`` runs on the two chapters with the shortest smoke run,
for three submissions each: the instructor's notebook (every autograded point, the written answers
left to the instructor), the untouched release (0) and the release with Question 1 answered by the
instructor's solution (exactly Question 1's points). Scores are read from nbgrader's gradebook.
Grade ids are unique across the book, so that one nbgrader course can hold every chapter.
"""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from glo_teach.assignments import DEFAULT_BOOK, question_table, student_version
from test_assignments import _solution_lines

VENV_BIN = Path(
    sys.executable
).parent  # nbgrader and alembic are console scripts of the same environment
# two cheap chapters with both autograded and written answers (smoke run of the instructor version on the 2-core
# machine, loaded: 01 29 s, 03 25 s, against 02 33 s, 04 45 s, 05 34 s); each is autograded three times
CHEAP = ("01_latent_variable_models", "03_why_gans_are_hard")
TABLE = question_table()
CHAPTERS = sorted({r["chapter"] for r in TABLE})


def _env() -> dict:
    """The environment of nbgrader and the kernels it starts: the venv's bin first on PATH (CI may run
    pytest as .venv/bin/python without activating the venv), the smoke budget, one thread."""
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GLO_TEACH_BUDGET": "smoke",
        "OMP_NUM_THREADS": "1",
        "CI": "true",
        "MPLBACKEND": "Agg",
    }


def _nbgrader(root: Path, *args: str, timeout: float) -> str:
    exe = shutil.which("nbgrader", path=_env()["PATH"])
    assert exe, f"nbgrader is not installed in {VENV_BIN} (it is in the dev extra)"
    result = subprocess.run(
        [exe, *args],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "[ERROR]" not in log and "| ERROR]" not in log, log[-3000:]
    return log


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with one assignment per chapter (source/<chapter>/<chapter>.ipynb), all generated at once."""
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'glo-teach'\n"
        "c.ExecutePreprocessor.timeout = 600  # per cell; nbgrader's default (30 s) is too short for the smoke runs\n"
    )
    for chapter in CHAPTERS:
        (root / "source" / chapter).mkdir(parents=True)
        shutil.copy(DEFAULT_BOOK / f"{chapter}.ipynb", root / "source" / chapter)
    _nbgrader(root, "generate_assignment", "*", "--force", timeout=600)
    return root


def test_nbgrader_and_alembic_come_with_the_dev_environment():
    for tool in ("nbgrader", "alembic"):
        assert (VENV_BIN / tool).exists(), (
            f"{tool} missing from {VENV_BIN}: pip install -e '.[dev]'"
        )
        assert shutil.which(tool, path=_env()["PATH"]) == str(VENV_BIN / tool)


def test_grade_ids_are_unique_across_the_book_and_nbgrader_valid():
    ids = []
    for path in sorted(DEFAULT_BOOK.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader")
            if meta:
                assert re.fullmatch(r"[a-zA-Z0-9_\-]+", meta.get("grade_id", "")), (
                    path.name,
                    meta,
                )
                assert meta.get("schema_version") == 3, (path.name, meta)
                ids.append(meta["grade_id"])
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, duplicates
    assert {g for r in TABLE for g in r["grade_ids"]} <= set(
        ids
    )  # every graded part is an nbgrader cell


def test_generate_assignment_releases_every_chapter_without_solutions_or_hidden_tests(
    course,
):
    assert set(CHEAP) <= set(CHAPTERS) and len(CHAPTERS) >= 5
    for chapter in CHAPTERS:
        source = nbformat.read(
            course / "source" / chapter / f"{chapter}.ipynb", as_version=4
        )
        release = nbformat.read(
            course / "release" / chapter / f"{chapter}.ipynb", as_version=4
        )
        secret = _solution_lines(source)
        assert secret, chapter
        stubs = 0
        for cell in release.cells:
            assert (
                "BEGIN SOLUTION" not in cell.source
                and "BEGIN HIDDEN" not in cell.source
            ), (chapter, cell.source)
            assert not secret & {line.strip() for line in cell.source.split("\n")}, (
                chapter,
                cell.source,
            )
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                stubs += 1
                stub = (
                    "raise NotImplementedError()"
                    if cell.cell_type == "code"
                    else "YOUR ANSWER HERE"
                )
                assert stub in cell.source, (chapter, cell.source)
        assert stubs, chapter
        # nbgrader's points are ours: per grade id, as question_table reads them from the notebooks
        ours = {g: r for r in TABLE if r["chapter"] == chapter for g in r["grade_ids"]}
        theirs = {
            c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
            for c in release.cells
            if c.metadata.get("nbgrader", {}).get("grade")
        }
        assert set(theirs) == set(ours), chapter
        assert sum(theirs.values()) == sum(
            r["points"] for r in TABLE if r["chapter"] == chapter
        ), chapter


def _fill_question_1(chapter: str, source, release):
    """The release with Question 1's solution cells replaced by the instructor's (matched by grade id)."""
    _, spec = student_version(source, chapter)
    solved = {
        s["source"]
        for s in spec["solutions"]
        if s["question"] == spec["questions"][0]["number"]
    }
    by_id = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.source in solved and c.metadata.get("nbgrader", {}).get("solution")
    }
    assert by_id, f"{chapter}: Question 1 has no nbgrader solution cell"
    filled = 0
    for cell in release.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in by_id:
            cell.source, filled = by_id[gid], filled + 1
    assert filled == len(by_id)
    return release


def _scores(root: Path, chapter: str, student: str) -> dict[str, tuple]:
    """{grade id: (score, needs manual grade)} of one autograded submission, from nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(chapter, chapter, student)
        return {g.name: (g.score, g.needs_manual_grade) for g in nb.grades}


@pytest.mark.slow
def test_autograde_full_marks_for_the_instructor_zero_for_the_release_partial_for_one_answer(
    course,
):
    for chapter in CHEAP:
        source = nbformat.read(
            course / "source" / chapter / f"{chapter}.ipynb", as_version=4
        )
        release = nbformat.read(
            course / "release" / chapter / f"{chapter}.ipynb", as_version=4
        )
        for student, nb in [
            ("instructor", source),
            ("untouched", release),
            (
                "question1",
                _fill_question_1(chapter, source, nbformat.from_dict(release)),
            ),
        ]:
            (course / "submitted" / student / chapter).mkdir(parents=True)
            nbformat.write(
                nb, course / "submitted" / student / chapter / f"{chapter}.ipynb"
            )
    _nbgrader(course, "autograde", "*", "--force", timeout=1200)

    for chapter in CHEAP:
        rows = [r for r in TABLE if r["chapter"] == chapter]
        points = _points(course / "source" / chapter / f"{chapter}.ipynb")
        manual = {g for g, (_, by_hand) in points.items() if by_hand}
        auto = set(points) - manual
        assert auto and manual, chapter  # each cheap chapter has both kinds
        assert sum(points[g][0] for g in manual) == sum(
            r["manual_points"] for r in rows
        )

        full, zero, one = (
            _scores(course, chapter, s)
            for s in ("instructor", "untouched", "question1")
        )
        for student, got in [
            ("instructor", full),
            ("untouched", zero),
            ("question1", one),
        ]:  # shown with pytest -s
            print(
                f"nbgrader autograde {chapter} {student}: {sum(s for s, _ in got.values()):g} / "
                f"{sum(p for p, _ in points.values()):g}, {sum(m for _, m in got.values())} written answer(s) pending"
            )
        assert set(full) == set(points), chapter
        assert {g: full[g] for g in auto} == {g: (points[g][0], False) for g in auto}, (
            chapter,
            full,
        )
        assert all(full[g] == (0, True) for g in manual), (
            chapter,
            full,
        )  # written answers wait for the instructor

        assert all(score == 0 and not pending for score, pending in zero.values()), (
            chapter,
            zero,
        )

        q1 = set(rows[0]["grade_ids"])
        assert {g: s for g, (s, _) in one.items() if s} == {
            g: points[g][0] for g in q1
        }, (chapter, one)
        assert sum(s for s, _ in one.values()) == rows[0]["points"] > 0, (chapter, one)


def _points(path: Path) -> dict[str, tuple[float, bool]]:
    """{grade id: (points, graded by hand)} of the nbgrader grade cells of a notebook."""
    cells = nbformat.read(path, as_version=4).cells
    return {
        m["grade_id"]: (m["points"], bool(m.get("solution")))
        for m in (c.metadata.get("nbgrader", {}) for c in cells)
        if m.get("grade")
    }
