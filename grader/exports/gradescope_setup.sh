#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04).
# Written by `grader export --format gradescope-autograder` (dlgrader @VERSION@).
#
# The autograder zip holds, at its root: setup.sh, run_autograder, a dlgrader wheel
# (dlgrader-*.whl) and course/ (the course folder: dlgrader.yaml if any, rubrics/,
# assignments/, templates/). Gradescope unpacks it into /autograder/source.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-venv bubblewrap util-linux
python3.11 -m venv /opt/dlgrader
PIP=/opt/dlgrader/bin/pip
"$PIP" install --upgrade pip

# Gradescope has no GPU: install CPU builds, far smaller than the CUDA ones.
# Keep the framework(s) the course uses; delete or uncomment lines to match.
"$PIP" install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
# "$PIP" install "tensorflow-cpu==2.21.0"

WHEEL="$(find /autograder/source -maxdepth 1 -name 'dlgrader-*.whl' | head -n 1)"
if [ -z "$WHEEL" ]; then
  echo "setup.sh: no dlgrader-*.whl in the autograder zip (build one: pip wheel --no-deps -w . /path/to/dlgrader)" >&2
  exit 1
fi
"$PIP" install "$WHEEL"
/opt/dlgrader/bin/grader --version
test -d /autograder/source/course || {
  echo "setup.sh: no course/ folder in the autograder zip" >&2
  exit 1
}
