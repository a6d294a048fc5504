"""Strip notebook outputs, except in cells marked ``# NBVAL_CHECK_OUTPUT`` (nbval compares those).

python scripts/strip_outputs.py book/*.ipynb          # strip in place
python scripts/strip_outputs.py --check book/*.ipynb  # exit 1 if any notebook needs stripping
"""

from __future__ import annotations

import json
import sys


def strip(nb: dict) -> bool:
    """Strip ``nb`` in place; return True if anything changed."""
    changed = False
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        keep = "NBVAL_CHECK_OUTPUT" in "".join(cell["source"])
        if not keep and (
            cell.get("outputs") or cell.get("execution_count") is not None
        ):
            cell["outputs"], cell["execution_count"] = [], None
            changed = True
        for key in ("execution", "collapsed", "scrolled"):
            if key in cell.get("metadata", {}):
                del cell["metadata"][key]
                changed = True
    if "widgets" in nb.get("metadata", {}):
        del nb["metadata"]["widgets"]
        changed = True
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    dirty = []
    for path in (a for a in argv if a != "--check"):
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        if strip(nb):
            dirty.append(path)
            if not check:
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(nb, f, indent=1, ensure_ascii=False)
                    f.write("\n")
    if check and dirty:
        print(
            "notebooks with outputs outside NBVAL_CHECK_OUTPUT cells:\n  "
            + "\n  ".join(dirty)
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
