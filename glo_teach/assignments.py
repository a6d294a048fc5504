"""Course assignments: student versions of the chapter notebooks and a grader, on plain Jupyter or Colab.

Conventions in a chapter notebook (nbgrader's markers, so nbgrader can use the notebooks too):

- **Solution region**: in a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION``.
  The student version replaces them by ``# YOUR CODE HERE`` and
  ``raise NotImplementedError("Question k: ...")`` at the indentation of the BEGIN line (in a
  markdown cell, by ``YOUR ANSWER HERE``). The instructor version runs as it is.
- **Hidden tests**: in a test cell, the lines from ``### BEGIN HIDDEN TESTS`` to
  ``### END HIDDEN TESTS``; the student version drops them and keeps the rest of the cell.
- **Question**: a markdown cell with a heading ``Question k (n points)`` (any heading level, text
  may follow). Its **test cells** are the code cells after it, up to the next question, that
  hold hidden tests or carry nbgrader metadata ``{"grade": true}``. A test cell passes when it
  runs without an error; it is worth its nbgrader ``points`` if it has them, else the heading's
  n shared equally between the question's test cells.
- **Manually graded answer** (explain/derive questions): a markdown cell after the heading with
  nbgrader metadata ``{"solution": true, "grade": true, "points": n}``. The model answer and the
  rubric go between the solution markers, so students get ``YOUR ANSWER HERE``; the grader
  reports the student's text for the instructor to mark (it scores 0 until then).
- **Kind** of a question: ``implement``, ``experiment`` or ``explain``, from the heading cell's
  metadata ``{"glo_teach": {"kind": ...}}``; without it, ``explain`` for a manual answer,
  ``implement`` when a test cell calls a ``check_*`` function, else ``experiment``.

:func:`build_assignments` writes ``OUT/student/<chapter>.ipynb`` (and ``OUT/student.zip``) to
hand out, and keeps for the instructor ``OUT/grade.py`` and ``OUT/.hidden_tests.json`` (the
instructor's test cells). :func:`grade_notebook` puts those test cells back into a submission,
runs it with nbclient under ``GLO_TEACH_BUDGET=smoke`` and scores each question.
:func:`question_table` lists the questions of the book (chapter, number, title, points, kind,
checks), the source of the generated part of ``book/instructors.md``; ``OUT/solutions.md``
(written by :func:`build_assignments`) collects every solution, hidden test and rubric.
"""

from __future__ import annotations

import copy
import json
import os
import re
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["build_assignments", "grade_notebook", "student_version", "question_table", "questions_markdown",
           "solutions_markdown", "GradeReport", "QuestionScore", "HIDDEN_TESTS_FILE", "DEFAULT_BOOK", "KINDS"]

DEFAULT_BOOK = Path(__file__).resolve().parents[1] / "book"
HIDDEN_TESTS_FILE = ".hidden_tests.json"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
QUESTION = re.compile(r"^#{1,6}\s*Question\s+(\S+)\s*\((\d+(?:\.\d+)?)\s*points?\)(.*)$", re.M | re.I)
COLAB_SVG = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
KINDS = ("implement", "experiment", "explain")
UNANSWERED = "YOUR ANSWER HERE"
CHECK_CALL = re.compile(r"\b(check_[a-z0-9_]+)\(")
COLAB_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)\n?")

GRADE_PY = '''"""Grade submissions of this assignment (written by `glo-teach assignments build`).

    python grade.py submission.ipynb [more.ipynb ...] [--timeout 600] [--json report.json]

Puts the instructor's test cells (hidden tests included, from .hidden_tests.json next to this
file) back into each submission, runs it top to bottom with nbclient under GLO_TEACH_BUDGET=smoke
and prints a per-question score report. Needs glo-teach, nbformat, nbclient and ipykernel.
Keep this file and .hidden_tests.json away from students.
"""

import argparse
import json
import sys
from pathlib import Path

from glo_teach.assignments import grade_notebook

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("submissions", nargs="+", help="submitted notebooks (.ipynb)")
parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per cell (default 600)")
parser.add_argument("--json", help="also write the reports to this JSON file")
args = parser.parse_args()
reports = [grade_notebook(p, Path(__file__).with_name(".hidden_tests.json"), timeout=args.timeout)
           for p in args.submissions]
for report in reports:
    print(report, end="\\n\\n")
if args.json:
    Path(args.json).write_text(json.dumps([r.to_dict() for r in reports], indent=1))
sys.exit(0)
'''


def _replace_regions(source: str, begin: str, end: str, stub: str | None, where: str) -> str:
    """Drop the lines from ``begin`` to ``end`` (markers included); put ``stub`` (indented like
    the begin line, one line per stub line) in their place when it is not None."""
    out, inside = [], False
    for line in source.split("\n"):
        if line.strip() == begin:
            if inside:
                raise ValueError(f"{where}: nested '{begin}'")
            inside = True
            if stub is not None:
                indent = line[: len(line) - len(line.lstrip())]
                out += [indent + s for s in stub.split("\n")]
        elif line.strip() == end:
            if not inside:
                raise ValueError(f"{where}: '{end}' without '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '{begin}' without '{end}'")
    return "\n".join(out)


def _grade_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_test_cell(cell) -> bool:
    return cell.cell_type == "code" and (BEGIN_HIDDEN in cell.source or _grade_meta(cell).get("grade") is True)


def _is_manual_cell(cell) -> bool:
    meta = _grade_meta(cell)
    return cell.cell_type == "markdown" and meta.get("grade") is True and meta.get("solution") is True


def _kind(heading_cell, tests: list[dict]) -> str:
    kind = heading_cell.get("metadata", {}).get("glo_teach", {}).get("kind")
    if kind is not None:
        if kind not in KINDS:
            raise ValueError(f"question kind must be one of {KINDS}, got {kind!r}")
        return kind
    if any(t.get("manual") for t in tests):
        return "explain"
    return "implement" if any(CHECK_CALL.search(t["source"]) for t in tests) else "experiment"


def _first_line(source: str) -> str:
    return next((line.strip() for line in source.split("\n") if line.strip()), "")


def student_version(nb, name: str, colab_base: str | None = None):
    """(student notebook, hidden spec) of the instructor notebook ``nb`` (an nbformat node, not modified).

    The spec lists the questions: ``{"questions": [{"number", "title", "points", "kind", "tests": [{"key",
    "first_line", "points", "source", "manual"}]}]}`` with the instructor's full source of each test
    cell (for a manually graded answer: the model answer and rubric), and ``solutions``: the
    instructor's source of every cell that holds a solution region.
    """
    student = copy.deepcopy(nb)
    student.metadata["glo_teach"] = {"assignment": name}
    questions: list[dict] = []
    headings: list = []
    solutions: list[dict] = []
    for i, cell in enumerate(student.cells):
        where = f"{name}.ipynb cell {i}"
        heading = QUESTION.search(cell.source) if cell.cell_type == "markdown" else None
        if heading:
            number, points, title = heading.group(1), float(heading.group(2)), heading.group(3).strip(" :.-")
            questions.append({"number": number, "title": title, "points": points, "tests": []})
            headings.append(cell)
        label = f"Question {questions[-1]['number']}" if questions else "this exercise"
        if BEGIN_SOLUTION in cell.source:
            solutions.append({"question": questions[-1]["number"] if questions else None, "cell_type": cell.cell_type,
                              "source": cell.source})
        if _is_manual_cell(cell):
            if not questions:
                raise ValueError(f"{where}: a manually graded answer before any 'Question k (n points)' heading")
            meta = _grade_meta(cell)
            questions[-1]["tests"].append({"key": meta.get("grade_id") or f"cell-{i}", "first_line": "",
                                           "points": meta.get("points"), "source": cell.source, "manual": True})
        if cell.cell_type == "markdown":
            cell.source = _replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, UNANSWERED, where)
            continue
        if _is_test_cell(cell):
            if not questions:
                raise ValueError(f"{where}: a test cell before any 'Question k (n points)' heading")
            meta = _grade_meta(cell)
            questions[-1]["tests"].append({"key": meta.get("grade_id") or f"cell-{i}", "first_line": _first_line(cell.source),
                                           "points": meta.get("points"), "source": cell.source, "manual": False})
            cell.source = _replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, None, where)
        stub = f'# YOUR CODE HERE\nraise NotImplementedError("{label}: replace this line with your code")'
        cell.source = _replace_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, stub, where)
        cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    for q, cell in zip(questions, headings):
        if not q["tests"]:
            raise ValueError(f"{name}.ipynb: Question {q['number']} has no test cell")
        q["kind"] = _kind(cell, q["tests"])
        q["checks"] = sorted({c for t in q["tests"] for c in CHECK_CALL.findall(t["source"])})
    if student.cells and student.cells[0].cell_type == "markdown":  # the badge must not open the instructor's copy
        link = "" if colab_base is None else f"{COLAB_SVG}({colab_base.rstrip('/')}/{name}.ipynb)\n"
        student.cells[0].source = COLAB_BADGE.sub(link, student.cells[0].source)
    return student, {"questions": questions, "solutions": solutions}


def _has_questions(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return BEGIN_SOLUTION in text or BEGIN_HIDDEN in text


def _select(book_dir: Path, chapters: list[str] | None) -> list[Path]:
    notebooks = sorted(book_dir.glob("*.ipynb"))
    if not chapters:
        return [p for p in notebooks if _has_questions(p)]
    selected = []
    for c in chapters:
        c = str(c).removesuffix(".ipynb")
        match = [p for p in notebooks if p.stem == c or (c.isdigit() and p.stem.split("_")[0] == c.zfill(2))]
        if not match:
            raise ValueError(f"no chapter {c!r} in {book_dir} (have {[p.stem for p in notebooks]})")
        if not _has_questions(match[0]):
            raise ValueError(f"{match[0].name} has no assignment question ('{BEGIN_SOLUTION}' / '{BEGIN_HIDDEN}')")
        selected.append(match[0])
    return selected


def build_assignments(book_dir: str | Path | None, out_dir: str | Path, chapters: list[str] | None = None,
                      colab_base: str | None = None) -> list[Path]:
    """Write the student notebooks of ``chapters`` (default: every notebook with a question) and the grader.

    ``chapters``: stems ("02_gan_game") or numbers ("02", "2"). ``colab_base``: the URL prefix
    under which the student notebooks will be published (e.g.
    ``https://colab.research.google.com/github/ORG/REPO/blob/main/student``); the Colab badge is
    pointed there, or removed when None. Returns the student notebook paths.
    """
    import nbformat

    book_dir, out_dir = Path(book_dir or DEFAULT_BOOK), Path(out_dir)
    if not book_dir.is_dir():
        raise FileNotFoundError(f"no folder {book_dir}: pass the book/ folder of a clone of the glo-teach repository")
    sources = _select(book_dir, chapters)
    if not sources:
        raise ValueError(f"no notebook in {book_dir} has an assignment question")
    (out_dir / "student").mkdir(parents=True, exist_ok=True)
    hidden, written = {}, []
    for src in sources:
        student, hidden[src.stem] = student_version(nbformat.read(src, as_version=4), src.stem, colab_base)
        path = out_dir / "student" / src.name
        nbformat.write(student, path)
        written.append(path)
    (out_dir / HIDDEN_TESTS_FILE).write_text(json.dumps(hidden, indent=1, ensure_ascii=False), encoding="utf-8")
    (out_dir / "grade.py").write_text(GRADE_PY, encoding="utf-8")
    (out_dir / "solutions.md").write_text(solutions_markdown(hidden), encoding="utf-8")
    with zipfile.ZipFile(out_dir / "student.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for path in written:
            z.write(path, f"student/{path.name}")
    return written


@dataclass
class QuestionScore:
    """Score of one question: points earned out of ``max_points``; ``errors`` of the failed test cells."""

    number: str
    title: str
    points: float
    max_points: float
    errors: list[str] = field(default_factory=list)
    manual_points: float = 0.0  # part of max_points that an instructor marks by hand
    answers: list[str] = field(default_factory=list)  # the student's text for the manual part


@dataclass
class GradeReport:
    """Per-question scores of one submission."""

    notebook: str
    assignment: str
    questions: list[QuestionScore]

    @property
    def total(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def max_total(self) -> float:
        return sum(q.max_points for q in self.questions)

    @property
    def auto_max_total(self) -> float:
        """The points the grader can award itself (max_total less the manually graded answers)."""
        return sum(q.max_points - q.manual_points for q in self.questions)

    @property
    def manual_pending(self) -> float:
        return sum(q.manual_points for q in self.questions)

    def to_dict(self) -> dict:
        return {**asdict(self), "total": self.total, "max_total": self.max_total, "auto_max_total": self.auto_max_total,
                "manual_pending": self.manual_pending}

    def __str__(self) -> str:
        lines = [f"{self.notebook} ({self.assignment})"]
        for q in self.questions:
            title = f" {q.title}" if q.title else ""
            manual = f" ({q.manual_points:g} to grade by hand)" if q.manual_points else ""
            lines.append(f"  Question {q.number}{title}: {q.points:g} / {q.max_points:g}{manual}")
            lines += [f"      {e}" for e in q.errors]
            lines += ["      answer: " + (a.replace("\n", " ")[:500] if a.strip() else "(empty)") for a in q.answers]
        pending = f" ({self.manual_pending:g} to grade by hand)" if self.manual_pending else ""
        lines.append(f"  Total: {self.total:g} / {self.max_total:g}{pending}")
        return "\n".join(lines)


def _locate(cells, test: dict, taken: set[int]) -> int | None:
    """Index of the submission's cell for ``test``: same nbgrader grade_id, else same first line."""
    for by in (lambda c: _grade_meta(c).get("grade_id") == test["key"],
               lambda c: test["first_line"] and _first_line(c.source) == test["first_line"]):
        for i, cell in enumerate(cells):
            if i not in taken and cell.cell_type == "code" and by(cell):
                return i
    return None


def _answer(cells, key: str) -> str:
    """The student's text in the manually graded answer cell ``key`` ('' if missing or not answered)."""
    for cell in cells:
        if cell.cell_type == "markdown" and _grade_meta(cell).get("grade_id") == key:
            text = cell.source.strip()
            return "" if text == UNANSWERED else text
    return ""


def _error(cell) -> str | None:
    if cell.get("execution_count") is None and not cell.get("outputs"):
        return "did not run"
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue', '')}"[:300]
    return None


def grade_notebook(path: str | Path, hidden_tests: str | Path, timeout: float = 600, budget: str = "smoke") -> GradeReport:
    """Score a submitted notebook: put back the instructor's test cells, run it, score each question.

    The submission's test cells are found by nbgrader grade_id, else by their first line; a test
    cell that cannot be found is appended at the end. The notebook runs in a fresh "python3"
    kernel in its own directory with ``GLO_TEACH_BUDGET=budget`` and ``CI=true``; ``timeout`` is
    per cell (a cell that runs out is interrupted and counts as an error).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    spec_all = json.loads(Path(hidden_tests).read_text(encoding="utf-8"))
    nb = nbformat.read(path, as_version=4)
    name = nb.metadata.get("glo_teach", {}).get("assignment") or path.stem
    if name not in spec_all:
        raise ValueError(f"{path.name} is not one of this assignment's notebooks {sorted(spec_all)}")
    taken: dict[str, int] = {}
    for question in spec_all[name]["questions"]:
        for test in question["tests"]:
            if test.get("manual"):
                continue
            i = _locate(nb.cells, test, set(taken.values()))
            if i is None:
                nb.cells.append(nbformat.v4.new_code_cell(test["source"]))
                i = len(nb.cells) - 1
            nb.cells[i].source = test["source"]
            taken[test["key"]] = i
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    saved = {k: os.environ.get(k) for k in ("GLO_TEACH_BUDGET", "CI")}
    os.environ.update(GLO_TEACH_BUDGET=budget, CI="true")  # the kernel inherits our environment
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
                       resources={"metadata": {"path": str(path.parent.resolve())}}).execute()
    except DeadKernelError:
        pass  # the cells that did not run score 0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    scores = []
    for q in spec_all[name]["questions"]:
        score = QuestionScore(q["number"], q["title"], 0.0, 0.0)
        for test in q["tests"]:
            worth = test["points"] if test["points"] is not None else q["points"] / len(q["tests"])
            score.max_points += worth
            if test.get("manual"):
                score.manual_points += worth
                score.answers.append(_answer(nb.cells, test["key"]))
                continue
            error = _error(nb.cells[taken[test["key"]]])
            if error is None:
                score.points += worth
            else:
                score.errors.append(error)
        scores.append(score)
    return GradeReport(path.name, name, scores)


def question_table(book_dir: str | Path | None = None) -> list[dict]:
    """Every question of the book: ``{"chapter", "title", "number", "question", "points", "kind",
    "checks", "auto_points", "manual_points", "grade_ids"}``, in chapter order, read from the notebooks."""
    import nbformat

    rows = []
    for path in _select(Path(book_dir or DEFAULT_BOOK), None):
        nb = nbformat.read(path, as_version=4)
        chapter_title = next((line.lstrip("# ").strip() for line in nb.cells[0].source.split("\n")
                              if line.startswith("# ")), path.stem)
        _, spec = student_version(nb, path.stem)
        for q in spec["questions"]:
            worth = [(t, t["points"] if t["points"] is not None else q["points"] / len(q["tests"])) for t in q["tests"]]
            rows.append({"chapter": path.stem, "title": chapter_title, "number": q["number"], "question": q["title"],
                         "points": q["points"], "kind": q["kind"], "checks": q["checks"],
                         "auto_points": sum(w for t, w in worth if not t.get("manual")),
                         "manual_points": sum(w for t, w in worth if t.get("manual")),
                         "grade_ids": [t["key"] for t in q["tests"]]})
    return rows


def questions_markdown(book_dir: str | Path | None = None) -> str:
    """The generated table of ``book/instructors.md``: one row per question, then totals per chapter and kind."""
    rows = question_table(book_dir)
    lines = ["| Chapter | Question | Kind | Points | Immediate feedback |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        checks = ", ".join(f"`{c}`" for c in r["checks"]) or ("graded by hand (rubric in the instructor version)"
                                                             if r["kind"] == "explain" else "the visible test cell")
        lines.append(f"| {r['title']} | {r['number']}. {r['question']} | {r['kind']} | {r['points']:g} | {checks} |")
    chapters = sorted({r["chapter"] for r in rows})
    per_kind = {k: sum(1 for r in rows if r["kind"] == k) for k in KINDS}
    lines += ["", f"{len(rows)} questions in {len(chapters)} chapters, {sum(r['points'] for r in rows):g} points "
              f"({sum(r['auto_points'] for r in rows):g} autograded, {sum(r['manual_points'] for r in rows):g} graded by hand); "
              + ", ".join(f"{n} {k}" for k, n in per_kind.items()) + "."]
    return "\n".join(lines) + "\n"


def solutions_markdown(hidden: dict) -> str:
    """Every chapter's solutions, hidden tests and rubrics as one Markdown document, for the instructor."""
    out = ["# Solutions, hidden tests and rubrics (instructor only)", ""]
    for chapter, spec in hidden.items():
        out += [f"## {chapter}", ""]
        for q in spec["questions"]:
            out += [f"### Question {q['number']} ({q['points']:g} points, {q.get('kind', '')}): {q['title']}", ""]
            for s in spec.get("solutions", []):
                if s["question"] == q["number"] and not any(s["source"] == t["source"] for t in q["tests"]):
                    out += (["```python", s["source"], "```", ""] if s["cell_type"] == "code" else [s["source"], ""])
            for t in q["tests"]:
                out += ([t["source"], ""] if t.get("manual") else ["```python", t["source"], "```", ""])
    return "\n".join(out)
