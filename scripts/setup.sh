#!/usr/bin/env bash
# Create (or reuse) the virtual environment $VENV (default .venv) with glo-teach and its extras.
# TORCH_SPEC picks the torch build: the default, torch==2.13.0, is the CPU build available offline on
# the project's machines; on a CUDA machine use e.g. TORCH_SPEC="torch" (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
pip_install() {  # pip's exit status is kept; only its noise about unused index locations is dropped
  "$VENV/bin/python" -m pip install -q "$@" 2> >(grep -v -i "location '.*' is ignored" >&2)
}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# shellcheck disable=SC2086  # TORCH_SPEC may carry options such as --index-url
pip_install ${TORCH_SPEC:-torch==2.13.0}
pip_install -e ".[book,dev]"
"$VENV/bin/python" -c "import glo_teach, torch; print('glo_teach', glo_teach.__version__, '| torch', torch.__version__)"
