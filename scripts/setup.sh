#!/usr/bin/env bash
# Set up a development/grading environment from this repository's own files:
# system packages for the sandbox and the browser test, then a virtualenv in .venv.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v prlimit >/dev/null || need+=(util-linux)
# The browser tests accept any of these (tests/conftest.py); apt's package is chromium.
command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
  || command -v google-chrome >/dev/null || need+=(chromium)
# The export tests read exports with the platforms' own parsers (tests/test_export_consumers.py).
command -v php >/dev/null || need+=(php-cli)
command -v xmllint >/dev/null || need+=(libxml2-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null; }
  else
    # Say what each missing package costs: only the sandbox ones weaken grading.
    for pkg in "${need[@]}"; do
      case $pkg in
        util-linux)
          echo "setup: warning: prlimit (util-linux) is missing: grading works but" \
               "unsandboxed (no sandbox, no memory or CPU-time limit), with a warning in" \
               "every report." >&2 ;;
        bubblewrap)
          if command -v unshare >/dev/null && command -v prlimit >/dev/null; then
            echo "setup: warning: bubblewrap is missing: grading falls back to unshare" \
                 "(network blocked, memory and CPU-time limits, but student code can read" \
                 "the course folder and other submissions), with a warning in every report." >&2
          else
            echo "setup: warning: bubblewrap is missing, and unshare or prlimit too: grading" \
                 "works but unsandboxed, with a warning in every report." >&2
          fi ;;
        chromium)
          echo "setup: warning: chromium is missing: only the browser tests skip" \
               "(tests/test_report_browser.py, tests/test_batch_summary.py); grading is" \
               "unaffected." >&2 ;;
        php-cli|libxml2-utils)
          echo "setup: warning: $pkg is missing: only the export consumer tests skip" \
               "(tests/test_export_consumers.py); grading is unaffected." >&2 ;;
      esac
    done
    echo "setup: to install them (Debian/Ubuntu): sudo apt-get install ${need[*]}" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if ! TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -c "import grader, torch, tensorflow" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing dlgrader with torch (CPU), TensorFlow and test tools (a few minutes the first time)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[all]" 2>&1 \
    | grep -v "is ignored" || true
  if ! log=$(TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -c "import grader, torch, tensorflow" 2>&1); then
    echo "$log" >&2
    echo "setup: installed, but importing grader, torch and tensorflow fails (above)" >&2
    exit 1
  fi
  touch .venv/.installed
fi
