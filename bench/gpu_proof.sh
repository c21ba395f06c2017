#!/usr/bin/env bash
# The GPU proof in one device call (issue 22). Here, first: `bash bench/gpu_wheels.sh`.
# Then one call of the device tool: carry [".whl"], command `bash bench/gpu_proof.sh`,
# timeout_s 600. Its files come back from $OUT: gpu_proof.md (the report), benchmarks_gpu.md
# (for docs/benchmarks.md: `python bench/gpu_proof.py --record FILE` here), gpu_proof.json,
# gpu_proof.log, install.log.
#
# 1. Installs .whl/*.whl (dlgrader and the Jupyter stack, pydantic, dask: the machine has
#    none of them and no network) into /tmp/site, and puts /tmp/site first on the path of
#    that machine's python3 with a .pth file in its site-packages, so the kernels the grader
#    starts (with a cleaned environment: no PYTHONPATH) find them too.
# 2. Runs bench/gpu_proof.py: sandbox, GPU check, then the phases (see its docstring).
#
# Environment:
#   GPU_PROOF_SKIP_INSTALL=1  use the Python that already has dlgrader (a checkout's .venv)
#   GPU_PROOF_PYTHON=PATH     that Python (default: .venv/bin/python if present, else python3)
#   GPU_PROOF_WHEELS=DIR      the wheels (default .whl)
#   GPU_PROOF_SITE=DIR        where they are installed (default /tmp/site)
#   GPU_PROOF_BUDGET=420      seconds for the phases (the call itself is limited to 600)
#   GPU_PROOF_ARGS="..."      more arguments for bench/gpu_proof.py (--phases, --few, ...)
# Exit codes: 0 done and every check passed, or no GPU (one line: "gpu_proof: no GPU here
# (...)"); 1 a check failed; 3 the wheels are missing or do not install or import.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 3
OUT=${OUT:-/tmp/gpu-proof-out}
export OUT
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 DLGRADER_DATA_TIER=${DLGRADER_DATA_TIER:-offline}

if [ -n "${GPU_PROOF_SKIP_INSTALL:-}" ]; then
    if [ -x .venv/bin/python ]; then PY=${GPU_PROOF_PYTHON:-.venv/bin/python}; else PY=${GPU_PROOF_PYTHON:-python3}; fi
    echo "gpu_proof: install skipped (GPU_PROOF_SKIP_INSTALL); python $PY"
else
    PY=${GPU_PROOF_PYTHON:-python3}
    WHEELS=${GPU_PROOF_WHEELS:-.whl}
    if [ ! -d "$WHEELS" ]; then
        echo "gpu_proof: no $WHEELS/ here: run 'bash bench/gpu_wheels.sh' and carry [\".whl\"]"
        exit 3
    fi
    GPU_WHEELS_DIR=$WHEELS bash bench/gpu_wheels.sh --check || exit 3
    SITE=${GPU_PROOF_SITE:-/tmp/site}
    started=$(date +%s)
    if ! "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" "$WHEELS"/*.whl >"$OUT/install.log" 2>&1; then
        echo "gpu_proof: the wheels did not install (last lines of install.log):"
        tail -5 "$OUT/install.log"
        exit 3
    fi
    PURELIB=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    # A .pth line that starts with "import" runs at start-up: /tmp/site goes before the
    # machine's own packages (pydantic_core needs a newer typing_extensions), in every
    # process of this Python, the sandboxed kernels included.
    if ! echo "import sys; sys.path.insert(0, '$SITE')" >"$PURELIB/00-gpu-proof.pth"; then
        echo "gpu_proof: cannot write $PURELIB/00-gpu-proof.pth: the kernels would not find $SITE"
        exit 3
    fi
    export PYTHONPATH=$SITE PATH=$SITE/bin:$PATH
    echo "gpu_proof: installed $(ls "$WHEELS"/*.whl | wc -l) wheels into $SITE in $(($(date +%s) - started)) s"
fi

"$PY" -c 'import grader, nbclient, ipykernel, pydantic, distributed' 2>"$OUT/import.log" || {
    echo "gpu_proof: dlgrader or its packages do not import with $PY:"
    tail -3 "$OUT/import.log"
    exit 3
}
rm -f "$OUT/import.log"
# shellcheck disable=SC2086 # GPU_PROOF_ARGS is a list of arguments
"$PY" bench/gpu_proof.py --out "$OUT" --budget "${GPU_PROOF_BUDGET:-420}" --write ${GPU_PROOF_ARGS:-}
