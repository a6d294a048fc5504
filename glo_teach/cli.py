"""The ``glo-teach`` command line (argparse lives here and nowhere else).

    glo-teach table1 --dataset mnist --budget cpu --out results/table1-mnist
    glo-teach assignments build --out assignments/ [--chapters 02 06]
"""

from __future__ import annotations

import argparse
import sys

from .budgets import BUDGETS
from .data import DATASETS

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glo-teach", description="GANs, VAEs and GLO: experiments of the book.")
    commands = parser.add_subparsers(dest="command", required=True)
    t1 = commands.add_parser("table1", help="reproduce Table 1 of the GLO paper (reconstruction pSNR)",
                             description="Train PCA, VAE, DCGAN and GLO on the paper's split and write train/test "
                                         "pSNR with codes found by MSE and by Lap1 (CSV, Markdown, PNG figures).")
    t1.add_argument("--dataset", choices=DATASETS, default="mnist")
    t1.add_argument("--budget", choices=sorted(BUDGETS), default=None,
                    help="compute budget (default: $GLO_TEACH_BUDGET, else gpu with CUDA and cpu without)")
    t1.add_argument("--out", required=True, help="directory for table1.csv, table1.md and the figures")
    t1.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    t1.add_argument("--seed", type=int, default=0)

    asg = commands.add_parser("assignments", help="student versions of the chapters and a grader")
    asg_commands = asg.add_subparsers(dest="assignments_command", required=True)
    b = asg_commands.add_parser("build", help="write student notebooks, student.zip, grade.py and .hidden_tests.json")
    b.add_argument("--out", required=True)
    b.add_argument("--chapters", nargs="+", default=None, help="numbers or names, e.g. 02 06 (default: all with a question)")
    b.add_argument("--book", default=None, help="folder of the chapter notebooks (default: the repository's book/)")
    b.add_argument("--colab-base", default=None, help="URL prefix of the published student notebooks (Colab badge)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "table1":
        from .table1 import run_table1, to_markdown  # imported late: `glo-teach --help` stays fast

        result = run_table1(args.dataset, args.budget, args.out, args.device, args.seed)
        print(to_markdown(result))
    elif args.command == "assignments":
        from .assignments import build_assignments

        for path in build_assignments(args.book, args.out, args.chapters, args.colab_base):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
