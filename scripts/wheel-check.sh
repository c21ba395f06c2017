#!/usr/bin/env bash
# The installed product, outside the repository (what a new course sees):
#   1. build the wheel and check it lists the templates, the pytest config and every lab;
#   2. install it into a fresh virtualenv in a temporary folder (pip's cache makes this
#      quick after the first time);
#   3. there: grader init c && cd c && grader add backprop, grade a correct example
#      (50/50, report.html and report.md), grader new mylab && grader validate mylab;
#   4. break the installed pytest config on purpose: grader grade must exit non-zero with
#      one line naming the cause, and no criterion may read "not run".
# Needs .venv (scripts/setup.sh) only to build the wheel. Exit 0 when all of it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/dlgrader-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "wheel-check: FAILED: $*" >&2; exit 1; }

echo "wheel-check: building the wheel"
# build/lib may hold files deleted since the last build; build/site (the docs) stays.
rm -rf dist build/lib build/bdist.*
.venv/bin/python -m pip wheel --no-deps --no-build-isolation -q --disable-pip-version-check \
  -w dist . 2>&1 | grep -v "is ignored" || true
wheel=$(ls "$PWD"/dist/dlgrader-*.whl)
listing=$(unzip -l "$wheel")
for file in grader/testing/pytest.ini grader/templates/report.html.j2 \
            grader/templates/report.md.j2 grader/templates/summary.html.j2; do
  grep -q " $file\$" <<<"$listing" || fail "$file is not in the wheel"
done
for lab in assignments/*/; do
  name=$(basename "$lab")
  for file in "labs/assignments/$name/assignment.yaml" "labs/solutions/$name.ipynb" \
              "labs/rubrics/$name.yaml"; do
    grep -q " grader/$file\$" <<<"$listing" || fail "grader/$file is not in the wheel"
  done
done
echo "wheel-check: $(basename "$wheel") lists the templates, pytest.ini and $(ls -d assignments/*/ | wc -l) labs"

echo "wheel-check: installing it into a fresh virtualenv in $work"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel" 2>&1 \
  | grep -v "is ignored" || true
export PATH="$work/venv/bin:$PATH"
unset GRADER_COURSE VIRTUAL_ENV
cd "$work"
[ "$(command -v grader)" = "$work/venv/bin/grader" ] || fail "grader is not the installed one"
grader --version

grader init c && cd c && grader add backprop
grader grade examples/submissions/backprop/alice_correct.ipynb -a backprop > grade.log
grep -q "score: 50 / 50" grade.log || { cat grade.log; fail "alice_correct is not 50/50"; }
for report in report.html report.md; do
  [ -s "grading-output/backprop/alice_correct/$report" ] || fail "no $report"
done
grader new mylab --framework numpy && grader validate mylab

echo "wheel-check: a broken pytest config must stop grading with one line"
ini=$("$work/venv/bin/python" -c "from grader.testing.plugin import PYTEST_INI; print(PYTEST_INI)")
case $ini in "$work"/*) ;; *) fail "pytest.ini is not the installed copy: $ini" ;; esac
printf '[pytest]\naddopts = --no-such-option\n' > "$ini"
if grader grade examples/submissions/backprop/alice_correct.ipynb -a backprop \
     > broken.out 2> broken.err; then
  fail "grader grade exited 0 with a broken pytest config"
fi
errors=$(grep -c '^error:' broken.err || true)
[ "$errors" = 1 ] || { cat broken.err; fail "expected one error line, got $errors"; }
grep -q "no-such-option" broken.err || fail "the error line does not name the cause"
! grep -q "not run" broken.out || fail "a criterion reads 'not run'"
echo "wheel-check: $(grep '^error:' broken.err)"
echo "wheel-check: OK"
