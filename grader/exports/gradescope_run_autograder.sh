#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder.
# Written by `grader export --format gradescope-autograder` (dlgrader @VERSION@).
#
# It grades the notebook in /autograder/submission with `grader grade` (every test,
# hidden ones included; the course is /autograder/source/course) and turns the result
# into /autograder/results/results.json. It always writes a results.json: without one,
# Gradescope only tells the student that the autograder failed.
#
# Settings (environment variables, all optional):
#   DLGRADER_TIMEOUT  seconds grading may take (default 540: under Gradescope's default
#                     10-minute limit, which would give 0 and hide every test)
#   DLGRADER_SANDBOX  bubblewrap | unshare | none (default: the strongest that works here)
#   DLGRADER_BIN, DLGRADER_COURSE, DLGRADER_SUBMISSION, DLGRADER_RESULTS: other paths,
#                     to try the script outside Gradescope
set -uo pipefail

ASSIGNMENT="@ASSIGNMENT@"
GRADER="${DLGRADER_BIN:-/opt/dlgrader/bin/grader}"
COURSE="${DLGRADER_COURSE:-/autograder/source/course}"
SUBMISSION="${DLGRADER_SUBMISSION:-/autograder/submission}"
RESULTS="${DLGRADER_RESULTS:-/autograder/results/results.json}"
TIMEOUT="${DLGRADER_TIMEOUT:-540}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$RESULTS")"

# fail MESSAGE: a results.json saying why nothing could be graded. MESSAGE is always
# one of the fixed sentences below (never a file name), so it needs no JSON escaping.
fail() {
  printf '{"score": 0, "output": "%s", "output_format": "text", "stdout_visibility": "hidden", "tests": []}\n' \
    "$1" >"$RESULTS"
  echo "dlgrader: $1" >&2
  exit 0
}

if [ ! -x "$GRADER" ]; then
  fail "The autograder is not installed correctly (no grader program). This is not your grade: tell your instructor."
fi
if [ ! -d "$COURSE" ]; then
  fail "The autograder is missing its course files. This is not your grade: tell your instructor."
fi

# The notebook: the only .ipynb, or the one named after the assignment.
mapfile -t NOTEBOOKS < <(find "$SUBMISSION" -type f -name '*.ipynb' \
  -not -path '*/.ipynb_checkpoints/*' | sort)
if [ "${#NOTEBOOKS[@]}" -eq 0 ]; then
  fail "Your submission has no .ipynb file: upload your notebook (in Jupyter: File > Download as > Notebook)."
fi
NOTEBOOK="${NOTEBOOKS[0]}"
if [ "${#NOTEBOOKS[@]}" -gt 1 ]; then
  mapfile -t NAMED < <(printf '%s\n' "${NOTEBOOKS[@]}" | grep -F -- "$ASSIGNMENT" || true)
  if [ "${#NAMED[@]}" -ne 1 ]; then
    fail "Your submission has several notebooks: upload only the notebook of this assignment."
  fi
  NOTEBOOK="${NAMED[0]}"
fi

# The strongest sandbox that actually works in this container (an installed bubblewrap
# may still be refused namespaces by the container's seccomp profile).
SANDBOX="${DLGRADER_SANDBOX:-}"
if [ -z "$SANDBOX" ]; then
  if bwrap --ro-bind / / --unshare-all true >/dev/null 2>&1; then
    SANDBOX=bubblewrap
  elif unshare --user --net true >/dev/null 2>&1; then
    SANDBOX=unshare
  else
    SANDBOX=none
  fi
fi
echo "dlgrader: grading $NOTEBOOK for $ASSIGNMENT (sandbox: $SANDBOX)"

timeout "$TIMEOUT" "$GRADER" grade "$NOTEBOOK" --assignment "$ASSIGNMENT" \
  --course "$COURSE" --sandbox "$SANDBOX" --out "$WORK/graded"
status=$?
# Exit 0: graded. 3 or 4: the notebook could not be read or run; results.json says so.
if [ "$status" -eq 124 ]; then
  fail "Grading ran past its time limit, so no result could be recorded. Make your notebook run faster (fewer epochs, smaller data) and submit again."
fi
if [ -f "$WORK/graded/results.json" ]; then
  if "$GRADER" export --format gradescope --results "$WORK/graded/results.json" \
    --output "$RESULTS"; then
    exit 0
  fi
fi
fail "The autograder could not grade this submission. This is not your grade: tell your instructor."
