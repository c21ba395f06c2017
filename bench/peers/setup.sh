#!/usr/bin/env bash
# The peers' environment for bench/peers.py: Otter-Grader and nbgrader from PyPI, pinned,
# in a virtualenv of their own (default /work/peers-venv, outside the repository), so
# neither their dependencies nor ours change the other's. Re-running it is cheap: an
# existing venv with the right versions is kept.
#
#   bash bench/peers/setup.sh [VENV]
set -euo pipefail

VENV="${1:-${PEERS_VENV:-/work/peers-venv}}"
PYTHON="${PYTHON:-python3}"
# One pin per peer, the same numpy as the grader's own venv: both sides run the same maths.
PINS=(
  "otter-grader==7.0.0"
  "nbgrader==0.9.6"
  "numpy==2.4.6"
  "ipykernel==7.4.0"
  "matplotlib==3.11.2"  # the backprop notebook plots its loss curve
  "scipy==1.17.1"  # iris's notebook takes its sigmoid from scipy.special
)

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" - "${PINS[@]}" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
then
  echo "peers venv ready: $VENV"
  exit 0
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}"
# A kernelspec inside the venv, so nbclient in both tools starts this venv's Python.
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "peers" >/dev/null
"$VENV/bin/python" -c "import otter, nbgrader, numpy; print('otter', otter.__version__, '| nbgrader', nbgrader.__version__, '| numpy', numpy.__version__)"
echo "peers venv ready: $VENV"
