#!/usr/bin/env bash
# Wheels for bench/gpu_proof.sh on the lent GPU machine, which has no network.
#
#   bash bench/gpu_wheels.sh          # download into .whl/ (git-ignored), build dlgrader's wheel
#   bash bench/gpu_wheels.sh --check  # only check .whl/: every wheel there, one version each,
#                                     # under the size limit; exits 0 and says so when .whl/
#                                     # is absent (nothing to check)
#
# That machine has Python 3.12 with a CUDA torch, numpy, matplotlib, pillow, jinja2, click,
# rich, pyyaml, scikit-learn, pytest, requests, psutil... (/work/.library/device/KINDS.md)
# and none of the Jupyter stack, pydantic or dask. The names below are what dlgrader's
# grading path needs beyond that, each pinned to the version in this checkout's .venv
# (`pip freeze`), as cp312 manylinux or pure-Python wheels, fetched with --no-deps so
# nothing else comes along. typing_extensions and psutil are there already but carried
# anyway: pydantic_core needs typing_extensions>=4.16 and IPython psutil>=7.
# The device call carries the folder: carry [".whl"], command `bash bench/gpu_proof.sh`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${GPU_WHEELS_DIR:-$ROOT/.whl}
PY=${GPU_WHEELS_PYTHON:-$ROOT/.venv/bin/python}
LIMIT_MB=${GPU_WHEELS_LIMIT_MB:-60}

# Compiled: cp312 manylinux x86-64 wheels.
BINARY=(
    pyzmq==27.3.0
    tornado==6.6.1
    debugpy==1.8.22
    psutil==7.2.2
    pydantic_core==2.50.5
    rpds-py==2026.9.1
)
# Pure Python (py3-none-any).
PURE=(
    nbformat==5.11.1
    nbclient==0.11.0
    jupyter_client==8.10.0
    jupyter_core==5.9.1
    ipykernel==7.4.0
    comm==0.2.3
    ipython==9.19.1
    ipython_pygments_lexers==1.1.1
    matplotlib-inline==0.2.2
    nest-asyncio2==1.7.4
    pexpect==4.9.0
    ptyprocess==0.7.0
    jedi==0.20.1
    parso==0.8.7
    prompt_toolkit==3.0.53
    wcwidth==0.9.4
    stack-data==0.6.3
    executing==2.3.0
    asttokens==3.0.2
    pure_eval==0.2.4
    traitlets==5.16.1
    platformdirs==4.14.9
    fastjsonschema==2.22.3
    jsonschema==4.26.0
    jsonschema-specifications==2025.9.1
    referencing==0.37.0
    pydantic==2.14.4
    annotated-types==0.8.0
    typing-inspection==0.4.5
    typing_extensions==4.16.0
    dask==2026.8.0
    distributed==2026.8.0
    partd==1.4.2
    locket==1.0.0
    tblib==3.2.2
    zict==3.0.0
    docker==7.2.0
)

# The distribution name as a wheel's file name spells it (PEP 427: runs of -_. become _).
wheel_name() {
    local name=${1%%==*}
    name=$(echo "$name" | tr 'A-Z' 'a-z' | sed -E 's/[-_.]+/_/g')
    echo "$name"
}

check() {
    if [ ! -d "$DIR" ]; then
        echo "gpu_wheels: no $DIR: nothing to check (run bash bench/gpu_wheels.sh to fetch)"
        return 0
    fi
    local missing=0 spec name count
    for spec in "${BINARY[@]}" "${PURE[@]}" dlgrader==0.1.0; do
        name=$(wheel_name "$spec")
        version=${spec##*==}
        count=$(find "$DIR" -maxdepth 1 -iname "${name}-*.whl" | wc -l)
        if [ "$count" -eq 0 ]; then
            echo "gpu_wheels: missing $spec"
            missing=1
        elif [ "$count" -gt 1 ]; then
            echo "gpu_wheels: $count wheels of $name (one version only, or the install stops)"
            missing=1
        elif ! find "$DIR" -maxdepth 1 -iname "${name}-${version}-*.whl" | grep -q .; then
            echo "gpu_wheels: $name is not version $version"
            missing=1
        fi
    done
    for spec in "${BINARY[@]}"; do
        name=$(wheel_name "$spec")
        # cp312-cp312, or the stable ABI (cp3N-abi3, N <= 12), for manylinux x86-64.
        if ! find "$DIR" -maxdepth 1 -iname "${name}-*.whl" | grep -Eq \
            -- '-cp3[0-9]+-(cp312|abi3)-[^/]*manylinux[^/]*x86_64[^/]*\.whl$'; then
            echo "gpu_wheels: $name has no cp312 (or abi3) manylinux x86_64 wheel"
            missing=1
        fi
    done
    # dlgrader's wheel must hold the checkout's grader/ as it is now: a wheel built before
    # the last change would prove the old code.
    local stale
    stale=$(python3 - "$DIR" "$ROOT" <<'PY'
import sys, zipfile
from pathlib import Path
folder, root = Path(sys.argv[1]), Path(sys.argv[2])
wheels = sorted(folder.glob("dlgrader-*.whl"))
if len(wheels) == 1 and (root / "grader").is_dir():
    with zipfile.ZipFile(wheels[0]) as whl:
        inside = {n: whl.read(n) for n in whl.namelist() if n.startswith("grader/")}
    tree = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in (root / "grader").rglob("*")
        if p.is_file() and p.suffix != ".pyc"
        and "__pycache__" not in p.parts
    }
    differ = sorted(n for n in set(tree) | set(inside) if tree.get(n) != inside.get(n))
    if differ:
        print(f"{len(differ)} files, e.g. {differ[0]}")
PY
)
    if [ -n "$stale" ]; then
        echo "gpu_wheels: the dlgrader wheel differs from the checkout's grader/ ($stale):" \
            "rerun bash bench/gpu_wheels.sh"
        missing=1
    fi
    local kb
    kb=$(du -sk "$DIR" | cut -f1)
    if [ "$kb" -gt $((LIMIT_MB * 1024)) ]; then
        echo "gpu_wheels: $DIR is $((kb / 1024)) MB, over $LIMIT_MB MB"
        missing=1
    fi
    local wheels
    wheels=$(find "$DIR" -maxdepth 1 -type f -name '*.whl' | wc -l)
    if [ "$missing" -ne 0 ]; then
        echo "gpu_wheels: $DIR incomplete ($wheels wheels, $((kb / 1024)) MB)"
        return 1
    fi
    echo "gpu_wheels: $DIR complete: $wheels wheels, $((kb / 1024)) MB (limit $LIMIT_MB MB)"
}

if [ "${1:-}" = "--check" ]; then
    check
    exit $?
fi

mkdir -p "$DIR"
# One version of each: wheels left from an older pin would stop the install there.
rm -f "$DIR"/*.whl
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
    manylinux2014_x86_64 manylinux1_x86_64 manylinux_2_24_x86_64 manylinux_2_31_x86_64 \
    manylinux_2_34_x86_64 manylinux_2_35_x86_64; do
    PLATFORMS+=(--platform "$p")
done
# pip's notes about local index folders that lack a name are noise here.
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }
quiet "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${PLATFORMS[@]}" -d "$DIR" "${BINARY[@]}"
quiet "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation py --abi none --platform any -d "$DIR" "${PURE[@]}"
# dlgrader itself, from this checkout (not an editable install: the device has no checkout
# on its path).
"$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$DIR" "$ROOT"
rm -rf "$ROOT/build"
check
du -sh "$DIR"
