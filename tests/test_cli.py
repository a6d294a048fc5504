"""The glo-teach command line: subcommands reach the library and bad arguments are explained."""

import json

import pytest

from glo_teach.cli import main


def test_assignments_build_writes_student_notebooks(tmp_path):
    assert (
        main(["assignments", "build", "--out", str(tmp_path), "--chapters", "02"]) == 0
    )
    student = tmp_path / "student" / "02_gan_game.ipynb"
    cells = json.loads(student.read_text())["cells"]
    code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "NotImplementedError" in code and "### BEGIN SOLUTION" not in code
    assert (tmp_path / "grade.py").exists()


def test_unknown_dataset_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["table1", "--dataset", "cifar10", "--out", "x"])
    assert "invalid choice" in capsys.readouterr().err
