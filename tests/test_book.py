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
DEFINE = re.compile(
    r"\$\$\s*\(([A-Za-z0-9_:\-]+)\)|:label:\s*([A-Za-z0-9_:\-]+)|^\(([A-Za-z0-9_:\-]+)\)=",
    re.M,
)


def _book_text() -> str:
    parts = [p.read_text() for p in BOOK.glob("*.md")]
    for nb in NOTEBOOKS:
        parts += [
            "".join(c["source"])
            for c in json.loads(nb.read_text())["cells"]
            if c["cell_type"] == "markdown"
        ]
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
    assert not missing, (
        f"labels cited in docstrings but defined nowhere in book/: {missing}"
    )


def test_label_checker_sees_definitions_and_citations():
    """Guard against a checker that finds nothing: the book defines labels and the book cites them."""
    assert "lvm-marginal" in defined_labels()
    assert "lvm-marginal" in CITE.findall(_book_text())


def test_notebooks_are_stripped_except_checked_cells():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "strip_outputs.py"),
            "--check",
            *map(str, NOTEBOOKS),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_each_notebook_opens_in_colab_at_its_own_path():
    for nb_path in NOTEBOOKS:
        cells = json.loads(nb_path.read_text())["cells"]
        badge = f"https://colab.research.google.com/github/glo-teach/glo-teach/blob/main/book/{nb_path.name}"
        assert badge in "".join(cells[0]["source"]), (
            f"{nb_path.name}: no Colab badge to itself in the first cell"
        )
        install = cells[1]
        assert install["cell_type"] == "code" and "remove-cell" in install[
            "metadata"
        ].get("tags", []), nb_path.name
        assert '"google.colab" in sys.modules' in "".join(install["source"]), (
            nb_path.name
        )


def test_toc_lists_every_chapter_and_only_existing_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [
        c["file"] for part in toc["parts"] for c in part["chapters"]
    ]
    for f in files:
        assert any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), (
            f"{f} listed in _toc.yml but missing"
        )
    assert {f"book/{nb.stem}" for nb in NOTEBOOKS} <= set(files), (
        "a notebook in book/ is not in _toc.yml"
    )


CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


def test_chapters_are_numbered_by_the_toc_not_by_hand():
    """_toc.yml numbers the three chapter parts (continuously: chapters 1-11 in book order), not the front and
    back matter; so no chapter title carries its own number ("7. 7. GLO" in the rendered page)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapter_files = {f"book/{nb.stem}" for nb in CHAPTERS}
    in_order = []
    for part in toc["parts"]:
        files = [c["file"] for c in part["chapters"]]
        has_chapters = bool(set(files) & chapter_files)
        assert bool(part.get("numbered")) == has_chapters, (
            f"part {part['caption']!r}: numbered={part.get('numbered')}"
        )
        assert not has_chapters or set(files) <= chapter_files, (
            f"part {part['caption']!r} mixes chapters and pages"
        )
        in_order += [f for f in files if f in chapter_files]
    assert in_order == sorted(chapter_files), (
        "chapters out of book order: their rendered numbers would not be NN"
    )
    for nb in CHAPTERS:
        title = next(
            line
            for line in "".join(json.loads(nb.read_text())["cells"][0]["source"]).split(
                "\n"
            )
            if line.startswith("# ")
        )
        assert not re.match(r"#\s*\d", title), (
            f"{nb.name}: {title!r} is numbered by hand"
        )


# sphinx-exercise: every "## Exercises" section holds only {exercise} and {solution} directives.
DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>exercise|solution)\}[ \t]*(?P<arg>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)
PLAIN_EXERCISE_REF = re.compile(r"\b[Ee]xercises? \d")


def exercise_sections(cells: list[dict]) -> list[str]:
    """The text of each "## Exercises" section: from the heading to the next "## " heading (markdown cells only;
    code cells in between, such as the cell an exercise refers to, are not part of it)."""
    sections, current = [], None
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for piece in re.split(r"(?=^## )", "".join(cell["source"]), flags=re.M):
            if piece.startswith("## "):
                if current is not None:
                    sections.append(current)
                current = (
                    piece
                    if re.match(r"## Exercises\s*$", piece.split("\n")[0])
                    else None
                )
            elif current is not None:
                current += "\n" + piece
    return sections + ([current] if current is not None else [])


def _options(body: str) -> dict[str, str]:
    options = {}
    for line in body.split("\n"):
        m = re.match(r"^:([\w\-]+):[ \t]*(.*)$", line)
        if not m:
            break
        options[m.group(1)] = m.group(2).strip()
    return options


def exercise_problems(
    chapter: str, cells: list[dict], labels: dict[str, str]
) -> list[str]:
    """What is wrong with a chapter's exercises. ``labels`` collects exercise labels across the book (label ->
    chapter), so that a label used twice anywhere is reported."""
    problems, sections = [], exercise_sections(cells)
    if len(sections) != 1:
        return [f"{chapter}: {len(sections)} '## Exercises' sections, expected 1"]
    section = sections[0].split("\n", 1)[1] if "\n" in sections[0] else ""
    exercises, solutions = [], []
    for d in DIRECTIVE.finditer(section):
        options = _options(d["body"])
        if d["name"] == "exercise":
            label = options.get("label")
            if not label:
                problems.append(
                    f"{chapter}: an exercise without :label: ({d['arg'] or d['body'][:40]!r})"
                )
                continue
            if label in labels:
                problems.append(
                    f"{chapter}: exercise label {label!r} already used in {labels[label]}"
                )
            labels[label] = chapter
            exercises.append(label)
            expected = f"ch{chapter[:2]}-ex{len(exercises)}"  # the label names the number the book renders
            if label != expected:
                problems.append(
                    f"{chapter}: exercise {len(exercises)} is labelled {label!r}, expected {expected!r}"
                )
        else:
            solutions.append(d["arg"].strip())
            if options.get("class") != "dropdown":
                problems.append(
                    f"{chapter}: the solution to {d['arg']!r} is not folded (:class: dropdown)"
                )
    left = DIRECTIVE.sub("", section).strip()
    if left:
        problems.append(
            f"{chapter}: the Exercises section holds more than exercises and solutions: {left[:120]!r}"
        )
    if not exercises:
        problems.append(
            f"{chapter}: no {{exercise}} directive in the Exercises section"
        )
    for target in solutions:
        if target not in exercises:
            problems.append(
                f"{chapter}: solution to {target!r}, which is no exercise of this chapter"
            )
    for label in exercises:
        if solutions.count(label) != 1:
            problems.append(
                f"{chapter}: exercise {label!r} has {solutions.count(label)} solutions"
            )
    for cell in (
        cells
    ):  # "exercise 3" as plain text would not follow a renumbering: link it ({numref})
        if cell["cell_type"] == "markdown":
            prose = re.sub(
                r"\{[\w:\-]+\}`[^`]*`|`[^`\n]*`|\$[^$\n]+\$",
                " ",
                "".join(cell["source"]),
            )
            problems += [
                f"{chapter}: plain {m.group(0)!r}: use {{numref}}`exercise %s <label>`"
                for m in PLAIN_EXERCISE_REF.finditer(prose)
            ]
    return problems


def test_exercises_are_sphinx_exercise_directives_with_unique_labels_and_solutions():
    assert (
        "sphinx_exercise"
        in yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"][
            "extra_extensions"
        ]
    )
    labels, problems = {}, []
    for nb in CHAPTERS:
        problems += exercise_problems(
            nb.stem, json.loads(nb.read_text())["cells"], labels
        )
    assert not problems, "\n".join(problems)
    assert len(labels) >= 2 * len(CHAPTERS)


def test_the_exercise_checker_finds_each_kind_of_mistake():
    """Guard against a checker that passes anything: each broken section below is reported."""

    def md(text):
        return {"cell_type": "markdown", "source": text}

    good = (
        "## Exercises\n\n```{exercise} A title\n:label: ch07-ex1\n\nDo it.\n```\n\n"
        "```{solution} ch07-ex1\n:class: dropdown\n\nDone.\n```\n\n## Summary\n\nFine (exercise\n"
    )
    assert exercise_problems("07_glo", [md(good)], {}) == []
    cases = {
        "holds more": good.replace(
            "```{solution} ch07-ex1\n:class: dropdown\n",
            "```{admonition} Solution\n:class: dropdown\n",
        ),
        "which is no exercise": good.replace(
            "{solution} ch07-ex1", "{solution} ch07-ex9"
        ),
        "not folded": good.replace(":class: dropdown\n", ""),
        "without :label:": good.replace(":label: ch07-ex1\n", ""),
        "expected 'ch07-ex1'": good.replace("ch07-ex1", "ch07-ex2"),
        "0 solutions": good.split("```{solution}")[0] + "\n## Summary\n",
        "plain 'exercise 1'": good + "\nAs exercise 1 shows.\n",
        "2 '## Exercises' sections": good + "\n## Exercises\n",
    }
    for expected, text in cases.items():
        found = exercise_problems("07_glo", [md(text)], {})
        assert any(expected in p for p in found), (expected, found)
    found = exercise_problems("07_glo", [md(good)], {"ch07-ex1": "06_vae"})
    assert any("already used in 06_vae" in p for p in found), found


def test_the_prefaces_timings_are_the_committed_measurement():
    """The preface's table of chapter timings is generated from bench/results/book-cpu.json (the record of
    `bench/book_timing.py --record`): the page says what the last measurement measured, no pasted number."""
    sys.path.insert(0, str(ROOT / "bench"))
    import book_timing

    record = json.loads((ROOT / "bench" / "results" / "book-cpu.json").read_text())
    assert set(record["chapters"]) == {
        p.stem for p in book_timing.chapters()
    }  # every chapter, nothing else
    assert abs(sum(record["chapters"].values()) - record["total"]) < 1.0
    assert (
        book_timing.timing_table(record) in (ROOT / "book" / "preface.md").read_text()
    )
