"""The ``glo-teach`` command line (argparse lives here and nowhere else).

glo-teach table1 --dataset mnist --budget cpu --out results/table1-mnist
glo-teach tune --dataset mnist --budget reference --out results/tune-mnist
glo-teach reference --dataset mnist --out reference/mnist [--budget cpu]
glo-teach assignments build --out assignments/ [--chapters 02 06]
glo-teach assignments table [--write | --check]
"""

from __future__ import annotations

import argparse
import sys

from .budgets import BUDGETS
from .data import DATASETS

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glo-teach", description="GANs, VAEs and GLO: experiments of the book."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    t1 = commands.add_parser(
        "table1",
        help="reproduce Table 1 of the GLO paper (reconstruction pSNR)",
        description="Train PCA, VAE, DCGAN and GLO on the paper's split and write train/test "
        "pSNR with codes found by MSE and by Lap1 (CSV, Markdown, PNG figures).",
    )
    t1.add_argument("--dataset", choices=DATASETS, default="mnist")
    t1.add_argument(
        "--budget",
        choices=sorted(BUDGETS) + ["reference"],
        default=None,
        help="compute budget, or `reference` for the paper's scale (glo_teach.reference.PROTOCOLS; "
        "default: $GLO_TEACH_BUDGET, else gpu with CUDA and cpu without)",
    )
    t1.add_argument(
        "--out",
        required=True,
        help="directory for table1.csv, table1.md and the figures",
    )
    t1.add_argument(
        "--device",
        default=None,
        help="torch device (default: cuda if available, else cpu)",
    )
    t1.add_argument("--seed", type=int, default=0)

    tu = commands.add_parser(
        "tune",
        help="choose Table 1's inversion and GLO settings on the validation part",
        description="Train the four models on the fit part and choose the DCGAN's inversion step "
        "size, the inversion steps and GLO's optimiser on validation images only "
        "(tune.json, tune.md).",
    )
    tu.add_argument("--dataset", choices=DATASETS, default="mnist")
    tu.add_argument("--budget", choices=sorted(BUDGETS) + ["reference"], default=None)
    tu.add_argument("--out", required=True, help="directory for tune.json and tune.md")
    tu.add_argument(
        "--steps",
        type=int,
        nargs="+",
        default=[100, 300, 1000, 3000],
        help="inversion steps to compare",
    )
    tu.add_argument(
        "--n-val",
        type=int,
        default=None,
        help="validation images scored (default: the protocol's n_val)",
    )
    tu.add_argument("--device", default=None)
    tu.add_argument("--seed", type=int, default=0)

    ref = commands.add_parser(
        "reference",
        help="train (or resume) and score Table 1's models into an artefact folder",
        description="Train PCA, VAE, DCGAN and GLO (resuming a killed run), score them as in "
        "Table 1 and write the artefact folder: checkpoint.pt (weights, GLO's codes "
        "and their Gaussian), table1.json/csv/md, figures and manifest.json "
        "(SHA-256 of every file). Commit it as reference/<dataset>/ for the "
        "chapters to load (glo_teach.reference.store).",
    )
    ref.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default="mnist")
    ref.add_argument(
        "--budget",
        choices=sorted(BUDGETS) + ["reference"],
        default="reference",
        help="the paper's scale `reference` (default) or a budget's protocol",
    )
    ref.add_argument("--out", required=True, help="the artefact folder")
    ref.add_argument(
        "--device",
        default=None,
        help="torch device (default: cuda if available, else cpu)",
    )
    ref.add_argument("--seed", type=int, default=0)

    asg = commands.add_parser(
        "assignments", help="student versions of the chapters and a grader"
    )
    asg_commands = asg.add_subparsers(dest="assignments_command", required=True)
    b = asg_commands.add_parser(
        "build",
        help="write student notebooks, student.zip, grade.py and .hidden_tests.json",
    )
    b.add_argument("--out", required=True)
    b.add_argument(
        "--chapters",
        nargs="+",
        default=None,
        help="numbers or names, e.g. 02 06 (default: all with a question)",
    )
    b.add_argument(
        "--book",
        default=None,
        help="folder of the chapter notebooks (default: the repository's book/)",
    )
    b.add_argument(
        "--colab-base",
        default=None,
        help="URL prefix of the published student notebooks (Colab badge)",
    )
    t = asg_commands.add_parser(
        "table",
        help="the questions, points and syllabus of book/instructors.md, from the notebooks",
        description="Print the generated block of the instructor page; --write puts it into "
        "the page, --check fails when the page disagrees with the notebooks.",
    )
    t.add_argument(
        "--book",
        default=None,
        help="folder of the chapter notebooks (default: the repository's book/)",
    )
    t.add_argument(
        "--page",
        default=None,
        help="the page to update (default: instructors.md in the book folder)",
    )
    mode = t.add_mutually_exclusive_group()
    mode.add_argument(
        "--write", action="store_true", help="regenerate the block in the page"
    )
    mode.add_argument(
        "--check", action="store_true", help="exit 1 when the page is out of date"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "table1":
        from .reference import (
            run_table1,
            to_markdown,
        )  # imported late: `glo-teach --help` stays fast

        result = run_table1(args.dataset, args.budget, args.out, args.device, args.seed)
        print(to_markdown(result))
    elif args.command == "tune":
        from .reference import get_protocol
        from .reference.tune import run_tuning, tuning_markdown

        before = get_protocol(args.budget)
        ceiling = (
            None if args.budget == "reference" else before.inversion.steps
        )  # a budget's cost limit
        after, record = run_tuning(
            args.dataset,
            before,
            args.out,
            steps_grid=tuple(args.steps),
            step_ceiling=ceiling,
            n_val=args.n_val,
            device=args.device,
            seed=args.seed,
        )
        print(tuning_markdown(before, after, record))
    elif args.command == "reference":
        from .reference import to_markdown
        from .reference.store import write_reference

        result = write_reference(
            args.dataset, args.budget, args.out, args.seed, args.device
        )
        print(to_markdown(result))
        print(f"artefacts and manifest.json in {args.out}")
    elif args.command == "assignments" and args.assignments_command == "table":
        from pathlib import Path

        from .assignments import (
            DEFAULT_BOOK,
            instructors_block,
            update_instructors_page,
        )

        if not (args.write or args.check):
            print(instructors_block(args.book))
            return 0
        page = (
            Path(args.page)
            if args.page
            else Path(args.book or DEFAULT_BOOK) / "instructors.md"
        )
        up_to_date = update_instructors_page(page, args.book, write=args.write)
        print(
            f"{page}: "
            + (
                "up to date"
                if up_to_date
                else "regenerated"
                if args.write
                else "out of date: run `glo-teach assignments table --write`"
            )
        )
        return 0 if up_to_date or args.write else 1
    elif args.command == "assignments":
        from .assignments import build_assignments

        for path in build_assignments(
            args.book, args.out, args.chapters, args.colab_base
        ):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
