"""Wall time of every chapter of the book under a budget, against the 5-minute (per chapter) and
30-minute (whole book) targets of the ``cpu`` budget.

Each notebook of ``_toc.yml`` is executed in a fresh kernel, one after the other, exactly as the
book build does (``nbclient``, working directory ``book/``, ``$GLO_TEACH_BUDGET`` set). A chapter
that raises stops nothing: its error is printed and the run goes on. The executed notebooks are
written to ``--out`` (default ``runs/book-<budget>/``), so every figure quoted from a run can be
read back from the notebook that computed it. Printed: seconds per chapter with its ratio to
300 s, the five slowest cells of each, and the total with its ratio to 1,800 s.

With ``--record FILE`` (a full run only) the seconds go to a JSON record (budget, date, commit, CPUs,
torch, seconds per chapter, total) and the preface's table of measured timings, between the markers
``<!-- book-timing:begin -->`` and ``<!-- book-timing:end -->`` of ``book/preface.md``, is rewritten
from it (``tests/test_book.py`` checks that the page and the committed record agree).

With ``--compare-plain FILE`` each chosen chapter runs twice, one run after the other: first with every
generator layer PyTorch's own (``bench/_plain_layers.py``, the "before" of the speed work: its
:data:`INSTALL` cell runs first in the kernel), then as the library computes it; printed and written to
FILE: both wall times and their ratio per chapter and in all.

Usage: ``python bench/book_timing.py [--budget cpu] [--chapters 04 08] [--out DIR] [--record FILE]
[--compare-plain FILE]``.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_S, BOOK_S = 300.0, 1800.0  # the cpu budget's targets
PREFACE = ROOT / "book" / "preface.md"
BEGIN, END = "<!-- book-timing:begin -->", "<!-- book-timing:end -->"


def timing_table(record: dict) -> str:
    """The preface's Markdown block for a record of :func:`main` (``--record``)."""
    lines = [
        BEGIN,
        "",
        f"Measured by `bench/book_timing.py --budget {record['budget']}` on {record['date']} "
        f"(commit `{record['commit'][:7]}`, {record['cpus']} CPUs, torch {record['torch']}), each chapter "
        "in a fresh kernel, one after the other:",
        "",
        "| chapter | seconds |",
        "| --- | ---: |",
    ]
    lines += [f"| `{name}` | {sec:.0f} |" for name, sec in record["chapters"].items()]
    lines += [f"| **whole book** | **{record['total']:.0f}** |", "", END]
    return "\n".join(lines)


def write_preface(record: dict, page: Path = PREFACE) -> bool:
    """Put :func:`timing_table` between the markers of ``page``; True if the page changed."""
    text = page.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{page} has no {BEGIN} ... {END} block to fill")
    head, rest = text.split(BEGIN, 1)
    new = head + timing_table(record) + rest.split(END, 1)[1]
    page.write_text(new)
    return new != text


def chapters() -> list[Path]:
    """The notebooks of ``_toc.yml``, in book order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [
        entry["file"]
        for part in toc.get("parts", [toc])
        for entry in part.get("chapters", [])
    ]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def run(
    path: Path, out: Path, timeout: int, first: str | None = None
) -> tuple[float, list[tuple[float, int, str]], str | None]:
    """Execute one notebook (after the code ``first``, if given, as an extra first cell); (seconds,
    [(cell seconds, cell index in the chapter, first line)], error or None)."""
    nb = nbformat.read(path, as_version=4)
    if first is not None:
        nb.cells.insert(0, nbformat.v4.new_code_cell(first))
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=True,
    )
    error = None
    t = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as e:
        error = str(e).strip().splitlines()[-1]
    seconds = time.perf_counter() - t
    nbformat.write(nb, out / path.name)
    cells = []
    for i, cell in enumerate(nb.cells, start=-1 if first is not None else 0):
        timing = cell.get("metadata", {}).get("execution", {})
        if (
            cell.cell_type == "code"
            and "iopub.execute_input" in timing
            and "shell.execute_reply" in timing
        ):
            start = datetime.fromisoformat(
                timing["iopub.execute_input"].replace("Z", "+00:00")
            )
            end = datetime.fromisoformat(
                timing["shell.execute_reply"].replace("Z", "+00:00")
            )
            cells.append(
                (
                    (end - start).total_seconds(),
                    i,
                    cell.source.strip().splitlines()[0][:70]
                    if cell.source.strip()
                    else "",
                )
            )
    return seconds, sorted(cells, reverse=True), error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="cpu", choices=["smoke", "cpu", "gpu"])
    parser.add_argument(
        "--chapters",
        nargs="*",
        help="notebook name prefixes, e.g. 04 08 (default: all)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where the executed notebooks go (default runs/book-<budget>)",
    )
    parser.add_argument(
        "--timeout", type=int, default=1800, help="seconds per cell, as in _config.yml"
    )
    parser.add_argument(
        "--record",
        type=Path,
        help="write the seconds to this JSON and the preface's table from it",
    )
    parser.add_argument(
        "--compare-plain",
        type=Path,
        help="time each chapter with the plain layers, then ours; write both to this JSON",
    )
    args = parser.parse_args()
    os.environ["GLO_TEACH_BUDGET"] = args.budget
    out = args.out or ROOT / "runs" / f"book-{args.budget}"
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        p
        for p in chapters()
        if not args.chapters or any(p.name.startswith(c) for c in args.chapters)
    ]
    print(
        f"budget {args.budget}, {os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    if args.compare_plain:
        return compare_plain(paths, out, args)
    total, failed, per_chapter = 0.0, [], {}
    for path in paths:
        seconds, cells, error = run(path, out, args.timeout)
        total += seconds
        per_chapter[path.stem] = round(seconds, 1)
        print(
            f"{path.name:40s} {seconds:7.1f} s = {seconds / CHAPTER_S:.2f}x of {CHAPTER_S:.0f} s"
            + (f"  FAILED: {error}" if error else ""),
            flush=True,
        )
        for s, i, line in cells[:5]:
            print(f"    cell {i:3d} {s:7.1f} s  {line}")
        if error:
            failed.append(path.name)
    print(
        f"total {total:.0f} s = {total / BOOK_S:.2f}x of {BOOK_S:.0f} s; executed notebooks in {out}"
    )
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")
    if args.record:
        if args.chapters:
            raise SystemExit("--record needs the whole book (no --chapters)")
        import torch

        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "glo_teach", "book"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        record = {
            "budget": args.budget,
            "date": datetime.now().strftime("%Y-%m-%d"),
            "commit": commit,
            "uncommitted_changes": dirty,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "torch": torch.__version__,
            "chapters": per_chapter,
            "total": round(total, 1),
        }
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(record, indent=1) + "\n")
        print(
            f"record in {args.record}; preface {'updated' if write_preface(record) else 'unchanged'}"
        )


def compare_plain(paths: list[Path], out: Path, args) -> None:
    """Each chapter with the plain layers, then with ours, back to back; the ratio plain / ours."""
    sys.path.insert(0, str(ROOT / "bench"))
    from _plain_layers import INSTALL

    plain_out = out.with_name(out.name + "-plain")
    plain_out.mkdir(parents=True, exist_ok=True)
    rows, failed = {}, []
    for path in paths:
        times = {}
        for tag, first, where in (("plain", INSTALL, plain_out), ("ours", None, out)):
            times[tag], _, error = run(path, where, args.timeout, first)
            if error:
                failed.append(f"{path.name} ({tag}): {error}")
        rows[path.stem] = {k: round(v, 1) for k, v in times.items()}
        print(
            f"{path.name:40s} plain {times['plain']:7.1f} s  ours {times['ours']:7.1f} s  "
            f"ratio {times['plain'] / times['ours']:.2f}",
            flush=True,
        )
    plain = sum(r["plain"] for r in rows.values())
    ours = sum(r["ours"] for r in rows.values())
    print(
        f"{'in all':40s} plain {plain:7.1f} s  ours {ours:7.1f} s  ratio {plain / ours:.2f}"
    )
    if failed:
        raise SystemExit("failed: " + "; ".join(failed))
    import torch

    record = {
        "budget": args.budget,
        "date": datetime.now().strftime("%Y-%m-%d"),
        "commit": subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "cpus": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "torch": torch.__version__,
        "chapters": rows,
        "total": {"plain": round(plain, 1), "ours": round(ours, 1)},
    }
    args.compare_plain.parent.mkdir(parents=True, exist_ok=True)
    args.compare_plain.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
