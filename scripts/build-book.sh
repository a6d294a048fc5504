#!/usr/bin/env bash
# Build the book into _build/html, executing every chapter at this machine's budget
# ($GLO_TEACH_BUDGET, else gpu with CUDA and cpu without). Fails if any notebook raises.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/setup.sh
bash scripts/vendor.sh
"$VENV/bin/python" -c "from glo_teach.budgets import get_budget; print('budget:', get_budget().name)"
# no progress bars and no dead sliders in built pages (interactive runs keep them; the pages show
# static figures instead of sliders)
GLO_TEACH_PROGRESS=0 GLO_TEACH_WIDGETS=0 "$VENV/bin/jupyter-book" build . -W -n --keep-going
echo "book: $(pwd)/_build/html/index.html"
