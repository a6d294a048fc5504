#!/usr/bin/env bash
# Create (or reuse) the virtual environment $VENV (default .venv) with glo-teach and its extras.
# TORCH_SPEC picks the torch build: the default, torch==2.13.0, is the CPU build available offline on
# the project's machines; on a CUDA machine use e.g. TORCH_SPEC="torch" (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v -i warning || true
"$VENV/bin/python" -m pip install -q "${TORCH_SPEC:-torch==2.13.0}" 2>&1 | grep -v -i warning || true
"$VENV/bin/python" -m pip install -q -e ".[book,dev]" 2>&1 | grep -v -i warning || true
"$VENV/bin/python" -c "import glo_teach, torch; print('glo_teach', glo_teach.__version__, '| torch', torch.__version__)"
